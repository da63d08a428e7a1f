package engine

import (
	"fmt"
	"math"
	"sync"
)

// Convolution runs as im2col + sgemm. The batch is cut into chunks of
// images; for each chunk the patches of every image are unfolded into a
// column matrix col[K, nb*P] (K = C*KH*KW rows, one column per output pixel)
// and one large product W[O,K] * col gives the chunk's outputs. The chunk
// size depends only on the shapes (never on the thread count), so the
// weight-gradient sums, accumulated chunk after chunk in image order, are
// bitwise reproducible.

// convColCap bounds the im2col scratch of one chunk, in floats (16 MB): big
// enough for products with thousands of columns, small enough that the
// scratch stays modest on ResNet-18's first stage. Tests lower it to
// exercise the multi-chunk path.
var convColCap = 1 << 22

// convGeom is the geometry of one convolution.
type convGeom struct {
	n, c, h, w     int // input [N,C,H,W]
	o, kh, kw      int // weight [O,C,KH,KW]
	stride, pad    int
	oh, ow         int // output spatial size
	k, p, chunkLen int // K = C*KH*KW, P = OH*OW, images per chunk
}

func newConvGeom(x, w *Tensor, stride, pad int) convGeom {
	if len(x.Shape) != 4 || len(w.Shape) != 4 || x.Shape[1] != w.Shape[1] {
		panic(fmt.Sprintf("engine: conv2d of input %v with weight %v", x.Shape, w.Shape)) // programming error
	}
	g := convGeom{n: x.Shape[0], c: x.Shape[1], h: x.Shape[2], w: x.Shape[3],
		o: w.Shape[0], kh: w.Shape[2], kw: w.Shape[3], stride: stride, pad: pad}
	g.oh = (g.h+2*pad-g.kh)/stride + 1
	g.ow = (g.w+2*pad-g.kw)/stride + 1
	if stride < 1 || g.oh < 1 || g.ow < 1 {
		panic(fmt.Sprintf("engine: conv2d of input %v with weight %v, stride %d, padding %d gives no output", x.Shape, w.Shape, stride, pad))
	}
	g.k, g.p = g.c*g.kh*g.kw, g.oh*g.ow
	nb := convColCap / (g.k * g.p)
	nb = max(1, min(nb, g.n))
	chunks := (g.n + nb - 1) / nb
	g.chunkLen = (g.n + chunks - 1) / chunks // equal chunks: no tiny last one
	return g
}

// convScratch holds the column and gathered-output buffers of one conv call.
// Calls take one from a free list and give it back, so a training step
// allocates nothing in steady state, and runs executing side by side each
// use their own. (A sync.Pool would drop them at every garbage collection.)
type convScratch struct{ col, yt []float32 }

var convScratchFree struct {
	sync.Mutex
	list []*convScratch
}

func getConvScratch() *convScratch {
	convScratchFree.Lock()
	defer convScratchFree.Unlock()
	l := convScratchFree.list
	if len(l) == 0 {
		return new(convScratch)
	}
	s := l[len(l)-1]
	convScratchFree.list = l[:len(l)-1]
	return s
}

func putConvScratch(s *convScratch) {
	convScratchFree.Lock()
	convScratchFree.list = append(convScratchFree.list, s)
	convScratchFree.Unlock()
}

func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

// Conv2d: y[N,O,OH,OW] = x[N,C,H,W] (*) w[O,C,KH,KW] + b[O], cross-correlation
// as PyTorch's conv2d, with the given stride and zero padding on every side:
// OH = (H+2*pad-KH)/stride+1, likewise OW. b may be nil.
func Conv2d(t *Tape, x, w, b *Tensor, stride, pad int) *Tensor {
	g := newConvGeom(x, w, stride, pad)
	y := t.AllocNoZero(g.n, g.o, g.oh, g.ow)
	s := getConvScratch()
	for n0 := 0; n0 < g.n; n0 += g.chunkLen {
		nb := min(g.chunkLen, g.n-n0)
		cols := nb * g.p
		col := grow(&s.col, g.k*cols)
		im2col(&g, x.Data, n0, nb, col)
		if nb == 1 { // the chunk's output is y[n0] itself
			sgemm(false, false, g.o, cols, g.k, 1, w.Data, g.k, col, cols, 0, y.Data[n0*g.o*g.p:], cols)
			continue
		}
		yt := grow(&s.yt, g.o*cols)
		sgemm(false, false, g.o, cols, g.k, 1, w.Data, g.k, col, cols, 0, yt, cols)
		scatterChunk(&g, yt, n0, nb, y.Data)
	}
	putConvScratch(s)
	if b != nil {
		addChannelBias(g.n, g.o, g.p, b.Data, y.Data)
	}
	nd := t.record(conv2dBackward, y)
	nd.a, nd.b, nd.c = x, w, b
	nd.ints[0], nd.ints[1] = stride, pad
	return y
}

// conv2dBackward, per chunk in image order:
// dW[O,K] += dYt[O,nb*P] * col^T; dcol = W^T * dYt; dx += col2im(dcol);
// db[o] += sum over n, p of dy[n,o,p].
func conv2dBackward(nd *node) {
	x, w, b, y := nd.a, nd.b, nd.c, nd.out
	g := newConvGeom(x, w, nd.ints[0], nd.ints[1])
	if b != nil {
		channelSumAdd(g.n, g.o, g.p, y.Grad, b.Grad)
	}
	s := getConvScratch()
	for n0 := 0; n0 < g.n; n0 += g.chunkLen {
		nb := min(g.chunkLen, g.n-n0)
		cols := nb * g.p
		col := grow(&s.col, g.k*cols)
		im2col(&g, x.Data, n0, nb, col)
		var dyt []float32
		if nb == 1 {
			dyt = y.Grad[n0*g.o*g.p : (n0+1)*g.o*g.p]
		} else {
			dyt = grow(&s.yt, g.o*cols)
			gatherChunk(&g, y.Grad, n0, nb, dyt)
		}
		sgemm(false, true, g.o, g.k, cols, 1, dyt, cols, col, cols, 1, w.Grad, g.k)
		if x.Grad == nil {
			continue
		}
		// col is no longer needed: reuse it for dcol.
		sgemm(true, false, g.k, cols, g.o, 1, w.Data, g.k, dyt, cols, 0, col, cols)
		col2im(&g, col, n0, nb, x.Grad)
	}
	putConvScratch(s)
}

// im2col unfolds images n0..n0+nb-1 of x into col[K, nb*P]:
// col[(c*KH+i)*KW+j, m*P + oy*OW + ox] = x[n0+m, c, oy*s-pad+i, ox*s-pad+j]
// (zero outside the image). Split over rows: a pure copy.
func im2col(g *convGeom, x []float32, n0, nb int, col []float32) {
	cols, hw, kk := nb*g.p, g.h*g.w, g.kh*g.kw
	parallel(g.k, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			c, i, j := r/kk, r%kk/g.kw, r%g.kw
			dst := col[r*cols : (r+1)*cols]
			oxLo, oxHi := validRange(g.ow, g.w, g.stride, g.pad, j)
			for m := 0; m < nb; m++ {
				src := x[((n0+m)*g.c+c)*hw : ((n0+m)*g.c+c+1)*hw]
				d := dst[m*g.p : (m+1)*g.p]
				for oy := 0; oy < g.oh; oy++ {
					row := d[oy*g.ow : (oy+1)*g.ow]
					iy := oy*g.stride - g.pad + i
					if iy < 0 || iy >= g.h || oxLo >= oxHi {
						clear(row)
						continue
					}
					srow := src[iy*g.w : (iy+1)*g.w]
					clear(row[:oxLo])
					clear(row[oxHi:])
					if g.stride == 1 {
						copy(row[oxLo:oxHi], srow[oxLo-g.pad+j:])
					} else {
						for ox := oxLo; ox < oxHi; ox++ {
							row[ox] = srow[ox*g.stride-g.pad+j]
						}
					}
				}
			}
		}
	})
}

// col2im adds the columns dcol[K, nb*P] back onto the input gradient dx of
// images n0..n0+nb-1, the transpose of im2col. Split over (image, channel)
// planes; each element sums its (i, j) contributions in a fixed order.
func col2im(g *convGeom, dcol []float32, n0, nb int, dx []float32) {
	cols, hw := nb*g.p, g.h*g.w
	parallel(nb*g.c, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			m, c := pl/g.c, pl%g.c
			dst := dx[((n0+m)*g.c+c)*hw : ((n0+m)*g.c+c+1)*hw]
			for i := 0; i < g.kh; i++ {
				for j := 0; j < g.kw; j++ {
					r := (c*g.kh+i)*g.kw + j
					src := dcol[r*cols+m*g.p : r*cols+(m+1)*g.p]
					oxLo, oxHi := validRange(g.ow, g.w, g.stride, g.pad, j)
					for oy := 0; oy < g.oh; oy++ {
						iy := oy*g.stride - g.pad + i
						if iy < 0 || iy >= g.h || oxLo >= oxHi {
							continue
						}
						drow := dst[iy*g.w : (iy+1)*g.w]
						srow := src[oy*g.ow : (oy+1)*g.ow]
						if g.stride == 1 {
							d := drow[oxLo-g.pad+j : oxHi-g.pad+j]
							for k, v := range srow[oxLo:oxHi] {
								d[k] += v
							}
						} else {
							for ox := oxLo; ox < oxHi; ox++ {
								drow[ox*g.stride-g.pad+j] += srow[ox]
							}
						}
					}
				}
			}
		}
	})
}

// validRange returns the output columns [lo,hi) whose input column
// ox*stride-pad+j lies inside [0,w).
func validRange(ow, w, stride, pad, j int) (lo, hi int) {
	// ox*stride >= pad-j  and  ox*stride <= w-1+pad-j
	if d := pad - j; d > 0 {
		lo = (d + stride - 1) / stride
	}
	if e := w - 1 + pad - j; e < 0 {
		hi = 0
	} else {
		hi = min(ow, e/stride+1)
	}
	return lo, max(lo, hi)
}

// scatterChunk copies yt[O, nb*P] into y[n0+m, o, :] (NCHW).
func scatterChunk(g *convGeom, yt []float32, n0, nb int, y []float32) {
	cols := nb * g.p
	parallel(g.o, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			for m := 0; m < nb; m++ {
				copy(y[((n0+m)*g.o+o)*g.p:((n0+m)*g.o+o+1)*g.p], yt[o*cols+m*g.p:])
			}
		}
	})
}

// gatherChunk is the inverse of scatterChunk: dyt[o, m*P+p] = dy[n0+m, o, p].
func gatherChunk(g *convGeom, dy []float32, n0, nb int, dyt []float32) {
	cols := nb * g.p
	parallel(g.o, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			for m := 0; m < nb; m++ {
				copy(dyt[o*cols+m*g.p:o*cols+(m+1)*g.p], dy[((n0+m)*g.o+o)*g.p:])
			}
		}
	})
}

// addChannelBias: y[n,c,p] += b[c] for y[N,C,P].
func addChannelBias(n, c, p int, b, y []float32) {
	parallel(n*c, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			bv := b[pl%c]
			row := y[pl*p : (pl+1)*p]
			for i := range row {
				row[i] += bv
			}
		}
	})
}

// channelSumAdd: db[c] += sum over n then p of dy[n,c,p], split over channels.
func channelSumAdd(n, c, p int, dy, db []float32) {
	parallel(c, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var s float32
			for i := 0; i < n; i++ {
				for _, v := range dy[(i*c+ch)*p : (i*c+ch+1)*p] {
					s += v
				}
			}
			db[ch] += s
		}
	})
}

// Conv2dLayer holds a convolution's weight [out,in,k,k], optional bias [out],
// stride and padding.
type Conv2dLayer struct {
	W, B        *Tensor
	Stride, Pad int
}

// NewConv2d initialises a layer as PyTorch's nn.Conv2d does: weight and bias
// uniform in +-1/sqrt(in*k*k) (kaiming_uniform with a=sqrt(5) reduces to
// this), weight first, from r.
func NewConv2d(in, out, k, stride, pad int, bias bool, r *RNG) *Conv2dLayer {
	l := &Conv2dLayer{W: NewTensor(out, in, k, k), Stride: stride, Pad: pad}
	bound := float32(1 / math.Sqrt(float64(in*k*k)))
	r.Uniform(l.W.Data, -bound, bound)
	if bias {
		l.B = NewTensor(out)
		r.Uniform(l.B.Data, -bound, bound)
	}
	return l
}

// Forward applies the convolution to x[N,in,H,W].
func (l *Conv2dLayer) Forward(t *Tape, x *Tensor) *Tensor {
	return Conv2d(t, x, l.W, l.B, l.Stride, l.Pad)
}

// params appends the layer's parameters under prefix (e.g. "0.").
func (l *Conv2dLayer) params(dst []Param, prefix string) []Param {
	dst = append(dst, Param{prefix + "weight", l.W})
	if l.B != nil {
		dst = append(dst, Param{prefix + "bias", l.B})
	}
	return dst
}
