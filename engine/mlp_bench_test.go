package engine

import "testing"

// BenchmarkMLPStep times forward and backward of the reference MLP on a
// batch of 128 (the optimizer step is benchmarked in optimizers/).
func BenchmarkMLPStep(b *testing.B) {
	m, _ := NewMLP([]int{784, 256, 256, 10}, 0.1, 1)
	x := randTensor(1, 128, 1, 28, 28)
	y := make([]int32, 128)
	for i := range y {
		y[i] = int32(i % 10)
	}
	tp := NewTape(true)
	tp.Dropout = NewCounterRNG(1, StreamDropout)
	params := m.Params()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ZeroGrads(params)
		tp.Reset()
		loss, _ := CrossEntropy(tp, m.Forward(tp, x), y)
		tp.Backward(loss)
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "samples/s")
}
