// One thread's share of a float32 conv2d, grad-input or grad-weight on Wasm memory, as source text: the main thread and the GEMM worker threads (Node) compile and run the same code.

import type { ConvExports } from './wasm-gemm.js';

/** Job kinds of `convRange` (word 0 of its arguments). */
export const CONV_FORWARD = 1;
export const CONV_GRAD_INPUT = 2;
export const CONV_GRAD_WEIGHT = 3;
/** Int32 words of a conv job's arguments (see convRange). */
export const CONV_ARGS = 25;

/** The GEMM exports a share needs (instantiated on the memory the pointers address; the conv module's: ConvExports). */
export interface ConvRangeGemm {
  sgemmRange(tA: number, tB: number, M: number, N: number, K: number, a: number, b: number, c: number, acc: number,
    m0: number, m1: number, n0: number, n1: number, slot: number): void;
  sgemmPacked(M: number, N: number, K: number, a: number, b: number, c: number, acc: number, slot: number): void;
}

/**
 * One share. Arguments `a` (CONV_ARGS words): kind; the geometry c, h, w, kh, kw, ho, wo, sh, sw, ph, pw (words
 * 1-11); output channels o; the two inputs (forward: x, W; grad-input: gy, W; grad-weight: x, gy); the output; this
 * thread's column scratch (0: a pointwise conv, which reads the image as its columns); images [n0, n1); output rows
 * [r0, r1) (grad-weight, which every thread runs over all images for its columns of dWᵀ, the output); the packed K block (forward);
 * the GEMM scratch slot; the packed row length (forward); 1 when grad-weight runs as dot products (dwDot, see
 * conv2d.ts's dwByDots), else 0.
 *
 * Each output element comes from the same blocks in the same order as the single-threaded loops of conv2d.ts, so
 * the bits do not depend on how the work is shared. It is kept as source text, compiled once here and once in each
 * worker, so both run exactly this code whatever tools rewrite this module's functions (coverage, mutation testing).
 */
export const CONV_RANGE_SOURCE = `
  const kind = a[0], c = a[1], h = a[2], w = a[3], kh = a[4], kw = a[5], ho = a[6], wo = a[7];
  const sh = a[8], sw = a[9], ph = a[10], pw = a[11], o = a[12];
  const in0 = a[13], in1 = a[14], out = a[15], cols = a[16], n0 = a[17], n1 = a[18], r0 = a[19], r1 = a[20];
  const kcBlk = a[21], slot = a[22], padded = a[23], dot = a[24];
  const hw = ho * wo, K = c * kh * kw, img = c * h * w;
  if (kind === 1) {
    // y[n] = W [o, K] · cols(x[n]), the columns written in the GEMM's packed layout.
    for (let n = n0; n < n1; n++) {
      const yn = out + n * o * hw * 4;
      if (cols === 0) {
        g.sgemmRange(0, 0, o, hw, K, in1, in0 + n * img * 4, yn, 0, 0, o, 0, hw, slot);
        continue;
      }
      cv.im2colPacked(in0 + n * img * 4, c, h, w, kh, kw, ho, wo, sh, sw, ph, pw, kcBlk, cols + K * padded * 4, cols);
      g.sgemmPacked(o, hw, K, in1, cols, yn, 0, slot);
    }
  } else if (kind === 2) {
    // dcols = Wᵀ [K, o] · gy[n] [o, hw], then col2im into dx[n].
    for (let n = n0; n < n1; n++) {
      const xn = out + n * img * 4;
      g.sgemmRange(1, 0, K, hw, o, in1, in0 + n * o * hw * 4, cols === 0 ? xn : cols, 0, 0, K, 0, hw, slot);
      if (cols !== 0) cv.col2im(cols, c, h, w, kh, kw, ho, wo, sh, sw, ph, pw, xn);
    }
  } else if (kind === 3) {
    // Columns [r0, r1) of dWᵀ [K, o] = Σ_n cols(x[n]) · gy[n]ᵀ (rows [r0, r1) of dW), accumulated image by image.
    for (let n = n0; n < n1; n++) {
      const xn = in0 + n * img * 4;
      if (cols !== 0) cv.im2col(xn, c, h, w, kh, kw, ho, wo, sh, sw, ph, pw, cols);
      // Dot products along the pixels where conv2d.ts chose them (as on one thread), else the GEMM.
      if (dot === 1) cv.dwDot(cols === 0 ? xn : cols, in1 + n * o * hw * 4, K, o, hw, out, n > n0 ? 1 : 0, r0, r1);
      else g.sgemmRange(0, 1, K, o, hw, cols === 0 ? xn : cols, in1 + n * o * hw * 4, out, n > n0 ? 1 : 0, 0, K, r0, r1, slot);
    }
  } else {
    throw new Error('convRange: unknown job kind ' + kind);
  }
`;

type ConvRangeFn = (g: ConvRangeGemm, cv: ConvExports, a: ArrayLike<number>) => void;
let compiled: ConvRangeFn | null = null;

/** Runs one share (CONV_RANGE_SOURCE) on this thread. */
export function convRange(g: ConvRangeGemm, cv: ConvExports, a: ArrayLike<number>): void {
  compiled ??= new Function('g', 'cv', 'a', CONV_RANGE_SOURCE) as ConvRangeFn;
  compiled(g, cv, a);
}
