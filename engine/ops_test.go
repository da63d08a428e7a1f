package engine

import (
	"math"
	"testing"

	"github.com/repro-np/repro/engine/kernels"
)

func TestBits24MatchesBits24At(t *testing.T) {
	r := NewCounterRNG(5, StreamDropout)
	for _, first := range []uint64{0, 1, 1000, 1<<40 + 3} {
		z := bits24Input(r.Key, first)
		for i := uint64(0); i < 100; i++ {
			if got, want := bits24(z), r.bits24At(first+i); got != want {
				t.Fatalf("value %d: %#x, want %#x", first+i, got, want)
			}
			z += bits24Step
		}
	}
}

func TestGradReLUDropout(t *testing.T) {
	x := randTensor(11, 6, 10)
	for i, v := range x.Data {
		if v > -0.05 && v < 0.05 {
			x.Data[i] = 0.3
		}
	}
	gradCheck(t, "relu-dropout", []*Tensor{x}, func(tp *Tape, in []*Tensor) *Tensor { return ReLUDropout(tp, in[0], 0.3) })
}

// TestReLUDropoutMatchesUnfused: the fused op gives the bits of ReLU then
// Dropout, forward and backward, signed zeros included, for any thread count
// (the largest size is split over the worker pool).
func TestReLUDropoutMatchesUnfused(t *testing.T) {
	defer kernels.SetThreads(kernels.Threads())
	for _, threads := range []int{1, 2, 3} {
		kernels.SetThreads(threads)
		for _, n := range []int{1, 7, 300, 3 * minParallelWork} {
			x, dy := randTensor(12, n), randTensor(13, n)
			for i := 0; i < n; i += 5 {
				x.Data[i] = float32(math.Copysign(0, float64(i%2)-0.5))
				dy.Data[(i*7)%n] = float32(math.Copysign(0, -1))
			}
			run := func(fused bool) (y, dx []float32) {
				tp := NewTape(true)
				tp.Dropout = NewCounterRNG(3, StreamDropout)
				tp.Dropout.Counter = 17
				in := tp.Alloc(n)
				copy(in.Data, x.Data)
				var out *Tensor
				if fused {
					out = ReLUDropout(tp, in, 0.25)
				} else {
					out = Dropout(tp, ReLU(tp, in), 0.25)
				}
				loss := sumAll(tp, out)
				tp.Backward(loss)
				for _, s := range tp.slots[:tp.used] {
					clear(s.Grad)
				}
				copy(out.Grad, dy.Data)
				for i := len(tp.nodes) - 2; i >= 0; i-- { // all but the sum
					tp.nodes[i].back(&tp.nodes[i])
				}
				return out.Data, in.Grad
			}
			y0, dx0 := run(false)
			y1, dx1 := run(true)
			for i := range y0 {
				if math.Float32bits(y0[i]) != math.Float32bits(y1[i]) {
					t.Fatalf("threads %d n %d: y[%d] = %v, unfused %v", threads, n, i, y1[i], y0[i])
				}
				if math.Float32bits(dx0[i]) != math.Float32bits(dx1[i]) {
					t.Fatalf("threads %d n %d: dx[%d] = %v, unfused %v", threads, n, i, dx1[i], dx0[i])
				}
			}
		}
	}
}

// TestMLPSameBitsAnyThreadCount: a few training steps of an MLP with
// awkward sizes, large enough that every element-wise op is split, give the
// same losses and gradients for 1, 2 and 3 threads.
func TestMLPSameBitsAnyThreadCount(t *testing.T) {
	defer kernels.SetThreads(kernels.Threads())
	var want []uint32
	for _, threads := range []int{1, 2, 3} {
		kernels.SetThreads(threads)
		m, _ := NewMLP([]int{97, 301, 263, 10}, 0.2, 4)
		x := randTensor(14, 67, 97)
		y := make([]int32, 67)
		for i := range y {
			y[i] = int32(i*7) % 10
		}
		tp := NewTape(true)
		tp.Dropout = NewCounterRNG(4, StreamDropout)
		var got []uint32
		for step := 0; step < 3; step++ {
			ZeroGrads(m.Params())
			tp.Reset()
			loss, correct := CrossEntropy(tp, m.Forward(tp, x), y)
			tp.Backward(loss)
			got = append(got, math.Float32bits(loss.Data[0]), uint32(correct))
			for _, p := range m.Params() {
				for i, g := range p.T.Grad {
					got = append(got, math.Float32bits(g))
					p.T.Data[i] -= 0.05 * g
				}
			}
		}
		if want == nil {
			want = got
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("threads %d: value %d differs from 1 thread", threads, i)
			}
		}
	}
}
