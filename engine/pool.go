package engine

import (
	"fmt"
	"math"
	"sync"
)

// MaxPool2d: y[N,C,OH,OW] = max of x[N,C,H,W] over k x k windows taken every
// stride pixels, no padding, floor mode (OH = (H-k)/stride+1), as PyTorch's
// nn.MaxPool2d(k, stride); a NaN in a window gives NaN. The gradient goes to
// the first element of the window (row-major) equal to the maximum, which
// the backward pass finds again, so no index buffer is kept.
func MaxPool2d(t *Tape, x *Tensor, k, stride int) *Tensor {
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := (h-k)/stride+1, (w-k)/stride+1
	if k < 1 || stride < 1 || oh < 1 || ow < 1 {
		panic(fmt.Sprintf("engine: max pool %d stride %d of input %v", k, stride, x.Shape)) // programming error
	}
	y := t.AllocNoZero(n, c, oh, ow)
	j := getPoolJob()
	j.x, j.y, j.k, j.stride = x, y, k, stride
	parallel(n*c, j.forward)
	putPoolJob(j)
	nd := t.record(maxPoolBackward, y)
	nd.a = x
	nd.ints[0], nd.ints[1] = k, stride
	return y
}

// maxPoolBackward: dx[argmax of each window] += dy.
func maxPoolBackward(nd *node) {
	if nd.a.Grad == nil {
		return
	}
	j := getPoolJob()
	j.x, j.y, j.k, j.stride = nd.a, nd.out, nd.ints[0], nd.ints[1]
	parallel(j.x.Shape[0]*j.x.Shape[1], j.backward)
	putPoolJob(j)
}

// poolJob is one max-pool call split over (image, channel) planes; its
// functions are method values bound once, so a call allocates nothing.
type poolJob struct {
	x, y              *Tensor
	k, stride         int
	forward, backward func(lo, hi int)
}

var poolJobFree struct {
	sync.Mutex
	list []*poolJob
}

func getPoolJob() *poolJob {
	poolJobFree.Lock()
	var j *poolJob
	if l := poolJobFree.list; len(l) > 0 {
		j = l[len(l)-1]
		poolJobFree.list = l[:len(l)-1]
	}
	poolJobFree.Unlock()
	if j == nil {
		j = new(poolJob)
		j.forward, j.backward = j.forwardPlanes, j.backwardPlanes
	}
	return j
}

func putPoolJob(j *poolJob) {
	j.x, j.y = nil, nil
	poolJobFree.Lock()
	poolJobFree.list = append(poolJobFree.list, j)
	poolJobFree.Unlock()
}

func (j *poolJob) forwardPlanes(lo, hi int) {
	k, stride := j.k, j.stride
	h, w := j.x.Shape[2], j.x.Shape[3]
	oh, ow := j.y.Shape[2], j.y.Shape[3]
	for pl := lo; pl < hi; pl++ {
		src := j.x.Data[pl*h*w : (pl+1)*h*w]
		dst := j.y.Data[pl*oh*ow : (pl+1)*oh*ow]
		if k == 2 && stride == 2 {
			maxPool2x2Plane(src, dst, w, oh, ow)
			continue
		}
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				m := src[oy*stride*w+ox*stride]
				for i := 0; i < k; i++ {
					for _, v := range src[(oy*stride+i)*w+ox*stride:][:k] {
						m = max(m, v)
					}
				}
				dst[oy*ow+ox] = m
			}
		}
	}
}

func (j *poolJob) backwardPlanes(lo, hi int) {
	k, stride := j.k, j.stride
	h, w := j.x.Shape[2], j.x.Shape[3]
	oh, ow := j.y.Shape[2], j.y.Shape[3]
	for pl := lo; pl < hi; pl++ {
		src := j.x.Data[pl*h*w : (pl+1)*h*w]
		dx := j.x.Grad[pl*h*w : (pl+1)*h*w]
		dy := j.y.Grad[pl*oh*ow : (pl+1)*oh*ow]
		ys := j.y.Data[pl*oh*ow : (pl+1)*oh*ow]
		if k == 2 && stride == 2 {
			maxPool2x2BackPlane(src, dx, ys, dy, w, oh, ow)
			continue
		}
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				dx[argmaxWindow(src, w, oy*stride, ox*stride, k, ys[oy*ow+ox])] += dy[oy*ow+ox]
			}
		}
	}
}

// maxPool2x2BackPlane is the backward pass of a 2x2, stride 2 pool over one
// plane: the gradient goes to the first of the four window elements (row
// major) equal to the output, as argmaxWindow finds it; the other three
// have +0 added.
func maxPool2x2BackPlane(src, dx, ys, dy []float32, w, oh, ow int) {
	for oy := 0; oy < oh; oy++ {
		r0 := src[2*oy*w : 2*oy*w+2*ow]
		r1 := src[(2*oy+1)*w : (2*oy+1)*w+2*ow]
		d0 := dx[2*oy*w : 2*oy*w+2*ow]
		d1 := dx[(2*oy+1)*w : (2*oy+1)*w+2*ow]
		yr := ys[oy*ow : (oy+1)*ow]
		gr := dy[oy*ow : (oy+1)*ow]
		gr = gr[:len(yr)]
		for ox, m := range yr {
			g := gr[ox]
			if m != m { // NaN: the first NaN of the window
				argWindowNaN(r0, r1, d0, d1, 2*ox, g)
				continue
			}
			// Branch-free (which element wins is random): each of the four
			// gets g or +0, the first one equal to m gets g.
			u0 := b2u(r0[2*ox] == m)
			u1 := b2u(r0[2*ox+1] == m) &^ u0
			u2 := b2u(r1[2*ox] == m) &^ (u0 | u1)
			u3 := 1 &^ (u0 | u1 | u2)
			gb := math.Float32bits(g)
			d0[2*ox] += math.Float32frombits(gb & -u0)
			d0[2*ox+1] += math.Float32frombits(gb & -u1)
			d1[2*ox] += math.Float32frombits(gb & -u2)
			d1[2*ox+1] += math.Float32frombits(gb & -u3)
		}
	}
}

// b2u is 1 for true, 0 for false (compiled to a flag move, no branch).
func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// argWindowNaN adds g at the first NaN of the 2x2 window at column x0.
func argWindowNaN(r0, r1, d0, d1 []float32, x0 int, g float32) {
	switch {
	case r0[x0] != r0[x0]:
		d0[x0] += g
	case r0[x0+1] != r0[x0+1]:
		d0[x0+1] += g
	case r1[x0] != r1[x0]:
		d1[x0] += g
	default:
		d1[x0+1] += g
	}
}

// maxPool2x2Plane is the forward pass of a 2x2, stride 2 pool over one plane.
func maxPool2x2Plane(src, dst []float32, w, oh, ow int) {
	for oy := 0; oy < oh; oy++ {
		r0 := src[2*oy*w : 2*oy*w+2*ow]
		r1 := src[(2*oy+1)*w : (2*oy+1)*w+2*ow]
		d := dst[oy*ow : (oy+1)*ow]
		for ox := range d {
			d[ox] = max(max(r0[2*ox], r0[2*ox+1]), max(r1[2*ox], r1[2*ox+1]))
		}
	}
}

// argmaxWindow returns the index in plane (row length w) of the first
// element of the k x k window at (y0, x0) equal to its maximum m, the
// element PyTorch routes the gradient to (the first NaN if m is NaN).
func argmaxWindow(plane []float32, w, y0, x0, k int, m float32) int {
	nan := m != m
	for i := 0; i < k; i++ {
		row := (y0+i)*w + x0
		for j, v := range plane[row : row+k] {
			if v == m || nan && v != v {
				return row + j
			}
		}
	}
	panic("engine: max pool output not found in its window") // programming error
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
