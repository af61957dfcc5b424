// Shared fixtures for optimizer tests: a 3-vector parameter, fixed gradient sequences and a closeness check.
import { expect } from 'vitest';
import { tensor, type Tensor } from '../../src/index.js';
import type { Optimizer, ParamRef } from '../../src/optim/index.js';

/** Initial parameter p0 and the gradients fed at steps 1, 2, 3 in the hand-derived tests. */
export const P0 = [1, -2, 0.5];
export const G = [
  [0.5, -1, 2],
  [-0.25, 0.5, 1],
  [1, 2, -0.5],
];

export const f64 = (data: number[], shape?: number[]): Tensor => tensor(data, shape, { dtype: 'float64' });

/** Runs `make` on a fresh float64 parameter P0 for G.length steps, returning the parameter after each step. */
export function trajectory(make: (refs: ParamRef[]) => Optimizer): number[][] {
  const ref: ParamRef = { name: 'p', value: f64(P0) };
  const opt = make([ref]);
  return G.map((g) => {
    opt.step([f64(g)]);
    expect(ref.value.dtype).toBe('float64');
    return ref.value.toArray();
  });
}

/** Elementwise |a − e| ≤ tol · max(1, |e|) (tol defaults to a few float64 ulps). */
export function expectClose(actual: number[][], expected: number[][], tol = 1e-15): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, t) => {
    expect(row.length).toBe(expected[t].length);
    row.forEach((a, i) => {
      const e = expected[t][i];
      if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) {
        throw new Error(`step ${t + 1}, element ${i}: got ${a}, expected ${e} (difference ${a - e})`);
      }
    });
  });
}
