package engine

import (
	"math"
	"testing"
)

// gradCheck compares the tape's analytic gradients of L = sum(out * R), R a
// fixed random tensor, against central finite differences for every element
// of every input. build must be deterministic for the same inputs (dropout
// masks are replayed by resetting the counter stream).
func gradCheck(t *testing.T, name string, inputs []*Tensor, build func(tp *Tape, in []*Tensor) *Tensor) {
	t.Helper()
	tp := NewTape(true)
	tp.Dropout = NewCounterRNG(7, StreamDropout)
	run := func() *Tensor {
		tp.Reset()
		tp.Dropout.Counter = 0
		return build(tp, inputs)
	}
	out := run()
	r := NewRNG(99, StreamInit)
	weights := make([]float32, len(out.Data))
	r.Uniform(weights, -1, 1)
	loss := func() float64 {
		o := run()
		s := 0.0
		for i, v := range o.Data {
			s += float64(v) * float64(weights[i])
		}
		return s
	}
	for _, x := range inputs {
		x.ZeroGrad()
	}
	out = run()
	// Seed the output gradient with R and run the recorded backward passes.
	for _, s := range tp.slots[:tp.used] {
		s.EnsureGrad()
		clear(s.Grad[:len(s.Data)])
	}
	for _, v := range tp.views[:tp.usedViews] {
		clear(v.Grad)
	}
	copy(out.Grad, weights)
	for i := len(tp.nodes) - 1; i >= 0; i-- {
		tp.nodes[i].back(&tp.nodes[i])
	}
	analytic := make([][]float32, len(inputs))
	for i, x := range inputs {
		analytic[i] = append([]float32(nil), x.Grad...)
	}
	const h = 1e-2
	for k, x := range inputs {
		for i := range x.Data {
			orig := x.Data[i]
			x.Data[i] = orig + h
			up := loss()
			x.Data[i] = orig - h
			down := loss()
			x.Data[i] = orig
			num := (up - down) / (2 * h)
			got := float64(analytic[k][i])
			if math.Abs(num-got) > 2e-2*math.Max(1, math.Abs(num)) {
				t.Fatalf("%s: input %d element %d: analytic %.6f, numeric %.6f", name, k, i, got, num)
			}
		}
	}
}

func randTensor(seed int64, shape ...int) *Tensor {
	x := NewTensor(shape...)
	NewRNG(seed, StreamInit).Uniform(x.Data, -1, 1)
	return x
}

func TestGradLinear(t *testing.T) {
	x, w, b := randTensor(1, 5, 7), randTensor(2, 3, 7), randTensor(3, 3)
	gradCheck(t, "linear", []*Tensor{x, w, b}, func(tp *Tape, in []*Tensor) *Tensor {
		return Linear(tp, in[0], in[1], in[2])
	})
	gradCheck(t, "linear-nobias", []*Tensor{x, w}, func(tp *Tape, in []*Tensor) *Tensor {
		return Linear(tp, in[0], in[1], nil)
	})
}

func TestGradReLU(t *testing.T) {
	x := randTensor(4, 4, 9)
	// keep values away from the kink so finite differences are exact
	for i, v := range x.Data {
		if v > -0.05 && v < 0.05 {
			x.Data[i] = 0.3
		}
	}
	gradCheck(t, "relu", []*Tensor{x}, func(tp *Tape, in []*Tensor) *Tensor { return ReLU(tp, in[0]) })
}

func TestGradDropout(t *testing.T) {
	x := randTensor(5, 6, 10)
	gradCheck(t, "dropout", []*Tensor{x}, func(tp *Tape, in []*Tensor) *Tensor { return Dropout(tp, in[0], 0.3) })
}

func TestGradFlattenAdd(t *testing.T) {
	a, b := randTensor(6, 2, 3, 4), randTensor(7, 2, 3, 4)
	gradCheck(t, "flatten-add", []*Tensor{a, b}, func(tp *Tape, in []*Tensor) *Tensor {
		return Flatten(tp, Add(tp, in[0], in[1]))
	})
}

func TestGradCrossEntropy(t *testing.T) {
	x := randTensor(8, 6, 5)
	labels := []int32{0, 4, 2, 2, 1, 3}
	gradCheck(t, "cross-entropy", []*Tensor{x}, func(tp *Tape, in []*Tensor) *Tensor {
		l, _ := CrossEntropy(tp, in[0], labels)
		return l
	})
}

func TestGradMLP(t *testing.T) {
	m, err := NewMLP([]int{12, 8, 8, 3}, 0.1, 3)
	if err != nil {
		t.Fatal(err)
	}
	x := randTensor(9, 4, 1, 3, 4)
	var ins []*Tensor
	for _, p := range m.Params() {
		ins = append(ins, p.T)
	}
	labels := []int32{0, 2, 1, 1}
	gradCheck(t, "mlp", append(ins, x), func(tp *Tape, _ []*Tensor) *Tensor {
		l, _ := CrossEntropy(tp, m.Forward(tp, x), labels)
		return l
	})
}

func TestDropoutStatistics(t *testing.T) {
	tp := NewTape(true)
	tp.Dropout = NewCounterRNG(1, StreamDropout)
	x := NewTensor(100, 1000)
	for i := range x.Data {
		x.Data[i] = 1
	}
	y := Dropout(tp, x, 0.1)
	zeros := 0
	for _, v := range y.Data {
		if v == 0 {
			zeros++
		} else if math.Abs(float64(v)-1/0.9) > 1e-6 {
			t.Fatalf("kept value %v, want 1/0.9", v)
		}
	}
	if frac := float64(zeros) / float64(len(y.Data)); frac < 0.095 || frac > 0.105 {
		t.Fatalf("dropped fraction %.4f, want about 0.1", frac)
	}
	tp.Train = false
	if Dropout(tp, x, 0.1) != x {
		t.Fatal("dropout in eval mode must be the identity")
	}
}

func TestMLPParamsMatchReference(t *testing.T) {
	m, _ := NewMLP([]int{784, 256, 256, 10}, 0.1, 41)
	total := 0
	names := ""
	for _, p := range m.Params() {
		total += p.T.Len()
		names += p.Name + " "
	}
	if total != 269322 {
		t.Fatalf("MLP has %d parameters, want 269322", total)
	}
	if names != "1.weight 1.bias 4.weight 4.bias 7.weight 7.bias " {
		t.Fatalf("parameter names %q", names)
	}
	bound := float32(1 / math.Sqrt(784))
	for _, v := range m.Params()[0].T.Data {
		if v < -bound || v >= bound {
			t.Fatalf("init value %v outside +-%v", v, bound)
		}
	}
}

// TestNoGradientForInputs: a batch of inputs (no Grad buffer) gets no
// gradient, so the first layer skips its input-gradient product, while the
// tape's own activations behind a view still receive theirs.
func TestNoGradientForInputs(t *testing.T) {
	m, _ := NewMLP([]int{12, 8, 3}, 0, 3)
	x := randTensor(9, 4, 1, 3, 4) // no Grad: an input batch
	tp := NewTape(true)
	tp.Dropout = NewCounterRNG(1, StreamDropout)
	ZeroGrads(m.Params())
	loss, _ := CrossEntropy(tp, m.Forward(tp, x), []int32{0, 2, 1, 1})
	tp.Backward(loss)
	if x.Grad != nil {
		t.Fatal("an input without a Grad buffer was given one")
	}
	if tp.views[0].Grad != nil {
		t.Fatal("the flattened input view has a gradient buffer")
	}
	nonzero := false
	for _, v := range m.Params()[0].T.Grad {
		nonzero = nonzero || v != 0
	}
	if !nonzero {
		t.Fatal("first layer weight gradient is all zero")
	}
}
