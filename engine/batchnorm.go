package engine

import (
	"fmt"
	"math"
)

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
// fixed order, so the split over cores never changes a bit.
func BatchNorm2d(t *Tape, x, weight, bias, runMean, runVar *Tensor, momentum, eps float32) *Tensor {
	n, c, p := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	m := n * p
	if t.Train && m < 2 {
		panic(fmt.Sprintf("engine: batch norm in training mode needs more than 1 value per channel, input %v", x.Shape)) // as PyTorch
	}
	y := t.AllocNoZero(x.Shape...)
	stats := t.AllocNoZero(2, c) // mean, 1/sqrt(var+eps) per channel
	mean, invstd := stats.Data[:c], stats.Data[c:]
	parallel(c, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var mu, inv float64
			if t.Train {
				var s float64
				for i := 0; i < n; i++ {
					for _, v := range x.Data[(i*c+ch)*p : (i*c+ch+1)*p] {
						s += float64(v)
					}
				}
				mu = s / float64(m)
				var ss float64
				for i := 0; i < n; i++ {
					for _, v := range x.Data[(i*c+ch)*p : (i*c+ch+1)*p] {
						d := float64(v) - mu
						ss += d * d
					}
				}
				vb := ss / float64(m)
				inv = 1 / math.Sqrt(vb+float64(eps))
				mom := float64(momentum)
				runMean.Data[ch] = float32((1-mom)*float64(runMean.Data[ch]) + mom*mu)
				runVar.Data[ch] = float32((1-mom)*float64(runVar.Data[ch]) + mom*vb*float64(m)/float64(m-1))
			} else {
				mu = float64(runMean.Data[ch])
				inv = 1 / math.Sqrt(float64(runVar.Data[ch])+float64(eps))
			}
			mean[ch], invstd[ch] = float32(mu), float32(inv)
			mf, scale, shift := float32(mu), float32(inv)*weight.Data[ch], bias.Data[ch]
			for i := 0; i < n; i++ {
				src := x.Data[(i*c+ch)*p : (i*c+ch+1)*p]
				dst := y.Data[(i*c+ch)*p : (i*c+ch+1)*p]
				for k, v := range src {
					dst[k] = (v-mf)*scale + shift
				}
			}
		}
	})
	nd := t.record(batchNormBackward, y)
	nd.a, nd.b, nd.c, nd.aux = x, weight, bias, stats
	if t.Train {
		nd.ints[0] = 1
	}
	return y
}

// batchNormBackward, with xhat = (x-mean)*invstd and sums over N*H*W:
// dweight += sum(dy*xhat); dbias += sum(dy); and
// train: dx += weight*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)),
// eval:  dx += weight*invstd * dy.
func batchNormBackward(nd *node) {
	x, weight, bias, y := nd.a, nd.b, nd.c, nd.out
	train := nd.ints[0] == 1
	n, c, p := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	m := n * p
	mean, invstd := nd.aux.Data[:c], nd.aux.Data[c:]
	parallel(c, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			mu, inv := mean[ch], invstd[ch]
			var sdy, sdyx float64
			for i := 0; i < n; i++ {
				xs := x.Data[(i*c+ch)*p : (i*c+ch+1)*p]
				dys := y.Grad[(i*c+ch)*p : (i*c+ch+1)*p]
				for k, v := range xs {
					d := float64(dys[k])
					sdy += d
					sdyx += d * float64((v-mu)*inv)
				}
			}
			weight.Grad[ch] += float32(sdyx)
			bias.Grad[ch] += float32(sdy)
			if x.Grad == nil {
				continue
			}
			g := weight.Data[ch] * inv
			if !train {
				for i := 0; i < n; i++ {
					dxs := x.Grad[(i*c+ch)*p : (i*c+ch+1)*p]
					for k, d := range y.Grad[(i*c+ch)*p : (i*c+ch+1)*p] {
						dxs[k] += g * d
					}
				}
				continue
			}
			meanDy := float32(sdy / float64(m))
			meanDyx := float32(sdyx / float64(m))
			for i := 0; i < n; i++ {
				xs := x.Data[(i*c+ch)*p : (i*c+ch+1)*p]
				dys := y.Grad[(i*c+ch)*p : (i*c+ch+1)*p]
				dxs := x.Grad[(i*c+ch)*p : (i*c+ch+1)*p]
				for k, v := range xs {
					dxs[k] += g * (dys[k] - meanDy - (v-mu)*inv*meanDyx)
				}
			}
		}
	})
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

// params appends weight and bias under prefix (e.g. "stem.1.").
func (l *BatchNormLayer) params(dst []Param, prefix string) []Param {
	return append(dst, Param{prefix + "weight", l.W}, Param{prefix + "bias", l.B})
}

// buffers appends running_mean and running_var under prefix.
func (l *BatchNormLayer) buffers(dst []Buffer, prefix string) []Buffer {
	return append(dst, Buffer{prefix + "running_mean", l.RunningMean}, Buffer{prefix + "running_var", l.RunningVar})
}
