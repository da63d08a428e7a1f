package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes encodes an IDX file with the given magic, dimensions and payload.
func idxBytes(magic uint32, dims []uint32, payload []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(payload)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func imagesIDX(n, h, w int) []byte {
	p := make([]byte, n*h*w)
	for i := range p {
		p[i] = byte(i)
	}
	return idxBytes(idxImagesMagic, []uint32{uint32(n), uint32(h), uint32(w)}, p)
}

func labelsIDX(labels ...byte) []byte {
	return idxBytes(idxLabelsMagic, []uint32{uint32(len(labels))}, labels)
}

// writeMNIST writes a small four-file IDX data set into a new directory;
// override replaces files by name.
func writeMNIST(t *testing.T, compress bool, override map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{
		"train-images-idx3-ubyte": imagesIDX(3, 2, 4),
		"train-labels-idx1-ubyte": labelsIDX(9, 0, 3),
		"t10k-images-idx3-ubyte":  imagesIDX(2, 2, 4),
		"t10k-labels-idx1-ubyte":  labelsIDX(1, 2),
	}
	for k, v := range override {
		files[k] = v
	}
	for name, b := range files {
		if b == nil {
			continue
		}
		if compress {
			b, name = gz(b), name+".gz"
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadIDX(t *testing.T) {
	for _, compress := range []bool{false, true} {
		dir := writeMNIST(t, compress, nil)
		train, test, err := LoadMNIST(dir)
		if err != nil {
			t.Fatalf("gzip=%v: %v", compress, err)
		}
		if train.N != 3 || train.C != 1 || train.H != 2 || train.W != 4 || test.N != 2 {
			t.Fatalf("gzip=%v: shapes train %d %dx%dx%d test %d", compress, train.N, train.C, train.H, train.W, test.N)
		}
		if train.Pixels[9] != 9 || train.Labels[0] != 9 || test.Labels[1] != 2 || len(train.Pixels) != 24 {
			t.Errorf("gzip=%v: wrong content", compress)
		}
		if err := train.Validate(); err != nil {
			t.Error(err)
		}
		if train.Mean[0] != 0.5 || train.Std[0] != 0.5 || train.Name != "mnist/train" || test.Name != "mnist/test" {
			t.Errorf("normalisation or name: %+v", train)
		}
	}
}

func TestLoadIDXErrors(t *testing.T) {
	cases := []struct {
		name     string
		override map[string][]byte
		want     []string
	}{
		{"wrong magic", map[string][]byte{"train-images-idx3-ubyte": labelsIDX(1, 2, 3)},
			[]string{"train-images-idx3-ubyte", "magic is 0x00000801", "expected images (0x00000803)"}},
		{"truncated", map[string][]byte{"train-images-idx3-ubyte": imagesIDX(3, 2, 4)[:30]},
			[]string{"train-images-idx3-ubyte", "truncated", "need 24 bytes", "file has 14"}},
		{"truncated header", map[string][]byte{"t10k-labels-idx1-ubyte": labelsIDX(1, 2)[:6]},
			[]string{"t10k-labels-idx1-ubyte", "dimension 1 of 1"}},
		{"trailing bytes", map[string][]byte{"train-labels-idx1-ubyte": append(labelsIDX(1, 2, 3), 0)},
			[]string{"train-labels-idx1-ubyte", "trailing"}},
		{"count mismatch", map[string][]byte{"train-labels-idx1-ubyte": labelsIDX(1, 2)},
			[]string{"3 images", "2 labels"}},
		{"label out of range", map[string][]byte{"t10k-labels-idx1-ubyte": labelsIDX(1, 10)},
			[]string{"t10k-labels-idx1-ubyte", "label 10 of item 1"}},
		{"huge claim", map[string][]byte{"train-images-idx3-ubyte": idxBytes(idxImagesMagic, []uint32{1 << 31, 1 << 20, 1 << 20}, nil)},
			[]string{"train-images-idx3-ubyte", "more data than any supported"}},
		{"empty", map[string][]byte{"train-images-idx3-ubyte": {}},
			[]string{"train-images-idx3-ubyte", "magic"}},
	}
	for _, c := range cases {
		for _, compress := range []bool{false, true} {
			_, _, err := LoadMNIST(writeMNIST(t, compress, c.override))
			if err == nil {
				t.Errorf("%s (gzip=%v): no error", c.name, compress)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s (gzip=%v): error %q lacks %q", c.name, compress, err, w)
				}
			}
			if errors.Is(err, ErrMissing) {
				t.Errorf("%s: malformed file reported as missing", c.name)
			}
		}
	}
}

func TestLoadIDXMissing(t *testing.T) {
	dir := writeMNIST(t, true, map[string][]byte{"t10k-images-idx3-ubyte": nil})
	_, _, err := LoadFashionMNIST(dir)
	if !errors.Is(err, ErrMissing) {
		t.Fatalf("want ErrMissing, got %v", err)
	}
	for _, w := range []string{"t10k-images-idx3-ubyte", dir, "apt-get install dataset-fashion-mnist",
		DefaultFashionMNISTDir, "repro data fetch fashion-mnist --data-dir"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	_, _, err = LoadMNIST(t.TempDir())
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "repro data fetch mnist") {
		t.Errorf("MNIST missing error: %v", err)
	}
}

// TestFashionMNISTReal checks the real files when the Debian package is installed.
func TestFashionMNISTReal(t *testing.T) {
	if _, err := os.Stat(filepath.Join(DefaultFashionMNISTDir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
	}
	train, test, err := LoadFashionMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 || train.H != 28 || train.W != 28 || train.C != 1 {
		t.Fatalf("shapes: train %d test %d %dx%d", train.N, test.N, train.H, train.W)
	}
	for c, k := range train.ClassCounts() {
		if k != 6000 {
			t.Errorf("class %d has %d training examples, want 6000", c, k)
		}
	}
	for c, k := range test.ClassCounts() {
		if k != 1000 {
			t.Errorf("class %d has %d test examples, want 1000", c, k)
		}
	}
	// First examples of the official files: an ankle boot in both splits.
	if train.Labels[0] != 9 || test.Labels[0] != 9 || train.Labels[1] != 0 {
		t.Errorf("first labels: train %v test %v", train.Labels[:2], test.Labels[:1])
	}
}

func FuzzIDX(f *testing.F) {
	f.Add(imagesIDX(2, 3, 3), true)
	f.Add(gz(imagesIDX(2, 3, 3)), true)
	f.Add(labelsIDX(1, 2, 3), false)
	f.Add(gz(labelsIDX(4, 5)), false)
	f.Add(imagesIDX(2, 3, 3)[:20], true)
	f.Add(idxBytes(idxImagesMagic, []uint32{1 << 30, 1 << 30, 1 << 30}, nil), true)
	f.Fuzz(func(t *testing.T, b []byte, images bool) {
		magic := uint32(idxLabelsMagic)
		if images {
			magic = idxImagesMagic
		}
		n, h, w, data, err := readIDX(bytes.NewReader(b), "fuzz", magic)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if n <= 0 || h <= 0 || w <= 0 || len(data) != n*h*w {
			t.Fatalf("accepted n=%d h=%d w=%d with %d bytes", n, h, w, len(data))
		}
	})
}
