package engine

import (
	"math"

	"github.com/repro-np/repro/engine/kernels"
)

// Linear: y[B,out] = x[B,in] * w[out,in]^T + b[out] (PyTorch's layout).
// b may be nil.
func Linear(t *Tape, x, w, b *Tensor) *Tensor {
	batch, in, out := x.Shape[0], w.Shape[1], w.Shape[0]
	y := t.AllocNoZero(batch, out)
	if b != nil {
		j := t.job(opBiasRows)
		j.x, j.y, j.cols = b.Data[:out], y.Data, out
		j.split(batch, batch*out)
		sgemm(false, true, batch, out, in, 1, x.Data, in, w.Data, in, 1, y.Data, out)
	} else {
		sgemm(false, true, batch, out, in, 1, x.Data, in, w.Data, in, 0, y.Data, out)
	}
	n := t.record(linearBackward, y)
	n.a, n.b, n.c = x, w, b
	return y
}

// linearBackward: dx += dy*w; dw += dy^T*x; db += sum over rows of dy.
func linearBackward(n *node) {
	x, w, b, y := n.a, n.b, n.c, n.out
	batch, in, out := x.Shape[0], w.Shape[1], w.Shape[0]
	if x.Grad != nil {
		sgemm(false, false, batch, in, out, 1, y.Grad, out, w.Data, in, 1, x.Grad, in)
	}
	sgemm(true, false, out, in, batch, 1, y.Grad, out, x.Data, in, 1, w.Grad, in)
	if b != nil {
		j := n.tape.job(opColSum)
		j.x, j.y, j.rows, j.cols = y.Grad, b.Grad[:out], batch, out
		j.split(out, batch*out)
	}
}

// colSumAdd: dst[j] += sum_i src[i*cols+j] for j < len(dst), summing rows
// in order (each column's sum is the same for any range of columns).
func colSumAdd(rows, cols int, src, dst []float32) {
	for i := 0; i < rows; i++ {
		row := src[i*cols : i*cols+len(dst)]
		d := dst[:len(row)]
		for j, v := range row {
			d[j] += v
		}
	}
}

// ReLU: y = max(x, 0).
func ReLU(t *Tape, x *Tensor) *Tensor {
	y := t.AllocNoZero(x.Shape...)
	j := t.job(opReLU)
	j.x, j.y = x.Data, y.Data
	j.split(len(x.Data), len(x.Data))
	n := t.record(reluBackward, y)
	n.a = x
	return y
}

// reluForward: y = max(x, 0), branch-free (signs are random in training,
// so a branch mispredicts half the time): the sign bit builds a mask.
func reluForward(x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = relu(v)
	}
}

// reluBackward: dx += dy where y > 0 (y >= 0 always, so y > 0 is "bits != 0").
func reluBackward(n *node) {
	j := n.tape.job(opReLUBack)
	j.y, j.dy, j.dx = n.out.Data, n.out.Grad, n.a.Grad
	j.split(len(j.y), len(j.y))
}

func reluBack(yd, dy, dx []float32) {
	dy, dx = dy[:len(yd)], dx[:len(yd)]
	for i, v := range yd {
		yb := int32(math.Float32bits(v))
		mask := uint32((yb | -yb) >> 31)
		dx[i] += math.Float32frombits(math.Float32bits(dy[i]) & mask)
	}
}

// Dropout zeroes each element with probability p in training mode and
// scales the survivors by 1/(1-p); in evaluation mode it is the identity.
// Masks come from t.Dropout, one value per element in row-major order.
func Dropout(t *Tape, x *Tensor, p float32) *Tensor {
	if !t.Train || p == 0 {
		return x
	}
	y := t.AllocNoZero(x.Shape...)
	mask := t.AllocNoZero(x.Shape...)
	j := t.job(opDropout)
	j.x, j.y, j.m = x.Data, y.Data, mask.Data
	j.setDropout(t.Dropout, len(x.Data), p)
	j.split(len(x.Data), len(x.Data))
	n := t.record(dropoutBackward, y)
	n.a, n.aux = x, mask
	return y
}

// dropoutThreshold returns the 24-bit threshold below which a value of the
// dropout stream drops an element (keep when u >= p, i.e. when the 24-bit
// integer u*2^24 >= ceil(p*2^24)) and the survivors' scale 1/(1-p).
func dropoutThreshold(p float32) (thresh int32, scale float32) {
	return int32(math.Ceil(float64(p) * (1 << 24))), 1 / (1 - p)
}

// dropoutForward: m[i] = scale or 0 as value first+i of the stream with key
// decides (dropped when below thresh), y[i] = x[i]*m[i].
func dropoutForward(x, y, m []float32, key, first uint64, thresh int32, scale float32) {
	y, m = y[:len(x)], m[:len(x)]
	sbits := math.Float32bits(scale)
	z := bits24Input(key, first)
	for i, v := range x {
		mv := math.Float32frombits(sbits &^ dropMask(bits24(z), thresh))
		z += bits24Step
		m[i] = mv
		y[i] = v * mv
	}
}

// reluDropoutForward: y[i] = max(x[i], 0) * m[i], m as in dropoutForward.
// Four elements per iteration, so that their hashes overlap.
func reluDropoutForward(x, y []float32, key, first uint64, thresh int32, scale float32) {
	y = y[:len(x)]
	sbits := math.Float32bits(scale)
	z := bits24Input(key, first)
	step := uint64(bits24Step)
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xs, ys := x[i:i+4:i+4], y[i:i+4:i+4]
		d0 := dropMask(bits24(z), thresh)
		d1 := dropMask(bits24(z+step), thresh)
		d2 := dropMask(bits24(z+2*step), thresh)
		d3 := dropMask(bits24(z+3*step), thresh)
		z += 4 * step
		ys[0] = relu(xs[0]) * math.Float32frombits(sbits&^d0)
		ys[1] = relu(xs[1]) * math.Float32frombits(sbits&^d1)
		ys[2] = relu(xs[2]) * math.Float32frombits(sbits&^d2)
		ys[3] = relu(xs[3]) * math.Float32frombits(sbits&^d3)
	}
	for ; i < len(x); i++ {
		y[i] = relu(x[i]) * math.Float32frombits(sbits&^dropMask(bits24(z), thresh))
		z += bits24Step
	}
}

// relu is max(v, 0) without a branch (+0 for -0 and for NaNs with the sign
// bit set).
func relu(v float32) float32 {
	b := math.Float32bits(v)
	return math.Float32frombits(b &^ uint32(int32(b)>>31))
}

// dropMask is all ones when the 24-bit stream value u drops its element
// (u < thresh), else 0.
func dropMask(u uint32, thresh int32) uint32 { return uint32((int32(u) - thresh) >> 31) }

// dropoutBackward: dx += dy * mask.
func dropoutBackward(n *node) {
	j := n.tape.job(opDropoutBack)
	j.m, j.dy, j.dx = n.aux.Data, n.out.Grad, n.a.Grad
	j.split(len(j.m), len(j.m))
}

func dropoutBack(m, dy, dx []float32) {
	dy, dx = dy[:len(m)], dx[:len(m)]
	for i, v := range m {
		dx[i] += dy[i] * v
	}
}

// ReLUDropout is Dropout(ReLU(x), p) in one pass and without a mask
// buffer: y = max(x, 0) * m with the mask m of Dropout (same stream values,
// same bits). In evaluation mode, or with p == 0, it is ReLU.
func ReLUDropout(t *Tape, x *Tensor, p float32) *Tensor {
	if !t.Train || p == 0 {
		return ReLU(t, x)
	}
	y := t.AllocNoZero(x.Shape...)
	j := t.job(opReLUDropout)
	j.x, j.y = x.Data, y.Data
	j.setDropout(t.Dropout, len(x.Data), p)
	j.split(len(x.Data), len(x.Data))
	n := t.record(reluDropoutBackward, y)
	n.a = x
	n.f = j.scale
	return y
}

// reluDropoutBackward: dx += dy*scale where y != 0, else +0. As 1/(1-p) >= 1,
// y != 0 exactly when x > 0 and the element was kept, so this gives the bits
// of dropoutBackward then reluBackward (for finite activations; a NaN
// activation passes its gradient even where dropped).
func reluDropoutBackward(n *node) {
	j := n.tape.job(opReLUDropoutBack)
	j.y, j.dy, j.dx, j.scale = n.out.Data, n.out.Grad, n.a.Grad, n.f
	j.split(len(j.y), len(j.y))
}

func reluDropoutBack(yd, dy, dx []float32, scale float32) {
	dy, dx = dy[:len(yd)], dx[:len(yd)]
	for i, v := range yd {
		yb := int32(math.Float32bits(v))
		mask := uint32((yb | -yb) >> 31)
		// +0 + g: the unfused pair adds dy*m to a zeroed gradient first.
		g := 0 + float32(dy[i]*scale)
		dx[i] += math.Float32frombits(math.Float32bits(g) & mask)
	}
}

// Flatten reshapes x[B,...] to [B, rest]; the data is shared.
func Flatten(t *Tape, x *Tensor) *Tensor {
	y := t.View(x, x.Shape[0], len(x.Data)/x.Shape[0])
	n := t.record(flattenBackward, y)
	n.a = x
	return y
}

// flattenBackward: dx += dy.
func flattenBackward(n *node) {
	if n.a.Grad == nil {
		return
	}
	dx := n.a.Grad[:len(n.out.Grad)]
	for i, v := range n.out.Grad {
		dx[i] += v
	}
}

// Add: y = a + b, same shapes (residual connections).
func Add(t *Tape, a, b *Tensor) *Tensor {
	y := t.AllocNoZero(a.Shape...)
	yd, bd := y.Data[:len(a.Data)], b.Data[:len(a.Data)]
	for i, v := range a.Data {
		yd[i] = v + bd[i]
	}
	n := t.record(addBackward, y)
	n.a, n.b = a, b
	return y
}

// addBackward: da += dy; db += dy.
func addBackward(n *node) {
	dy := n.out.Grad
	da, db := n.a.Grad[:len(dy)], n.b.Grad[:len(dy)]
	for i, v := range dy {
		da[i] += v
		db[i] += v
	}
}

// CrossEntropy is the mean softmax cross-entropy of logits[B,C] against
// labels; it returns the scalar loss tensor and the number of rows whose
// arg-max equals the label. The softmax is kept for the backward pass.
func CrossEntropy(t *Tape, logits *Tensor, labels []int32) (*Tensor, int) {
	batch, classes := logits.Shape[0], logits.Shape[1]
	probs := t.AllocNoZero(batch, classes)
	loss := t.AllocNoZero(1)
	if cap(t.rowLoss) < batch {
		t.rowLoss = make([]float64, batch)
		t.rowHit = make([]bool, batch)
	}
	j := t.job(opSoftmaxCE)
	j.x, j.y, j.cols, j.labels = logits.Data, probs.Data, classes, labels
	j.rowLoss, j.rowHit = t.rowLoss[:batch], t.rowHit[:batch]
	j.split(batch, batch*classes*8) // exp is costly
	var total float64
	correct := 0
	for i, l := range j.rowLoss {
		total += l
		if j.rowHit[i] {
			correct++
		}
	}
	loss.Data[0] = float32(total / float64(batch))
	n := t.record(crossEntropyBackward, loss)
	n.a, n.aux = logits, probs
	n.labels = labels
	return loss, correct
}

// softmaxRows: for rows lo..hi of logits[.,cols], p = softmax of the row,
// rowLoss = its cross-entropy against the label, rowHit = whether the
// (first) arg-max is the label.
func softmaxRows(lo, hi, cols int, logits, probs []float32, labels []int32, rowLoss []float64, rowHit []bool) {
	for i := lo; i < hi; i++ {
		row := logits[i*cols : (i+1)*cols]
		p := probs[i*cols : (i+1)*cols]
		mx, arg := row[0], 0
		for j, v := range row {
			if v > mx {
				mx, arg = v, j
			}
		}
		rowHit[i] = int32(arg) == labels[i]
		var s float32
		for j, v := range row {
			e := float32(math.Exp(float64(v - mx)))
			p[j] = e
			s += e
		}
		inv := 1 / s
		for j := range p {
			p[j] *= inv
		}
		rowLoss[i] = float64(mx-row[labels[i]]) + math.Log(float64(s))
	}
}

// crossEntropyBackward: dlogits += dloss * (softmax - onehot) / B.
func crossEntropyBackward(n *node) {
	labels := n.labels
	logits, probs := n.a, n.aux
	batch, classes := logits.Shape[0], logits.Shape[1]
	g := n.out.Grad[0] / float32(batch)
	for i := 0; i < batch; i++ {
		p := probs.Data[i*classes : (i+1)*classes]
		d := logits.Grad[i*classes : (i+1)*classes]
		for j, v := range p {
			d[j] += g * v
		}
		d[labels[i]] -= g
	}
}

// elemOp names the op an elemJob runs.
type elemOp uint8

const (
	opBiasRows elemOp = iota
	opColSum
	opReLU
	opReLUBack
	opDropout
	opDropoutBack
	opReLUDropout
	opReLUDropoutBack
	opSoftmaxCE
	opClearGrads
)

// minParallelWork is the number of elements an op touches below which it
// runs on the calling goroutine: handing a part to a worker costs about a
// microsecond even when the worker is spinning.
const minParallelWork = 8192

// An elemJob is one element-wise op split over the kernel worker pool. Each
// tape owns one (ops on a tape run one at a time), so passing it to
// kernels.ParallelJob allocates nothing. Every op computes each index the
// same way whatever the split, so results do not depend on the threads.
type elemJob struct {
	op              elemOp
	x, y, m, dy, dx []float32
	rows, cols      int
	key, first      uint64 // dropout stream and its value for index 0
	thresh          int32
	scale           float32
	labels          []int32
	rowLoss         []float64
	rowHit          []bool
	tensors         []*Tensor // opClearGrads
}

// job returns t's element-wise job, set to run op.
func (t *Tape) job(op elemOp) *elemJob {
	t.ej.op = op
	return &t.ej
}

// setDropout reserves n values of stream r for a dropout of probability p.
func (j *elemJob) setDropout(r *CounterRNG, n int, p float32) {
	j.key, j.first = r.Key, r.Skip(n)
	j.thresh, j.scale = dropoutThreshold(p)
}

// split runs the job over indices [0,n), on the worker pool if the op
// touches at least minParallelWork elements in all.
func (j *elemJob) split(n, work int) {
	if work < minParallelWork {
		j.Run(0, n)
		return
	}
	kernels.ParallelJob(n, j)
}

// Run runs indices [lo,hi) of the job: rows for opBiasRows and
// opSoftmaxCE, columns for opColSum, elements otherwise.
func (j *elemJob) Run(lo, hi int) {
	switch j.op {
	case opBiasRows:
		for i := lo; i < hi; i++ {
			copy(j.y[i*j.cols:(i+1)*j.cols], j.x)
		}
	case opColSum:
		colSumAdd(j.rows, j.cols, j.x[lo:], j.y[lo:hi])
	case opReLU:
		reluForward(j.x[lo:hi], j.y[lo:hi])
	case opReLUBack:
		reluBack(j.y[lo:hi], j.dy[lo:hi], j.dx[lo:hi])
	case opDropout:
		dropoutForward(j.x[lo:hi], j.y[lo:hi], j.m[lo:hi], j.key, j.first+uint64(lo), j.thresh, j.scale)
	case opDropoutBack:
		dropoutBack(j.m[lo:hi], j.dy[lo:hi], j.dx[lo:hi])
	case opReLUDropout:
		reluDropoutForward(j.x[lo:hi], j.y[lo:hi], j.key, j.first+uint64(lo), j.thresh, j.scale)
	case opReLUDropoutBack:
		reluDropoutBack(j.y[lo:hi], j.dy[lo:hi], j.dx[lo:hi], j.scale)
	case opSoftmaxCE:
		softmaxRows(lo, hi, j.cols, j.x, j.y, j.labels, j.rowLoss, j.rowHit)
	case opClearGrads:
		clearGrads(j.tensors, lo, hi)
	}
}
