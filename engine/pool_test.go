package engine

import (
	"math"
	"slices"
	"testing"
)

func TestMaxPool2dForward(t *testing.T) {
	x := NewTensor(1, 1, 4, 5)
	for i := range x.Data {
		x.Data[i] = float32((i * 7) % 11)
	}
	// rows: 0 7 3 10 6 / 2 9 5 1 8 / 4 0 7 3 10 / 6 2 9 5 1
	y := MaxPool2d(NewTape(true), x, 2, 2)
	want := []float32{9, 10, 6, 9}
	if !sameShape(y.Shape, []int{1, 1, 2, 2}) {
		t.Fatalf("shape %v", y.Shape)
	}
	for i, v := range want {
		if y.Data[i] != v {
			t.Fatalf("y = %v, want %v", y.Data, want)
		}
	}
	// Ties go to the first maximum, whose gradient is the only one.
	z := NewTensor(1, 1, 2, 2)
	tp := NewTape(true)
	tp.Backward(sumAll(tp, MaxPool2d(tp, z, 2, 2)))
	if z.Grad != nil {
		t.Fatal("unexpected input gradient")
	}
	tp.Reset()
	a := tp.Alloc(1, 1, 2, 2)
	tp.Backward(sumAll(tp, MaxPool2d(tp, a, 2, 2)))
	if a.Grad[0] != 1 || a.Grad[1]+a.Grad[2]+a.Grad[3] != 0 {
		t.Fatalf("tie gradient %v, want [1 0 0 0]", a.Grad)
	}
}

func TestGradMaxPool2d(t *testing.T) {
	// Distinct values spaced well beyond the finite-difference step.
	x := NewTensor(2, 3, 5, 6)
	p := NewRNG(3, StreamInit)
	idx := make([]int, len(x.Data))
	p.Perm(idx)
	for i, v := range idx {
		x.Data[i] = float32(v) * 0.05
	}
	gradCheck(t, "maxpool 2/2", []*Tensor{x}, func(tp *Tape, in []*Tensor) *Tensor { return MaxPool2d(tp, in[0], 2, 2) })
	gradCheck(t, "maxpool 3/2", []*Tensor{x}, func(tp *Tape, in []*Tensor) *Tensor { return MaxPool2d(tp, in[0], 3, 2) })
}

func TestGradGlobalAvgPool2d(t *testing.T) {
	x := randTensor(100, 2, 3, 3, 4)
	gradCheck(t, "global-avg-pool", []*Tensor{x}, func(tp *Tape, in []*Tensor) *Tensor { return GlobalAvgPool2d(tp, in[0]) })
	y := GlobalAvgPool2d(NewTape(true), x)
	var s float32
	for _, v := range x.Data[12:24] {
		s += v
	}
	if d := y.Data[1] - s/12; d > 1e-6 || d < -1e-6 {
		t.Fatalf("mean %v, want %v", y.Data[1], s/12)
	}
}

func TestMaxPool2dNaN(t *testing.T) {
	tp := NewTape(true)
	x := tp.Alloc(1, 1, 2, 4)
	copy(x.Data, []float32{1, 5, 2, float32(math.NaN()), 3, 4, 0, 1})
	y := MaxPool2d(tp, x, 2, 2)
	if y.Data[0] != 5 || !math.IsNaN(float64(y.Data[1])) {
		t.Fatalf("y = %v, want [5 NaN]", y.Data)
	}
	tp.Backward(sumAll(tp, y))
	if want := []float32{0, 1, 0, 1, 0, 0, 0, 0}; !slices.Equal(x.Grad, want) {
		t.Fatalf("dx = %v, want %v", x.Grad, want)
	}
}

// TestMaxPool2x2BackwardTies: the 2x2 fast path routes each window's
// gradient to the same element as the generic search (first maximum in row
// order), with ties, signed zeros and NaNs in every position.
func TestMaxPool2x2BackwardTies(t *testing.T) {
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, 1, float32(math.NaN())}
	const h, w = 6, 8
	x := NewTensor(1, 1, h, w)
	r := NewRNG(5, StreamInit)
	for i := range x.Data {
		x.Data[i] = vals[r.Uint64()%uint64(len(vals))]
	}
	tp := NewTape(true)
	y := MaxPool2d(tp, x, 2, 2)
	x.ZeroGrad()
	tp.Backward(sumAll(tp, y))
	want := make([]float32, len(x.Data))
	for oy := 0; oy < h/2; oy++ {
		for ox := 0; ox < w/2; ox++ {
			want[argmaxWindow(x.Data, w, 2*oy, 2*ox, 2, y.Data[oy*(w/2)+ox])]++
		}
	}
	if !slices.Equal(x.Grad, want) {
		t.Fatalf("dx = %v, want %v", x.Grad, want)
	}
}
