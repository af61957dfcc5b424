// Float32 GEMM (C = op(A) op(B) [+ C]) for Wasm SIMD: packed panels, cache blocking and a 4x8 register micro-kernel (FMA with relaxed SIMD).

import { madd } from './madd';

// ---------------------------------------------------------------------------
// Blocking parameters (upper bounds; actual blocks are split evenly). MR x NR is
// the register tile; KC x NR micro-panels of B stay in L1, MC x KC blocks of A
// stay in L2, KC x NC panels of B in L2/L3.
// The 4x8 tile already saturates the FP ports on x64 (~12 flop/cycle with
// f32x4 mul+add, ~16 with relaxed-SIMD FMA); larger tiles gain nothing in V8.
// ---------------------------------------------------------------------------
const MR: i32 = 4;
const NR: i32 = 8;
const MC: i32 = 128; // multiple of MR
const KC: i32 = 384;
const NC: i32 = 2048; // multiple of NR

const PACK_A_BYTES: usize = <usize>(MC * KC) << 2;
const PACK_B_BYTES: usize = <usize>(KC * NC) << 2;
const TILE_BYTES: usize = <usize>(MR * NR) << 2;
/** Scratch bytes needed by one caller of sgemmRange (one per thread slot). */
const SLOT_BYTES: usize = PACK_A_BYTES + PACK_B_BYTES + TILE_BYTES;
/** Number of scratch slots reserved (one per concurrently running thread). */
const MAX_SLOTS: i32 = 8;

const PAGE: usize = 65536;

// @ts-ignore: decorator
@inline function alignUp(x: usize, a: usize): usize {
  return (x + a - 1) & ~(a - 1);
}

const SCRATCH_BASE: usize = alignUp(__heap_base, 64);
const USER_BASE: usize = alignUp(SCRATCH_BASE + SLOT_BYTES * <usize>MAX_SLOTS, 64);

/** Grows linear memory so that `end` (exclusive byte address) is addressable. Returns false on failure. */
function growTo(end: usize): bool {
  const have = <usize>memory.size() * PAGE;
  if (end <= have) return true;
  const need = <i32>((end - have + PAGE - 1) / PAGE);
  return memory.grow(need) >= 0;
}

/** Number of scratch slots, i.e. the most threads that may run sgemmRange at once. */
export function maxSlots(): i32 {
  return MAX_SLOTS;
}

/** First byte address of the caller-managed region (after the packing scratch). */
export function userBase(): usize {
  return USER_BASE;
}

/**
 * Makes sure `bytes` bytes starting at userBase() (and all scratch slots) are addressable,
 * growing memory if needed. Returns userBase(), or 0 if memory could not grow.
 */
export function ensureCapacity(bytes: usize): usize {
  const end = USER_BASE + bytes;
  if (end < USER_BASE) return 0; // wrapped past 4 GiB
  return growTo(end) ? USER_BASE : 0;
}

/** Scratch layout of one slot. */
// @ts-ignore: decorator
@inline function slotPackA(slot: i32): usize {
  return SCRATCH_BASE + SLOT_BYTES * <usize>slot;
}
// @ts-ignore: decorator
@inline function slotPackB(slot: i32): usize {
  return slotPackA(slot) + PACK_A_BYTES;
}
// @ts-ignore: decorator
@inline function slotTile(slot: i32): usize {
  return slotPackB(slot) + PACK_B_BYTES;
}

// ---------------------------------------------------------------------------
// Packing. Element (i, k) of op(A) and (k, j) of op(B):
//   op(A)(i,k) = transA ? A[k*M + i] : A[i*K + k]
//   op(B)(k,j) = transB ? B[j*K + k] : B[k*N + j]
// Packed A: for each MR-row panel, kc groups of MR floats (row-interleaved), zero-padded.
// Packed B: for each NR-col panel, kc groups of NR floats, zero-padded.
// ---------------------------------------------------------------------------

/** Packs rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) into dst. */
function packA(transA: bool, M: i32, K: i32, a: usize, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const mr = min(MR, mc - ip);
    const i = i0 + ip;
    if (transA) {
      // A stored [K, M]: the MR values for one k are contiguous.
      let src = a + ((<usize>p0 * <usize>M + <usize>i) << 2);
      const stride = <usize>M << 2;
      if (mr == MR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(src));
          src += stride;
          dst += <usize>MR << 2;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) {
            store<f32>(dst + (<usize>r << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
          }
          src += stride;
          dst += <usize>MR << 2;
        }
      }
    } else {
      // A stored [M, K]: MR rows, each contiguous in k.
      interleave4(a + ((<usize>i * <usize>K + <usize>p0) << 2), <usize>K << 2, mr, kc, dst, <usize>MR << 2);
      dst += <usize>(kc * MR) << 2;
    }
  }
}

/**
 * Packs `rows` (<= 4) rows of kc floats, `stride` bytes apart, as kc groups of 4 floats (row r at lane r, zeros in
 * the lanes of missing rows) `step` bytes apart: 4x4 transposes, four k at a time.
 */
function interleave4(r0: usize, stride: usize, rows: i32, kc: i32, dst: usize, step: usize): void {
  const r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
  const z = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= kc; k += 4) {
    const o = <usize>k << 2;
    const x0 = rows > 0 ? v128.load(r0 + o) : z;
    const x1 = rows > 1 ? v128.load(r1 + o) : z;
    const x2 = rows > 2 ? v128.load(r2 + o) : z;
    const x3 = rows > 3 ? v128.load(r3 + o) : z;
    const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5); // a0 b0 a1 b1
    const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5); // c0 d0 c1 d1
    const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7); // a2 b2 a3 b3
    const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7); // c2 d2 c3 d3
    v128.store(dst, v128.shuffle<f64>(t0, t1, 0, 2));
    v128.store(dst + step, v128.shuffle<f64>(t0, t1, 1, 3));
    v128.store(dst + 2 * step, v128.shuffle<f64>(t2, t3, 0, 2));
    v128.store(dst + 3 * step, v128.shuffle<f64>(t2, t3, 1, 3));
    dst += 4 * step;
  }
  for (; k < kc; k++, dst += step) {
    const o = <usize>k << 2;
    for (let r = 0; r < 4; r++) store<f32>(dst + (<usize>r << 2), r < rows ? load<f32>(r0 + <usize>r * stride + o) : 0);
  }
}

/** Packs rows [p0, p0+kc) x cols [j0, j0+nc) of op(B) into dst. */
function packB(transB: bool, N: i32, K: i32, b: usize, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  if (!transB) {
    packBRows(N, b, p0, kc, j0, nc, dst);
    return;
  }
  for (let jp = 0; jp < nc; jp += NR) {
    // B stored [N, K]: each of the NR columns of op(B) is a contiguous row of B; columns 0..3 and 4..7 of the panel.
    const nr = min(NR, nc - jp);
    const strideCol = <usize>K << 2;
    const c0 = b + ((<usize>(j0 + jp) * <usize>K + <usize>p0) << 2);
    interleave4(c0, strideCol, min(nr, 4), kc, dst, <usize>NR << 2);
    interleave4(c0 + 4 * strideCol, strideCol, max(nr - 4, 0), kc, dst + 16, <usize>NR << 2);
    dst += <usize>(kc * NR) << 2;
  }
}

/**
 * packB of a B stored [K, N] (NR values for one k contiguous): four rows at a time across all whole panels, then
 * the remaining rows, then the last partial panel with zero columns. Going down one panel's rows instead reads a
 * line per row from one L1 set when the rows are a multiple of 4 KiB apart (a 32x32 image's 1024 columns): 3x
 * slower than a copy, where this order is within 1.2x of one.
 */
function packBRows(N: i32, b: usize, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  const stride = <usize>N << 2;
  const step = <usize>(kc * NR) << 2;
  const full = nc / NR;
  const top = b + ((<usize>p0 * <usize>N + <usize>j0) << 2);
  let k = 0;
  for (; k < kc; ) {
    const rows = kc - k >= 4 ? 4 : 1;
    let src = top + <usize>k * stride;
    let d = dst + (<usize>(k * NR) << 2);
    for (let p = 0; p < full; p++, src += <usize>NR << 2, d += step) {
      for (let r = 0; r < rows; r++) {
        const o = <usize>r * stride;
        v128.store(d + (<usize>(r * NR) << 2), v128.load(src + o));
        v128.store(d + (<usize>(r * NR) << 2), v128.load(src + o, 16), 16);
      }
    }
    k += rows;
  }
  const nr = nc - full * NR;
  if (nr == 0) return;
  let src = top + (<usize>(full * NR) << 2);
  let d = dst + <usize>full * step;
  for (k = 0; k < kc; k++, src += stride, d += <usize>NR << 2) {
    for (let c = 0; c < NR; c++) store<f32>(d + (<usize>c << 2), c < nr ? load<f32>(src + (<usize>c << 2)) : 0);
  }
}

export { usesRelaxedSimd } from './madd';

// ---------------------------------------------------------------------------
// Micro-kernel: C[0:MR, 0:NR] (+)= Apanel[MR x kc] * Bpanel[kc x NR].
// If the tile is partial (mr < MR or nr < NR) the result goes through `tile`.
// ---------------------------------------------------------------------------
function kernel4x8(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, addC: bool, mr: i32, nr: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    pa += 16;
    pb += 32;
  }
  if (mr == MR && nr == NR) {
    const c0 = c, c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
    if (addC) {
      c00 = f32x4.add(c00, v128.load(c0)); c01 = f32x4.add(c01, v128.load(c0, 16));
      c10 = f32x4.add(c10, v128.load(c1)); c11 = f32x4.add(c11, v128.load(c1, 16));
      c20 = f32x4.add(c20, v128.load(c2)); c21 = f32x4.add(c21, v128.load(c2, 16));
      c30 = f32x4.add(c30, v128.load(c3)); c31 = f32x4.add(c31, v128.load(c3, 16));
    }
    v128.store(c0, c00); v128.store(c0, c01, 16);
    v128.store(c1, c10); v128.store(c1, c11, 16);
    v128.store(c2, c20); v128.store(c2, c21, 16);
    v128.store(c3, c30); v128.store(c3, c31, 16);
  } else {
    v128.store(tile, c00); v128.store(tile, c01, 16);
    v128.store(tile, c10, 32); v128.store(tile, c11, 48);
    v128.store(tile, c20, 64); v128.store(tile, c21, 80);
    v128.store(tile, c30, 96); v128.store(tile, c31, 112);
    storePartial(tile, c, ldc, addC, mr, nr);
  }
}

/** Like kernel4x8 for tiles at most NR/2 wide: reads only the left half of the packed B panel. */
function kernel4x4(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, addC: bool, mr: i32, nr: i32, tile: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    c0 = madd(v128.load32_splat(pa), b0, c0);
    c1 = madd(v128.load32_splat(pa, 4), b0, c1);
    c2 = madd(v128.load32_splat(pa, 8), b0, c2);
    c3 = madd(v128.load32_splat(pa, 12), b0, c3);
    pa += 16;
    pb += 32;
  }
  v128.store(tile, c0); v128.store(tile, c1, 32);
  v128.store(tile, c2, 64); v128.store(tile, c3, 96);
  storePartial(tile, c, ldc, addC, mr, nr);
}

/** Block size <= maxBlk splitting n into equal parts, rounded up to a multiple of `mult`. */
function evenBlock(n: i32, maxBlk: i32, mult: i32): i32 {
  if (n <= maxBlk) return (n + mult - 1) / mult * mult;
  const parts = (n + maxBlk - 1) / maxBlk;
  const b = (n + parts - 1) / parts;
  return (b + mult - 1) / mult * mult;
}

/** Writes the top-left mr x nr corner of an MR x NR tile into C. */
function storePartial(tile: usize, c: usize, ldc: usize, addC: bool, mr: i32, nr: i32): void {
  for (let i = 0; i < mr; i++) {
    const row = c + <usize>i * ldc;
    const t = tile + ((<usize>(i * NR)) << 2);
    if (nr == NR) {
      // A whole row of the tile (the bottom edge of C): two vectors.
      let v0 = v128.load(t), v1 = v128.load(t, 16);
      if (addC) {
        v0 = f32x4.add(v0, v128.load(row));
        v1 = f32x4.add(v1, v128.load(row, 16));
      }
      v128.store(row, v0);
      v128.store(row, v1, 16);
      continue;
    }
    for (let j = 0; j < nr; j++) {
      const o = <usize>j << 2;
      let v = load<f32>(t + o);
      if (addC) v += load<f32>(row + o);
      store<f32>(row + o, v);
    }
  }
}

/** Zeroes (or keeps, if accumulate) the block [m0,m1) x [n0,n1) of C when K == 0. */
function handleEmptyK(N: i32, c: usize, m0: i32, m1: i32, n0: i32, n1: i32, accumulate: bool): void {
  if (accumulate) return;
  for (let i = m0; i < m1; i++) {
    memory.fill(c + ((<usize>i * <usize>N + <usize>n0) << 2), 0, <usize>(n1 - n0) << 2);
  }
}

/**
 * Computes the block rows [m0, m1) x cols [n0, n1) of C[M,N] = op(A) op(B) (+ C if accumulate),
 * using packing scratch slot `slot` (0 <= slot < maxSlots(); one per concurrently running thread).
 * Row-major; A is [M,K] (or [K,M] if transA), B is [K,N] (or [N,K] if transB).
 */
export function sgemmRange(
  transA: i32, transB: i32, M: i32, N: i32, K: i32,
  aPtr: usize, bPtr: usize, cPtr: usize, accumulate: i32,
  m0: i32, m1: i32, n0: i32, n1: i32, slot: i32,
): void {
  gemmBlocks(transA, transB, M, N, K, aPtr, bPtr, cPtr, accumulate, m0, m1, n0, n1, slot, false);
}

/**
 * Rows of K split into blocks of kBlock(K) (the last one shorter): the B of sgemmPacked is laid out block by
 * block, each block of kc rows as ceil(N / NR) panels of kc x NR floats (see packB), columns past N zero.
 */
export function kBlock(K: i32): i32 {
  return evenBlock(K, KC, 1);
}

/** The panel width NR of the packed B layout. */
export function panelWidth(): i32 {
  return NR;
}

/**
 * C[M,N] = A[M,K] B (+ C if accumulate) with B already packed (kBlock's layout, e.g. written straight from an
 * image by conv's im2colPacked), on the calling thread with scratch slot `slot`: the same blocks, kernels and
 * rounding as sgemm.
 */
export function sgemmPacked(M: i32, N: i32, K: i32, aPtr: usize, bPacked: usize, cPtr: usize, accumulate: i32, slot: i32): void {
  gemmBlocks(0, 0, M, N, K, aPtr, bPacked, cPtr, accumulate, 0, M, 0, N, slot, true);
}

function gemmBlocks(
  transA: i32, transB: i32, M: i32, N: i32, K: i32,
  aPtr: usize, bPtr: usize, cPtr: usize, accumulate: i32,
  m0: i32, m1: i32, n0: i32, n1: i32, slot: i32, packed: bool,
): void {
  if (m1 <= m0 || n1 <= n0) return;
  const acc = accumulate != 0;
  if (K <= 0) {
    handleEmptyK(N, cPtr, m0, m1, n0, n1, acc);
    return;
  }
  const tA = transA != 0, tB = transB != 0;
  const pA = slotPackA(slot), pB = slotPackB(slot), tile = slotTile(slot);
  const ldc = <usize>N << 2;
  // Even splits avoid a thin last block (e.g. K=784 -> 3 x 262 rather than 384+384+16).
  const ncBlk = evenBlock(n1 - n0, NC, NR);
  const kcBlk = evenBlock(K, KC, 1);
  const mcBlk = evenBlock(m1 - m0, MC, MR);
  // A packed B holds whole panels: N rounded up to NR columns per row.
  const nPadded = (N + NR - 1) / NR * NR;
  for (let jc = n0; jc < n1; jc += ncBlk) {
    const nc = min(ncBlk, n1 - jc);
    for (let pc = 0; pc < K; pc += kcBlk) {
      const kc = min(kcBlk, K - pc);
      const addC = acc || pc > 0;
      let panels = pB;
      if (packed) panels = bPtr + ((<usize>pc * <usize>nPadded + <usize>jc * <usize>kc) << 2);
      else packB(tB, N, K, bPtr, pc, kc, jc, nc, pB);
      for (let ic = m0; ic < m1; ic += mcBlk) {
        const mc = min(mcBlk, m1 - ic);
        packA(tA, M, K, aPtr, ic, mc, pc, kc, pA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pb = panels + ((<usize>jr * <usize>kc) << 2);
          const cCol = cPtr + ((<usize>(jc + jr)) << 2);
          if (nr > NR / 2) {
            for (let ir = 0; ir < mc; ir += MR) {
              const mr = min(MR, mc - ir);
              const pa = pA + ((<usize>ir * <usize>kc) << 2);
              kernel4x8(kc, pa, pb, cCol + <usize>(ic + ir) * ldc, ldc, addC, mr, nr, tile);
            }
          } else {
            // Narrow right edge (e.g. N=10): half-width tile, skips the zero half of the panel.
            for (let ir = 0; ir < mc; ir += MR) {
              const mr = min(MR, mc - ir);
              const pa = pA + ((<usize>ir * <usize>kc) << 2);
              kernel4x4(kc, pa, pb, cCol + <usize>(ic + ir) * ldc, ldc, addC, mr, nr, tile);
            }
          }
        }
      }
    }
  }
}

/** C[M,N] = op(A) op(B) (+ C if accumulate), single-threaded (scratch slot 0). See sgemmRange. */
export function sgemm(
  transA: i32, transB: i32, M: i32, N: i32, K: i32,
  aPtr: usize, bPtr: usize, cPtr: usize, accumulate: i32,
): void {
  sgemmRange(transA, transB, M, N, K, aPtr, bPtr, cPtr, accumulate, 0, M, 0, N, 0);
}
