// Vectors stored as lists of tensors (one per parameter): dot products, axpy, scaling, norms, on any backend.

import { add, concat, mul, reshape, sub, sum } from '../core/ops.js';
import { tidy } from '../core/scope.js';
import { noGrad, type Tensor } from '../core/tensor.js';
import { zerosLike } from '../core/creation.js';
import { dotArrays } from '../backend/cpu/dot.js';
import { cpuData } from '../optim/cpu-storage.js';

export type VectorList = Tensor[];

/**
 * Reads one-element tensors in a single transfer (one GPU round trip instead of one per tensor).
 * Values come back as float64 numbers.
 */
export async function readScalars(ts: readonly Tensor[]): Promise<number[]> {
  if (ts.length === 0) return [];
  for (const t of ts) if (t.size !== 1) throw new Error(`readScalars: tensor ${t.describe()} has ${t.size} elements, expected 1`);
  if (ts.length === 1) return [(await ts[0].data())[0]];
  const sameBackend = ts.every((t) => t.backend === ts[0].backend && t.dtype === ts[0].dtype);
  if (!sameBackend) return Promise.all(ts.map(async (t) => (await t.data())[0]));
  const packed = tidy(() => noGrad(() => concat(ts.map((t) => reshape(t, [1])), 0)));
  try {
    return Array.from(await packed.data());
  } finally {
    packed.dispose();
  }
}

/**
 * Σ_i a_i·b_i. On the CPU backend in float64 throughout (src/backend/cpu/dot.ts: one pass, no product tensor; the same
 * bits on the heap and on plain arrays); elsewhere each tensor's sum on its backend, the sums added in float64 here.
 */
export async function vdot(a: readonly Tensor[], b: readonly Tensor[]): Promise<number> {
  if (a.length !== b.length) throw new Error(`vdot: vector lists of ${a.length} and ${b.length} tensors`);
  if ([...a, ...b].every((t) => t.backend.name === 'cpu')) {
    let s = 0;
    a.forEach((ai, i) => {
      if (ai.size !== b[i].size) throw new Error(`vdot: tensor ${i} has ${ai.size} and ${b[i].size} elements`);
      s += dotArrays(cpuData(ai), cpuData(b[i]));
    });
    return s;
  }
  // The products are as large as the vectors: freed here, not at the end of the caller's scope (solvers call this per iteration).
  const sums = tidy(() => noGrad(() => a.map((ai, i) => sum(mul(ai, b[i])))));
  try {
    const parts = await readScalars(sums);
    return parts.reduce((s, p) => s + p, 0);
  } finally {
    for (const t of sums) t.dispose();
  }
}

export async function vnorm(a: readonly Tensor[]): Promise<number> {
  return Math.sqrt(await vdot(a, a));
}

/** a + s·b (the products s·b are freed at once: solvers call this per iteration). */
export function vaxpy(a: readonly Tensor[], s: number, b: readonly Tensor[]): VectorList {
  return tidy(() => noGrad(() => a.map((ai, i) => add(ai, mul(b[i], s)))));
}

export function vscale(a: readonly Tensor[], s: number): VectorList {
  return tidy(() => noGrad(() => a.map((ai) => mul(ai, s))));
}

export function vsub(a: readonly Tensor[], b: readonly Tensor[]): VectorList {
  return noGrad(() => a.map((ai, i) => sub(ai, b[i])));
}

export function vzerosLike(a: readonly Tensor[]): VectorList {
  return a.map(zerosLike);
}

/** Cosine similarity of two vector lists (0 when either is zero). */
export async function vcosine(a: readonly Tensor[], b: readonly Tensor[]): Promise<number> {
  const na = await vnorm(a);
  const nb = await vnorm(b);
  return na === 0 || nb === 0 ? 0 : (await vdot(a, b)) / (na * nb);
}
