//go:build !amd64 || noasm

package optimizers

// Without the assembly bodies only the portable kernels exist.
const (
	isaGo = iota
	isaAVX2
	isaAVX512
)

const bestISA = isaGo

var kernelISA = isaGo

func np1Body(g, tr, m, v, mem []float32, nvec int, c *np1Coef, acc *npAcc) {
	np1Go(g, tr, m, v, mem, nvec, c, acc)
}

func np2Body(g, tr, mem, u []float32, bins []uint8, nvec int, c *np2Coef, acc *npAcc) {
	np2Go(g, tr, mem, u, bins, nvec, c, acc)
}

func np3Body(p, u []float32, nvec int, c *np3Coef, acc *npAcc) { np3Go(p, u, nvec, c, acc) }

func adamBody(w, g, m, v []float32, nvec int, c *adamCoef) { adamGo(w, g, m, v, nvec, c) }

func sgdBody(w, g, buf []float32, nvec int, c *sgdCoef) { sgdGo(w, g, buf, nvec, c) }

func hybAdamBody(g, w, bm, bv, u []float32, nvec int, c *hybCoef, acc *npAcc) {
	hybAdamGo(g, w, bm, bv, u, nvec, c, acc)
}

func hybDeltaBody(al, ref []float32, nvec int, c *hybDeltaCoef, acc *npAcc) {
	hybDeltaGo(al, ref, nvec, c, acc)
}

func hybFinishBody(u, al, w []float32, nvec int, c *hybFinCoef, acc *npAcc) {
	hybFinishGo(u, al, w, nvec, c, acc)
}
