package kernels

// freeList keeps up to cap(ch) objects for reuse. Unlike sync.Pool it is
// not emptied by the garbage collector, so the large packing buffers
// survive a GC cycle instead of being allocated again.
type freeList[T any] struct {
	ch    chan *T
	alloc func() *T
}

func newFreeList[T any](size int, alloc func() *T) *freeList[T] {
	return &freeList[T]{ch: make(chan *T, size), alloc: alloc}
}

func (f *freeList[T]) get() *T {
	select {
	case x := <-f.ch:
		return x
	default:
		return f.alloc()
	}
}

func (f *freeList[T]) put(x *T) {
	select {
	case f.ch <- x:
	default: // full: let the collector have it
	}
}
