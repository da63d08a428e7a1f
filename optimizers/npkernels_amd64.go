//go:build amd64 && !noasm

package optimizers

import "golang.org/x/sys/cpu"

// Kernel instruction sets, in increasing order.
const (
	isaGo = iota
	isaAVX2
	isaAVX512
)

// bestISA is the best kernel set this CPU runs: AVX-512 for every kernel,
// AVX2 for the NeuroPlastic passes np1, np2 and np3 (the rest then use
// the portable bodies).
var bestISA = func() int {
	switch {
	case cpu.X86.HasAVX512F:
		return isaAVX512
	case cpu.X86.HasAVX2:
		return isaAVX2
	}
	return isaGo
}()

// kernelISA selects the kernel bodies (npkernels_amd64.s); tests lower it
// to compare every set against the portable bodies.
var kernelISA = bestISA

//go:noescape
func np1FullAVX512(grad, tr, m, v, mem *float32, nvec int, c *np1Coef, acc *npAcc)

//go:noescape
func np1GradAVX512(grad, tr, m, v *float32, nvec int, c *np1Coef, acc *npAcc)

//go:noescape
func np2FullAVX512(grad, tr, mem, u *float32, bins *uint8, nvec int, c *np2Coef, acc *npAcc)

//go:noescape
func np2GradAVX512(grad, u *float32, bins *uint8, nvec int, c *np2Coef, acc *npAcc)

//go:noescape
func np3AVX512(p, u *float32, nvec int, c *np3Coef, acc *npAcc)

// The bodies need every slice to hold at least nvec*16 elements.

func np1Body(g, tr, m, v, mem []float32, nvec int, c *np1Coef, acc *npAcc) {
	if kernelISA == isaGo {
		np1Go(g, tr, m, v, mem, nvec, c, acc)
		return
	}
	k := nvec*16 - 1
	_, _, _, _ = g[k], tr[k], m[k], v[k]
	switch {
	case mem != nil && kernelISA == isaAVX512:
		_ = mem[k]
		np1FullAVX512(&g[0], &tr[0], &m[0], &v[0], &mem[0], nvec, c, acc)
	case mem != nil:
		_ = mem[k]
		np1FullAVX2(&g[0], &tr[0], &m[0], &v[0], &mem[0], nvec, c, acc)
	case kernelISA == isaAVX512:
		np1GradAVX512(&g[0], &tr[0], &m[0], &v[0], nvec, c, acc)
	default:
		np1GradAVX2(&g[0], &tr[0], &m[0], &v[0], nvec, c, acc)
	}
}

func np2Body(g, tr, mem, u []float32, bins []uint8, nvec int, c *np2Coef, acc *npAcc) {
	if kernelISA == isaGo {
		np2Go(g, tr, mem, u, bins, nvec, c, acc)
		return
	}
	k := nvec*16 - 1
	_, _, _ = g[k], u[k], bins[k]
	switch {
	case mem != nil && kernelISA == isaAVX512:
		_, _ = tr[k], mem[k]
		np2FullAVX512(&g[0], &tr[0], &mem[0], &u[0], &bins[0], nvec, c, acc)
	case mem != nil:
		_, _ = tr[k], mem[k]
		np2FullAVX2(&g[0], &tr[0], &mem[0], &u[0], &bins[0], nvec, c, acc)
	case kernelISA == isaAVX512:
		np2GradAVX512(&g[0], &u[0], &bins[0], nvec, c, acc)
	default:
		np2GradAVX2(&g[0], &u[0], &bins[0], nvec, c, acc)
	}
}

func np3Body(p, u []float32, nvec int, c *np3Coef, acc *npAcc) {
	if kernelISA == isaGo {
		np3Go(p, u, nvec, c, acc)
		return
	}
	k := nvec*16 - 1
	_, _ = p[k], u[k]
	if kernelISA == isaAVX512 {
		np3AVX512(&p[0], &u[0], nvec, c, acc)
	} else {
		np3AVX2(&p[0], &u[0], nvec, c, acc)
	}
}

//go:noescape
func np1FullAVX2(grad, tr, m, v, mem *float32, nvec int, c *np1Coef, acc *npAcc)

//go:noescape
func np1GradAVX2(grad, tr, m, v *float32, nvec int, c *np1Coef, acc *npAcc)

//go:noescape
func np2FullAVX2(grad, tr, mem, u *float32, bins *uint8, nvec int, c *np2Coef, acc *npAcc)

//go:noescape
func np2GradAVX2(grad, u *float32, bins *uint8, nvec int, c *np2Coef, acc *npAcc)

//go:noescape
func np3AVX2(p, u *float32, nvec int, c *np3Coef, acc *npAcc)

//go:noescape
func adamAVX512(w, grad, m, v *float32, nvec int, c *adamCoef)

func adamBody(w, g, m, v []float32, nvec int, c *adamCoef) {
	if kernelISA != isaAVX512 {
		adamGo(w, g, m, v, nvec, c)
		return
	}
	k := nvec*16 - 1
	_, _, _, _ = w[k], g[k], m[k], v[k]
	adamAVX512(&w[0], &g[0], &m[0], &v[0], nvec, c)
}

//go:noescape
func sgdAVX512(w, grad *float32, nvec int, c *sgdCoef)

//go:noescape
func sgdMomAVX512(w, grad, buf *float32, nvec int, c *sgdCoef)

func sgdBody(w, g, buf []float32, nvec int, c *sgdCoef) {
	if kernelISA != isaAVX512 {
		sgdGo(w, g, buf, nvec, c)
		return
	}
	k := nvec*16 - 1
	_, _ = w[k], g[k]
	if buf == nil {
		sgdAVX512(&w[0], &g[0], nvec, c)
		return
	}
	_ = buf[k]
	sgdMomAVX512(&w[0], &g[0], &buf[0], nvec, c)
}

//go:noescape
func hybAdamAVX512(grad, w, bm, bv, u *float32, nvec int, c *hybCoef, acc *npAcc)

func hybAdamBody(g, w, bm, bv, u []float32, nvec int, c *hybCoef, acc *npAcc) {
	if kernelISA != isaAVX512 {
		hybAdamGo(g, w, bm, bv, u, nvec, c, acc)
		return
	}
	k := nvec*16 - 1
	_, _, _, _, _ = g[k], w[k], bm[k], bv[k], u[k]
	hybAdamAVX512(&g[0], &w[0], &bm[0], &bv[0], &u[0], nvec, c, acc)
}

//go:noescape
func hybDeltaAVX512(al, ref *float32, nvec int, c *hybDeltaCoef, acc *npAcc)

//go:noescape
func hybFinishAVX512(u, al, w *float32, nvec int, c *hybFinCoef, acc *npAcc)

func hybDeltaBody(al, ref []float32, nvec int, c *hybDeltaCoef, acc *npAcc) {
	if kernelISA != isaAVX512 {
		hybDeltaGo(al, ref, nvec, c, acc)
		return
	}
	k := nvec*16 - 1
	_, _ = al[k], ref[k]
	hybDeltaAVX512(&al[0], &ref[0], nvec, c, acc)
}

func hybFinishBody(u, al, w []float32, nvec int, c *hybFinCoef, acc *npAcc) {
	if kernelISA != isaAVX512 {
		hybFinishGo(u, al, w, nvec, c, acc)
		return
	}
	k := nvec*16 - 1
	_, _, _ = u[k], al[k], w[k]
	hybFinishAVX512(&u[0], &al[0], &w[0], nvec, c, acc)
}
