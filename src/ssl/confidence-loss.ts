// The Confidence Network's bilevel objectives: the weighted FixMatch inner loss L_T(θ, ω) (one definition for inner steps and meta-steps) and the outer loss L_V(θ), CE on a labelled validation batch.

import { oneHot, tensor } from '../core/creation.js';
import { add, mul, slice, sum } from '../core/ops.js';
import { noGrad, type Tensor } from '../core/tensor.js';
import type { LossFn } from '../hypergrad/hypergradient.js';
import { functionalCall, type Module } from '../nn/module.js';
import { crossEntropy, crossEntropyPerSample, weightedMean } from '../ops/losses.js';
import { confidenceWeights, type ConfidenceNet } from './confidence-net.js';
import type { FixMatchLossParts, FixMatchTargets } from './fixmatch-loss.js';
import { pseudoLabelledGradient, type FixMatchGradient, type FixMatchInputs } from './fixmatch-step.js';
import { pseudoLabels } from './pseudo-labels.js';
import type { SampleWeightTable } from './sample-weight-table.js';
import { decays } from './weight-decay.js';
import { DEFAULT_WEIGHT_NORMALISATION, normaliseWeights, type WeightNormalisation } from './weight-normalisation.js';

/** Raw (unnormalised, positive) weights [μB] of the batch's unlabelled images as a function of ω. */
export type UnlabelledWeighting = (omega: readonly Tensor[]) => Tensor;

/** The Confidence Network on the batch's weak views α(u) ([μB, C, H, W]; the thesis feeds C weak views in training). */
export function networkWeighting(cn: ConfidenceNet, weakUnlabelled: Tensor): UnlabelledWeighting {
  return (omega) => confidenceWeights(cn, omega, weakUnlabelled);
}

/** The per-image table at the batch's pool indices. */
export function tableWeighting(table: SampleWeightTable, poolIndices: ArrayLike<number>): UnlabelledWeighting {
  return (omega) => table.weightsFor(omega, poolIndices);
}

export interface ConfidenceLossOptions {
  /** How the batch's weights are normalised (default DEFAULT_WEIGHT_NORMALISATION, 'none'). */
  normalisation?: WeightNormalisation;
  /**
   * L2 coefficient λ_wd of the term (λ_wd/2) Σ ||θ_k||² over the decayed tensors (rank >= 2, as
   * src/ssl/weight-decay.ts) inside L_T (default 0). Its gradient λ_wd θ_k is the decay FixMatch's SGD adds, so
   * with it L_T is the objective the inner steps actually minimise, and its curvature λ_wd I enters the Hessian.
   */
  weightDecay?: number;
}

export interface WeightedFixMatchParts extends FixMatchLossParts {
  /** The normalised weights W [μB] that multiplied the unlabelled losses. */
  weights: Tensor;
}

/**
 * With logits z [B + 2μB, C] (rows: labelled weak, unlabelled weak, unlabelled strong) and weights W [μB]:
 *   L = L_s + λ_u (1/μB) Σ_i W_i m_i CE(p_i, z_{B+μB+i}),   L_s = (1/B) Σ_b CE(y_b, z_b),
 * thesis eq. 5.2 with FixMatch's mean over the unlabelled batch (the thesis writes a sum). The mask m and the
 * pseudo-labels p are constants. Derivatives (from the primitives' rules): ∂L/∂z_{B+μB+i} = λ_u W_i m_i
 * (softmax(z_{B+μB+i}) - e_{p_i}) / μB and ∂L/∂W_i = λ_u m_i CE_i / μB, the latter carried into ω by W's graph.
 * With W ≡ 1 this is fixMatchLoss exactly.
 */
export function weightedFixMatchLoss(logits: Tensor, t: FixMatchTargets, weights: Tensor): WeightedFixMatchParts {
  if (logits.rank !== 2) throw new Error(`weightedFixMatchLoss: logits must be [N, C], got ${logits.describe()}`);
  const [n, classes] = logits.shape;
  const b = t.labels.length;
  const u = t.pseudo.length;
  if (u === 0) throw new Error('weightedFixMatchLoss: no unlabelled images (μB = 0); use fixMatchLoss for the supervised loss');
  if (t.mask.length !== u) throw new Error(`weightedFixMatchLoss: ${t.mask.length} mask values for ${u} pseudo-labels`);
  if (n !== b + 2 * u) throw new Error(`weightedFixMatchLoss: ${n} logit rows, expected B + 2 μB = ${b} + 2 x ${u}`);
  if (b === 0) throw new Error('weightedFixMatchLoss: the labelled batch is empty');
  if (weights.rank !== 1 || weights.shape[0] !== u) throw new Error(`weightedFixMatchLoss: weights must be [${u}] (one per unlabelled image), got ${weights.describe()}`);
  if (!Number.isFinite(t.lambdaU) || t.lambdaU < 0) throw new Error(`weightedFixMatchLoss: lambda_u must be a finite number >= 0, got ${t.lambdaU}`);
  const opts = { backend: logits.backend, dtype: logits.dtype };
  const supervised = crossEntropy(slice(logits, [0, 0], [b, classes]), oneHot(t.labels, classes, opts));
  const strong = slice(logits, [b + u, 0], [u, classes]);
  const perSample = crossEntropyPerSample(strong, oneHot(t.pseudo, classes, opts));
  const unsupervised = weightedMean(perSample, mul(weights, tensor(t.mask, [u], opts)));
  return { loss: add(supervised, mul(unsupervised, t.lambdaU)), supervised, unsupervised, weights };
}

/** (λ_wd/2) Σ ||θ_k||² over the decayed tensors; gradient λ_wd θ_k on them, Hessian λ_wd I there. */
function decayTerm(theta: readonly Tensor[], lambda: number): Tensor | null {
  if (lambda === 0) return null;
  let acc: Tensor | null = null;
  for (const w of theta) {
    if (!decays({ value: w })) continue;
    const term = mul(sum(mul(w, w)), lambda / 2);
    acc = acc === null ? term : add(acc, term);
  }
  return acc;
}

function checkDecay(where: string, lambda: number): void {
  if (!Number.isFinite(lambda) || lambda < 0) throw new Error(`${where}: weightDecay must be a finite number >= 0, got ${lambda}`);
}

/** A batch for the meta-objective: its images and the targets read from the weak view (constants). */
export interface ConfidenceBatch {
  /** [B + 2μB, C, H, W]: labelled weak, unlabelled weak α(u), unlabelled strong A(u). */
  x: Tensor;
  targets: FixMatchTargets;
}

/**
 * L_T(θ, ω) as a LossFn for hypergradient(): θ in model.parameters() order, ω whatever `weighting` takes.
 * One forward pass over the whole batch with batch norm in training mode (batch statistics over labelled and
 * unlabelled images, as FixMatch) and `updateStats: false`, so evaluating it (HVPs, finite differences) leaves
 * the running statistics alone. W = normalise(weighting(ω)).
 */
export function confidenceTrainLoss(model: Module, batch: ConfidenceBatch, weighting: UnlabelledWeighting, o: ConfidenceLossOptions = {}): LossFn {
  const mode = o.normalisation ?? DEFAULT_WEIGHT_NORMALISATION;
  const wd = o.weightDecay ?? 0;
  checkDecay('confidenceTrainLoss', wd);
  return (theta, omega) => {
    const data = functionalCall(model, theta, () => {
      const logits = model.forward(batch.x, { training: true, updateStats: false });
      return weightedFixMatchLoss(logits, batch.targets, normaliseWeights(weighting(omega), mode)).loss;
    });
    const decay = decayTerm(theta, wd);
    return decay === null ? data : add(data, decay);
  };
}

/** L_V(θ) = (1/|V|) Σ CE(y, f(x; θ)) on a labelled validation batch, batch norm in evaluation mode; no ω dependence. */
export function confidenceValLoss(model: Module, x: Tensor, labels: ArrayLike<number>): LossFn {
  if (x.shape[0] !== labels.length) throw new Error(`confidenceValLoss: ${x.shape[0]} validation images but ${labels.length} labels`);
  if (labels.length === 0) throw new Error('confidenceValLoss: the validation batch is empty');
  return (theta) => functionalCall(model, theta, () => {
    const logits = model.forward(x, { training: false });
    return crossEntropy(logits, oneHot(labels, logits.shape[1], { backend: logits.backend, dtype: logits.dtype }));
  });
}

/**
 * Pseudo-labels and mask of a batch at θ (weak rows of one training-mode forward pass without touching the
 * running statistics), for building a ConfidenceBatch at the point of a meta-step.
 */
export async function confidenceTargets(model: Module, theta: readonly Tensor[], inp: FixMatchInputs): Promise<ConfidenceBatch> {
  const { x, b, u } = checkInputs('confidenceTargets', theta, inp);
  const logits = noGrad(() => functionalCall(model, theta, () => model.forward(x, { training: true, updateStats: false })));
  const classes = logits.shape[1];
  const values = await logits.data();
  const p = pseudoLabels(values.subarray(b * classes, (b + u) * classes), u, classes, inp.tau);
  return { x, targets: { labels: inp.labels, pseudo: p.labels, mask: p.mask, lambdaU: inp.lambdaU } };
}

export interface ConfidenceGradient extends FixMatchGradient {
  /** The normalised weights W of the batch's unlabelled images. */
  weights: Float32Array | Float64Array;
}

/**
 * An ordinary inner step's value and gradient of L_T(·, ω) in θ only (ω fixed, no graph into it): the network
 * is recorded once (vjp), the weak logits give the pseudo-labels and mask, weightedFixMatchLoss (the same
 * definition confidenceTrainLoss uses) is differentiated in the logits and pulled back; the decay gradient
 * λ_wd θ is added on the decayed tensors (so do not add weight decay again in the optimizer). Batch norm runs in
 * training mode and updates its running statistics, as a FixMatch step does.
 */
export async function confidenceGradient(
  model: Module,
  theta: readonly Tensor[],
  weighting: UnlabelledWeighting,
  omega: readonly Tensor[],
  inp: FixMatchInputs,
  o: ConfidenceLossOptions = {},
): Promise<ConfidenceGradient> {
  const mode = o.normalisation ?? DEFAULT_WEIGHT_NORMALISATION;
  const wd = o.weightDecay ?? 0;
  checkDecay('confidenceGradient', wd);
  const { x } = checkInputs('confidenceGradient', theta, inp);
  const weights = noGrad(() => normaliseWeights(weighting(omega), mode));
  const { grads: dataGrads, loss, supervised, unsupervised, pseudo } = await pseudoLabelledGradient(model, theta, x, inp, (z, targets) => weightedFixMatchLoss(z, targets, weights));
  const decay = noGrad(() => decayTerm(theta, wd));
  const grads = wd === 0 ? dataGrads : noGrad(() => dataGrads.map((g, i) => (decays({ value: theta[i] }) ? add(g, mul(theta[i], wd)) : g)));
  const [lv, sv, uv, dv, wv] = await Promise.all([loss.data(), supervised.data(), unsupervised.data(), decay?.data(), weights.data()]);
  return { grads, loss: lv[0] + (dv?.[0] ?? 0), supervised: sv[0], unsupervised: uv[0], pseudo, weights: wv as Float32Array | Float64Array };
}

function checkInputs(where: string, theta: readonly Tensor[], inp: FixMatchInputs): { x: Tensor; b: number; u: number } {
  const [n, c, h, w] = inp.shape;
  const b = inp.labels.length;
  const u = inp.unlabelled;
  if (u < 1) throw new Error(`${where}: no unlabelled images (μB = ${u})`);
  if (n !== b + 2 * u) throw new Error(`${where}: ${n} images, expected B + 2 μB = ${b} + 2 x ${u}`);
  if (inp.x.length !== n * c * h * w) throw new Error(`${where}: ${inp.x.length} values for shape [${inp.shape.join(', ')}]`);
  const x = tensor(inp.x, inp.shape, { backend: theta[0]?.backend, dtype: theta[0]?.dtype });
  return { x, b, u };
}
