// Vectors stored as lists of tensors (one per parameter): dot products, axpy, scaling, norms.

import { add, mul, sub, sum } from '../core/ops.js';
import { noGrad, type Tensor } from '../core/tensor.js';
import { zerosLike } from '../core/creation.js';

export type VectorList = Tensor[];

export function vdot(a: readonly Tensor[], b: readonly Tensor[]): number {
  return noGrad(() => a.reduce((s, ai, i) => s + sum(mul(ai, b[i])).item(), 0));
}

export function vnorm(a: readonly Tensor[]): number {
  return Math.sqrt(vdot(a, a));
}

/** a + s·b */
export function vaxpy(a: readonly Tensor[], s: number, b: readonly Tensor[]): VectorList {
  return noGrad(() => a.map((ai, i) => add(ai, mul(b[i], s))));
}

export function vscale(a: readonly Tensor[], s: number): VectorList {
  return noGrad(() => a.map((ai) => mul(ai, s)));
}

export function vsub(a: readonly Tensor[], b: readonly Tensor[]): VectorList {
  return noGrad(() => a.map((ai, i) => sub(ai, b[i])));
}

export function vzerosLike(a: readonly Tensor[]): VectorList {
  return a.map(zerosLike);
}

/** Cosine similarity of two vector lists (0 when either is zero). */
export function vcosine(a: readonly Tensor[], b: readonly Tensor[]): number {
  const na = vnorm(a);
  const nb = vnorm(b);
  return na === 0 || nb === 0 ? 0 : vdot(a, b) / (na * nb);
}
