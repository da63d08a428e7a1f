package kernels

// Summation order of Dot and SumSq. The products x[i]*y[i] (each rounded to
// float32, never fused with the addition) are added into vecLanes partial
// sums, s[i%vecLanes] += x[i]*y[i], in increasing i; then the partial sums
// are folded pairwise, s[j] += s[j+w] for w = vecLanes/2, ..., 2, 1, and
// s[0] is the result. The order depends only on the length, and every code
// path (assembly or not) follows it, so results are bitwise identical on
// every machine.
const vecLanes = 64

// Axpy computes y[i] += alpha*x[i] for i < len(x), rounding the product
// before the addition (no fused multiply-add, so every code path agrees).
// It panics if len(y) < len(x).
func Axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	n := 0
	if useVecAsm && len(x) >= 32 {
		n = len(x) &^ 31
		axpyAsm(alpha, &x[0], &y[0], n)
	}
	for i := n; i < len(x); i++ {
		y[i] += float32(alpha * x[i])
	}
}

// Dot returns the sum of x[i]*y[i] for i < len(x), in the order described
// at vecLanes. It panics if len(y) < len(x).
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s [vecLanes]float32
	n := 0
	if useVecAsm && len(x) >= vecLanes {
		n = len(x) / vecLanes * vecLanes
		dotAsm(&x[0], &y[0], n/vecLanes, &s)
	} else {
		for ; n+vecLanes <= len(x); n += vecLanes {
			xb := x[n : n+vecLanes : n+vecLanes]
			yb := y[n : n+vecLanes : n+vecLanes]
			for j := range s {
				s[j] += float32(xb[j] * yb[j])
			}
		}
	}
	for i := n; i < len(x); i++ {
		s[i-n] += float32(x[i] * y[i])
	}
	return foldLanes(&s)
}

// SumSq returns the sum of x[i]*x[i], in the same order as Dot(x, x).
func SumSq(x []float32) float32 { return Dot(x, x) }

func foldLanes(s *[vecLanes]float32) float32 {
	for w := vecLanes / 2; w >= 1; w /= 2 {
		for j := 0; j < w; j++ {
			s[j] += s[j+w]
		}
	}
	return s[0]
}
