package optimizers

import "math"

// The NeuroPlastic step's hot loops as fused kernels over one tensor.
//
// Every kernel has a portable Go body (the *Go functions below) and, on
// amd64, an AVX-512 body in npkernels_amd64.s chosen at run time; the two
// give bitwise-identical results, which TestKernelsMatchPortable checks over
// awkward sizes. To make that possible the kernels fix every order:
//
//   - element-wise values use no fused multiply-add (the Go bodies round
//     each product with an explicit float32 conversion, so no compiler may
//     fuse them), and clamp, min and max use the x86 MINPS/MAXPS rule
//     (x < y ? x : y), which the Go bodies spell out;
//   - a sum runs over 16 lanes, element j going to lane j%16, in float32
//     for a block of npBlock vectors (16 elements each), then each lane is
//     added into a float64 lane accumulator. The vector bodies handle
//     n/16 whole vectors; the Go tail adds the last n%16 elements, one per
//     lane, as a block of its own; laneSum combines the 16 float64 lanes in
//     a fixed tree (8+8, 4+4, 2+2, 1+1).
//
// Float32 lanes within a block keep each partial short (64 terms), and the
// float64 lanes keep the tensor sums accurate to about 1e-7 relative, well
// inside the conformance tolerance.

// npBlock is the number of 16-element vectors summed in float32 before a
// flush into the float64 lanes.
const npBlock = 64

// npAcc holds a kernel's lane accumulators. The assembly bodies rely on
// this layout (offsets 0, 128, 256, 384, 512, 576, 640, 704).
type npAcc struct {
	s64      [4][16]float64
	mn, mx   [16]float32
	cLo, cHi [16]int32
}

func (a *npAcc) reset() {
	*a = npAcc{}
	for l := range a.mn {
		a.mn[l], a.mx[l] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
}

// sum returns the fixed-tree total of float64 lane set k.
func (a *npAcc) sum(k int) float64 { return laneSum(&a.s64[k]) }

func laneSum(s *[16]float64) float64 {
	var t [8]float64
	for l := range 8 {
		t[l] = s[l] + s[l+8]
	}
	for l := range 4 {
		t[l] = t[l] + t[l+4]
	}
	for l := range 2 {
		t[l] = t[l] + t[l+2]
	}
	return t[0] + t[1]
}

// minRule and maxRule are x86 MINPS/MAXPS with x first: on NaN or equal
// values they return y.
func minRule(x, y float32) float32 {
	if x < y {
		return x
	}
	return y
}

func maxRule(x, y float32) float32 {
	if x > y {
		return x
	}
	return y
}

// clampRule clamps like MAXPS(x, lo) then MINPS(., hi); NaN becomes hi.
func clampRule(x, lo, hi float32) float32 { return minRule(maxRule(x, lo), hi) }

// min and max over the lanes, in a fixed tree.
func (a *npAcc) min() float32 {
	m := a.mn
	for w := 8; w >= 1; w /= 2 {
		for l := range w {
			m[l] = minRule(m[l], m[l+w])
		}
	}
	return m[0]
}

func (a *npAcc) max() float32 {
	m := a.mx
	for w := 8; w >= 1; w /= 2 {
		for l := range w {
			m[l] = maxRule(m[l], m[l+w])
		}
	}
	return m[0]
}

func (a *npAcc) counts() (lo, hi int) {
	for l := range a.cLo {
		lo += int(a.cLo[l])
		hi += int(a.cHi[l])
	}
	return lo, hi
}

// lanes32 are the float32 block accumulators of the portable bodies.
type lanes32 [4][16]float32

// flush adds the first k float32 lane sets into the float64 lanes and
// clears them.
func (s *lanes32) flush(a *npAcc, k int) {
	for i := range k {
		for l := range 16 {
			a.s64[i][l] += float64(s[i][l])
			s[i][l] = 0
		}
	}
}

// np1Coef are pass 1's constants: the trace, momentum and variance decays
// and their complements, and eps.
type np1Coef struct {
	trD, trC, mD, mC, vD, vC, eps float32
}

// np1 is pass 1 over one tensor: trace = trD*trace + trC*|g|,
// m = m*mD + mC*g, v = v*vD + (vC*g)*g, and, when mem is not nil,
// mem = |m| / (sqrt(v) + eps). Sums: 0 |g|, 1 g*g, 2 trace, 3 mem (the
// last two only with mem).
func np1(g, tr, m, v, mem []float32, c *np1Coef, acc *npAcc) {
	n := len(g)
	tr, m, v = tr[:n], m[:n], v[:n]
	full := mem != nil
	if full {
		mem = mem[:n]
	}
	nvec := n / 16
	if nvec > 0 {
		np1Body(g, tr, m, v, mem, nvec, c, acc)
	}
	var s lanes32
	np1Range(g, tr, m, v, mem, nvec*16, n, c, &s)
	s.flush(acc, 4)
}

func np1Range(g, tr, m, v, mem []float32, from, to int, c *np1Coef, s *lanes32) {
	for j := from; j < to; j++ {
		l := j % 16
		gj := g[j]
		a := abs32(gj)
		tj := float32(c.trD*tr[j]) + float32(c.trC*a)
		mj := float32(m[j]*c.mD) + float32(c.mC*gj)
		vj := float32(v[j]*c.vD) + float32(float32(c.vC*gj)*gj)
		tr[j], m[j], v[j] = tj, mj, vj
		s[0][l] += a
		s[1][l] += float32(gj * gj)
		if mem != nil {
			x := abs32(mj) / (sqrt32(vj) + c.eps)
			mem[j] = x
			s[2][l] += tj
			s[3][l] += x
		}
	}
}

// np1Go is the portable body of np1 over nvec whole vectors.
func np1Go(g, tr, m, v, mem []float32, nvec int, c *np1Coef, acc *npAcc) {
	var s lanes32
	for b := 0; b < nvec; b += npBlock {
		np1Range(g, tr, m, v, mem, b*16, min(b+npBlock, nvec)*16, c, &s)
		s.flush(acc, 4)
	}
}

// np2Coef are pass 2's constants: the reciprocals of the three signal
// means plus eps, the fusion weights, the alpha clamp, the gate times
// plasticity_scale, the histogram scale (bins per unit alpha) and the
// saturation thresholds as float32 (tLo the largest float32 <= the float64
// threshold, tHi the smallest >=, so float32 comparisons agree with the
// float64 ones).
//
// alphaOut (all ones or zero: the assembly's store mask) makes the kernel
// store alpha instead of the update, for the hybrid bases.
type np2Coef struct {
	dg, dt, dm, wa, wg, wm, lo, hi, gs, hScale, tLo, tHi float32
	alphaOut                                             uint32
}

// binOut marks an alpha outside [min_alpha, max_alpha] (or NaN): not
// counted in the histogram.
const binOut = 64

// np2 is pass 2 of the classic, parameterwise, controller-free modes over
// one tensor. With tr and mem (rule_based): a = clamp(|g|*dg),
// af = clamp(wa*(tr*dt) + wg*|g|*dg + wm*(mem*dm)), alpha = a + gs*(af-a),
// delta = (alpha-a)*g, u = a*g + delta. Without (grad-only): alpha = a,
// u = a*g (alpha itself with alphaOut). bins gets each alpha's histogram bin (binOut outside the range).
// Sums: 0 alpha, 1 alpha^2, 2 u^2, 3 delta^2; lane min and max of alpha;
// counts of alpha <= tLo and >= tHi.
func np2(g, tr, mem, u []float32, bins []uint8, c *np2Coef, acc *npAcc) {
	n := len(g)
	u, bins = u[:n], bins[:n]
	if mem != nil {
		tr, mem = tr[:n], mem[:n]
	}
	nvec := n / 16
	if nvec > 0 {
		np2Body(g, tr, mem, u, bins, nvec, c, acc)
	}
	var s lanes32
	np2Range(g, tr, mem, u, bins, nvec*16, n, c, &s, acc)
	s.flush(acc, 4)
}

func np2Range(g, tr, mem, u []float32, bins []uint8, from, to int, c *np2Coef, s *lanes32, acc *npAcc) {
	for j := from; j < to; j++ {
		l := j % 16
		gj := g[j]
		gsig := float32(abs32(gj) * c.dg)
		a := clampRule(gsig, c.lo, c.hi)
		alpha := a
		if mem != nil {
			f := float32(float32(c.wa*float32(tr[j]*c.dt))+float32(c.wg*gsig)) + float32(c.wm*float32(mem[j]*c.dm))
			af := clampRule(f, c.lo, c.hi)
			alpha = a + float32(c.gs*(af-a))
			delta := float32((alpha - a) * gj)
			u[j] = float32(a*gj) + delta
			s[3][l] += float32(delta * delta)
		} else {
			u[j] = a * gj
		}
		s[0][l] += alpha
		s[1][l] += float32(alpha * alpha)
		s[2][l] += float32(u[j] * u[j])
		acc.mn[l] = minRule(alpha, acc.mn[l])
		acc.mx[l] = maxRule(alpha, acc.mx[l])
		if alpha <= c.tLo {
			acc.cLo[l]++
		}
		if alpha >= c.tHi {
			acc.cHi[l]++
		}
		b := uint8(binOut)
		if alpha >= c.lo && alpha <= c.hi {
			b = uint8(min(int32(float32(alpha-c.lo)*c.hScale), binOut-1))
		}
		bins[j] = b
		if c.alphaOut != 0 {
			u[j] = alpha
		}
	}
}

// np2Go is the portable body of np2 over nvec whole vectors.
func np2Go(g, tr, mem, u []float32, bins []uint8, nvec int, c *np2Coef, acc *npAcc) {
	var s lanes32
	for b := 0; b < nvec; b += npBlock {
		np2Range(g, tr, mem, u, bins, b*16, min(b+npBlock, nvec)*16, c, &s, acc)
		s.flush(acc, 4)
	}
}

// histogram adds the bins' counts (binOut excluded) to hist. Four
// interleaved sub-histograms keep repeated bins off one dependency chain.
func histogram(bins []uint8, hist *[64]float64) {
	var h [4][binOut + 1]uint32
	j := 0
	for ; j+4 <= len(bins); j += 4 {
		b := bins[j : j+4 : j+4]
		h[0][b[0]]++
		h[1][b[1]]++
		h[2][b[2]]++
		h[3][b[3]]++
	}
	for ; j < len(bins); j++ {
		h[0][bins[j]]++
	}
	for k := range hist {
		if c := h[0][k] + h[1][k] + h[2][k] + h[3][k]; c != 0 {
			hist[k] += float64(c)
		}
	}
}

// np3Coef are the final pass's constants: the norm cap scale, the
// homeostatic gain and -lr_eff.
type np3Coef struct {
	s1, gain, neg float32
}

// np3 applies p = p + neg*((u*s1)*gain). Sum 0 is p^2 before the update.
func np3(p, u []float32, c *np3Coef, acc *npAcc) {
	n := len(p)
	u = u[:n]
	nvec := n / 16
	if nvec > 0 {
		np3Body(p, u, nvec, c, acc)
	}
	var s lanes32
	np3Range(p, u, nvec*16, n, c, &s)
	s.flush(acc, 1)
}

func np3Range(p, u []float32, from, to int, c *np3Coef, s *lanes32) {
	for j := from; j < to; j++ {
		l := j % 16
		pj := p[j]
		s[0][l] += float32(pj * pj)
		x := float32(float32(u[j]*c.s1) * c.gain)
		p[j] = pj + float32(c.neg*x)
	}
}

// np3Go is the portable body of np3 over nvec whole vectors.
func np3Go(p, u []float32, nvec int, c *np3Coef, acc *npAcc) {
	var s lanes32
	for b := 0; b < nvec; b += npBlock {
		np3Range(p, u, b*16, min(b+npBlock, nvec)*16, c, &s)
		s.flush(acc, 1)
	}
}

// below32 is the largest float32 <= x, above32 the smallest >= x.
func below32(x float64) float32 {
	f := float32(x)
	if float64(f) > x {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

func above32(x float64) float32 {
	f := float32(x)
	if float64(f) < x {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}

// hybCoef are the adamw hybrid base's constants: beta1 and 1-beta1, beta2
// and 1-beta2, the bias corrections and base_eps.
type hybCoef struct {
	b1, c1, b2, c2, d1, d2, beps float32
}

// hybAdamBase is the adamw hybrid base over one tensor:
// bm = bm*b1 + c1*g, bv = bv*b2 + (c2*g)*g,
// u = (bm/d1) / (sqrt(bv/d2) + beps). Sums: 0 u^2, 1 p^2.
func hybAdamBase(g, w, bm, bv, u []float32, c *hybCoef, acc *npAcc) {
	n := len(g)
	w, bm, bv, u = w[:n], bm[:n], bv[:n], u[:n]
	nvec := n / 16
	if nvec > 0 {
		hybAdamBody(g, w, bm, bv, u, nvec, c, acc)
	}
	var s lanes32
	hybAdamRange(g, w, bm, bv, u, nvec*16, n, c, &s)
	s.flush(acc, 2)
}

func hybAdamRange(g, w, bm, bv, u []float32, from, to int, c *hybCoef, s *lanes32) {
	for j := from; j < to; j++ {
		l := j % 16
		gj := g[j]
		mj := float32(bm[j]*c.b1) + float32(c.c1*gj)
		vj := float32(bv[j]*c.b2) + float32(float32(c.c2*gj)*gj)
		bm[j], bv[j] = mj, vj
		base := (mj / c.d1) / (sqrt32(vj/c.d2) + c.beps)
		u[j] = base
		s[0][l] += float32(base * base)
		s[1][l] += float32(w[j] * w[j])
	}
}

// hybAdamGo is the portable body of hybAdamBase over nvec whole vectors.
func hybAdamGo(g, w, bm, bv, u []float32, nvec int, c *hybCoef, acc *npAcc) {
	var s lanes32
	for b := 0; b < nvec; b += npBlock {
		hybAdamRange(g, w, bm, bv, u, b*16, min(b+npBlock, nvec)*16, c, &s)
		s.flush(acc, 2)
	}
}

// hybDeltaCoef: delta = kf * (((alpha-1)*t) * (ref/dv)), with t the trust
// factor (1 otherwise) and dv the momentum bias correction (1 otherwise).
type hybDeltaCoef struct {
	kf, t, dv float32
}

// hybDelta overwrites al (alpha) with the hybrid plasticity delta. Sum 0
// is delta^2.
func hybDelta(al, ref []float32, c *hybDeltaCoef, acc *npAcc) {
	n := len(al)
	ref = ref[:n]
	nvec := n / 16
	if nvec > 0 {
		hybDeltaBody(al, ref, nvec, c, acc)
	}
	var s lanes32
	hybDeltaRange(al, ref, nvec*16, n, c, &s)
	s.flush(acc, 1)
}

func hybDeltaRange(al, ref []float32, from, to int, c *hybDeltaCoef, s *lanes32) {
	for j := from; j < to; j++ {
		l := j % 16
		x := c.kf * float32(float32(float32(al[j]-1)*c.t)*float32(ref[j]/c.dv))
		al[j] = x
		s[0][l] += float32(x * x)
	}
}

func hybDeltaGo(al, ref []float32, nvec int, c *hybDeltaCoef, acc *npAcc) {
	var s lanes32
	for b := 0; b < nvec; b += npBlock {
		hybDeltaRange(al, ref, b*16, min(b+npBlock, nvec)*16, c, &s)
		s.flush(acc, 1)
	}
}

// hybFinCoef: the delta's cap scale cs (0 without modulation), and the
// adamw base's decoupled decay (wdMask all ones or zero, the assembly's
// lane mask; decay = -lr_eff*wd).
type hybFinCoef struct {
	cs, wdf, decay float32
	wdMask         uint32
}

// hybFinish finishes the hybrid update: x = delta*cs; with wdMask the
// parameter decays, p += decay*p; u += x. Sums: 0 u^2, 1 x^2, 2 (wdf*p)^2.
func hybFinish(u, al, w []float32, c *hybFinCoef, acc *npAcc) {
	n := len(u)
	al, w = al[:n], w[:n]
	nvec := n / 16
	if nvec > 0 {
		hybFinishBody(u, al, w, nvec, c, acc)
	}
	var s lanes32
	hybFinishRange(u, al, w, nvec*16, n, c, &s)
	s.flush(acc, 3)
}

func hybFinishRange(u, al, w []float32, from, to int, c *hybFinCoef, s *lanes32) {
	for j := from; j < to; j++ {
		l := j % 16
		x := al[j] * c.cs
		if c.wdMask != 0 {
			pj := w[j]
			term := float32(c.wdf * pj)
			s[2][l] += float32(term * term)
			w[j] = pj + float32(c.decay*pj)
		}
		y := u[j] + x
		u[j] = y
		s[0][l] += float32(y * y)
		s[1][l] += float32(x * x)
	}
}

func hybFinishGo(u, al, w []float32, nvec int, c *hybFinCoef, acc *npAcc) {
	var s lanes32
	for b := 0; b < nvec; b += npBlock {
		hybFinishRange(u, al, w, b*16, min(b+npBlock, nvec)*16, c, &s)
		s.flush(acc, 3)
	}
}
