// CPU max-pooling kernels: first-maximum window offsets (argmax), the gather at them and its transpose, the scatter-add; tight typed-array loops with a 2x2 stride-2 fast path.

import type { TypedArray } from '../../core/dtype.js';
import type { Pool2dParams } from '../../core/primitives.js';
import { residentKernels } from './wasm-elementwise.js';
import { fillArray } from './wasm-heap.js';

/*
 * The 2x2 stride-2 unpadded case the models use runs in Wasm SIMD (assembly/pool.ts) when the float32 operands live
 * in the tensor heap, four windows per step; otherwise, and for every other window, plain loops (the 2x2 case as
 * straight-line code). Copying operands into Wasm memory just for pooling would cost as much as the kernel itself.
 */

interface Geometry {
  planes: number;
  h: number;
  w: number;
  ho: number;
  wo: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

function geometry(xShape: readonly number[], yShape: readonly number[], p: Pool2dParams): Geometry {
  return {
    planes: xShape[0] * xShape[1], h: xShape[2], w: xShape[3], ho: yShape[2], wo: yShape[3],
    kh: p.kernel[0], kw: p.kernel[1], sh: p.stride[0], sw: p.stride[1], ph: p.padding[0], pw: p.padding[1],
  };
}

const isPlain2x2 = (g: Geometry): boolean => g.kh === 2 && g.kw === 2 && g.sh === 2 && g.sw === 2 && g.ph === 0 && g.pw === 0;

/** Whether v replaces the running maximum: strictly greater (so ties keep the first), or the first NaN. */
const wins = (v: number, best: number): boolean => v > best || (v !== v && best === best);

export function maxPool2dArgmaxKernel(x: TypedArray, xShape: readonly number[], p: Pool2dParams, out: TypedArray, yShape: readonly number[]): void {
  const g = geometry(xShape, yShape, p);
  const { planes, h, w, ho, wo, kh, kw, sh, sw, ph, pw } = g;
  if (isPlain2x2(g)) {
    const k = x instanceof Float32Array ? residentKernels([x, out]) : null;
    if (k !== null) return k.argmax2x2(x.byteOffset, planes, h, w, ho, wo, out.byteOffset);
    for (let q = 0; q < planes; q++) {
      const xb = q * h * w;
      let o = q * ho * wo;
      for (let i = 0; i < ho; i++) {
        let r0 = xb + 2 * i * w;
        for (let j = 0; j < wo; j++, r0 += 2, o++) {
          const r1 = r0 + w;
          let best = x[r0];
          let r = 0;
          let v = x[r0 + 1];
          if (wins(v, best)) (best = v), (r = 1);
          v = x[r1];
          if (wins(v, best)) (best = v), (r = 2);
          v = x[r1 + 1];
          if (wins(v, best)) r = 3;
          out[o] = r;
        }
      }
    }
    return;
  }
  for (let q = 0; q < planes; q++) {
    const xb = q * h * w;
    let o = q * ho * wo;
    for (let i = 0; i < ho; i++) {
      const y0 = i * sh - ph;
      const dy0 = Math.max(0, -y0);
      const dy1 = Math.min(kh, h - y0);
      for (let j = 0; j < wo; j++, o++) {
        const x0 = j * sw - pw;
        const dx0 = Math.max(0, -x0);
        const dx1 = Math.min(kw, w - x0);
        // Start below every number at the first in-image position, so an all -Infinity window picks it.
        let best = -Infinity;
        let r = dy0 * kw + dx0;
        for (let dy = dy0; dy < dy1; dy++) {
          const row = xb + (y0 + dy) * w + x0;
          for (let dx = dx0; dx < dx1; dx++) {
            const v = x[row + dx];
            if (wins(v, best)) (best = v), (r = dy * kw + dx);
          }
        }
        out[o] = r;
      }
    }
  }
}

/** Flat input index of output o's argmax, checked to be an in-image window position. */
function source(op: string, g: Geometry, o: number, r: number): number {
  const j = o % g.wo;
  const qi = (o - j) / g.wo;
  const i = qi % g.ho;
  const q = (qi - i) / g.ho;
  const dx = r % g.kw;
  const dy = (r - dx) / g.kw;
  const yy = i * g.sh - g.ph + dy;
  const xx = j * g.sw - g.pw + dx;
  if (!Number.isInteger(r) || r < 0 || dy >= g.kh || yy < 0 || yy >= g.h || xx < 0 || xx >= g.w) {
    throw new Error(`${op}: argmax ${r} at output ${o} is not an in-image position of a ${g.kh}x${g.kw} window`);
  }
  return (q * g.h + yy) * g.w + xx;
}

/** Checks the argmax values of the 2x2 path (0..3), which the fast loops index without further checks. */
function check2x2(op: string, arg: TypedArray): void {
  const k = arg instanceof Float32Array ? residentKernels([arg]) : null;
  if (k !== null) {
    const bad = k.checkArgs2x2(arg.byteOffset, arg.length);
    if (bad >= 0) throw new Error(`${op}: argmax ${arg[bad]} at output ${bad} is not an offset of a 2x2 window`);
    return;
  }
  for (let o = 0; o < arg.length; o++) {
    const r = arg[o];
    if (r !== 0 && r !== 1 && r !== 2 && r !== 3) throw new Error(`${op}: argmax ${r} at output ${o} is not an offset of a 2x2 window`);
  }
}

export function maxPool2dGatherKernel(x: TypedArray, xShape: readonly number[], arg: TypedArray, p: Pool2dParams, out: TypedArray, yShape: readonly number[]): void {
  const g = geometry(xShape, yShape, p);
  if (isPlain2x2(g)) {
    check2x2('maxPool2dGather', arg);
    const { planes, h, w, ho, wo } = g;
    const k = x instanceof Float32Array ? residentKernels([x, arg, out]) : null;
    if (k !== null) return k.gather2x2(x.byteOffset, arg.byteOffset, planes, h, w, ho, wo, out.byteOffset);
    for (let q = 0; q < planes; q++) {
      const xb = q * h * w;
      let o = q * ho * wo;
      for (let i = 0; i < ho; i++) {
        let r0 = xb + 2 * i * w;
        for (let j = 0; j < wo; j++, r0 += 2, o++) {
          const r = arg[o];
          out[o] = x[r0 + (r & 1) + (r >> 1) * w];
        }
      }
    }
    return;
  }
  for (let o = 0; o < out.length; o++) out[o] = x[source('maxPool2dGather', g, o, arg[o])];
}

/** Zero-fills out, then adds the outputs in ascending order (the order the WebGPU kernel sums them in). */
export function maxPool2dScatterKernel(gy: TypedArray, arg: TypedArray, p: Pool2dParams, out: TypedArray, xShape: readonly number[], yShape: readonly number[]): void {
  const g = geometry(xShape, yShape, p);
  if (isPlain2x2(g)) {
    // Windows do not overlap: each input receives at most one value (added to 0 all the same, so -0 becomes +0).
    check2x2('maxPool2dScatter', arg);
    const { planes, h, w, ho, wo } = g;
    const k = gy instanceof Float32Array ? residentKernels([gy, arg, out]) : null;
    if (k !== null) return k.scatter2x2(gy.byteOffset, arg.byteOffset, planes, h, w, ho, wo, out.byteOffset);
    fillArray(out, 0);
    for (let q = 0; q < planes; q++) {
      const xb = q * h * w;
      let o = q * ho * wo;
      for (let i = 0; i < ho; i++) {
        let r0 = xb + 2 * i * w;
        for (let j = 0; j < wo; j++, r0 += 2, o++) {
          const r = arg[o];
          out[r0 + (r & 1) + (r >> 1) * w] += gy[o];
        }
      }
    }
    return;
  }
  fillArray(out, 0);
  for (let o = 0; o < gy.length; o++) out[source('maxPool2dScatter', g, o, arg[o])] += gy[o];
}
