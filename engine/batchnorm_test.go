package engine

import (
	"fmt"
	"math"
	"testing"
)

func TestGradBatchNormTrain(t *testing.T) {
	x := randTensor(90, 3, 2, 3, 3)
	w, b := randTensor(91, 2), randTensor(92, 2)
	bn := NewBatchNorm2d(2)
	gradCheck(t, "batchnorm-train", []*Tensor{x, w, b}, func(tp *Tape, in []*Tensor) *Tensor {
		return BatchNorm2d(tp, in[0], in[1], in[2], bn.RunningMean, bn.RunningVar, 0.1, 1e-5)
	})
}

func TestGradBatchNormEval(t *testing.T) {
	x := randTensor(93, 2, 3, 2, 2)
	w, b := randTensor(94, 3), randTensor(95, 3)
	rm, rv := randTensor(96, 3), NewTensor(3)
	for i := range rv.Data {
		rv.Data[i] = 0.5 + float32(i)
	}
	gradCheck(t, "batchnorm-eval", []*Tensor{x, w, b}, func(tp *Tape, in []*Tensor) *Tensor {
		tp.Train = false
		return BatchNorm2d(tp, in[0], in[1], in[2], rm, rv, 0.1, 1e-5)
	})
}

func TestBatchNormStatistics(t *testing.T) {
	// Channel 0 holds 1..8, channel 1 holds 2*(1..8) over 2 images of 2x2.
	x := NewTensor(2, 2, 2, 2)
	for i := 0; i < 2; i++ {
		for p := 0; p < 4; p++ {
			v := float32(i*4 + p + 1)
			x.Data[(i*2+0)*4+p] = v
			x.Data[(i*2+1)*4+p] = 2 * v
		}
	}
	bn := NewBatchNorm2d(2)
	bn.W.Data[1], bn.B.Data[1] = 3, -1
	y := bn.Forward(NewTape(true), x)
	// mean 4.5, biased var 5.25, unbiased 6; channel 1: mean 9, var 21 / 24.
	wantRM := []float32{0.45, 0.9}
	wantRV := []float32{0.9 + 0.1*6, 0.9 + 0.1*24}
	for c := 0; c < 2; c++ {
		if math.Abs(float64(bn.RunningMean.Data[c]-wantRM[c])) > 1e-6 || math.Abs(float64(bn.RunningVar.Data[c]-wantRV[c])) > 1e-5 {
			t.Fatalf("channel %d running stats %v %v, want %v %v", c, bn.RunningMean.Data[c], bn.RunningVar.Data[c], wantRM[c], wantRV[c])
		}
	}
	// Element (image 1, channel 1, pixel 3) = 16: (16-9)/sqrt(21+1e-5)*3 - 1.
	want := (16-9)/math.Sqrt(21+1e-5)*3 - 1
	if got := y.Data[(1*2+1)*4+3]; math.Abs(float64(got)-want) > 1e-5 {
		t.Fatalf("normalised value %v, want %v", got, want)
	}
	// Evaluation uses the running statistics and leaves them alone.
	rm0, rv0 := bn.RunningMean.Data[0], bn.RunningVar.Data[0]
	ye := bn.Forward(NewTape(false), x)
	wantE := (1 - 0.45) / math.Sqrt(1.5+1e-5)
	if got := ye.Data[0]; math.Abs(float64(got)-wantE) > 1e-5 || bn.RunningMean.Data[0] != rm0 || bn.RunningVar.Data[0] != rv0 {
		t.Fatalf("eval value %v, want %v; running mean %v", got, wantE, bn.RunningMean.Data[0])
	}
}

func TestGradBatchNormAddReLU(t *testing.T) {
	// A finite-difference step can push a value across the ReLU kink; these
	// seeds keep every pre-activation clear of it.
	x := randTensor(97, 3, 2, 3, 3)
	res := randTensor(98, 3, 2, 3, 3)
	w, b := randTensor(99, 2), randTensor(100, 2)
	x2 := randTensor(105, 3, 2, 3, 3)
	bn := NewBatchNorm2d(2)
	for _, train := range []bool{true, false} {
		gradCheck(t, fmt.Sprintf("batchnorm-add-relu train=%v", train), []*Tensor{x, res, w, b}, func(tp *Tape, in []*Tensor) *Tensor {
			tp.Train = train
			return BatchNormAddReLU(tp, in[0], in[1], in[2], in[3], bn.RunningMean, bn.RunningVar, 0.1, 1e-5)
		})
		gradCheck(t, fmt.Sprintf("batchnorm-relu train=%v", train), []*Tensor{x2, w, b}, func(tp *Tape, in []*Tensor) *Tensor {
			tp.Train = train
			return BatchNormAddReLU(tp, in[0], nil, in[1], in[2], bn.RunningMean, bn.RunningVar, 0.1, 1e-5)
		})
	}
}

// TestBatchNormAddReLUMatchesUnfused: the fused op gives the bits of
// BatchNorm2d, Add and ReLU applied one after the other.
func TestBatchNormAddReLUMatchesUnfused(t *testing.T) {
	x := randTensor(101, 4, 3, 5, 5)
	res := randTensor(102, 4, 3, 5, 5)
	w, b := randTensor(103, 3), randTensor(104, 3)
	run := func(fused bool) []float32 {
		bn := NewBatchNorm2d(3)
		tp := NewTape(true)
		for _, v := range []*Tensor{x, res, w, b} {
			v.ZeroGrad()
		}
		var y *Tensor
		if fused {
			y = BatchNormAddReLU(tp, x, res, w, b, bn.RunningMean, bn.RunningVar, 0.1, 1e-5)
		} else {
			y = ReLU(tp, Add(tp, BatchNorm2d(tp, x, w, b, bn.RunningMean, bn.RunningVar, 0.1, 1e-5), res))
		}
		tp.Backward(sumAll(tp, y))
		out := append([]float32(nil), y.Data...)
		for _, v := range []*Tensor{x, res, w, b} {
			out = append(out, v.Grad...)
		}
		return append(out, bn.RunningMean.Data...)
	}
	want, got := run(false), run(true)
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("value %d: fused %v, unfused %v", i, got[i], want[i])
		}
	}
}
