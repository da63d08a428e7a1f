//go:build amd64 && !noasm

#include "textflag.h"

// func transpose8(src *float32, lds int, dst *float32, ldd int, nblk int)
// For q < nblk, transposes the 8x8 block at src+8q (rows lds apart) into
// dst+8q*ldd: dst[(8q+p)*ldd+i] = src[i*lds+8q+p]. Needs AVX.
TEXT ·transpose8(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), BX
	MOVQ nblk+32(FP), CX
	SHLQ $2, AX
	SHLQ $2, BX
	LEAQ (AX)(AX*2), R8 // 3*lds
	LEAQ (SI)(AX*4), R9 // row 4
	LEAQ (BX)(BX*2), R10 // 3*ldd
	TESTQ CX, CX
	JEQ done8
loop8:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(AX*1), Y1
	VMOVUPS (SI)(AX*2), Y2
	VMOVUPS (SI)(R8*1), Y3
	VMOVUPS (R9), Y4
	VMOVUPS (R9)(AX*1), Y5
	VMOVUPS (R9)(AX*2), Y6
	VMOVUPS (R9)(R8*1), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	MOVQ DI, DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, (DX)(BX*1)
	VMOVUPS Y10, (DX)(BX*2)
	VMOVUPS Y11, (DX)(R10*1)
	LEAQ (DX)(BX*4), DX
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, (DX)(BX*1)
	VMOVUPS Y14, (DX)(BX*2)
	VMOVUPS Y15, (DX)(R10*1)
	ADDQ $32, SI
	ADDQ $32, R9
	LEAQ (DI)(BX*8), DI
	DECQ CX
	JNE loop8
done8:
	VZEROUPPER
	RET

// func transpose4(src *float32, lds int, dst *float32, ldd int, nblk int)
// Like transpose8 for 4 rows: dst[(8q+p)*ldd+i] = src[i*lds+8q+p], i < 4.
TEXT ·transpose4(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), BX
	MOVQ nblk+32(FP), CX
	SHLQ $2, AX
	SHLQ $2, BX
	LEAQ (AX)(AX*2), R8
	LEAQ (BX)(BX*2), R10
	TESTQ CX, CX
	JEQ done4
loop4:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(AX*1), Y1
	VMOVUPS (SI)(AX*2), Y2
	VMOVUPS (SI)(R8*1), Y3
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	MOVQ DI, DX
	VMOVUPS X0, (DX)
	VMOVUPS X1, (DX)(BX*1)
	VMOVUPS X2, (DX)(BX*2)
	VMOVUPS X3, (DX)(R10*1)
	LEAQ (DX)(BX*4), DX
	VEXTRACTF128 $1, Y0, (DX)
	VEXTRACTF128 $1, Y1, (DX)(BX*1)
	VEXTRACTF128 $1, Y2, (DX)(BX*2)
	VEXTRACTF128 $1, Y3, (DX)(R10*1)
	ADDQ $32, SI
	LEAQ (DI)(BX*8), DI
	DECQ CX
	JNE loop4
done4:
	VZEROUPPER
	RET

// func copyRows(src *float32, lds int, dst *float32, ldd int, rows int, w int)
// Copies w floats from each of rows rows: dst[r*ldd+j] = src[r*lds+j].
// Needs AVX.
TEXT ·copyRows(SB), NOSPLIT, $0-48
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), BX
	MOVQ rows+32(FP), CX
	MOVQ w+40(FP), DX
	SHLQ $2, AX
	SHLQ $2, BX
	TESTQ CX, CX
	JEQ copydone
copyrow:
	MOVQ DX, R8
	XORQ R9, R9
copy32:
	CMPQ R8, $32
	JLT copy8
	VMOVUPS (SI)(R9*1), Y0
	VMOVUPS 32(SI)(R9*1), Y1
	VMOVUPS 64(SI)(R9*1), Y2
	VMOVUPS 96(SI)(R9*1), Y3
	VMOVUPS Y0, (DI)(R9*1)
	VMOVUPS Y1, 32(DI)(R9*1)
	VMOVUPS Y2, 64(DI)(R9*1)
	VMOVUPS Y3, 96(DI)(R9*1)
	ADDQ $128, R9
	SUBQ $32, R8
	JMP copy32
copy8:
	CMPQ R8, $8
	JLT copy1
	VMOVUPS (SI)(R9*1), Y0
	VMOVUPS Y0, (DI)(R9*1)
	ADDQ $32, R9
	SUBQ $8, R8
	JMP copy8
copy1:
	TESTQ R8, R8
	JEQ copynext
	MOVL (SI)(R9*1), R10
	MOVL R10, (DI)(R9*1)
	ADDQ $4, R9
	DECQ R8
	JMP copy1
copynext:
	ADDQ AX, SI
	ADDQ BX, DI
	DECQ CX
	JNE copyrow
copydone:
	VZEROUPPER
	RET
