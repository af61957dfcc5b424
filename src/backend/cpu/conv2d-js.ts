// Reference CPU conv2d and its two gradients in plain JS: im2col / col2im around one matrix multiply each (float64, and the check for the Wasm path).

import type { TypedArray } from '../../core/dtype.js';
import type { Conv2dParams } from '../../core/primitives.js';
import { matmulKernel } from './matmul.js';

export interface Geometry {
  n: number; c: number; h: number; w: number;
  o: number; kh: number; kw: number;
  ho: number; wo: number;
  sh: number; sw: number; ph: number; pw: number;
}

export function geometry(xShape: readonly number[], wShape: readonly number[], yShape: readonly number[], p: Conv2dParams): Geometry {
  return {
    n: xShape[0], c: xShape[1], h: xShape[2], w: xShape[3],
    o: wShape[0], kh: wShape[2], kw: wShape[3],
    ho: yShape[2], wo: yShape[3],
    sh: p.stride[0], sw: p.stride[1], ph: p.padding[0], pw: p.padding[1],
  };
}

function newLike(x: TypedArray, n: number): TypedArray {
  return x instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
}

/** cols[(c,ki,kj), (n,oy,ox)] = x[n, c, oy*sh - ph + ki, ox*sw - pw + kj] (0 outside). */
function im2col(x: TypedArray, g: Geometry): TypedArray {
  const P = g.n * g.ho * g.wo;
  const cols = newLike(x, g.c * g.kh * g.kw * P);
  for (let c = 0; c < g.c; c++) {
    for (let ki = 0; ki < g.kh; ki++) {
      for (let kj = 0; kj < g.kw; kj++) {
        const row = ((c * g.kh + ki) * g.kw + kj) * P;
        for (let n = 0; n < g.n; n++) {
          const xb = (n * g.c + c) * g.h * g.w;
          for (let oy = 0; oy < g.ho; oy++) {
            const iy = oy * g.sh - g.ph + ki;
            const dst = row + (n * g.ho + oy) * g.wo;
            if (iy < 0 || iy >= g.h) continue; // cols starts zeroed
            const xr = xb + iy * g.w;
            for (let ox = 0; ox < g.wo; ox++) {
              const ix = ox * g.sw - g.pw + kj;
              if (ix >= 0 && ix < g.w) cols[dst + ox] = x[xr + ix];
            }
          }
        }
      }
    }
  }
  return cols;
}

/** The adjoint of im2col: scatter-adds columns back into an image batch. */
function col2im(cols: TypedArray, g: Geometry, out: TypedArray): void {
  out.fill(0);
  const P = g.n * g.ho * g.wo;
  for (let c = 0; c < g.c; c++) {
    for (let ki = 0; ki < g.kh; ki++) {
      for (let kj = 0; kj < g.kw; kj++) {
        const row = ((c * g.kh + ki) * g.kw + kj) * P;
        for (let n = 0; n < g.n; n++) {
          const xb = (n * g.c + c) * g.h * g.w;
          for (let oy = 0; oy < g.ho; oy++) {
            const iy = oy * g.sh - g.ph + ki;
            if (iy < 0 || iy >= g.h) continue;
            const src = row + (n * g.ho + oy) * g.wo;
            const xr = xb + iy * g.w;
            for (let ox = 0; ox < g.wo; ox++) {
              const ix = ox * g.sw - g.pw + kj;
              if (ix >= 0 && ix < g.w) out[xr + ix] += cols[src + ox];
            }
          }
        }
      }
    }
  }
}

/** [O, N*HoWo] (channel-major) <-> [N, O, Ho, Wo] (NCHW). */
function channelMajorToNchw(y: TypedArray, g: Geometry, out: TypedArray): void {
  const hw = g.ho * g.wo;
  for (let o = 0; o < g.o; o++) {
    for (let n = 0; n < g.n; n++) out.set(y.subarray((o * g.n + n) * hw, (o * g.n + n + 1) * hw), (n * g.o + o) * hw);
  }
}

function nchwToChannelMajor(y: TypedArray, g: Geometry): TypedArray {
  const hw = g.ho * g.wo;
  const out = newLike(y, y.length);
  for (let n = 0; n < g.n; n++) {
    for (let o = 0; o < g.o; o++) out.set(y.subarray((n * g.o + o) * hw, (n * g.o + o + 1) * hw), (o * g.n + n) * hw);
  }
  return out;
}

export function conv2dJs(x: TypedArray, xShape: readonly number[], w: TypedArray, wShape: readonly number[], p: Conv2dParams, out: TypedArray, yShape: readonly number[]): void {
  const g = geometry(xShape, wShape, yShape, p);
  const P = g.n * g.ho * g.wo;
  const K = g.c * g.kh * g.kw;
  const cols = im2col(x, g);
  const y = newLike(x, g.o * P);
  matmulKernel(w, cols, g.o, P, K, false, false, y);
  channelMajorToNchw(y, g, out);
}

export function conv2dGradInputJs(gy: TypedArray, yShape: readonly number[], w: TypedArray, wShape: readonly number[], p: Conv2dParams, out: TypedArray, xShape: readonly number[]): void {
  const g = geometry(xShape, wShape, yShape, p);
  const P = g.n * g.ho * g.wo;
  const K = g.c * g.kh * g.kw;
  const gcm = nchwToChannelMajor(gy, g);
  const dcols = newLike(gy, K * P);
  matmulKernel(w, gcm, K, P, g.o, true, false, dcols);
  col2im(dcols, g, out);
}

export function conv2dGradWeightJs(x: TypedArray, xShape: readonly number[], gy: TypedArray, yShape: readonly number[], p: Conv2dParams, out: TypedArray, wShape: readonly number[]): void {
  const g = geometry(xShape, wShape, yShape, p);
  const P = g.n * g.ho * g.wo;
  const K = g.c * g.kh * g.kw;
  const cols = im2col(x, g);
  const gcm = nchwToChannelMajor(gy, g);
  matmulKernel(gcm, cols, g.o, K, P, false, true, out);
}
