// Approximate inverse-Hessian-vector products H⁻¹v from HVPs only: Neumann series, conjugate gradient, identity.

import { tidy } from '../core/scope.js';
import type { Tensor } from '../core/tensor.js';
import { vaxpy, vdot, vnorm, vscale, vsub, vzerosLike, type VectorList } from './vector-list.js';

/*
 * Memory: each iteration's operator application runs in a tidy scope, and iterates the solver made are disposed as
 * soon as nothing refers to them, so a solve holds a few vector lists at a time however many steps it takes (the
 * CPU heap and the WebGPU pool reuse them); the caller's vectors (v, b, a warm start) are never disposed.
 */

/** Disposes the tensors of `lists` that are not in any of `keep` (an operator may hand back tensors of its input). */
function release(lists: VectorList[], keep: VectorList[]): void {
  const kept = new Set(keep.flat());
  for (const t of new Set(lists.flat())) if (!kept.has(t)) t.dispose();
}

/** v ↦ H v (any symmetric linear operator on vector lists). */
export type LinearOperator = (v: VectorList) => VectorList;

export interface InverseHvpResult {
  x: VectorList;
  /** Operator applications used. */
  hvps: number;
  /** ||b - A x_i|| / ||b|| after each iteration (CG), or of the Neumann partial sums when tracked. */
  residuals: number[];
  /** A solver-specific note: which iterate was returned, negative curvature met, divergence. */
  note: string;
  /**
   * CG only: which iterate x was returned: `returned` of `iterations` run (0 = x₀), its relative residual,
   * and which it is: 'best' (the smallest-residual iterate, kept by keepBest, is an earlier one than the last) or
   * 'last' (the last iterate: it had the smallest residual, keepBest is off, or no iterate beat x₀ = 0).
   */
  iterate?: { returned: number; iterations: number; residual: number; choice: 'best' | 'last' };
}

export class NonFiniteError extends Error {
  constructor(readonly method: string, readonly iteration: number) {
    super(`${method}: non-finite values at iteration ${iteration} (float32 under/overflow or a diverging series)`);
  }
}

/**
 * An inverse-HVP method that cannot give a solution at this point (the exact solver on a Hessian singular to working
 * precision, too large for the pseudo-inverse). A bilevel run records it as its end, like a divergence, with the step.
 */
export class SolverFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SolverFailure';
  }
}

function checkFinite(method: string, it: number, ...xs: number[]): void {
  if (xs.some((x) => !Number.isFinite(x))) throw new NonFiniteError(method, it);
}

/** Whether a solver's note says its series diverged (neumannInverseHvp's 'diverging: …'): what reports flag. */
export function isDivergingNote(note: string | undefined): boolean {
  return note?.includes('; diverging: ') ?? false;
}

/**
 * Neumann series (Lorraine et al.; thesis Algorithm 2 with the sign fixed):
 * H⁻¹v ≈ α Σ_{j=0..k} (I - αH)^j v, using k HVPs. Converges when ||I - αH|| < 1.
 */
export async function neumannInverseHvp(hvp: LinearOperator, v: VectorList, opts: { alpha: number; steps: number }): Promise<InverseHvpResult> {
  const { alpha, steps } = opts;
  if (!(alpha > 0)) throw new Error(`neumann: alpha must be positive, got ${alpha}`);
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`neumann: steps must be a non-negative integer, got ${steps}`);
  let cur = v;
  let p = v;
  const first = steps > 0 ? await vnorm(v) : 0;
  let last = first;
  for (let j = 1; j <= steps; j++) {
    const [c, q] = tidy(() => {
      const c = vaxpy(cur, -alpha, hvp(cur)); // cur ← (I - αH) cur
      return [c, vaxpy(p, 1, c)]; // p ← p + cur
    });
    release([cur, p], [v, c, q]);
    cur = c;
    p = q;
    last = await vnorm(cur);
    checkFinite('neumann', j, last);
  }
  const x = vscale(p, alpha);
  release([cur, p], [v, x]);
  // A converging series has shrinking terms; a last term larger than v means |1 - αλ| > 1 for some eigenvalue λ of H
  // (λ < 0, or αλ > 2), and the sum grows without bound as terms are added. Said in the note (kept in the metrics).
  const growth = first > 0 ? last / first : 0;
  const grew = growth > 1 ? `; diverging: ||(I - αH)^${steps} v|| = ${growth.toExponential(2)}·||v|| (|1 - αλ| > 1 for an eigenvalue λ of H: λ < 0 or αλ > 2)` : '';
  return { x, hvps: steps, residuals: [], note: `alpha ${alpha}, ${steps} terms${grew}` };
}

export interface CgOptions {
  steps: number;
  /** Damping: solve (H + ridge·I) x = b. */
  ridge?: number;
  /** Warm start x₀ (default 0). */
  init?: VectorList;
  /** Return the iterate with the smallest residual instead of the last (default true). */
  keepBest?: boolean;
  /** Stop early when ||r|| / ||b|| falls below this. */
  tol?: number;
}

/**
 * Conjugate gradient on (H + ridge I) x = b. On an indefinite H, CG is not monotone: the iterate
 * with the smallest residual is kept (keepBest) and negative curvature pᵀAp ≤ 0 is reported.
 */
export async function cgInverseHvp(hvp: LinearOperator, b: VectorList, opts: CgOptions): Promise<InverseHvpResult> {
  const ridge = opts.ridge ?? 0;
  const keepBest = opts.keepBest ?? true;
  if (!Number.isInteger(opts.steps) || opts.steps < 0) throw new Error(`cg: steps must be a non-negative integer, got ${opts.steps}`);
  const A = (v: VectorList): VectorList => tidy(() => (ridge === 0 ? hvp(v) : vaxpy(hvp(v), ridge, v)));
  const bnorm = await vnorm(b);
  let hvps = 0;
  // Lists this solve made (the caller's b and init are never disposed); `drop` disposes one once x, r, p and the
  // best iterate no longer refer to it.
  const made = new Set<VectorList>();
  const own = (l: VectorList): VectorList => (made.add(l), l);
  let x = opts.init ?? own(vzerosLike(b));
  let r = b;
  if (opts.init) {
    const Ax = A(x);
    r = own(vsub(b, Ax));
    release([Ax], [x, b, r]);
    hvps++;
  }
  if (bnorm === 0) {
    if (made.has(x)) release([x], [b]);
    return { x: vzerosLike(b), hvps, residuals: [0], note: 'b = 0', iterate: { returned: 0, iterations: 0, residual: 0, choice: 'last' } };
  }
  let p = r;
  let rr = await vdot(r, r);
  const residuals: number[] = [];
  let best = { x, res: Math.sqrt(rr) / bnorm, it: 0 };
  let negative = -1;
  const drop = (...lists: VectorList[]): void => {
    for (const l of new Set(lists)) {
      if (made.has(l) && l !== x && l !== r && l !== p && l !== best.x) {
        made.delete(l);
        release([l], [x, r, p, best.x, b, ...(opts.init ? [opts.init] : [])]);
      }
    }
  };
  for (let i = 1; i <= opts.steps; i++) {
    if (opts.tol !== undefined && Math.sqrt(rr) / bnorm <= opts.tol) break;
    const Ap = A(p);
    hvps++;
    const pAp = await vdot(p, Ap);
    checkFinite('cg', i, pAp, rr);
    if (pAp <= 0 && negative < 0) negative = i;
    if (pAp === 0) {
      release([Ap], [p, x, r, b]);
      break;
    }
    const a = rr / pAp;
    const [x0, r0] = [x, r];
    x = own(vaxpy(x, a, p));
    r = own(vaxpy(r, -a, Ap));
    release([Ap], [p, x, r, x0, r0, b]);
    const rrNew = await vdot(r, r);
    checkFinite('cg', i, rrNew);
    residuals.push(Math.sqrt(rrNew) / bnorm);
    const bestBefore = best.x;
    if (Math.sqrt(rrNew) / bnorm < best.res) best = { x, res: Math.sqrt(rrNew) / bnorm, it: i };
    const p0 = p;
    p = own(vaxpy(r, rrNew / rr, p));
    rr = rrNew;
    drop(x0, r0, p0, bestBefore);
  }
  const chosen = keepBest ? best : { x, res: residuals.at(-1) ?? 1, it: residuals.length };
  // x₀ = 0 as the best iterate is never handed back: the last one is, and said so (below).
  const fallBack = keepBest && chosen.it === 0 && !opts.init;
  // Everything the solve made except the one list it returns (a best iterate before the last frees the last).
  const returned = fallBack ? x : chosen.x;
  release([...made].filter((l) => l !== returned), [returned, b, ...(opts.init ? [opts.init] : [])]);
  let note = `${residuals.length} iterations, returned iterate ${chosen.it} (relative residual ${chosen.res.toExponential(3)})`;
  if (negative > 0) note += `; negative curvature pᵀ(H+ridge)p ≤ 0 at iteration ${negative}`;
  if (fallBack) {
    // Never hand back a silent zero: fall back to the last iterate and say so.
    const last = { returned: residuals.length, iterations: residuals.length, residual: residuals.at(-1) ?? 1, choice: 'last' as const };
    return { x, hvps, residuals, note: `${note}; no iterate improved on x₀ = 0, returning the last one`, iterate: last };
  }
  const choice = keepBest && chosen.it !== residuals.length ? 'best' : 'last';
  return { x: chosen.x, hvps, residuals, note, iterate: { returned: chosen.it, iterations: residuals.length, residual: chosen.res, choice } };
}

/** IFT-Identity: H⁻¹v ≈ v. */
export function identityInverseHvp(v: VectorList): InverseHvpResult {
  return { x: v, hvps: 0, residuals: [], note: 'identity' };
}

export type { Tensor };
