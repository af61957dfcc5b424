// Dense float64 matrices in Wasm memory and their factorisations: GEMM, Cholesky, LU, triangular solves, symmetric eigen-decomposition, condition estimates.

import { linalgWasm, WasmArray, withScratch } from './wasm.js';

/** Thrown by cholesky() when the matrix is not (numerically) positive definite. */
export class NotPositiveDefiniteError extends Error {
  /** Order of the first leading minor that is not positive definite (1-based). */
  readonly minor: number;
  constructor(minor: number, n: number) {
    super(
      `cholesky: the ${n}x${n} matrix is not positive definite (the leading minor of order ${minor} is not; ` +
        `pivot ${minor} is <= 0 or NaN). Use lu() or eigh() for indefinite matrices, or add damping.`,
    );
    this.name = 'NotPositiveDefiniteError';
    this.minor = minor;
  }
}

/** Thrown when solving with an exactly singular LU factorisation. */
export class SingularMatrixError extends Error {
  constructor(readonly pivot: number, n: number) {
    super(`lu: the ${n}x${n} matrix is singular (U[${pivot - 1},${pivot - 1}] = 0 after partial pivoting)`);
    this.name = 'SingularMatrixError';
  }
}

function checkShape(where: string, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new Error(`${where}: shape must be non-negative integers, got ${rows}x${cols}`);
  }
}

/**
 * A row-major float64 matrix stored in the linalg module's Wasm memory, so factorisations run on it
 * without copies. `data` is a live Float64Array view (re-read it after other allocations: memory
 * growth replaces the buffer). Free large matrices with free() (they are also freed when collected).
 */
export class Matrix {
  readonly storage: WasmArray;

  constructor(readonly rows: number, readonly cols: number) {
    checkShape('Matrix', rows, cols);
    this.storage = new WasmArray(rows * cols);
  }

  /** Zero matrix (fresh Wasm memory may hold old values, so it is cleared). */
  static zeros(rows: number, cols: number): Matrix {
    const m = new Matrix(rows, cols);
    m.data.fill(0);
    return m;
  }

  static identity(n: number): Matrix {
    const m = Matrix.zeros(n, n);
    const d = m.data;
    for (let i = 0; i < n; i++) d[i * n + i] = 1;
    return m;
  }

  /** From row-major values (rows x cols) or from nested rows. */
  static from(values: ArrayLike<number> | readonly (readonly number[])[], rows?: number, cols?: number): Matrix {
    if (Array.isArray(values) && (values.length === 0 || Array.isArray(values[0]))) {
      const nested = values as readonly (readonly number[])[];
      const r = nested.length;
      const c = r === 0 ? 0 : nested[0]!.length;
      const m = new Matrix(r, c);
      const d = m.data;
      nested.forEach((row, i) => {
        if (row.length !== c) throw new Error(`Matrix.from: row ${i} has ${row.length} values, expected ${c}`);
        d.set(row, i * c);
      });
      return m;
    }
    const flat = values as ArrayLike<number>;
    const r = rows ?? Math.round(Math.sqrt(flat.length));
    const c = cols ?? (r === 0 ? 0 : flat.length / r);
    if (r * c !== flat.length || !Number.isInteger(c)) {
      throw new Error(`Matrix.from: ${flat.length} values do not fill a ${r}x${c} matrix`);
    }
    const m = new Matrix(r, c);
    m.data.set(flat);
    return m;
  }

  get ptr(): number {
    return this.storage.ptr;
  }

  get data(): Float64Array {
    return this.storage.view;
  }

  get freed(): boolean {
    return this.storage.freed;
  }

  get(i: number, j: number): number {
    return this.data[i * this.cols + j]!;
  }

  set(i: number, j: number, v: number): void {
    this.data[i * this.cols + j] = v;
  }

  /** Live view of row i. */
  row(i: number): Float64Array {
    return this.data.subarray(i * this.cols, (i + 1) * this.cols);
  }

  /** Copy of the values (plain JS memory). */
  toArray(): Float64Array {
    return this.data.slice();
  }

  toNested(): number[][] {
    const d = this.data;
    return Array.from({ length: this.rows }, (_, i) => Array.from(d.subarray(i * this.cols, (i + 1) * this.cols)));
  }

  clone(): Matrix {
    const m = new Matrix(this.rows, this.cols);
    m.data.set(this.data);
    return m;
  }

  free(): void {
    this.storage.free();
  }
}

function requireSquare(where: string, a: Matrix): number {
  if (a.freed) throw new Error(`${where}: the matrix was freed`);
  if (a.rows !== a.cols) throw new Error(`${where}: expected a square matrix, got ${a.rows}x${a.cols}`);
  return a.rows;
}

/** Right-hand sides: a vector (copied into Wasm scratch) or a Matrix (n x k, solved in place of a copy). */
type Rhs = ArrayLike<number> | Matrix;

/** Copies b into a new Wasm block (vector n x 1, or the n x k matrix). */
function rhsBlock(where: string, n: number, b: Rhs): { block: Matrix; k: number; vector: boolean } {
  if (b instanceof Matrix) {
    if (b.rows !== n) throw new Error(`${where}: right-hand side has ${b.rows} rows, expected ${n}`);
    return { block: b.clone(), k: b.cols, vector: false };
  }
  if (b.length !== n) throw new Error(`${where}: right-hand side has length ${b.length}, expected ${n}`);
  const m = new Matrix(n, 1);
  m.data.set(b);
  return { block: m, k: 1, vector: true };
}

function finishRhs<T extends Rhs>(r: { block: Matrix; vector: boolean }): T extends Matrix ? Matrix : Float64Array {
  if (r.vector) {
    const out = r.block.toArray();
    r.block.free();
    return out as T extends Matrix ? Matrix : Float64Array;
  }
  return r.block as T extends Matrix ? Matrix : Float64Array;
}

// ---------------------------------------------------------------------------
// BLAS-like products.
// ---------------------------------------------------------------------------

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  /** Write into this matrix (and add to it with accumulate). */
  out?: Matrix;
  accumulate?: boolean;
}

/** C = alpha op(A) op(B) (+ C), float64, in Wasm (f64x2 SIMD, packed and cache-blocked). */
export function matmul(a: Matrix, b: Matrix, opts: MatmulOptions = {}): Matrix {
  const tA = opts.transA ?? false;
  const tB = opts.transB ?? false;
  const M = tA ? a.cols : a.rows;
  const K = tA ? a.rows : a.cols;
  const Kb = tB ? b.cols : b.rows;
  const N = tB ? b.rows : b.cols;
  if (K !== Kb) throw new Error(`matmul: inner dimensions differ (${M}x${K} times ${Kb}x${N})`);
  const out = opts.out ?? new Matrix(M, N);
  if (out.rows !== M || out.cols !== N) throw new Error(`matmul: out is ${out.rows}x${out.cols}, expected ${M}x${N}`);
  if (opts.accumulate && !opts.out) throw new Error('matmul: accumulate needs `out`');
  linalgWasm().dgemm(tA ? 1 : 0, tB ? 1 : 0, M, N, K, opts.alpha ?? 1, a.ptr, a.cols, b.ptr, b.cols, out.ptr, N, opts.accumulate ? 1 : 0, 0);
  return out;
}

/** y = A x (or Aᵀ x). */
export function matvec(a: Matrix, x: ArrayLike<number>, opts: { transpose?: boolean } = {}): Float64Array {
  const t = opts.transpose ?? false;
  const inLen = t ? a.rows : a.cols;
  const outLen = t ? a.cols : a.rows;
  if (x.length !== inLen) throw new Error(`matvec: x has length ${x.length}, expected ${inLen}`);
  return withScratch([inLen, outLen], (xs, ys) => {
    xs.view.set(x);
    linalgWasm().dgemv(t ? 1 : 0, a.rows, a.cols, a.ptr, a.cols, xs.ptr, ys.ptr, 0);
    return ys.view.slice();
  });
}

/** A = (A + Aᵀ)/2 in place; returns the largest |A_ij - A_ji| found before. */
export function symmetrize(a: Matrix): number {
  const n = requireSquare('symmetrize', a);
  return linalgWasm().symmetrize(n, a.ptr, n, 0);
}

/** ||A||_1 = max_j Σ_i |A_ij|. */
export function norm1(a: Matrix): number {
  const n = requireSquare('norm1', a);
  return withScratch([n], (w) => linalgWasm().norm1(n, a.ptr, n, w.ptr));
}

// ---------------------------------------------------------------------------
// Triangular solves.
// ---------------------------------------------------------------------------

export interface TriangularOptions {
  /** Which triangle of A holds T (the other is ignored). */
  lower: boolean;
  /** Solve Tᵀ X = B instead. */
  transpose?: boolean;
  /** Assume ones on the diagonal. */
  unitDiagonal?: boolean;
}

/** Solves T X = B (or Tᵀ X = B) for triangular T; b is a vector or an n x k Matrix (not modified). */
export function solveTriangular<T extends Rhs>(a: Matrix, b: T, opts: TriangularOptions): T extends Matrix ? Matrix : Float64Array {
  const n = requireSquare('solveTriangular', a);
  const r = rhsBlock('solveTriangular', n, b);
  linalgWasm().trsm(opts.lower ? 0 : 1, opts.transpose ? 1 : 0, opts.unitDiagonal ? 1 : 0, n, r.k, a.ptr, n, r.block.ptr, r.k);
  return finishRhs<T>(r);
}

// ---------------------------------------------------------------------------
// Cholesky.
// ---------------------------------------------------------------------------

export interface FactorOptions {
  /** Factor in place: A's storage becomes the factor (saves one n x n copy). Default false. */
  overwrite?: boolean;
}

/** A = L Lᵀ for symmetric positive definite A (lower triangle read). */
export class Cholesky {
  private constructor(
    readonly n: number,
    /** L in the lower triangle (the strict upper triangle still holds A's). */
    readonly factor: Matrix,
    /** ||A||_1 measured before factoring (for rcond). */
    readonly norm1: number,
  ) {}

  /**
   * Recursive blocked Cholesky in Wasm. Throws NotPositiveDefiniteError (with the failing minor) on
   * indefinite input; with overwrite, A is restored before the error is thrown.
   */
  static factor(a: Matrix, opts: FactorOptions = {}): Cholesky {
    const n = requireSquare('cholesky', a);
    const w = linalgWasm();
    // ||A||_1 of the symmetric matrix from its lower triangle: mirror it first (upper := lower).
    const f = opts.overwrite ? a : a.clone();
    w.symmetrize(n, f.ptr, n, 1);
    const anorm = withScratch([n], (s) => w.norm1(n, f.ptr, n, s.ptr));
    const diag = opts.overwrite ? new Float64Array(n) : null;
    if (diag) {
      const d = f.data;
      for (let i = 0; i < n; i++) diag[i] = d[i * n + i]!;
    }
    const info = w.cholesky(n, f.ptr, n);
    if (info !== 0) {
      if (diag) {
        // Restore A: the strict upper triangle was never touched, the diagonal was saved.
        w.symmetrize(n, f.ptr, n, 2);
        const d = f.data;
        for (let i = 0; i < n; i++) d[i * n + i] = diag[i]!;
      } else f.free();
      throw new NotPositiveDefiniteError(info, n);
    }
    return new Cholesky(n, f, anorm);
  }

  /** Solves A X = B; b is a vector or an n x k Matrix (not modified). */
  solve<T extends Rhs>(b: T): T extends Matrix ? Matrix : Float64Array {
    const r = rhsBlock('Cholesky.solve', this.n, b);
    linalgWasm().choleskySolve(this.n, r.k, this.factor.ptr, this.n, r.block.ptr, r.k);
    return finishRhs<T>(r);
  }

  /** Solves in place: x (a Wasm-resident n x k matrix) is overwritten by A⁻¹ x. */
  solveInPlace(x: Matrix): void {
    if (x.rows !== this.n) throw new Error(`Cholesky.solveInPlace: ${x.rows} rows, expected ${this.n}`);
    linalgWasm().choleskySolve(this.n, x.cols, this.factor.ptr, this.n, x.ptr, x.cols);
  }

  /** Reciprocal 1-norm condition estimate 1 / (||A||_1 ||A⁻¹||_1) (Hager–Higham, a few solves). */
  rcond(): number {
    return withScratch([2 * this.n], (w) => linalgWasm().rcondCholesky(this.n, this.factor.ptr, this.n, this.norm1, w.ptr));
  }

  /** log det A = 2 Σ log L_ii. */
  logDet(): number {
    const d = this.factor.data;
    let s = 0;
    for (let i = 0; i < this.n; i++) s += Math.log(d[i * this.n + i]!);
    return 2 * s;
  }

  free(): void {
    this.factor.free();
  }
}

export function cholesky(a: Matrix, opts: FactorOptions = {}): Cholesky {
  return Cholesky.factor(a, opts);
}

// ---------------------------------------------------------------------------
// LU with partial pivoting.
// ---------------------------------------------------------------------------

/** P A = L U (L unit lower, U upper, both in `factor`). */
export class LU {
  private constructor(
    readonly n: number,
    readonly factor: Matrix,
    private readonly ipiv: WasmArray<Int32Array>,
    readonly norm1: number,
    /** 1-based index of the first exactly zero pivot, 0 if none. */
    readonly zeroPivot: number,
  ) {}

  /** Recursive LU with partial pivoting in Wasm. Never throws on singular input: check `singular`. */
  static factor(a: Matrix, opts: FactorOptions = {}): LU {
    const n = requireSquare('lu', a);
    const w = linalgWasm();
    const f = opts.overwrite ? a : a.clone();
    const anorm = withScratch([n], (s) => w.norm1(n, f.ptr, n, s.ptr));
    const ipiv = new WasmArray<Int32Array>(n, 'i32');
    const info = w.lu(n, f.ptr, n, ipiv.ptr);
    return new LU(n, f, ipiv, anorm, info);
  }

  /** True when U has an exactly zero pivot (solves would divide by zero). */
  get singular(): boolean {
    return this.zeroPivot !== 0;
  }

  /** Row-swap sequence: step i swapped rows i and pivots[i] (0-based, LAPACK order). */
  get pivots(): Int32Array {
    return this.ipiv.view.slice();
  }

  /** Solves A X = B (or Aᵀ X = B); b is a vector or an n x k Matrix (not modified). */
  solve<T extends Rhs>(b: T, opts: { transpose?: boolean } = {}): T extends Matrix ? Matrix : Float64Array {
    if (this.singular) throw new SingularMatrixError(this.zeroPivot, this.n);
    const r = rhsBlock('LU.solve', this.n, b);
    linalgWasm().luSolve(this.n, r.k, this.factor.ptr, this.n, this.ipiv.ptr, r.block.ptr, r.k, opts.transpose ? 1 : 0);
    return finishRhs<T>(r);
  }

  /** Reciprocal 1-norm condition estimate (0 when singular). */
  rcond(): number {
    if (this.singular) return 0;
    return withScratch([2 * this.n], (w) => linalgWasm().rcondLu(this.n, this.factor.ptr, this.n, this.ipiv.ptr, this.norm1, w.ptr));
  }

  /** log |det A| and the sign of det A. */
  logAbsDet(): { logAbsDet: number; sign: number } {
    const d = this.factor.data;
    const p = this.ipiv.view;
    let s = 0;
    let sign = 1;
    for (let i = 0; i < this.n; i++) {
      const u = d[i * this.n + i]!;
      if (u < 0) sign = -sign;
      if (p[i] !== i) sign = -sign;
      s += Math.log(Math.abs(u));
    }
    return { logAbsDet: s, sign: this.singular ? 0 : sign };
  }

  free(): void {
    this.factor.free();
    this.ipiv.free();
  }
}

export function lu(a: Matrix, opts: FactorOptions = {}): LU {
  return LU.factor(a, opts);
}

// ---------------------------------------------------------------------------
// Symmetric indefinite LDLᵀ (Bunch–Kaufman).
// ---------------------------------------------------------------------------

/** Counts of positive, negative and zero eigenvalues (Sylvester's law of inertia). */
export interface Inertia {
  positive: number;
  negative: number;
  zero: number;
}

/**
 * P A Pᵀ = L D Lᵀ for symmetric (possibly indefinite) A, D with 1x1 and 2x2 blocks (LAPACK dsytrf,
 * blocked, in Wasm): n³/3 flops like Cholesky, half of LU, and the inertia of A for free.
 */
export class LDLT {
  private constructor(
    readonly n: number,
    /** The factors (LAPACK column-major-lower layout, i.e. this matrix's upper triangle). */
    readonly factor: Matrix,
    private readonly ipiv: WasmArray<Int32Array>,
    readonly norm1: number,
    /** 1-based index of the first exactly zero D block, 0 if none. */
    readonly zeroPivot: number,
    /** Eigenvalue signs of A, from D. */
    readonly inertia: Inertia,
  ) {}

  /** Factors A (lower triangle read). blockSize: panel width of the blocked algorithm (default 96, 192 for n > 3000). */
  static factor(a: Matrix, opts: FactorOptions & { blockSize?: number } = {}): LDLT {
    const n = requireSquare('ldlt', a);
    const w = linalgWasm();
    const f = opts.overwrite ? a : a.clone();
    w.symmetrize(n, f.ptr, n, 1); // the algorithm reads the upper triangle (column-major lower)
    const anorm = withScratch([n], (s) => w.norm1(n, f.ptr, n, s.ptr));
    const ipiv = new WasmArray<Int32Array>(n, 'i32');
    // Wider panels pay off for large n (a longer GEMM update K), narrower ones keep the level-2 panel work small.
    const nb = Math.max(2, Math.min(opts.blockSize ?? (n > 3000 ? 192 : 96), Math.max(2, n)));
    const info = withScratch([n * nb], (work) => w.ldlt(n, f.ptr, n, ipiv.ptr, work.ptr, nb));
    const inertia = withScratch([2], (out) => {
      w.ldltInertia(n, f.ptr, n, ipiv.ptr, out.ptr);
      const v = new Int32Array(linalgWasm().memory.buffer, out.ptr, 3);
      return { positive: v[0]!, negative: v[1]!, zero: v[2]! };
    });
    return new LDLT(n, f, ipiv, anorm, info, inertia);
  }

  /** True when D has an exactly zero block (A singular). */
  get singular(): boolean {
    return this.zeroPivot !== 0;
  }

  /** The pivot sequence (LAPACK convention, 0-based: p >= 0 for 1x1 blocks, -(p+1) on both rows of a 2x2 block). */
  get pivots(): Int32Array {
    return this.ipiv.view.slice();
  }

  /** Solves A X = B; b is a vector or an n x k Matrix (not modified). */
  solve<T extends Rhs>(b: T): T extends Matrix ? Matrix : Float64Array {
    if (this.singular) throw new SingularMatrixError(this.zeroPivot, this.n);
    const r = rhsBlock('LDLT.solve', this.n, b);
    linalgWasm().ldltSolve(this.n, r.k, this.factor.ptr, this.n, this.ipiv.ptr, r.block.ptr, r.k);
    return finishRhs<T>(r);
  }

  /** Reciprocal 1-norm condition estimate (0 when singular). */
  rcond(): number {
    if (this.singular) return 0;
    return withScratch([2 * this.n], (w) => linalgWasm().rcondLdlt(this.n, this.factor.ptr, this.n, this.ipiv.ptr, this.norm1, w.ptr));
  }

  free(): void {
    this.factor.free();
    this.ipiv.free();
  }
}

export function ldlt(a: Matrix, opts: FactorOptions & { blockSize?: number } = {}): LDLT {
  return LDLT.factor(a, opts);
}

// ---------------------------------------------------------------------------
// Symmetric eigen-decomposition.
// ---------------------------------------------------------------------------

export interface EighResult {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** Orthonormal eigenvectors as columns (A V = V diag(values)), or null when not requested. */
  vectors: Matrix | null;
}

/** The first non-finite entry of the lower triangle (row by row), or null: what the symmetric routines read. */
export function firstNonFiniteLower(a: Matrix): { i: number; j: number; value: number } | null {
  const n = a.rows;
  const d = a.data;
  for (let i = 0; i < n; i++) {
    for (let j = 0, o = i * a.cols; j <= i && j < a.cols; j++, o++) {
      if (!Number.isFinite(d[o]!)) return { i, j, value: d[o]! };
    }
  }
  return null;
}

/**
 * Eigenvalues (ascending) and optionally eigenvectors of a symmetric matrix (lower triangle read):
 * Householder tridiagonalisation + implicit QL in Wasm. O(n³): about 4/3 n³ flops for values only,
 * ~9 n³ with vectors. With overwrite, A's storage becomes V (or scratch when vectors = false).
 */
export function eigh(a: Matrix, opts: { vectors?: boolean; overwrite?: boolean } = {}): EighResult {
  const n = requireSquare('eigh', a);
  const bad = firstNonFiniteLower(a);
  if (bad !== null) {
    throw new Error(`eigh: entry (${bad.i}, ${bad.j}) of the ${n}x${n} matrix is ${bad.value}; a matrix with NaN or infinite entries has no eigenvalues to compute`);
  }
  const wantV = opts.vectors ?? true;
  const f = opts.overwrite ? a : a.clone();
  const values = withScratch([n, n], (w, work) => {
    const info = linalgWasm().eigh(n, f.ptr, n, w.ptr, work.ptr, wantV ? 1 : 0);
    if (info !== 0) {
      if (!opts.overwrite) f.free();
      throw new Error(`eigh: the QL iteration did not converge for the ${n}x${n} matrix (NaN or Inf entries?)`);
    }
    return w.view.slice();
  });
  if (!wantV && !opts.overwrite) f.free();
  return { values, vectors: wantV ? f : null };
}

/** Solves A x = b for square A: Cholesky when `assume` is 'spd', LDLᵀ when 'symmetric', else LU with partial pivoting. */
export function solve<T extends Rhs>(a: Matrix, b: T, opts: { assume?: 'general' | 'symmetric' | 'spd' } = {}): T extends Matrix ? Matrix : Float64Array {
  const f = opts.assume === 'spd' ? cholesky(a) : opts.assume === 'symmetric' ? ldlt(a) : lu(a);
  try {
    return f.solve(b);
  } finally {
    f.free();
  }
}
