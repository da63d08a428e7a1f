//go:build amd64 && !noasm

package kernels

var useVecAsm = hasAVX2FMA

// dotAsm adds x[i]*y[i] into s[i%64] for i < 64*nblk (product rounded, then
// added). Needs AVX.
//
//go:noescape
func dotAsm(x, y *float32, nblk int, s *[vecLanes]float32)

// axpyAsm computes y[i] += alpha*x[i] for i < n, n a multiple of 32,
// without fused multiply-add. Needs AVX.
//
//go:noescape
func axpyAsm(alpha float32, x, y *float32, n int)

// setVecAsm switches the assembly vector kernels off (for tests).
func setVecAsm(on bool) { useVecAsm = on }
