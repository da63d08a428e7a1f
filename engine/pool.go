package engine

import "fmt"

// MaxPool2d: y[N,C,OH,OW] = max of x[N,C,H,W] over k x k windows taken every
// stride pixels, no padding, floor mode (OH = (H-k)/stride+1), as PyTorch's
// nn.MaxPool2d(k, stride). Ties go to the first maximum in row-major window
// order; the backward pass finds it again, so no index buffer is kept.
func MaxPool2d(t *Tape, x *Tensor, k, stride int) *Tensor {
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := (h-k)/stride+1, (w-k)/stride+1
	if k < 1 || stride < 1 || oh < 1 || ow < 1 {
		panic(fmt.Sprintf("engine: max pool %d stride %d of input %v", k, stride, x.Shape)) // programming error
	}
	y := t.AllocNoZero(n, c, oh, ow)
	parallel(n*c, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			src := x.Data[pl*h*w : (pl+1)*h*w]
			dst := y.Data[pl*oh*ow : (pl+1)*oh*ow]
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					dst[oy*ow+ox] = src[argmaxWindow(src, w, oy*stride, ox*stride, k)]
				}
			}
		}
	})
	nd := t.record(maxPoolBackward, y)
	nd.a = x
	nd.ints[0], nd.ints[1] = k, stride
	return y
}

// maxPoolBackward: dx[argmax of each window] += dy.
func maxPoolBackward(nd *node) {
	x, y := nd.a, nd.out
	if x.Grad == nil {
		return
	}
	k, stride := nd.ints[0], nd.ints[1]
	h, w := x.Shape[2], x.Shape[3]
	oh, ow := y.Shape[2], y.Shape[3]
	parallel(x.Shape[0]*x.Shape[1], func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			src := x.Data[pl*h*w : (pl+1)*h*w]
			dx := x.Grad[pl*h*w : (pl+1)*h*w]
			dy := y.Grad[pl*oh*ow : (pl+1)*oh*ow]
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					dx[argmaxWindow(src, w, oy*stride, ox*stride, k)] += dy[oy*ow+ox]
				}
			}
		}
	})
}

// argmaxWindow returns the index in plane (row length w) of the first
// maximum of the k x k window whose top-left corner is (y0, x0). A NaN
// wins, as in PyTorch.
func argmaxWindow(plane []float32, w, y0, x0, k int) int {
	best := y0*w + x0
	bv := plane[best]
	for i := 0; i < k; i++ {
		row := (y0+i)*w + x0
		for j := 0; j < k; j++ {
			if v := plane[row+j]; v > bv || (v != v && bv == bv) {
				best, bv = row+j, v
			}
		}
	}
	return best
}

// GlobalAvgPool2d: y[N,C] = mean of x[N,C,H,W] over H*W
// (adaptive_avg_pool2d to 1x1, then flatten).
func GlobalAvgPool2d(t *Tape, x *Tensor) *Tensor {
	n, c, p := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	y := t.AllocNoZero(n, c)
	inv := 1 / float32(p)
	parallel(n*c, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			var s float32
			for _, v := range x.Data[pl*p : (pl+1)*p] {
				s += v
			}
			y.Data[pl] = s * inv
		}
	})
	nd := t.record(globalAvgPoolBackward, y)
	nd.a = x
	return y
}

// globalAvgPoolBackward: dx[n,c,:] += dy[n,c] / (H*W).
func globalAvgPoolBackward(nd *node) {
	x, y := nd.a, nd.out
	if x.Grad == nil {
		return
	}
	p := x.Shape[2] * x.Shape[3]
	inv := 1 / float32(p)
	for pl, d := range y.Grad[:len(y.Data)] {
		g := d * inv
		dx := x.Grad[pl*p : (pl+1)*p]
		for i := range dx {
			dx[i] += g
		}
	}
}
