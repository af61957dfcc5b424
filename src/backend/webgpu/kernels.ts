// WebGPU kernel planning: for each primitive, the WGSL entry point, override constants, parameter block and grid.

import type { CompareOp, Conv2dParams, FusedPrim, Pool2dParams, Prim } from '../../core/primitives.js';
import { sizeOf, stridesOf } from '../../core/shape.js';
import type { KernelCall } from '../backend.js';
import type { Binding, GpuBuffer, ModuleName, WebGpuBackend } from './webgpu-backend.js';

/** u32 slots of a kernel's parameter block (shaders/common.wgsl). */
const PARAM_SLOTS = 64;

/** Largest rank the strided kernels address after merging contiguous dimensions. */
export const MAX_RANK = 8;

/** Outputs per invocation of the one-dimensional kernels (ELEMS in shaders/common.wgsl). */
const ELEMS = 4;

/** Whether index numerators stay small enough for the shaders' float division (FAST_DIV in common.wgsl). */
const fastDiv = (...maxima: number[]): boolean => Math.max(...maxima) < 2 ** 22;

const UNARY_OP = { neg: 0, exp: 1, log: 2, sqrt: 3 } as const;
const BINARY_OP = { add: 0, sub: 1, mul: 2, div: 3 } as const;
const COMPARE_OP: Record<CompareOp, number> = { gt: 0, ge: 1, lt: 2, le: 3, eq: 4, ne: 5 };

/** Strides of `inShape` read as a broadcast into `outShape` (0 on broadcast axes). */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const s = stridesOf(inShape);
  const lead = outShape.length - inShape.length;
  return outShape.map((_, i) => (i < lead || inShape[i - lead] === 1 ? 0 : s[i - lead]));
}

/**
 * Drops size-1 dimensions and merges neighbours that are contiguous for every operand
 * (outer stride = inner stride x inner size), e.g. a same-shape binary op becomes rank 1.
 */
export function collapseDims(shape: readonly number[], strides: readonly (readonly number[])[]): { dims: number[]; strides: number[][] } {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, k) => st[k][last] === s[i] * d)) {
      dims[last] *= d;
      strides.forEach((s, k) => (st[k][last] = s[i]));
    } else {
      dims.push(d);
      strides.forEach((s, k) => st[k].push(s[i]));
    }
  }
  if (dims.length === 0) return { dims: [1], strides: strides.map(() => [0]) };
  return { dims, strides: st };
}

function rankCheck(prim: string, rank: number): void {
  if (rank > MAX_RANK) throw new Error(`webgpu.${prim}: rank ${rank} after merging contiguous axes exceeds ${MAX_RANK}`);
}

/** Workgroups for n invocations of a 1-D kernel, as a 2-D grid when n needs more than 65535 groups. */
function grid1d(be: WebGpuBackend, groups: number): [number, number, number] {
  if (groups === 0) return [0, 1, 1];
  const max = be.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1, 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y, 1];
}

function params(): Uint32Array {
  return new Uint32Array(PARAM_SLOTS);
}

/** A strided elementwise kernel over outShape reading inputs through the given strides and offsets. */
function strided(
  be: WebGpuBackend, prim: string, module: ModuleName, entry: string, op: number,
  outShape: readonly number[], inStrides: number[][], offsets: number[], ins: GpuBuffer[], out: GpuBuffer,
): void {
  const n = sizeOf(outShape);
  if (n === 0) return;
  const { dims, strides } = collapseDims(outShape, inStrides);
  rankCheck(prim, dims.length);
  const p = params();
  p[0] = n;
  dims.forEach((d, k) => {
    p[4 + k] = d;
    strides.forEach((s, j) => (p[12 + 8 * j + k] = s[k]));
  });
  offsets.forEach((o, j) => (p[36 + j] = o));
  const wg = be.tuning.workgroupSize;
  be.dispatch({
    module, entry,
    constants: { OP: op, RANK: dims.length, WG: wg, FAST_DIV: fastDiv(n) },
    params: p,
    bindings: [{ binding: 1, buffer: out.gpu! }, ...ins.map((b, i) => ({ binding: 2 + i, buffer: b.gpu! }))],
    workgroups: grid1d(be, Math.ceil(n / (wg * ELEMS))),
  });
}

/** Plain contiguous copy through the movement kernel (reshape). */
function copy(be: WebGpuBackend, x: GpuBuffer, out: GpuBuffer, n: number): void {
  strided(be, 'copy', 'movement', 'copy_strided', 0, [n], [[1]], [0], [x], out);
}

// ---------------------------------------------------------------- reductions

/**
 * out[m] = reduce over r of x[kept(m) + reduced(r)], with the kept and reduced axes given as
 * (dims, strides) lists in row-major order.
 */
export function reduce(
  be: WebGpuBackend, op: 'sum' | 'max', x: GpuBuffer,
  kept: { dims: number[]; strides: number[] }, red: { dims: number[]; strides: number[] }, out: GpuBuffer,
): void {
  const k = collapseDims(kept.dims, [kept.strides]);
  const r = collapseDims(red.dims, [red.strides]);
  rankCheck(op, Math.max(k.dims.length, r.dims.length));
  const M = sizeOf(kept.dims);
  const R = sizeOf(red.dims);
  if (M === 0) return;
  const wg = be.tuning.workgroupSize;
  const p = params();
  p[0] = M;
  p[1] = R;
  k.dims.forEach((d, i) => ((p[4 + i] = d), (p[12 + i] = k.strides[0][i])));
  r.dims.forEach((d, i) => ((p[20 + i] = d), (p[28 + i] = r.strides[0][i])));
  const constants = { OP: op === 'sum' ? 0 : 1, KRANK: k.dims.length, RRANK: r.dims.length, WG: wg, FAST_DIV: fastDiv(M, R) };
  const innerContiguous = r.strides[0][r.dims.length - 1] === 1;
  if (R <= 16 || (!innerContiguous && (R <= 256 || M >= 4096))) {
    // One invocation per output: coalesced when the kept axes are the fast ones.
    be.dispatch({
      module: 'reduce', entry: 'reduce_rows', constants, params: p,
      bindings: [{ binding: 1, buffer: out.gpu! }, { binding: 2, buffer: x.gpu! }],
      workgroups: grid1d(be, Math.ceil(M / wg)),
    });
    return;
  }
  // Workgroup trees; few outputs of long rows split each row into chunks and reduce the partials again.
  let splits = M >= 256 ? 1 : Math.max(1, Math.min(Math.ceil(256 / M), Math.ceil(R / (wg * 8))));
  const chunk = Math.ceil(R / splits);
  splits = Math.ceil(R / chunk);
  p[2] = chunk;
  p[3] = splits;
  if (splits === 1) {
    be.dispatch({
      module: 'reduce', entry: 'reduce_tree', constants, params: p,
      bindings: [{ binding: 1, buffer: out.gpu! }, { binding: 2, buffer: x.gpu! }],
      workgroups: grid1d(be, M),
    });
    return;
  }
  const partial = be.allocTemp(M * splits);
  be.dispatch({
    module: 'reduce', entry: 'reduce_tree', constants, params: p,
    bindings: [{ binding: 1, buffer: partial.gpu! }, { binding: 2, buffer: x.gpu! }],
    workgroups: grid1d(be, M * splits),
  });
  reduce(be, op, partial, { dims: [M], strides: [splits] }, { dims: [splits], strides: [1] }, out);
  be.free(partial);
}

function reduceAxes(be: WebGpuBackend, op: 'sum' | 'max', x: GpuBuffer, shape: readonly number[], axes: readonly number[], out: GpuBuffer): void {
  const st = stridesOf(shape);
  const kept = { dims: [] as number[], strides: [] as number[] };
  const red = { dims: [] as number[], strides: [] as number[] };
  shape.forEach((d, i) => {
    const target = axes.includes(i) ? red : kept;
    target.dims.push(d);
    target.strides.push(st[i]);
  });
  reduce(be, op, x, kept, red, out);
}

// ---------------------------------------------------------------- GEMM family

interface GemmProblem {
  module: 'matmul' | 'conv2d';
  M: number;
  N: number;
  K: number;
  constants: Record<string, number | boolean>;
  /** Family parameter slots from 4 on. */
  extra?: number[];
  a: GpuBuffer;
  b: GpuBuffer;
}

/** Runs the tiled GEMM core; small M x N grids over long K are split along K and the slabs summed. */
function gemm(be: WebGpuBackend, g: GemmProblem, out: GpuBuffer): void {
  const { M, N, K } = g;
  if (M === 0 || N === 0) return;
  let { wgx, wgy } = be.tuning.gemm;
  const { bk } = be.tuning.gemm;
  // Same invocations, reshaped towards the problem: short M (few output channels) gets wide tiles and vice versa.
  const smem = (x: number, y: number): number => 16 * (8 * y * (bk / 4 + 1) + bk * 2 * x);
  const fits = (x: number, y: number): boolean =>
    x <= be.limits.maxComputeWorkgroupSizeX && y <= be.limits.maxComputeWorkgroupSizeY && smem(x, y) <= be.limits.maxComputeWorkgroupStorageSize;
  while (M <= 4 * wgy && wgy > 2 && fits(wgx * 2, wgy / 2)) {
    wgy /= 2;
    wgx *= 2;
  }
  while (N <= 4 * wgx && wgx > 2 && fits(wgx / 2, wgy * 2)) {
    wgx /= 2;
    wgy *= 2;
  }
  const bm = 8 * wgy;
  const bn = 8 * wgx;
  const gx = Math.ceil(N / bn);
  const gy = Math.ceil(M / bm);
  const tiles = gx * gy;
  let splits = 1;
  if (tiles < 64 && K >= bk * 16) splits = Math.min(32, Math.ceil(64 / tiles), Math.floor(K / (bk * 8)));
  let kChunk = Math.max(bk, Math.ceil(K / splits / bk) * bk);
  splits = Math.max(1, Math.ceil(K / kChunk));
  if (splits === 1) kChunk = Math.max(K, 1);
  const p = params();
  p[0] = M;
  p[1] = N;
  p[2] = K;
  p[3] = kChunk;
  (g.extra ?? []).forEach((v, i) => (p[4 + i] = v));
  const target = splits === 1 ? out : be.allocTemp(splits * M * N);
  be.dispatch({
    module: g.module, entry: 'gemm',
    constants: { ...g.constants, WGX: wgx, WGY: wgy, BK: bk, FAST_DIV: fastDiv(M, N, K) },
    params: p,
    bindings: [{ binding: 1, buffer: target.gpu! }, { binding: 2, buffer: g.a.gpu! }, { binding: 3, buffer: g.b.gpu! }],
    workgroups: [gx, gy, splits],
  });
  if (splits > 1) {
    reduce(be, 'sum', target, { dims: [M * N], strides: [1] }, { dims: [splits], strides: [M * N] }, out);
    be.free(target);
  }
}

function convExtra(xShape: readonly number[], wShape: readonly number[], yShape: readonly number[], p: Conv2dParams): number[] {
  return [
    xShape[0], xShape[1], xShape[2], xShape[3], wShape[0], wShape[2], wShape[3], yShape[2], yShape[3],
    p.stride[0], p.stride[1], p.padding[0], p.padding[1],
  ];
}

// ---------------------------------------------------------------- max pooling

/**
 * One of shaders/pool.wgsl's kernels, one invocation per element of `count` (outputs for the argmax and the gather,
 * inputs for the scatter); xShape is the unpooled NCHW shape, yShape the pooled one.
 */
function pool(
  be: WebGpuBackend, entry: 'pool_argmax' | 'pool_gather' | 'pool_scatter', p: Pool2dParams,
  xShape: readonly number[], yShape: readonly number[], count: number, ins: GpuBuffer[], out: GpuBuffer,
): void {
  const q = params();
  q[0] = count;
  [xShape[2], xShape[3], yShape[2], yShape[3], p.kernel[0], p.kernel[1], p.stride[0], p.stride[1], p.padding[0], p.padding[1]]
    .forEach((v, i) => (q[1 + i] = v));
  const wg = be.tuning.workgroupSize;
  be.dispatch({
    module: 'pool', entry, constants: { WG: wg, FAST_DIV: fastDiv(count, xShape[2] + p.padding[0], xShape[3] + p.padding[1]) }, params: q,
    bindings: [{ binding: 1, buffer: out.gpu! }, ...ins.map((b, i) => ({ binding: 2 + i, buffer: b.gpu! }))],
    workgroups: grid1d(be, Math.ceil(count / (wg * ELEMS))),
  });
}

// ---------------------------------------------------------------- dispatch by primitive

export function runKernel(be: WebGpuBackend, call: KernelCall, ins: GpuBuffer[], out: GpuBuffer): void {
  const outShape = call.output.shape;
  const inShapes = call.inputs.map((t) => t.shape);
  const n = sizeOf(outShape);
  if (n === 0) return;
  const prim: Prim = call.prim;
  switch (call.prim) {
    case 'neg':
    case 'exp':
    case 'log':
    case 'sqrt':
      strided(be, prim, 'elementwise', 'unary', UNARY_OP[call.prim], outShape, [stridesOf(outShape)], [0], ins, out);
      return;
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      strided(be, prim, 'elementwise', 'binary', BINARY_OP[call.prim], outShape,
        inShapes.map((s) => broadcastStrides(s, outShape)), [0, 0], ins, out);
      return;
    case 'compare':
      strided(be, prim, 'compare', 'compare', COMPARE_OP[(call as KernelCall<'compare'>).params.op], outShape,
        inShapes.map((s) => broadcastStrides(s, outShape)), [0, 0], ins, out);
      return;
    case 'where':
      strided(be, prim, 'compare', 'where_select', 0, outShape, inShapes.map((s) => broadcastStrides(s, outShape)), [0, 0, 0], ins, out);
      return;
    case 'sum':
    case 'max':
      reduceAxes(be, call.prim, ins[0], inShapes[0], (call as KernelCall<'sum'>).params.axes, out);
      return;
    case 'broadcastTo':
      strided(be, prim, 'movement', 'copy_strided', 0, outShape, [broadcastStrides(inShapes[0], outShape)], [0], ins, out);
      return;
    case 'reshape':
      copy(be, ins[0], out, n);
      return;
    case 'transpose': {
      const si = stridesOf(inShapes[0]);
      const perm = (call as KernelCall<'transpose'>).params.perm;
      strided(be, prim, 'movement', 'copy_strided', 0, outShape, [perm.map((a) => si[a])], [0], ins, out);
      return;
    }
    case 'slice': {
      const si = stridesOf(inShapes[0]);
      const { begin } = (call as KernelCall<'slice'>).params;
      strided(be, prim, 'movement', 'copy_strided', 0, outShape, [si], [begin.reduce((a, b, i) => a + b * si[i], 0)], ins, out);
      return;
    }
    case 'pad': {
      const { before } = (call as KernelCall<'pad'>).params;
      const inShape = inShapes[0];
      rankCheck(prim, outShape.length);
      const p = params();
      p[0] = n;
      const si = stridesOf(inShape);
      outShape.forEach((d, k) => {
        p[4 + k] = d;
        p[12 + k] = before[k];
        p[20 + k] = inShape[k];
        p[28 + k] = si[k];
      });
      const wg = be.tuning.workgroupSize;
      be.dispatch({
        module: 'movement', entry: 'pad', constants: { RANK: outShape.length, WG: wg, FAST_DIV: fastDiv(n) }, params: p,
        bindings: [{ binding: 1, buffer: out.gpu! }, { binding: 2, buffer: ins[0].gpu! }],
        workgroups: grid1d(be, Math.ceil(n / (wg * ELEMS))),
      });
      return;
    }
    case 'gather': {
      const { indices, axis } = (call as KernelCall<'gather'>).params;
      const inShape = inShapes[0];
      const p = params();
      p[0] = n;
      p[1] = indices.length;
      p[2] = sizeOf(inShape.slice(axis + 1));
      p[3] = inShape[axis];
      const wg = be.tuning.workgroupSize;
      be.dispatch({
        module: 'movement', entry: 'gather', constants: { WG: wg, FAST_DIV: fastDiv(n) }, params: p,
        bindings: [{ binding: 1, buffer: out.gpu! }, { binding: 2, buffer: ins[0].gpu! }],
        uploads: [{ binding: 3, data: new Uint32Array(indices.buffer, indices.byteOffset, indices.length) }],
        workgroups: grid1d(be, Math.ceil(n / (wg * ELEMS))),
      });
      return;
    }
    case 'scatterAdd': {
      const { indices, axis, size } = (call as KernelCall<'scatterAdd'>).params;
      const inShape = inShapes[0];
      const m = indices.length;
      // CSR lists: lists[s]..lists[s+1] delimit the (ascending) source positions scattered into slot s.
      const lists = new Uint32Array(size + 1 + m);
      for (let i = 0; i < m; i++) lists[indices[i] + 1]++;
      for (let s = 0; s < size; s++) lists[s + 1] += lists[s];
      const fill = lists.slice(0, size);
      for (let i = 0; i < m; i++) lists[size + 1 + fill[indices[i]]++] = i;
      const p = params();
      p[0] = n;
      p[1] = m;
      p[2] = sizeOf(inShape.slice(axis + 1));
      p[3] = size;
      p[5] = size + 1;
      const wg = be.tuning.workgroupSize;
      be.dispatch({
        module: 'movement', entry: 'scatter_add', constants: { WG: wg, FAST_DIV: fastDiv(n) }, params: p,
        bindings: [{ binding: 1, buffer: out.gpu! }, { binding: 2, buffer: ins[0].gpu! }],
        uploads: [{ binding: 3, data: lists }],
        workgroups: grid1d(be, Math.ceil(n / (wg * ELEMS))),
      });
      return;
    }
    case 'matmul': {
      const { transA, transB } = (call as KernelCall<'matmul'>).params;
      const [M, N] = outShape;
      const K = transA ? inShapes[0][0] : inShapes[0][1];
      gemm(be, {
        module: 'matmul', M, N, K, a: ins[0], b: ins[1],
        constants: { TRANS_A: transA, TRANS_B: transB, A_K_FAST: !transA, B_K_FAST: transB },
      }, out);
      return;
    }
    case 'conv2d': {
      const [xs, ws] = inShapes;
      const c = call as KernelCall<'conv2d'>;
      gemm(be, {
        module: 'conv2d', M: ws[0], N: outShape[0] * outShape[2] * outShape[3], K: ws[1] * ws[2] * ws[3], a: ins[1], b: ins[0],
        constants: { MODE: 0, A_K_FAST: true, B_K_FAST: false }, extra: convExtra(xs, ws, outShape, c.params),
      }, out);
      return;
    }
    case 'conv2dGradInput': {
      const [gs, ws] = inShapes;
      const c = call as KernelCall<'conv2dGradInput'>;
      gemm(be, {
        module: 'conv2d', M: ws[1], N: outShape[0] * outShape[2] * outShape[3], K: ws[0] * ws[2] * ws[3], a: ins[1], b: ins[0],
        constants: { MODE: 1, A_K_FAST: true, B_K_FAST: false, UNIT_STRIDE: c.params.stride[0] === 1 && c.params.stride[1] === 1 },
        extra: convExtra(outShape, ws, gs, c.params),
      }, out);
      return;
    }
    case 'conv2dGradWeight': {
      const [xs, gs] = inShapes;
      const c = call as KernelCall<'conv2dGradWeight'>;
      gemm(be, {
        module: 'conv2d', M: outShape[0], N: outShape[1] * outShape[2] * outShape[3], K: gs[0] * gs[2] * gs[3], a: ins[1], b: ins[0],
        constants: { MODE: 2, A_K_FAST: true, B_K_FAST: false }, extra: convExtra(xs, outShape, gs, c.params),
      }, out);
      return;
    }
    case 'maxPool2dArgmax':
      pool(be, 'pool_argmax', (call as KernelCall<'maxPool2dArgmax'>).params, inShapes[0], outShape, n, ins, out);
      return;
    case 'maxPool2dGather':
      pool(be, 'pool_gather', (call as KernelCall<'maxPool2dGather'>).params, inShapes[0], outShape, n, ins, out);
      return;
    case 'maxPool2dScatter':
      pool(be, 'pool_scatter', (call as KernelCall<'maxPool2dScatter'>).params, outShape, inShapes[0], n, ins, out);
      return;
    case 'cast': {
      const wg = be.tuning.workgroupSize;
      const p = params();
      p[0] = n;
      be.dispatch({
        module: 'cast', entry: 'cast_copy', constants: { WG: wg }, params: p,
        bindings: [{ binding: 1, buffer: out.gpu! }, { binding: 2, buffer: ins[0].gpu! }],
        workgroups: grid1d(be, Math.ceil(n / (wg * ELEMS))),
      });
      return;
    }
  }
  // Only the fused primitives are left: the backend has no hasKernel, so their ops run the composites instead.
  const unhandled: FusedPrim = call.prim;
  throw new Error(`webgpu: no kernel for the fused primitive '${unhandled}' (its op computes the composite on this backend)`);
}

export type { Binding };
