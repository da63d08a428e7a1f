package kernels

// packA packs rows [i0, i0+mc) and columns [p0, p0+kc) of op(A) into
// mr-tall slivers: sliver s holds dst[s*kc*mr + p*mr + i] = op(A)[i0+s*mr+i][p0+p],
// with rows past the end zero.
func packA(dst, a []float32, lda int, trans bool, i0, mc, p0, kc, mr int) {
	for s := 0; s*mr < mc; s++ {
		d := dst[s*kc*mr : (s+1)*kc*mr]
		rows := min(mr, mc-s*mr)
		r0 := i0 + s*mr
		if trans {
			// op(A)[i][p] = a[p*lda+i]: each p is a contiguous run of rows.
			if rows == mr {
				copyPanel(d, mr, a[p0*lda+r0:], lda, kc, mr)
				continue
			}
			for p := 0; p < kc; p++ {
				src := a[(p0+p)*lda+r0 : (p0+p)*lda+r0+rows]
				dp := d[p*mr : p*mr+mr]
				copy(dp, src)
				clear(dp[rows:])
			}
			continue
		}
		// op(A)[i][p] = a[i*lda+p]: a transpose.
		gatherRows(d, mr, a[r0*lda+p0:], lda, rows, kc)
		for i := rows; i < mr; i++ {
			for p := 0; p < kc; p++ {
				d[p*mr+i] = 0
			}
		}
	}
}

// packB packs rows [p0, p0+kc) and columns [j0, j0+nc) of op(B) into
// nr-wide slivers: sliver t holds dst[t*kc*nr + p*nr + j] = op(B)[p0+p][j0+t*nr+j],
// with columns past the end zero.
func packB(dst, b []float32, ldb int, trans bool, p0, kc, j0, nc, nr int) {
	for t := 0; t*nr < nc; t++ {
		d := dst[t*kc*nr : (t+1)*kc*nr]
		cols := min(nr, nc-t*nr)
		c0 := j0 + t*nr
		if !trans {
			// op(B)[p][j] = b[p*ldb+j]: contiguous runs of columns.
			if cols == nr {
				copyPanel(d, nr, b[p0*ldb+c0:], ldb, kc, nr)
				continue
			}
			for p := 0; p < kc; p++ {
				src := b[(p0+p)*ldb+c0 : (p0+p)*ldb+c0+cols]
				dp := d[p*nr : p*nr+nr]
				copy(dp, src)
				clear(dp[cols:])
			}
			continue
		}
		// op(B)[p][j] = b[j*ldb+p]: a transpose.
		gatherRows(d, nr, b[c0*ldb+p0:], ldb, cols, kc)
		for j := cols; j < nr; j++ {
			for p := 0; p < kc; p++ {
				d[p*nr+j] = 0
			}
		}
	}
}

// gatherRowsGo is the portable gatherRows.
func gatherRowsGo(d []float32, ld int, src []float32, lds, rows, kc int) {
	if kc <= 0 {
		return
	}
	for i := 0; i < rows; i++ {
		s := src[i*lds : i*lds+kc]
		di := d[i:]
		for p, v := range s {
			di[p*ld] = v
		}
	}
}

// copyPanelGo is the portable copyPanel.
func copyPanelGo(d []float32, ld int, src []float32, lds, rows, w int) {
	for p := 0; p < rows; p++ {
		copy(d[p*ld:p*ld+w], src[p*lds:p*lds+w])
	}
}
