// Package fakedata writes small synthetic datasets in the official file
// formats, so tests can drive the whole tool without the real data.
package fakedata

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/repro-np/repro/engine"
)

// WriteFashion writes a learnable Fashion-MNIST look-alike into dir as the
// four gzip IDX files: 28x28 images in 10 classes, each class lighting its
// own band of rows on top of uniform noise; labels cycle 0..9.
func WriteFashion(dir string, nTrain, nTest int) error {
	r := engine.NewRNG(123, engine.StreamInit)
	write := func(prefix string, n int) error {
		imgs := make([]byte, n*28*28)
		labels := make([]byte, n)
		for i := 0; i < n; i++ {
			c := i % 10
			labels[i] = byte(c)
			for p := 0; p < 28*28; p++ {
				v := r.IntN(80)
				if row := p / 28; row >= c*2+3 && row < c*2+7 {
					v += 150
				}
				imgs[i*28*28+p] = byte(v)
			}
		}
		if err := writeGzip(filepath.Join(dir, prefix+"-images-idx3-ubyte.gz"), header(0x803, n, 28, 28), imgs); err != nil {
			return err
		}
		return writeGzip(filepath.Join(dir, prefix+"-labels-idx1-ubyte.gz"), header(0x801, n), labels)
	}
	if err := write("train", nTrain); err != nil {
		return err
	}
	return write("t10k", nTest)
}

// header is an IDX header: the magic number then each dimension, big-endian.
func header(magic uint32, dims ...int) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return b
}

func writeGzip(path string, parts ...[]byte) error {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	for _, p := range parts {
		w.Write(p) // writes to a bytes.Buffer cannot fail
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing fake data: %w", err)
	}
	return nil
}
