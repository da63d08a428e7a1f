package datasets

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// seqRand returns scripted values and records the calls made to it.
type seqRand struct {
	ints   []int
	floats []float64
	calls  []string
}

func (s *seqRand) IntN(n int) int {
	s.calls = append(s.calls, "IntN")
	v := s.ints[0]
	s.ints = s.ints[1:]
	if v >= n {
		panic("scripted value out of range")
	}
	return v
}

func (s *seqRand) Float64() float64 {
	s.calls = append(s.calls, "Float64")
	v := s.floats[0]
	s.floats = s.floats[1:]
	return v
}

// pcg is a seeded Rand for tests.
type pcg struct{ r *rand.Rand }

func newPCG(seed uint64) *pcg                { return &pcg{rand.New(rand.NewPCG(seed, 7))} }
func (p *pcg) IntN(n int) int                { return p.r.IntN(n) }
func (p *pcg) Float64() float64              { return p.r.Float64() }
func grey(n, h, w int, pix []uint8) *Dataset { return tiny(n, 1, h, w, pix) }

func tiny(n, c, h, w int, pix []uint8) *Dataset {
	d := &Dataset{Name: "tiny", N: n, C: c, H: h, W: w, Pixels: pix, Labels: make([]uint8, n),
		Classes: []string{"a", "b"}, Mean: make([]float32, c), Std: make([]float32, c)}
	for i := range c {
		d.Mean[i], d.Std[i] = 0, 1.0/255 // gathered value == pixel value
	}
	for i := range n {
		d.Labels[i] = uint8(i % 2)
	}
	return d
}

func TestGatherNormalises(t *testing.T) {
	d := &Dataset{N: 2, C: 1, H: 1, W: 3, Pixels: []uint8{0, 255, 51, 1, 2, 3}, Labels: []uint8{4, 7},
		Classes: FashionMNISTClasses, Mean: []float32{0.5}, Std: []float32{0.5}}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 6)
	y := make([]int32, 2)
	d.Gather([]int{0, 1}, x, y)
	want := []float32{-1, 1, (float32(51)/255 - 0.5) / 0.5}
	if !slices.Equal(x[:3], want) {
		t.Errorf("gathered %v, want %v", x[:3], want)
	}
	if !slices.Equal(y, []int32{4, 7}) {
		t.Errorf("labels %v", y)
	}
	d.Gather([]int{1, 0}, x, y)
	if y[0] != 7 || x[3] != -1 {
		t.Errorf("order not followed: y=%v x=%v", y, x)
	}
}

func TestGatherPerChannel(t *testing.T) {
	d := tiny(1, 3, 1, 1, []uint8{255, 255, 255})
	d.Mean = CIFAR10Mean
	d.Std = CIFAR10Std
	x := make([]float32, 3)
	d.Gather([]int{0}, x, make([]int32, 1))
	for c := range 3 {
		if want := (1 - CIFAR10Mean[c]) / CIFAR10Std[c]; x[c] != want {
			t.Errorf("channel %d: %v, want %v", c, x[c], want)
		}
	}
}

func TestGatherAugmented(t *testing.T) {
	// One 3x3 image with pixels 1..9 and pad 1; values are pixels (see tiny).
	d := grey(1, 3, 3, []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9})
	cases := []struct {
		name   string
		oy, ox int
		flip   float64
		want   []float32
	}{
		{"centre", 1, 1, 0.9, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"centre flipped", 1, 1, 0.1, []float32{3, 2, 1, 6, 5, 4, 9, 8, 7}},
		{"top-left", 0, 0, 0.5, []float32{0, 0, 0, 0, 1, 2, 0, 4, 5}},
		{"bottom-right", 2, 2, 0.7, []float32{5, 6, 0, 8, 9, 0, 0, 0, 0}},
		{"top-right flipped", 0, 2, 0.2, []float32{0, 0, 0, 0, 3, 2, 0, 6, 5}},
	}
	for _, c := range cases {
		r := &seqRand{ints: []int{c.oy, c.ox}, floats: []float64{c.flip}}
		x := make([]float32, 9)
		d.GatherAugmented([]int{0}, x, make([]int32, 1), 1, r)
		lut := d.lut()[0]
		want := make([]float32, len(c.want))
		for i, p := range c.want {
			want[i] = lut[int(p)]
		}
		if !slices.Equal(x, want) {
			t.Errorf("%s: got %v, want pixels %v", c.name, x, c.want)
		}
		if !slices.Equal(r.calls, []string{"IntN", "IntN", "Float64"}) {
			t.Errorf("%s: draws %v, want IntN, IntN, Float64", c.name, r.calls)
		}
	}
}

func TestGatherAugmentedPaddingNormalisesZero(t *testing.T) {
	d := grey(1, 2, 2, []uint8{255, 255, 255, 255})
	d.Mean, d.Std = []float32{0.5}, []float32{0.5}
	x := make([]float32, 4)
	d.GatherAugmented([]int{0}, x, make([]int32, 1), 2, &seqRand{ints: []int{0, 0}, floats: []float64{0.9}})
	for _, v := range x {
		if v != -1 { // the whole window is padding: pixel 0 -> (0-0.5)/0.5
			t.Fatalf("padding gathered as %v, want -1", x)
		}
	}
}

func TestGatherAugmentedSeeded(t *testing.T) {
	pix := make([]uint8, 4*3*8*8)
	for i := range pix {
		pix[i] = uint8(i * 7)
	}
	d := tiny(4, 3, 8, 8, pix)
	idx := []int{3, 1, 2, 0, 1}
	a := make([]float32, len(idx)*d.Sample())
	b := make([]float32, len(idx)*d.Sample())
	y := make([]int32, len(idx))
	d.GatherAugmented(idx, a, y, 4, newPCG(42))
	d.GatherAugmented(idx, b, y, 4, newPCG(42))
	if !slices.Equal(a, b) {
		t.Fatal("same seed gave different batches")
	}
	d.GatherAugmented(idx, b, y, 4, newPCG(43))
	if slices.Equal(a, b) {
		t.Fatal("different seeds gave the same batch")
	}
	// pad 0 with no flip drawn below 1/2 is the plain gather.
	plain := make([]float32, len(idx)*d.Sample())
	d.Gather(idx, plain, y)
	d.GatherAugmented(idx, b, y, 0, &seqRand{ints: make([]int, 2*len(idx)), floats: []float64{.5, .6, .7, .8, .9}})
	if !slices.Equal(plain, b) {
		t.Fatal("pad 0 without flips differs from Gather")
	}
	if !slices.Equal(y, []int32{1, 1, 0, 0, 1}) {
		t.Errorf("labels %v", y)
	}
}

func TestSubsetAndCounts(t *testing.T) {
	d := grey(4, 1, 1, []uint8{10, 11, 12, 13})
	s := d.Subset([]int{2, 0})
	if s.N != 2 || !slices.Equal(s.Pixels, []uint8{12, 10}) || !slices.Equal(s.Labels, []uint8{0, 0}) {
		t.Errorf("subset %+v", s)
	}
	if got := d.ClassCounts(); !slices.Equal(got, []int{2, 2}) {
		t.Errorf("class counts %v", got)
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
	s.Labels[0] = 5
	if err := s.Validate(); err == nil {
		t.Error("label out of range validated")
	}
}
