package engine

import (
	"fmt"
	"math"
	"sync"
)

// Fused batch norm: the normalisation, an optional residual add and an
// optional ReLU in one pass over the data, with one backward. ResNet's
// relu(bn(x)) and relu(bn(x) + shortcut) then write one activation instead
// of two or three and read it back once in the backward pass.

// BatchNormAddReLU: y = relu(BatchNorm2d(x) + res), res [N,C,H,W] or nil
// (then y = relu(BatchNorm2d(x))). Statistics, running-statistic updates and
// evaluation mode are exactly those of BatchNorm2d.
func BatchNormAddReLU(t *Tape, x, res, weight, bias, runMean, runVar *Tensor, momentum, eps float32) *Tensor {
	return batchNorm(t, x, res, true, weight, bias, runMean, runVar, momentum, eps)
}

// bnJob is one batch-norm forward or backward call, split over channels.
// Jobs come from a free list and their functions are method values bound
// once, so a call allocates nothing.
type bnJob struct {
	x, y, res        *Tensor
	weight, bias     *Tensor
	runMean, runVar  *Tensor
	stats            []float32 // mean[C], invstd[C]
	n, c, p          int
	train, relu      bool
	momentum, eps    float32
	forward, backing func(lo, hi int)
}

var bnJobFree struct {
	sync.Mutex
	list []*bnJob
}

func getBNJob() *bnJob {
	bnJobFree.Lock()
	var j *bnJob
	if l := bnJobFree.list; len(l) > 0 {
		j = l[len(l)-1]
		bnJobFree.list = l[:len(l)-1]
	}
	bnJobFree.Unlock()
	if j == nil {
		j = new(bnJob)
		j.forward, j.backing = j.forwardChannels, j.backwardChannels
	}
	return j
}

func putBNJob(j *bnJob) {
	f, b := j.forward, j.backing
	*j = bnJob{forward: f, backing: b}
	bnJobFree.Lock()
	bnJobFree.list = append(bnJobFree.list, j)
	bnJobFree.Unlock()
}

// batchNorm is BatchNorm2d with an optional residual res added after the
// affine map and an optional ReLU after that.
func batchNorm(t *Tape, x, res *Tensor, relu bool, weight, bias, runMean, runVar *Tensor, momentum, eps float32) *Tensor {
	n, c, p := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	if t.Train && n*p < 2 {
		panic(fmt.Sprintf("engine: batch norm in training mode needs more than 1 value per channel, input %v", x.Shape)) // as PyTorch
	}
	if res != nil && !sameShape(res.Shape, x.Shape) {
		panic(fmt.Sprintf("engine: batch norm of %v plus residual %v", x.Shape, res.Shape)) // programming error
	}
	y := t.AllocNoZero(x.Shape...)
	stats := t.AllocNoZero(2, c)
	j := getBNJob()
	j.x, j.y, j.res, j.weight, j.bias, j.runMean, j.runVar = x, y, res, weight, bias, runMean, runVar
	j.stats, j.n, j.c, j.p, j.train, j.relu, j.momentum, j.eps = stats.Data, n, c, p, t.Train, relu, momentum, eps
	parallel(c, j.forward)
	putBNJob(j)
	nd := t.record(batchNormBackward, y)
	nd.a, nd.b, nd.c, nd.aux = x, weight, bias, stats
	if res != nil {
		nd.obj = res
	}
	if t.Train {
		nd.ints[0] = 1
	}
	if relu {
		nd.ints[1] = 1
	}
	return y
}

// forwardChannels computes channels [lo, hi): statistics (training) summed
// in float64 in a fixed order (four interleaved partial sums per channel,
// folded at the end), then y = (x-mean)*invstd*weight + bias (+ res) (relu).
func (j *bnJob) forwardChannels(lo, hi int) {
	n, c, p := j.n, j.c, j.p
	m := n * p
	x, y := j.x.Data, j.y.Data
	mean, invstd := j.stats[:c], j.stats[c:]
	for ch := lo; ch < hi; ch++ {
		var mu, inv float64
		if j.train {
			var s [4]float64
			for i := 0; i < n; i++ {
				sum4(&s, x[(i*c+ch)*p:(i*c+ch+1)*p])
			}
			mu = ((s[0] + s[1]) + (s[2] + s[3])) / float64(m)
			s = [4]float64{}
			for i := 0; i < n; i++ {
				sumSqDev4(&s, x[(i*c+ch)*p:(i*c+ch+1)*p], mu)
			}
			vb := ((s[0] + s[1]) + (s[2] + s[3])) / float64(m)
			inv = 1 / math.Sqrt(vb+float64(j.eps))
			mom := float64(j.momentum)
			j.runMean.Data[ch] = float32((1-mom)*float64(j.runMean.Data[ch]) + mom*mu)
			j.runVar.Data[ch] = float32((1-mom)*float64(j.runVar.Data[ch]) + mom*vb*float64(m)/float64(m-1))
		} else {
			mu = float64(j.runMean.Data[ch])
			inv = 1 / math.Sqrt(float64(j.runVar.Data[ch])+float64(j.eps))
		}
		mean[ch], invstd[ch] = float32(mu), float32(inv)
		mf, scale, shift := float32(mu), float32(inv)*j.weight.Data[ch], j.bias.Data[ch]
		for i := 0; i < n; i++ {
			src := x[(i*c+ch)*p : (i*c+ch+1)*p]
			dst := y[(i*c+ch)*p : (i*c+ch+1)*p]
			dst = dst[:len(src)]
			switch {
			case j.res != nil:
				r := j.res.Data[(i*c+ch)*p : (i*c+ch+1)*p]
				r = r[:len(src)]
				for k, v := range src {
					dst[k] = (v-mf)*scale + shift + r[k]
				}
			default:
				for k, v := range src {
					dst[k] = (v-mf)*scale + shift
				}
			}
			if j.relu {
				reluInPlace(dst)
			}
		}
	}
}

// sum4 adds v into four interleaved float64 partial sums.
func sum4(s *[4]float64, v []float32) {
	s0, s1, s2, s3 := s[0], s[1], s[2], s[3]
	k := 0
	for ; k+4 <= len(v); k += 4 {
		b := v[k : k+4 : k+4]
		s0 += float64(b[0])
		s1 += float64(b[1])
		s2 += float64(b[2])
		s3 += float64(b[3])
	}
	for ; k < len(v); k++ {
		s0 += float64(v[k])
	}
	s[0], s[1], s[2], s[3] = s0, s1, s2, s3
}

// sumSqDev4 adds (v-mu)^2 into four interleaved float64 partial sums.
func sumSqDev4(s *[4]float64, v []float32, mu float64) {
	s0, s1, s2, s3 := s[0], s[1], s[2], s[3]
	k := 0
	for ; k+4 <= len(v); k += 4 {
		b := v[k : k+4 : k+4]
		d0, d1, d2, d3 := float64(b[0])-mu, float64(b[1])-mu, float64(b[2])-mu, float64(b[3])-mu
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; k < len(v); k++ {
		d := float64(v[k]) - mu
		s0 += d * d
	}
	s[0], s[1], s[2], s[3] = s0, s1, s2, s3
}

// reluInPlace: v = max(v, 0), branch-free as reluForward.
func reluInPlace(v []float32) {
	for i, x := range v {
		b := math.Float32bits(x)
		v[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}

// reluMaskInPlace: dy = dy where y > 0, else 0 (y is a ReLU output, so
// y > 0 is "bits != 0").
func reluMaskInPlace(dy, y []float32) {
	y = y[:len(dy)]
	for i, d := range dy {
		yb := int32(math.Float32bits(y[i]))
		mask := uint32((yb | -yb) >> 31)
		dy[i] = math.Float32frombits(math.Float32bits(d) & mask)
	}
}

// batchNormBackward, with g = dy (masked by y > 0 after a ReLU),
// xhat = (x-mean)*invstd and sums over N*H*W:
// dres += g; dweight += sum(g*xhat); dbias += sum(g); and
// train: dx += weight*invstd/M * (M*g - sum(g) - xhat*sum(g*xhat)),
// eval:  dx += weight*invstd * g.
// After a ReLU the masked gradient g is written over y.Grad: this node
// produced y, so every reader of y.Grad has already run.
func batchNormBackward(nd *node) {
	j := getBNJob()
	j.x, j.y, j.weight, j.bias, j.stats = nd.a, nd.out, nd.b, nd.c, nd.aux.Data
	if nd.obj != nil {
		j.res = nd.obj.(*Tensor)
	}
	j.n, j.c, j.p = j.x.Shape[0], j.x.Shape[1], j.x.Shape[2]*j.x.Shape[3]
	j.train, j.relu = nd.ints[0] == 1, nd.ints[1] == 1
	parallel(j.c, j.backing)
	putBNJob(j)
}

func (j *bnJob) backwardChannels(lo, hi int) {
	n, c, p := j.n, j.c, j.p
	m := n * p
	x, y, dy := j.x.Data, j.y.Data, j.y.Grad
	mean, invstd := j.stats[:c], j.stats[c:]
	for ch := lo; ch < hi; ch++ {
		mu, inv := mean[ch], invstd[ch]
		var sdy, sdyx [4]float64
		for i := 0; i < n; i++ {
			off := (i*c + ch) * p
			g := dy[off : off+p]
			if j.relu {
				reluMaskInPlace(g, y[off:off+p])
			}
			if j.res != nil && j.res.Grad != nil {
				addTo(j.res.Grad[off:off+p], g)
			}
			dyDots4(&sdy, &sdyx, g, x[off:off+p], mu, inv)
		}
		sumDy := (sdy[0] + sdy[1]) + (sdy[2] + sdy[3])
		sumDyx := (sdyx[0] + sdyx[1]) + (sdyx[2] + sdyx[3])
		j.weight.Grad[ch] += float32(sumDyx)
		j.bias.Grad[ch] += float32(sumDy)
		if j.x.Grad == nil {
			continue
		}
		gw := j.weight.Data[ch] * inv
		if !j.train {
			for i := 0; i < n; i++ {
				off := (i*c + ch) * p
				dxs := j.x.Grad[off : off+p]
				for k, d := range dy[off : off+p] {
					dxs[k] += gw * d
				}
			}
			continue
		}
		meanDy := float32(sumDy / float64(m))
		meanDyx := float32(sumDyx / float64(m))
		for i := 0; i < n; i++ {
			off := (i*c + ch) * p
			xs := x[off : off+p]
			dys := dy[off : off+p]
			dxs := j.x.Grad[off : off+p]
			dys, dxs = dys[:len(xs)], dxs[:len(xs)]
			for k, v := range xs {
				dxs[k] += gw * (dys[k] - meanDy - (v-mu)*inv*meanDyx)
			}
		}
	}
}

// dyDots4 adds g into four interleaved partial sums sdy and g*xhat, with
// xhat = (x-mu)*inv rounded to float32, into sdyx.
func dyDots4(sdy, sdyx *[4]float64, g, x []float32, mu, inv float32) {
	x = x[:len(g)]
	a0, a1, a2, a3 := sdy[0], sdy[1], sdy[2], sdy[3]
	b0, b1, b2, b3 := sdyx[0], sdyx[1], sdyx[2], sdyx[3]
	k := 0
	for ; k+4 <= len(g); k += 4 {
		gb := g[k : k+4 : k+4]
		xb := x[k : k+4 : k+4]
		d0, d1, d2, d3 := float64(gb[0]), float64(gb[1]), float64(gb[2]), float64(gb[3])
		a0 += d0
		a1 += d1
		a2 += d2
		a3 += d3
		b0 += d0 * float64((xb[0]-mu)*inv)
		b1 += d1 * float64((xb[1]-mu)*inv)
		b2 += d2 * float64((xb[2]-mu)*inv)
		b3 += d3 * float64((xb[3]-mu)*inv)
	}
	for ; k < len(g); k++ {
		d := float64(g[k])
		a0 += d
		b0 += d * float64((x[k]-mu)*inv)
	}
	sdy[0], sdy[1], sdy[2], sdy[3] = a0, a1, a2, a3
	sdyx[0], sdyx[1], sdyx[2], sdyx[3] = b0, b1, b2, b3
}
