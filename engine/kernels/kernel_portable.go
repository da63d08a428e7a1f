package kernels

// Tile shape of the portable kernel.
const portMR, portNR = 4, 16

var portableKernel = &microKernel{name: "portable", mr: portMR, nr: portNR, fn: kernelPortable}

// kernelPortable is the pure-Go micro-kernel, with the same contract as the
// assembly ones: acc[i][j] = sum over p in increasing order of
// a[p*mr+i]*b[p*nr+j] (each product rounded, then added), then
// c[i*ldc+j] = alpha*acc when beta == 0 (c not read), else
// beta*c + alpha*acc.
func kernelPortable(k int, a, b, c *float32, ldc int, alpha, beta float32) {
	var acc [portMR * portNR]float32
	as := unsafeSlice(a, k*portMR)
	bs := unsafeSlice(b, k*portNR)
	for p := 0; p < k; p++ {
		ap := as[p*portMR : p*portMR+portMR : p*portMR+portMR]
		bp := bs[p*portNR : p*portNR+portNR : p*portNR+portNR]
		for i := 0; i < portMR; i++ {
			ai := ap[i]
			row := acc[i*portNR : i*portNR+portNR : i*portNR+portNR]
			for j, bj := range bp {
				row[j] += float32(ai * bj)
			}
		}
	}
	cs := unsafeSlice(c, (portMR-1)*ldc+portNR)
	for i := 0; i < portMR; i++ {
		row := acc[i*portNR : i*portNR+portNR : i*portNR+portNR]
		cr := cs[i*ldc : i*ldc+portNR : i*ldc+portNR]
		if beta == 0 {
			for j, v := range row {
				cr[j] = alpha * v
			}
		} else {
			for j, v := range row {
				cr[j] = float32(beta*cr[j]) + float32(alpha*v)
			}
		}
	}
}
