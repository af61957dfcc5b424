// Shared helpers of the reference suites: seeded float64 data, NCHW indexing and per-element comparisons.
import { expect } from 'vitest';
import { Random } from '../../src/util/random.js';

export const f64 = { dtype: 'float64' as const };
export const f32 = { dtype: 'float32' as const };

/** n standard-normal float64 values from a seeded generator (the engine's RNG only supplies the numbers). */
export function normals(n: number, seed: number, scale = 1, shift = 0): Float64Array {
  const rng = new Random(seed);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = shift + scale * rng.normal();
  return a;
}

export const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Row-major flat index of (i0, i1, ...) in shape s. */
export function at(s: readonly number[], ...idx: number[]): number {
  let o = 0;
  for (let d = 0; d < s.length; d++) o = o * s[d] + idx[d];
  return o;
}

/**
 * Element-wise |got - want| <= atol + rtol·|want|; on failure names the first bad index and
 * the worst error. Also checks the lengths and that the reference is not all zeros (a
 * reference that is identically zero would accept a broken op that returns zeros).
 */
export function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  { rtol = 1e-12, atol = 1e-12, label = '', allowZero = false }: { rtol?: number; atol?: number; label?: string; allowZero?: boolean } = {},
): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  if (!allowZero) expect(Array.from(want).some((v) => v !== 0), `${label}: reference is all zeros`).toBe(true);
  let worst = 0;
  let worstAt = -1;
  let firstBad = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const tol = atol + rtol * Math.abs(want[i]);
    if (!(err <= tol) && firstBad < 0) firstBad = i;
    if (!(err <= worst)) {
      worst = err;
      worstAt = i;
    }
  }
  const msg = firstBad < 0 ? '' : `${label}: element ${firstBad} got ${got[firstBad]} want ${want[firstBad]}; worst |err| ${worst} at ${worstAt}`;
  expect(msg).toBe('');
}
