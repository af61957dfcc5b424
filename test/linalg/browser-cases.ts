// Deterministic linalg computations run both in Node and in headless Chromium (test/linalg/browser.test.ts); their float64 outputs must agree bit for bit.
// Core modules only: src/index.ts also exports Node-only checkpoint helpers.
import { oneHot, tensor } from '../../src/core/creation.js';
import { add, matmul as tmatmul, mul, sum } from '../../src/core/ops.js';
import type { Tensor } from '../../src/core/tensor.js';
import { softplus, tanh } from '../../src/ops/activations.js';
import { crossEntropy } from '../../src/ops/losses.js';
import { cholesky, eigh, ldlt, lu, matmul, Matrix } from '../../src/linalg/dense.js';
import { ExactHessianSolver } from '../../src/linalg/exact-inverse-hvp.js';
import { exactHessian } from '../../src/linalg/hessian.js';
import { denseOperator, extremeEigenvalues, hutchinsonTrace } from '../../src/linalg/spectrum.js';
import { Random } from '../../src/util/random.js';

export interface LinalgCase {
  name: string;
  /**
   * 0: bit-for-bit equality. Otherwise the allowed relative difference: the engine's float64 kernels
   * call Math.exp/log/tanh, which may differ in the last bit between V8 versions (Node 20 vs Chromium).
   */
  tolerance: number;
  run: () => Float64Array[];
}

/** Uniform in [-1, 1) from integer arithmetic only (Math.log/sin/cos may differ in the last bit between JS engines). */
function rand(n: number, m: number, seed: number): Float64Array {
  const r = new Random(seed);
  return Float64Array.from({ length: n * m }, () => 2 * r.uniform() - 1);
}

function spd(n: number, seed: number): Matrix {
  const B = Matrix.from(rand(n, n, seed), n, n);
  const A = matmul(B, B, { transB: true, alpha: 1 / n });
  for (let i = 0; i < n; i++) A.set(i, i, A.get(i, i) + 1);
  B.free();
  return A;
}

function symmetric(n: number, seed: number): Matrix {
  const r = rand(n, n, seed);
  const A = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) A.data[i * n + j] = A.data[j * n + i] = r[i * n + j]!;
  return A;
}

export function linalgCases(): LinalgCase[] {
  return [
    {
      name: 'inputs (seeded uniform)',
      tolerance: 0,
      run: () => [rand(10, 10, 1)],
    },
    {
      name: 'dgemm 67x45x53 transB, alpha',
      tolerance: 0,
      run: () => [matmul(Matrix.from(rand(67, 53, 1), 67, 53), Matrix.from(rand(45, 53, 2), 45, 53), { transB: true, alpha: 0.7 }).toArray()],
    },
    {
      name: 'cholesky n=150 + solve + rcond',
      tolerance: 0,
      run: () => {
        const f = cholesky(spd(150, 3));
        return [f.factor.toArray(), f.solve(rand(150, 1, 4)), Float64Array.of(f.rcond(), f.logDet())];
      },
    },
    {
      name: 'lu n=120 + solve + transposed solve + rcond',
      tolerance: 0,
      run: () => {
        const f = lu(Matrix.from(rand(120, 120, 5), 120, 120));
        return [f.factor.toArray(), Float64Array.from(f.pivots), f.solve(rand(120, 1, 6)), f.solve(rand(120, 1, 6), { transpose: true }), Float64Array.of(f.rcond())];
      },
    },
    {
      name: 'ldlt n=130 (panel 16) + solve + inertia',
      tolerance: 0,
      run: () => {
        const f = ldlt(symmetric(130, 7), { blockSize: 16 });
        return [f.factor.toArray(), Float64Array.from(f.pivots), f.solve(rand(130, 1, 8)), Float64Array.of(f.inertia.positive, f.inertia.negative, f.rcond())];
      },
    },
    {
      name: 'eigh n=60 values and vectors',
      tolerance: 0,
      run: () => {
        const r = eigh(symmetric(60, 9));
        return [r.values, r.vectors!.toArray()];
      },
    },
    {
      name: 'Lanczos extremes and Hutchinson trace (dense operator)',
      tolerance: 0,
      run: () => {
        const op = denseOperator(symmetric(80, 10));
        const e = extremeEigenvalues(op, { steps: 30, seed: 2 });
        const h = hutchinsonTrace(op, { samples: 20, seed: 3 });
        return [e.ritz, Float64Array.of(h.trace, h.stderr)];
      },
    },
    {
      name: 'exact Hessian and H⁻¹g of a small tanh MLP (engine autodiff, float64)',
      tolerance: 1e-12,
      run: () => {
        const o = { dtype: 'float64' as const };
        const w = [tensor(rand(5, 6, 11), [5, 6], o), tensor(rand(5, 1, 12), [5], o), tensor(rand(3, 5, 13), [3, 5], o), tensor(rand(3, 1, 14), [3], o)];
        const lam = w.map((t, i) => tensor(rand(t.size, 1, 20 + i).map((v) => v - 2), t.shape, o));
        const x = tensor(rand(8, 6, 15), [8, 6], o);
        const y = oneHot([0, 1, 2, 0, 1, 2, 0, 1], 3, o);
        const f = ([w1, b1, w2, b2]: Tensor[]): Tensor => {
          let loss = crossEntropy(add(tmatmul(tanh(add(tmatmul(x, w1!, { transB: true }), b1!)), w2!, { transB: true }), b2!), y);
          [w1, b1, w2, b2].forEach((wi, i) => {
            const r = mul(softplus(lam[i]!), wi!);
            loss = add(loss, sum(mul(r, r)));
          });
          return loss;
        };
        const H = exactHessian(f, w);
        const s = ExactHessianSolver.create(H.matrix, { spectrum: 'full' });
        const r = s.solve(rand(H.n, 1, 16));
        return [H.matrix.toArray(), r.x, Float64Array.of(s.report.lambdaMin, s.report.lambdaMax, s.report.conditionNumber, s.report.method === 'ldlt' ? 1 : 0)];
      },
    },
  ];
}

export function f64ToBase64(a: Float64Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return btoa(s);
}

export function base64ToF64(b64: string): Float64Array {
  const s = atob(b64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return new Float64Array(bytes.buffer);
}
