// Package engine is a minimal reverse-mode automatic differentiation core on
// float32 tensors: ops with their forward and backward side by side, the
// layers built from them and the models the paper trains.
//
// Memory model: a Tape owns every activation it creates and hands the same
// buffers back on the next step when shapes repeat, so a training loop does
// not allocate in steady state. Parameters are long-lived Tensors owned by
// their layers.
package engine

import "fmt"

// Tensor is a dense row-major float32 array with an optional gradient of the
// same size. Shape is never modified after creation.
type Tensor struct {
	Shape []int
	Data  []float32
	Grad  []float32 // nil until the tensor takes part in a backward pass
}

// NewTensor returns a zeroed tensor of the given shape.
func NewTensor(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, numel(shape))}
}

// Len is the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Dim returns the size of axis i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// EnsureGrad allocates the gradient buffer if it is missing.
func (t *Tensor) EnsureGrad() {
	if t.Grad == nil {
		t.Grad = make([]float32, len(t.Data))
	}
}

// ZeroGrad sets the gradient to zero, allocating it if needed.
func (t *Tensor) ZeroGrad() {
	if t.Grad == nil {
		t.Grad = make([]float32, len(t.Data))
		return
	}
	clear(t.Grad)
}

func (t *Tensor) String() string { return fmt.Sprintf("Tensor%v", t.Shape) }

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Param is a trainable tensor with the name PyTorch would give it
// (for example "1.weight"), in the order the model lists its parameters.
type Param struct {
	Name string
	T    *Tensor
}

// Buffer is a non-trainable tensor that is part of a model's state
// (batch-norm running statistics); checkpoints save it.
type Buffer struct {
	Name string
	T    *Tensor
}
