package experiments

import (
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/repro-np/repro/engine"
)

// writeFakeFashion writes a small learnable Fashion-MNIST look-alike (gzip
// IDX files, 28x28, 10 classes: each class lights a different band of rows,
// plus noise) into a new temporary directory and returns it.
func writeFakeFashion(t testing.TB, nTrain, nTest int) string {
	t.Helper()
	dir := t.TempDir()
	r := engine.NewRNG(123, engine.StreamInit)
	write := func(prefix string, n int) {
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
		hdr := func(magic uint32, dims ...uint32) []byte {
			b := binary.BigEndian.AppendUint32(nil, magic)
			for _, d := range dims {
				b = binary.BigEndian.AppendUint32(b, d)
			}
			return b
		}
		gz := func(name string, parts ...[]byte) {
			f, err := os.Create(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			w := gzip.NewWriter(f)
			for _, p := range parts {
				w.Write(p)
			}
			w.Close()
			f.Close()
		}
		gz(prefix+"-images-idx3-ubyte.gz", hdr(0x803, uint32(n), 28, 28), imgs)
		gz(prefix+"-labels-idx1-ubyte.gz", hdr(0x801, uint32(n)), labels)
	}
	write("train", nTrain)
	write("t10k", nTest)
	return dir
}
