// Exact inverse-Hessian-vector products H⁻¹v from the dense Hessian (Cholesky, LU or eigen pseudo-inverse) with a curvature report.

import { SolverFailure } from '../hypergrad/inverse-hvp.js';
import type { Tensor } from '../core/tensor.js';
import type { InverseHvpResult, LinearOperator } from '../hypergrad/inverse-hvp.js';
import type { VectorList } from '../hypergrad/vector-list.js';
import { Cholesky, eigh, firstNonFiniteLower, LDLT, LU, Matrix, NotPositiveDefiniteError, SingularMatrixError, type Inertia } from './dense.js';
import { exactHessian, flattenTensors, hessianFromOperator, unflattenLike, type HessianOptions, type HessianResult } from './hessian.js';
import { denseOperator, extremeEigenvalues } from './spectrum.js';
import { linalgWasm, withScratch } from './wasm.js';

const EPS = 2.220446049250313e-16;

export type ExactMethod = 'cholesky' | 'ldlt' | 'lu' | 'eigen';

export interface ExactSolverOptions {
  /**
   * 'auto' (default): Cholesky when the spectrum (see `spectrum`) shows H + δI positive definite;
   * otherwise, and always with spectrum 'none', the symmetric-indefinite LDLᵀ (Bunch–Kaufman, half
   * the flops of LU, reports the inertia); if that is singular (a zero pivot, or
   * rcond₁ < singularRcond), the eigen pseudo-inverse. A named method is used as is (Cholesky
   * throws NotPositiveDefiniteError on indefinite input, LDLᵀ and LU throw SingularMatrixError on
   * an exactly singular one). 'lu' (partial pivoting, 2n³/3 flops) is what torch.linalg.solve does.
   */
  method?: 'auto' | ExactMethod;
  /** Damping δ >= 0: solve (H + δI) x = b (default 0). */
  damping?: number;
  /** Eigen path: eigenvalues with |λ| <= pinvRtol · max|λ| are dropped (default n·eps, as scipy's pinvh). */
  pinvRtol?: number;
  /** Auto: treat LDLᵀ as singular when its 1-norm reciprocal condition estimate is below this (default eps). */
  singularRcond?: number;
  /** Auto: largest n for the O(n³) eigen fallback (default 3000; above it, singular input throws). */
  eigenMaxN?: number;
  /**
   * How the reported spectrum is obtained: 'full' = all eigenvalues (O(n³), exact); 'lanczos' =
   * extreme eigenvalues by Lanczos on H and smallest |λ| by Lanczos on H⁻¹ (estimates);
   * 'none'; 'auto' (default) = 'full' when n <= 1000, else 'lanczos'.
   */
  spectrum?: 'auto' | 'full' | 'lanczos' | 'none';
  /** Lanczos steps for the spectrum estimates (default 40). */
  lanczosSteps?: number;
  /** Factor H's storage in place (saves n² doubles; H is no longer usable). Default false. */
  overwrite?: boolean;
}

export interface ExactCurvatureReport {
  /** Factorisation used for the solves. */
  method: ExactMethod;
  /** Eigen path only: some eigenvalues were dropped (pseudo-inverse). */
  pseudoInverse: boolean;
  /** What was tried and why this method was chosen. */
  notes: string[];
  n: number;
  damping: number;
  /** Smallest and largest eigenvalue of H + δI (exact with spectrumSource 'eigenvalues', Ritz estimates with 'lanczos'). */
  lambdaMin: number;
  lambdaMax: number;
  /** Smallest |λ| of H + δI. */
  absLambdaMin: number;
  /** 2-norm condition number max|λ| / min|λ| (Infinity when singular). */
  conditionNumber: number;
  spectrumSource: 'eigenvalues' | 'lanczos' | 'none';
  /** Number of negative eigenvalues: from all eigenvalues, or exactly from the LDLᵀ inertia. */
  negativeEigenvalues: number | null;
  /** Eigenvalue signs of H + δI when known (all eigenvalues, LDLᵀ, or positive definite by Cholesky). */
  inertia: Inertia | null;
  /** Eigen path: eigenvalues treated as zero. */
  droppedEigenvalues: number | null;
  /** 1-norm reciprocal condition estimate of the factorisation (Hager–Higham), when one was made. */
  rcond1: number | null;
  factorMs: number;
  spectrumMs: number;
}

export interface ExactSolveResult {
  x: Float64Array;
  /** ||(H + δI) x - b|| / ||b|| (NaN when H was overwritten by an LU or eigen factorisation). */
  residual: number;
  ms: number;
}

function norm2(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
}

function spectrumStats(values: Float64Array): { min: number; max: number; absMin: number; absMax: number; negatives: number } {
  let absMin = Infinity;
  let absMax = 0;
  let negatives = 0;
  for (const v of values) {
    absMin = Math.min(absMin, Math.abs(v));
    absMax = Math.max(absMax, Math.abs(v));
    if (v < 0) negatives++;
  }
  return { min: values[0]!, max: values[values.length - 1]!, absMin, absMax, negatives };
}

/**
 * A reusable exact solver for (H + δI) x = b on a dense symmetric Hessian: picks and builds the
 * factorisation once (see ExactSolverOptions.method), then solves any number of right-hand sides.
 */
export class ExactHessianSolver {
  readonly report: ExactCurvatureReport;
  private chol: Cholesky | null = null;
  private luf: LU | null = null;
  private ldl: LDLT | null = null;
  private eig: { values: Float64Array; vectors: Matrix; keep: Uint8Array } | null = null;
  /** The caller's H when it was not overwritten: residuals use H x + δx. */
  private ref: Matrix | null = null;
  /** After an in-place Cholesky: A's diagonal (its strict upper triangle is intact). */
  private diag: Float64Array | null = null;

  private constructor(report: ExactCurvatureReport) {
    this.report = report;
  }

  /**
   * Builds the solver for (H + δI) from the dense symmetric H (lower triangle read). Without
   * `overwrite`, H is left as it was and one n x n copy is factored.
   */
  static create(h: Matrix, opts: ExactSolverOptions = {}): ExactHessianSolver {
    if (h.rows !== h.cols) throw new Error(`exact solver: the Hessian must be square, got ${h.rows}x${h.cols}`);
    const n = h.rows;
    const damping = opts.damping ?? 0;
    if (!(damping >= 0) || !Number.isFinite(damping)) throw new Error(`exact solver: damping must be a finite number >= 0, got ${damping}`);
    const method = opts.method ?? 'auto';
    const rtol = opts.pinvRtol ?? n * EPS;
    const eigenMaxN = opts.eigenMaxN ?? 3000;
    const lanczosSteps = Math.min(n, opts.lanczosSteps ?? 40);
    const notes: string[] = [];
    const report: ExactCurvatureReport = {
      method: 'cholesky', pseudoInverse: false, notes, n, damping,
      lambdaMin: NaN, lambdaMax: NaN, absLambdaMin: NaN, conditionNumber: NaN, spectrumSource: 'none',
      negativeEigenvalues: null, inertia: null, droppedEigenvalues: null, rcond1: null, factorMs: 0, spectrumMs: 0,
    };
    const solver = new ExactHessianSolver(report);
    const bad = firstNonFiniteLower(h);
    if (bad !== null) {
      throw new SolverFailure(`exact solver: the Hessian's entry (${bad.i}, ${bad.j}) is ${bad.value} (of ${n}x${n}); nothing can be solved with it`);
    }
    const consume = opts.overwrite ?? false;
    if (!consume) solver.ref = h;

    // A = H + δI, exactly symmetric (lower triangle mirrored). Every factorisation below works in place on A.
    const A = consume ? h : h.clone();
    /** A still holds H + δI and belongs to no factor. */
    let aFree = true;
    try {
      linalgWasm().symmetrize(n, A.ptr, n, 1);
      if (damping !== 0) {
        const d = A.data;
        for (let i = 0; i < n; i++) d[i * n + i]! += damping;
      }

      // Spectrum first: it also tells whether Cholesky can succeed.
      let spectrumMode = opts.spectrum ?? 'auto';
      if (spectrumMode === 'auto') spectrumMode = n <= 1000 ? 'full' : 'lanczos';
      if (method === 'eigen' && spectrumMode === 'full') spectrumMode = 'none'; // computed by the eigen path
      let values: Float64Array | null = null;
      let ritz: { min: number; max: number } | null = null;
      const ts = performance.now();
      if (spectrumMode === 'full') values = eigh(A, { vectors: false }).values;
      else if (spectrumMode === 'lanczos') {
        const e = extremeEigenvalues(denseOperator(A), { steps: lanczosSteps });
        ritz = { min: e.min, max: e.max };
      }
      report.spectrumMs = performance.now() - ts;

      const tf = performance.now();
      const eigenPath = (): void => {
        const r = eigh(A, { vectors: true, overwrite: true });
        aFree = false;
        const st = spectrumStats(r.values);
        const keep = new Uint8Array(n);
        let dropped = 0;
        for (let i = 0; i < n; i++) {
          if (st.absMax > 0 && Math.abs(r.values[i]!) > rtol * st.absMax) keep[i] = 1;
          else dropped++;
        }
        solver.eig = { values: r.values, vectors: r.vectors!, keep };
        values = r.values;
        report.method = 'eigen';
        report.pseudoInverse = dropped > 0;
        report.droppedEigenvalues = dropped;
        if (dropped > 0) notes.push(`eigen pseudo-inverse: ${dropped} eigenvalue(s) with |λ| <= ${rtol.toExponential(2)}·max|λ| treated as 0`);
      };
      /** Cholesky in place; on failure A is restored by Cholesky.factor. */
      const tryCholesky = (): NotPositiveDefiniteError | null => {
        const d = A.data;
        const diag = new Float64Array(n);
        for (let i = 0; i < n; i++) diag[i] = d[i * n + i]!;
        try {
          solver.chol = Cholesky.factor(A, { overwrite: true });
        } catch (e) {
          if (!(e instanceof NotPositiveDefiniteError)) throw e;
          notes.push(`Cholesky failed: the leading minor of order ${e.minor} (of ${n}) is not positive definite`);
          return e;
        }
        aFree = false;
        solver.diag = diag;
        report.method = 'cholesky';
        report.rcond1 = solver.chol.rcond();
        report.inertia = { positive: n, negative: 0, zero: 0 };
        report.negativeEigenvalues = 0;
        return null;
      };
      /**
       * A pivoted factorisation of A (in place, or of a copy when A must survive for the eigen
       * fallback), shared by LU and LDLᵀ. Returns false when singular (strict: throws instead).
       */
      const tryPivoted = <F extends { singular: boolean; zeroPivot: number; rcond(): number; free(): void }>(
        label: string, factor: (overwrite: boolean) => F, strict: boolean, keepA: boolean, accept: (f: F) => void,
      ): boolean => {
        const f = factor(!keepA);
        if (!keepA) aFree = false;
        const rc = f.rcond();
        const singular = f.singular || rc < (opts.singularRcond ?? EPS);
        if (singular) {
          const why = f.singular ? `an exactly zero pivot at step ${f.zeroPivot}` : `rcond₁ ≈ ${rc.toExponential(2)}`;
          if (!strict || f.singular) {
            notes.push(`${label}: singular to working precision (${why})`);
            f.free();
            if (strict) throw new SingularMatrixError(f.zeroPivot, n);
            return false;
          }
          notes.push(`${label}: nearly singular (${why}); the solution is unreliable`);
        }
        accept(f);
        report.rcond1 = rc;
        return true;
      };
      const tryLu = (strict: boolean, keepA: boolean): boolean =>
        tryPivoted('LU', (overwrite) => LU.factor(A, { overwrite }), strict, keepA, (f) => {
          solver.luf = f;
          report.method = 'lu';
        });
      const tryLdlt = (strict: boolean, keepA: boolean): boolean =>
        tryPivoted('LDLᵀ', (overwrite) => LDLT.factor(A, { overwrite }), strict, keepA, (f) => {
          solver.ldl = f;
          report.method = 'ldlt';
          report.inertia = { ...f.inertia };
          report.negativeEigenvalues = f.inertia.negative;
        });

      if (method === 'eigen') eigenPath();
      else if (method === 'cholesky') {
        const err = tryCholesky();
        if (err) throw err;
      } else if (method === 'lu') tryLu(true, false);
      else if (method === 'ldlt') tryLdlt(true, false);
      else {
        const vals = values as Float64Array | null;
        const st = vals ? spectrumStats(vals) : null;
        let done = false;
        if (st && st.absMin <= rtol * st.absMax) {
          notes.push(`singular to working precision: smallest |λ| = ${st.absMin.toExponential(3)}`);
        } else {
          const lm = st ? st.min : ritz ? ritz.min : NaN;
          if (Number.isNaN(lm)) {
            // No spectrum: LDLᵀ right away. It reports the inertia and solves a positive definite matrix
            // as well; a Cholesky attempt that fails (a trained network's Hessian is almost always
            // indefinite, often only in its last minors) would cost up to a whole factorisation first.
            notes.push('no spectrum: LDLᵀ directly (it reports the inertia), no Cholesky attempt');
          } else if (lm <= 0) {
            notes.push(`indefinite (${st ? 'smallest eigenvalue' : 'a Ritz value'} ${lm.toExponential(3)} <= 0): Cholesky skipped`);
          } else done = tryCholesky() === null;
          if (!done) {
            const canEigen = n <= eigenMaxN;
            done = tryLdlt(false, canEigen);
            if (done && canEigen && aFree) {
              // LU worked on a copy; A is no longer needed.
              if (!consume) A.free();
              aFree = false;
            }
          }
        }
        if (!done) {
          if (n > eigenMaxN) {
            throw new SolverFailure(
              `exact solver: the ${n}x${n} matrix is singular to working precision and n exceeds eigenMaxN (${eigenMaxN}) ` +
                `for the eigen pseudo-inverse; pass damping > 0 or raise eigenMaxN (${notes.join('; ')})`,
            );
          }
          eigenPath();
        }
      }
      report.factorMs = performance.now() - tf;

      const ts2 = performance.now();
      if (values) {
        const st = spectrumStats(values);
        report.lambdaMin = st.min;
        report.lambdaMax = st.max;
        report.absLambdaMin = st.absMin;
        report.negativeEigenvalues = st.negatives;
        report.inertia = { positive: values.filter((v) => v > 0).length, negative: st.negatives, zero: values.filter((v) => v === 0).length };
        report.conditionNumber = st.absMin === 0 ? Infinity : st.absMax / st.absMin;
        report.spectrumSource = 'eigenvalues';
      } else if (ritz) {
        report.lambdaMin = ritz.min;
        report.lambdaMax = ritz.max;
        // Smallest |λ| = 1 / largest |μ| of A⁻¹: Lanczos on the solve.
        const inv = extremeEigenvalues({ n, apply: (x) => solver.solveRaw(x) }, { steps: lanczosSteps, seed: 1 });
        const muMax = Math.max(Math.abs(inv.min), Math.abs(inv.max));
        report.absLambdaMin = muMax > 0 ? 1 / muMax : Infinity;
        report.conditionNumber = Math.max(Math.abs(ritz.min), Math.abs(ritz.max)) * muMax;
        report.spectrumSource = 'lanczos';
        notes.push(`spectrum from ${lanczosSteps} Lanczos steps on H + δI and on its inverse (estimates: inner bounds of the extremes)`);
      }
      report.spectrumMs += performance.now() - ts2;
    } catch (e) {
      solver.free();
      if (aFree && !consume) A.free();
      throw e;
    }
    if (aFree && !consume) A.free();
    return solver;
  }

  /** x = (H + δI)⁻¹ b (or the pseudo-inverse), without the residual. */
  private solveRaw(b: Float64Array): Float64Array {
    if (this.chol) return this.chol.solve(b);
    if (this.luf) return this.luf.solve(b);
    if (this.ldl) return this.ldl.solve(b);
    const e = this.eig;
    if (!e) throw new Error('exact solver: used after free()');
    const n = e.values.length;
    return withScratch([n, n], (bs, ys) => {
      const w = linalgWasm();
      bs.view.set(b);
      w.dgemv(1, n, n, e.vectors.ptr, n, bs.ptr, ys.ptr, 0); // y = Vᵀ b
      const y = ys.view;
      for (let i = 0; i < n; i++) y[i] = e.keep[i] ? y[i]! / e.values[i]! : 0;
      w.dgemv(0, n, n, e.vectors.ptr, n, ys.ptr, bs.ptr, 0); // x = V y
      return bs.view.slice();
    });
  }

  /** (H + δI) x from the caller's intact H, or from an in-place Cholesky's upper triangle; null if neither is left. */
  private apply(x: Float64Array): Float64Array | null {
    const n = this.report.n;
    const w = linalgWasm();
    if (this.ref && !this.ref.freed) {
      const ref = this.ref;
      const damping = this.report.damping;
      return withScratch([n, n], (xs, ys) => {
        xs.view.set(x);
        // H is symmetric here (exactHessian symmetrises it); its full rows give H x.
        w.dgemv(0, n, n, ref.ptr, n, xs.ptr, ys.ptr, 0);
        const y = ys.view.slice();
        if (damping !== 0) for (let i = 0; i < n; i++) y[i]! += damping * x[i]!;
        return y;
      });
    }
    if (this.chol && this.diag) {
      const diag = this.diag;
      const l = this.chol.factor;
      return withScratch([n, n, n], (ds, xs, ys) => {
        ds.view.set(diag);
        xs.view.set(x);
        w.symvUpper(n, l.ptr, n, ds.ptr, xs.ptr, ys.ptr);
        return ys.view.slice();
      });
    }
    return null;
  }

  /** Solves (H + δI) x = b and measures the relative residual ||(H + δI) x - b|| / ||b||. */
  solve(b: ArrayLike<number>): ExactSolveResult {
    const n = this.report.n;
    if (b.length !== n) throw new Error(`exact solver: right-hand side has length ${b.length}, expected ${n}`);
    const t = performance.now();
    const bb = Float64Array.from(b);
    const x = this.solveRaw(bb);
    const ms = performance.now() - t;
    const ax = this.apply(x);
    let residual = NaN;
    if (ax) {
      for (let i = 0; i < n; i++) ax[i] = ax[i]! - bb[i]!;
      const nb = norm2(bb);
      residual = nb === 0 ? norm2(ax) : norm2(ax) / nb;
    }
    return { x, residual, ms };
  }

  /** Frees the factorisation (not the caller's H). */
  free(): void {
    this.chol?.free();
    this.luf?.free();
    this.ldl?.free();
    this.eig?.vectors.free();
    this.chol = null;
    this.luf = null;
    this.ldl = null;
    this.eig = null;
    this.ref = null;
  }
}

export interface ExactInverseHvpOptions extends ExactSolverOptions, HessianOptions {
  /** Return the assembled Hessian in `hessian` (otherwise it is freed). */
  keepHessian?: boolean;
}

export interface ExactInverseHvpResult extends InverseHvpResult {
  report: ExactCurvatureReport;
  /** ||(H + δI) x - v|| / ||v||. */
  residual: number;
  /** Milliseconds to assemble H. */
  hessianMs: number;
  /** The Hessian (with keepHessian). */
  hessian?: HessianResult;
}

/**
 * Exact H⁻¹v (or (H + δI)⁻¹v) for f at w: assembles the dense Hessian from n reverse-over-reverse
 * passes (exactHessian), factors it per the policy of ExactSolverOptions, solves, and reports which
 * method was used together with the extreme eigenvalues and the condition number. Same result
 * shape as neumannInverseHvp / cgInverseHvp (hvps = n, residuals = [relative residual]).
 */
export function exactInverseHvp(
  f: (w: Tensor[]) => Tensor,
  w: readonly Tensor[],
  v: VectorList,
  opts: ExactInverseHvpOptions = {},
): ExactInverseHvpResult {
  if (v.length !== w.length) throw new Error(`exactInverseHvp: ${w.length} parameter tensors but ${v.length} vector tensors`);
  return solveAssembled(exactHessian(f, w, opts), v, opts);
}

/** Solves with an assembled Hessian and packages the result like the iterative solvers. */
function solveAssembled(H: HessianResult, v: VectorList, opts: ExactInverseHvpOptions): ExactInverseHvpResult {
  const solver = ExactHessianSolver.create(H.matrix, { ...opts, overwrite: opts.keepHessian ? false : opts.overwrite ?? false });
  try {
    const r = solver.solve(flattenTensors(v));
    const rep = solver.report;
    const spectrum =
      rep.spectrumSource === 'none'
        ? rep.inertia
          ? `inertia (+${rep.inertia.positive}, -${rep.inertia.negative}, 0:${rep.inertia.zero})`
          : 'spectrum not computed'
        : `λ ∈ [${rep.lambdaMin.toExponential(3)}, ${rep.lambdaMax.toExponential(3)}], cond ${rep.conditionNumber.toExponential(3)}`;
    const note = `exact (${rep.method}${rep.pseudoInverse ? ', pseudo-inverse' : ''}${rep.damping ? `, damping ${rep.damping}` : ''}), n = ${rep.n}, ${spectrum}`;
    return {
      x: unflattenLike(r.x, v),
      hvps: H.n,
      residuals: Number.isNaN(r.residual) ? [] : [r.residual],
      note,
      report: rep,
      residual: r.residual,
      hessianMs: H.ms,
      ...(opts.keepHessian ? { hessian: H } : {}),
    };
  } finally {
    solver.free();
    if (!opts.keepHessian && !H.matrix.freed) H.matrix.free();
  }
}

/**
 * Exact H⁻¹v from an HVP operator alone (e.g. secondOrderOperator(...).hvp, which reuses one
 * gradient graph): H is assembled from n products with the basis vectors, then solved as in
 * exactInverseHvp. This is the solver registered for the 'exact' hypergradient method.
 */
export function exactInverseHvpFromOperator(hvp: LinearOperator, v: VectorList, opts: ExactInverseHvpOptions = {}): ExactInverseHvpResult {
  return solveAssembled(hessianFromOperator(hvp, v, opts), v, opts);
}
