// Shared fixtures for the linalg tests: seeded random matrices and plain-TS float64 reference routines.
import { Random } from '../../src/util/random.js';

export function randomMatrix(n: number, m: number, seed: number): Float64Array {
  const rng = new Random(seed);
  const a = new Float64Array(n * m);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return a;
}

/** Well-conditioned SPD: B Bᵀ / n + I. */
export function randomSpd(n: number, seed: number): Float64Array {
  const b = randomMatrix(n, n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += b[i * n + k]! * b[j * n + k]!;
      s /= n;
      if (i === j) s += 1;
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  }
  return a;
}

/** Random symmetric matrix (entries N(0,1)). */
export function randomSymmetric(n: number, seed: number): Float64Array {
  const r = randomMatrix(n, n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = r[i * n + j]!;
  return a;
}

/** y = A x for row-major A [n, m]. */
export function refMatvec(a: ArrayLike<number>, x: ArrayLike<number>, n: number, m: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += a[i * m + j]! * x[j]!;
    y[i] = s;
  }
  return y;
}

export function norm(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
}

/** ||A x - b|| / ||b|| */
export function relResidual(a: ArrayLike<number>, x: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  const ax = refMatvec(a, x, n, n);
  let s = 0;
  for (let i = 0; i < n; i++) s += (ax[i]! - b[i]!) ** 2;
  return Math.sqrt(s) / norm(b);
}

export function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i]! - want[i]!) ** 2;
    den += want[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

/** Plain Gaussian elimination with partial pivoting (the independent reference): solves A x = b. */
export function gaussSolve(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const m = Array.from({ length: n }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (j < n ? a[i * n + j]! : b[i]!)));
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let j = c; j <= n; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = m[i]![n]!;
    for (let j = i + 1; j < n; j++) s -= m[i]![j]! * x[j]!;
    x[i] = s / m[i]![i]!;
  }
  return x;
}

/** Hilbert matrix H_ij = 1 / (i + j + 1). */
export function hilbert(n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = 1 / (i + j + 1);
  return a;
}
