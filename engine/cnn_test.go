package engine

import "testing"

// benchStep measures one training step's forward and backward pass (no
// optimizer update) of m on a fixed random batch of 32x32 RGB images.
func benchStep(b *testing.B, m Model, batch int) {
	x := randTensor(1, batch, 3, 32, 32)
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(i % 10)
	}
	tp := NewTape(true)
	tp.Dropout = NewCounterRNG(1, StreamDropout)
	step := func() {
		tp.Reset()
		ZeroGrads(m.Params())
		loss, _ := CrossEntropy(tp, m.Forward(tp, x), labels)
		tp.Backward(loss)
	}
	step() // fill the tape's arena
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkSmallCNNStep(b *testing.B) {
	m, _ := NewSmallCNN(10, 1)
	benchStep(b, m, 64)
}

func BenchmarkResNet18Step(b *testing.B) {
	m, _ := NewResNet18(10, 1)
	benchStep(b, m, 32)
}
