// inverse-check's numbers against an independent computation: the loss written as plain float64 loops, H and g by finite differences, x* by Gaussian elimination, Neumann and identity by their definitions.
import { describe, expect, it } from 'vitest';
import { PROBLEM_FORMAT, runInverseCheck } from '../../src/index.js';
import { parseProblem } from '../../src/node/index.js';
import { Random } from '../../src/util/random.js';
import { gaussSolve } from './helpers.js';

// MLP 3-4-3 with tanh, per-parameter L2 softplus(λ)² w², 6 training and 5 validation samples.
const sizes = [3, 4, 3];
const rng = new Random(21);
const W1 = Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => 0.8 * rng.normal()));
const b1 = Array.from({ length: 4 }, () => 0.3 * rng.normal());
const W2 = Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => 0.8 * rng.normal()));
const b2 = Array.from({ length: 3 }, () => 0.3 * rng.normal());
const lam = [W1.flat(), b1, W2.flat(), b2].map((t) => t.map(() => -1 + 0.5 * rng.normal()));
const batch = (n: number) => ({ x: Array.from({ length: n }, () => Array.from({ length: 3 }, () => rng.normal())), y: Array.from({ length: n }, () => rng.int(3)) });
const train = batch(6);
const val = batch(5);

/** Flat parameter vector order: fc1.weight (row-major [out, in]), fc1.bias, fc2.weight, fc2.bias. */
const flat0 = [...W1.flat(), ...b1, ...W2.flat(), ...b2];
const n = flat0.length;
const softplus = (z: number) => Math.log1p(Math.exp(z));

function ce(w: number[], data: { x: number[][]; y: number[] }): number {
  let total = 0;
  for (let s = 0; s < data.x.length; s++) {
    const h = [0, 1, 2, 3].map((j) => Math.tanh(data.x[s].reduce((a, xi, i) => a + w[j * 3 + i] * xi, w[12 + j])));
    const z = [0, 1, 2].map((k) => h.reduce((a, hj, j) => a + w[16 + k * 4 + j] * hj, w[28 + k]));
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, zk) => a + Math.exp(zk - m), 0));
    total += lse - z[data.y[s]];
  }
  return total / data.x.length;
}
const lamFlat = lam.flat();
const trainLoss = (w: number[]) => ce(w, train) + w.reduce((a, wi, i) => a + (softplus(lamFlat[i]) * wi) ** 2, 0);

const h = 1e-4;
const bump = (w: number[], i: number, d: number) => w.map((v, k) => (k === i ? v + d : v));
const g = flat0.map((_, i) => (ce(bump(flat0, i, h), val) - ce(bump(flat0, i, -h), val)) / (2 * h));
const H = new Float64Array(n * n);
for (let i = 0; i < n; i++) {
  for (let j = 0; j < n; j++) {
    const f = (di: number, dj: number) => trainLoss(bump(bump(flat0, i, di), j, dj));
    H[i * n + j] = (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4 * h * h);
  }
}
const xStar = Array.from(gaussSolve(H, g, n));
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
const norm = (a: number[]) => Math.sqrt(dot(a, a));
const cosine = (a: number[]) => dot(a, xStar) / (norm(a) * norm(xStar));
const relErr = (a: number[]) => norm(a.map((v, i) => v - xStar[i])) / norm(xStar);
/** Neumann: x = α Σ_{k=0}^{K} (I - αH)^k g (K + 1 terms; the engine's convention is checked below by matching the row). */
function neumann(K: number, alpha: number): number[] {
  let term = [...g];
  const sum = [...g];
  for (let k = 1; k <= K; k++) {
    term = term.map((_, i) => term[i] - alpha * term.reduce((s, t, j) => s + H[i * n + j] * t, 0));
    term.forEach((t, i) => (sum[i] += t));
  }
  return sum.map((v) => alpha * v);
}

// Finite-difference H is good to ~1e-8; the solve amplifies that by the condition number: compare to 1e-4 relative.
const close = (a: number, b: number, what: string) => expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-4 * Math.abs(b) + 1e-8);

describe('inverse-check against an independent float64 computation', () => {
  it('exact, identity, Neumann(3) and CG(n) rows: cosine and relative error to the finite-difference x*', async () => {
    const t = (rows: number[][]) => rows;
    const raw = {
      format: PROBLEM_FORMAT, version: 1, model: { type: 'mlp', sizes, activation: 'tanh' },
      weights: { 'fc1.weight': t(W1), 'fc1.bias': b1, 'fc2.weight': t(W2), 'fc2.bias': b2 },
      regularizer: { type: 'per-parameter-l2', lambdas: {
        'fc1.weight': W1.map((r, i) => r.map((_, j) => lam[0][i * 3 + j])), 'fc1.bias': lam[1],
        'fc2.weight': W2.map((r, i) => r.map((_, j) => lam[2][i * 4 + j])), 'fc2.bias': lam[3],
      } },
      train, validation: val,
    };
    const p = await parseProblem(raw, '.', 'reference problem');
    const r = await runInverseCheck(p, { neumann: [3], alpha: 0.1, cg: [n], ridge: 0, method: 'auto', damping: 0, spectrum: 'auto' });
    expect(r.problem.parameters).toBe(n);
    close(r.problem.valGradNorm, norm(g), 'r.problem.valGradNorm');
    const row = (prefix: string) => r.rows.find((m) => m.method.startsWith(prefix))!;
    close(row('exact').norm, norm(xStar), 'exact norm');
    const id = row('identity');
    close(id.cosine, cosine(g), 'id.cosine');
    close(id.relativeError, relErr(g), 'id.relativeError');
    // Neumann with K = 3: either 3 or 4 terms is a convention; the engine's must be the thesis' K+1 terms.
    const nm = row('neumann');
    const ref = neumann(3, 0.1);
    close(nm.norm, norm(ref), 'nm.norm');
    close(nm.cosine, cosine(ref), 'nm.cosine');
    close(nm.relativeError, relErr(ref), 'nm.relativeError');
    const cg = row('cg');
    // H is indefinite here (tanh net away from a minimum): CG with n steps gets close but not to rounding.
    expect(cg.relativeError).toBeLessThan(1e-2);
    expect(cg.cosine).toBeGreaterThan(0.9999);
  });
});
