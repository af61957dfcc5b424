// The implicit hypergradient dL_V/dλ = ∂L_V/∂λ - (H⁻¹ ∂L_V/∂w)ᵀ ∂²L_T/∂w∂λ, with any inverse-HVP method.

import { keep } from '../core/scope.js';
import { secondOrderOperator, valueAndGradOrNull } from '../autodiff/transforms.js';
import { zerosLike } from '../core/creation.js';
import { add } from '../core/ops.js';
import { disposeReplaced, noGrad, type Tensor } from '../core/tensor.js';
import { cgInverseHvp, identityInverseHvp, neumannInverseHvp, NonFiniteError, type InverseHvpResult, type LinearOperator } from './inverse-hvp.js';
import { subtractMixedTerms, type ClosedFormPenalty } from './meta-knowledge.js';
import { methodLabel, type HypergradMethod } from './methods.js';
import { topEigenvalue } from './power-iteration.js';
import { readScalars, vaxpy, vcosine, vnorm, vsub, type VectorList } from './vector-list.js';

export type LossFn = (w: Tensor[], lam: Tensor[]) => Tensor;

/** Exact H⁻¹b from a dense solve; supplied by the linear-algebra module (kept pluggable). */
export type ExactSolver = (hvp: LinearOperator, b: VectorList, damping: number) => InverseHvpResult | Promise<InverseHvpResult>;

let exactSolver: ExactSolver | null = null;

export function registerExactSolver(solver: ExactSolver): void {
  exactSolver = solver;
}

export interface HypergradientResult {
  /** dL_V/dλ (one tensor per λ tensor). */
  hypergrad: Tensor[];
  valLoss: number;
  /** L_T at (w, λ): its data part alone when the penalty was given in closed form. NaN when it was not asked for (options.trainLoss false) and no method here needed it. */
  trainLoss: number;
  /** H⁻¹ ∂L_V/∂w as approximated. */
  ihvp: InverseHvpResult;
  /** ∂L_V/∂w */
  valGrad: Tensor[];
  /** total excludes the time spent on requested comparisons (comparison). */
  seconds: { total: number; approximation: number; comparison: number };
  /** Bytes of tensor storage allocated while approximating H⁻¹v (an upper bound on its extra peak memory). */
  approximationBytes: number;
  hypergradNorm: number;
  /** Approximations against a reference inverse-HVP (e.g. the exact one) at the same point, when requested. */
  comparisons?: InverseHvpComparison[];
}

export interface HypergradientOptions {
  /**
   * Report L_T's value (default true). It comes free with the Hessian operator's recorded graph; the identity-based
   * methods with a closed-form penalty record none, and then it costs a forward pass over the training batch that
   * enters nothing else (T1-T2 pays it at every inner step). False: trainLoss is NaN in that case.
   */
  trainLoss?: boolean;
}

/** What to compare at a meta-step: every listed approximation against the reference, at the same (w, λ). */
export interface ComparisonRequest {
  reference: HypergradMethod;
  methods: HypergradMethod[];
}

export interface InverseHvpComparison {
  /** The approximation compared (its label). */
  method: string;
  reference: string;
  cosine: number;
  relativeError: number;
  norm: number;
  referenceNorm: number;
  referenceSeconds: number;
  referenceNote: string;
}

/** State carried between meta-steps by methods that warm-start (CG init, power-iteration vector). */
export interface MethodState {
  previousSolution?: VectorList;
  eigenvector?: VectorList;
  topEigenvalue?: number;
}

/** Carried state for the next meta-step: the new vectors kept, the ones they replace freed (the method owns them). */
function replaceState(old: VectorList | undefined, next: VectorList): VectorList {
  const kept = next.map((t) => keep(t));
  disposeReplaced(old, kept);
  return kept;
}

export async function solveInverseHvp(method: HypergradMethod, hvp: LinearOperator, b: VectorList, state: MethodState = {}): Promise<InverseHvpResult> {
  switch (method.kind) {
    case 'neumann':
      return neumannInverseHvp(hvp, b, { alpha: method.alpha, steps: method.steps });
    case 'damped-neumann': {
      // Scale by the top eigenvalue so that ||I - α(H + δI)|| < 1 on the positive part of the spectrum.
      const top = await topEigenvalue(hvp, b, { iterations: method.powerIterations, init: state.eigenvector });
      state.eigenvector = replaceState(state.eigenvector, top.vector);
      state.topEigenvalue = top.value;
      const lmax = Math.abs(top.value) + method.damping;
      const alpha = 1 / lmax;
      const damped: LinearOperator = (v) => (method.damping === 0 ? hvp(v) : vaxpy(hvp(v), method.damping, v));
      const r = await neumannInverseHvp(damped, b, { alpha, steps: method.steps });
      return { ...r, hvps: r.hvps + top.hvps, note: `${r.note}; α = 1/(|λ_max| + δ) with λ_max ≈ ${top.value.toPrecision(4)}` };
    }
    case 'cg': {
      const r = await cgInverseHvp(hvp, b, { steps: method.steps, ridge: method.ridge, init: method.warmStart ? state.previousSolution : undefined });
      state.previousSolution = replaceState(state.previousSolution, r.x);
      return r;
    }
    case 'identity':
    case 't1t2':
      return identityInverseHvp(b);
    case 'exact':
      if (exactSolver === null) throw new Error('exact hypergradient: no dense solver registered (import src/linalg)');
      return exactSolver(hvp, b, method.damping);
    case 'baseline':
      throw new Error('baseline has no hypergradient');
    default:
      // From callers without types (a method object built by hand): name it rather than fail on an undefined result.
      throw new Error(`hypergradient: unknown method kind ${JSON.stringify((method as { kind: unknown }).kind)} (expected neumann, damped-neumann, cg, identity, t1t2 or exact; parseMethod builds one from 'neumann:3' etc.)`);
  }
}

/**
 * One hypergradient at (w, λ). trainLoss and valLoss are closures over their data batches.
 * The Neumann/CG operator reuses one recorded gradient graph for all its HVPs. With `penalty`
 * (closed-form curvature of the regulariser), trainLoss is the data loss alone and must not depend on
 * λ: the operator is H_data v + H_P v and the mixed term comes from the penalty only.
 */
export async function hypergradient(
  trainLoss: LossFn,
  valLoss: LossFn,
  w: Tensor[],
  lam: Tensor[],
  method: HypergradMethod,
  state: MethodState = {},
  compare?: ComparisonRequest,
  penalty?: ClosedFormPenalty,
  options: HypergradientOptions = {},
): Promise<HypergradientResult> {
  const t0 = performance.now();
  if (w.length === 0) throw new Error('hypergradient: w (the inner parameters) is empty');
  if (lam.length === 0) throw new Error('hypergradient: lam (the meta-parameters) is empty');
  const nw = w.length;
  // A validation loss that does not depend on λ (the usual case) has no direct term: null, not a zero tensor.
  const val = valueAndGradOrNull((xs) => valLoss(xs.slice(0, nw), xs.slice(nw)))([...w, ...lam]);
  const valGrad = val.grads.slice(0, nw).map((g, i) => g ?? zerosLike(w[i]!));
  const direct = val.grads.slice(nw);
  // With a closed-form penalty, trainLoss is the data loss only and the penalty's curvature is added here. Then the
  // identity-based methods (identity, T1-T2) never multiply by the Hessian: without a comparison they need L_T's
  // value only, and the gradient graph the operator records (a backward pass with its graph kept) is skipped.
  const valueOnly = penalty !== undefined && compare === undefined && (method.kind === 'identity' || method.kind === 't1t2');
  let recorded: ReturnType<typeof secondOrderOperator> | null = valueOnly ? null : secondOrderOperator(trainLoss, w, lam);
  const data = (): ReturnType<typeof secondOrderOperator> => (recorded ??= secondOrderOperator(trainLoss, w, lam));
  const op = penalty
    ? {
        value: recorded ? recorded.value : options.trainLoss === false ? null : noGrad(() => trainLoss(w, lam)),
        hvp: (v: VectorList): VectorList => {
          const hd = data().hvp(v);
          const hp = penalty.hvp(v);
          return noGrad(() => hd.map((h, i) => add(h, hp[i])));
        },
        mixed: (x: VectorList): VectorList => penalty.mixed(x),
      }
    : data();
  const backend = valGrad[0]?.backend;
  const b1 = backend?.allocatedBytes?.() ?? 0;
  const t1 = performance.now();
  const ihvp = await solveInverseHvp(method, op.hvp, valGrad, state);
  const t2 = performance.now();
  const approximationBytes = (backend?.allocatedBytes?.() ?? 0) - b1;
  // ∂L_V/∂λ − mixed term: fused by the penalty where it can be (one pass over each λ on the CPU heap).
  const hypergrad = penalty?.subtractMixed
    ? penalty.subtractMixed(direct, ihvp.x)
    : subtractMixedTerms(direct, op.mixed(ihvp.x));
  // Reading the losses and the norm waits for the device, so the total includes the pending work.
  const [valLoss0, trainLoss0] = op.value ? await readScalars([val.value, op.value]) : [...(await readScalars([val.value])), NaN];
  const hypergradNorm = await vnorm(hypergrad);
  const total = (performance.now() - t0) / 1000;
  const c0 = performance.now();
  const comparisons = compare ? await compareInverseHvps(op.hvp, valGrad, compare) : undefined;
  const comparisonSeconds = (performance.now() - c0) / 1000;
  return {
    comparisons,
    approximationBytes,
    hypergrad,
    valLoss: valLoss0,
    trainLoss: trainLoss0,
    ihvp,
    valGrad,
    seconds: { total, approximation: (t2 - t1) / 1000, comparison: comparisonSeconds },
    hypergradNorm,
  };
}

/**
 * Solves with the reference method once and with each approximation, all at the same operator,
 * and reports cosine similarity and relative error of every approximation to the reference.
 */
export async function compareInverseHvps(hvp: LinearOperator, b: VectorList, req: ComparisonRequest): Promise<InverseHvpComparison[]> {
  const c0 = performance.now();
  const ref = await solveInverseHvp(req.reference, hvp, b, {});
  const referenceSeconds = (performance.now() - c0) / 1000;
  const referenceNorm = await vnorm(ref.x);
  const out: InverseHvpComparison[] = [];
  for (const m of req.methods) {
    let x: VectorList;
    try {
      x = (await solveInverseHvp(m, hvp, b, {})).x;
    } catch (e) {
      if (!(e instanceof NonFiniteError)) throw e;
      // A diverging approximation (e.g. Neumann with a non-contracting α) is a result, not a crash.
      out.push({
        method: methodLabel(m), reference: methodLabel(req.reference), cosine: NaN, relativeError: Infinity, norm: Infinity,
        referenceNorm, referenceSeconds, referenceNote: `${ref.note}; ${e.message}`,
      });
      continue;
    }
    out.push({
      method: methodLabel(m),
      reference: methodLabel(req.reference),
      cosine: await vcosine(x, ref.x),
      relativeError: referenceNorm === 0 ? NaN : (await vnorm(vsub(x, ref.x))) / referenceNorm,
      norm: await vnorm(x),
      referenceNorm,
      referenceSeconds,
      referenceNote: ref.note,
    });
  }
  return out;
}
