package geo

import "slices"

const slotChunkBits = 10
const slotChunkSize = 1 << slotChunkBits

// slotArr maps dense uint32 slots to features, copy-on-write by chunks, so
// that the R-trees can hold pointer-free items (the garbage collector then
// never scans them, and a radius query never takes a write barrier) while a
// snapshot still shares almost all memory with its predecessor.
type slotArr[T any] struct {
	chunks []*slotChunk[T]
	free   []uint32
	next   uint32
	gen    uint64
}

type slotChunk[T any] struct {
	gen uint64
	v   [slotChunkSize]*T
}

// copyFor returns a copy to be written by the snapshot of generation gen.
func (a *slotArr[T]) copyFor(gen uint64) *slotArr[T] {
	return &slotArr[T]{chunks: slices.Clone(a.chunks), free: slices.Clone(a.free), next: a.next, gen: gen}
}

func (a *slotArr[T]) get(i uint32) *T { return a.chunks[i>>slotChunkBits].v[i&(slotChunkSize-1)] }

func (a *slotArr[T]) writable(i uint32) *slotChunk[T] {
	ci := int(i >> slotChunkBits)
	for ci >= len(a.chunks) {
		a.chunks = append(a.chunks, &slotChunk[T]{gen: a.gen})
	}
	c := a.chunks[ci]
	if c.gen != a.gen {
		nc := *c
		nc.gen = a.gen
		c = &nc
		a.chunks[ci] = c
	}
	return c
}

func (a *slotArr[T]) put(v *T) uint32 {
	var i uint32
	if n := len(a.free); n > 0 {
		i = a.free[n-1]
		a.free = a.free[:n-1]
	} else {
		i = a.next
		a.next++
	}
	a.writable(i).v[i&(slotChunkSize-1)] = v
	return i
}

func (a *slotArr[T]) release(i uint32) {
	a.writable(i).v[i&(slotChunkSize-1)] = nil
	a.free = append(a.free, i)
}
