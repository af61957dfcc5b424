// Hessian spectrum from matrix-vector products only (PyHessian's tools): power iteration with deflation, Lanczos, Hutchinson trace, stochastic Lanczos quadrature density.

import { backward } from '../autodiff/backward.js';
import { variable } from '../autodiff/transforms.js';
import { full, tensor } from '../core/creation.js';
import { withGradMode, type Tensor } from '../core/tensor.js';
import type { VectorList } from '../hypergrad/vector-list.js';
import { Random } from '../util/random.js';
import { eigh, Matrix } from './dense.js';
import { linalgWasm, withScratch } from './wasm.js';

/** x ↦ A x for a symmetric A on flat float64 vectors of a fixed length. */
export type FlatOperator = (x: Float64Array) => Float64Array;

/** A symmetric operator on flat vectors of length n, from an operator on vector lists shaped like `like`. */
export function flatOperator(op: (v: VectorList) => VectorList, like: readonly Tensor[]): { n: number; apply: FlatOperator } {
  const n = like.reduce((s, t) => s + t.size, 0);
  const apply = (x: Float64Array): Float64Array => {
    let o = 0;
    const v = like.map((t) => {
      const part = x.subarray(o, o + t.size);
      o += t.size;
      return tensor(t.dtype === 'float64' ? part : Float32Array.from(part), t.shape, { dtype: t.dtype, backend: t.backend });
    });
    const y = op(v);
    const out = new Float64Array(n);
    let p = 0;
    for (const t of y) {
      out.set(t.dataSync(), p);
      p += t.size;
    }
    return out;
  };
  return { n, apply };
}

/** x ↦ H x for a dense symmetric Matrix (Wasm gemv, O(n²) per product). */
export function denseOperator(h: Matrix): { n: number; apply: FlatOperator } {
  if (h.rows !== h.cols) throw new Error(`denseOperator: expected a square matrix, got ${h.rows}x${h.cols}`);
  const n = h.rows;
  return {
    n,
    apply: (x) =>
      withScratch([n, n], (xs, ys) => {
        xs.view.set(x);
        linalgWasm().dgemv(0, n, n, h.ptr, n, xs.ptr, ys.ptr, 0);
        return ys.view.slice();
      }),
  };
}

/**
 * The Hessian of f at w as an operator on vector lists: ∇f is recorded once with its graph, and each
 * product H v = ∂/∂w <∇f(w), v> is one reverse pass over that graph (cheaper than a fresh hvp()).
 */
export function hessianOperator(f: (w: Tensor[]) => Tensor, w: readonly Tensor[]): (v: VectorList) => VectorList {
  const { vars, grads } = withGradMode(true, () => {
    const vars = w.map(variable);
    const y = f(vars);
    if (y.size !== 1) throw new Error(`hessianOperator: f must return a scalar, got ${y.describe()}`);
    const grads = backward([y], [full(y.shape, 1, { dtype: y.dtype, backend: y.backend })], vars, { createGraph: true });
    return { vars, grads };
  });
  const linked = grads.map((g, k) => ({ g, k })).filter(({ g }) => g.requiresGrad);
  return (v) => {
    if (v.length !== w.length) throw new Error(`hessianOperator: ${w.length} parameter tensors but ${v.length} direction tensors`);
    if (linked.length === 0) return w.map((t) => full(t.shape, 0, { dtype: t.dtype, backend: t.backend }));
    return backward(linked.map((l) => l.g), linked.map((l) => v[l.k]!), vars);
  };
}

// ---------------------------------------------------------------------------
// Flat vector helpers.
// ---------------------------------------------------------------------------

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** y += s x */
function axpy(y: Float64Array, s: number, x: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += s * x[i]!;
}

function normalize(x: Float64Array): number {
  const n = Math.sqrt(dot(x, x));
  if (n > 0) for (let i = 0; i < x.length; i++) x[i]! /= n;
  return n;
}

/** Classical Gram–Schmidt twice ("twice is enough") of x against orthonormal vs. */
function orthogonalize(x: Float64Array, vs: readonly Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++) for (const v of vs) axpy(x, -dot(v, x), v);
}

function rademacher(n: number, rng: Random): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.uniform() < 0.5 ? -1 : 1;
  return x;
}

function gaussian(n: number, rng: Random): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.normal();
  return x;
}

/** Accepts an operator on flat vectors ({n, apply}) or on vector lists (with the tensors it acts on). */
export type SpectrumOperator =
  | { n: number; apply: FlatOperator }
  | { op: (v: VectorList) => VectorList; like: readonly Tensor[] };

function asFlat(A: SpectrumOperator): { n: number; apply: FlatOperator } {
  return 'apply' in A ? A : flatOperator(A.op, A.like);
}

// ---------------------------------------------------------------------------
// Power iteration with deflation.
// ---------------------------------------------------------------------------

export interface PowerIterationOptions {
  /** How many eigenvalues (default 1). */
  k?: number;
  maxIterations?: number;
  /** Stop when |λ_t - λ_{t-1}| <= tol (|λ_t| + 1e-12) (default 1e-6, PyHessian's 1e-3 is coarse). */
  tol?: number;
  seed?: number;
}

export interface PowerIterationResult {
  /** Dominant eigenvalues (largest |λ| first among those found), one per deflation round. */
  values: number[];
  /** Unit eigenvectors (flat). */
  vectors: Float64Array[];
  /** Products used per eigenvalue. */
  iterations: number[];
  converged: boolean[];
}

/**
 * Top-k eigenvalues by magnitude, PyHessian style: power iteration v ← A v / ||A v|| with Rayleigh
 * quotient λ = vᵀ A v, each new vector kept orthogonal to the eigenvectors already found
 * (deflation by projection). Convergence is linear in |λ_{k+1}| / |λ_k|.
 */
export function powerIteration(A: SpectrumOperator, opts: PowerIterationOptions = {}): PowerIterationResult {
  const { n, apply } = asFlat(A);
  const k = Math.min(opts.k ?? 1, n);
  const maxIt = opts.maxIterations ?? 1000;
  const tol = opts.tol ?? 1e-6;
  const rng = new Random(opts.seed ?? 0);
  const out: PowerIterationResult = { values: [], vectors: [], iterations: [], converged: [] };
  for (let i = 0; i < k; i++) {
    let v = gaussian(n, rng);
    orthogonalize(v, out.vectors);
    normalize(v);
    let lambda = NaN;
    let it = 0;
    let converged = false;
    while (it < maxIt) {
      it++;
      const w = apply(v);
      orthogonalize(w, out.vectors);
      const next = dot(v, w);
      const norm = normalize(w);
      if (norm === 0) {
        lambda = 0;
        converged = true;
        break;
      }
      v = w;
      if (Number.isFinite(lambda) && Math.abs(next - lambda) <= tol * (Math.abs(next) + 1e-12)) {
        lambda = next;
        converged = true;
        break;
      }
      lambda = next;
    }
    out.values.push(lambda);
    out.vectors.push(v);
    out.iterations.push(it);
    out.converged.push(converged);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Lanczos.
// ---------------------------------------------------------------------------

export interface LanczosOptions {
  /** Krylov dimension m (default min(n, 80)). */
  steps?: number;
  /** Full reorthogonalisation against all previous Lanczos vectors (default true; costs m·n memory). */
  reorthogonalize?: boolean;
  /** Starting vector (default: Rademacher from seed). */
  start?: Float64Array;
  seed?: number;
}

export interface LanczosResult {
  /** Diagonal of the tridiagonal T (length m). */
  alpha: Float64Array;
  /** Off-diagonal of T (length m - 1). */
  beta: Float64Array;
  /** Lanczos vectors (only kept with reorthogonalisation). */
  basis: Float64Array[];
  /** Products used. */
  products: number;
  /** True when an invariant subspace was found (β ≈ 0) before `steps`. */
  breakdown: boolean;
}

/**
 * Lanczos tridiagonalisation: q₁ = v/||v||, w = A q_j - α_j q_j - β_{j-1} q_{j-1} with
 * α_j = q_jᵀ A q_j, β_j = ||w||, q_{j+1} = w / β_j; then Qᵀ A Q = T = tridiag(β, α, β).
 */
export function lanczos(A: SpectrumOperator, opts: LanczosOptions = {}): LanczosResult {
  const { n, apply } = asFlat(A);
  const m = Math.min(opts.steps ?? 80, n);
  const reorth = opts.reorthogonalize ?? true;
  const q0 = opts.start ? Float64Array.from(opts.start) : rademacher(n, new Random(opts.seed ?? 0));
  if (q0.length !== n) throw new Error(`lanczos: start vector has length ${q0.length}, expected ${n}`);
  if (normalize(q0) === 0) throw new Error('lanczos: zero start vector');
  const alpha: number[] = [];
  const beta: number[] = [];
  const basis: Float64Array[] = [q0];
  let prev: Float64Array | null = null;
  let q = q0;
  let products = 0;
  let breakdown = false;
  let scale = 0;
  for (let j = 0; j < m; j++) {
    const w = apply(q);
    products++;
    const a = dot(q, w);
    alpha.push(a);
    axpy(w, -a, q);
    if (prev) axpy(w, -beta[j - 1]!, prev);
    if (reorth) orthogonalize(w, basis);
    const b = Math.sqrt(dot(w, w));
    scale = Math.max(scale, Math.abs(a), b);
    if (j === m - 1) break;
    if (b <= 1e-12 * scale) {
      breakdown = true;
      break;
    }
    for (let i = 0; i < n; i++) w[i]! /= b;
    beta.push(b);
    prev = q;
    q = w;
    if (reorth) basis.push(q);
  }
  return { alpha: Float64Array.from(alpha), beta: Float64Array.from(beta), basis: reorth ? basis : [], products, breakdown };
}

/** Eigen-decomposition of the tridiagonal T = tridiag(β, α, β) (Ritz values ascending and their vectors). */
export function tridiagonalEigen(alpha: Float64Array, beta: Float64Array): { values: Float64Array; vectors: Matrix } {
  const m = alpha.length;
  const t = Matrix.zeros(m, m);
  const d = t.data;
  for (let i = 0; i < m; i++) {
    d[i * m + i] = alpha[i]!;
    if (i + 1 < m) {
      d[(i + 1) * m + i] = beta[i]!;
      d[i * m + i + 1] = beta[i]!;
    }
  }
  const r = eigh(t, { vectors: true, overwrite: true });
  return { values: r.values, vectors: r.vectors! };
}

export interface ExtremeEigenvalues {
  /** Smallest and largest Ritz values (inner bounds of the spectrum: λmin <= min, max <= λmax). */
  min: number;
  max: number;
  /** All Ritz values, ascending. */
  ritz: Float64Array;
  products: number;
}

/** Extreme eigenvalues by Lanczos with full reorthogonalisation (converges fast at both ends). */
export function extremeEigenvalues(A: SpectrumOperator, opts: LanczosOptions = {}): ExtremeEigenvalues {
  const L = lanczos(A, opts);
  const { values, vectors } = tridiagonalEigen(L.alpha, L.beta);
  vectors.free();
  return { min: values[0]!, max: values[values.length - 1]!, ritz: values, products: L.products };
}

export interface TopEigenOptions extends LanczosOptions {
  /** How many (default 1). */
  k?: number;
  /** 'largest' algebraic (default), 'smallest', or largest 'magnitude'. */
  which?: 'largest' | 'smallest' | 'magnitude';
}

/** Top-k eigenpairs by Lanczos (Ritz pairs from m >= 2k + 20 steps with full reorthogonalisation). */
export function topEigenvalues(A: SpectrumOperator, opts: TopEigenOptions = {}): { values: number[]; vectors: Float64Array[]; products: number } {
  const flat = asFlat(A);
  const k = Math.min(opts.k ?? 1, flat.n);
  const steps = Math.min(flat.n, opts.steps ?? Math.max(2 * k + 20, 40));
  const L = lanczos(flat, { ...opts, steps, reorthogonalize: true });
  const { values, vectors } = tridiagonalEigen(L.alpha, L.beta);
  const m = values.length;
  const order = Array.from({ length: m }, (_, i) => i);
  const which = opts.which ?? 'largest';
  if (which === 'largest') order.reverse();
  else if (which === 'magnitude') order.sort((a, b) => Math.abs(values[b]!) - Math.abs(values[a]!));
  const pick = order.slice(0, Math.min(k, m));
  const V = vectors.data;
  const out = {
    values: pick.map((i) => values[i]!),
    vectors: pick.map((i) => {
      const y = new Float64Array(flat.n);
      for (let j = 0; j < m; j++) axpy(y, V[j * m + i]!, L.basis[j]!);
      return y;
    }),
    products: L.products,
  };
  vectors.free();
  return out;
}

// ---------------------------------------------------------------------------
// Hutchinson trace and stochastic Lanczos quadrature.
// ---------------------------------------------------------------------------

export interface HutchinsonOptions {
  /** Maximum number of probe vectors (default 100). */
  samples?: number;
  /** Stop when the running mean changes by less than tol relative (PyHessian's rule; default 0: use all samples). */
  tol?: number;
  seed?: number;
}

export interface HutchinsonResult {
  trace: number;
  /** Standard error of the mean over the probes. */
  stderr: number;
  samples: number;
}

/** tr(A) ≈ mean_i z_iᵀ A z_i with Rademacher z_i (unbiased; variance 2 Σ_{i≠j} A_ij²). */
export function hutchinsonTrace(A: SpectrumOperator, opts: HutchinsonOptions = {}): HutchinsonResult {
  const { n, apply } = asFlat(A);
  const max = opts.samples ?? 100;
  const rng = new Random(opts.seed ?? 0);
  const vals: number[] = [];
  let mean = 0;
  for (let i = 0; i < max; i++) {
    const z = rademacher(n, rng);
    vals.push(dot(z, apply(z)));
    const next = vals.reduce((a, b) => a + b, 0) / vals.length;
    const done = opts.tol !== undefined && opts.tol > 0 && i > 0 && Math.abs(next - mean) <= opts.tol * (Math.abs(mean) + 1e-12);
    mean = next;
    if (done) break;
  }
  const s = vals.length;
  const variance = s > 1 ? vals.reduce((a, v) => a + (v - mean) ** 2, 0) / (s - 1) : NaN;
  return { trace: mean, stderr: Math.sqrt(variance / s), samples: s };
}

export interface DensityOptions {
  /** Lanczos steps per probe (default 90, as PyHessian). */
  steps?: number;
  /** Number of probe vectors (default 1, as PyHessian). */
  runs?: number;
  /** Points of the density grid (default 1000). */
  gridSize?: number;
  /** Gaussian kernel variance relative to the spectrum width (default 1e-5, as PyHessian). */
  sigmaSquared?: number;
  seed?: number;
}

export interface SpectralDensity {
  /** Per probe: Ritz values θ and quadrature weights τ = (first component of T's eigenvector)². */
  nodes: { values: Float64Array; weights: Float64Array }[];
  /** Grid and density φ(t) = (1/runs) Σ τ_i N(t; θ_i, σ²), normalised to integrate to 1 over the grid. */
  grid: Float64Array;
  density: Float64Array;
  products: number;
}

/**
 * Stochastic Lanczos quadrature (Ghorbani et al. 2019; PyHessian's density): for each Rademacher
 * probe v, m Lanczos steps give T = U diag(θ) Uᵀ and vᵀ g(A) v / n ≈ Σ_i τ_i g(θ_i), τ_i = U_{1i}²;
 * the density is that quadrature smoothed by a Gaussian kernel.
 */
export function spectralDensity(A: SpectrumOperator, opts: DensityOptions = {}): SpectralDensity {
  const flat = asFlat(A);
  const runs = opts.runs ?? 1;
  const steps = Math.min(flat.n, opts.steps ?? 90);
  const rng = new Random(opts.seed ?? 0);
  const nodes: SpectralDensity['nodes'] = [];
  let products = 0;
  for (let r = 0; r < runs; r++) {
    const L = lanczos(flat, { steps, reorthogonalize: true, start: rademacher(flat.n, rng) });
    products += L.products;
    const { values, vectors } = tridiagonalEigen(L.alpha, L.beta);
    const m = values.length;
    const V = vectors.data;
    const weights = new Float64Array(m);
    for (let i = 0; i < m; i++) weights[i] = V[i]! * V[i]!; // first row of U
    vectors.free();
    nodes.push({ values, weights });
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const nd of nodes) {
    lo = Math.min(lo, nd.values[0]!);
    hi = Math.max(hi, nd.values[nd.values.length - 1]!);
  }
  const width = Math.max(hi - lo, 1e-12);
  const sigma2 = (opts.sigmaSquared ?? 1e-5) * width * width;
  const pad = 0.01 * width + 3 * Math.sqrt(sigma2);
  const G = opts.gridSize ?? 1000;
  const grid = new Float64Array(G);
  const density = new Float64Array(G);
  for (let g = 0; g < G; g++) grid[g] = lo - pad + ((hi - lo + 2 * pad) * g) / Math.max(1, G - 1);
  const norm = 1 / Math.sqrt(2 * Math.PI * sigma2);
  for (const nd of nodes) {
    for (let i = 0; i < nd.values.length; i++) {
      const th = nd.values[i]!;
      const tau = nd.weights[i]! / runs;
      for (let g = 0; g < G; g++) density[g]! += tau * norm * Math.exp(-((grid[g]! - th) ** 2) / (2 * sigma2));
    }
  }
  const step = G > 1 ? grid[1]! - grid[0]! : 1;
  const total = density.reduce((a, b) => a + b, 0) * step;
  if (total > 0) for (let g = 0; g < G; g++) density[g]! /= total;
  return { nodes, grid, density, products };
}
