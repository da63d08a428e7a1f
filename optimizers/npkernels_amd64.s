//go:build amd64 && !noasm

#include "textflag.h"

// AVX-512 bodies of the NeuroPlastic kernels (npkernels.go). Each handles
// nvec whole 16-element vectors, in blocks of 64 vectors: float32 lane sums
// over a block, then FLUSH widens them into the float64 lanes of npAcc.
// The instruction sequence mirrors the portable Go bodies operation for
// operation (no FMA; MINPS/MAXPS argument order as minRule/maxRule), so
// both give bitwise-identical results. Written by hand: the loops are short
// and the exact operation order is the contract.

// FLUSH adds float32 lanes z (low half y) into the float64 lanes at
// off(DX) and clears z. Uses Z0, Z1.
#define FLUSH(z, y, off) \
	VEXTRACTF64X4 $1, z, Y1; \
	VCVTPS2PD     y, Z0; \
	VCVTPS2PD     Y1, Z1; \
	VADDPD        off(DX), Z0, Z0; \
	VADDPD        off+64(DX), Z1, Z1; \
	VMOVUPD       Z0, off(DX); \
	VMOVUPD       Z1, off+64(DX); \
	VPXORD        z, z, z

// BLOCK sets BX = min(CX, 64) vectors for the next block and CX -= BX.
#define BLOCK \
	MOVQ    $64, BX; \
	CMPQ    CX, BX; \
	CMOVQLT CX, BX; \
	SUBQ    BX, CX

// func np1FullAVX512(grad, tr, m, v, mem *float32, nvec int, c *np1Coef, acc *npAcc)
TEXT ·np1FullAVX512(SB), NOSPLIT, $0-64
	MOVQ grad+0(FP), SI
	MOVQ tr+8(FP), R8
	MOVQ m+16(FP), R9
	MOVQ v+24(FP), R10
	MOVQ mem+32(FP), R11
	MOVQ nvec+40(FP), CX
	MOVQ c+48(FP), AX
	MOVQ acc+56(FP), DX
	MOVL $0x7fffffff, BX
	VPBROADCASTD BX, Z31
	VBROADCASTSS 0(AX), Z30  // trD
	VBROADCASTSS 4(AX), Z29  // trC
	VBROADCASTSS 8(AX), Z28  // mD
	VBROADCASTSS 12(AX), Z27 // mC
	VBROADCASTSS 16(AX), Z26 // vD
	VBROADCASTSS 20(AX), Z25 // vC
	VBROADCASTSS 24(AX), Z24 // eps
	VPXORD Z20, Z20, Z20     // sum |g|
	VPXORD Z21, Z21, Z21     // sum g*g
	VPXORD Z22, Z22, Z22     // sum trace
	VPXORD Z23, Z23, Z23     // sum mem

np1f_block:
	TESTQ CX, CX
	JZ    np1f_done
	BLOCK

np1f_loop:
	VMOVUPS (SI), Z0         // g
	VPANDD  Z31, Z0, Z1      // a = |g|
	VMULPS  (R8), Z30, Z2    // trD*tr
	VMULPS  Z1, Z29, Z3      // trC*a
	VADDPS  Z3, Z2, Z2       // trace
	VMOVUPS Z2, (R8)
	VMULPS  (R9), Z28, Z3    // m*mD
	VMULPS  Z0, Z27, Z4      // mC*g
	VADDPS  Z4, Z3, Z3       // m
	VMOVUPS Z3, (R9)
	VMULPS  (R10), Z26, Z4   // v*vD
	VMULPS  Z0, Z25, Z5      // vC*g
	VMULPS  Z0, Z5, Z5       // (vC*g)*g
	VADDPS  Z5, Z4, Z4       // v
	VMOVUPS Z4, (R10)
	VSQRTPS Z4, Z5
	VADDPS  Z24, Z5, Z5      // sqrt(v)+eps
	VPANDD  Z31, Z3, Z6      // |m|
	VDIVPS  Z5, Z6, Z6       // mem
	VMOVUPS Z6, (R11)
	VADDPS  Z1, Z20, Z20
	VMULPS  Z0, Z0, Z7
	VADDPS  Z7, Z21, Z21
	VADDPS  Z2, Z22, Z22
	VADDPS  Z6, Z23, Z23
	ADDQ    $64, SI
	ADDQ    $64, R8
	ADDQ    $64, R9
	ADDQ    $64, R10
	ADDQ    $64, R11
	DECQ    BX
	JNZ     np1f_loop
	FLUSH(Z20, Y20, 0)
	FLUSH(Z21, Y21, 128)
	FLUSH(Z22, Y22, 256)
	FLUSH(Z23, Y23, 384)
	JMP   np1f_block

np1f_done:
	VZEROUPPER
	RET

// func np1GradAVX512(grad, tr, m, v *float32, nvec int, c *np1Coef, acc *npAcc)
TEXT ·np1GradAVX512(SB), NOSPLIT, $0-56
	MOVQ grad+0(FP), SI
	MOVQ tr+8(FP), R8
	MOVQ m+16(FP), R9
	MOVQ v+24(FP), R10
	MOVQ nvec+32(FP), CX
	MOVQ c+40(FP), AX
	MOVQ acc+48(FP), DX
	MOVL $0x7fffffff, BX
	VPBROADCASTD BX, Z31
	VBROADCASTSS 0(AX), Z30
	VBROADCASTSS 4(AX), Z29
	VBROADCASTSS 8(AX), Z28
	VBROADCASTSS 12(AX), Z27
	VBROADCASTSS 16(AX), Z26
	VBROADCASTSS 20(AX), Z25
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21

np1g_block:
	TESTQ CX, CX
	JZ    np1g_done
	BLOCK

np1g_loop:
	VMOVUPS (SI), Z0
	VPANDD  Z31, Z0, Z1
	VMULPS  (R8), Z30, Z2
	VMULPS  Z1, Z29, Z3
	VADDPS  Z3, Z2, Z2
	VMOVUPS Z2, (R8)
	VMULPS  (R9), Z28, Z3
	VMULPS  Z0, Z27, Z4
	VADDPS  Z4, Z3, Z3
	VMOVUPS Z3, (R9)
	VMULPS  (R10), Z26, Z4
	VMULPS  Z0, Z25, Z5
	VMULPS  Z0, Z5, Z5
	VADDPS  Z5, Z4, Z4
	VMOVUPS Z4, (R10)
	VADDPS  Z1, Z20, Z20
	VMULPS  Z0, Z0, Z7
	VADDPS  Z7, Z21, Z21
	ADDQ    $64, SI
	ADDQ    $64, R8
	ADDQ    $64, R9
	ADDQ    $64, R10
	DECQ    BX
	JNZ     np1g_loop
	FLUSH(Z20, Y20, 0)
	FLUSH(Z21, Y21, 128)
	JMP   np1g_block

np1g_done:
	VZEROUPPER
	RET

// NP2CONST loads pass 2's constants from AX and the lane state from DX.
#define NP2CONST \
	MOVL $0x7fffffff, BX; \
	VPBROADCASTD BX, Z31; \
	VBROADCASTSS 0(AX), Z30; \
	VBROADCASTSS 4(AX), Z29; \
	VBROADCASTSS 8(AX), Z28; \
	VBROADCASTSS 12(AX), Z27; \
	VBROADCASTSS 16(AX), Z26; \
	VBROADCASTSS 20(AX), Z25; \
	VBROADCASTSS 24(AX), Z24; \
	VBROADCASTSS 28(AX), Z23; \
	VBROADCASTSS 32(AX), Z22; \
	VBROADCASTSS 36(AX), Z21; \
	VBROADCASTSS 40(AX), Z20; \
	VBROADCASTSS 44(AX), Z19; \
	MOVL $63, BX; \
	VPBROADCASTD BX, Z18; \
	MOVL $64, BX; \
	VPBROADCASTD BX, Z17; \
	MOVL $1, BX; \
	VPBROADCASTD BX, Z16; \
	MOVL 48(AX), BX; \
	KMOVW BX, K5; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VMOVUPS 512(DX), Z12; \
	VMOVUPS 576(DX), Z13; \
	VMOVDQU32 640(DX), Z14; \
	VMOVDQU32 704(DX), Z15

// NP2DIAG: alpha in Z3, u in Z5 (stored at (R10)): sums, min, max,
// saturation counts, the histogram bin stored at (R11), and alpha over u
// where K5 (alphaOut).
#define NP2DIAG \
	VADDPS     Z3, Z8, Z8; \
	VMULPS     Z3, Z3, Z6; \
	VADDPS     Z6, Z9, Z9; \
	VMULPS     Z5, Z5, Z6; \
	VADDPS     Z6, Z10, Z10; \
	VMINPS     Z12, Z3, Z12; \
	VMAXPS     Z13, Z3, Z13; \
	VCMPPS     $0x12, Z20, Z3, K1; \
	VPADDD     Z16, Z14, K1, Z14; \
	VCMPPS     $0x1d, Z19, Z3, K2; \
	VPADDD     Z16, Z15, K2, Z15; \
	VSUBPS     Z24, Z3, Z6; \
	VMULPS     Z21, Z6, Z6; \
	VCVTTPS2DQ Z6, Z6; \
	VPMINSD    Z18, Z6, Z6; \
	VCMPPS     $0x1d, Z24, Z3, K3; \
	VCMPPS     $0x12, Z23, Z3, K4; \
	KANDW      K3, K4, K3; \
	VMOVDQA32  Z17, Z7; \
	VMOVDQA32  Z6, K3, Z7; \
	VPMOVDB    Z7, (R11); \
	VMOVUPS    Z3, K5, (R10)

#define NP2STORE \
	VMOVUPS   Z12, 512(DX); \
	VMOVUPS   Z13, 576(DX); \
	VMOVDQU32 Z14, 640(DX); \
	VMOVDQU32 Z15, 704(DX)

// func np2FullAVX512(grad, tr, mem, u *float32, bins *uint8, nvec int, c *np2Coef, acc *npAcc)
TEXT ·np2FullAVX512(SB), NOSPLIT, $0-64
	MOVQ grad+0(FP), SI
	MOVQ tr+8(FP), R8
	MOVQ mem+16(FP), R9
	MOVQ u+24(FP), R10
	MOVQ bins+32(FP), R11
	MOVQ nvec+40(FP), CX
	MOVQ c+48(FP), AX
	MOVQ acc+56(FP), DX
	NP2CONST

np2f_block:
	TESTQ CX, CX
	JZ    np2f_done
	BLOCK

np2f_loop:
	VMOVUPS (SI), Z0         // g
	VPANDD  Z31, Z0, Z1
	VMULPS  Z30, Z1, Z1      // gsig = |g|*dg
	VMAXPS  Z24, Z1, Z2
	VMINPS  Z23, Z2, Z2      // a = clamp(gsig)
	VMULPS  (R8), Z29, Z3    // tr*dt
	VMULPS  Z3, Z27, Z3      // wa*(tr*dt)
	VMULPS  Z1, Z26, Z4      // wg*gsig
	VADDPS  Z4, Z3, Z3
	VMULPS  (R9), Z28, Z4    // mem*dm
	VMULPS  Z4, Z25, Z4      // wm*(mem*dm)
	VADDPS  Z4, Z3, Z3
	VMAXPS  Z24, Z3, Z3
	VMINPS  Z23, Z3, Z3      // af
	VSUBPS  Z2, Z3, Z3       // af-a
	VMULPS  Z3, Z22, Z3      // gs*(af-a)
	VADDPS  Z3, Z2, Z3       // alpha
	VSUBPS  Z2, Z3, Z4       // alpha-a
	VMULPS  Z0, Z4, Z4       // delta
	VMULPS  Z0, Z2, Z5       // a*g
	VADDPS  Z4, Z5, Z5       // u
	VMOVUPS Z5, (R10)
	VMULPS  Z4, Z4, Z6
	VADDPS  Z6, Z11, Z11
	NP2DIAG
	ADDQ    $64, SI
	ADDQ    $64, R8
	ADDQ    $64, R9
	ADDQ    $64, R10
	ADDQ    $16, R11
	DECQ    BX
	JNZ     np2f_loop
	FLUSH(Z8, Y8, 0)
	FLUSH(Z9, Y9, 128)
	FLUSH(Z10, Y10, 256)
	FLUSH(Z11, Y11, 384)
	JMP   np2f_block

np2f_done:
	NP2STORE
	VZEROUPPER
	RET

// func np2GradAVX512(grad, u *float32, bins *uint8, nvec int, c *np2Coef, acc *npAcc)
TEXT ·np2GradAVX512(SB), NOSPLIT, $0-48
	MOVQ grad+0(FP), SI
	MOVQ u+8(FP), R10
	MOVQ bins+16(FP), R11
	MOVQ nvec+24(FP), CX
	MOVQ c+32(FP), AX
	MOVQ acc+40(FP), DX
	NP2CONST

np2g_block:
	TESTQ CX, CX
	JZ    np2g_done
	BLOCK

np2g_loop:
	VMOVUPS (SI), Z0
	VPANDD  Z31, Z0, Z1
	VMULPS  Z30, Z1, Z1
	VMAXPS  Z24, Z1, Z3
	VMINPS  Z23, Z3, Z3      // alpha = a
	VMULPS  Z0, Z3, Z5       // u = a*g
	VMOVUPS Z5, (R10)
	NP2DIAG
	ADDQ    $64, SI
	ADDQ    $64, R10
	ADDQ    $16, R11
	DECQ    BX
	JNZ     np2g_loop
	FLUSH(Z8, Y8, 0)
	FLUSH(Z9, Y9, 128)
	FLUSH(Z10, Y10, 256)
	JMP   np2g_block

np2g_done:
	NP2STORE
	VZEROUPPER
	RET

// func np3AVX512(p, u *float32, nvec int, c *np3Coef, acc *npAcc)
TEXT ·np3AVX512(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ u+8(FP), DI
	MOVQ nvec+16(FP), CX
	MOVQ c+24(FP), AX
	MOVQ acc+32(FP), DX
	VBROADCASTSS 0(AX), Z31  // s1
	VBROADCASTSS 4(AX), Z30  // gain
	VBROADCASTSS 8(AX), Z29  // neg
	VPXORD Z20, Z20, Z20

np3_block:
	TESTQ CX, CX
	JZ    np3_done
	BLOCK

np3_loop:
	VMOVUPS (SI), Z2         // p
	VMULPS  Z2, Z2, Z3
	VADDPS  Z3, Z20, Z20
	VMULPS  (DI), Z31, Z4    // u*s1
	VMULPS  Z30, Z4, Z4      // *gain
	VMULPS  Z4, Z29, Z4      // neg*x
	VADDPS  Z4, Z2, Z2
	VMOVUPS Z2, (SI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    BX
	JNZ     np3_loop
	FLUSH(Z20, Y20, 0)
	JMP   np3_block

np3_done:
	VZEROUPPER
	RET

// func adamAVX512(w, grad, m, v *float32, nvec int, c *adamCoef)
TEXT ·adamAVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), SI
	MOVQ grad+8(FP), DI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ nvec+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Z31  // decay
	VBROADCASTSS 4(AX), Z30  // wd
	VBROADCASTSS 8(AX), Z29  // w1
	VBROADCASTSS 12(AX), Z28 // b2
	VBROADCASTSS 16(AX), Z27 // c2
	VBROADCASTSS 20(AX), Z26 // bc2s
	VBROADCASTSS 24(AX), Z25 // eps
	VBROADCASTSS 28(AX), Z24 // negStep
	MOVL 32(AX), BX
	KMOVW BX, K1             // coupled lanes
	TESTQ CX, CX
	JZ    adam_done

adam_loop:
	VMOVUPS (SI), Z0
	VMULPS  Z31, Z0, Z0      // p*decay
	VMOVUPS (DI), Z1         // g
	VMULPS  Z0, Z30, Z2      // wd*p
	VADDPS  Z2, Z1, K1, Z1   // g + wd*p where coupled
	VMOVUPS (R8), Z3         // m
	VSUBPS  Z3, Z1, Z4       // g-m
	VMULPS  Z4, Z29, Z4      // w1*(g-m)
	VADDPS  Z4, Z3, Z3       // m
	VMOVUPS Z3, (R8)
	VMULPS  (R9), Z28, Z5    // v*b2
	VMULPS  Z1, Z27, Z6      // c2*g
	VMULPS  Z1, Z6, Z6       // (c2*g)*g
	VADDPS  Z6, Z5, Z5       // v
	VMOVUPS Z5, (R9)
	VSQRTPS Z5, Z5
	VDIVPS  Z26, Z5, Z5      // sqrt(v)/bc2s
	VADDPS  Z25, Z5, Z5      // + eps
	VMULPS  Z3, Z24, Z6      // negStep*m
	VDIVPS  Z5, Z6, Z6
	VADDPS  Z6, Z0, Z0
	VMOVUPS Z0, (SI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	ADDQ    $64, R8
	ADDQ    $64, R9
	DECQ    CX
	JNZ     adam_loop

adam_done:
	VZEROUPPER
	RET

// SGDCONST loads sgdCoef from AX: Z31 wd, Z30 mom, Z29 negLR, K1 coupled,
// K2 notFirst, K3 nesterov.
#define SGDCONST \
	VBROADCASTSS 0(AX), Z31; \
	VBROADCASTSS 4(AX), Z30; \
	VBROADCASTSS 8(AX), Z29; \
	MOVL 12(AX), BX; \
	KMOVW BX, K1; \
	MOVL 16(AX), BX; \
	KMOVW BX, K2; \
	MOVL 20(AX), BX; \
	KMOVW BX, K3

// func sgdAVX512(w, grad *float32, nvec int, c *sgdCoef)
TEXT ·sgdAVX512(SB), NOSPLIT, $0-32
	MOVQ w+0(FP), SI
	MOVQ grad+8(FP), DI
	MOVQ nvec+16(FP), CX
	MOVQ c+24(FP), AX
	SGDCONST
	TESTQ CX, CX
	JZ    sgd_done

sgd_loop:
	VMOVUPS (SI), Z0         // p
	VMOVUPS (DI), Z1         // d = g
	VMULPS  Z0, Z31, Z2
	VADDPS  Z2, Z1, K1, Z1   // d + wd*p where coupled
	VMULPS  Z1, Z29, Z1      // negLR*d
	VADDPS  Z1, Z0, Z0
	VMOVUPS Z0, (SI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     sgd_loop

sgd_done:
	VZEROUPPER
	RET

// func sgdMomAVX512(w, grad, buf *float32, nvec int, c *sgdCoef)
TEXT ·sgdMomAVX512(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ grad+8(FP), DI
	MOVQ buf+16(FP), R8
	MOVQ nvec+24(FP), CX
	MOVQ c+32(FP), AX
	SGDCONST
	TESTQ CX, CX
	JZ    sgdm_done

sgdm_loop:
	VMOVUPS   (SI), Z0       // p
	VMOVUPS   (DI), Z1       // d = g
	VMULPS    Z0, Z31, Z2
	VADDPS    Z2, Z1, K1, Z1 // d + wd*p where coupled
	VMULPS    (R8), Z30, Z3  // buf*mom
	VADDPS    Z1, Z3, Z3     // buf*mom + d
	VMOVAPS   Z1, Z4
	VMOVAPS   Z3, K2, Z4     // buf = notFirst ? buf*mom + d : d
	VMOVUPS   Z4, (R8)
	VMULPS    Z4, Z30, Z5    // mom*buf
	VADDPS    Z5, Z1, Z5     // d + mom*buf
	VMOVAPS   Z4, Z6
	VMOVAPS   Z5, K3, Z6     // nesterov ? d + mom*buf : buf
	VMULPS    Z6, Z29, Z6    // negLR*d
	VADDPS    Z6, Z0, Z0
	VMOVUPS   Z0, (SI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	ADDQ      $64, R8
	DECQ      CX
	JNZ       sgdm_loop

sgdm_done:
	VZEROUPPER
	RET

// func hybAdamAVX512(grad, w, bm, bv, u *float32, nvec int, c *hybCoef, acc *npAcc)
TEXT ·hybAdamAVX512(SB), NOSPLIT, $0-64
	MOVQ grad+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ bm+16(FP), R8
	MOVQ bv+24(FP), R9
	MOVQ u+32(FP), R10
	MOVQ nvec+40(FP), CX
	MOVQ c+48(FP), AX
	MOVQ acc+56(FP), DX
	VBROADCASTSS 0(AX), Z31  // b1
	VBROADCASTSS 4(AX), Z30  // c1
	VBROADCASTSS 8(AX), Z29  // b2
	VBROADCASTSS 12(AX), Z28 // c2
	VBROADCASTSS 16(AX), Z27 // d1
	VBROADCASTSS 20(AX), Z26 // d2
	VBROADCASTSS 24(AX), Z25 // beps
	VPXORD Z20, Z20, Z20     // sum u^2
	VPXORD Z21, Z21, Z21     // sum p^2

hyb_block:
	TESTQ CX, CX
	JZ    hyb_done
	BLOCK

hyb_loop:
	VMOVUPS (SI), Z2         // g
	VMULPS  (R8), Z31, Z3    // bm*b1
	VMULPS  Z2, Z30, Z4      // c1*g
	VADDPS  Z4, Z3, Z3       // bm
	VMOVUPS Z3, (R8)
	VMULPS  (R9), Z29, Z4    // bv*b2
	VMULPS  Z2, Z28, Z5      // c2*g
	VMULPS  Z2, Z5, Z5       // (c2*g)*g
	VADDPS  Z5, Z4, Z4       // bv
	VMOVUPS Z4, (R9)
	VDIVPS  Z27, Z3, Z3      // bm/d1
	VDIVPS  Z26, Z4, Z4      // bv/d2
	VSQRTPS Z4, Z4
	VADDPS  Z25, Z4, Z4
	VDIVPS  Z4, Z3, Z3       // base
	VMOVUPS Z3, (R10)
	VMULPS  Z3, Z3, Z5
	VADDPS  Z5, Z20, Z20
	VMOVUPS (DI), Z6
	VMULPS  Z6, Z6, Z6
	VADDPS  Z6, Z21, Z21
	ADDQ    $64, SI
	ADDQ    $64, DI
	ADDQ    $64, R8
	ADDQ    $64, R9
	ADDQ    $64, R10
	DECQ    BX
	JNZ     hyb_loop
	FLUSH(Z20, Y20, 0)
	FLUSH(Z21, Y21, 128)
	JMP   hyb_block

hyb_done:
	VZEROUPPER
	RET

// func hybDeltaAVX512(al, ref *float32, nvec int, c *hybDeltaCoef, acc *npAcc)
TEXT ·hybDeltaAVX512(SB), NOSPLIT, $0-40
	MOVQ al+0(FP), SI
	MOVQ ref+8(FP), DI
	MOVQ nvec+16(FP), CX
	MOVQ c+24(FP), AX
	MOVQ acc+32(FP), DX
	VBROADCASTSS 0(AX), Z31  // kf
	VBROADCASTSS 4(AX), Z30  // t
	VBROADCASTSS 8(AX), Z29  // dv
	MOVL $0x3f800000, BX
	VPBROADCASTD BX, Z28     // 1
	VPXORD Z20, Z20, Z20

hybd_block:
	TESTQ CX, CX
	JZ    hybd_done
	BLOCK

hybd_loop:
	VMOVUPS (SI), Z2
	VSUBPS  Z28, Z2, Z2      // alpha-1
	VMULPS  Z30, Z2, Z2      // *t
	VMOVUPS (DI), Z3
	VDIVPS  Z29, Z3, Z3      // ref/dv
	VMULPS  Z3, Z2, Z2
	VMULPS  Z2, Z31, Z2      // kf*(...)
	VMOVUPS Z2, (SI)
	VMULPS  Z2, Z2, Z3
	VADDPS  Z3, Z20, Z20
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    BX
	JNZ     hybd_loop
	FLUSH(Z20, Y20, 0)
	JMP   hybd_block

hybd_done:
	VZEROUPPER
	RET

// func hybFinishAVX512(u, al, w *float32, nvec int, c *hybFinCoef, acc *npAcc)
TEXT ·hybFinishAVX512(SB), NOSPLIT, $0-48
	MOVQ u+0(FP), SI
	MOVQ al+8(FP), R8
	MOVQ w+16(FP), DI
	MOVQ nvec+24(FP), CX
	MOVQ c+32(FP), AX
	MOVQ acc+40(FP), DX
	VBROADCASTSS 0(AX), Z31  // cs
	VBROADCASTSS 4(AX), Z30  // wdf
	VBROADCASTSS 8(AX), Z29  // decay
	MOVL 12(AX), BX
	KMOVW BX, K1             // decoupled decay lanes
	VPXORD Z20, Z20, Z20     // u^2
	VPXORD Z21, Z21, Z21     // x^2
	VPXORD Z22, Z22, Z22     // (wdf*p)^2

hybf_block:
	TESTQ CX, CX
	JZ    hybf_done
	BLOCK

hybf_loop:
	VMULPS  (R8), Z31, Z2    // x = delta*cs
	VMOVUPS (DI), Z3         // p
	VMULPS  Z3, Z30, Z4      // term
	VMULPS  Z4, Z4, Z4
	VADDPS  Z4, Z22, K1, Z22
	VMULPS  Z3, Z29, Z5      // decay*p
	VADDPS  Z5, Z3, K1, Z3
	VMOVUPS Z3, (DI)
	VADDPS  (SI), Z2, Z6     // y = u + x
	VMOVUPS Z6, (SI)
	VMULPS  Z6, Z6, Z6
	VADDPS  Z6, Z20, Z20
	VMULPS  Z2, Z2, Z2
	VADDPS  Z2, Z21, Z21
	ADDQ    $64, SI
	ADDQ    $64, R8
	ADDQ    $64, DI
	DECQ    BX
	JNZ     hybf_loop
	FLUSH(Z20, Y20, 0)
	FLUSH(Z21, Y21, 128)
	FLUSH(Z22, Y22, 256)
	JMP   hybf_block

hybf_done:
	VZEROUPPER
	RET
