// Wasm dense linear algebra: GEMM, Cholesky, LU, triangular solves, eigen-decomposition and condition estimates against plain-TS references.
import { describe, expect, it } from 'vitest';
import {
  cholesky, eigh, initLinalg, linalgMemoryStats, lu, matmul, matvec, Matrix, norm1, NotPositiveDefiniteError,
  SingularMatrixError, solve, solveTriangular, symmetrize,
} from '../../src/linalg/index.js';
import { dgemmArrays } from '../../src/linalg/wasm.js';
import { hilbert, norm, randomMatrix, randomSpd, randomSymmetric, refMatvec, relErr, relResidual } from './helpers.js';

describe('matmul (Wasm dgemm)', () => {
  const cases = [
    [1, 1, 1], [3, 5, 7], [37, 53, 29], [64, 64, 64], [130, 7, 300], [5, 260, 129],
  ] as const;
  for (const [M, N, K] of cases) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        it(`${M}x${N}x${K} transA=${tA} transB=${tB}`, () => {
          const a = randomMatrix(M, K, 1);
          const b = randomMatrix(K, N, 2);
          // Stored layouts: A [M,K] or [K,M]; B [K,N] or [N,K].
          const aS = tA ? transpose(a, M, K) : a;
          const bS = tB ? transpose(b, K, N) : b;
          const A = Matrix.from(aS, tA ? K : M, tA ? M : K);
          const B = Matrix.from(bS, tB ? N : K, tB ? K : N);
          const C = matmul(A, B, { transA: tA, transB: tB });
          const want = refMatmul(a, b, M, N, K);
          expect(maxAbsDiff(C.toArray(), want)).toBeLessThan(1e-12 * K);
          // Plain-array entry point used by the CPU backend (with accumulate).
          const out = Float64Array.from(want);
          dgemmArrays(aS, bS, M, N, K, tA, tB, out, true);
          expect(maxAbsDiff(out, want.map((v) => 2 * v))).toBeLessThan(2e-12 * K);
          [A, B, C].forEach((m) => m.free());
        });
      }
    }
  }

  it('matvec and transposed matvec', () => {
    const a = randomMatrix(17, 9, 3);
    const A = Matrix.from(a, 17, 9);
    const x = randomMatrix(9, 1, 4);
    expect(maxAbsDiff(matvec(A, x), refMatvec(a, x, 17, 9))).toBeLessThan(1e-13);
    const y = randomMatrix(17, 1, 5);
    expect(maxAbsDiff(matvec(A, y, { transpose: true }), refMatvec(transpose(a, 17, 9), y, 9, 17))).toBeLessThan(1e-13);
  });
});

describe('Cholesky', () => {
  for (const n of [1, 2, 5, 31, 33, 64, 100, 257, 400]) {
    it(`SPD n=${n}: residual <= 1e-10, L Lᵀ = A, multiple right-hand sides`, () => {
      const a = randomSpd(n, n);
      const A = Matrix.from(a, n, n);
      const f = cholesky(A);
      const b = randomMatrix(n, 1, 7);
      const x = f.solve(b);
      expect(relResidual(a, x, b, n)).toBeLessThan(1e-10);
      // The input is left untouched.
      expect(maxAbsDiff(A.toArray(), a)).toBe(0);
      // L Lᵀ reconstructs A.
      const L = lowerOf(f.factor.toArray(), n);
      const llt = refMatmul(L, transpose(L, n, n), n, n, n);
      expect(maxAbsDiff(llt, a)).toBeLessThan(1e-12 * n);
      const B = Matrix.from(randomMatrix(n, 3, 8), n, 3);
      const X = f.solve(B);
      for (let c = 0; c < 3; c++) {
        expect(relResidual(a, column(X.toArray(), n, 3, c), column(B.toArray(), n, 3, c), n)).toBeLessThan(1e-10);
      }
      [A, B, X].forEach((m) => m.free());
      f.free();
    });
  }

  it('fails with a clear error on indefinite input and leaves the matrix as it was', () => {
    const n = 40;
    const a = randomSpd(n, 3);
    a[25 * n + 25] = -5;
    const A = Matrix.from(a, n, n);
    let err: unknown;
    try {
      cholesky(A, { overwrite: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotPositiveDefiniteError);
    expect((err as NotPositiveDefiniteError).minor).toBeLessThanOrEqual(26);
    expect((err as Error).message).toMatch(/not positive definite.*leading minor of order \d+/);
    expect(maxAbsDiff(A.toArray(), a)).toBe(0); // restored after the in-place attempt
    expect(() => cholesky(Matrix.from([[1, 2], [2, 1]]))).toThrow(/leading minor of order 2/);
    expect(() => cholesky(Matrix.from([[-1, 0], [0, 1]]))).toThrow(/leading minor of order 1/);
    expect(() => cholesky(Matrix.from([[1, 1], [1, 1]]))).toThrow(NotPositiveDefiniteError); // singular PSD
    expect(() => cholesky(Matrix.from([[NaN, 0], [0, 1]]))).toThrow(NotPositiveDefiniteError);
    A.free();
  });

  it('reads only the lower triangle', () => {
    const n = 50;
    const a = randomSpd(n, 5);
    const junk = Float64Array.from(a);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) junk[i * n + j] = 1e6;
    const b = randomMatrix(n, 1, 6);
    const x = cholesky(Matrix.from(junk, n, n)).solve(b);
    expect(relResidual(a, x, b, n)).toBeLessThan(1e-10);
  });
});

describe('LU with partial pivoting', () => {
  for (const n of [1, 2, 7, 16, 17, 64, 150, 300]) {
    it(`general n=${n}: residual <= 1e-10 for A x = b and Aᵀ x = b, P A = L U`, () => {
      const a = randomMatrix(n, n, 100 + n);
      for (let i = 0; i < n; i++) a[i * n + i]! += 2 * Math.sqrt(n); // well-conditioned, not diagonally dominant
      const A = Matrix.from(a, n, n);
      const f = lu(A);
      expect(f.singular).toBe(false);
      const b = randomMatrix(n, 1, 9);
      expect(relResidual(a, f.solve(b), b, n)).toBeLessThan(1e-10);
      expect(relResidual(transpose(a, n, n), f.solve(b, { transpose: true }), b, n)).toBeLessThan(1e-10);
      const B = Matrix.from(randomMatrix(n, 5, 10), n, 5);
      const X = f.solve(B);
      for (let c = 0; c < 5; c++) expect(relResidual(a, column(X.toArray(), n, 5, c), column(B.toArray(), n, 5, c), n)).toBeLessThan(1e-10);
      // P A = L U: apply the recorded swaps to A's rows.
      const F = f.factor.toArray();
      const Lm = new Float64Array(n * n);
      const U = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (j < i) Lm[i * n + j] = F[i * n + j]!;
          else U[i * n + j] = F[i * n + j]!;
        }
        Lm[i * n + i] = 1;
      }
      const pa = Float64Array.from(a);
      f.pivots.forEach((p, i) => {
        for (let j = 0; j < n; j++) [pa[i * n + j], pa[p * n + j]] = [pa[p * n + j]!, pa[i * n + j]!];
      });
      expect(maxAbsDiff(refMatmul(Lm, U, n, n, n), pa)).toBeLessThan(1e-12 * n * Math.sqrt(n));
      [A, B, X].forEach((m) => m.free());
      f.free();
    });
  }

  it('needs pivoting: [[0, 1], [1, 0]]', () => {
    const x = lu(Matrix.from([[0, 1], [1, 0]])).solve([2, 3]);
    expect(Array.from(x)).toEqual([3, 2]);
  });

  it('reports exactly singular matrices and refuses to solve with them', () => {
    const n = 6;
    const a = randomMatrix(n, n, 77);
    for (let j = 0; j < n; j++) a[4 * n + j] = a[1 * n + j]! * 2 - a[2 * n + j]!; // row 4 = 2 row1 - row2 (not exact in float)
    const s = Matrix.from([[1, 2, 3], [2, 4, 6], [1, 0, 1]]); // exactly rank 2
    const f = lu(s);
    expect(f.singular).toBe(true);
    expect(f.rcond()).toBe(0);
    expect(() => f.solve([1, 2, 3])).toThrow(SingularMatrixError);
    // Numerically singular: a tiny rcond.
    expect(lu(Matrix.from(a, n, n)).rcond()).toBeLessThan(1e-14);
  });
});

describe('triangular solves', () => {
  const n = 70;
  // Off-diagonal entries O(1/n): random unit triangular matrices with O(1) entries are exponentially ill-conditioned.
  const r = randomMatrix(n, n, 11).map((v) => v / n);
  for (let i = 0; i < n; i++) r[i * n + i] = 1 + Math.abs(r[i * n + i]!) * n;
  for (const lower of [true, false]) {
    for (const transpose_ of [false, true]) {
      for (const unit of [false, true]) {
        it(`lower=${lower} transpose=${transpose_} unitDiagonal=${unit}`, () => {
          // The triangle used, as a full matrix T, then op(T).
          const T = new Float64Array(n * n);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) {
              const inTri = lower ? j <= i : j >= i;
              if (inTri) T[i * n + j] = i === j && unit ? 1 : r[i * n + j]!;
            }
          }
          const op = transpose_ ? transpose(T, n, n) : T;
          const A = Matrix.from(r, n, n);
          const b = randomMatrix(n, 1, 12);
          const x = solveTriangular(A, b, { lower, transpose: transpose_, unitDiagonal: unit });
          expect(relResidual(op, x, b, n)).toBeLessThan(1e-12);
          const B = Matrix.from(randomMatrix(n, 6, 13), n, 6);
          const X = solveTriangular(A, B, { lower, transpose: transpose_, unitDiagonal: unit });
          for (let c = 0; c < 6; c++) expect(relResidual(op, column(X.toArray(), n, 6, c), column(B.toArray(), n, 6, c), n)).toBeLessThan(1e-12);
        });
      }
    }
  }
});

describe('symmetric eigen-decomposition', () => {
  for (const n of [1, 2, 3, 10, 33, 64, 200]) {
    it(`random symmetric n=${n}: A V = V diag(w) to 1e-10, Vᵀ V = I, ascending`, () => {
      const a = randomSymmetric(n, 200 + n);
      const A = Matrix.from(a, n, n);
      const { values, vectors } = eigh(A);
      const V = vectors!.toArray();
      const scale = Math.max(...values.map(Math.abs));
      const AV = refMatmul(a, V, n, n, n);
      let worst = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(AV[i * n + j]! - V[i * n + j]! * values[j]!));
      expect(worst).toBeLessThan(1e-10 * Math.max(1, scale));
      const VtV = refMatmul(transpose(V, n, n), V, n, n, n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(Math.abs(VtV[i * n + j]! - (i === j ? 1 : 0))).toBeLessThan(1e-12 * n);
      for (let i = 1; i < n; i++) expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
      // Values only: the same eigenvalues.
      const only = eigh(A, { vectors: false });
      expect(only.vectors).toBeNull();
      expect(maxAbsDiff(only.values, values)).toBeLessThan(1e-12 * Math.max(1, scale));
      expect(maxAbsDiff(A.toArray(), a)).toBe(0);
      vectors!.free();
      A.free();
    });
  }

  it('diagonal matrices: the sorted diagonal and unit vectors', () => {
    const d = [3, -1, 0, 7, 2.5];
    const A = Matrix.zeros(5, 5);
    d.forEach((v, i) => A.set(i, i, v));
    const { values, vectors } = eigh(A);
    expect(Array.from(values)).toEqual([...d].sort((x, y) => x - y));
    const V = vectors!.toNested();
    values.forEach((v, j) => {
      const i = d.indexOf(v);
      expect(Math.abs(V[i]![j]!)).toBe(1);
    });
  });

  it('singular: rank-1 matrix u uᵀ has n-1 zero eigenvalues and ||u||²', () => {
    const n = 12;
    const u = randomMatrix(n, 1, 21);
    const a = refMatmul(u, u, n, n, 1);
    const { values } = eigh(Matrix.from(a, n, n), { vectors: false });
    const uu = norm(u) ** 2;
    expect(Math.abs(values[n - 1]! - uu)).toBeLessThan(1e-12 * uu);
    for (let i = 0; i < n - 1; i++) expect(Math.abs(values[i]!)).toBeLessThan(1e-13 * uu);
  });
});

describe('Hilbert matrices (ill-conditioned, known answers)', () => {
  // det(H_n) = c_n^4 / c_{2n} with c_n = Π_{i<n} i! (exact rationals for small n).
  const det = (n: number): number => {
    const c = (m: number): number => {
      let p = 1;
      for (let i = 1; i < m; i++) {
        let f = 1;
        for (let k = 2; k <= i; k++) f *= k;
        p *= f;
      }
      return p;
    };
    return c(n) ** 4 / c(2 * n);
  };

  it('eigenvalues: sum = trace, product = det, all positive', () => {
    for (const n of [3, 4, 6, 8]) {
      const { values } = eigh(Matrix.from(hilbert(n), n, n), { vectors: false });
      let tr = 0;
      for (let i = 0; i < n; i++) tr += 1 / (2 * i + 1);
      expect(Math.abs(values.reduce((s, v) => s + v, 0) - tr)).toBeLessThan(1e-14 * n);
      const logDet = values.reduce((s, v) => s + Math.log(v), 0);
      expect(Math.abs(logDet - Math.log(det(n)))).toBeLessThan(n <= 6 ? 1e-8 : 1e-5);
      expect(values[0]!).toBeGreaterThan(0);
    }
  });

  it('Cholesky and LU are backward stable on H x = b; log det and the known condition number', () => {
    // Normwise backward error ||H x - b|| / (||H|| ||x|| + ||b||) (the residual itself grows with cond(H_10) ≈ 1.6e13).
    const backwardError = (h: Float64Array, x: Float64Array, b: Float64Array, n: number): number =>
      (relResidual(h, x, b, n) * norm(b)) / (Math.sqrt(h.reduce((s, v) => s + v * v, 0)) * norm(x) + norm(b));
    for (const n of [4, 8, 10]) {
      const h = hilbert(n);
      const H = Matrix.from(h, n, n);
      const b = Float64Array.from({ length: n }, (_, i) => 1 + i);
      const c = cholesky(H);
      const l = lu(H);
      if (n === 4) {
        expect(relResidual(h, c.solve(b), b, n)).toBeLessThan(1e-10);
        expect(relResidual(h, l.solve(b), b, n)).toBeLessThan(1e-10);
      }
      expect(backwardError(h, c.solve(b), b, n)).toBeLessThan(1e-15);
      expect(backwardError(h, l.solve(b), b, n)).toBeLessThan(1e-15);
      // log λ_min carries a relative error ~ eps ||H|| / λ_min (≈ 2e-3 for n = 10).
      expect(Math.abs(c.logDet() - Math.log(det(n)))).toBeLessThan(n <= 8 ? 1e-6 * Math.abs(Math.log(det(n))) : 1e-2);
      expect(Math.abs(l.logAbsDet().logAbsDet - c.logDet())).toBeLessThan(1e-6 * Math.abs(c.logDet()));
    }
    // cond₁(H_4) = ||H||₁ ||H⁻¹||₁ = (25/12) · 13620 = 28375 exactly; the estimator finds it.
    const f = cholesky(Matrix.from(hilbert(4), 4, 4));
    expect(Math.abs(1 / f.rcond() - 28375)).toBeLessThan(1e-6 * 28375);
    expect(Math.abs(1 / lu(Matrix.from(hilbert(4), 4, 4)).rcond() - 28375)).toBeLessThan(1e-6 * 28375);
  });

  it('the exact integer inverse of H_5', () => {
    const n = 5;
    const X = solve(Matrix.from(hilbert(n), n, n), Matrix.identity(n), { assume: 'spd' });
    // (H_n⁻¹)_ij = (-1)^(i+j) (i+j+1) C(n+i, n-j-1) C(n+j, n-i-1) C(i+j, i)²  (0-based)
    const C = (a: number, k: number): number => {
      let r = 1;
      for (let i = 1; i <= k; i++) r = (r * (a - k + i)) / i;
      return r;
    };
    const want = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) want[i * n + j] = (-1) ** (i + j) * (i + j + 1) * C(n + i, n - j - 1) * C(n + j, n - i - 1) * C(i + j, i) ** 2;
    }
    expect(relErr(X.toArray(), want)).toBeLessThan(1e-9);
  });
});

describe('condition estimates and norms', () => {
  it('1-norm condition estimate is within a factor 3 of the true value (random SPD and general)', () => {
    for (const n of [5, 40, 120]) {
      const a = randomSpd(n, 300 + n);
      const A = Matrix.from(a, n, n);
      const inv = solve(A, Matrix.identity(n), { assume: 'spd' });
      const exact = norm1(A) * norm1(inv);
      const est = 1 / cholesky(A).rcond();
      expect(est).toBeLessThanOrEqual(exact * (1 + 1e-10));
      expect(est).toBeGreaterThan(exact / 3);
      const g = randomMatrix(n, n, 400 + n);
      const G = Matrix.from(g, n, n);
      const ginv = solve(G, Matrix.identity(n));
      const gexact = norm1(G) * norm1(ginv);
      const gest = 1 / lu(G).rcond();
      expect(gest).toBeLessThanOrEqual(gexact * (1 + 1e-10));
      expect(gest).toBeGreaterThan(gexact / 3);
    }
  });

  it('symmetrize averages and reports the asymmetry', () => {
    const A = Matrix.from([[1, 2], [4, 3]]);
    expect(symmetrize(A)).toBe(2);
    expect(A.toNested()).toEqual([[1, 3], [3, 3]]);
  });
});

describe('memory', () => {
  it('async init, growth for a large matrix (views stay valid), and accounting', async () => {
    await initLinalg();
    const before = linalgMemoryStats();
    const n = 1500;
    const a = randomSpd(64, 1); // small SPD block, tiled on the diagonal of a large matrix
    const A = Matrix.zeros(n, n);
    const d = A.data;
    for (let i = 0; i < n; i++) {
      d[i * n + i] = 2;
      if (i + 1 < n) d[i * n + i + 1] = d[(i + 1) * n + i] = -1 + 1e-3 * a[i % 64]!;
    }
    const f = cholesky(A);
    const b = randomMatrix(n, 1, 2);
    const x = f.solve(b);
    expect(relResidual(A.toArray(), x, b, n)).toBeLessThan(1e-10);
    const mid = linalgMemoryStats();
    expect(mid.bytesInUse - before.bytesInUse).toBeGreaterThanOrEqual(2 * n * n * 8);
    expect(mid.memoryBytes).toBeGreaterThanOrEqual(2 * n * n * 8);
    A.free();
    f.free();
    expect(linalgMemoryStats().bytesInUse).toBeLessThan(mid.bytesInUse - 2 * n * n * 8 + 1);
    expect(() => A.data).toThrow(/after free/);
  });
});

function transpose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

function refMatmul(a: ArrayLike<number>, b: ArrayLike<number>, M: number, N: number, K: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < K; k++) {
      const av = a[i * K + k]!;
      for (let j = 0; j < N; j++) c[i * N + j]! += av * b[k * N + j]!;
    }
  }
  return c;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function lowerOf(f: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) l[i * n + j] = f[i * n + j]!;
  return l;
}

function column(a: ArrayLike<number>, rows: number, cols: number, c: number): Float64Array {
  return Float64Array.from({ length: rows }, (_, i) => a[i * cols + c]!);
}
