package optimizers

// sgdCoef are one SGD tensor step's constants. coupled, notFirst and
// nesterov are all ones or zero (the assembly's lane masks): add wd*p to
// the gradient; blend the momentum buffer (not its first step); Nesterov.
type sgdCoef struct {
	wd, mom, negLR              float32
	coupled, notFirst, nesterov uint32
}

// sgdStep is one SGD step over a tensor (buf nil without momentum):
// d = g + wd*p (coupled); buf = notFirst ? buf*mom + d : d;
// d = nesterov ? d + mom*buf : buf; p += negLR*d. The fast body handles
// whole 16-element vectors and agrees bit for bit with sgdRange.
func sgdStep(w, g, buf []float32, c *sgdCoef) {
	n := len(w)
	g = g[:n]
	if buf != nil {
		buf = buf[:n]
	}
	nvec := n / 16
	if nvec > 0 {
		sgdBody(w, g, buf, nvec, c)
	}
	sgdRange(w, g, buf, nvec*16, n, c)
}

func sgdRange(w, g, buf []float32, from, to int, c *sgdCoef) {
	for j := from; j < to; j++ {
		wj, d := w[j], g[j]
		if c.coupled != 0 {
			d = d + float32(c.wd*wj)
		}
		if buf != nil {
			b := d
			if c.notFirst != 0 {
				b = float32(buf[j]*c.mom) + d
			}
			buf[j] = b
			if c.nesterov != 0 {
				d = d + float32(c.mom*b)
			} else {
				d = b
			}
		}
		w[j] = wj + float32(c.negLR*d)
	}
}

// sgdGo is the portable body of sgdStep over nvec whole vectors.
func sgdGo(w, g, buf []float32, nvec int, c *sgdCoef) {
	sgdRange(w, g, buf, 0, nvec*16, c)
}
