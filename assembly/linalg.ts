// Dense float64 linear algebra for Wasm SIMD (f64x2): GEMM core, Cholesky, LU, triangular solves, symmetric eigen-decomposition, condition estimates.

// All matrices are row-major float64 with a leading dimension `ld` (elements between rows);
// pointers are byte addresses in this module's memory. The caller (src/linalg/wasm.ts) owns every
// byte from userBase() upwards and grows memory through ensureCapacity(); the region below holds
// the GEMM packing scratch. Nothing here allocates.

// ---------------------------------------------------------------------------
// Blocking. MR x NR is the register tile (8 f64x2 accumulators: x64 has 16 xmm registers and V8
// keeps one for itself); KC x NR micro-panels of B stay in L1, MC x KC blocks of A in L2, KC x NC
// panels of B in L2/L3. Blocks are split evenly (evenBlock) so that no thin remainder is left.
// ---------------------------------------------------------------------------
const MR: i32 = 4;
const NR: i32 = 4;
const MC: i32 = 128;
const KC: i32 = 256;
const NC: i32 = 1024;

const PACK_A_BYTES: usize = <usize>(MC * KC) << 3;
const PACK_B_BYTES: usize = <usize>(KC * NC) << 3;
const TILE_BYTES: usize = <usize>(MR * NR) << 3;

// @ts-ignore: decorator
@inline function alignUp(x: usize, a: usize): usize {
  return (x + a - 1) & ~(a - 1);
}

const PACK_A: usize = alignUp(__heap_base, 64);
const PACK_B: usize = PACK_A + PACK_A_BYTES;
const TILE: usize = PACK_B + PACK_B_BYTES;
const USER_BASE: usize = alignUp(TILE + TILE_BYTES, 64);
const PAGE: usize = 65536;

/** Base cases of the recursive algorithms (columns handled without further splitting). */
const CHOL_BASE: i32 = 32;
const TRSM_BASE: i32 = 32;
const LU_BASE: i32 = 16;

/** First byte address available to the caller (after the packing scratch). */
export function userBase(): usize {
  return USER_BASE;
}

/**
 * Makes bytes [0, end) addressable, growing memory if needed (the packing scratch is always
 * included). Returns 1 on success, 0 if memory cannot grow that far (4 GiB wasm32 limit).
 */
export function ensureCapacity(end: usize): i32 {
  if (end < USER_BASE) end = USER_BASE;
  const have = <usize>memory.size() * PAGE;
  if (end <= have) return 1;
  const need = (end - have + PAGE - 1) / PAGE;
  return memory.grow(<i32>need) >= 0 ? 1 : 0;
}

// @ts-ignore: decorator
@inline function at(p: usize, ld: usize, i: i32, j: i32): usize {
  return p + ((<usize>i * ld + <usize>j) << 3);
}

/** Block size <= maxBlk splitting n into equal parts, rounded up to a multiple of `mult`. */
function evenBlock(n: i32, maxBlk: i32, mult: i32): i32 {
  if (n <= maxBlk) return ((n + mult - 1) / mult) * mult;
  const parts = (n + maxBlk - 1) / maxBlk;
  const b = (n + parts - 1) / parts;
  return ((b + mult - 1) / mult) * mult;
}

/** Half of n rounded to a multiple of 4 (at least 4): the split point of the recursive algorithms. */
function half4(n: i32): i32 {
  const h = ((n >> 1) + 2) & ~3;
  return h < 4 ? 4 : h;
}

// ---------------------------------------------------------------------------
// Level-1 kernels.
// ---------------------------------------------------------------------------

/** Σ_k x[k] y[k] over n contiguous elements (two f64x2 accumulators). */
function dot(x: usize, y: usize, n: i32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 3;
    s0 = f64x2.add(s0, f64x2.mul(v128.load(x + o), v128.load(y + o)));
    s1 = f64x2.add(s1, f64x2.mul(v128.load(x + o, 16), v128.load(y + o, 16)));
  }
  s0 = f64x2.add(s0, s1);
  let s = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
  for (; k < n; k++) s += load<f64>(x + (<usize>k << 3)) * load<f64>(y + (<usize>k << 3));
  return s;
}

/** y[k] += a x[k] over n contiguous elements. */
function axpy(y: usize, a: f64, x: usize, n: i32): void {
  const av = f64x2.splat(a);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 3;
    v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(av, v128.load(x + o))));
    v128.store(y + o, f64x2.add(v128.load(y + o, 16), f64x2.mul(av, v128.load(x + o, 16))), 16);
  }
  for (; k < n; k++) {
    const o = <usize>k << 3;
    store<f64>(y + o, load<f64>(y + o) + a * load<f64>(x + o));
  }
}

/** x[k] *= a over n contiguous elements. */
function scal(x: usize, a: f64, n: i32): void {
  const av = f64x2.splat(a);
  let k = 0;
  for (; k + 2 <= n; k += 2) {
    const o = <usize>k << 3;
    v128.store(x + o, f64x2.mul(av, v128.load(x + o)));
  }
  for (; k < n; k++) {
    const o = <usize>k << 3;
    store<f64>(x + o, a * load<f64>(x + o));
  }
}

/** Swaps n contiguous elements of x and y. */
function swapRows(x: usize, y: usize, n: i32): void {
  let k = 0;
  for (; k + 2 <= n; k += 2) {
    const o = <usize>k << 3;
    const t = v128.load(x + o);
    v128.store(x + o, v128.load(y + o));
    v128.store(y + o, t);
  }
  for (; k < n; k++) {
    const o = <usize>k << 3;
    const t = load<f64>(x + o);
    store<f64>(x + o, load<f64>(y + o));
    store<f64>(y + o, t);
  }
}

// ---------------------------------------------------------------------------
// GEMM core: C (+)= alpha op(A) op(B), optionally only the lower triangle of C (j <= i).
// Element (i,k) of op(A) is A[i*lda+k] (or A[k*lda+i] if transA); (k,j) of op(B) is B[k*ldb+j]
// (or B[j*ldb+k] if transB).
// ---------------------------------------------------------------------------

/**
 * Packs rows [r0, r0+nrows) x columns [c0, c0+kc) of a row-major matrix into groups of 4 rows,
 * interleaved per column (4 values per column, zero-padded), scaled by alpha.
 */
function packRows(src: usize, ld: usize, r0: i32, nrows: i32, c0: i32, kc: i32, alpha: f64, dst: usize): void {
  const al = f64x2.splat(alpha);
  const st = ld << 3;
  for (let g = 0; g < nrows; g += 4) {
    const nr = min(4, nrows - g);
    const p0 = at(src, ld, r0 + g, c0);
    if (nr == 4) {
      const p1 = p0 + st, p2 = p1 + st, p3 = p2 + st;
      let k = 0;
      for (; k + 2 <= kc; k += 2) {
        const o = <usize>k << 3;
        const x0 = v128.load(p0 + o), x1 = v128.load(p1 + o), x2 = v128.load(p2 + o), x3 = v128.load(p3 + o);
        v128.store(dst, f64x2.mul(al, v128.shuffle<f64>(x0, x1, 0, 2)));
        v128.store(dst, f64x2.mul(al, v128.shuffle<f64>(x2, x3, 0, 2)), 16);
        v128.store(dst, f64x2.mul(al, v128.shuffle<f64>(x0, x1, 1, 3)), 32);
        v128.store(dst, f64x2.mul(al, v128.shuffle<f64>(x2, x3, 1, 3)), 48);
        dst += 64;
      }
      for (; k < kc; k++) {
        const o = <usize>k << 3;
        store<f64>(dst, alpha * load<f64>(p0 + o));
        store<f64>(dst, alpha * load<f64>(p1 + o), 8);
        store<f64>(dst, alpha * load<f64>(p2 + o), 16);
        store<f64>(dst, alpha * load<f64>(p3 + o), 24);
        dst += 32;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const o = <usize>k << 3;
        for (let r = 0; r < 4; r++) {
          store<f64>(dst + (<usize>r << 3), r < nr ? alpha * load<f64>(p0 + <usize>r * st + o) : 0.0);
        }
        dst += 32;
      }
    }
  }
}

/**
 * Packs columns [c0, c0+ncols) x rows [r0, r0+kc) into groups of 4 columns: for each row, the 4
 * contiguous values of the group (zero-padded), scaled by alpha.
 */
function packCols(src: usize, ld: usize, c0: i32, ncols: i32, r0: i32, kc: i32, alpha: f64, dst: usize): void {
  const al = f64x2.splat(alpha);
  const st = ld << 3;
  for (let g = 0; g < ncols; g += 4) {
    const nc = min(4, ncols - g);
    let p = at(src, ld, r0, c0 + g);
    if (nc == 4) {
      if (alpha == 1.0) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(p));
          v128.store(dst, v128.load(p, 16), 16);
          p += st;
          dst += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, f64x2.mul(al, v128.load(p)));
          v128.store(dst, f64x2.mul(al, v128.load(p, 16)), 16);
          p += st;
          dst += 32;
        }
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < 4; r++) store<f64>(dst + (<usize>r << 3), r < nc ? alpha * load<f64>(p + (<usize>r << 3)) : 0.0);
        p += st;
        dst += 32;
      }
    }
  }
}

/**
 * Register tile: acc[4x4] = Σ_k pa[k][0..3] ⊗ pb[k][0..3] (mul and add, never fused, so results are
 * the same on every engine), then C = acc (+ C if addC). Partial tiles (mr, nr < 4) and tiles that
 * cross the diagonal (mask 1: write only where column <= row, mask 2: column >= row) go through TILE.
 */
function kernel4x4(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, addC: bool, mr: i32, nr: i32, mask: i32, diag: i32): void {
  let c00 = f64x2.splat(0), c01 = f64x2.splat(0), c10 = f64x2.splat(0), c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0), c21 = f64x2.splat(0), c30 = f64x2.splat(0), c31 = f64x2.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load64_splat(pa);
    c00 = f64x2.add(c00, f64x2.mul(a, b0));
    c01 = f64x2.add(c01, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 8);
    c10 = f64x2.add(c10, f64x2.mul(a, b0));
    c11 = f64x2.add(c11, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 16);
    c20 = f64x2.add(c20, f64x2.mul(a, b0));
    c21 = f64x2.add(c21, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 24);
    c30 = f64x2.add(c30, f64x2.mul(a, b0));
    c31 = f64x2.add(c31, f64x2.mul(a, b1));
    pa += 32;
    pb += 32;
  }
  if (mr == 4 && nr == 4 && mask == 0) {
    const r0 = c, r1 = c + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
    if (addC) {
      c00 = f64x2.add(c00, v128.load(r0));
      c01 = f64x2.add(c01, v128.load(r0, 16));
      c10 = f64x2.add(c10, v128.load(r1));
      c11 = f64x2.add(c11, v128.load(r1, 16));
      c20 = f64x2.add(c20, v128.load(r2));
      c21 = f64x2.add(c21, v128.load(r2, 16));
      c30 = f64x2.add(c30, v128.load(r3));
      c31 = f64x2.add(c31, v128.load(r3, 16));
    }
    v128.store(r0, c00);
    v128.store(r0, c01, 16);
    v128.store(r1, c10);
    v128.store(r1, c11, 16);
    v128.store(r2, c20);
    v128.store(r2, c21, 16);
    v128.store(r3, c30);
    v128.store(r3, c31, 16);
    return;
  }
  v128.store(TILE, c00);
  v128.store(TILE, c01, 16);
  v128.store(TILE, c10, 32);
  v128.store(TILE, c11, 48);
  v128.store(TILE, c20, 64);
  v128.store(TILE, c21, 80);
  v128.store(TILE, c30, 96);
  v128.store(TILE, c31, 112);
  for (let i = 0; i < mr; i++) {
    // mask 1: write only column <= row (j <= i + diag); mask 2: only column >= row (j >= i + diag).
    const jmin = mask == 2 ? max(0, i + diag) : 0;
    const jmax = mask == 1 ? min(nr, i + diag + 1) : nr;
    const row = c + <usize>i * ldc;
    for (let j = jmin; j < jmax; j++) {
      const o = <usize>j << 3;
      let v = load<f64>(TILE + (<usize>(i * 4 + j) << 3));
      if (addC) v += load<f64>(row + o);
      store<f64>(row + o, v);
    }
  }
}

/**
 * C[M,N] (+)= alpha op(A) op(B), where op(A) is M x K and op(B) is K x N. With `lower`, C is square
 * (M == N) and only entries with column <= row are read or written (the strict upper triangle is
 * left untouched); with `upper`, only entries with column >= row. Blocked as in GotoBLAS: jc (NC) -> pc (KC, pack B) -> ic (MC, pack A) -> tiles.
 */
function gemmCore(
  M: i32, N: i32, K: i32, alpha: f64,
  a: usize, lda: usize, tA: bool, b: usize, ldb: usize, tB: bool,
  c: usize, ldc: usize, accumulate: bool, lower: bool, upper: bool = false,
): void {
  if (M <= 0 || N <= 0) return;
  const ldcB = ldc << 3;
  if (K <= 0 || alpha == 0.0) {
    if (accumulate) return;
    for (let i = 0; i < M; i++) {
      const j0 = upper ? min(i, N) : 0;
      memory.fill(at(c, ldc, i, j0), 0, <usize>((lower ? min(i + 1, N) : N) - j0) << 3);
    }
    return;
  }
  const ncBlk = evenBlock(N, NC, NR);
  const kcBlk = evenBlock(K, KC, 1);
  const mcBlk = evenBlock(M, MC, MR);
  for (let jc = 0; jc < N; jc += ncBlk) {
    const nc = min(ncBlk, N - jc);
    // In lower mode, row blocks ending before column jc hold nothing to compute; in upper mode,
    // rows after the last column of the block hold nothing.
    const icStart = lower ? (jc / mcBlk) * mcBlk : 0;
    const icEnd = upper ? min(M, jc + nc) : M;
    for (let pc = 0; pc < K; pc += kcBlk) {
      const kc = min(kcBlk, K - pc);
      const addC = accumulate || pc > 0;
      if (tB) packRows(b, ldb, jc, nc, pc, kc, 1.0, PACK_B);
      else packCols(b, ldb, jc, nc, pc, kc, 1.0, PACK_B);
      for (let ic = icStart; ic < icEnd; ic += mcBlk) {
        const mc = min(mcBlk, M - ic);
        if (tA) packCols(a, lda, ic, mc, pc, kc, alpha, PACK_A);
        else packRows(a, lda, ic, mc, pc, kc, alpha, PACK_A);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const cj = jc + jr;
          if (lower && cj > ic + mc - 1) break;
          const pb = PACK_B + ((<usize>jr * <usize>kc) << 3);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const ci = ic + ir;
            let mask = 0;
            if (lower) {
              if (cj > ci + mr - 1) continue; // tile entirely above the diagonal
              if (cj + nr - 1 > ci) mask = 1; // tile crosses the diagonal
            } else if (upper) {
              if (cj + nr - 1 < ci) continue; // tile entirely below the diagonal
              if (cj < ci + mr - 1) mask = 2;
            }
            const pa = PACK_A + ((<usize>ir * <usize>kc) << 3);
            kernel4x4(kc, pa, pb, c + <usize>ci * ldcB + (<usize>cj << 3), ldcB, addC, mr, nr, mask, ci - cj);
          }
        }
      }
    }
  }
}

/**
 * Exported GEMM: C[M,N] = alpha op(A) op(B) (+ C if accumulate), row-major with leading dimensions.
 * With lowerOnly (M == N), only the lower triangle of C is computed and written.
 */
export function dgemm(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f64,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: i32, lowerOnly: i32,
): void {
  gemmCore(M, N, K, alpha, a, <usize>lda, transA != 0, b, <usize>ldb, transB != 0, c, <usize>ldc, accumulate != 0, lowerOnly != 0);
}

/** y = op(A) x (+ y if accumulate) for A [m, n] row-major: y_i = Σ_j A_ij x_j, or y_j = Σ_i A_ij x_i if trans. */
export function dgemv(trans: i32, m: i32, n: i32, a: usize, lda: i32, x: usize, y: usize, accumulate: i32): void {
  const ld = <usize>lda;
  if (trans == 0) {
    for (let i = 0; i < m; i++) {
      const s = dot(at(a, ld, i, 0), x, n);
      const p = y + (<usize>i << 3);
      store<f64>(p, accumulate != 0 ? load<f64>(p) + s : s);
    }
  } else {
    if (accumulate == 0) memory.fill(y, 0, <usize>n << 3);
    for (let i = 0; i < m; i++) {
      const xi = load<f64>(x + (<usize>i << 3));
      if (xi != 0.0) axpy(y, xi, at(a, ld, i, 0), n);
    }
  }
}

/**
 * y = A x for symmetric A given by its strict upper triangle (in a) and its diagonal (in diag): used
 * after an in-place Cholesky, which leaves A's strict upper triangle intact.
 *   y_i = diag_i x_i + Σ_{j>i} A_ij x_j + Σ_{j<i} A_ji x_j.
 */
export function symvUpper(n: i32, a: usize, lda: i32, diag: usize, x: usize, y: usize): void {
  const ld = <usize>lda;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    store<f64>(y + o, load<f64>(diag + o) * load<f64>(x + o));
  }
  for (let i = 0; i < n - 1; i++) {
    const o = <usize>(i + 1) << 3;
    const row = at(a, ld, i, i + 1);
    const len = n - 1 - i;
    const yi = y + (<usize>i << 3);
    store<f64>(yi, load<f64>(yi) + dot(row, x + o, len));
    axpy(y + o, load<f64>(x + (<usize>i << 3)), row, len);
  }
}

// ---------------------------------------------------------------------------
// Triangular solves.
// ---------------------------------------------------------------------------

/**
 * Solves op(A) X = B in place of B (n x m, leading dimension ldb), A triangular n x n:
 * lower or upper as stored, op = transpose if trans, implicit unit diagonal if unit.
 * Let T = op(A) (T is lower when upper == trans). Recursive on n:
 *   T lower: X1 = T11⁻¹ B1, B2 -= T21 X1, X2 = T22⁻¹ B2;  T upper: bottom block first.
 * Base case (n <= TRSM_BASE) with row operations: row_i -= Σ_p T(i,p) row_p, row_i /= T(i,i).
 */
function trsmLeft(upper: bool, trans: bool, unit: bool, n: i32, m: i32, a: usize, lda: usize, b: usize, ldb: usize): void {
  if (n <= 0 || m <= 0) return;
  const tLower = upper == trans;
  if (m == 1 && ldb == 1) {
    trsv(upper, trans, unit, n, a, lda, b);
    return;
  }
  if (n <= TRSM_BASE || m < 4) {
    // T(i,p) = A[i,p], or A[p,i] when transposed.
    if (tLower) {
      for (let i = 0; i < n; i++) {
        const ri = at(b, ldb, i, 0);
        for (let p = 0; p < i; p++) {
          const t = trans ? load<f64>(at(a, lda, p, i)) : load<f64>(at(a, lda, i, p));
          if (t != 0.0) axpy(ri, -t, at(b, ldb, p, 0), m);
        }
        if (!unit) scal(ri, 1.0 / load<f64>(at(a, lda, i, i)), m);
      }
    } else {
      for (let i = n - 1; i >= 0; i--) {
        const ri = at(b, ldb, i, 0);
        for (let p = i + 1; p < n; p++) {
          const t = trans ? load<f64>(at(a, lda, p, i)) : load<f64>(at(a, lda, i, p));
          if (t != 0.0) axpy(ri, -t, at(b, ldb, p, 0), m);
        }
        if (!unit) scal(ri, 1.0 / load<f64>(at(a, lda, i, i)), m);
      }
    }
    return;
  }
  const n1 = half4(n);
  const n2 = n - n1;
  const a22 = at(a, lda, n1, n1);
  const b2 = at(b, ldb, n1, 0);
  if (tLower) {
    trsmLeft(upper, trans, unit, n1, m, a, lda, b, ldb);
    // T21 = rows n1.., cols 0..n1 of T: A[n1:, :n1], or A[:n1, n1:] transposed.
    const t21 = trans ? at(a, lda, 0, n1) : at(a, lda, n1, 0);
    gemmCore(n2, m, n1, -1.0, t21, lda, trans, b, ldb, false, b2, ldb, true, false);
    trsmLeft(upper, trans, unit, n2, m, a22, lda, b2, ldb);
  } else {
    trsmLeft(upper, trans, unit, n2, m, a22, lda, b2, ldb);
    // T12 = rows 0..n1, cols n1.. of T: A[:n1, n1:], or A[n1:, :n1] transposed.
    const t12 = trans ? at(a, lda, n1, 0) : at(a, lda, 0, n1);
    gemmCore(n1, m, n2, -1.0, t12, lda, trans, b2, ldb, false, b, ldb, true, false);
    trsmLeft(upper, trans, unit, n1, m, a, lda, b, ldb);
  }
}

/**
 * Solves op(A) x = b for one contiguous vector, always along contiguous rows of A:
 *   A lower:         x_i = (b_i - A[i,:i]·x[:i]) / A_ii, ascending        (dot form)
 *   A upper:         x_i = (b_i - A[i,i+1:]·x[i+1:]) / A_ii, descending   (dot form)
 *   A lower, trans:  x_i = b_i / A_ii; b[:i] -= x_i A[i,:i], descending   (axpy form)
 *   A upper, trans:  x_i = b_i / A_ii; b[i+1:] -= x_i A[i,i+1:], ascending (axpy form)
 */
function trsv(upper: bool, trans: bool, unit: bool, n: i32, a: usize, lda: usize, x: usize): void {
  if (!trans) {
    if (!upper) {
      for (let i = 0; i < n; i++) {
        const p = x + (<usize>i << 3);
        let v = load<f64>(p) - dot(at(a, lda, i, 0), x, i);
        if (!unit) v /= load<f64>(at(a, lda, i, i));
        store<f64>(p, v);
      }
    } else {
      for (let i = n - 1; i >= 0; i--) {
        const p = x + (<usize>i << 3);
        let v = load<f64>(p) - dot(at(a, lda, i, i + 1), p + 8, n - 1 - i);
        if (!unit) v /= load<f64>(at(a, lda, i, i));
        store<f64>(p, v);
      }
    }
  } else {
    if (!upper) {
      for (let i = n - 1; i >= 0; i--) {
        const p = x + (<usize>i << 3);
        let v = load<f64>(p);
        if (!unit) v /= load<f64>(at(a, lda, i, i));
        store<f64>(p, v);
        if (v != 0.0) axpy(x, -v, at(a, lda, i, 0), i);
      }
    } else {
      for (let i = 0; i < n; i++) {
        const p = x + (<usize>i << 3);
        let v = load<f64>(p);
        if (!unit) v /= load<f64>(at(a, lda, i, i));
        store<f64>(p, v);
        if (v != 0.0) axpy(p + 8, -v, at(a, lda, i, i + 1), n - 1 - i);
      }
    }
  }
}

/**
 * Exported triangular solve op(A) X = B in place (B is n x nrhs, leading dimension ldb).
 * upper/trans/unit as in trsmLeft.
 */
export function trsm(upper: i32, trans: i32, unit: i32, n: i32, nrhs: i32, a: usize, lda: i32, b: usize, ldb: i32): void {
  trsmLeft(upper != 0, trans != 0, unit != 0, n, nrhs, a, <usize>lda, b, <usize>ldb);
}

/**
 * X Lᵀ = B in place of B (m x n), L lower n x n (the Cholesky panel solve): row by row this is
 * forward substitution L xᵀ = bᵀ. Recursive on n: X1 L11ᵀ = B1, B2 -= X1 L21ᵀ, X2 L22ᵀ = B2.
 */
function trsmRightLowerTrans(m: i32, n: i32, l: usize, ldl: usize, b: usize, ldb: usize): void {
  if (m <= 0 || n <= 0) return;
  if (n <= TRSM_BASE) {
    for (let r = 0; r < m; r++) {
      const x = at(b, ldb, r, 0);
      for (let j = 0; j < n; j++) {
        const p = x + (<usize>j << 3);
        store<f64>(p, (load<f64>(p) - dot(x, at(l, ldl, j, 0), j)) / load<f64>(at(l, ldl, j, j)));
      }
    }
    return;
  }
  const n1 = half4(n);
  const n2 = n - n1;
  trsmRightLowerTrans(m, n1, l, ldl, b, ldb);
  gemmCore(m, n2, n1, -1.0, b, ldb, false, at(l, ldl, n1, 0), ldl, true, at(b, ldb, 0, n1), ldb, true, false);
  trsmRightLowerTrans(m, n2, at(l, ldl, n1, n1), ldl, at(b, ldb, 0, n1), ldb);
}

// ---------------------------------------------------------------------------
// Cholesky: A = L Lᵀ (lower, in place; the strict upper triangle is never touched).
// ---------------------------------------------------------------------------

/**
 * Recursive Cholesky on the lower triangle: L11 = chol(A11); L21 = A21 L11⁻ᵀ;
 * A22 -= L21 L21ᵀ (lower GEMM); L22 = chol(A22). Base case (dot form):
 *   L_jj = sqrt(A_jj - Σ_{p<j} L_jp²),  L_ij = (A_ij - Σ_{p<j} L_ip L_jp) / L_jj.
 * Returns 0, or j+1 when the leading minor of order j+1 is not positive definite (NaN included).
 */
function potrf(n: i32, a: usize, lda: usize): i32 {
  if (n <= CHOL_BASE) {
    for (let j = 0; j < n; j++) {
      const rj = at(a, lda, j, 0);
      const d = load<f64>(rj + (<usize>j << 3)) - dot(rj, rj, j);
      if (!(d > 0.0)) {
        store<f64>(rj + (<usize>j << 3), d);
        return j + 1;
      }
      const ljj = Math.sqrt(d);
      store<f64>(rj + (<usize>j << 3), ljj);
      const inv = 1.0 / ljj;
      for (let i = j + 1; i < n; i++) {
        const ri = at(a, lda, i, 0);
        const p = ri + (<usize>j << 3);
        store<f64>(p, (load<f64>(p) - dot(ri, rj, j)) * inv);
      }
    }
    return 0;
  }
  const n1 = half4(n);
  const n2 = n - n1;
  let info = potrf(n1, a, lda);
  if (info != 0) return info;
  const a21 = at(a, lda, n1, 0);
  trsmRightLowerTrans(n2, n1, a, lda, a21, lda);
  gemmCore(n2, n2, n1, -1.0, a21, lda, false, a21, lda, true, at(a, lda, n1, n1), lda, true, true);
  info = potrf(n2, at(a, lda, n1, n1), lda);
  return info != 0 ? info + n1 : 0;
}

/** Cholesky factorisation in place (lower triangle). Returns 0 or the order of the first non-positive-definite minor. */
export function cholesky(n: i32, a: usize, lda: i32): i32 {
  return potrf(n, a, <usize>lda);
}

/** Solves A X = B with A = L Lᵀ from cholesky(): L Y = B, then Lᵀ X = Y (B n x nrhs, in place). */
export function choleskySolve(n: i32, nrhs: i32, l: usize, lda: i32, b: usize, ldb: i32): void {
  trsmLeft(false, false, false, n, nrhs, l, <usize>lda, b, <usize>ldb);
  trsmLeft(false, true, false, n, nrhs, l, <usize>lda, b, <usize>ldb);
}

// ---------------------------------------------------------------------------
// LU with partial pivoting: P A = L U (L unit lower, U upper, both in place).
// ipiv[i] (i32) = the row swapped with row i at step i (LAPACK order, 0-based).
// ---------------------------------------------------------------------------

/** Safe minimum: 1/sfmin does not overflow. */
const SFMIN: f64 = 2.2250738585072014e-308;

/**
 * Recursive LU (Toledo) of the panel rows [r0, r0+m) x columns [r0, r0+w) of the n x n matrix,
 * swapping whole rows (all n columns) at each pivot, which also applies the swaps to L on the left
 * and to the columns on the right. Split w = w1 + w2: LU of the left w1 columns;
 * A12 = L11⁻¹ A12 (unit lower); A22 -= A21 A12; LU of the right part.
 * Base case: pivot = argmax |column|, swap, scale the column by 1/pivot, rank-1 update of the panel.
 * Returns the 1-based index of the first exactly zero pivot (factorisation completed anyway), else 0.
 */
function getrf(a: usize, lda: usize, n: i32, r0: i32, m: i32, w: i32, ipiv: usize): i32 {
  let info = 0;
  if (w <= LU_BASE) {
    for (let j = 0; j < w; j++) {
      const col = r0 + j;
      const row = col;
      // Pivot search down the column.
      let p = row;
      let best = -1.0;
      for (let i = row; i < r0 + m; i++) {
        const v = abs<f64>(load<f64>(at(a, lda, i, col)));
        if (v > best) {
          best = v;
          p = i;
        }
      }
      store<i32>(ipiv + (<usize>row << 2), p);
      const pv = load<f64>(at(a, lda, p, col));
      if (pv == 0.0 || pv != pv) {
        if (info == 0) info = col + 1;
        continue;
      }
      if (p != row) swapRows(at(a, lda, p, 0), at(a, lda, row, 0), n);
      const rest = r0 + w - col - 1; // panel columns right of the pivot
      const urow = at(a, lda, row, col + 1);
      const recip = abs<f64>(pv) >= SFMIN;
      const inv = 1.0 / pv;
      for (let i = row + 1; i < r0 + m; i++) {
        const q = at(a, lda, i, col);
        const l = recip ? load<f64>(q) * inv : load<f64>(q) / pv;
        store<f64>(q, l);
        if (l != 0.0 && rest > 0) axpy(q + 8, -l, urow, rest);
      }
    }
    return info;
  }
  const w1 = half4(w);
  const w2 = w - w1;
  info = getrf(a, lda, n, r0, m, w1, ipiv);
  const a11 = at(a, lda, r0, r0);
  const a12 = at(a, lda, r0, r0 + w1);
  trsmLeft(false, false, true, w1, w2, a11, lda, a12, lda);
  gemmCore(m - w1, w2, w1, -1.0, at(a, lda, r0 + w1, r0), lda, false, a12, lda, false, at(a, lda, r0 + w1, r0 + w1), lda, true, false);
  const info2 = getrf(a, lda, n, r0 + w1, m - w1, w2, ipiv);
  return info != 0 ? info : info2;
}

/** LU factorisation with partial pivoting in place. Returns 0, or the 1-based index of the first zero pivot (U singular). */
export function lu(n: i32, a: usize, lda: i32, ipiv: usize): i32 {
  return getrf(a, <usize>lda, n, 0, n, n, ipiv);
}

/** Applies the row swaps of ipiv to B (n x nrhs): forward order (P B), or reverse order (Pᵀ B). */
function applyPivots(n: i32, nrhs: i32, ipiv: usize, b: usize, ldb: usize, reverse: bool): void {
  if (!reverse) {
    for (let i = 0; i < n; i++) {
      const p = load<i32>(ipiv + (<usize>i << 2));
      if (p != i) swapRows(at(b, ldb, i, 0), at(b, ldb, p, 0), nrhs);
    }
  } else {
    for (let i = n - 1; i >= 0; i--) {
      const p = load<i32>(ipiv + (<usize>i << 2));
      if (p != i) swapRows(at(b, ldb, i, 0), at(b, ldb, p, 0), nrhs);
    }
  }
}

/**
 * Solves A X = B (or Aᵀ X = B if trans) with P A = L U from lu(), in place of B (n x nrhs).
 *   A X = B:  X = U⁻¹ L⁻¹ P B.     Aᵀ X = B:  Aᵀ = Uᵀ Lᵀ P, so X = Pᵀ L⁻ᵀ U⁻ᵀ B.
 */
export function luSolve(n: i32, nrhs: i32, lu_: usize, lda: i32, ipiv: usize, b: usize, ldb: i32, trans: i32): void {
  const ld = <usize>lda, lb = <usize>ldb;
  if (trans == 0) {
    applyPivots(n, nrhs, ipiv, b, lb, false);
    trsmLeft(false, false, true, n, nrhs, lu_, ld, b, lb);
    trsmLeft(true, false, false, n, nrhs, lu_, ld, b, lb);
  } else {
    trsmLeft(true, true, false, n, nrhs, lu_, ld, b, lb);
    trsmLeft(false, true, true, n, nrhs, lu_, ld, b, lb);
    applyPivots(n, nrhs, ipiv, b, lb, true);
  }
}

// ---------------------------------------------------------------------------
// Symmetric indefinite LDLᵀ with Bunch–Kaufman pivoting (LAPACK dsytrf/dlasyf/dsytrs, 'L').
// Stored column-major-lower, which in this row-major memory is the upper triangle: element (i, j),
// i >= j, of the factor lives at a[i + j*lda], so every column of L is a contiguous run. The input
// must hold the symmetric matrix in that triangle (the caller mirrors its lower triangle first).
// P A Pᵀ = L D Lᵀ with D block diagonal (1x1 and 2x2 blocks); ipiv (i32) as in LAPACK, 0-based:
// ipiv[k] = p >= 0: 1x1 block, rows k and p swapped; ipiv[k] = ipiv[k+1] = -(p+1): 2x2 block, rows
// k+1 and p swapped. Cost n³/3 flops (half of LU), almost all in the trailing GEMM update.
// ---------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function cm(p: usize, ld: usize, i: i32, j: i32): usize {
  return p + ((<usize>i + <usize>j * ld) << 3);
}

/** Index of the largest |x_i| over n values with stride 1 (0 if n <= 0). */
function iamax(x: usize, n: i32): i32 {
  let best = -1.0;
  let idx = 0;
  for (let i = 0; i < n; i++) {
    const v = abs<f64>(load<f64>(x + (<usize>i << 3)));
    if (v > best) {
      best = v;
      idx = i;
    }
  }
  return idx;
}

/** Swaps n elements of x and y that are `stride` doubles apart. */
function swapStrided(x: usize, y: usize, n: i32, stride: usize): void {
  const st = stride << 3;
  for (let i = 0; i < n; i++) {
    const t = load<f64>(x);
    store<f64>(x, load<f64>(y));
    store<f64>(y, t);
    x += st;
    y += st;
  }
}

/** y[0..m) -= Σ_{j<k} A(:, j) x_j with A column-major (ld) and x_j = W(r, j) (a row of column-major W). */
function gemvCols(m: i32, k: i32, acol: usize, lda: usize, w: usize, ldw: usize, r: i32, y: usize): void {
  for (let j = 0; j < k; j++) {
    const xj = load<f64>(cm(w, ldw, r, j));
    if (xj != 0.0) axpy(y, -xj, acol + ((<usize>j * lda) << 3), m);
  }
}

const BK_ALPHA: f64 = (1.0 + 4.123105625617661) / 8.0; // (1 + √17) / 8

/** Global status of the last ldlt(): 1-based index of the first exactly zero D block, or 0. */
let ldltInfo: i32 = 0;

/**
 * Partial factorisation of the trailing m x m matrix at `a` (dlasyf, lower): factors up to nb - 1
 * columns (or all when m <= nb) left-looking into W, then updates the rest with one GEMM
 * A22 -= L21 W21ᵀ (W = L D). Returns the number of columns factored; ipiv entries are local.
 */
function lasyf(m: i32, nb: i32, a: usize, lda: usize, ipiv: usize, w: usize, ldw: usize, offset: i32): i32 {
  let k = 0;
  while (true) {
    if ((k >= nb - 1 && nb < m) || k >= m) break;
    // W(k:m, k) = A(k:m, k) - A(k:m, 0:k) W(k, 0:k)ᵀ
    memory.copy(cm(w, ldw, k, k), cm(a, lda, k, k), <usize>(m - k) << 3);
    gemvCols(m - k, k, cm(a, lda, k, 0), lda, w, ldw, k, cm(w, ldw, k, k));
    let kstep = 1;
    const absakk = abs<f64>(load<f64>(cm(w, ldw, k, k)));
    let imax = k;
    let colmax = 0.0;
    if (k < m - 1) {
      imax = k + 1 + iamax(cm(w, ldw, k + 1, k), m - k - 1);
      colmax = abs<f64>(load<f64>(cm(w, ldw, imax, k)));
    }
    let kp = k;
    if (max(absakk, colmax) == 0.0 || absakk != absakk) {
      if (ldltInfo == 0) ldltInfo = offset + k + 1;
      kp = k;
      // Column is zero: D(k) = 0, no elimination (as LAPACK).
      memory.copy(cm(a, lda, k, k), cm(w, ldw, k, k), <usize>(m - k) << 3);
    } else {
      if (absakk >= BK_ALPHA * colmax) {
        kp = k;
      } else {
        // W(k:m, k+1) = updated column imax: A(imax, k:imax) (a row) then A(imax:m, imax).
        const wk1 = cm(w, ldw, 0, k + 1);
        for (let i = k; i < imax; i++) store<f64>(wk1 + (<usize>i << 3), load<f64>(cm(a, lda, imax, i)));
        memory.copy(wk1 + (<usize>imax << 3), cm(a, lda, imax, imax), <usize>(m - imax) << 3);
        gemvCols(m - k, k, cm(a, lda, k, 0), lda, w, ldw, imax, wk1 + (<usize>k << 3));
        let jmax = k + iamax(wk1 + (<usize>k << 3), imax - k);
        let rowmax = abs<f64>(load<f64>(wk1 + (<usize>jmax << 3)));
        if (imax < m - 1) {
          jmax = imax + 1 + iamax(wk1 + (<usize>(imax + 1) << 3), m - imax - 1);
          rowmax = max(rowmax, abs<f64>(load<f64>(wk1 + (<usize>jmax << 3))));
        }
        if (absakk >= BK_ALPHA * colmax * (colmax / rowmax)) {
          kp = k;
        } else if (abs<f64>(load<f64>(wk1 + (<usize>imax << 3))) >= BK_ALPHA * rowmax) {
          kp = imax;
          memory.copy(cm(w, ldw, k, k), wk1 + (<usize>k << 3), <usize>(m - k) << 3);
        } else {
          kp = imax;
          kstep = 2;
        }
      }
      const kk = k + kstep - 1;
      if (kp != kk) {
        // Move the not-yet-updated column kk of A into column kp (interchange rows/columns kk and kp).
        store<f64>(cm(a, lda, kp, kp), load<f64>(cm(a, lda, kk, kk)));
        for (let i = kk + 1; i < kp; i++) store<f64>(cm(a, lda, kp, i), load<f64>(cm(a, lda, i, kk)));
        if (kp < m - 1) memory.copy(cm(a, lda, kp + 1, kp), cm(a, lda, kp + 1, kk), <usize>(m - kp - 1) << 3);
        swapStrided(cm(a, lda, kk, 0), cm(a, lda, kp, 0), kk, lda);
        swapStrided(cm(w, ldw, kk, 0), cm(w, ldw, kp, 0), kk + 1, ldw);
      }
      if (kstep == 1) {
        memory.copy(cm(a, lda, k, k), cm(w, ldw, k, k), <usize>(m - k) << 3);
        if (k < m - 1) scal(cm(a, lda, k + 1, k), 1.0 / load<f64>(cm(a, lda, k, k)), m - k - 1);
      } else {
        if (k < m - 2) {
          let d21 = load<f64>(cm(w, ldw, k + 1, k));
          const d11 = load<f64>(cm(w, ldw, k + 1, k + 1)) / d21;
          const d22 = load<f64>(cm(w, ldw, k, k)) / d21;
          const t = 1.0 / (d11 * d22 - 1.0);
          d21 = t / d21;
          const w0 = cm(w, ldw, 0, k), w1 = cm(w, ldw, 0, k + 1);
          const a0 = cm(a, lda, 0, k), a1 = cm(a, lda, 0, k + 1);
          for (let j = k + 2; j < m; j++) {
            const o = <usize>j << 3;
            const wj0 = load<f64>(w0 + o), wj1 = load<f64>(w1 + o);
            store<f64>(a0 + o, d21 * (d11 * wj0 - wj1));
            store<f64>(a1 + o, d21 * (d22 * wj1 - wj0));
          }
        }
        store<f64>(cm(a, lda, k, k), load<f64>(cm(w, ldw, k, k)));
        store<f64>(cm(a, lda, k + 1, k), load<f64>(cm(w, ldw, k + 1, k)));
        store<f64>(cm(a, lda, k + 1, k + 1), load<f64>(cm(w, ldw, k + 1, k + 1)));
      }
    }
    if (kstep == 1) store<i32>(ipiv + (<usize>k << 2), kp);
    else {
      store<i32>(ipiv + (<usize>k << 2), -(kp + 1));
      store<i32>(ipiv + (<usize>(k + 1) << 2), -(kp + 1));
    }
    k += kstep;
  }
  if (k < m) {
    // A22 -= A21 W21ᵀ on the column-major lower triangle = the row-major upper triangle:
    // in row-major views, C(r, c) -= Σ_j W(k+r, j) A(k+c, j) for c >= r.
    gemmCore(m - k, m - k, k, -1.0, cm(w, ldw, k, 0), ldw, true, cm(a, lda, k, 0), lda, false, cm(a, lda, k, k), lda, true, false, true);
  }
  // Put L21 in standard form: undo the row interchanges of the factored columns, backwards.
  let j1 = k; // 1-based index of the last factored column
  while (j1 > 1) {
    const jj1 = j1;
    const p = load<i32>(ipiv + (<usize>(j1 - 1) << 2));
    let jp1: i32;
    if (p < 0) {
      jp1 = -p;
      j1--;
    } else jp1 = p + 1;
    j1--;
    if (jp1 != jj1 && j1 >= 1) swapStrided(cm(a, lda, jp1 - 1, 0), cm(a, lda, jj1 - 1, 0), j1, lda);
  }
  return k;
}

/**
 * Bunch–Kaufman LDLᵀ in place (blocked, panel width nb): see the section comment for the layout.
 * work: n * nb doubles. Returns 0, or the 1-based index of the first exactly zero pivot block
 * (the factorisation is complete, but D is singular).
 */
export function ldlt(n: i32, a: usize, lda: i32, ipiv: usize, work: usize, nb: i32): i32 {
  ldltInfo = 0;
  const ld = <usize>lda;
  if (nb < 2) nb = 2;
  let k = 0;
  while (k < n) {
    const m = n - k;
    const kb = lasyf(m, nb, cm(a, ld, k, k), ld, ipiv + (<usize>k << 2), work, <usize>m, k);
    for (let j = k; j < k + kb; j++) {
      const q = ipiv + (<usize>j << 2);
      const p = load<i32>(q);
      store<i32>(q, p >= 0 ? p + k : p - k);
    }
    k += kb;
  }
  return ldltInfo;
}

/**
 * Solves A X = B (B n x nrhs row-major, in place) with ldlt()'s factors (dsytrs):
 * P, L, D applied block by block: first L D Y = P B (forward), then Lᵀ Pᵀ X = Y (backward).
 */
export function ldltSolve(n: i32, nrhs: i32, a: usize, lda: i32, ipiv: usize, b: usize, ldb: i32): void {
  const ld = <usize>lda, lb = <usize>ldb;
  const vec = nrhs == 1;
  let k = 0;
  while (k < n) {
    const p = load<i32>(ipiv + (<usize>k << 2));
    if (p >= 0) {
      if (p != k) swapRows(at(b, lb, k, 0), at(b, lb, p, 0), nrhs);
      // B(k+1:n, :) -= L(k+1:n, k) B(k, :)
      const col = cm(a, ld, k + 1, k);
      if (vec) {
        const bk = load<f64>(b + (<usize>k << 3) * lb);
        if (bk != 0.0 && lb == 1) axpy(b + (<usize>(k + 1) << 3), -bk, col, n - k - 1);
        else if (bk != 0.0) for (let i = k + 1; i < n; i++) store<f64>(at(b, lb, i, 0), load<f64>(at(b, lb, i, 0)) - bk * load<f64>(col + (<usize>(i - k - 1) << 3)));
      } else {
        for (let i = k + 1; i < n; i++) {
          const l = load<f64>(col + (<usize>(i - k - 1) << 3));
          if (l != 0.0) axpy(at(b, lb, i, 0), -l, at(b, lb, k, 0), nrhs);
        }
      }
      scal(at(b, lb, k, 0), 1.0 / load<f64>(cm(a, ld, k, k)), nrhs);
      k += 1;
    } else {
      const kp = -p - 1;
      if (kp != k + 1) swapRows(at(b, lb, k + 1, 0), at(b, lb, kp, 0), nrhs);
      const c0 = cm(a, ld, k + 2, k), c1 = cm(a, ld, k + 2, k + 1);
      for (let i = k + 2; i < n; i++) {
        const o = <usize>(i - k - 2) << 3;
        const l0 = load<f64>(c0 + o), l1 = load<f64>(c1 + o);
        const ri = at(b, lb, i, 0);
        if (l0 != 0.0) axpy(ri, -l0, at(b, lb, k, 0), nrhs);
        if (l1 != 0.0) axpy(ri, -l1, at(b, lb, k + 1, 0), nrhs);
      }
      const akm1k = load<f64>(cm(a, ld, k + 1, k));
      const akm1 = load<f64>(cm(a, ld, k, k)) / akm1k;
      const ak = load<f64>(cm(a, ld, k + 1, k + 1)) / akm1k;
      const denom = akm1 * ak - 1.0;
      for (let j = 0; j < nrhs; j++) {
        const p0 = at(b, lb, k, j), p1 = at(b, lb, k + 1, j);
        const bkm1 = load<f64>(p0) / akm1k;
        const bk = load<f64>(p1) / akm1k;
        store<f64>(p0, (ak * bkm1 - bk) / denom);
        store<f64>(p1, (akm1 * bk - bkm1) / denom);
      }
      k += 2;
    }
  }
  k = n - 1;
  while (k >= 0) {
    const p = load<i32>(ipiv + (<usize>k << 2));
    // B(k, :) -= L(k+1:n, k)ᵀ B(k+1:n, :)  (and for a 2x2 block also row k-1 with column k-1)
    const col = cm(a, ld, k + 1, k);
    if (vec && lb == 1) {
      const q = b + (<usize>k << 3);
      store<f64>(q, load<f64>(q) - dot(col, q + 8, n - k - 1));
    } else {
      for (let i = k + 1; i < n; i++) {
        const l = load<f64>(col + (<usize>(i - k - 1) << 3));
        if (l != 0.0) axpy(at(b, lb, k, 0), -l, at(b, lb, i, 0), nrhs);
      }
    }
    if (p >= 0) {
      if (p != k) swapRows(at(b, lb, k, 0), at(b, lb, p, 0), nrhs);
      k -= 1;
    } else {
      const col1 = cm(a, ld, k + 1, k - 1);
      if (vec && lb == 1) {
        const q = b + (<usize>(k - 1) << 3);
        store<f64>(q, load<f64>(q) - dot(col1, b + (<usize>(k + 1) << 3), n - k - 1));
      } else {
        for (let i = k + 1; i < n; i++) {
          const l = load<f64>(col1 + (<usize>(i - k - 1) << 3));
          if (l != 0.0) axpy(at(b, lb, k - 1, 0), -l, at(b, lb, i, 0), nrhs);
        }
      }
      const kp = -p - 1;
      if (kp != k) swapRows(at(b, lb, k, 0), at(b, lb, kp, 0), nrhs);
      k -= 2;
    }
  }
}

/**
 * Inertia of A from its LDLᵀ factors (Sylvester): counts of positive, negative and zero
 * eigenvalues, written as three i32 to out. A 2x2 block [a b; b c] has det = ac - b² and contributes
 * (1, 1) when det < 0, two of sign(a) when det > 0.
 */
export function ldltInertia(n: i32, a: usize, lda: i32, ipiv: usize, out: usize): void {
  const ld = <usize>lda;
  let pos = 0, neg = 0, zero = 0;
  let k = 0;
  while (k < n) {
    const p = load<i32>(ipiv + (<usize>k << 2));
    if (p >= 0) {
      const d = load<f64>(cm(a, ld, k, k));
      if (d > 0) pos++;
      else if (d < 0) neg++;
      else zero++;
      k += 1;
    } else {
      const x = load<f64>(cm(a, ld, k, k)), y = load<f64>(cm(a, ld, k + 1, k)), z = load<f64>(cm(a, ld, k + 1, k + 1));
      // det = xz - y² computed as y ((x/y) z - y) to avoid overflow (dsycon/dsytri style).
      const det = y * ((x / y) * z - y);
      if (det < 0) {
        pos++;
        neg++;
      } else if (det > 0) {
        if (x > 0) pos += 2;
        else neg += 2;
      } else zero += 2;
      k += 2;
    }
  }
  store<i32>(out, pos);
  store<i32>(out, neg, 4);
  store<i32>(out, zero, 8);
}

// ---------------------------------------------------------------------------
// Norms and 1-norm condition estimates (Hager 1984, Higham 1988, as in LAPACK dlacn2/dgecon).
// ---------------------------------------------------------------------------

/** ||A||_1 = max_j Σ_i |A_ij| of the n x n matrix, using work (n doubles) for column sums. */
export function norm1(n: i32, a: usize, lda: i32, work: usize): f64 {
  memory.fill(work, 0, <usize>n << 3);
  for (let i = 0; i < n; i++) {
    const r = at(a, <usize>lda, i, 0);
    let j = 0;
    for (; j + 2 <= n; j += 2) {
      const o = <usize>j << 3;
      v128.store(work + o, f64x2.add(v128.load(work + o), f64x2.abs(v128.load(r + o))));
    }
    for (; j < n; j++) {
      const o = <usize>j << 3;
      store<f64>(work + o, load<f64>(work + o) + abs<f64>(load<f64>(r + o)));
    }
  }
  let m = 0.0;
  for (let j = 0; j < n; j++) {
    const v = load<f64>(work + (<usize>j << 3));
    if (v > m || v != v) m = v;
  }
  return m;
}

/** Solves with a factorisation: kind 0 = Cholesky, 2 = LDLᵀ (symmetric: trans ignored), 1 = LU. */
function factorSolve(kind: i32, n: i32, f: usize, ld: usize, ipiv: usize, x: usize, trans: bool): void {
  if (kind == 2) {
    ldltSolve(n, 1, f, <i32>ld, ipiv, x, 1);
  } else if (kind == 0) {
    trsv(false, false, false, n, f, ld, x);
    trsv(false, true, false, n, f, ld, x);
  } else if (!trans) {
    applyPivots(n, 1, ipiv, x, 1, false);
    trsv(false, false, true, n, f, ld, x);
    trsv(true, false, false, n, f, ld, x);
  } else {
    trsv(true, true, false, n, f, ld, x);
    trsv(false, true, true, n, f, ld, x);
    applyPivots(n, 1, ipiv, x, 1, true);
  }
}

function sum1(x: usize, n: i32): f64 {
  let s = 0.0;
  for (let i = 0; i < n; i++) s += abs<f64>(load<f64>(x + (<usize>i << 3)));
  return s;
}

/**
 * Estimate of ||A⁻¹||_1 from a factorisation (Hager–Higham): maximise ||A⁻¹x||_1 over the unit
 * 1-norm ball by a few steps of a gradient method (x = e_j with j = argmax |A⁻ᵀ sign(A⁻¹x)|),
 * plus the alternating test vector x_i = (-1)^i (1 + i/(n-1)). work: 2n doubles.
 */
function invNorm1Estimate(kind: i32, n: i32, f: usize, ld: usize, ipiv: usize, work: usize): f64 {
  const x = work, s = work + (<usize>n << 3);
  const inv = 1.0 / <f64>n;
  for (let i = 0; i < n; i++) store<f64>(x + (<usize>i << 3), inv);
  factorSolve(kind, n, f, ld, ipiv, x, false);
  let est = sum1(x, n);
  if (n == 1) return est;
  for (let i = 0; i < n; i++) {
    const v: f64 = load<f64>(x + (<usize>i << 3)) >= 0 ? 1.0 : -1.0;
    store<f64>(s + (<usize>i << 3), v);
    store<f64>(x + (<usize>i << 3), v);
  }
  factorSolve(kind, n, f, ld, ipiv, x, true);
  let j = 0;
  for (let i = 1; i < n; i++) if (abs<f64>(load<f64>(x + (<usize>i << 3))) > abs<f64>(load<f64>(x + (<usize>j << 3)))) j = i;
  for (let iter = 2; iter <= 5; iter++) {
    memory.fill(x, 0, <usize>n << 3);
    store<f64>(x + (<usize>j << 3), 1.0);
    factorSolve(kind, n, f, ld, ipiv, x, false);
    const old = est;
    est = sum1(x, n);
    let same = true;
    for (let i = 0; i < n; i++) {
      const v: f64 = load<f64>(x + (<usize>i << 3)) >= 0 ? 1.0 : -1.0;
      if (v != load<f64>(s + (<usize>i << 3))) same = false;
      store<f64>(s + (<usize>i << 3), v);
    }
    if (same || est <= old) {
      if (est < old) est = old;
      break;
    }
    memory.copy(x, s, <usize>n << 3);
    factorSolve(kind, n, f, ld, ipiv, x, true);
    const jlast = j;
    j = 0;
    for (let i = 1; i < n; i++) if (abs<f64>(load<f64>(x + (<usize>i << 3))) > abs<f64>(load<f64>(x + (<usize>j << 3)))) j = i;
    if (abs<f64>(load<f64>(x + (<usize>jlast << 3))) == abs<f64>(load<f64>(x + (<usize>j << 3)))) break;
  }
  for (let i = 0; i < n; i++) {
    const sign: f64 = (i & 1) == 1 ? -1.0 : 1.0;
    store<f64>(x + (<usize>i << 3), sign * (1.0 + <f64>i / <f64>(n - 1)));
  }
  factorSolve(kind, n, f, ld, ipiv, x, false);
  const alt = (2.0 * sum1(x, n)) / (3.0 * <f64>n);
  return alt > est ? alt : est;
}

/** Reciprocal 1-norm condition estimate 1 / (||A||_1 ||A⁻¹||_1) from cholesky(). work: 2n doubles. */
export function rcondCholesky(n: i32, l: usize, lda: i32, anorm: f64, work: usize): f64 {
  if (n == 0) return 1.0;
  if (anorm == 0.0) return 0.0;
  const e = invNorm1Estimate(0, n, l, <usize>lda, 0, work);
  return e > 0 && e < Infinity ? 1.0 / (anorm * e) : 0.0;
}

/** Reciprocal 1-norm condition estimate 1 / (||A||_1 ||A⁻¹||_1) from ldlt(). work: 2n doubles. */
export function rcondLdlt(n: i32, f: usize, lda: i32, ipiv: usize, anorm: f64, work: usize): f64 {
  if (n == 0) return 1.0;
  if (anorm == 0.0) return 0.0;
  const e = invNorm1Estimate(2, n, f, <usize>lda, ipiv, work);
  return e > 0 && e < Infinity ? 1.0 / (anorm * e) : 0.0;
}

/** Reciprocal 1-norm condition estimate 1 / (||A||_1 ||A⁻¹||_1) from lu(). work: 2n doubles. */
export function rcondLu(n: i32, lu_: usize, lda: i32, ipiv: usize, anorm: f64, work: usize): f64 {
  if (n == 0) return 1.0;
  if (anorm == 0.0) return 0.0;
  const e = invNorm1Estimate(1, n, lu_, <usize>lda, ipiv, work);
  return e > 0 && e < Infinity ? 1.0 / (anorm * e) : 0.0;
}

// ---------------------------------------------------------------------------
// Symmetric matrix utilities (tiled so that the transposed accesses stay in cache).
// ---------------------------------------------------------------------------

const TB: i32 = 32;

/**
 * mode 0: A = (A + Aᵀ)/2 and returns max_ij |A_ij - A_ji|; mode 1: upper := lower (A_ji = A_ij for
 * i > j); mode 2: lower := upper. Returns the asymmetry found (0 for modes 1 and 2).
 */
export function symmetrize(n: i32, a: usize, lda: i32, mode: i32): f64 {
  const ld = <usize>lda;
  let worst = 0.0;
  for (let bi = 0; bi < n; bi += TB) {
    for (let bj = 0; bj <= bi; bj += TB) {
      const iend = min(n, bi + TB);
      for (let i = bi; i < iend; i++) {
        const jend = min(bj + TB, i);
        for (let j = bj; j < jend; j++) {
          const pl = at(a, ld, i, j), pu = at(a, ld, j, i);
          if (mode == 0) {
            const l = load<f64>(pl), u = load<f64>(pu);
            const d = abs<f64>(l - u);
            if (d > worst || d != d) worst = d;
            const m = 0.5 * (l + u);
            store<f64>(pl, m);
            store<f64>(pu, m);
          } else if (mode == 1) {
            store<f64>(pu, load<f64>(pl));
          } else {
            store<f64>(pl, load<f64>(pu));
          }
        }
      }
    }
  }
  return worst;
}

/** In-place transpose of the n x n matrix. */
function transposeSquare(n: i32, a: usize, ld: usize): void {
  for (let bi = 0; bi < n; bi += TB) {
    for (let bj = 0; bj <= bi; bj += TB) {
      const iend = min(n, bi + TB);
      for (let i = bi; i < iend; i++) {
        const jend = min(bj + TB, i);
        for (let j = bj; j < jend; j++) {
          const pl = at(a, ld, i, j), pu = at(a, ld, j, i);
          const t = load<f64>(pl);
          store<f64>(pl, load<f64>(pu));
          store<f64>(pu, t);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Symmetric eigen-decomposition: Householder tridiagonalisation + implicit QL (EISPACK tred2/tql2,
// as in JAMA). Both are written on W = Vᵀ, so that every inner loop runs along a contiguous row:
// EISPACK's column accesses V[k][j] become W[j][k].
// ---------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function ld64(p: usize): f64 {
  return load<f64>(p);
}
// @ts-ignore: decorator
@inline function st64(p: usize, v: f64): void {
  store<f64>(p, v);
}

/**
 * Householder reduction of the symmetric A (in W, only the lower triangle of A is read: W = Vᵀ
 * starts as A and the reflections act on its upper triangle, which equals Vᵀ's lower one) to
 * tridiagonal form T = Qᵀ A Q: d = diag(T), e[1..n) = subdiagonal. For step i = n-1..1 the
 * reflector u (in d[0..i)) zeroes row i left of the subdiagonal; with p = A u / h and
 * K = uᵀp / 2h, q = p - K u, the update is A -= u qᵀ + q uᵀ. With `vectors`, W ends as Qᵀ.
 */
function tred2(n: i32, w: usize, ld: usize, d: usize, e: usize, vectors: bool): void {
  // W starts as A's transpose = A; copy the lower triangle to the upper one (W reads [j][k], k >= j).
  symmetrize(n, w, <i32>ld, 1);
  for (let j = 0; j < n; j++) st64(d + (<usize>j << 3), ld64(at(w, ld, j, n - 1)));
  for (let i = n - 1; i > 0; i--) {
    let scale = 0.0;
    let h = 0.0;
    for (let k = 0; k < i; k++) scale += abs<f64>(ld64(d + (<usize>k << 3)));
    if (scale == 0.0) {
      st64(e + (<usize>i << 3), ld64(d + (<usize>(i - 1) << 3)));
      for (let j = 0; j < i; j++) {
        st64(d + (<usize>j << 3), ld64(at(w, ld, j, i - 1)));
        st64(at(w, ld, j, i), 0.0);
        st64(at(w, ld, i, j), 0.0);
      }
    } else {
      const inv = 1.0 / scale;
      for (let k = 0; k < i; k++) {
        const p = d + (<usize>k << 3);
        const v = ld64(p) * inv;
        st64(p, v);
        h += v * v;
      }
      let f = ld64(d + (<usize>(i - 1) << 3));
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      st64(e + (<usize>i << 3), scale * g);
      h = h - f * g;
      st64(d + (<usize>(i - 1) << 3), f - g);
      memory.fill(e, 0, <usize>i << 3);
      // p = A u: e[j] = Σ_k A_jk d[k] over the symmetric block, rows of W's upper triangle.
      for (let j = 0; j < i; j++) {
        f = ld64(d + (<usize>j << 3));
        st64(at(w, ld, i, j), f);
        const row = at(w, ld, j, 0);
        g = ld64(e + (<usize>j << 3)) + ld64(row + (<usize>j << 3)) * f;
        const len = i - 1 - j;
        if (len > 0) {
          const o = <usize>(j + 1) << 3;
          g += dot(row + o, d + o, len);
          axpy(e + o, f, row + o, len);
        }
        st64(e + (<usize>j << 3), g);
      }
      f = 0.0;
      const hinv = 1.0 / h;
      for (let j = 0; j < i; j++) {
        const p = e + (<usize>j << 3);
        const v = ld64(p) * hinv;
        st64(p, v);
        f += v * ld64(d + (<usize>j << 3));
      }
      const hh = f / (h + h);
      axpy(e, -hh, d, i);
      // A -= u qᵀ + q uᵀ on the block, row j of W from column j.
      for (let j = 0; j < i; j++) {
        f = ld64(d + (<usize>j << 3));
        g = ld64(e + (<usize>j << 3));
        const o = <usize>j << 3;
        const row = at(w, ld, j, 0);
        const len = i - j;
        axpy(row + o, -f, e + o, len);
        axpy(row + o, -g, d + o, len);
        st64(d + o, ld64(at(w, ld, j, i - 1)));
        st64(at(w, ld, j, i), 0.0);
      }
    }
    st64(d + (<usize>i << 3), h);
  }
  if (!vectors) {
    for (let j = 0; j < n; j++) st64(d + (<usize>j << 3), ld64(at(w, ld, j, j)));
    st64(e, 0.0);
    return;
  }
  // Accumulate the transformations: Q = H_1 ... H_{n-1}, built in place (rows of W).
  for (let i = 0; i < n - 1; i++) {
    st64(at(w, ld, i, n - 1), ld64(at(w, ld, i, i)));
    st64(at(w, ld, i, i), 1.0);
    const h = ld64(d + (<usize>(i + 1) << 3));
    const u = at(w, ld, i + 1, 0);
    if (h != 0.0) {
      const hinv = 1.0 / h;
      for (let k = 0; k <= i; k++) st64(d + (<usize>k << 3), ld64(u + (<usize>k << 3)) * hinv);
      for (let j = 0; j <= i; j++) {
        const row = at(w, ld, j, 0);
        const g = dot(u, row, i + 1);
        axpy(row, -g, d, i + 1);
      }
    }
    memory.fill(u, 0, <usize>(i + 1) << 3);
  }
  for (let j = 0; j < n; j++) {
    st64(d + (<usize>j << 3), ld64(at(w, ld, j, n - 1)));
    st64(at(w, ld, j, n - 1), 0.0);
  }
  st64(at(w, ld, n - 1, n - 1), 1.0);
  st64(e, 0.0);
}

/**
 * Implicit QL with Wilkinson-type shifts on the tridiagonal (d, e), eigenvalues into d (ascending);
 * with `vectors`, each plane rotation in (i, i+1) is applied to rows i, i+1 of W (= Vᵀ).
 * Returns 0, or -1 if an eigenvalue needed more than 60 iterations.
 */
function tql2(n: i32, w: usize, ld: usize, d: usize, e: usize, vectors: bool): i32 {
  for (let i = 1; i < n; i++) st64(e + (<usize>(i - 1) << 3), ld64(e + (<usize>i << 3)));
  st64(e + (<usize>(n - 1) << 3), 0.0);
  let f = 0.0;
  let tst1 = 0.0;
  const eps = 2.220446049250313e-16;
  for (let l = 0; l < n; l++) {
    const dl = d + (<usize>l << 3), el = e + (<usize>l << 3);
    tst1 = max(tst1, abs<f64>(ld64(dl)) + abs<f64>(ld64(el)));
    let m = l;
    while (m < n - 1) {
      if (abs<f64>(ld64(e + (<usize>m << 3))) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) return -1;
        let g = ld64(dl);
        let p = (ld64(dl + 8) - g) / (2.0 * ld64(el));
        let r = Math.hypot(p, 1.0);
        if (p < 0) r = -r;
        st64(dl, ld64(el) / (p + r));
        st64(dl + 8, ld64(el) * (p + r));
        const dl1 = ld64(dl + 8);
        let h = g - ld64(dl);
        for (let i = l + 2; i < n; i++) st64(d + (<usize>i << 3), ld64(d + (<usize>i << 3)) - h);
        f += h;
        p = ld64(d + (<usize>m << 3));
        let c = 1.0, c2 = 1.0, c3 = 1.0;
        const el1 = ld64(el + 8);
        let s = 0.0, s2 = 0.0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          const ei = ld64(e + (<usize>i << 3));
          const di = ld64(d + (<usize>i << 3));
          g = c * ei;
          h = c * p;
          r = Math.hypot(p, ei);
          st64(e + (<usize>(i + 1) << 3), s * r);
          s = ei / r;
          c = p / r;
          p = c * di - s * g;
          st64(d + (<usize>(i + 1) << 3), h + s * (c * g + s * di));
          if (vectors) rotateRows(at(w, ld, i, 0), at(w, ld, i + 1, 0), c, s, n);
        }
        p = (-s * s2 * c3 * el1 * ld64(el)) / dl1;
        st64(el, s * p);
        st64(dl, c * p);
      } while (abs<f64>(ld64(el)) > eps * tst1);
    }
    st64(dl, ld64(dl) + f);
    st64(el, 0.0);
  }
  // Selection sort, ascending, carrying the rows of W.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = ld64(d + (<usize>i << 3));
    for (let j = i + 1; j < n; j++) {
      const v = ld64(d + (<usize>j << 3));
      if (v < p) {
        k = j;
        p = v;
      }
    }
    if (k != i) {
      st64(d + (<usize>k << 3), ld64(d + (<usize>i << 3)));
      st64(d + (<usize>i << 3), p);
      if (vectors) swapRows(at(w, ld, i, 0), at(w, ld, k, 0), n);
    }
  }
  return 0;
}

/** (x, y) <- (c x - s y, s x + c y) elementwise over n contiguous values (rows i and i+1 of W). */
function rotateRows(x: usize, y: usize, c: f64, s: f64, n: i32): void {
  const cv = f64x2.splat(c), sv = f64x2.splat(s);
  let k = 0;
  for (; k + 2 <= n; k += 2) {
    const o = <usize>k << 3;
    const xv = v128.load(x + o), yv = v128.load(y + o);
    v128.store(y + o, f64x2.add(f64x2.mul(sv, xv), f64x2.mul(cv, yv)));
    v128.store(x + o, f64x2.sub(f64x2.mul(cv, xv), f64x2.mul(sv, yv)));
  }
  for (; k < n; k++) {
    const o = <usize>k << 3;
    const xv = load<f64>(x + o), yv = load<f64>(y + o);
    store<f64>(y + o, s * xv + c * yv);
    store<f64>(x + o, c * xv - s * yv);
  }
}

/**
 * Eigenvalues (ascending, into w) of the symmetric n x n matrix A (lower triangle read), and with
 * `vectors` the orthonormal eigenvectors: A is overwritten by V with A V = V diag(w) (column j of V
 * is the eigenvector of w[j]). work: n doubles. Returns 0, or -1 if QL did not converge.
 */
export function eigh(n: i32, a: usize, lda: i32, w: usize, work: usize, vectors: i32): i32 {
  if (n <= 0) return 0;
  const ld = <usize>lda;
  const wantV = vectors != 0;
  tred2(n, a, ld, w, work, wantV);
  const info = tql2(n, a, ld, w, work, wantV);
  if (info == 0 && wantV) transposeSquare(n, a, ld);
  return info;
}
