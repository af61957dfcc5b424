// Bunch–Kaufman LDLᵀ: residuals on symmetric indefinite matrices, 2x2 pivots, inertia against eigenvalues, singular input.
import { describe, expect, it } from 'vitest';
import { eigh, ldlt, Matrix, SingularMatrixError, solve } from '../../src/linalg/index.js';
import { hilbert, randomMatrix, randomSpd, randomSymmetric, relResidual } from './helpers.js';

describe('LDLT (Bunch–Kaufman)', () => {
  for (const n of [1, 2, 3, 7, 31, 64, 65, 130, 300]) {
    for (const nb of [2, 8, 64]) {
      it(`symmetric indefinite n=${n} panel ${nb}: residual <= 1e-10, inertia = eigenvalue signs`, () => {
        const a = randomSymmetric(n, 500 + n);
        const A = Matrix.from(a, n, n);
        const f = ldlt(A, { blockSize: nb });
        expect(f.singular).toBe(false);
        const b = randomMatrix(n, 1, 3);
        expect(relResidual(a, f.solve(b), b, n)).toBeLessThan(1e-10);
        const B = Matrix.from(randomMatrix(n, 4, 4), n, 4);
        const X = f.solve(B).toArray();
        const Bv = B.toArray();
        for (let c = 0; c < 4; c++) {
          const xc = Float64Array.from({ length: n }, (_, i) => X[i * 4 + c]!);
          const bc = Float64Array.from({ length: n }, (_, i) => Bv[i * 4 + c]!);
          expect(relResidual(a, xc, bc, n)).toBeLessThan(1e-10);
        }
        const { values } = eigh(A, { vectors: false });
        expect(f.inertia).toEqual({ positive: values.filter((v) => v > 0).length, negative: values.filter((v) => v < 0).length, zero: 0 });
        expect(Array.from(A.toArray())).toEqual(Array.from(a)); // input untouched
        f.free();
      });
    }
  }

  it('needs 2x2 pivots: zero diagonal [[0, 1], [1, 0]] and a saddle block', () => {
    const f = ldlt(Matrix.from([[0, 1], [1, 0]]));
    expect(Array.from(f.solve([2, 3]))).toEqual([3, 2]);
    expect(f.inertia).toEqual({ positive: 1, negative: 1, zero: 0 });
    expect(f.pivots[0]).toBeLessThan(0); // a 2x2 block
    const n = 40;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i += 2) {
      a[i * n + i + 1] = a[(i + 1) * n + i] = 1 + i / n; // pure off-diagonal pairs
      if (i + 2 < n) a[i * n + i + 2] = a[(i + 2) * n + i] = 0.3;
    }
    const b = randomMatrix(n, 1, 9);
    const g = ldlt(Matrix.from(a, n, n), { blockSize: 8 });
    expect(relResidual(a, g.solve(b), b, n)).toBeLessThan(1e-12);
    expect(g.inertia.negative).toBe(n / 2);
  });

  it('SPD and ill-conditioned inputs; rcond close to the true 1-norm condition', () => {
    const n = 80;
    const a = randomSpd(n, 2);
    const f = ldlt(Matrix.from(a, n, n), { blockSize: 16 });
    expect(f.inertia).toEqual({ positive: n, negative: 0, zero: 0 });
    const b = randomMatrix(n, 1, 1);
    expect(relResidual(a, f.solve(b), b, n)).toBeLessThan(1e-12);
    const h = hilbert(4);
    expect(Math.abs(1 / ldlt(Matrix.from(h, 4, 4)).rcond() - 28375) / 28375).toBeLessThan(1e-6);
    expect(relResidual(a, solve(Matrix.from(a, n, n), b, { assume: 'symmetric' }), b, n)).toBeLessThan(1e-12);
  });

  it('singular: an exactly zero pivot is reported and solving refuses', () => {
    const f = ldlt(Matrix.from([[1, 2, 0], [2, 4, 0], [0, 0, 0]]));
    expect(f.singular).toBe(true);
    expect(f.inertia.zero).toBeGreaterThan(0);
    expect(f.rcond()).toBe(0);
    expect(() => f.solve([1, 2, 3])).toThrow(SingularMatrixError);
  });
});
