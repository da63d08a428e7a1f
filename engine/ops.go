package engine

import "math"

// Linear: y[B,out] = x[B,in] * w[out,in]^T + b[out] (PyTorch's layout).
// b may be nil.
func Linear(t *Tape, x, w, b *Tensor) *Tensor {
	batch, in, out := x.Shape[0], w.Shape[1], w.Shape[0]
	y := t.AllocNoZero(batch, out)
	if b != nil {
		for i := 0; i < batch; i++ {
			copy(y.Data[i*out:(i+1)*out], b.Data)
		}
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
		colSumAdd(batch, out, y.Grad, b.Grad)
	}
}

// colSumAdd: dst[j] += sum_i src[i*cols+j], summing rows in order.
func colSumAdd(rows, cols int, src, dst []float32) {
	for i := 0; i < rows; i++ {
		row := src[i*cols : (i+1)*cols]
		d := dst[:len(row)]
		for j, v := range row {
			d[j] += v
		}
	}
}

// ReLU: y = max(x, 0).
func ReLU(t *Tape, x *Tensor) *Tensor {
	y := t.AllocNoZero(x.Shape...)
	reluForward(x.Data, y.Data)
	n := t.record(reluBackward, y)
	n.a = x
	return y
}

// reluForward: y = max(x, 0), branch-free (signs are random in training,
// so a branch mispredicts half the time): the sign bit builds a mask.
func reluForward(x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		b := math.Float32bits(v)
		y[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}

// reluBackward: dx += dy where y > 0 (y >= 0 always, so y > 0 is "bits != 0").
func reluBackward(n *node) {
	y, x := n.out, n.a
	yd, dy := y.Data, y.Grad[:len(y.Data)]
	dx := x.Grad[:len(y.Data)]
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
	first := t.Dropout.Skip(len(x.Data))
	scale := 1 / (1 - p)
	md, yd := mask.Data[:len(x.Data)], y.Data[:len(x.Data)]
	// keep when u >= p, i.e. when the 24-bit integer u*2^24 >= ceil(p*2^24)
	thresh := int32(math.Ceil(float64(p) * (1 << 24)))
	sbits := math.Float32bits(scale)
	rng := t.Dropout
	for i, v := range x.Data {
		u := int32(rng.bits24At(first + uint64(i)))
		keep := uint32((u - thresh) >> 31) // all ones when u < thresh (drop)
		m := math.Float32frombits(sbits &^ keep)
		md[i] = m
		yd[i] = v * m
	}
	n := t.record(dropoutBackward, y)
	n.a, n.aux = x, mask
	return y
}

// dropoutBackward: dx += dy * mask.
func dropoutBackward(n *node) {
	m := n.aux.Data
	dy, dx := n.out.Grad[:len(m)], n.a.Grad[:len(m)]
	for i, v := range m {
		dx[i] += dy[i] * v
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
	var total float64
	correct := 0
	for i := 0; i < batch; i++ {
		row := logits.Data[i*classes : (i+1)*classes]
		p := probs.Data[i*classes : (i+1)*classes]
		mx, arg := row[0], 0
		for j, v := range row {
			if v > mx {
				mx, arg = v, j
			}
		}
		if int32(arg) == labels[i] {
			correct++
		}
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
		total += float64(mx-row[labels[i]]) + math.Log(float64(s))
	}
	loss.Data[0] = float32(total / float64(batch))
	n := t.record(crossEntropyBackward, loss)
	n.a, n.aux = logits, probs
	n.labels = labels
	return loss, correct
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
