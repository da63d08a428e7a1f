package engine

import "fmt"

// BasicBlock is ResNet's two-convolution residual block:
// relu(b2(c2(relu(b1(c1(x))))) + short(x)), where short is the identity, or
// a 1x1 strided convolution and batch norm when the shape changes.
type BasicBlock struct {
	C1, C2  *Conv2dLayer
	B1, B2  *BatchNormLayer
	ShortC  *Conv2dLayer // nil for the identity shortcut
	ShortB  *BatchNormLayer
	params  []Param
	buffers []Buffer
}

// NewBasicBlock builds a block from in to out channels with the given stride
// of its first convolution, initialised in PyTorch's construction order
// (c1, b1, c2, b2, shortcut) from r. Names carry prefix (e.g. "layers.2.").
func NewBasicBlock(in, out, stride int, prefix string, r *RNG) *BasicBlock {
	b := &BasicBlock{}
	b.C1 = NewConv2d(in, out, 3, stride, 1, false, r)
	b.B1 = NewBatchNorm2d(out)
	b.C2 = NewConv2d(out, out, 3, 1, 1, false, r)
	b.B2 = NewBatchNorm2d(out)
	if stride != 1 || in != out {
		b.ShortC = NewConv2d(in, out, 1, stride, 0, false, r)
		b.ShortB = NewBatchNorm2d(out)
	}
	b.params = b.C1.params(b.params, prefix+"c1.")
	b.params = b.B1.params(b.params, prefix+"b1.")
	b.params = b.C2.params(b.params, prefix+"c2.")
	b.params = b.B2.params(b.params, prefix+"b2.")
	b.buffers = b.B1.buffers(b.buffers, prefix+"b1.")
	b.buffers = b.B2.buffers(b.buffers, prefix+"b2.")
	if b.ShortC != nil {
		b.params = b.ShortC.params(b.params, prefix+"short.0.")
		b.params = b.ShortB.params(b.params, prefix+"short.1.")
		b.buffers = b.ShortB.buffers(b.buffers, prefix+"short.1.")
	}
	return b
}

// Forward applies the block to x[N,in,H,W]. Each batch norm and the ReLU
// (and residual add) after it run as one fused op.
func (b *BasicBlock) Forward(t *Tape, x *Tensor) *Tensor {
	h := b.B1.ForwardAddReLU(t, b.C1.Forward(t, x), nil)
	s := x
	if b.ShortC != nil {
		s = b.ShortB.Forward(t, b.ShortC.Forward(t, x))
	}
	return b.B2.ForwardAddReLU(t, b.C2.Forward(t, h), s)
}

// Params lists the block's parameters in PyTorch's order.
func (b *BasicBlock) Params() []Param { return b.params }

// Buffers lists the block's running statistics in PyTorch's order.
func (b *BasicBlock) Buffers() []Buffer { return b.buffers }

// ResNet is the CIFAR ResNet-18 of the reference code: a 3x3 stem
// convolution to 64 channels with batch norm and ReLU (no max-pool), four
// stages of two basic blocks (64, 128, 256, 512 channels, strides 1, 2, 2,
// 2), global average pooling and a linear head. Names follow the reference
// module: stem.0.weight, stem.1.weight, layers.0.c1.weight, ...,
// layers.2.short.0.weight, head.weight, head.bias.
type ResNet struct {
	StemC   *Conv2dLayer
	StemB   *BatchNormLayer
	Blocks  []*BasicBlock
	Head    *LinearLayer
	params  []Param
	buffers []Buffer
}

// NewResNet18 builds the CIFAR ResNet-18 for the given number of classes,
// initialised as PyTorch initialises it (module by module in construction
// order) from stream StreamInit of seed. With 10 classes it has 11,173,962
// parameters.
func NewResNet18(classes int, seed int64) (*ResNet, error) {
	if classes < 1 {
		return nil, fmt.Errorf("resnet18 needs at least one class, got %d", classes)
	}
	r := NewRNG(seed, StreamInit)
	m := &ResNet{}
	m.StemC = NewConv2d(3, 64, 3, 1, 1, false, r)
	m.StemB = NewBatchNorm2d(64)
	m.params = m.StemC.params(m.params, "stem.0.")
	m.params = m.StemB.params(m.params, "stem.1.")
	m.buffers = m.StemB.buffers(m.buffers, "stem.1.")
	in := 64
	for _, st := range []struct{ out, stride int }{{64, 1}, {128, 2}, {256, 2}, {512, 2}} {
		for j := 0; j < 2; j++ {
			stride := st.stride
			if j == 1 {
				stride = 1
			}
			b := NewBasicBlock(in, st.out, stride, fmt.Sprintf("layers.%d.", len(m.Blocks)), r)
			m.Blocks = append(m.Blocks, b)
			m.params = append(m.params, b.params...)
			m.buffers = append(m.buffers, b.buffers...)
			in = st.out
		}
	}
	m.Head = NewLinear(512, classes, true, r)
	m.params = m.Head.params(m.params, "head.")
	return m, nil
}

// Forward computes the logits [N, classes] for images x[N,3,H,W].
func (m *ResNet) Forward(t *Tape, x *Tensor) *Tensor {
	h := m.StemB.ForwardAddReLU(t, m.StemC.Forward(t, x), nil)
	for _, b := range m.Blocks {
		h = b.Forward(t, h)
	}
	return m.Head.Forward(t, GlobalAvgPool2d(t, h))
}

// Params lists the parameters in PyTorch's named_parameters order.
func (m *ResNet) Params() []Param { return m.params }

// Buffers lists the batch-norm running statistics (running_mean,
// running_var; num_batches_tracked is not kept) in PyTorch's order.
func (m *ResNet) Buffers() []Buffer { return m.buffers }
