// CPU conv2d and its two gradients: float32 runs image by image with im2col / col2im (assembly/conv.ts) and the Wasm GEMM, in place on tensors in the heap or in the GEMM's memory after a copy, no transposes; other dtypes use the JS reference.

import type { TypedArray } from '../../core/dtype.js';
import type { Conv2dParams } from '../../core/primitives.js';
import { conv2dGradInputJs, conv2dGradWeightJs, conv2dJs, geometry, type Geometry } from './conv2d-js.js';
import { CONV_ARGS, CONV_FORWARD, CONV_GRAD_INPUT, CONV_GRAD_WEIGHT } from './conv-range.js';
import { CONV_PANEL_WIDTH, convThreadsOn, gemmArena, runConvShares, splitRange, type ConvExports, type PackedGemm } from './wasm-gemm.js';
import { commonHeap, fillArray } from './wasm-heap.js';

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** Where one conv call runs: pointers to its operands, the column scratch and the output, and the modules on that memory. */
interface Staging {
  readonly conv: ConvExports;
  /** The product with a B that im2colPacked wrote, or null (then im2col and gemm). */
  readonly packed: PackedGemm | null;
  /** Byte addresses: the inputs in the order given, then the columns (`threads` blocks of them, then `extra` floats), then the output. */
  readonly ptrs: number[];
  /** Threads that share the images (or dW's rows): more than 1 only on the tensor heap with setGemmThreads. */
  readonly threads: number;
  /** Runs one share per thread (see convRange): the arguments of thread t are shares[t]. */
  share(shares: readonly number[][]): void;
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, aPtr: number, bPtr: number, cPtr: number, accumulate: boolean): void;
  /** Copies the output out (GEMM arena) or frees the column scratch (heap). */
  finish(): void;
}

/**
 * Tensors in the heap are used in place, with the columns in a heap block of their own; otherwise the
 * operands are copied into the GEMM module's arena and the output copied back.
 */
function stage(what: string, inputs: Float32Array[], cols: number, out: Float32Array, macs: number, parallel: boolean, extra = 0): Staging {
  const heap = commonHeap([out, ...inputs]);
  const g = heap?.gemm() ?? null;
  // Threads pay above ~2M multiply-adds (as for sgemm) when there is work to split.
  const threads = g !== null && parallel && macs >= CONV_PARALLEL_MIN_MACS ? convThreadsOn(heap!.memory) : 1;
  const scratchLen = cols * threads + extra;
  const scratch = g !== null && scratchLen > 0 ? heap!.alloc('float32', scratchLen, 'spill', what, false) : undefined;
  if (g !== null && (scratchLen === 0 || scratch !== undefined)) {
    return {
      conv: g.conv,
      packed: g.packed,
      threads,
      share: (shares) => runConvShares(heap!.memory, g.conv, shares),
      ptrs: [...inputs.map((x) => x.byteOffset), scratch?.byteOffset ?? 0, out.byteOffset],
      gemm: (tA, tB, M, N, K, a, b, c, acc) => g.sgemm(tA ? 1 : 0, tB ? 1 : 0, M, N, K, a, b, c, acc ? 1 : 0),
      finish: () => {
        if (scratch !== undefined) heap!.free(scratch);
      },
    };
  }
  const lengths = [...inputs.map((x) => x.length), cols + extra, out.length];
  const arena = gemmArena(lengths.reduce((s, n) => s + align16(n * 4), 0), what);
  const ptrs: number[] = [];
  let p = arena.base;
  for (const n of lengths) {
    ptrs.push(p);
    p += align16(n * 4);
  }
  inputs.forEach((x, i) => arena.f32(ptrs[i], x.length).set(x));
  return {
    conv: arena.conv, packed: arena.packed, ptrs, gemm: arena.gemm, threads: 1,
    share: () => {
      throw new Error(`${what}: conv shares run only on the tensor heap`);
    },
    finish: () => out.set(arena.f32(ptrs[ptrs.length - 1], out.length)),
  };
}

const CONV_PARALLEL_MIN_MACS = 1 << 21;

/** convRange's arguments for thread t (see conv-range.ts). */
function shareArgs(kind: number, g: Geometry, in0: number, in1: number, out: number, cols: number,
  n0: number, n1: number, r0: number, r1: number, kcBlk: number, slot: number, padded: number, dot = false): number[] {
  const a = [kind, ...packArgs(g), g.o, in0, in1, out, cols, n0, n1, r0, r1, kcBlk, slot, padded, dot ? 1 : 0];
  if (a.length !== CONV_ARGS) throw new Error(`conv share: ${a.length} arguments, expected ${CONV_ARGS}`);
  return a;
}

/** A 1x1, stride-1, unpadded conv reads the image itself as its columns. */
const isPointwise = (g: Geometry): boolean => g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0;

function packArgs(g: Geometry): [number, number, number, number, number, number, number, number, number, number, number] {
  return [g.c, g.h, g.w, g.kh, g.kw, g.ho, g.wo, g.sh, g.sw, g.ph, g.pw];
}

/**
 * y[n] = W [O, K] · cols(x[n]) [K, Ho·Wo] for each image n: y comes out in NCHW directly. The columns are written
 * in the GEMM's packed-B layout (im2colPacked), so the product packs only W: one pass over the columns, not two.
 */
function conv2dWasm(x: Float32Array, w: Float32Array, g: Geometry, out: Float32Array): void {
  const hw = g.ho * g.wo, K = g.c * g.kh * g.kw, img = g.c * g.h * g.w;
  const direct = isPointwise(g);
  // Room for the packed layout (columns rounded up to whole panels) and one row of it, or the plain layout.
  const padded = Math.ceil(hw / CONV_PANEL_WIDTH) * CONV_PANEL_WIDTH;
  const colsLen = direct ? 0 : (K + 1) * padded;
  const st = stage('conv2d', [x, w], colsLen, out, g.n * g.o * hw * K, g.n > 1 && (direct || hasPacked(x, w, out)));
  const [px, pw, pc, py] = st.ptrs;
  const a = packArgs(g);
  const packed = direct ? null : st.packed;
  const kcBlk = packed?.kBlock(K) ?? 0;
  if (st.threads > 1) {
    // Images split between the threads, each with its own columns.
    const c = splitRange(g.n, st.threads, 1);
    st.share(c.slice(0, -1).map((n0, t) =>
      shareArgs(CONV_FORWARD, g, px!, pw!, py!, direct ? 0 : pc! + t * colsLen * 4, n0, c[t + 1]!, 0, 0, kcBlk, t, padded)));
    st.finish();
    return;
  }
  for (let n = 0; n < g.n; n++) {
    const xn = px + n * img * 4;
    const yn = py + n * g.o * hw * 4;
    if (packed !== null) {
      st.conv.im2colPacked(xn, ...a, kcBlk, pc + K * padded * 4, pc);
      packed.run(g.o, hw, K, pw, pc, yn);
      continue;
    }
    if (!direct) st.conv.im2col(xn, ...a, pc);
    st.gemm(false, false, g.o, hw, K, pw, direct ? xn : pc, yn, false);
  }
  st.finish();
}

/** dcols = Wᵀ [K, O] · gy[n] [O, Ho·Wo], then col2im into dx[n], for each image n. */
function conv2dGradInputWasm(gy: Float32Array, w: Float32Array, g: Geometry, out: Float32Array): void {
  const hw = g.ho * g.wo, K = g.c * g.kh * g.kw, img = g.c * g.h * g.w;
  if (hw === 0) {
    fillArray(out, 0);
    return;
  }
  const direct = isPointwise(g);
  const colsLen = direct ? 0 : K * hw;
  const st = stage('conv2dGradInput', [gy, w], colsLen, out, g.n * g.o * hw * K, g.n > 1);
  const [pg, pw, pc, px] = st.ptrs;
  const a = packArgs(g);
  if (st.threads > 1) {
    const c = splitRange(g.n, st.threads, 1);
    st.share(c.slice(0, -1).map((n0, t) =>
      shareArgs(CONV_GRAD_INPUT, g, pg!, pw!, px!, direct ? 0 : pc! + t * colsLen * 4, n0, c[t + 1]!, 0, 0, 0, t, 0)));
    st.finish();
    return;
  }
  for (let n = 0; n < g.n; n++) {
    const xn = px + n * img * 4;
    st.gemm(true, false, K, hw, g.o, pw, pg + n * g.o * hw * 4, direct ? xn : pc, false);
    if (!direct) st.conv.col2im(pc, ...a, xn);
  }
  st.finish();
}

/**
 * dW [O, K] = Σ_n gy[n] [O, Ho·Wo] · cols(x[n])ᵀ [Ho·Wo, K], computed as its transpose dWᵀ [K, O] = Σ_n cols(x[n]) ·
 * gy[n]ᵀ and transposed at the end: K = 27 rows fill the GEMM's 4-row tiles (27 of 28), where K = 27 columns left a
 * 3-wide edge panel (27 of 32, at half speed). Each element is the same sum of the same products in the same order.
 * With fused multiply-add (the relaxed builds) and a small dW each image's part is dot products along the pixels
 * instead (dwDot: no packing of either operand, see dwByDots); the plain builds keep the GEMM and its bits.
 */
function conv2dGradWeightWasm(x: Float32Array, gy: Float32Array, g: Geometry, out: Float32Array): void {
  const hw = g.ho * g.wo, K = g.c * g.kh * g.kw, img = g.c * g.h * g.w;
  if (g.n === 0 || hw === 0) {
    fillArray(out, 0);
    return;
  }
  const direct = isPointwise(g);
  const colsLen = direct ? 0 : K * hw;
  // dWᵀ's columns (dW's rows) split between the threads (each runs every image, with its own columns): dW gets the
  // same sums in the same order as on one thread.
  const st = stage('conv2dGradWeight', [x, gy], colsLen, out, g.n * g.o * hw * K, g.o >= 8, K * g.o);
  const [px, pg, pc, pw] = st.ptrs;
  const pt = pc! + colsLen * st.threads * 4;
  const a = packArgs(g);
  const dot = dwByDots(st.conv, K, g.o, hw);
  if (st.threads > 1) {
    const c = splitRange(g.o, st.threads, 4);
    st.share(c.slice(0, -1).map((r0, t) =>
      shareArgs(CONV_GRAD_WEIGHT, g, px!, pg!, pt, direct ? 0 : pc! + t * colsLen * 4, 0, g.n, r0, c[t + 1]!, 0, t, 0, dot)));
  } else {
    for (let n = 0; n < g.n; n++) {
      const xn = px + n * img * 4;
      if (!direct) st.conv.im2col(xn, ...a, pc);
      const gn = pg + n * g.o * hw * 4;
      if (dot) st.conv.dwDot(direct ? xn : pc, gn, K, g.o, hw, pt, n > 0 ? 1 : 0, 0, g.o);
      else st.gemm(false, true, K, g.o, hw, direct ? xn : pc, gn, pt, n > 0);
    }
  }
  st.conv.transpose(pt, K, g.o, pw);
  st.finish();
}

/**
 * Whether dW's image parts run as dot products along the pixels (dwDot) rather than the packed GEMM: only with fused
 * multiply-add (the relaxed builds), and only where that measured faster (dW alone, one thread): few taps per output
 * (K <= 16, where the GEMM's 4-row tiles carry K = 9 at 75%: 0.62-0.86x the GEMM's time), or 256+ pixels with
 * K·O <= 4608, where packing both operands is a large part of the GEMM's work (3->32 at 32x32: 0.87x; 16->32: 0.92x).
 * Beyond, the GEMM's reuse wins (32->64 at 16x16: dot 1.06x; 64->128 at 8x8: 1.40x).
 */
function dwByDots(conv: ConvExports, K: number, O: number, hw: number): boolean {
  return conv.usesRelaxedSimd() === 1 && (K <= 16 || (hw >= 256 && K * O <= 4608));
}

const f32 = (...xs: TypedArray[]): boolean => xs.every((x) => x instanceof Float32Array);

/** Whether the heap's GEMM build writes conv's packed layout (the threaded forward needs it). */
function hasPacked(...xs: Float32Array[]): boolean {
  return commonHeap(xs)?.gemm()?.packed != null;
}

export function conv2dKernel(x: TypedArray, xShape: readonly number[], w: TypedArray, wShape: readonly number[], p: Conv2dParams, out: TypedArray, yShape: readonly number[]): void {
  if (out.length === 0) return;
  if (!f32(x, w, out)) return conv2dJs(x, xShape, w, wShape, p, out, yShape);
  conv2dWasm(x as Float32Array, w as Float32Array, geometry(xShape, wShape, yShape, p), out as Float32Array);
}

export function conv2dGradInputKernel(gy: TypedArray, yShape: readonly number[], w: TypedArray, wShape: readonly number[], p: Conv2dParams, out: TypedArray, xShape: readonly number[]): void {
  if (out.length === 0) return;
  if (!f32(gy, w, out)) return conv2dGradInputJs(gy, yShape, w, wShape, p, out, xShape);
  conv2dGradInputWasm(gy as Float32Array, w as Float32Array, geometry(xShape, wShape, yShape, p), out as Float32Array);
}

export function conv2dGradWeightKernel(x: TypedArray, xShape: readonly number[], gy: TypedArray, yShape: readonly number[], p: Conv2dParams, out: TypedArray, wShape: readonly number[]): void {
  if (out.length === 0) return;
  if (!f32(x, gy, out)) return conv2dGradWeightJs(x, xShape, gy, yShape, p, out, wShape);
  conv2dGradWeightWasm(x as Float32Array, gy as Float32Array, geometry(xShape, wShape, yShape, p), out as Float32Array);
}
