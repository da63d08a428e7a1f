package engine

// BatchNorm2d normalises x[N,C,H,W] per channel and applies the affine
// weight[C] and bias[C], as PyTorch's nn.BatchNorm2d:
//
//	y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]
//
// In training mode (t.Train) mean and var are the batch statistics over
// N*H*W values (biased variance), and the running statistics are updated in
// place: running = (1-momentum)*running + momentum*stat, with the unbiased
// variance for runVar. In evaluation mode runMean and runVar are used and
// left unchanged. Statistics are summed in float64, channel by channel in a
// fixed order, so the split over cores never changes a bit. The work is
// done by batchNorm in fused.go, shared with BatchNormAddReLU.
func BatchNorm2d(t *Tape, x, weight, bias, runMean, runVar *Tensor, momentum, eps float32) *Tensor {
	return batchNorm(t, x, nil, false, weight, bias, runMean, runVar, momentum, eps)
}

// BatchNormLayer holds a 2-d batch norm's affine weight and bias [C] and its
// running statistics [C].
type BatchNormLayer struct {
	W, B                    *Tensor
	RunningMean, RunningVar *Tensor
	Momentum, Eps           float32
}

// NewBatchNorm2d returns a layer initialised as PyTorch's nn.BatchNorm2d:
// weight 1, bias 0, running mean 0, running variance 1, momentum 0.1,
// eps 1e-5.
func NewBatchNorm2d(c int) *BatchNormLayer {
	l := &BatchNormLayer{W: NewTensor(c), B: NewTensor(c), RunningMean: NewTensor(c), RunningVar: NewTensor(c),
		Momentum: 0.1, Eps: 1e-5}
	for i := 0; i < c; i++ {
		l.W.Data[i] = 1
		l.RunningVar.Data[i] = 1
	}
	return l
}

// Forward normalises x[N,C,H,W] (batch statistics when t.Train).
func (l *BatchNormLayer) Forward(t *Tape, x *Tensor) *Tensor {
	return BatchNorm2d(t, x, l.W, l.B, l.RunningMean, l.RunningVar, l.Momentum, l.Eps)
}

// ForwardAddReLU returns relu(l(x) + res), res nil for relu(l(x)), as one op.
func (l *BatchNormLayer) ForwardAddReLU(t *Tape, x, res *Tensor) *Tensor {
	return BatchNormAddReLU(t, x, res, l.W, l.B, l.RunningMean, l.RunningVar, l.Momentum, l.Eps)
}

// params appends weight and bias under prefix (e.g. "stem.1.").
func (l *BatchNormLayer) params(dst []Param, prefix string) []Param {
	return append(dst, Param{prefix + "weight", l.W}, Param{prefix + "bias", l.B})
}

// buffers appends running_mean and running_var under prefix.
func (l *BatchNormLayer) buffers(dst []Buffer, prefix string) []Buffer {
	return append(dst, Buffer{prefix + "running_mean", l.RunningMean}, Buffer{prefix + "running_var", l.RunningVar})
}
