package experiments

import (
	"testing"

	"github.com/repro-np/repro/internal/fakedata"
)

// writeFakeFashion writes a small learnable Fashion-MNIST look-alike into a
// new temporary directory and returns it.
func writeFakeFashion(t testing.TB, nTrain, nTest int) string {
	t.Helper()
	dir := t.TempDir()
	if err := fakedata.WriteFashion(dir, nTrain, nTest); err != nil {
		t.Fatal(err)
	}
	return dir
}
