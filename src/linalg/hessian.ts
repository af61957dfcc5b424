// Exact Hessian of a scalar function of a tensor list, assembled from reverse-over-reverse passes over one recorded gradient graph.

import { backward } from '../autodiff/backward.js';
import { variable } from '../autodiff/transforms.js';
import { full, tensor } from '../core/creation.js';
import { withGradMode, type Tensor } from '../core/tensor.js';
import { Matrix } from './dense.js';
import { linalgWasm } from './wasm.js';

export interface HessianOptions {
  /** Replace H by (H + Hᵀ)/2 (default true). The asymmetry is reported either way. */
  symmetrize?: boolean;
  /** Called after each assembled row (rows done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface HessianResult {
  /** H[i][j] = ∂²f/∂w_i∂w_j over the parameters flattened in order (row-major within each tensor). */
  matrix: Matrix;
  n: number;
  /** max_ij |H_ij - H_ji| / max_ij |H_ij| before symmetrisation (float rounding, or a non-smooth f). */
  asymmetry: number;
  /** Wall time of the assembly in milliseconds. */
  ms: number;
}

/** The values of a tensor: the CPU backend's own array when possible (no copy), else a synchronous read. */
function readValues(t: Tensor): ArrayLike<number> {
  const data = (t.buffer as { data?: unknown }).data;
  return data instanceof Float64Array || data instanceof Float32Array ? data : t.dataSync();
}

/** Offsets of each tensor in the flattened parameter vector. */
export function flatOffsets(ts: readonly Tensor[]): number[] {
  const out: number[] = [];
  let o = 0;
  for (const t of ts) {
    out.push(o);
    o += t.size;
  }
  return out;
}

/**
 * Exact Hessian of f at w, n = Σ sizes, as a dense float64 matrix in Wasm memory.
 *
 * g(w) = ∇f(w) is recorded once as a differentiable graph; then column j of H is
 *   H e_j = ∂/∂w <g(w), e_j>,
 * one reverse pass over that graph per basis vector e_j (no forward or first backward pass is
 * repeated). Each pass is written as row j (H is symmetric), and H is symmetrised at the end.
 * Cost: n reverse passes of the gradient graph, n² doubles of memory. f must be deterministic
 * (no dropout, no batch-norm statistic updates) and should run in float64 for an exact result.
 */
export function exactHessian(f: (w: Tensor[]) => Tensor, w: readonly Tensor[], opts: HessianOptions = {}): HessianResult {
  const start = performance.now();
  const offsets = flatOffsets(w);
  const n = w.reduce((s, t) => s + t.size, 0);
  if (n === 0) throw new Error('exactHessian: no parameters');
  const { vars, grads } = withGradMode(true, () => {
    const vars = w.map(variable);
    const y = f(vars);
    if (y.size !== 1) throw new Error(`exactHessian: f must return a scalar, got ${y.describe()}`);
    const grads = backward([y], [full(y.shape, 1, { dtype: y.dtype, backend: y.backend })], vars, { createGraph: true });
    return { vars, grads };
  });
  // Gradient components that do not depend on w (e.g. f linear in a tensor) have zero rows.
  const linked = grads.map((g, k) => ({ g, k })).filter(({ g }) => g.requiresGrad);
  const H = new Matrix(n, n);
  for (let k = 0; k < w.length; k++) {
    const size = w[k]!.size;
    const lk = linked.find((l) => l.k === k);
    const { dtype, backend, shape } = w[k]!;
    // One basis-vector buffer per tensor, reused (tensor() copies it).
    const e = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
    for (let o = 0; o < size; o++) {
      const j = offsets[k]! + o;
      const rowStart = j * n;
      if (!lk) {
        H.data.fill(0, rowStart, rowStart + n);
      } else {
        // Only g_k depends on e_j: <g, e_j> = <g_k, e_j restricted to tensor k>, so the pass starts at g_k alone.
        e[o] = 1;
        const cot = tensor(e, shape, { dtype, backend });
        e[o] = 0;
        const col = backward([lk.g], [cot], vars);
        const d = H.data;
        col.forEach((c, m) => d.set(readValues(c), rowStart + offsets[m]!));
      }
      opts.onProgress?.(j + 1, n);
    }
  }
  let scale = 0;
  const d = H.data;
  for (let i = 0; i < d.length; i++) scale = Math.max(scale, Math.abs(d[i]!));
  let asym: number;
  if (opts.symmetrize ?? true) asym = linalgWasm().symmetrize(n, H.ptr, n, 0);
  else {
    asym = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) asym = Math.max(asym, Math.abs(d[i * n + j]! - d[j * n + i]!));
  }
  return { matrix: H, n, asymmetry: scale === 0 ? 0 : asym / scale, ms: performance.now() - start };
}

/**
 * Dense Hessian from any symmetric operator on vector lists (e.g. secondOrderOperator(...).hvp):
 * column j = op(e_j) over the n basis vectors shaped like `like`, symmetrised.
 */
export function hessianFromOperator(op: (v: Tensor[]) => Tensor[], like: readonly Tensor[], opts: HessianOptions = {}): HessianResult {
  const start = performance.now();
  const offsets = flatOffsets(like);
  const n = like.reduce((s, t) => s + t.size, 0);
  if (n === 0) throw new Error('hessianFromOperator: no parameters');
  const H = new Matrix(n, n);
  const zeros = like.map((t) => full(t.shape, 0, { dtype: t.dtype, backend: t.backend }));
  for (let k = 0; k < like.length; k++) {
    const { dtype, backend, shape, size } = like[k]!;
    for (let o = 0; o < size; o++) {
      const j = offsets[k]! + o;
      const e = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
      e[o] = 1;
      const v = zeros.slice();
      v[k] = tensor(e, shape, { dtype, backend });
      const col = op(v);
      if (col.length !== like.length) throw new Error(`hessianFromOperator: the operator returned ${col.length} tensors, expected ${like.length}`);
      const d = H.data;
      col.forEach((c, m) => d.set(c.dataSync(), j * n + offsets[m]!));
      opts.onProgress?.(j + 1, n);
    }
  }
  let scale = 0;
  const d = H.data;
  for (let i = 0; i < d.length; i++) scale = Math.max(scale, Math.abs(d[i]!));
  const asym = opts.symmetrize ?? true ? linalgWasm().symmetrize(n, H.ptr, n, 0) : 0;
  return { matrix: H, n, asymmetry: scale === 0 ? 0 : asym / scale, ms: performance.now() - start };
}

/** Flattens a tensor list into one float64 vector (parameter order, row-major within each tensor). */
export function flattenTensors(ts: readonly Tensor[]): Float64Array {
  const out = new Float64Array(ts.reduce((s, t) => s + t.size, 0));
  let o = 0;
  for (const t of ts) {
    out.set(t.dataSync(), o);
    o += t.size;
  }
  return out;
}

/** Splits a flat vector into tensors shaped like `like` (same dtype and backend). */
export function unflattenLike(flat: ArrayLike<number>, like: readonly Tensor[]): Tensor[] {
  const total = like.reduce((s, t) => s + t.size, 0);
  if (flat.length !== total) throw new Error(`unflattenLike: ${flat.length} values for ${total} parameters`);
  let o = 0;
  return like.map((t) => {
    const part = new Float64Array(t.size);
    for (let i = 0; i < t.size; i++) part[i] = flat[o + i]!;
    o += t.size;
    return tensor(part, t.shape, { dtype: t.dtype, backend: t.backend });
  });
}
