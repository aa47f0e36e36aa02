package geo

// radixSort sorts a by key, stably (equal keys keep their order), in
// passes of one byte from the least significant; bytes that every key
// shares are skipped. buf is scratch space of at least len(a) (allocated
// when shorter). It returns the sorted slice, which is a or buf.
//
// Bulk loads sort millions of records by a Hilbert key or an ID prefix:
// this is several times faster than a comparison sort there, and stable
// without the index tie-break a comparison sort needs. BenchmarkRadixSort
// measures it against slices.SortFunc at each call site.
func radixSort[T any](a, buf []T, key func(*T) uint64) []T {
	n := len(a)
	if n < 2 {
		return a
	}
	if cap(buf) < n {
		buf = make([]T, n)
	}
	buf = buf[:n]
	var counts [8][256]int
	for i := range a {
		k := key(&a[i])
		for b := range 8 {
			counts[b][byte(k>>(8*b))]++
		}
	}
	src, dst := a, buf
	for b := range 8 {
		c := &counts[b]
		if c[byte(key(&src[0])>>(8*b))] == n {
			continue // every key has this byte
		}
		sum := 0
		for d := range c {
			c[d], sum = sum, sum+c[d]
		}
		shift := uint(8 * b)
		for i := range src {
			d := byte(key(&src[i]) >> shift)
			dst[c[d]] = src[i]
			c[d]++
		}
		src, dst = dst, src
	}
	return src
}
