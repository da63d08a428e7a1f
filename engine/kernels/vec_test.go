package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refDot follows the documented order of Dot literally.
func refDot(x, y []float32) float32 {
	var s [vecLanes]float32
	for i := range x {
		s[i%vecLanes] += float32(x[i] * y[i])
	}
	return foldLanes(&s)
}

var vecLens = []int{0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 257, 1000, 4096, 100003}

func TestDotSumSq(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range vecLens {
		x, y := randSlice(r, n+3)[3:], randSlice(r, n)
		want := refDot(x, y)
		for _, asm := range []bool{false, true} {
			saved := useVecAsm
			setVecAsm(asm && saved)
			got, gotSq := Dot(x, y), SumSq(x)
			setVecAsm(saved)
			if math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("n=%d asm=%v: Dot = %g, want %g bitwise", n, asm, got, want)
			}
			if wsq := refDot(x, x); math.Float32bits(gotSq) != math.Float32bits(wsq) {
				t.Fatalf("n=%d asm=%v: SumSq = %g, want %g", n, asm, gotSq, wsq)
			}
		}
		var f float64
		for i := range x {
			f += float64(x[i]) * float64(y[i])
		}
		if math.Abs(f-float64(want)) > 1e-6*float64(n+1) {
			t.Fatalf("n=%d: Dot = %g, float64 sum %g", n, want, f)
		}
	}
}

func TestAxpy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 3))
	for _, n := range vecLens {
		x, y := randSlice(r, n), randSlice(r, n+5)
		want := append([]float32(nil), y...)
		for i := range x {
			want[i] += float32(-1.75 * x[i])
		}
		for _, asm := range []bool{false, true} {
			got := append([]float32(nil), y...)
			saved := useVecAsm
			setVecAsm(asm && saved)
			Axpy(-1.75, x, got)
			setVecAsm(saved)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n=%d asm=%v: y[%d] = %g, want %g", n, asm, i, got[i], want[i])
				}
			}
		}
	}
}

func BenchmarkVec(b *testing.B) {
	for _, n := range []int{256, 4096, 200704} {
		x, y := randSlice(rand.New(rand.NewPCG(1, 1)), n), make([]float32, n)
		for _, asm := range []bool{false, true} {
			name := map[bool]string{false: "go", true: "asm"}[asm]
			b.Run(fmt.Sprintf("Dot/%d/%s", n, name), func(b *testing.B) {
				saved := useVecAsm
				setVecAsm(asm && saved)
				defer setVecAsm(saved)
				b.SetBytes(int64(8 * n))
				for range b.N {
					Dot(x, y)
				}
			})
			b.Run(fmt.Sprintf("Axpy/%d/%s", n, name), func(b *testing.B) {
				saved := useVecAsm
				setVecAsm(asm && saved)
				defer setVecAsm(saved)
				b.SetBytes(int64(12 * n))
				for range b.N {
					Axpy(0.5, x, y)
				}
			})
		}
	}
}
