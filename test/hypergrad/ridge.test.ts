// Hypergradients on ridge regression, whose best response w*(λ) = (XᵀX + diag(λ))⁻¹Xᵀy is known in closed form.
import { describe, expect, it } from 'vitest';
import { add, matmul, mul, Random, randn, sub, sum, tensor, type Tensor } from '../../src/index.js';
import { hypergradient, type LossFn } from '../../src/hypergrad/hypergradient.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
// Registers the dense exact inverse-HVP ('exact' method).
import '../../src/linalg/index.js';

const f64 = { dtype: 'float64' as const };

/** Dense solve by Gaussian elimination with partial pivoting (independent float64 reference). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

function problem(seed: number, n = 40, d = 6, nv = 30) {
  const rng = new Random(seed);
  const X = randn([n, d], rng, 0.3, f64);
  const y = randn([n, 1], rng, 1, f64);
  const Xv = randn([nv, d], rng, 0.3, f64);
  const yv = randn([nv, 1], rng, 1, f64);
  const lamArr = Array.from({ length: d }, () => 0.5 + rng.uniform());
  const Xa = X.toArray();
  const H = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let r = 0; r < n; r++) s += Xa[r * d + i] * Xa[r * d + j];
    return s + (i === j ? lamArr[i] : 0);
  }));
  const Xty = matmul(X, y, { transA: true }).toArray();
  const wStar = solve(H, Xty);
  const w = tensor(wStar, [d, 1], f64);
  const lam = tensor(lamArr, [d, 1], f64);
  // L_T = ½||Xw - y||² + ½ Σ λ_i w_i²;  L_V = ½||X_v w - y_v||²
  const trainLoss: LossFn = ([wt], [l]) => {
    const r = sub(matmul(X, wt), y);
    return add(mul(sum(mul(r, r)), 0.5), mul(sum(mul(l, mul(wt, wt))), 0.5));
  };
  const valLoss: LossFn = ([wt]) => {
    const r = sub(matmul(Xv, wt), yv);
    return mul(sum(mul(r, r)), 0.5);
  };
  // Analytic: dL_V/dλ = -(H⁻¹ g_v) ⊙ w*, g_v = X_vᵀ(X_v w* - y_v).
  const gv = matmul(Xv, sub(matmul(Xv, w), yv), { transA: true }).toArray();
  const z = solve(H, gv);
  const analytic = z.map((zi, i) => -zi * wStar[i]);
  const eig = H.map((row, i) => row[i]); // diagonal, used only for a contracting α bound below
  // L_V(w*(λ')) for any λ', by the closed form (a plain float64 computation, independent of the engine).
  const Xva = Xv.toArray();
  const yva = yv.toArray();
  const valAt = (lams: number[]): number => {
    const Hl = H.map((row, i) => row.map((v, j) => v - (i === j ? lamArr[i] - lams[i] : 0)));
    const ws = solve(Hl, Xty);
    let s = 0;
    for (let r = 0; r < nv; r++) {
      let pr = 0;
      for (let k = 0; k < d; k++) pr += Xva[r * d + k] * ws[k];
      s += (pr - yva[r]) ** 2;
    }
    return 0.5 * s;
  };
  return { w, lam, lamArr, trainLoss, valLoss, analytic, valAt, H, d, maxDiag: Math.max(...eig) };
}

const rel = (a: number[], b: number[]): number =>
  Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / b.reduce((s, v) => s + v * v, 0));

describe('hypergradients on ridge regression against the closed form', () => {
  const p = problem(1);
  const hg = async (spec: string): Promise<number[]> => (await hypergradient(p.trainLoss, p.valLoss, [p.w], [p.lam], parseMethod(spec))).hypergrad[0].toArray();
  // ||H|| ≤ trace(H); α = 1/trace(H) makes I - αH contracting.
  const trace = p.H.reduce((s, row, i) => s + row[i], 0);
  const alpha = 1 / trace;

  it('exact (dense Hessian solve) matches the closed form to 1e-6', async () => {
    expect(rel(await hg('exact'), p.analytic)).toBeLessThan(1e-6);
  });

  it('CG with n steps is exact on this SPD problem', async () => {
    expect(rel(await hg(`cg:${p.d}`), p.analytic)).toBeLessThan(1e-8);
  });

  it('Neumann converges as k grows when α contracts', async () => {
    const errs: number[] = [];
    for (const k of [2, 8, 30, 3000]) errs.push(rel(await hg(`neumann:${k}:alpha=${alpha}`), p.analytic));
    for (let i = 1; i < errs.length; i++) expect(errs[i]).toBeLessThan(errs[i - 1]);
    expect(errs[errs.length - 1]).toBeLessThan(1e-6);
  });

  it('CG error falls with k', async () => {
    const errs: number[] = [];
    for (const k of [1, 3, p.d]) errs.push(rel(await hg(`cg:${k}`), p.analytic));
    expect(errs[1]).toBeLessThan(errs[0]);
    expect(errs[2]).toBeLessThan(1e-8);
  });

  it('damped Neumann (α from the top eigenvalue) converges without a hand-tuned α', async () => {
    expect(rel(await hg('damped-neumann:3000:damping=0'), p.analytic)).toBeLessThan(1e-5);
  });

  it('identity has the sign of the true hypergradient (positive inner product)', async () => {
    const h = await hg('identity');
    const dot = h.reduce((s, v, i) => s + v * p.analytic[i], 0);
    expect(dot).toBeGreaterThan(0);
  });
});

describe('a meta-step lowers the validation loss, for every method', () => {
  // λ' = λ - ε h with the method's hypergradient h. To first order L_V(w*(λ')) - L_V(w*(λ)) = -ε h·∇_λ L_V, where
  // ∇_λ L_V is the closed form: the step must lower the loss, by that amount up to O(ε²). A method whose hypergradient
  // had the wrong sign (or pointed away from the true one) raises it.
  const p = problem(3);
  const trace = p.H.reduce((s, row, i) => s + row[i], 0);
  const specs = ['exact', `cg:${p.d}`, 'cg:2', 'cg:1', `neumann:3:alpha=${1 / trace}`, `neumann:30:alpha=${1 / trace}`, 'damped-neumann:5', 'identity', 't1t2'];
  for (const spec of specs) {
    it(spec, async () => {
      const h = (await hypergradient(p.trainLoss, p.valLoss, [p.w], [p.lam], parseMethod(spec))).hypergrad[0].toArray();
      const slope = -h.reduce((s, v, i) => s + v * p.analytic[i], 0);
      expect(slope).toBeLessThan(0);
      const base = p.valAt(p.lamArr);
      const hn = Math.sqrt(h.reduce((s, v) => s + v * v, 0));
      for (const eps of [1e-3 / hn, 1e-4 / hn]) {
        const delta = p.valAt(p.lamArr.map((l, i) => l - eps * h[i])) - base;
        expect(delta).toBeLessThan(0);
        // first order: the change divided by ε is the predicted slope within 1% (the O(ε) remainder)
        expect(Math.abs(delta / eps - slope)).toBeLessThan(0.01 * Math.abs(slope));
      }
    });
  }
});

export type { Tensor };
