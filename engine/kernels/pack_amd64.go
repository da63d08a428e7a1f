//go:build amd64 && !noasm

package kernels

//go:noescape
func transpose8(src *float32, lds int, dst *float32, ldd int, nblk int)

//go:noescape
func transpose4(src *float32, lds int, dst *float32, ldd int, nblk int)

//go:noescape
func copyRows(src *float32, lds int, dst *float32, ldd int, rows int, w int)

// copyPanel writes d[p*ld+j] = src[p*lds+j] for p < rows and j < w.
func copyPanel(d []float32, ld int, src []float32, lds, rows, w int) {
	if rows <= 0 || w <= 0 {
		return
	}
	_ = src[(rows-1)*lds+w-1]
	_ = d[(rows-1)*ld+w-1]
	if hasAVX2FMA {
		copyRows(&src[0], lds, &d[0], ld, rows, w)
		return
	}
	copyPanelGo(d, ld, src, lds, rows, w)
}

// gatherRows writes d[p*ld+i] = src[i*lds+p] for i < rows and p < kc: it
// transposes a rows x kc block into kc packed runs.
func gatherRows(d []float32, ld int, src []float32, lds, rows, kc int) {
	if rows <= 0 || kc <= 0 {
		return
	}
	_ = src[(rows-1)*lds+kc-1]
	_ = d[(kc-1)*ld+rows-1]
	nblk := kc / 8
	i := 0
	if hasAVX2FMA && nblk > 0 {
		for ; i+8 <= rows; i += 8 {
			transpose8(&src[i*lds], lds, &d[i], ld, nblk)
		}
		for ; i+4 <= rows; i += 4 {
			transpose4(&src[i*lds], lds, &d[i], ld, nblk)
		}
		if i == rows {
			gatherRowsGo(d[nblk*8*ld:], ld, src[nblk*8:], lds, rows, kc-nblk*8)
			return
		}
		gatherRowsGo(d[nblk*8*ld:], ld, src[nblk*8:], lds, i, kc-nblk*8)
	}
	gatherRowsGo(d[i:], ld, src[i*lds:], lds, rows-i, kc)
}
