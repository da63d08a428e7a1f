package engine

import (
	"fmt"
	"math"
)

// Model is a network the runner can train: a forward pass recorded on a
// tape, and its parameters and buffers in PyTorch's order and naming.
type Model interface {
	// Forward returns the logits [B, classes] for input x.
	Forward(t *Tape, x *Tensor) *Tensor
	Params() []Param
	Buffers() []Buffer
}

// LinearLayer holds a fully connected layer's weight [out,in] and bias [out].
type LinearLayer struct {
	W, B *Tensor
}

// NewLinear initialises a layer as PyTorch's nn.Linear does: weight and bias
// uniform in +-1/sqrt(in) (kaiming_uniform with a=sqrt(5) reduces to this),
// weight first, from r.
func NewLinear(in, out int, bias bool, r *RNG) *LinearLayer {
	l := &LinearLayer{W: NewTensor(out, in)}
	bound := float32(1 / math.Sqrt(float64(in)))
	r.Uniform(l.W.Data, -bound, bound)
	if bias {
		l.B = NewTensor(out)
		r.Uniform(l.B.Data, -bound, bound)
	}
	return l
}

// Forward applies the layer to x[B,in].
func (l *LinearLayer) Forward(t *Tape, x *Tensor) *Tensor { return Linear(t, x, l.W, l.B) }

// params appends the layer's parameters under prefix (e.g. "1.").
func (l *LinearLayer) params(dst []Param, prefix string) []Param {
	dst = append(dst, Param{prefix + "weight", l.W})
	if l.B != nil {
		dst = append(dst, Param{prefix + "bias", l.B})
	}
	return dst
}

// MLP is the reference multilayer perceptron: Flatten, then Linear layers
// with ReLU and dropout after each hidden layer. Parameter names follow the
// reference nn.Sequential (Flatten at index 0): "1.weight", "1.bias", "4.weight"...
type MLP struct {
	Layers []*LinearLayer
	DropP  float32
	params []Param
}

// NewMLP builds an MLP with the given layer sizes (e.g. 784, 256, 256, 10)
// and dropout probability, initialised from stream StreamInit of seed.
func NewMLP(sizes []int, dropout float32, seed int64) (*MLP, error) {
	if len(sizes) < 2 {
		return nil, fmt.Errorf("mlp needs at least input and output sizes, got %v", sizes)
	}
	r := NewRNG(seed, StreamInit)
	m := &MLP{DropP: dropout}
	idx := 1
	for i := 0; i+1 < len(sizes); i++ {
		l := NewLinear(sizes[i], sizes[i+1], true, r)
		m.Layers = append(m.Layers, l)
		m.params = l.params(m.params, fmt.Sprintf("%d.", idx))
		idx += 3 // Linear, ReLU, Dropout
	}
	return m, nil
}

// Forward computes the logits for x[B, ...] (flattened to [B, sizes[0]]).
func (m *MLP) Forward(t *Tape, x *Tensor) *Tensor {
	h := Flatten(t, x)
	for i, l := range m.Layers {
		h = l.Forward(t, h)
		if i+1 < len(m.Layers) {
			h = ReLUDropout(t, h, m.DropP)
		}
	}
	return h
}

// Params lists the parameters in model order.
func (m *MLP) Params() []Param { return m.params }

// Buffers is empty: the MLP has no running statistics.
func (m *MLP) Buffers() []Buffer { return nil }
