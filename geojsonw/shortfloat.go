package geojsonw

import (
	"math"
	"math/bits"
	"strconv"
)

// The shortest decimal of a float64 (what strconv.AppendFloat(v, 'f', -1,
// 64) writes) for the magnitudes of coordinates, without the general
// algorithm: v = m / 2^q with q from minShortQ to 52 (1 <= |v| < 2^21).
// The decimals that read back as v are those within half a unit in the
// last place of it, an interval 2^-q wide. With F fractional digits the
// candidate nearest v is D/10^F, D = round(m·10^F / 2^q), found with one
// 64×64-bit multiplication, and it reads back as v when
// |D·2^q − m·10^F| < 10^F / 2. Let F0 be the largest F with 10^F < 2^q:
// decimals with F0 fractional digits lie further apart than the interval is
// wide, so at most one is in it, and any shorter decimal in it is that one
// (its digits padded with zeros): if D/10^F0 reads back, it is the shortest
// once its trailing zeros are cut. Otherwise the shortest has F0+1 or F0+2
// fractional digits (17 significant digits always suffice), and among
// decimals of that length the nearest (D) is the one strconv writes.
// Where this reasoning does not hold as it stands — a power of two (the
// interval is lopsided), a distance exactly at the interval's edge (read back
// by round-half-even) or exactly halfway between two candidates — the
// general algorithm writes the number.
const (
	minShortQ = 32
	maxShortQ = 52
)

// pow10u are the powers of ten that fit in a uint64.
var pow10u = func() (t [20]uint64) {
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return t
}()

// digitPairs are the two digits of 00 to 99.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// shortF0 is F0 (the largest F with 10^F < 2^q) by q - minShortQ.
var shortF0 = func() (t [maxShortQ - minShortQ + 1]int) {
	for q := minShortQ; q <= maxShortQ; q++ {
		f := 0
		for f+1 < len(pow10u) && pow10u[f+1] < uint64(1)<<q {
			f++
		}
		t[q-minShortQ] = f
	}
	return t
}()

// appendShortest appends strconv.AppendFloat(v, 'f', -1, 64) for v with
// 1 <= |v| < 2^21, reporting false (dst unchanged) for a v it leaves to
// strconv (see above).
func appendShortest(dst []byte, v float64) ([]byte, bool) {
	b := math.Float64bits(v)
	exp := int(b>>52) & 0x7FF
	frac := b & (1<<52 - 1)
	q := 1075 - exp // v = m / 2^q
	if q < minShortQ || q > maxShortQ || frac == 0 {
		return dst, false
	}
	m := frac | 1<<52
	mask := uint64(1)<<q - 1
	half := uint64(1) << (q - 1)
	f0 := shortF0[q-minShortQ]
	for f := f0; f <= f0+2; f++ {
		p := pow10u[f]
		hi, lo := bits.Mul64(m, p)
		d := hi<<(64-q) | lo>>q
		rem := lo & mask
		var dist uint64
		switch {
		case rem < half:
			dist = rem
		case rem > half:
			dist = mask + 1 - rem
			d++
		default: // halfway between two candidates
			return dst, false
		}
		if 2*dist == p { // at the interval's edge
			return dst, false
		}
		if 2*dist > p {
			continue
		}
		// d/p and d%p without a division: the integer part of v, plus one
		// when d rounded up to the next integer
		ip := m >> q
		fp := d - ip*p
		if fp >= p {
			ip++
			fp -= p
		}
		for f > 0 && fp%10 == 0 {
			fp /= 10
			f--
		}
		if b>>63 != 0 {
			dst = append(dst, '-')
		}
		dst = strconv.AppendUint(dst, ip, 10)
		if f == 0 {
			return dst, true
		}
		var digits [20]byte
		i := f
		for ; i >= 2; i -= 2 { // two digits a division
			r := fp % 100
			fp /= 100
			digits[i-2], digits[i-1] = digitPairs[2*r], digitPairs[2*r+1]
		}
		if i == 1 {
			digits[0] = byte('0' + fp)
		}
		dst = append(dst, '.')
		return append(dst, digits[:f]...), true
	}
	return dst, false
}
