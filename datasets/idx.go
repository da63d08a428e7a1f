package datasets

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DefaultFashionMNISTDir is where the Debian package dataset-fashion-mnist
// installs the four gzip IDX files.
const DefaultFashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// ErrMissing is wrapped by load errors caused by data files that are not
// there (as opposed to files that are there but malformed).
var ErrMissing = errors.New("data files missing")

// FashionMNISTClasses are the Fashion-MNIST class names, by label.
var FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// MNISTClasses are the MNIST class names, by label.
var MNISTClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
	idxMaxLabel    = 10 // labels must be below this
)

// LoadFashionMNIST reads Fashion-MNIST from the four IDX files in dir
// (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
// t10k-labels-idx1-ubyte, each raw or with .gz). An empty dir means
// DefaultFashionMNISTDir. Pixels are normalised with mean 0.5 and std 0.5,
// as the reference code does.
func LoadFashionMNIST(dir string) (train, test *Dataset, err error) {
	if dir == "" {
		dir = DefaultFashionMNISTDir
	}
	return loadIDXPair("fashion-mnist", dir, FashionMNISTClasses)
}

// LoadMNIST reads MNIST from the four IDX files in dir, like
// LoadFashionMNIST, with the same normalisation (mean 0.5, std 0.5) that the
// reference code applies to both.
func LoadMNIST(dir string) (train, test *Dataset, err error) {
	return loadIDXPair("mnist", dir, MNISTClasses)
}

func loadIDXPair(name, dir string, classes []string) (train, test *Dataset, err error) {
	train, err = loadIDXSplit(name, dir, "train", classes)
	if err != nil {
		return nil, nil, err
	}
	test, err = loadIDXSplit(name, dir, "t10k", classes)
	if err != nil {
		return nil, nil, err
	}
	if train.H != test.H || train.W != test.W {
		return nil, nil, fmt.Errorf("%s in %s: training images are %dx%d but test images are %dx%d",
			name, dir, train.H, train.W, test.H, test.W)
	}
	return train, test, nil
}

func loadIDXSplit(name, dir, prefix string, classes []string) (*Dataset, error) {
	imgPath, err := findIDX(name, dir, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lblPath, err := findIDX(name, dir, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	n, h, w, pixels, err := readIDXFile(imgPath, idxImagesMagic)
	if err != nil {
		return nil, err
	}
	nl, _, _, labels, err := readIDXFile(lblPath, idxLabelsMagic)
	if err != nil {
		return nil, err
	}
	if n != nl {
		return nil, fmt.Errorf("%s has %d images but %s has %d labels; expected the same count", imgPath, n, lblPath, nl)
	}
	if err := checkLabels(lblPath, labels); err != nil {
		return nil, err
	}
	split := "train"
	if prefix == "t10k" {
		split = "test"
	}
	return &Dataset{
		Name: name + "/" + split, N: n, C: 1, H: h, W: w,
		Pixels: pixels, Labels: labels, Classes: classes,
		Mean: []float32{0.5}, Std: []float32{0.5},
	}, nil
}

func checkLabels(path string, labels []uint8) error {
	for i, l := range labels {
		if l >= idxMaxLabel {
			return fmt.Errorf("%s: label %d of item %d is out of range; expected 0..%d", path, l, i, idxMaxLabel-1)
		}
	}
	return nil
}

// findIDX returns base or base.gz inside dir, or an error saying how to get the files.
func findIDX(name, dir, base string) (string, error) {
	for _, p := range []string{filepath.Join(dir, base), filepath.Join(dir, base+".gz")} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %s(.gz) not found in %s: %w; %s", name, base, dir, ErrMissing, howToGet(name))
}

func howToGet(name string) string {
	fetch := fmt.Sprintf("repro data fetch %s --data-dir DIR", name)
	if name == "fashion-mnist" {
		return fmt.Sprintf("install them with `apt-get install dataset-fashion-mnist` (into %s/) or download them with `%s`",
			DefaultFashionMNISTDir, fetch)
	}
	return fmt.Sprintf("download them with `%s` and pass the same --data-dir", fetch)
}

// readIDXFile reads an IDX file (raw or gzip) whose magic must be want
// (0x803: images n x h x w; 0x801: labels n, with h = w = 1).
func readIDXFile(path string, want uint32) (n, h, w int, data []uint8, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, nil, fmt.Errorf("opening IDX file: %w", err)
	}
	defer f.Close()
	return readIDX(f, path, want)
}

// readIDX parses IDX bytes from r (gzip detected by its magic 1f 8b); name is
// used in errors. The payload length must match the dimensions exactly.
func readIDX(r io.Reader, name string, want uint32) (n, h, w int, data []uint8, err error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return 0, 0, 0, nil, fmt.Errorf("%s: bad gzip stream: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0, 0, 0, nil, fmt.Errorf("%s: reading IDX magic: %w", name, unexpected(err))
	}
	magic := binary.BigEndian.Uint32(hdr[:])
	if magic != want {
		kind := "images (0x00000803)"
		if want == idxLabelsMagic {
			kind = "labels (0x00000801)"
		}
		return 0, 0, 0, nil, fmt.Errorf("%s: IDX magic is 0x%08x, expected %s", name, magic, kind)
	}
	ndim := int(magic & 0xff)
	dims := make([]int, ndim)
	for i := range dims {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return 0, 0, 0, nil, fmt.Errorf("%s: reading IDX dimension %d of %d: %w", name, i+1, ndim, unexpected(err))
		}
		dims[i] = int(binary.BigEndian.Uint32(hdr[:]))
	}
	n, h, w = dims[0], 1, 1
	if ndim == 3 {
		h, w = dims[1], dims[2]
		if h == 0 || w == 0 {
			return 0, 0, 0, nil, fmt.Errorf("%s: images are %dx%d; expected both sides > 0", name, h, w)
		}
	}
	if n == 0 {
		return 0, 0, 0, nil, fmt.Errorf("%s: IDX file declares 0 items; expected at least one", name)
	}
	// Far above any real IDX file; checked by division so that no product overflows.
	const maxPayload = 1 << 34
	if hw := uint64(h) * uint64(w); hw > maxPayload || uint64(n) > maxPayload/hw {
		return 0, 0, 0, nil, fmt.Errorf("%s: IDX dimensions %v declare more data than any supported file (limit %d bytes)", name, dims, uint64(maxPayload))
	}
	size := n * h * w
	data, got, err := readExactly(br, size)
	if err != nil {
		return 0, 0, 0, nil, fmt.Errorf("%s: reading IDX data: %w", name, err)
	}
	if got < size {
		return 0, 0, 0, nil, fmt.Errorf("%s: truncated: dimensions %v need %d bytes of data, file has %d", name, dims, size, got)
	}
	if extra, _ := br.Peek(1); len(extra) > 0 {
		return 0, 0, 0, nil, fmt.Errorf("%s: dimensions %v need %d bytes of data, file has more (trailing bytes)", name, dims, size)
	}
	return n, h, w, data, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readExactly reads up to size bytes from r. Memory grows with the bytes
// actually read (so a header claiming a huge size costs nothing), in at most
// a few steps; a file of the declared size needs one final slice of exactly
// size bytes plus one transient smaller buffer.
func readExactly(r io.Reader, size int) ([]byte, int, error) {
	const first = 8 << 20
	buf := make([]byte, min(size, first))
	got := 0
	for {
		k, err := io.ReadFull(r, buf[got:])
		got += k
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return buf[:got], got, nil
		}
		if err != nil {
			return nil, got, err
		}
		if got == size {
			return buf, got, nil
		}
		// The file has at least len(buf) bytes: grow towards size.
		nb := make([]byte, min(size, 8*len(buf)))
		copy(nb, buf[:got])
		buf = nb
	}
}
