package engine

import (
	"fmt"
	"math"
	"sync"

	"github.com/repro-np/repro/engine/kernels"
)

// Convolution runs as im2col + sgemm. The batch is cut into chunks of
// images; for each chunk the patches of every image are unfolded into a
// column matrix col[K, nb*P] (K = C*KH*KW rows, one column per output pixel)
// and one large product W[O,K] * col gives the chunk's outputs. The chunk
// size depends only on the shapes (never on the thread count), so the
// weight-gradient sums, accumulated chunk after chunk in image order, are
// bitwise reproducible.

// convColCap bounds the im2col scratch of one chunk, in floats (4 MB): big
// enough for products with a thousand columns and more, small enough that
// the column matrix is still in cache when the product reads it (measured on
// ResNet-18 b32 and small-cnn b64: 4 MB took 5-10 % less CPU time than 16 or
// 8 MB, 2 MB was alike). Tests lower it to exercise the multi-chunk path.
var convColCap = 1 << 20

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

// convScratch holds the buffers of one conv call and the parallel jobs
// over them. Calls take one from a free list and give it back, so a training
// step allocates nothing in steady state (the job functions are method
// values bound once, not closures made per call), and runs executing side by
// side each use their own. (A sync.Pool would drop them at every garbage
// collection.)
type convScratch struct {
	col, yt []float32

	// Arguments of the jobs below.
	g      convGeom
	x, dst []float32 // im2col source / col2im, scatter, gather destination
	n0, nb int
	vec    []float32 // bias or bias gradient

	relu bool

	im2colJob, col2imJob, scatterJob, gatherJob, epilogueJob, prologueJob func(lo, hi int)
}

var convScratchFree struct {
	sync.Mutex
	list []*convScratch
}

func getConvScratch(g *convGeom) *convScratch {
	convScratchFree.Lock()
	var s *convScratch
	if l := convScratchFree.list; len(l) > 0 {
		s = l[len(l)-1]
		convScratchFree.list = l[:len(l)-1]
	}
	convScratchFree.Unlock()
	if s == nil {
		s = new(convScratch)
		s.im2colJob, s.col2imJob = s.im2colRows, s.col2imPlanes
		s.scatterJob, s.gatherJob = s.scatterRows, s.gatherRows
		s.epilogueJob, s.prologueJob = s.biasReLUPlanes, s.reluBiasGradChannels
	}
	s.g = *g
	return s
}

func putConvScratch(s *convScratch) {
	s.x, s.dst, s.vec, s.relu = nil, nil, nil, false
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
	return conv2d(t, x, w, b, stride, pad, false)
}

// Conv2dReLU: y = relu(Conv2d(x, w, b)) as one op: the ReLU is applied in
// the pass that adds the bias, and its mask in the pass that sums the bias
// gradient. Bitwise equal to ReLU(Conv2d(...)).
func Conv2dReLU(t *Tape, x, w, b *Tensor, stride, pad int) *Tensor {
	return conv2d(t, x, w, b, stride, pad, true)
}

func conv2d(t *Tape, x, w, b *Tensor, stride, pad int, relu bool) *Tensor {
	g := newConvGeom(x, w, stride, pad)
	y := t.AllocNoZero(g.n, g.o, g.oh, g.ow)
	s := getConvScratch(&g)
	for n0 := 0; n0 < g.n; n0 += g.chunkLen {
		nb := min(g.chunkLen, g.n-n0)
		cols := nb * g.p
		col := s.im2col(x.Data, n0, nb)
		if nb == 1 { // the chunk's output is y[n0] itself
			sgemm(false, false, g.o, cols, g.k, 1, w.Data, g.k, col, cols, 0, y.Data[n0*g.o*g.p:], cols)
			continue
		}
		yt := grow(&s.yt, g.o*cols)
		sgemm(false, false, g.o, cols, g.k, 1, w.Data, g.k, col, cols, 0, yt, cols)
		s.scatter(yt, n0, nb, y.Data)
	}
	if b != nil || relu {
		s.dst, s.relu = y.Data, relu
		if b != nil {
			s.vec = b.Data
		}
		parallel(g.n*g.o, s.epilogueJob)
	}
	putConvScratch(s)
	nd := t.record(conv2dBackward, y)
	nd.a, nd.b, nd.c = x, w, b
	nd.ints[0], nd.ints[1] = stride, pad
	if relu {
		nd.ints[2] = 1
	}
	return y
}

// conv2dBackward: after a fused ReLU, dy is first masked in place by y > 0
// (this node produced y, so every reader of y.Grad has run); then
// db[o] += sum over n, p of dy[n,o,p], and per chunk in image order
// dW[O,K] += dYt[O,nb*P] * col^T; dcol = W^T * dYt; dx += col2im(dcol).
func conv2dBackward(nd *node) {
	x, w, b, y := nd.a, nd.b, nd.c, nd.out
	g := newConvGeom(x, w, nd.ints[0], nd.ints[1])
	s := getConvScratch(&g)
	if relu := nd.ints[2] == 1; b != nil || relu {
		s.x, s.dst, s.relu = y.Grad, y.Data, relu
		if b != nil {
			s.vec = b.Grad
		}
		parallel(g.o, s.prologueJob)
	}
	for n0 := 0; n0 < g.n; n0 += g.chunkLen {
		nb := min(g.chunkLen, g.n-n0)
		cols := nb * g.p
		col := s.im2col(x.Data, n0, nb)
		var dyt []float32
		if nb == 1 {
			dyt = y.Grad[n0*g.o*g.p : (n0+1)*g.o*g.p]
		} else {
			dyt = grow(&s.yt, g.o*cols)
			s.gather(y.Grad, n0, nb, dyt)
		}
		sgemm(false, true, g.o, g.k, cols, 1, dyt, cols, col, cols, 1, w.Grad, g.k)
		if x.Grad == nil {
			continue
		}
		// col is no longer needed: reuse it for dcol.
		sgemm(true, false, g.k, cols, g.o, 1, w.Data, g.k, dyt, cols, 0, col, cols)
		s.col2im(col, n0, nb, x.Grad)
	}
	putConvScratch(s)
}

// sameRows reports whether output rows have the input's width at stride 1,
// so that every im2col row of one image is the input plane shifted by a
// constant offset: one contiguous copy instead of one per output row.
func (g *convGeom) sameRows() bool { return g.stride == 1 && g.ow == g.w }

// tapRange returns, for kernel tap (i, j) of a stride-1 convolution with
// OW == W, the offset from output index to input index and the range
// [lo, hi) of output indices oy*OW+ox whose input row is inside the image.
func (g *convGeom) tapRange(i, j int) (off, lo, hi int) {
	oyLo := max(0, g.pad-i)
	oyHi := min(g.oh, g.h+g.pad-i)
	if oyHi < oyLo {
		oyHi = oyLo
	}
	return (i-g.pad)*g.w + j - g.pad, oyLo * g.ow, oyHi * g.ow
}

// clip narrows the output range [lo, hi) of a tap at offset off to the
// indices whose input index lies in the plane; the indices cut off all fall
// in out-of-image columns. The result satisfies lo <= clo <= chi <= hi.
func (g *convGeom) clip(off, lo, hi int) (clo, chi int) {
	clo, chi = max(lo, -off), min(hi, g.h*g.w-off)
	if chi < clo {
		return lo, lo
	}
	return clo, chi
}

// im2col unfolds images n0..n0+nb-1 of x into the scratch column matrix
// col[K, nb*P] and returns it:
// col[(c*KH+i)*KW+j, m*P + oy*OW + ox] = x[n0+m, c, oy*s-pad+i, ox*s-pad+j]
// (zero outside the image). Split over rows: a pure copy.
func (s *convScratch) im2col(x []float32, n0, nb int) []float32 {
	col := grow(&s.col, s.g.k*nb*s.g.p)
	s.x, s.dst, s.n0, s.nb = x, col, n0, nb
	parallel(s.g.k, s.im2colJob)
	return col
}

func (s *convScratch) im2colRows(lo, hi int) {
	g, x, col, n0, nb := &s.g, s.x, s.dst, s.n0, s.nb
	cols, hw, kk := nb*g.p, g.h*g.w, g.kh*g.kw
	for r := lo; r < hi; r++ {
		c, i, j := r/kk, r%kk/g.kw, r%g.kw
		dst := col[r*cols : (r+1)*cols]
		oxLo, oxHi := validRange(g.ow, g.w, g.stride, g.pad, j)
		if g.sameRows() {
			off, plo, phi := g.tapRange(i, j)
			// Copy the whole valid block at once, clipped to the plane;
			// whatever lands in an out-of-image column is cleared after.
			clo, chi := g.clip(off, plo, phi)
			for m := 0; m < nb; m++ {
				src := x[((n0+m)*g.c+c)*hw : ((n0+m)*g.c+c+1)*hw]
				d := dst[m*g.p : (m+1)*g.p]
				clear(d[:clo])
				if clo < chi {
					copy(d[clo:chi], src[clo+off:chi+off])
				}
				clear(d[chi:])
				clearColumns(d[plo:phi], g.ow, oxLo, oxHi)
			}
			continue
		}
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
					row = row[oxLo:oxHi]
					base := oxLo*g.stride - g.pad + j
					for k := range row {
						row[k] = srow[base+k*g.stride]
					}
				}
			}
		}
	}
}

// col2im adds the columns dcol[K, nb*P] back onto the input gradient dx of
// images n0..n0+nb-1, the transpose of im2col. Split over (image, channel)
// planes; each element sums its (i, j) contributions in a fixed order.
// dcol is scratch: its entries for out-of-image taps may be overwritten.
func (s *convScratch) col2im(dcol []float32, n0, nb int, dx []float32) {
	s.x, s.dst, s.n0, s.nb = dcol, dx, n0, nb
	parallel(nb*s.g.c, s.col2imJob)
}

func (s *convScratch) col2imPlanes(lo, hi int) {
	g, dcol, dx, n0, nb := &s.g, s.x, s.dst, s.n0, s.nb
	cols, hw := nb*g.p, g.h*g.w
	for pl := lo; pl < hi; pl++ {
		m, c := pl/g.c, pl%g.c
		dst := dx[((n0+m)*g.c+c)*hw : ((n0+m)*g.c+c+1)*hw]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				r := (c*g.kh+i)*g.kw + j
				src := dcol[r*cols+m*g.p : r*cols+(m+1)*g.p]
				oxLo, oxHi := validRange(g.ow, g.w, g.stride, g.pad, j)
				if g.sameRows() {
					// Zero the out-of-image columns of this block (read by
					// this plane only), then add the block in one pass:
					// the zeros land on other pixels and change nothing.
					off, plo, phi := g.tapRange(i, j)
					clearColumns(src[plo:phi], g.ow, oxLo, oxHi)
					clo, chi := g.clip(off, plo, phi)
					if clo < chi {
						addTo(dst[clo+off:chi+off], src[clo:chi])
					}
					continue
				}
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.stride - g.pad + i
					if iy < 0 || iy >= g.h || oxLo >= oxHi {
						continue
					}
					drow := dst[iy*g.w : (iy+1)*g.w]
					srow := src[oy*g.ow : (oy+1)*g.ow]
					if g.stride == 1 {
						addTo(drow[oxLo-g.pad+j:oxHi-g.pad+j], srow[oxLo:oxHi])
					} else {
						base := oxLo*g.stride - g.pad + j
						for k, v := range srow[oxLo:oxHi] {
							drow[base+k*g.stride] += v
						}
					}
				}
			}
		}
	}
}

// clearColumns zeroes columns [0, lo) and [hi, w) of the rows of length w
// in block (at most a few columns: plain stores beat calls to clear).
func clearColumns(block []float32, w, lo, hi int) {
	if lo == 0 && hi == w {
		return
	}
	for p := 0; p+w <= len(block); p += w {
		row := block[p : p+w : p+w]
		for k := range lo {
			row[k] = 0
		}
		for k := hi; k < w; k++ {
			row[k] = 0
		}
	}
}

// addTo: dst[i] += src[i]. kernels.Axpy with alpha 1 is an exact add.
func addTo(dst, src []float32) { kernels.Axpy(1, src, dst) }

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

// scatter copies yt[O, nb*P] into y[n0+m, o, :] (NCHW).
func (s *convScratch) scatter(yt []float32, n0, nb int, y []float32) {
	s.x, s.dst, s.n0, s.nb = yt, y, n0, nb
	parallel(s.g.o, s.scatterJob)
}

func (s *convScratch) scatterRows(lo, hi int) {
	g, yt, y, n0, nb := &s.g, s.x, s.dst, s.n0, s.nb
	cols := nb * g.p
	for o := lo; o < hi; o++ {
		for m := 0; m < nb; m++ {
			copy(y[((n0+m)*g.o+o)*g.p:((n0+m)*g.o+o+1)*g.p], yt[o*cols+m*g.p:])
		}
	}
}

// gather is the inverse of scatter: dyt[o, m*P+p] = dy[n0+m, o, p].
func (s *convScratch) gather(dy []float32, n0, nb int, dyt []float32) {
	s.x, s.dst, s.n0, s.nb = dy, dyt, n0, nb
	parallel(s.g.o, s.gatherJob)
}

func (s *convScratch) gatherRows(lo, hi int) {
	g, dy, dyt, n0, nb := &s.g, s.x, s.dst, s.n0, s.nb
	cols := nb * g.p
	for o := lo; o < hi; o++ {
		for m := 0; m < nb; m++ {
			copy(dyt[o*cols+m*g.p:o*cols+(m+1)*g.p], dy[((n0+m)*g.o+o)*g.p:])
		}
	}
}

// biasReLUPlanes: y[n,o,p] += b[o], then y = max(y, 0) if s.relu, for
// y = s.dst [N,O,P] and b = s.vec (nil: no bias).
func (s *convScratch) biasReLUPlanes(lo, hi int) {
	g, b, y := &s.g, s.vec, s.dst
	for pl := lo; pl < hi; pl++ {
		row := y[pl*g.p : (pl+1)*g.p]
		if b != nil {
			bv := b[pl%g.o]
			for i := range row {
				row[i] += bv
			}
		}
		if s.relu {
			reluInPlace(row)
		}
	}
}

// reluBiasGradChannels: for dy = s.x [N,O,P], mask dy by y = s.dst > 0 if
// s.relu, then db[o] += sum over n then p of dy[n,o,p] (float64 partial
// sums as batch norm's) for db = s.vec (nil: no bias).
func (s *convScratch) reluBiasGradChannels(lo, hi int) {
	g, db, dy, y := &s.g, s.vec, s.x, s.dst
	for ch := lo; ch < hi; ch++ {
		var sum [4]float64
		for i := 0; i < g.n; i++ {
			plane := dy[(i*g.o+ch)*g.p : (i*g.o+ch+1)*g.p]
			if s.relu {
				reluMaskInPlace(plane, y[(i*g.o+ch)*g.p:])
			}
			if db != nil {
				sum4(&sum, plane)
			}
		}
		if db != nil {
			db[ch] += float32((sum[0] + sum[1]) + (sum[2] + sum[3]))
		}
	}
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

// ForwardReLU returns relu(l(x)) as one op (Conv2dReLU).
func (l *Conv2dLayer) ForwardReLU(t *Tape, x *Tensor) *Tensor {
	return Conv2dReLU(t, x, l.W, l.B, l.Stride, l.Pad)
}

// params appends the layer's parameters under prefix (e.g. "0.").
func (l *Conv2dLayer) params(dst []Param, prefix string) []Param {
	dst = append(dst, Param{prefix + "weight", l.W})
	if l.B != nil {
		dst = append(dst, Param{prefix + "bias", l.B})
	}
	return dst
}
