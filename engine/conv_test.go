package engine

import (
	"fmt"
	"math"
	"testing"
)

// directConv is the textbook convolution the im2col path must agree with.
func directConv(x, w, b *Tensor, stride, pad int) *Tensor {
	n, c, h, wd := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	o, kh, kw := w.Shape[0], w.Shape[2], w.Shape[3]
	oh, ow := (h+2*pad-kh)/stride+1, (wd+2*pad-kw)/stride+1
	y := NewTensor(n, o, oh, ow)
	for i := 0; i < n; i++ {
		for oc := 0; oc < o; oc++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					var s float64
					if b != nil {
						s = float64(b.Data[oc])
					}
					for ic := 0; ic < c; ic++ {
						for ky := 0; ky < kh; ky++ {
							for kx := 0; kx < kw; kx++ {
								iy, ix := oy*stride-pad+ky, ox*stride-pad+kx
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								s += float64(x.Data[((i*c+ic)*h+iy)*wd+ix]) * float64(w.Data[((oc*c+ic)*kh+ky)*kw+kx])
							}
						}
					}
					y.Data[((i*o+oc)*oh+oy)*ow+ox] = float32(s)
				}
			}
		}
	}
	return y
}

// withColCap runs f with the im2col chunk bound set to capFloats.
func withColCap(capFloats int, f func()) {
	old := convColCap
	convColCap = capFloats
	defer func() { convColCap = old }()
	f()
}

var convCases = []struct {
	n, c, h, w, o, k, stride, pad int
	bias                          bool
}{
	{2, 3, 5, 5, 4, 3, 1, 1, true},
	{2, 3, 6, 7, 4, 3, 2, 1, false},
	{3, 2, 5, 5, 3, 1, 2, 0, false},
	{1, 2, 4, 4, 3, 3, 1, 0, true},
	{2, 2, 7, 5, 2, 5, 3, 2, true},
	{2, 1, 3, 3, 2, 3, 1, 2, false}, // padding wider than needed: empty rows and columns
	{2, 2, 4, 7, 3, 3, 1, 1, false}, // same size, not square: one contiguous block per tap
	{1, 2, 6, 5, 2, 5, 1, 2, true},  // same size, 5x5: two out-of-image columns per side
	{2, 3, 3, 1, 2, 3, 1, 1, false}, // same size, one column wide: side taps all outside
	{2, 4, 3, 3, 3, 1, 1, 0, false}, // 1x1
}

func TestConv2dMatchesDirect(t *testing.T) {
	for i, tc := range convCases {
		for _, capFloats := range []int{1 << 22, 1} { // one chunk; one image per chunk
			name := fmt.Sprintf("case%d/cap%d", i, capFloats)
			x := randTensor(int64(10+i), tc.n, tc.c, tc.h, tc.w)
			w := randTensor(int64(20+i), tc.o, tc.c, tc.k, tc.k)
			var b *Tensor
			if tc.bias {
				b = randTensor(int64(30+i), tc.o)
			}
			want := directConv(x, w, b, tc.stride, tc.pad)
			withColCap(capFloats, func() {
				got := Conv2d(NewTape(true), x, w, b, tc.stride, tc.pad)
				if !sameShape(got.Shape, want.Shape) {
					t.Fatalf("%s: shape %v, want %v", name, got.Shape, want.Shape)
				}
				for j := range want.Data {
					if math.Abs(float64(got.Data[j]-want.Data[j])) > 1e-5 {
						t.Fatalf("%s: element %d = %v, want %v", name, j, got.Data[j], want.Data[j])
					}
				}
			})
		}
	}
}

func TestConv2dChunkedBatch(t *testing.T) {
	// 5 images with a bound that fits 2: chunks of 2, 2 and 1 must give the
	// same output as one chunk, and the same gradients within rounding.
	x := randTensor(40, 5, 2, 6, 6)
	w := randTensor(41, 3, 2, 3, 3)
	run := func(capFloats int) (y, dx, dw []float32) {
		withColCap(capFloats, func() {
			tp := NewTape(true)
			x.ZeroGrad()
			w.ZeroGrad()
			out := Conv2d(tp, x, w, nil, 1, 1)
			loss := sumAll(tp, out)
			tp.Backward(loss)
			y = append([]float32(nil), out.Data...)
			dx, dw = append([]float32(nil), x.Grad...), append([]float32(nil), w.Grad...)
		})
		return
	}
	y1, dx1, dw1 := run(1 << 22)
	y2, dx2, dw2 := run(2 * 18 * 36)
	for name, pair := range map[string][2][]float32{"y": {y1, y2}, "dx": {dx1, dx2}, "dw": {dw1, dw2}} {
		for i := range pair[0] {
			if math.Abs(float64(pair[0][i]-pair[1][i])) > 1e-4 {
				t.Fatalf("%s[%d]: one chunk %v, three chunks %v", name, i, pair[0][i], pair[1][i])
			}
		}
	}
}

// sumAll: y = sum of x, a scalar loss for tests.
func sumAll(t *Tape, x *Tensor) *Tensor {
	y := t.AllocNoZero(1)
	var s float32
	for _, v := range x.Data {
		s += v
	}
	y.Data[0] = s
	n := t.record(func(n *node) {
		for i := range n.a.Grad {
			n.a.Grad[i] += n.out.Grad[0]
		}
	}, y)
	n.a = x
	return y
}

func TestGradConv2d(t *testing.T) {
	for i, tc := range convCases {
		x := randTensor(int64(50+i), tc.n, tc.c, tc.h, tc.w)
		w := randTensor(int64(60+i), tc.o, tc.c, tc.k, tc.k)
		ins := []*Tensor{x, w}
		if tc.bias {
			ins = append(ins, randTensor(int64(70+i), tc.o))
		}
		caps := []int{1 << 22}
		if i < 2 { // a few cases also one image per chunk (Conv2dMatchesDirect covers all)
			caps = append(caps, 1)
		}
		for _, capFloats := range caps {
			withColCap(capFloats, func() {
				gradCheck(t, fmt.Sprintf("conv case %d cap %d", i, capFloats), ins, func(tp *Tape, in []*Tensor) *Tensor {
					var b *Tensor
					if len(in) == 3 {
						b = in[2]
					}
					return Conv2d(tp, in[0], in[1], b, tc.stride, tc.pad)
				})
			})
		}
	}
}

func TestConv2dInitBounds(t *testing.T) {
	l := NewConv2d(16, 8, 3, 1, 1, true, NewRNG(1, StreamInit))
	bound := float32(1 / math.Sqrt(16*9))
	var maxAbs float32
	for _, v := range append(append([]float32(nil), l.W.Data...), l.B.Data...) {
		if v < -bound || v >= bound {
			t.Fatalf("init value %v outside +-%v", v, bound)
		}
		maxAbs = max(maxAbs, float32(math.Abs(float64(v))))
	}
	if maxAbs < 0.9*bound {
		t.Fatalf("largest init value %v, want close to the bound %v", maxAbs, bound)
	}
	if names := fmt.Sprint(paramNames(l.params(nil, "0."))); names != "[0.weight 0.bias]" {
		t.Fatalf("names %s", names)
	}
}

func paramNames(ps []Param) []string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Name)
	}
	return s
}

func TestConv2dNoInputGrad(t *testing.T) {
	// The first layer's input (the image batch) has no gradient buffer.
	x := randTensor(80, 2, 3, 4, 4)
	w := randTensor(81, 2, 3, 3, 3)
	w.ZeroGrad()
	tp := NewTape(true)
	tp.Backward(sumAll(tp, Conv2d(tp, x, w, nil, 1, 1)))
	if x.Grad != nil {
		t.Fatal("input gradient allocated")
	}
	var s float32
	for _, v := range w.Grad {
		s += v * v
	}
	if s == 0 {
		t.Fatal("weight gradient is zero")
	}
}

func BenchmarkIm2colStage1(b *testing.B) {
	x := randTensor(1, 32, 64, 32, 32)
	w := NewTensor(64, 64, 3, 3)
	g := newConvGeom(x, w, 1, 1)
	s := getConvScratch(&g)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.im2col(x.Data, 0, g.chunkLen)
	}
	b.ReportMetric(float64(g.k*g.chunkLen*g.p)*4/1e9*float64(b.N)/b.Elapsed().Seconds(), "GB/s")
}

func BenchmarkCol2imStage1(b *testing.B) {
	x := randTensor(1, 32, 64, 32, 32)
	x.ZeroGrad()
	w := NewTensor(64, 64, 3, 3)
	g := newConvGeom(x, w, 1, 1)
	s := getConvScratch(&g)
	col := make([]float32, g.k*g.chunkLen*g.p)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.col2im(col, 0, g.chunkLen, x.Grad)
	}
	b.ReportMetric(float64(g.k*g.chunkLen*g.p)*4/1e9*float64(b.N)/b.Elapsed().Seconds(), "GB/s")
}

func TestGradConv2dReLU(t *testing.T) {
	// Seeds chosen so that no pre-activation sits within a finite-difference
	// step of the ReLU kink.
	x := randTensor(80, 2, 2, 5, 5)
	w, b := randTensor(81, 3, 2, 3, 3), randTensor(82, 3)
	gradCheck(t, "conv-relu", []*Tensor{x, w, b}, func(tp *Tape, in []*Tensor) *Tensor {
		return Conv2dReLU(tp, in[0], in[1], in[2], 1, 1)
	})
}

// TestConv2dReLUMatchesUnfused: the fused op gives the values of ReLU after
// Conv2d, forward and backward.
func TestConv2dReLUMatchesUnfused(t *testing.T) {
	x := randTensor(83, 3, 4, 6, 6)
	w, b := randTensor(84, 5, 4, 3, 3), randTensor(85, 5)
	run := func(fused bool) []float32 {
		tp := NewTape(true)
		for _, v := range []*Tensor{x, w, b} {
			v.ZeroGrad()
		}
		var y *Tensor
		if fused {
			y = Conv2dReLU(tp, x, w, b, 1, 1)
		} else {
			y = ReLU(tp, Conv2d(tp, x, w, b, 1, 1))
		}
		tp.Backward(sumAll(tp, y))
		out := append([]float32(nil), y.Data...)
		for _, v := range []*Tensor{x, w, b} {
			out = append(out, v.Grad...)
		}
		return out
	}
	want, got := run(false), run(true)
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("value %d: fused %v, unfused %v", i, got[i], want[i])
		}
	}
}
