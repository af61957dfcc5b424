// The inverse-HVP solvers on diagonal operators against plain float64 references: Neumann partial sums, CG iterates (warm start, ridge, tolerance, best-iterate choice, negative curvature), counts, notes and input errors.
import { describe, expect, it } from 'vitest';
import { mul, tensor, tidyAsync } from '../../src/index.js';
import { cpuHeap } from '../../src/backend/cpu/wasm-heap.js';
import { cgInverseHvp, identityInverseHvp, neumannInverseHvp, NonFiniteError, SolverFailure, type LinearOperator } from '../../src/hypergrad/inverse-hvp.js';
import type { VectorList } from '../../src/hypergrad/vector-list.js';

const f64 = { dtype: 'float64' as const };
const vec = (xs: number[]): VectorList => [tensor(xs, [xs.length], f64)];
const arr = (v: VectorList): number[] => Array.from(v[0].toArray());

/** v ↦ diag(d) v, counting its applications. */
function diagonal(d: number[]): { op: LinearOperator; calls: () => number } {
  const D = tensor(d, [d.length], f64);
  let n = 0;
  return { op: (v) => { n++; return [mul(v[0], D)]; }, calls: () => n };
}

/** Plain conjugate gradient on diag(d) x = b from x0 (float64 arrays): every iterate and its relative residual. */
function referenceCg(d: number[], b: number[], steps: number, x0 = b.map(() => 0)) {
  const dot = (u: number[], v: number[]) => u.reduce((s, ui, i) => s + ui * v[i], 0);
  const bn = Math.sqrt(dot(b, b));
  let x = [...x0];
  let r = b.map((bi, i) => bi - d[i] * x0[i]);
  let p = [...r];
  let rr = dot(r, r);
  const xs = [x];
  const res = [Math.sqrt(rr) / bn];
  const curv: number[] = [];
  for (let i = 1; i <= steps; i++) {
    const Ap = p.map((pi, k) => d[k] * pi);
    const pAp = dot(p, Ap);
    curv.push(pAp);
    if (pAp === 0) break;
    const a = rr / pAp;
    x = x.map((xi, k) => xi + a * p[k]);
    r = r.map((ri, k) => ri - a * Ap[k]);
    const rrNew = dot(r, r);
    p = r.map((ri, k) => ri + (rrNew / rr) * p[k]);
    rr = rrNew;
    xs.push(x);
    res.push(Math.sqrt(rr) / bn);
  }
  return { xs, res, curv };
}

const close = (a: number[], b: number[], tol: number) => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]), `element ${i}: ${v} vs ${b[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]))));
};

describe('Neumann series', () => {
  const d = [0.5, 1, 2, 3.5];
  const b = [1, -2, 0.5, 3];
  it('is α Σ_{j=0..k} (1 - α d)^j b, with k operator applications', async () => {
    for (const [alpha, k] of [[0.1, 0], [0.1, 3], [0.25, 7], [0.4, 20]] as const) {
      const { op, calls } = diagonal(d);
      const r = await neumannInverseHvp(op, vec(b), { alpha, steps: k });
      const want = b.map((bi, i) => { let s = 0; for (let j = 0; j <= k; j++) s += (1 - alpha * d[i]) ** j; return alpha * s * bi; });
      close(arr(r.x), want, 1e-12);
      expect([r.hvps, calls(), r.note, r.residuals]).toEqual([k, k, `alpha ${alpha}, ${k} terms`, []]);
    }
  });

  it('refuses a non-positive or non-numeric α and a bad step count', async () => {
    const { op } = diagonal(d);
    for (const alpha of [0, -0.1, NaN]) await expect(neumannInverseHvp(op, vec(b), { alpha, steps: 3 })).rejects.toThrow(`neumann: alpha must be positive, got ${alpha}`);
    for (const steps of [-1, 1.5, NaN]) await expect(neumannInverseHvp(op, vec(b), { alpha: 0.1, steps })).rejects.toThrow(`neumann: steps must be a non-negative integer, got ${steps}`);
  });

  it('says when its terms grow instead of shrinking (a negative eigenvalue, or αλ > 2), with the growth of the last term', async () => {
    // (1 - 0.5·(-1))^4 = 1.5^4 on the first component, (1 - 0.5·1)^4 on the second: ||t_4|| / ||b|| for b = (1, 1).
    const { op } = diagonal([-1, 1]);
    const r = await neumannInverseHvp(op, vec([1, 1]), { alpha: 0.5, steps: 4 });
    const growth = Math.hypot(1.5 ** 4, 0.5 ** 4) / Math.SQRT2;
    expect(r.note).toBe(`alpha 0.5, 4 terms; diverging: ||(I - αH)^4 v|| = ${growth.toExponential(2)}·||v|| (|1 - αλ| > 1 for an eigenvalue λ of H: λ < 0 or αλ > 2)`);
    // αλ = 2.5 > 2: |1 - 2.5| = 1.5 per term.
    const big = await neumannInverseHvp(diagonal([5, 1]).op, vec([1, 0]), { alpha: 0.5, steps: 3 });
    expect(big.note).toBe('alpha 0.5, 3 terms; diverging: ||(I - αH)^3 v|| = 3.38e+0·||v|| (|1 - αλ| > 1 for an eigenvalue λ of H: λ < 0 or αλ > 2)');
    // At exactly αλ = 2 the terms keep their norm: not growing, no note; nor on a zero vector.
    expect((await neumannInverseHvp(diagonal([4, 1]).op, vec([1, 0]), { alpha: 0.5, steps: 3 })).note).toBe('alpha 0.5, 3 terms');
    expect((await neumannInverseHvp(diagonal([-1, 1]).op, vec([0, 0]), { alpha: 0.5, steps: 3 })).note).toBe('alpha 0.5, 3 terms');
  });

  it('a diverging series is a NonFiniteError naming the iteration', async () => {
    const { op } = diagonal([1e100, 1]); // (1 - 1e100)^2 overflows the squared norm at the second term
    const e = await neumannInverseHvp(op, vec([1, 1]), { alpha: 1, steps: 5 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NonFiniteError);
    expect((e as NonFiniteError).iteration).toBe(2);
    expect((e as Error).message).toBe('neumann: non-finite values at iteration 2 (float32 under/overflow or a diverging series)');
  });
});

describe('conjugate gradient', () => {
  const d = [0.5, 1, 2, 3.5, 6];
  const b = [1, -2, 0.5, 3, -1];

  it('follows the reference iterates and is exact in n steps on an SPD operator', async () => {
    const ref = referenceCg(d, b, 5);
    for (let k = 1; k <= 5; k++) {
      const { op, calls } = diagonal(d);
      const r = await cgInverseHvp(op, vec(b), { steps: k });
      close(r.residuals, ref.res.slice(1, k + 1), 1e-9);
      close(arr(r.x), ref.xs[k], 1e-10);
      expect([r.hvps, calls()]).toEqual([k, k]);
      expect(r.iterate).toEqual({ returned: k, iterations: k, residual: r.residuals[k - 1], choice: 'last' });
      expect(r.note).toBe(`${k} iterations, returned iterate ${k} (relative residual ${r.residuals[k - 1].toExponential(3)})`);
    }
    const exact = await cgInverseHvp(diagonal(d).op, vec(b), { steps: 5 });
    close(arr(exact.x), b.map((bi, i) => bi / d[i]), 1e-12);
  });

  it('ridge solves (H + ridge I) x = b', async () => {
    const r = await cgInverseHvp(diagonal(d).op, vec(b), { steps: 5, ridge: 0.3 });
    close(arr(r.x), b.map((bi, i) => bi / (d[i] + 0.3)), 1e-12);
  });

  it('a warm start begins from x₀ (one extra operator application for its residual)', async () => {
    const x0 = [0.3, -1, 0.2, 1, 0];
    const ref = referenceCg(d, b, 2, x0);
    const { op, calls } = diagonal(d);
    const r = await cgInverseHvp(op, vec(b), { steps: 2, init: vec(x0) });
    close(arr(r.x), ref.xs[2], 1e-10);
    close(r.residuals, ref.res.slice(1), 1e-9);
    expect([r.hvps, calls()]).toEqual([3, 3]);
    // From 0 the same two steps land elsewhere: the start matters.
    const cold = await cgInverseHvp(diagonal(d).op, vec(b), { steps: 2 });
    expect(Math.max(...arr(cold.x).map((v, i) => Math.abs(v - ref.xs[2][i])))).toBeGreaterThan(1e-3);
  });

  it('stops at the tolerance', async () => {
    const ref = referenceCg(d, b, 5);
    const tol = (ref.res[2] + ref.res[3]) / 2; // reached after 3 steps, not after 2
    const { op, calls } = diagonal(d);
    const r = await cgInverseHvp(op, vec(b), { steps: 5, tol });
    expect(r.residuals.length).toBe(3);
    expect([r.hvps, calls()]).toEqual([3, 3]);
    close(arr(r.x), ref.xs[3], 1e-10);
  });

  it('keeps the smallest-residual iterate on an indefinite operator, or the last without keepBest', async () => {
    const dd = [2, -2, 3, 0.7, -0.5];
    const bb = [-0.5, 2, -0.5, 0.5, -0.5];
    const ref = referenceCg(dd, bb, 4);
    const inner = ref.res.slice(1);
    const bestIt = 1 + inner.indexOf(Math.min(...inner));
    expect(bestIt).toBeLessThan(4); // this problem's residual is not monotone
    const best = await cgInverseHvp(diagonal(dd).op, vec(bb), { steps: 4 });
    expect(best.iterate).toEqual({ returned: bestIt, iterations: 4, residual: best.residuals[bestIt - 1], choice: 'best' });
    close(arr(best.x), ref.xs[bestIt], 1e-10);
    const last = await cgInverseHvp(diagonal(dd).op, vec(bb), { steps: 4, keepBest: false });
    expect(last.iterate).toEqual({ returned: 4, iterations: 4, residual: last.residuals[3], choice: 'last' });
    close(arr(last.x), ref.xs[4], 1e-10);
    // Negative curvature is reported at the first iteration where pᵀAp ≤ 0.
    const k = 1 + ref.curv.findIndex((c) => c <= 0);
    expect(k).toBeGreaterThan(0);
    expect(best.note).toContain(`; negative curvature pᵀ(H+ridge)p ≤ 0 at iteration ${k}`);
  });

  it('never returns a silent zero: when no iterate beats x₀ = 0 it returns the last one and says so', async () => {
    const r = await cgInverseHvp(diagonal([1, -1]).op, vec([1, 0.9]), { steps: 1 });
    const ref = referenceCg([1, -1], [1, 0.9], 1);
    expect(ref.res[1]).toBeGreaterThan(1);
    close(arr(r.x), ref.xs[1], 1e-12);
    expect(r.iterate).toEqual({ returned: 1, iterations: 1, residual: r.residuals[0], choice: 'last' });
    expect(r.note).toMatch(/; no iterate improved on x₀ = 0, returning the last one$/);
  });

  it('b = 0 gives 0 without applying the operator; a bad step count is refused', async () => {
    const { op, calls } = diagonal(d);
    const r = await cgInverseHvp(op, vec([0, 0, 0, 0, 0]), { steps: 3 });
    expect([arr(r.x), r.hvps, calls(), r.note, r.residuals]).toEqual([[0, 0, 0, 0, 0], 0, 0, 'b = 0', [0]]);
    for (const steps of [-1, 2.5, NaN]) await expect(cgInverseHvp(op, vec(b), { steps })).rejects.toThrow(`cg: steps must be a non-negative integer, got ${steps}`);
  });
});

describe('identity', () => {
  it('returns v itself, with no operator application', () => {
    const v = vec([1, 2]);
    expect(identityInverseHvp(v)).toEqual({ x: v, hvps: 0, residuals: [], note: 'identity' });
  });
});

describe('the solvers free what they make as they go (from the hypergrad mutation survivors: releases that were dropped went unnoticed)', () => {
  const n = 4096;
  const vectorBytes = n * 8;
  const live = (): number => cpuHeap()!.stats().liveBytes;
  const d = Array.from({ length: n }, (_, i) => 0.5 + (3 * i) / n);
  const b = Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  /**
   * The highest live bytes seen at the operator calls of one solve inside a scope, above what was live before it: with
   * every intermediate list released as soon as it is replaced this does not grow with the number of steps.
   */
  const peakOf = async (solve: (op: LinearOperator, bv: VectorList) => Promise<unknown>): Promise<number> => {
    const D = tensor(d, [n], f64);
    const bv = vec(b);
    const base = live();
    let peak = 0;
    const op: LinearOperator = (v) => {
      peak = Math.max(peak, live() - base);
      return [mul(v[0], D)];
    };
    await tidyAsync(async () => void (await solve(op, bv)));
    D.dispose();
    bv.forEach((t) => t.dispose());
    return peak;
  };

  it('Neumann and CG (cold, warm, keeping the best or the last iterate) hold a few vectors at any step, not one per step', async () => {
    const init = (): VectorList => vec(b.map((x) => x / 2));
    const cases: [string, (steps: number) => (op: LinearOperator, bv: VectorList) => Promise<unknown>][] = [
      ['neumann', (k) => (op, bv) => neumannInverseHvp(op, bv, { alpha: 0.1, steps: k })],
      ['cg', (k) => (op, bv) => cgInverseHvp(op, bv, { steps: k })],
      ['cg warm', (k) => (op, bv) => cgInverseHvp(op, bv, { steps: k, init: init() })],
      ['cg last', (k) => (op, bv) => cgInverseHvp(op, bv, { steps: k, keepBest: false, ridge: 0.25 })],
    ];
    for (const [name, solve] of cases) {
      const short = await peakOf(solve(4));
      const long = await peakOf(solve(24));
      expect(long - short, `${name}: live bytes at the operator, 24 steps against 4`).toBeLessThan(vectorBytes);
      expect(short, `${name}: live bytes at the operator`).toBeLessThan(8 * vectorBytes);
    }
  });
});

describe('solver edge cases: the caller\'s vectors, infinities, names', () => {
  it('Neumann with 0 terms is α·v and leaves v alive', async () => {
    const v = vec([1, -2, 4]);
    const r = await neumannInverseHvp(diagonal([1, 2, 3]).op, v, { alpha: 0.5, steps: 0 });
    expect(arr(r.x)).toEqual([0.5, -1, 2]);
    expect(r.note).toBe('alpha 0.5, 0 terms');
    expect(v[0].isDisposed).toBe(false);
    expect(arr(v)).toEqual([1, -2, 4]);
  });

  it('CG stops with a NonFiniteError naming cg and the iteration when only pᵀAp is infinite', async () => {
    // A = diag(1e290, 1), b = (1e10, 1): A b is finite but pᵀAp = 1e310 overflows, while ||r||² = 1e20 + 1 stays finite
    // (and the step a = ||r||²/pᵀAp = 0 would leave every later quantity finite).
    const e = await cgInverseHvp(diagonal([1e290, 1]).op, vec([1e10, 1]), { steps: 4 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NonFiniteError);
    expect((e as NonFiniteError).iteration).toBe(1);
    expect((e as Error).message).toBe('cg: non-finite values at iteration 1 (float32 under/overflow or a diverging series)');
  });

  it('SolverFailure is named as such (the name is what run logs print)', () => {
    expect(new SolverFailure('exact solver: singular').name).toBe('SolverFailure');
    expect(String(new SolverFailure('exact solver: singular'))).toBe('SolverFailure: exact solver: singular');
  });
});
