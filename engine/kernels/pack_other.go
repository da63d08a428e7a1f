//go:build !amd64 || noasm

package kernels

// gatherRows writes d[p*ld+i] = src[i*lds+p] for i < rows and p < kc.
func gatherRows(d []float32, ld int, src []float32, lds, rows, kc int) {
	gatherRowsGo(d, ld, src, lds, rows, kc)
}

// copyPanel writes d[p*ld+j] = src[p*lds+j] for p < rows and j < w.
func copyPanel(d []float32, ld int, src []float32, lds, rows, w int) {
	copyPanelGo(d, ld, src, lds, rows, w)
}
