package datasets

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cifarRecords encodes n binary records; record i has label labels[i%len] and
// every pixel of channel c equal to byte(i+c).
func cifarRecords(n int, labels ...byte) []byte {
	var b []byte
	for i := range n {
		b = append(b, labels[i%len(labels)])
		for c := range 3 {
			b = append(b, bytes.Repeat([]byte{byte(i + c)}, 1024)...)
		}
	}
	return b
}

func cifarFiles(override map[string][]byte) map[string][]byte {
	files := map[string][]byte{cifarTestBatch: cifarRecords(2, 9, 8)}
	for i, name := range cifarTrainBatches {
		files[name] = cifarRecords(2, byte(i), byte(i+1))
	}
	for k, v := range override {
		files[k] = v
	}
	return files
}

func writeCIFARDir(t *testing.T, override map[string][]byte) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, cifarBinDir)
	os.Mkdir(dir, 0o755)
	for name, b := range cifarFiles(override) {
		if b != nil {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// writeCIFARArchive writes a tar.gz shaped like the official one (members in
// a scrambled order, with extra files) into a new directory.
func writeCIFARArchive(t *testing.T, override map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: cifarBinDir + "/", Typeflag: tar.TypeDir, Mode: 0o755})
	files := cifarFiles(override)
	files["batches.meta.txt"] = []byte("airplane\n")
	for _, name := range []string{"data_batch_3.bin", "batches.meta.txt", "data_batch_1.bin", cifarTestBatch,
		"data_batch_5.bin", "data_batch_2.bin", "data_batch_4.bin"} {
		b := files[name]
		if b == nil {
			continue
		}
		tw.WriteHeader(&tar.Header{Name: cifarBinDir + "/" + name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	tw.Close()
	zw.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, cifarArchive), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func checkCIFARBinary(t *testing.T, how string, train, test *Dataset) {
	t.Helper()
	if train.N != 10 || test.N != 2 || train.C != 3 || train.H != 32 || train.W != 32 {
		t.Fatalf("%s: shapes train %d test %d", how, train.N, test.N)
	}
	// Batches in order 1..5, two records each.
	if want := []uint8{0, 1, 1, 2, 2, 3, 3, 4, 4, 5}; !slices.Equal(train.Labels, want) {
		t.Errorf("%s: train labels %v, want %v", how, train.Labels, want)
	}
	if !slices.Equal(test.Labels, []uint8{9, 8}) {
		t.Errorf("%s: test labels %v", how, test.Labels)
	}
	// Record 1 of a batch: red plane 1, green 2, blue 3.
	s := train.Sample()
	if p := train.Pixels[3*s:]; p[0] != 1 || p[1024] != 2 || p[2048] != 3 || p[3071] != 3 {
		t.Errorf("%s: planes of record 3 wrong", how)
	}
	if err := train.Validate(); err != nil {
		t.Error(err)
	}
	if !slices.Equal(train.Mean, CIFAR10Mean) || !slices.Equal(test.Std, CIFAR10Std) || train.Classes[0] != "airplane" {
		t.Errorf("%s: normalisation or classes", how)
	}
}

func TestLoadCIFARBinary(t *testing.T) {
	root := writeCIFARDir(t, nil)
	for _, p := range []string{root, filepath.Join(root, cifarBinDir)} {
		train, test, err := LoadCIFAR10(p)
		if err != nil {
			t.Fatal(err)
		}
		checkCIFARBinary(t, "dir "+p, train, test)
	}
	arch := writeCIFARArchive(t, nil)
	for _, p := range []string{arch, filepath.Join(arch, cifarArchive)} {
		train, test, err := LoadCIFAR10(p)
		if err != nil {
			t.Fatal(err)
		}
		checkCIFARBinary(t, "archive "+p, train, test)
	}
}

func TestLoadCIFARBinaryErrors(t *testing.T) {
	cases := []struct {
		name     string
		override map[string][]byte
		want     []string
	}{
		{"short record", map[string][]byte{"data_batch_2.bin": cifarRecords(2, 1)[:5000]},
			[]string{"data_batch_2.bin", "short record 1"}},
		{"label out of range", map[string][]byte{cifarTestBatch: cifarRecords(3, 4, 10)},
			[]string{cifarTestBatch, "record 1 has label 10"}},
		{"empty batch", map[string][]byte{"data_batch_5.bin": {}},
			[]string{"data_batch_5.bin", "no records"}},
	}
	for _, c := range cases {
		for _, layout := range []string{"dir", "archive"} {
			var err error
			if layout == "dir" {
				_, _, err = LoadCIFAR10(writeCIFARDir(t, c.override))
			} else {
				_, _, err = LoadCIFAR10(writeCIFARArchive(t, c.override))
			}
			if err == nil {
				t.Errorf("%s (%s): no error", c.name, layout)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s (%s): error %q lacks %q", c.name, layout, err, w)
				}
			}
		}
	}
	_, _, err := LoadCIFAR10(writeCIFARArchive(t, map[string][]byte{"data_batch_4.bin": nil}))
	if err == nil || !strings.Contains(err.Error(), "lacks data_batch_4.bin") {
		t.Errorf("archive without a batch: %v", err)
	}
	_, _, err = LoadCIFAR10(writeCIFARDir(t, map[string][]byte{"data_batch_4.bin": nil}))
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "data_batch_4.bin") {
		t.Errorf("dir without a batch: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "x.tar.gz")
	os.WriteFile(bad, []byte("not gzip"), 0o644)
	if _, _, err = LoadCIFAR10(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("non-gzip archive: %v", err)
	}
	empty := t.TempDir()
	if _, _, err = LoadCIFAR10(empty); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "unknown layout in "+empty) ||
		!strings.Contains(err.Error(), "repro data fetch cifar10") {
		t.Errorf("unknown layout: %v", err)
	}
	if _, _, err = LoadCIFAR10(filepath.Join(empty, "nope")); !errors.Is(err, ErrMissing) {
		t.Errorf("missing path: %v", err)
	}
}

// solid returns a w x h image whose pixel (x, y) is (x, y, 7*c).
func solid(w, h int, c uint8) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 7 * c, 255})
		}
	}
	return img
}

func writeImage(t *testing.T, p string, img image.Image) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(p, ".png") {
		err = png.Encode(f, img)
	} else {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 100})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// writeFolders writes images/split/class/NN.png for each class, n per class.
func writeFolders(t *testing.T, classes []string, n int) string {
	root := t.TempDir()
	for _, split := range []string{"train", "test"} {
		for c, name := range classes {
			for i := range n {
				writeImage(t, filepath.Join(root, split, name, string(rune('a'+n-1-i))+".png"), solid(32, 32, uint8(c*10+i)))
			}
		}
	}
	return root
}

func TestLoadCIFARFolders(t *testing.T) {
	// CIFAR-10 names: standard order, not alphabetical (automobile < bird but airplane first anyway; cat before deer...).
	root := writeFolders(t, CIFAR10Classes, 2)
	os.WriteFile(filepath.Join(root, "train", "cat", "notes.txt"), []byte("ignored"), 0o644)
	train, test, err := LoadCIFAR10(root)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 20 || test.N != 20 || !slices.Equal(train.Classes, CIFAR10Classes) {
		t.Fatalf("train %d test %d classes %v", train.N, test.N, train.Classes)
	}
	// Classes interleaved round-robin; within a class files sorted by name:
	// "a.png" (written second, i=1) comes first.
	s, plane := train.Sample(), 1024
	for k := range 20 {
		c, i := k%10, 1-k/10
		p := train.Pixels[k*s:]
		if train.Labels[k] != uint8(c) || p[2*plane] != uint8(7*(c*10+i)) || p[plane+5*32+3] != 5 || p[4] != 4 {
			t.Fatalf("image %d: label %d blue %d", k, train.Labels[k], p[2*plane])
		}
	}
	// Other names: alphabetical.
	root = writeFolders(t, []string{"zebra", "ant"}, 1)
	train, _, err = LoadCIFAR10(root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(train.Classes, []string{"ant", "zebra"}) || train.Labels[0] != 0 || train.Pixels[2*1024] != 7*10 {
		t.Errorf("alphabetical classes: %v labels %v", train.Classes, train.Labels)
	}
}

func TestLoadCIFARFoldersJPEGAndDeterminism(t *testing.T) {
	root := t.TempDir()
	for _, split := range []string{"train", "test"} {
		for c := range 2 {
			for i := range 7 {
				writeImage(t, filepath.Join(root, split, []string{"x", "y"}[c], string(rune('a'+i))+".jpg"), solid(32, 32, uint8(c*7+i)))
			}
		}
	}
	a, _, err := LoadCIFAR10(root)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := LoadCIFAR10(root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Pixels, b.Pixels) || !slices.Equal(a.Labels, b.Labels) {
		t.Fatal("two loads differ")
	}
	// JPEG is lossy: a smooth image comes back within a few levels.
	for k := range a.N {
		c, i := k%2, k/2 // classes interleaved round-robin
		want := 7 * (c*7 + i)
		if got := int(a.Pixels[k*a.Sample()+2*1024+16*32+16]); got < want-6 || got > want+6 {
			t.Errorf("image %d: blue %d, want about %d", k, got, want)
		}
	}
}

func TestLoadCIFARFoldersErrors(t *testing.T) {
	root := writeFolders(t, []string{"a", "b"}, 1)
	writeImage(t, filepath.Join(root, "test", "b", "big.png"), solid(33, 32, 0))
	_, _, err := LoadCIFAR10(root)
	if err == nil || !strings.Contains(err.Error(), filepath.Join("test", "b", "big.png")) || !strings.Contains(err.Error(), "33x32, expected 32x32") {
		t.Errorf("wrong size: %v", err)
	}

	root = writeFolders(t, []string{"a", "b"}, 1)
	os.Mkdir(filepath.Join(root, "train", "c"), 0o755)
	os.Mkdir(filepath.Join(root, "test", "c"), 0o755)
	_, _, err = LoadCIFAR10(root)
	if err == nil || !strings.Contains(err.Error(), filepath.Join("train", "c")) || !strings.Contains(err.Error(), "empty class folder") {
		t.Errorf("empty class: %v", err)
	}

	root = writeFolders(t, []string{"a", "b"}, 1)
	os.WriteFile(filepath.Join(root, "train", "a", "broken.png"), []byte("\x89PNG garbage"), 0o644)
	_, _, err = LoadCIFAR10(root)
	if err == nil || !strings.Contains(err.Error(), "broken.png") {
		t.Errorf("corrupt image: %v", err)
	}

	root = writeFolders(t, []string{"a", "b"}, 1)
	os.RemoveAll(filepath.Join(root, "test", "b"))
	_, _, err = LoadCIFAR10(root)
	if err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("class mismatch: %v", err)
	}
}

func FuzzCIFARBinary(f *testing.F) {
	f.Add(cifarRecords(1, 3))
	f.Add(cifarRecords(2, 9, 0))
	f.Add(cifarRecords(1, 10))
	f.Add(cifarRecords(2, 1)[:4000])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, size := range []int64{int64(len(b)), -1} {
			batch, err := readCIFARBinary(bytes.NewReader(b), "fuzz", size)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "fuzz") {
					t.Fatalf("error does not name the file: %v", err)
				}
				if len(b) > 0 && len(b)%cifarRecord == 0 && !strings.Contains(err.Error(), "label") {
					t.Fatalf("whole records rejected for a reason other than a label: %v", err)
				}
				continue
			}
			n := len(b) / cifarRecord
			if len(b)%cifarRecord != 0 || len(batch.labels) != n || len(batch.pixels) != n*cifarSample {
				t.Fatalf("accepted %d bytes as %d records", len(b), len(batch.labels))
			}
			for _, l := range batch.labels {
				if l >= 10 {
					t.Fatalf("accepted label %d", l)
				}
			}
		}
	})
}
