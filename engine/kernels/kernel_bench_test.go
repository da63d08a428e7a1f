package kernels

import (
	"fmt"
	"testing"
)

// BenchmarkMicroKernel measures each micro-kernel alone on cache-resident
// panels: the ceiling for Sgemm.
func BenchmarkMicroKernel(b *testing.B) {
	for _, kern := range kernelList {
		for _, k := range []int{128, 384} {
			b.Run(fmt.Sprintf("%s/k%d", kern.name, k), func(b *testing.B) {
				a := make([]float32, k*kern.mr)
				bp := make([]float32, k*kern.nr)
				c := make([]float32, kern.mr*kern.nr)
				for range b.N {
					kern.fn(k, &a[0], &bp[0], &c[0], kern.nr, 1, 1)
				}
				b.ReportMetric(2*float64(k*kern.mr*kern.nr)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
