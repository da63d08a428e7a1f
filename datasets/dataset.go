// Package datasets loads the image classification data sets of the
// NeuroPlastic paper (Fashion-MNIST, MNIST, CIFAR-10), draws the reduced-data
// and few-shot subsets, gathers normalised (optionally augmented) batches and
// downloads the official files.
//
// Images are held compactly as uint8 in NCHW order; normalisation to float32
// happens only when a batch is gathered, so Fashion-MNIST (train and test)
// takes about 55 MB and CIFAR-10 about 185 MB.
package datasets

import "fmt"

// Dataset holds images compactly as uint8, NCHW, with labels; normalisation
// happens when a batch is gathered.
type Dataset struct {
	Name       string
	N, C, H, W int
	Pixels     []uint8 // N*C*H*W, image i at Pixels[i*Sample():]
	Labels     []uint8 // N, each < len(Classes)
	Classes    []string
	// Mean and Std hold one value per channel; a gathered value is
	// (p/255 - Mean[c]) / Std[c], computed in float32 as torchvision's
	// ToTensor followed by Normalize does.
	Mean, Std []float32
}

// Rand is the source of randomness for augmentation and subsets;
// *engine.RNG satisfies it.
type Rand interface {
	IntN(n int) int
	Float64() float64
}

// Sample returns the number of values in one image, C*H*W.
func (d *Dataset) Sample() int { return d.C * d.H * d.W }

// ClassCounts returns how many examples each class has.
func (d *Dataset) ClassCounts() []int {
	counts := make([]int, len(d.Classes))
	for _, l := range d.Labels {
		if int(l) < len(counts) {
			counts[l]++
		}
	}
	return counts
}

// Subset returns a dataset holding the examples idx of d, in that order
// (pixels are copied). It is meant for small subsets and quick looks
// (--train-limit); the training loop normally gathers from d by index.
func (d *Dataset) Subset(idx []int) *Dataset {
	s := d.Sample()
	out := *d
	out.N = len(idx)
	out.Pixels = make([]uint8, len(idx)*s)
	out.Labels = make([]uint8, len(idx))
	for k, i := range idx {
		copy(out.Pixels[k*s:(k+1)*s], d.Pixels[i*s:(i+1)*s])
		out.Labels[k] = d.Labels[i]
	}
	return &out
}

// Validate checks that the fields are consistent: sizes, labels in range and
// one mean and positive std per channel.
func (d *Dataset) Validate() error {
	switch {
	case d.N < 0 || d.C <= 0 || d.H <= 0 || d.W <= 0:
		return fmt.Errorf("dataset %s: bad shape %dx%dx%dx%d", d.Name, d.N, d.C, d.H, d.W)
	case len(d.Pixels) != d.N*d.Sample():
		return fmt.Errorf("dataset %s: %d pixels, expected N*C*H*W = %d", d.Name, len(d.Pixels), d.N*d.Sample())
	case len(d.Labels) != d.N:
		return fmt.Errorf("dataset %s: %d labels, expected %d", d.Name, len(d.Labels), d.N)
	case len(d.Mean) != d.C || len(d.Std) != d.C:
		return fmt.Errorf("dataset %s: %d means and %d stds for %d channels", d.Name, len(d.Mean), len(d.Std), d.C)
	}
	for c, s := range d.Std {
		if !(s > 0) {
			return fmt.Errorf("dataset %s: std of channel %d is %v, must be positive", d.Name, c, s)
		}
	}
	for i, l := range d.Labels {
		if int(l) >= len(d.Classes) {
			return fmt.Errorf("dataset %s: label %d of example %d is not below %d classes", d.Name, l, i, len(d.Classes))
		}
	}
	return nil
}

// lut returns, per channel, the normalised float32 value of each pixel byte.
// The arithmetic mirrors torchvision: float32(p)/255, then (v-mean)/std.
func (d *Dataset) lut() [][256]float32 {
	t := make([][256]float32, d.C)
	for c := range t {
		m, s := d.Mean[c], d.Std[c]
		for p := range 256 {
			v := float32(p) / 255
			t[c][p] = (v - m) / s
		}
	}
	return t
}

func (d *Dataset) checkGather(idx []int, x []float32, y []int32) {
	if len(x) != len(idx)*d.Sample() || len(y) != len(idx) {
		panic(fmt.Sprintf("datasets: gathering %d examples of %d values into x of %d and y of %d",
			len(idx), d.Sample(), len(x), len(y)))
	}
}

// Gather writes the normalised images idx into x (len(idx)*Sample() values,
// NCHW) and their labels into y. It panics if x or y has the wrong length or
// an index is out of range, as slice indexing does.
func (d *Dataset) Gather(idx []int, x []float32, y []int32) {
	d.checkGather(idx, x, y)
	t := d.lut()
	s, hw := d.Sample(), d.H*d.W
	for k, i := range idx {
		src := d.Pixels[i*s : (i+1)*s]
		dst := x[k*s : (k+1)*s]
		for c := range d.C {
			tc := &t[c]
			sc, dc := src[c*hw:(c+1)*hw], dst[c*hw:(c+1)*hw]
			for j, p := range sc {
				dc[j] = tc[p]
			}
		}
		y[k] = int32(d.Labels[i])
	}
}

// GatherAugmented is Gather with train-time augmentation, as torchvision's
// RandomCrop(size=(H, W), padding=pad) followed by RandomHorizontalFlip():
// each image is zero-padded by pad pixels on every side (pixel value 0, which
// then normalises to -Mean/Std), an H x W window is cut at a random offset,
// and the result is mirrored left-right with probability 1/2.
//
// Per image, in index order, exactly three numbers are drawn from r:
// oy = r.IntN(2*pad+1), then ox = r.IntN(2*pad+1), then flip = r.Float64() < 0.5
// (the same order as torchvision: top, left, flip). A seeded r therefore fixes
// the augmentation, independently of batch size. pad must be >= 0.
func (d *Dataset) GatherAugmented(idx []int, x []float32, y []int32, pad int, r Rand) {
	d.checkGather(idx, x, y)
	if pad < 0 {
		panic(fmt.Sprintf("datasets: negative augmentation padding %d", pad))
	}
	t := d.lut()
	s, hw, H, W := d.Sample(), d.H*d.W, d.H, d.W
	for k, i := range idx {
		oy := r.IntN(2*pad+1) - pad // source row of output row 0
		ox := r.IntN(2*pad+1) - pad // source column of output column 0
		flip := r.Float64() < 0.5
		src := d.Pixels[i*s : (i+1)*s]
		dst := x[k*s : (k+1)*s]
		for c := range d.C {
			tc := &t[c]
			zero := tc[0]
			sc, dc := src[c*hw:(c+1)*hw], dst[c*hw:(c+1)*hw]
			for row := range H {
				out := dc[row*W : (row+1)*W]
				sr := row + oy
				if sr < 0 || sr >= H {
					for j := range out {
						out[j] = zero
					}
					continue
				}
				in := sc[sr*W : (sr+1)*W]
				for col := range W {
					sx := col + ox
					v := zero
					if sx >= 0 && sx < W {
						v = tc[in[sx]]
					}
					if flip {
						out[W-1-col] = v
					} else {
						out[col] = v
					}
				}
			}
		}
		y[k] = int32(d.Labels[i])
	}
}
