package optimizers

// adamCoef are one Adam/AdamW tensor step's constants: decay multiplies p
// first (1 - lr*wd for AdamW, else 1), wd is added as wd*p to the gradient
// when coupled is set (Adam with weight decay; all ones or zero: it is the
// assembly's lane mask), w1 = 1-beta1 (< 0.5), b2 and c2 = 1-b2, bc2s =
// sqrt(1-b2^t), negStep = -lr/(1-b1^t).
type adamCoef struct {
	decay, wd, w1, b2, c2, bc2s, eps, negStep float32
	coupled                                   uint32
}

// adamStep is one Adam/AdamW step over a tensor:
// p *= decay; g' = g + wd*p (coupled); m += w1*(g'-m); v = v*b2 + (c2*g')*g';
// p += (negStep*m) / (sqrt(v)/bc2s + eps). The fast body handles whole
// 16-element vectors and agrees bit for bit with adamRange.
func adamStep(w, g, m, v []float32, c *adamCoef) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	nvec := n / 16
	if nvec > 0 {
		adamBody(w, g, m, v, nvec, c)
	}
	adamRange(w, g, m, v, nvec*16, n, c)
}

func adamRange(w, g, m, v []float32, from, to int, c *adamCoef) {
	for j := from; j < to; j++ {
		wj := w[j] * c.decay
		gj := g[j]
		if c.coupled != 0 {
			gj = gj + float32(c.wd*wj)
		}
		mj := m[j] + float32(c.w1*(gj-m[j]))
		vj := float32(v[j]*c.b2) + float32(float32(c.c2*gj)*gj)
		m[j], v[j] = mj, vj
		denom := sqrt32(vj)/c.bc2s + c.eps
		w[j] = wj + float32(c.negStep*mj)/denom
	}
}

// adamGo is the portable body of adamStep over nvec whole vectors.
func adamGo(w, g, m, v []float32, nvec int, c *adamCoef) {
	adamRange(w, g, m, v, 0, nvec*16, c)
}
