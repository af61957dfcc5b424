// CPU elementwise kernels: unary maps (exp and log in Wasm, see wasm-math.ts), select (where) and strided copies (broadcast, transpose, slice, pad; in Wasm on the tensor heap).

import type { TypedArray } from '../../core/dtype.js';
import type { UnaryPrim } from '../../core/primitives.js';
import { stridesOf } from '../../core/shape.js';
import { broadcastStrides, collapse, Outer } from './strided.js';
import { residentKernels, WASM_MIN_ELEMENTS, wasmUnary, wasmWhere } from './wasm-elementwise.js';
import { wasmMath } from './wasm-math.js';
import { fillArray } from './wasm-heap.js';

/**
 * out = op(x) elementwise, x and out contiguous and of one dtype. exp and log run in Wasm (assembly/math.ts:
 * the same bits on every engine, within 1 ulp); unaryKernelJs is the Math.* loop they replaced.
 */
export function unaryKernel(op: UnaryPrim, x: TypedArray, out: TypedArray): void {
  if (out.length === 0 || wasmUnary(op, x, out)) return;
  if (op === 'exp' || op === 'log') wasmMath(op, x, out);
  else unaryKernelJs(op, x, out);
}

/** The plain JS loops (Math.exp / Math.log, whose last bits vary between JS engines): the reference for tests and benchmarks. */
export function unaryKernelJs(op: UnaryPrim, x: TypedArray, out: TypedArray): void {
  const n = out.length;
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) out[i] = -x[i]; break;
    case 'exp': for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]); break;
    case 'log': for (let i = 0; i < n; i++) out[i] = Math.log(x[i]); break;
    case 'sqrt': for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]); break;
  }
}

/** out = c != 0 ? a : b, broadcasting all three. */
export function whereKernel(
  c: TypedArray, cShape: readonly number[],
  a: TypedArray, aShape: readonly number[],
  b: TypedArray, bShape: readonly number[],
  out: TypedArray, outShape: readonly number[],
): void {
  const n = out.length;
  if (n === 0) return;
  if (c.length === n && a.length === n && b.length === n) {
    if (wasmWhere(c, a, b, out)) return;
    for (let i = 0; i < n; i++) out[i] = c[i] !== 0 ? a[i] : b[i];
    return;
  }
  if (c.length === n && a.length === n && b.length === 1) {
    const s = b[0];
    for (let i = 0; i < n; i++) out[i] = c[i] !== 0 ? a[i] : s;
    return;
  }
  if (c.length === n && a.length === 1 && b.length === n) {
    const s = a[0];
    for (let i = 0; i < n; i++) out[i] = c[i] !== 0 ? s : b[i];
    return;
  }
  const k = collapse(outShape, [
    broadcastStrides(cShape, outShape), broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape), stridesOf(outShape),
  ]);
  const r = k.shape.length;
  const [sc, sa, sb] = k.strides;
  const n2 = k.shape[r - 3], n1 = k.shape[r - 2], n0 = k.shape[r - 1];
  const c2 = sc[r - 3], c1 = sc[r - 2], c0 = sc[r - 1];
  const a2 = sa[r - 3], a1 = sa[r - 2], a0 = sa[r - 1];
  const b2 = sb[r - 3], b1 = sb[r - 2], b0 = sb[r - 1];
  const it = new Outer(k.shape, k.strides);
  let o = 0;
  for (let t = 0; t < it.count; t++) {
    let pc = it.offsets[0], pa = it.offsets[1], pb = it.offsets[2];
    for (let i2 = 0; i2 < n2; i2++, pc += c2, pa += a2, pb += b2) {
      for (let i1 = 0, qc = pc, qa = pa, qb = pb; i1 < n1; i1++, qc += c1, qa += a1, qb += b1) {
        for (let i0 = 0, rc = qc, ra = qa, rb = qb; i0 < n0; i0++, rc += c0, ra += a0, rb += b0) out[o++] = c[rc] !== 0 ? a[ra] : b[rb];
      }
    }
    it.next();
  }
}

/** Blocks copied in Wasm (copyBlock32/64) so far: which path ran, for tests. */
let wasmBlocks = 0;
export function wasmCopyBlocks(): number {
  return wasmBlocks;
}

/**
 * dst[dstBase + i·dstStrides] = src[srcBase + i·srcStrides] for every index i of `shape`: the one
 * copy loop behind broadcast, transpose, slice and pad. Where both arrays live in the tensor heap (one dtype) and a
 * block of the innermost three axes holds 32+ values, each block is one Wasm call (assembly/movement.ts: SIMD
 * rows, 4x4 block transposes, splat fills); otherwise contiguous runs of 64+ use a native copy, runs that repeat
 * one source value (a broadcast along the innermost axis, e.g. a scalar or a per-channel value) a fill, and the
 * rest a JS loop. A copy moves bits, so both paths give the same arrays.
 */
export function copyStrided(
  src: TypedArray, srcBase: number, srcStrides: readonly number[],
  dst: TypedArray, dstBase: number, dstStrides: readonly number[],
  shape: readonly number[],
): void {
  for (const d of shape) if (d === 0) return;
  const k = collapse(shape, [srcStrides, dstStrides]);
  const r = k.shape.length;
  const [ss, ds] = k.strides;
  const n2 = k.shape[r - 3], n1 = k.shape[r - 2], n0 = k.shape[r - 1];
  const s2 = ss[r - 3], s1 = ss[r - 2], s0 = ss[r - 1];
  const d2 = ds[r - 3], d1 = ds[r - 2], d0 = ds[r - 1];
  const it = new Outer(k.shape, k.strides, [srcBase, dstBase]);
  const wasm = n2 * n1 * n0 >= WASM_MIN_ELEMENTS ? residentKernels([src, dst]) : null;
  if (wasm !== null) {
    const [copy, bytes] = src instanceof Float32Array ? [wasm.copyBlock32, 4] : [wasm.copyBlock64, 8];
    for (let t = 0; t < it.count; t++) {
      copy(src.byteOffset + bytes * it.offsets[0], s2, s1, s0, dst.byteOffset + bytes * it.offsets[1], d2, d1, d0, n2, n1, n0);
      it.next();
    }
    wasmBlocks += it.count;
    return;
  }
  const native = s0 === 1 && d0 === 1 && n0 >= 64;
  const fill = s0 === 0 && d0 === 1 && n0 >= 16;
  for (let t = 0; t < it.count; t++) {
    let ps = it.offsets[0], pd = it.offsets[1];
    for (let i2 = 0; i2 < n2; i2++, ps += s2, pd += d2) {
      for (let i1 = 0, qs = ps, qd = pd; i1 < n1; i1++, qs += s1, qd += d1) {
        if (native) {
          dst.set(src.subarray(qs, qs + n0), qd);
        } else if (fill) {
          fillArray(dst, src[qs], qd, qd + n0);
        } else {
          for (let i0 = 0, rs = qs, rd = qd; i0 < n0; i0++, rs += s0, rd += d0) dst[rd] = src[rs];
        }
      }
    }
    it.next();
  }
}

/** Materialises a broadcast (or any strided view) into contiguous `out`. */
export function stridedCopy(x: TypedArray, strides: readonly number[], out: TypedArray, outShape: readonly number[]): void {
  if (out.length === 0) return;
  copyStrided(x, 0, strides, out, 0, stridesOf(outShape), outShape);
}
