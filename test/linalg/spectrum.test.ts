// HVP-only spectrum tools: power iteration, Lanczos, Hutchinson trace and SLQ density agree with dense eigenvalues.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { add, crossEntropy, matmul, mul, oneHot, softplus, sum, tanh, tensor, type Tensor } from '../../src/index.js';
import {
  denseOperator, eigh, exactHessian, extremeEigenvalues, hessianOperator, hutchinsonTrace, lanczos, Matrix, powerIteration,
  spectralDensity, topEigenvalues,
} from '../../src/linalg/index.js';
import { randomSymmetric } from './helpers.js';

/** A = Q diag(λ) Qᵀ with a random orthogonal Q. */
function withSpectrum(values: number[], seed: number): Matrix {
  const n = values.length;
  const { vectors } = eigh(Matrix.from(randomSymmetric(n, seed), n, n));
  const Q = vectors!.toArray();
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += Q[i * n + k]! * values[k]! * Q[j * n + k]!;
      a[i * n + j] = a[j * n + i] = s;
    }
  }
  vectors!.free();
  return Matrix.from(a, n, n);
}

describe('spectrum tools on a dense matrix with a known spectrum', () => {
  const n = 100;
  const spectrum = Array.from({ length: n }, (_, i) => -3 + (13 * i) / (n - 4));
  spectrum[n - 1] = 50;
  spectrum[n - 2] = 30;
  spectrum[n - 3] = 20;
  spectrum[0] = -25;
  const A = withSpectrum(spectrum, 1);
  const op = denseOperator(A);
  const sorted = [...spectrum].sort((a, b) => a - b);
  const trace = spectrum.reduce((s, v) => s + v, 0);

  it('power iteration with deflation: the top-3 eigenvalues by magnitude', () => {
    const r = powerIteration(op, { k: 3, tol: 1e-12, maxIterations: 5000, seed: 3 });
    expect(r.converged).toEqual([true, true, true]);
    expect(Math.abs(r.values[0]! - 50)).toBeLessThan(1e-6);
    expect(Math.abs(r.values[1]! - 30)).toBeLessThan(1e-6);
    expect(Math.abs(r.values[2]! - -25)).toBeLessThan(1e-6);
    // Eigenvectors: A v = λ v.
    r.vectors.forEach((v, i) => {
      const Av = op.apply(v);
      let err = 0;
      for (let j = 0; j < n; j++) err = Math.max(err, Math.abs(Av[j]! - r.values[i]! * v[j]!));
      expect(err).toBeLessThan(1e-4);
    });
  });

  it('Lanczos: extreme Ritz values and top-k eigenpairs', () => {
    const e = extremeEigenvalues(op, { steps: 40 });
    expect(Math.abs(e.max - 50)).toBeLessThan(1e-9);
    expect(Math.abs(e.min - -25)).toBeLessThan(1e-9);
    const top = topEigenvalues(op, { k: 3, steps: 50 });
    expect(top.values.map((v) => Math.round(v * 1e8) / 1e8)).toEqual([50, 30, 20]);
    const small = topEigenvalues(op, { k: 1, which: 'smallest' });
    expect(Math.abs(small.values[0]! - sorted[0]!)).toBeLessThan(1e-8);
    const mag = topEigenvalues(op, { k: 3, which: 'magnitude', steps: 60 });
    expect(mag.values.map((v) => Math.round(v))).toEqual([50, 30, -25]);
    // n steps of Lanczos with reorthogonalisation recover the whole spectrum.
    const L = lanczos(op, { steps: n });
    const { values } = eigh(tridiag(L.alpha, L.beta), { vectors: false });
    values.forEach((v, i) => expect(Math.abs(v - sorted[i]!)).toBeLessThan(1e-8));
  });

  it('Hutchinson trace: unbiased, within 4 standard errors and 3% with 2000 probes', () => {
    const r = hutchinsonTrace(op, { samples: 2000, seed: 5 });
    expect(r.samples).toBe(2000);
    expect(Math.abs(r.trace - trace)).toBeLessThan(4 * r.stderr);
    expect(Math.abs(r.trace - trace) / Math.abs(trace)).toBeLessThan(0.03);
    const early = hutchinsonTrace(op, { samples: 2000, tol: 1e-3, seed: 5 });
    expect(early.samples).toBeLessThan(2000);
  });

  it('SLQ spectral density: a probability density on [λmin, λmax] whose first moment is tr(A)/n', () => {
    const d = spectralDensity(op, { steps: 60, runs: 10, seed: 7 });
    const step = d.grid[1]! - d.grid[0]!;
    const mass = d.density.reduce((s, v) => s + v, 0) * step;
    expect(Math.abs(mass - 1)).toBeLessThan(1e-9);
    expect(d.grid[0]!).toBeLessThan(-25);
    expect(d.grid.at(-1)!).toBeGreaterThan(50);
    // Quadrature nodes are Ritz values (inside the spectrum), weights sum to 1 per probe.
    for (const nd of d.nodes) {
      expect(Math.abs(nd.weights.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-12);
      expect(nd.values[0]!).toBeGreaterThanOrEqual(-25 - 1e-9);
      expect(nd.values.at(-1)!).toBeLessThanOrEqual(50 + 1e-9);
    }
    // Σ τ θ = zᵀ A z / zᵀ z: averaged over probes ≈ tr(A)/n.
    const moment = d.nodes.reduce((s, nd) => s + nd.values.reduce((a, v, i) => a + v * nd.weights[i]!, 0), 0) / d.nodes.length;
    expect(Math.abs(moment - trace / n)).toBeLessThan(0.1 * Math.abs(trace / n));
    // The isolated top eigenvalue shows up as a node with weight about 1/n.
    const top = d.nodes.map((nd) => nd.weights[nd.values.length - 1]!).reduce((a, b) => a + b, 0) / d.nodes.length;
    expect(top).toBeGreaterThan(0.2 / n);
    expect(top).toBeLessThan(5 / n);
  });
});

describe('spectrum tools on an MLP Hessian from HVPs only (vector lists)', () => {
  const g = JSON.parse(readFileSync(new URL('../fixtures/golden/mlp-tanh-seed2.json', import.meta.url), 'utf8')) as {
    sizes: number[]; weights: number[][]; lambdas: number[][]; x_train: number[][]; y_train: number[]; hessian_eigs: number[];
  };
  const [inputs, hidden, classes] = g.sizes as [number, number, number];
  const shapes = [[hidden, inputs], [hidden], [classes, hidden], [classes]];
  const o = { dtype: 'float64' as const };
  const w = g.weights.map((a, i) => tensor(a, shapes[i], o));
  const lam = g.lambdas.map((a, i) => tensor(a, shapes[i], o));
  const x = tensor(g.x_train.flat(), [g.x_train.length, inputs], o);
  const t = oneHot(g.y_train, classes, o);
  const f = (ws: Tensor[]): Tensor => {
    const [w1, b1, w2, b2] = ws as [Tensor, Tensor, Tensor, Tensor];
    let loss = crossEntropy(add(matmul(tanh(add(matmul(x, w1, { transB: true }), b1)), w2, { transB: true }), b2), t);
    ws.forEach((wi, i) => {
      const r = mul(softplus(lam[i]!), wi);
      loss = add(loss, sum(mul(r, r)));
    });
    return loss;
  };
  const H = hessianOperator(f, w);
  const eigs = g.hessian_eigs;
  const dominant = eigs.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a));

  it('power iteration finds the dominant eigenvalue of the PyTorch spectrum', () => {
    const r = powerIteration({ op: H, like: w }, { k: 1, tol: 1e-12, maxIterations: 3000 });
    expect(Math.abs(r.values[0]! - dominant)).toBeLessThan(1e-6 * Math.abs(dominant));
  });

  it('Lanczos extremes and top-2 match hessian_eigs', () => {
    const e = extremeEigenvalues({ op: H, like: w }, { steps: 60 });
    expect(Math.abs(e.min - eigs[0]!)).toBeLessThan(1e-8);
    expect(Math.abs(e.max - eigs.at(-1)!)).toBeLessThan(1e-8);
    const top = topEigenvalues({ op: H, like: w }, { k: 2, steps: 70 });
    expect(Math.abs(top.values[0]! - eigs.at(-1)!)).toBeLessThan(1e-8);
    expect(Math.abs(top.values[1]! - eigs.at(-2)!)).toBeLessThan(1e-6);
  });

  it("Hutchinson's trace agrees with the sum of the dense eigenvalues", () => {
    const trace = eigs.reduce((s, v) => s + v, 0);
    const r = hutchinsonTrace({ op: H, like: w }, { samples: 400, seed: 1 });
    expect(Math.abs(r.trace - trace)).toBeLessThan(4 * r.stderr);
    // And with the exact Hessian: tr(H) = Σ H_ii.
    const dense = exactHessian(f, w);
    const n = dense.n;
    let diag = 0;
    for (let i = 0; i < n; i++) diag += dense.matrix.get(i, i);
    expect(Math.abs(diag - trace)).toBeLessThan(1e-10 * n);
    dense.matrix.free();
  });
});

function tridiag(alpha: Float64Array, beta: Float64Array): Matrix {
  const m = alpha.length;
  const t = Matrix.zeros(m, m);
  for (let i = 0; i < m; i++) {
    t.set(i, i, alpha[i]!);
    if (i + 1 < m) {
      t.set(i + 1, i, beta[i]!);
      t.set(i, i + 1, beta[i]!);
    }
  }
  return t;
}
