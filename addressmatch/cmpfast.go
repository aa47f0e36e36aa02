package addressmatch

// Allocation-free versions of the string measures of the compare features
// for the short strings addresses are; each returns exactly what the
// general one (lcsLen, dice, bagOverlap) returns, and falls back to it for
// longer input.

// shortRunes is the longest input the fast measures handle on the stack.
const shortRunes = 96

// lcsFast is lcsLen without allocations for b of up to shortRunes runes.
func lcsFast(a, b []rune) int {
	if len(b) > shortRunes {
		return lcsLen(a, b)
	}
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	var prevA, curA [shortRunes + 1]int32
	prev, cur := prevA[:len(b)+1], curA[:len(b)+1]
	best := int32(0)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
				if cur[j] > best {
					best = cur[j]
				}
			} else {
				cur[j] = 0
			}
		}
		prev, cur = cur, prev
	}
	return int(best)
}

// bagOverlapFast is bagOverlap without allocations for b of up to
// shortRunes runes.
func bagOverlapFast(a, b []rune) int {
	if len(b) > shortRunes {
		return bagOverlap(a, b)
	}
	var used [shortRunes]bool
	n := 0
	for _, r := range a {
		for j, s := range b {
			if !used[j] && s == r {
				used[j] = true
				n++
				break
			}
		}
	}
	return n
}

// diceFast is dice (the Sørensen–Dice coefficient over rune bigrams, a
// one-rune string its own bigram) without allocations for strings of up to
// shortRunes runes.
func diceFast(a, b string) float64 {
	var ra, rb [shortRunes + 1][2]rune
	ga, okA := bigramsInto(a, &ra)
	gb, okB := bigramsInto(b, &rb)
	if !okA || !okB {
		return dice(a, b)
	}
	if len(ga) == 0 || len(gb) == 0 {
		if a == b {
			return 1
		}
		return 0
	}
	var used [shortRunes + 1]bool
	inter := 0
	for _, g := range gb {
		for k, h := range ga {
			if !used[k] && h == g {
				used[k] = true
				inter++
				break
			}
		}
	}
	return 2 * float64(inter) / float64(len(ga)+len(gb))
}

// bigramsInto writes the rune bigrams of s into buf (a one-rune string is
// its own bigram, {r, -1}); false when s is too long.
func bigramsInto(s string, buf *[shortRunes + 1][2]rune) ([][2]rune, bool) {
	n := 0
	prev := rune(-1)
	k := 0
	for _, r := range s {
		if n > shortRunes {
			return nil, false
		}
		if n > 0 {
			buf[k] = [2]rune{prev, r}
			k++
		}
		prev = r
		n++
	}
	if n == 1 {
		buf[0] = [2]rune{prev, -1}
		return buf[:1], true
	}
	return buf[:k], true
}
