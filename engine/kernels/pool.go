package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

var threads atomic.Int32

func init() { threads.Store(int32(runtime.GOMAXPROCS(0))) }

// SetThreads sets how many goroutines Sgemm and Parallel may use at once
// (the caller's included). Values below 1 mean 1. Results never depend on
// it. The default is runtime.GOMAXPROCS(0) at start-up.
func SetThreads(n int) {
	if n < 1 {
		n = 1
	}
	threads.Store(int32(n))
	ensureWorkers(n - 1)
}

// Threads reports the setting of SetThreads.
func Threads() int { return int(threads.Load()) }

// Parallel calls f over [0,n) split into at most Threads() contiguous,
// non-empty ranges [lo,hi), running them on the worker pool and the calling
// goroutine, and returns when all are done. f must give the same per-index
// results whatever the split. n <= 0 does nothing. Parallel itself does not
// allocate, but a closure f that captures variables may be allocated by the
// caller; hoist it out of hot loops.
func Parallel(n int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	t := Threads()
	if t > n {
		t = n
	}
	if t <= 1 {
		f(0, n)
		return
	}
	b := batchPool.get()
	b.kind = jobParallel
	b.f, b.n = f, n
	b.run(t)
	b.f = nil
	batchPool.put(b)
}

// A Job is work that ParallelJob splits into index ranges. Run must give
// the same per-index results whatever the split.
type Job interface {
	Run(lo, hi int)
}

// ParallelJob is Parallel for a Job: it calls j.Run over [0,n) split into
// at most Threads() contiguous, non-empty ranges. Passing a pointer to a
// long-lived job struct allocates nothing, which a closure capturing
// variables would.
func ParallelJob(n int, j Job) {
	if n <= 0 {
		return
	}
	t := Threads()
	if t > n {
		t = n
	}
	if t <= 1 {
		j.Run(0, n)
		return
	}
	b := batchPool.get()
	b.kind = jobRun
	b.j, b.n = j, n
	b.run(t)
	b.j = nil
	batchPool.put(b)
}

// A batch is one parallel call: parts 0..parts-1 claimed one at a time by
// the caller and by woken workers. Batches are pooled; a worker holding a
// stale wake-up cannot claim a part of a recycled batch because claims go
// through state, whose high half is the batch's generation.
type batch struct {
	state atomic.Uint64 // generation<<32 | next part to claim
	parts atomic.Int32
	done  atomic.Int32 // parts finished in this generation
	wg    sync.WaitGroup

	kind jobKind
	f    func(lo, hi int) // jobParallel
	j    Job              // jobRun
	n    int              // jobParallel, jobRun
	g    gemmJob          // jobGemm
}

type jobKind uint8

const (
	jobParallel jobKind = iota
	jobRun
	jobGemm
)

type wake struct {
	b   *batch
	gen uint32
}

var (
	batchPool = newFreeList(64, func() *batch { return new(batch) })
	wakeCh    = make(chan wake, 256)
	workersMu sync.Mutex
	nWorkers  int
)

// ensureWorkers starts workers until there are at least n.
func ensureWorkers(n int) {
	workersMu.Lock()
	defer workersMu.Unlock()
	for ; nWorkers < n; nWorkers++ {
		go worker()
	}
}

// How long an idle worker keeps looking for a posted batch before it
// blocks on wakeCh (and how long a caller spins for the last parts).
// Waking a blocked goroutine on another core costs tens of microseconds on
// a virtual machine, which dominates the small products and element-wise
// ops of a training step that come back to back, so a long spin pays
// (measured, MLP step on 2 cores: 101k samples/s with 20us spins, 119k with
// 300us). But a spinning thread takes the core from other processes, which
// costs more when the machine is oversubscribed (with a busy-loop process
// running: 55k at 20us, 39k at 300us). So spins are long until a spinning
// goroutine finds that it lost its processor for a while (see preempted),
// then short for a back-off time that doubles while that keeps happening.
const (
	spinShort  = 20 * time.Microsecond
	spinLong   = 300 * time.Microsecond
	preemptGap = 50 * time.Microsecond // a spin step this slow was descheduled
	backoffMin = 10 * time.Millisecond
	backoffMax = time.Second
)

var (
	posted   atomic.Pointer[batch] // latest batch, for spinning workers
	spinning atomic.Int32          // workers currently spinning

	epoch      = time.Now()
	shortUntil atomic.Int64 // ns since epoch before which spins are short
	backoff    atomic.Int64 // the last back-off, in ns
)

// now is the monotonic time in ns since epoch.
func now() int64 { return int64(time.Since(epoch)) }

// spinUntil returns the deadline of a spin starting at t.
func spinUntil(t int64) int64 {
	if t < shortUntil.Load() {
		return t + int64(spinShort)
	}
	return t + int64(spinLong)
}

// preempted records at t that a spinning goroutine was descheduled: another
// thread wants this core. Spins stay short for a back-off time, doubled if
// this happens again soon after the previous back-off ended. (Races between
// goroutines only blur the timing; results never depend on it.)
func preempted(t int64) {
	until := shortUntil.Load()
	if t < until {
		return
	}
	b := backoff.Load()
	if b == 0 || t-until > 4*b {
		b = int64(backoffMin)
	} else {
		b = min(2*b, int64(backoffMax))
	}
	backoff.Store(b)
	shortUntil.Store(t + b)
}

// A spinner times a spin loop: tick, called every few dozen polls, reports
// whether to stop (deadline passed, or the goroutine was descheduled, in
// which case blocking frees the core for whoever wants it) and yields to
// other goroutines. Only the time between ticks counts towards preemption,
// not runtime.Gosched, which may run other goroutines on this processor.
type spinner struct {
	last, deadline int64
}

func newSpinner() spinner {
	t := now()
	return spinner{last: t, deadline: spinUntil(t)}
}

func (s *spinner) tick() (stop bool) {
	t := now()
	if t-s.last > int64(preemptGap) {
		preempted(t)
		return true
	}
	if t > s.deadline {
		return true
	}
	runtime.Gosched()
	s.last = now()
	return false
}

func worker() {
	for {
		// More spinners than spare processors would only slow the
		// goroutines doing the work.
		if int(spinning.Add(1)) >= runtime.GOMAXPROCS(0) {
			spinning.Add(-1)
			w := <-wakeCh
			w.b.work(w.gen)
			continue
		}
		sp := newSpinner()
		for i := 0; ; i++ {
			if b := posted.Load(); b != nil && b.open() {
				spinning.Add(-1)
				b.work(uint32(b.state.Load() >> 32))
				spinning.Add(1)
				sp = newSpinner()
				continue
			}
			if i%64 == 63 && sp.tick() {
				break
			}
		}
		spinning.Add(-1)
		w := <-wakeCh
		w.b.work(w.gen)
	}
}

// open reports whether b has parts left to claim.
func (b *batch) open() bool {
	return uint32(b.state.Load()) < uint32(b.parts.Load())
}

// run executes parts 0..parts-1 of b and returns when all have finished.
func (b *batch) run(parts int) {
	ensureWorkers(parts - 1)
	// A recycled batch must look closed while it is being re-armed: a worker
	// still spinning on it could otherwise see the new part count against the
	// old generation's claim counter, claim a part under the old generation
	// and run it twice or call wg.Done before wg.Add. So: close it under the
	// new generation first, then set the counters, then open it.
	gen := uint32(b.state.Load()>>32) + 1
	b.state.Store(uint64(gen)<<32 | 0xFFFFFFFF)
	b.parts.Store(int32(parts))
	b.done.Store(0)
	b.wg.Add(parts)
	b.state.Store(uint64(gen) << 32)
	posted.Store(b)
	for i := 1 + int(spinning.Load()); i < parts; i++ {
		select {
		case wakeCh <- wake{b, gen}:
		default: // every worker is busy: the caller does the part itself
		}
	}
	b.work(gen)
	// The other parts are usually about to finish: spin briefly before
	// blocking, since a blocked goroutine is slow to wake.
	sp := newSpinner()
	for i := 1; b.done.Load() < int32(parts); i++ {
		if i%64 == 0 && sp.tick() {
			break
		}
	}
	b.wg.Wait()
}

// work claims and runs parts of generation gen until none is left.
func (b *batch) work(gen uint32) {
	for {
		s := b.state.Load()
		if uint32(s>>32) != gen || uint32(s) >= uint32(b.parts.Load()) {
			return
		}
		if !b.state.CompareAndSwap(s, s+1) {
			continue
		}
		b.do(int(uint32(s)))
		b.done.Add(1)
		b.wg.Done()
	}
}

func (b *batch) do(part int) {
	switch b.kind {
	case jobParallel:
		parts := int(b.parts.Load())
		lo := part * b.n / parts
		hi := (part + 1) * b.n / parts
		b.f(lo, hi)
	case jobRun:
		parts := int(b.parts.Load())
		b.j.Run(part*b.n/parts, (part+1)*b.n/parts)
	case jobGemm:
		b.g.part(part, int(b.parts.Load()))
	}
}
