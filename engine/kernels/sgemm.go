package kernels

import (
	"fmt"
	"unsafe"
)

// A microKernel computes one mr x nr tile of C from packed panels of A
// (k x mr, p-major: a[p*mr+i]) and B (k x nr: b[p*nr+j]):
// acc = sum over p in increasing order of a[p*mr+i]*b[p*nr+j], then
// c[i*ldc+j] = alpha*acc if beta == 0 (C not read), else beta*c + alpha*acc.
type microKernel struct {
	name   string
	mr, nr int
	fn     func(k int, a, b, c *float32, ldc int, alpha, beta float32)
	// narrow, if set, is a taller and narrower tile of the same arithmetic,
	// used when n is at most its nr (output layers with few classes).
	narrow *microKernel
}

// Cache blocking. kcMax bounds the K block: an mr x kc sliver of A stays in
// L1 while a kc x nc panel of B stays in L2. Only the K blocking affects the
// result bits (through kcFor, a function of k alone); mc and nc only move
// work around.
//
// Measured on Zen 4 (1 MB L2, 32 KB L1d) with TestTuneCPU: kc in 256..512
// and nc in 256..1024 are all within a few percent; these were best overall.
const (
	kcMax = 256
	mcMax = 384
	ncMax = 512
)

// minWorkPerThread is the number of multiply-adds below which a product is
// not worth handing to another thread.
const minWorkPerThread = 1 << 19

var (
	kernelList = kernelsAvailable()
	active     = kernelList[0]
)

// PeakInfo names the micro-kernel Sgemm uses on this machine, for example
// "avx512 12x32".
func PeakInfo() string { return fmt.Sprintf("%s %dx%d", active.name, active.mr, active.nr) }

// kcFor returns the K block length for a product of inner dimension k: the
// K range is cut into equal blocks of at most kcMax.
func kcFor(k int) int {
	nb := (k + kcMax - 1) / kcMax
	return (k + nb - 1) / nb
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C where op(X) is X or X^T,
// op(A) is m x k, op(B) is k x n and C is m x n, all row-major with row
// strides lda, ldb and ldc. With beta == 0, C is overwritten and its old
// contents (even NaNs) are ignored. See the package comment for the
// determinism guarantee.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(active, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Threads())
}

func sgemmWith(kern *microKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, nthreads int) {
	if m <= 0 || n <= 0 {
		return
	}
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if beta == 0 {
		beta = 0 // turns -0 into +0, which the kernels test by its bits
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if kern.narrow != nil && n <= kern.narrow.nr {
		kern = kern.narrow
	}
	g := gemmJob{
		kern: kern, transA: transA, transB: transB, m: m, n: n, k: k,
		alpha: alpha, beta: beta, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
	}
	t := nthreads
	if w := m * n * k / minWorkPerThread; w < t {
		t = w
	}
	if t > 1 {
		t = g.planSplit(t)
	}
	if t <= 1 {
		g.splitM, g.tiles = true, (m+kern.mr-1)/kern.mr
		g.part(0, 1)
		return
	}
	bt := batchPool.get()
	bt.kind = jobGemm
	bt.g = g
	bt.run(t)
	bt.g = gemmJob{}
	batchPool.put(bt)
}

func checkArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	check := func(name string, x []float32, rows, cols, ld int) {
		if ld < cols || ld < 1 {
			panic(fmt.Sprintf("kernels: Sgemm: ld%s = %d < %d columns", name, ld, cols))
		}
		if rows > 0 && cols > 0 && len(x) < (rows-1)*ld+cols {
			panic(fmt.Sprintf("kernels: Sgemm: len(%s) = %d, need %d for %dx%d with stride %d", name, len(x), (rows-1)*ld+cols, rows, cols, ld))
		}
	}
	check("a", a, ar, ac, lda)
	check("b", b, br, bc, ldb)
	check("c", c, m, n, ldc)
}

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// gemmJob is one Sgemm call; part p of t computes a band of C's rows
// (splitM) or columns, made of whole tiles.
type gemmJob struct {
	kern           *microKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	c              []float32
	ldc            int

	splitM bool
	tiles  int // tiles along the split dimension
}

// planSplit chooses the dimension to split and the number of parts for t
// threads. Parts are claimed dynamically, so more parts than threads
// balance the load when a core is shared with other work; each extra part
// costs one more packing of the operand it does not split, so it is taken
// only when the estimate says it costs next to nothing.
func (g *gemmJob) planSplit(t int) int {
	mr, nr := g.kern.mr, g.kern.nr
	tm, tn := (g.m+mr-1)/mr, (g.n+nr-1)/nr
	// Estimated cycles: 16 multiply-adds per cycle in the kernel, about half
	// a cycle per packed element.
	const packCost = 0.5
	makespan := func(tiles, parts, tileW, otherW, dup int) float64 {
		per := (tiles + parts - 1) / parts
		part := float64(per*tileW)*float64(otherW)*float64(g.k)/16 +
			packCost*float64(g.k)*float64(dup+per*tileW)
		return float64((parts+t-1)/t) * part
	}
	type plan struct {
		splitM      bool
		tiles, part int
		cost        float64
	}
	var plans []plan
	var buf [16]plan
	plans = buf[:0]
	for p := t; p <= 4*t; p += t {
		if p <= tm || p == t {
			pm := min(p, tm)
			plans = append(plans, plan{true, tm, pm, makespan(tm, pm, mr, tn*nr, g.n)})
		}
		if p <= tn || p == t {
			pn := min(p, tn)
			plans = append(plans, plan{false, tn, pn, makespan(tn, pn, nr, tm*mr, g.m)})
		}
	}
	best := plans[0]
	for _, pl := range plans[1:] {
		if pl.cost < best.cost {
			best = pl
		}
	}
	choice := best
	for _, pl := range plans {
		if pl.cost <= 1.05*best.cost && pl.part > choice.part {
			choice = pl
		}
	}
	g.splitM, g.tiles = choice.splitM, choice.tiles
	return choice.part
}

func (g *gemmJob) part(p, t int) {
	i0, i1, j0, j1 := 0, g.m, 0, g.n
	lo, hi := p*g.tiles/t, (p+1)*g.tiles/t
	if g.splitM {
		i0, i1 = lo*g.kern.mr, min(hi*g.kern.mr, g.m)
	} else {
		j0, j1 = lo*g.kern.nr, min(hi*g.kern.nr, g.n)
	}
	if i0 >= i1 || j0 >= j1 {
		return
	}
	buf := bufPool.get()
	g.block(i0, i1, j0, j1, buf)
	bufPool.put(buf)
}

// packBuf holds one thread's packed panels.
type packBuf struct {
	a   []float32
	b   []float32
	tmp [maxTile]float32
}

const maxTile = 16 * 64 // no kernel tile is larger

var bufPool = newFreeList(64, func() *packBuf {
	return &packBuf{
		a: make([]float32, (mcMax+32)*kcMax),
		b: make([]float32, kcMax*(ncMax+64)),
	}
})

// block computes C[i0:i1, j0:j1] with Goto/BLIS blocking: for each nc
// column panel and kc block of K, pack op(B) into nr-wide slivers; for each
// mc row block pack op(A) into mr-tall slivers; then run the micro-kernel
// over the tiles, edge tiles through a zero-padded scratch tile.
func (g *gemmJob) block(i0, i1, j0, j1 int, buf *packBuf) {
	mr, nr := g.kern.mr, g.kern.nr
	kc0 := kcFor(g.k)
	mcb := mcMax / mr * mr
	ncb := ncMax / nr * nr
	for jc := j0; jc < j1; jc += ncb {
		nc := min(ncb, j1-jc)
		ncPad := (nc + nr - 1) / nr * nr
		for pc := 0; pc < g.k; pc += kc0 {
			kc := min(kc0, g.k-pc)
			beta := g.beta
			if pc > 0 {
				beta = 1
			}
			packB(buf.b[:kc*ncPad], g.b, g.ldb, g.transB, pc, kc, jc, nc, nr)
			for ic := i0; ic < i1; ic += mcb {
				mc := min(mcb, i1-ic)
				mcPad := (mc + mr - 1) / mr * mr
				packA(buf.a[:kc*mcPad], g.a, g.lda, g.transA, ic, mc, pc, kc, mr)
				g.tilesOf(buf, ic, mc, jc, nc, kc, beta)
			}
		}
	}
}

func (g *gemmJob) tilesOf(buf *packBuf, ic, mc, jc, nc, kc int, beta float32) {
	mr, nr := g.kern.mr, g.kern.nr
	fn := g.kern.fn
	c, ldc := g.c, g.ldc
	for ir := 0; ir < mc; ir += mr {
		ap := &buf.a[ir*kc]
		rows := min(mr, mc-ir)
		for jr := 0; jr < nc; jr += nr {
			bp := &buf.b[jr*kc]
			cols := min(nr, nc-jr)
			ci := (ic+ir)*ldc + jc + jr
			if rows == mr && cols == nr {
				_ = c[ci+(mr-1)*ldc+nr-1] // the whole tile is in bounds
				fn(kc, ap, bp, &c[ci], ldc, g.alpha, beta)
				continue
			}
			// Edge tile: same kernel on a scratch tile, then copy back the
			// valid part.
			t := buf.tmp[:mr*nr]
			if beta != 0 {
				for i := 0; i < rows; i++ {
					copy(t[i*nr:i*nr+cols], c[ci+i*ldc:ci+i*ldc+cols])
				}
			}
			fn(kc, ap, bp, &t[0], nr, g.alpha, beta)
			for i := 0; i < rows; i++ {
				copy(c[ci+i*ldc:ci+i*ldc+cols], t[i*nr:i*nr+cols])
			}
		}
	}
}

func unsafeSlice(p *float32, n int) []float32 { return unsafe.Slice(p, n) }
