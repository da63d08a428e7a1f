package engine

import "fmt"

// SmallCNN is the reference code's SmallCIFARNet
// (src/neuroplastic_optimizer/models/cnn.py): two nn.Sequential halves,
//
//	features:   0 Conv2d(3,32,3,pad 1)  1 ReLU  2 Conv2d(32,64,3,pad 1)  3 ReLU  4 MaxPool2d(2)
//	            5 Conv2d(64,128,3,pad 1) 6 ReLU  7 MaxPool2d(2)
//	classifier: 0 Flatten  1 Linear(8192,256)  2 ReLU  3 Dropout(0.2)  4 Linear(256,classes)
//
// so its parameters are named features.0.weight, ..., classifier.4.bias.
type SmallCNN struct {
	Convs  [3]*Conv2dLayer
	FC1    *LinearLayer
	FC2    *LinearLayer
	DropP  float32
	params []Param
}

// NewSmallCNN builds the network for 32x32 RGB inputs and the given number
// of classes, initialised layer by layer as PyTorch does from stream
// StreamInit of seed.
func NewSmallCNN(classes int, seed int64) (*SmallCNN, error) {
	if classes < 1 {
		return nil, fmt.Errorf("small-cnn needs at least one class, got %d", classes)
	}
	r := NewRNG(seed, StreamInit)
	m := &SmallCNN{DropP: 0.2}
	m.Convs[0] = NewConv2d(3, 32, 3, 1, 1, true, r)
	m.Convs[1] = NewConv2d(32, 64, 3, 1, 1, true, r)
	m.Convs[2] = NewConv2d(64, 128, 3, 1, 1, true, r)
	m.FC1 = NewLinear(8*8*128, 256, true, r)
	m.FC2 = NewLinear(256, classes, true, r)
	m.params = m.Convs[0].params(m.params, "features.0.")
	m.params = m.Convs[1].params(m.params, "features.2.")
	m.params = m.Convs[2].params(m.params, "features.5.")
	m.params = m.FC1.params(m.params, "classifier.1.")
	m.params = m.FC2.params(m.params, "classifier.4.")
	return m, nil
}

// Forward computes the logits [N, classes] for images x[N,3,32,32]. Each
// convolution and the ReLU after it run as one fused op.
func (m *SmallCNN) Forward(t *Tape, x *Tensor) *Tensor {
	h := m.Convs[0].ForwardReLU(t, x)
	h = MaxPool2d(t, m.Convs[1].ForwardReLU(t, h), 2, 2)
	h = MaxPool2d(t, m.Convs[2].ForwardReLU(t, h), 2, 2)
	h = ReLU(t, m.FC1.Forward(t, Flatten(t, h)))
	return m.FC2.Forward(t, Dropout(t, h, m.DropP))
}

// Params lists the parameters in model order.
func (m *SmallCNN) Params() []Param { return m.params }

// Buffers is empty: the network has no batch norm.
func (m *SmallCNN) Buffers() []Buffer { return nil }
