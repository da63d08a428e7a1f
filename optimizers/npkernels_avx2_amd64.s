//go:build amd64 && !noasm

#include "textflag.h"

// AVX2 bodies of the NeuroPlastic passes np1, np2 and np3 (npkernels.go),
// for amd64 CPUs without AVX-512. A lane's sum depends only on the order of
// its own elements, so with 16 YMM registers each block of 64 vectors is
// swept twice: lanes 0-7 (the first 8 floats of every 16), then lanes 8-15,
// each sweep keeping 8 lanes per accumulator in one register. The element
// operations are the AVX-512 bodies' in the same order, so all three sets
// (portable, AVX2, AVX-512) agree bit for bit. Constants live broadcast in
// the frame (0(SP), 32(SP), ...) as memory operands. R12 is the float
// offset into the current block, R13 the byte offset for the bins, DI the
// sweep's end offset.

// FLUSH8 adds 8 float32 lanes y (low half x) into the float64 lanes at
// off(DX) and clears y. Uses Y0, Y1.
#define FLUSH8(y, x, off) \
	VEXTRACTF128 $1, y, X1; \
	VCVTPS2PD    x, Y0; \
	VCVTPS2PD    X1, Y1; \
	VADDPD       off(DX), Y0, Y0; \
	VADDPD       off+32(DX), Y1, Y1; \
	VMOVUPD      Y0, off(DX); \
	VMOVUPD      Y1, off+32(DX); \
	VXORPS       y, y, y

// BLOCK2 sets BX = min(CX, 64) vectors for the next block, CX -= BX and
// DI = the block's size in bytes of float32.
#define BLOCK2 \
	MOVQ    $64, BX; \
	CMPQ    CX, BX; \
	CMOVQLT CX, BX; \
	SUBQ    BX, CX; \
	MOVQ    BX, DI; \
	SHLQ    $6, DI

// BCAST broadcasts the float32 at off(AX) to slot(SP).
#define BCAST(off, slot) \
	VBROADCASTSS off(AX), Y0; \
	VMOVUPS      Y0, slot(SP)

// BCASTI broadcasts the int32 constant v to slot(SP).
#define BCASTI(v, slot) \
	MOVL         v, BX; \
	VMOVD        BX, X0; \
	VPBROADCASTD X0, Y0; \
	VMOVUPS      Y0, slot(SP)

// np1 frame: 0 abs mask, 32 trD, 64 trC, 96 mD, 128 mC, 160 vD, 192 vC, 224 eps.
#define NP1CONST \
	BCASTI($0x7fffffff, 0); \
	BCAST(0, 32); \
	BCAST(4, 64); \
	BCAST(8, 96); \
	BCAST(12, 128); \
	BCAST(16, 160); \
	BCAST(20, 192); \
	BCAST(24, 224); \
	VXORPS Y8, Y8, Y8; \
	VXORPS Y9, Y9, Y9; \
	VXORPS Y10, Y10, Y10; \
	VXORPS Y11, Y11, Y11

// NP1STATS: 8 elements of pass 1 at offset R12; g in Y0, |g| in Y1, trace
// in Y2, m in Y3, v in Y4.
#define NP1STATS \
	VMOVUPS (SI)(R12*1), Y0; \
	VANDPS  0(SP), Y0, Y1; \
	VMOVUPS (R8)(R12*1), Y2; \
	VMULPS  32(SP), Y2, Y2; \
	VMULPS  64(SP), Y1, Y3; \
	VADDPS  Y3, Y2, Y2; \
	VMOVUPS Y2, (R8)(R12*1); \
	VMOVUPS (R9)(R12*1), Y3; \
	VMULPS  96(SP), Y3, Y3; \
	VMULPS  128(SP), Y0, Y4; \
	VADDPS  Y4, Y3, Y3; \
	VMOVUPS Y3, (R9)(R12*1); \
	VMOVUPS (R10)(R12*1), Y4; \
	VMULPS  160(SP), Y4, Y4; \
	VMULPS  192(SP), Y0, Y5; \
	VMULPS  Y0, Y5, Y5; \
	VADDPS  Y5, Y4, Y4; \
	VMOVUPS Y4, (R10)(R12*1); \
	VADDPS  Y1, Y8, Y8; \
	VMULPS  Y0, Y0, Y7; \
	VADDPS  Y7, Y9, Y9

#define NP1MEM \
	VSQRTPS Y4, Y5; \
	VADDPS  224(SP), Y5, Y5; \
	VANDPS  0(SP), Y3, Y6; \
	VDIVPS  Y5, Y6, Y6; \
	VMOVUPS Y6, (R11)(R12*1); \
	VADDPS  Y2, Y10, Y10; \
	VADDPS  Y6, Y11, Y11

// np2 frame: 0 abs, 32 dg, 64 dt, 96 dm, 128 wa, 160 wg, 192 wm, 224 lo,
// 256 hi, 288 gs, 320 hScale, 352 tLo, 384 tHi, 416 63, 448 64,
// 480 alphaOut as a lane mask (all ones when alphaOut is not zero).
#define NP2CONST2 \
	BCASTI($0x7fffffff, 0); \
	BCAST(0, 32); \
	BCAST(4, 64); \
	BCAST(8, 96); \
	BCAST(12, 128); \
	BCAST(16, 160); \
	BCAST(20, 192); \
	BCAST(24, 224); \
	BCAST(28, 256); \
	BCAST(32, 288); \
	BCAST(36, 320); \
	BCAST(40, 352); \
	BCAST(44, 384); \
	BCASTI($63, 416); \
	BCASTI($64, 448); \
	MOVL         48(AX), BX; \
	NEGL         BX; \
	SBBL         BX, BX; \
	VMOVD        BX, X0; \
	VPBROADCASTD X0, Y0; \
	VMOVUPS      Y0, 480(SP)

// NP2LOAD/NP2SAVE move the min, max and count lanes of half h (byte offset
// 0 or 32) between acc and Y12-Y15; NP2LOAD also clears the sums.
#define NP2LOAD(h) \
	VXORPS  Y8, Y8, Y8; \
	VXORPS  Y9, Y9, Y9; \
	VXORPS  Y10, Y10, Y10; \
	VXORPS  Y11, Y11, Y11; \
	VMOVUPS 512+h(DX), Y12; \
	VMOVUPS 576+h(DX), Y13; \
	VMOVUPS 640+h(DX), Y14; \
	VMOVUPS 704+h(DX), Y15

#define NP2SAVE(h) \
	VMOVUPS Y12, 512+h(DX); \
	VMOVUPS Y13, 576+h(DX); \
	VMOVUPS Y14, 640+h(DX); \
	VMOVUPS Y15, 704+h(DX)

// NP2FLUSH(h) flushes the four sums of half h (0 or 64 bytes into each
// float64 lane set).
#define NP2FLUSH(h) \
	FLUSH8(Y8, X8, 0+h); \
	FLUSH8(Y9, X9, 128+h); \
	FLUSH8(Y10, X10, 256+h); \
	FLUSH8(Y11, X11, 384+h)

// NP2ALPHAFULL: g in Y0, a in Y2, alpha in Y3, u in Y5, delta^2 summed.
#define NP2ALPHAFULL \
	VMOVUPS (SI)(R12*1), Y0; \
	VANDPS  0(SP), Y0, Y1; \
	VMULPS  32(SP), Y1, Y1; \
	VMAXPS  224(SP), Y1, Y2; \
	VMINPS  256(SP), Y2, Y2; \
	VMOVUPS (R8)(R12*1), Y3; \
	VMULPS  64(SP), Y3, Y3; \
	VMULPS  128(SP), Y3, Y3; \
	VMULPS  160(SP), Y1, Y4; \
	VADDPS  Y4, Y3, Y3; \
	VMOVUPS (R9)(R12*1), Y4; \
	VMULPS  96(SP), Y4, Y4; \
	VMULPS  192(SP), Y4, Y4; \
	VADDPS  Y4, Y3, Y3; \
	VMAXPS  224(SP), Y3, Y3; \
	VMINPS  256(SP), Y3, Y3; \
	VSUBPS  Y2, Y3, Y3; \
	VMULPS  288(SP), Y3, Y3; \
	VADDPS  Y3, Y2, Y3; \
	VSUBPS  Y2, Y3, Y4; \
	VMULPS  Y0, Y4, Y4; \
	VMULPS  Y0, Y2, Y5; \
	VADDPS  Y4, Y5, Y5; \
	VMULPS  Y4, Y4, Y6; \
	VADDPS  Y6, Y11, Y11

// NP2ALPHAGRAD: alpha = a in Y3, u = a*g in Y5.
#define NP2ALPHAGRAD \
	VMOVUPS (SI)(R12*1), Y0; \
	VANDPS  0(SP), Y0, Y1; \
	VMULPS  32(SP), Y1, Y1; \
	VMAXPS  224(SP), Y1, Y3; \
	VMINPS  256(SP), Y3, Y3; \
	VMULPS  Y0, Y3, Y5

// NP2DIAG2: sums, min, max, counts, the bins at (R11)(R13*1) and the
// output (u, or alpha under the alphaOut mask) at (R10)(R12*1).
#define NP2DIAG2 \
	VADDPS       Y3, Y8, Y8; \
	VMULPS       Y3, Y3, Y6; \
	VADDPS       Y6, Y9, Y9; \
	VMULPS       Y5, Y5, Y6; \
	VADDPS       Y6, Y10, Y10; \
	VMINPS       Y12, Y3, Y12; \
	VMAXPS       Y13, Y3, Y13; \
	VCMPPS       $0x12, 352(SP), Y3, Y6; \
	VPSUBD       Y6, Y14, Y14; \
	VCMPPS       $0x1d, 384(SP), Y3, Y6; \
	VPSUBD       Y6, Y15, Y15; \
	VSUBPS       224(SP), Y3, Y6; \
	VMULPS       320(SP), Y6, Y6; \
	VCVTTPS2DQ   Y6, Y6; \
	VPMINSD      416(SP), Y6, Y6; \
	VCMPPS       $0x1d, 224(SP), Y3, Y7; \
	VCMPPS       $0x12, 256(SP), Y3, Y4; \
	VANDPS       Y4, Y7, Y7; \
	VPAND        Y7, Y6, Y6; \
	VPANDN       448(SP), Y7, Y7; \
	VPOR         Y7, Y6, Y6; \
	VEXTRACTI128 $1, Y6, X7; \
	VPACKSSDW    X7, X6, X6; \
	VPACKUSWB    X6, X6, X6; \
	VMOVQ        X6, (R11)(R13*1); \
	VMOVUPS      480(SP), Y7; \
	VANDNPS      Y5, Y7, Y6; \
	VANDPS       Y7, Y3, Y7; \
	VORPS        Y7, Y6, Y6; \
	VMOVUPS      Y6, (R10)(R12*1)

// NP3BODY: p = p + neg*((u*s1)*gain) at offset R12, p^2 summed in Y8.
// Constants: Y13 s1, Y14 gain, Y15 neg.
#define NP3BODY \
	VMOVUPS (SI)(R12*1), Y2; \
	VMULPS  Y2, Y2, Y3; \
	VADDPS  Y3, Y8, Y8; \
	VMOVUPS (R8)(R12*1), Y4; \
	VMULPS  Y13, Y4, Y4; \
	VMULPS  Y14, Y4, Y4; \
	VMULPS  Y4, Y15, Y4; \
	VADDPS  Y4, Y2, Y2; \
	VMOVUPS Y2, (SI)(R12*1)

// func np1FullAVX2(grad, tr, m, v, mem *float32, nvec int, c *np1Coef, acc *npAcc)
TEXT ·np1FullAVX2(SB), NOSPLIT, $256-64
	MOVQ grad+0(FP), SI
	MOVQ tr+8(FP), R8
	MOVQ m+16(FP), R9
	MOVQ v+24(FP), R10
	MOVQ mem+32(FP), R11
	MOVQ nvec+40(FP), CX
	MOVQ c+48(FP), AX
	MOVQ acc+56(FP), DX
	NP1CONST

n1f_block:
	TESTQ CX, CX
	JZ    n1f_done
	BLOCK2
	XORQ  R12, R12

n1f_a:
	NP1STATS
	NP1MEM
	ADDQ $64, R12
	CMPQ R12, DI
	JLT  n1f_a
	FLUSH8(Y8, X8, 0)
	FLUSH8(Y9, X9, 128)
	FLUSH8(Y10, X10, 256)
	FLUSH8(Y11, X11, 384)
	MOVQ $32, R12
	ADDQ $32, DI

n1f_b:
	NP1STATS
	NP1MEM
	ADDQ $64, R12
	CMPQ R12, DI
	JLT  n1f_b
	FLUSH8(Y8, X8, 64)
	FLUSH8(Y9, X9, 192)
	FLUSH8(Y10, X10, 320)
	FLUSH8(Y11, X11, 448)
	SUBQ $32, DI
	ADDQ DI, SI
	ADDQ DI, R8
	ADDQ DI, R9
	ADDQ DI, R10
	ADDQ DI, R11
	JMP  n1f_block

n1f_done:
	VZEROUPPER
	RET

// func np1GradAVX2(grad, tr, m, v *float32, nvec int, c *np1Coef, acc *npAcc)
TEXT ·np1GradAVX2(SB), NOSPLIT, $256-56
	MOVQ grad+0(FP), SI
	MOVQ tr+8(FP), R8
	MOVQ m+16(FP), R9
	MOVQ v+24(FP), R10
	MOVQ nvec+32(FP), CX
	MOVQ c+40(FP), AX
	MOVQ acc+48(FP), DX
	NP1CONST

n1g_block:
	TESTQ CX, CX
	JZ    n1g_done
	BLOCK2
	XORQ  R12, R12

n1g_a:
	NP1STATS
	ADDQ $64, R12
	CMPQ R12, DI
	JLT  n1g_a
	FLUSH8(Y8, X8, 0)
	FLUSH8(Y9, X9, 128)
	MOVQ $32, R12
	ADDQ $32, DI

n1g_b:
	NP1STATS
	ADDQ $64, R12
	CMPQ R12, DI
	JLT  n1g_b
	FLUSH8(Y8, X8, 64)
	FLUSH8(Y9, X9, 192)
	SUBQ $32, DI
	ADDQ DI, SI
	ADDQ DI, R8
	ADDQ DI, R9
	ADDQ DI, R10
	JMP  n1g_block

n1g_done:
	VZEROUPPER
	RET

// func np2FullAVX2(grad, tr, mem, u *float32, bins *uint8, nvec int, c *np2Coef, acc *npAcc)
TEXT ·np2FullAVX2(SB), NOSPLIT, $512-64
	MOVQ grad+0(FP), SI
	MOVQ tr+8(FP), R8
	MOVQ mem+16(FP), R9
	MOVQ u+24(FP), R10
	MOVQ bins+32(FP), R11
	MOVQ nvec+40(FP), CX
	MOVQ c+48(FP), AX
	MOVQ acc+56(FP), DX
	NP2CONST2

n2f_block:
	TESTQ CX, CX
	JZ    n2f_done
	BLOCK2
	XORQ  R12, R12
	XORQ  R13, R13
	NP2LOAD(0)

n2f_a:
	NP2ALPHAFULL
	NP2DIAG2
	ADDQ $64, R12
	ADDQ $16, R13
	CMPQ R12, DI
	JLT  n2f_a
	NP2FLUSH(0)
	NP2SAVE(0)
	MOVQ $32, R12
	MOVQ $8, R13
	ADDQ $32, DI
	NP2LOAD(32)

n2f_b:
	NP2ALPHAFULL
	NP2DIAG2
	ADDQ $64, R12
	ADDQ $16, R13
	CMPQ R12, DI
	JLT  n2f_b
	NP2FLUSH(64)
	NP2SAVE(32)
	SUBQ $32, DI
	ADDQ DI, SI
	ADDQ DI, R8
	ADDQ DI, R9
	ADDQ DI, R10
	SHRQ $2, DI
	ADDQ DI, R11
	JMP  n2f_block

n2f_done:
	VZEROUPPER
	RET

// func np2GradAVX2(grad, u *float32, bins *uint8, nvec int, c *np2Coef, acc *npAcc)
TEXT ·np2GradAVX2(SB), NOSPLIT, $512-48
	MOVQ grad+0(FP), SI
	MOVQ u+8(FP), R10
	MOVQ bins+16(FP), R11
	MOVQ nvec+24(FP), CX
	MOVQ c+32(FP), AX
	MOVQ acc+40(FP), DX
	NP2CONST2

n2g_block:
	TESTQ CX, CX
	JZ    n2g_done
	BLOCK2
	XORQ  R12, R12
	XORQ  R13, R13
	NP2LOAD(0)

n2g_a:
	NP2ALPHAGRAD
	NP2DIAG2
	ADDQ $64, R12
	ADDQ $16, R13
	CMPQ R12, DI
	JLT  n2g_a
	NP2FLUSH(0)
	NP2SAVE(0)
	MOVQ $32, R12
	MOVQ $8, R13
	ADDQ $32, DI
	NP2LOAD(32)

n2g_b:
	NP2ALPHAGRAD
	NP2DIAG2
	ADDQ $64, R12
	ADDQ $16, R13
	CMPQ R12, DI
	JLT  n2g_b
	NP2FLUSH(64)
	NP2SAVE(32)
	SUBQ $32, DI
	ADDQ DI, SI
	ADDQ DI, R10
	SHRQ $2, DI
	ADDQ DI, R11
	JMP  n2g_block

n2g_done:
	VZEROUPPER
	RET

// func np3AVX2(p, u *float32, nvec int, c *np3Coef, acc *npAcc)
TEXT ·np3AVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ u+8(FP), R8
	MOVQ nvec+16(FP), CX
	MOVQ c+24(FP), AX
	MOVQ acc+32(FP), DX
	VBROADCASTSS 0(AX), Y13
	VBROADCASTSS 4(AX), Y14
	VBROADCASTSS 8(AX), Y15
	VXORPS Y8, Y8, Y8

n3_block:
	TESTQ CX, CX
	JZ    n3_done
	BLOCK2
	XORQ  R12, R12

n3_a:
	NP3BODY
	ADDQ $64, R12
	CMPQ R12, DI
	JLT  n3_a
	FLUSH8(Y8, X8, 0)
	MOVQ $32, R12
	ADDQ $32, DI

n3_b:
	NP3BODY
	ADDQ $64, R12
	CMPQ R12, DI
	JLT  n3_b
	FLUSH8(Y8, X8, 64)
	SUBQ $32, DI
	ADDQ DI, SI
	ADDQ DI, R8
	JMP  n3_block

n3_done:
	VZEROUPPER
	RET
