// The Confidence Network trainer of thesis chapter 5 as a BilevelProblem: θ the classifier trained by weighted FixMatch steps, ω the Confidence Network's weights or the per-image table's scores (or nothing / frozen: plain or weighted FixMatch under the baseline method).

import type { BilevelProblem } from '../bilevel/problem.js';
import { tensor } from '../core/creation.js';
import { noGrad, type Tensor } from '../core/tensor.js';
import { getBatch } from '../data/dataset.js';
import { weakAugment, strongAugment } from '../augment/index.js';
import type { Module } from '../nn/module.js';
import { auroc } from '../report/auroc.js';
import { evaluate } from '../train/evaluate.js';
import { Random } from '../util/random.js';
import { confidenceWeights, type ConfidenceNet } from './confidence-net.js';
import { confidenceGradient, confidenceTargets, confidenceTrainLoss, confidenceValLoss, networkWeighting, tableWeighting, type UnlabelledWeighting } from './confidence-loss.js';
import { withParameterValues } from './ema.js';
import { batchNormImages, withRecomputedBatchNorm } from './ema-batch-norm.js';
import { validateFixMatchConfig, type FixMatchConfig } from './fixmatch-config.js';
import { fixMatchGradient, type FixMatchInputs } from './fixmatch-step.js';
import { FixMatchStepper, type StepperJson } from './fixmatch-stepper.js';
import { firstImages, type FixMatchData } from './fixmatch-trainer.js';
import type { SampleWeightTable } from './sample-weight-table.js';
import { addWeightDecay } from './weight-decay.js';
import { DEFAULT_WEIGHT_NORMALISATION, type WeightNormalisation } from './weight-normalisation.js';

/**
 * What weighs the unlabelled losses: nothing (FixMatch, or supervised-only), the Confidence Network C(α(u); ω)
 * or the per-image table. `omega` is the initial ω (the warmed-up CN's weights; the table's default is all
 * ones), or under the baseline method the frozen ω of a saved learner (phase 2 of the protocol).
 */
export type ConfidenceWeighting =
  | { kind: 'none' }
  | { kind: 'cn'; cn: ConfidenceNet; omega: readonly Tensor[] }
  | { kind: 'table'; table: SampleWeightTable; omega?: readonly Tensor[] };

/** The problem's part of every meta-epoch record (the loop adds metaEpoch, innerStep, hypergradNorm, timings). */
export interface ConfidenceMetrics {
  /** Learning rate of the last inner step. */
  lr: number;
  /** Means over the inner steps since the previous evaluation (trainLoss includes the decay term when weighted). */
  trainLoss: number;
  supervisedLoss: number;
  unsupervisedLoss: number;
  /** Share of unlabelled images with max q >= tau, and of those whose pseudo-label is their pool label. */
  maskRate: number;
  pseudoAccuracy: number;
  /** Mean normalised weight W of the unlabelled images of those steps (null without a weighting), overall and by the pool's in/out-of-distribution flag. */
  meanWeight: number | null;
  meanWeightId: number | null;
  meanWeightOod: number | null;
  /** L_V: cross-entropy of the live θ on the validation set (evaluation mode), and its accuracy. */
  validationLoss: number;
  validationAccuracy: number;
  /** The EMA model on the test set. */
  testAccuracy: number;
  testLoss: number;
  /** Raw weights of the fixed pool sample (original images, and one fixed weak view each); null without a sample or weighting. */
  poolWeights: { original: number[]; weak: number[] } | null;
  /** AUROC of poolWeights.original separating in- from out-of-distribution sample images (null when one group is empty). */
  poolAuroc: number | null;
}

export interface ConfidenceProblemOptions {
  /** FixMatch's settings (method, seed, batch, μ, τ, λ_u, lr, momentum, weight decay, EMA, flip, evalLimit); `steps` is K, the cosine schedule's length (the run's total inner steps). */
  config: FixMatchConfig;
  weighting: ConfidenceWeighting;
  normalisation?: WeightNormalisation;
  /** Validation images in each meta-step's L_V, drawn from the loop's stream (0: the whole validation set). */
  metaValidation?: number;
  /**
   * Unlabelled images in each meta-step's L_T (0 or absent: μB, the inner batch's). The per-image table gets a
   * hypergradient only for the images of the meta-batch, so it needs more of them than the CN, which generalises.
   */
  metaUnlabelled?: number;
  /** 1 where unlabelled pool image i is in-distribution (for the mean ID/OOD weights and the AUROC). */
  inDistribution?: Uint8Array;
  /** Pool indices whose weights are recorded after every meta-epoch, and the seed of their fixed weak views. */
  poolSample?: { indices: readonly number[]; seed: number };
}

/** The problem with the handles a runner needs besides the interface. */
export interface ConfidenceProblem extends BilevelProblem<ConfidenceMetrics> {
  /** The ω-dependent weighting of unlabelled weak views / pool indices (null for 'none'). */
  readonly weightingOf: ((weak: Tensor, poolIndices: ArrayLike<number>) => UnlabelledWeighting) | null;
  /** The FixMatch machinery (optimizer, EMA, samplers), e.g. for benchmarks. */
  readonly stepper: FixMatchStepper;
}

const mean = (s: number, n: number): number | null => (n > 0 ? s / n : null);

/**
 * θ = the classifier's parameters; an inner step is one FixMatch step at ω with the unlabelled losses weighted
 * (confidenceGradient: one forward pass over [labelled weak | unlabelled weak | unlabelled strong], constant
 * mask and pseudo-labels, decay on weights inside L_T) followed by SGD Nesterov on the cosine schedule and the
 * EMA update — the very steps of trainFixMatch (FixMatchStepper), which an all-ones frozen weighting
 * reproduces. A meta-step's L_T is confidenceTrainLoss on a fresh batch drawn from the loop's stream (targets
 * from its weak view at θ, constants), its L_V confidenceValLoss on the validation set or a subset. Evaluation:
 * L_V at θ drives early stopping (the CN kept for phase 2), the EMA's test accuracy is the kept score.
 * Checkpoint state: SGD, EMA, batch-norm buffers, samplers and the augmentation stream.
 */
export function confidenceProblem(model: Module, data: FixMatchData, o: ConfidenceProblemOptions): ConfidenceProblem {
  const c = validateFixMatchConfig({ ...o.config });
  const w = o.weighting;
  if (w.kind !== 'none' && c.method !== 'fixmatch') throw new Error(`confidenceProblem: a '${w.kind}' weighting needs FixMatch (method 'fixmatch'), got '${c.method}'`);
  if (w.kind === 'table' && w.table.size !== data.unlabelled.count) {
    throw new Error(`confidenceProblem: the weight table has ${w.table.size} entries for a pool of ${data.unlabelled.count} images`);
  }
  if (o.inDistribution && o.inDistribution.length !== data.unlabelled.count) {
    throw new Error(`confidenceProblem: inDistribution has ${o.inDistribution.length} flags for a pool of ${data.unlabelled.count} images`);
  }
  const metaValidation = o.metaValidation ?? 0;
  if (!Number.isInteger(metaValidation) || metaValidation < 0) throw new Error(`confidenceProblem: metaValidation must be an integer >= 0, got ${metaValidation}`);
  const metaUnlabelledOpt = o.metaUnlabelled ?? 0;
  if (!Number.isInteger(metaUnlabelledOpt) || metaUnlabelledOpt < 0) throw new Error(`confidenceProblem: metaUnlabelled must be an integer >= 0, got ${metaUnlabelledOpt}`);
  const mode = o.normalisation ?? DEFAULT_WEIGHT_NORMALISATION;
  const params = model.parameters();
  const buffers = model.buffers();
  const like = { backend: params[0].value.backend, dtype: params[0].value.dtype };
  const stepper = new FixMatchStepper(params, c, data);
  const u = stepper.u;
  const metaU = metaUnlabelledOpt > 0 ? metaUnlabelledOpt : u;
  const { channels: ch, height: hh, width: ww } = data.labelled;
  const size = ch * hh * ww;
  const validation = firstImages(data.validation, c.evalLimit);
  const test = firstImages(data.test, c.evalLimit);

  const weightingOf = w.kind === 'cn'
    ? (weak: Tensor): UnlabelledWeighting => networkWeighting(w.cn, weak)
    : w.kind === 'table'
      ? (_weak: Tensor, idx: ArrayLike<number>): UnlabelledWeighting => tableWeighting(w.table, idx)
      : null;
  const weakRows = (inp: FixMatchInputs): Tensor => {
    const b = inp.labels.length;
    const n = inp.unlabelled;
    return tensor(inp.x.subarray(b * size, (b + n) * size), [n, ch, hh, ww], like);
  };

  // The pool sample's images and one fixed weak view of each (drawn once, from its own stream).
  let sample: { idx: number[]; original: Tensor; weak: Tensor; flags: number[] | null } | null = null;
  if (o.poolSample && w.kind !== 'none') {
    const idx = [...o.poolSample.indices];
    idx.forEach((i, k) => {
      if (!Number.isInteger(i) || i < 0 || i >= data.unlabelled.count) throw new Error(`confidenceProblem: pool sample index ${i} at position ${k} is outside the pool [0, ${data.unlabelled.count})`);
    });
    const { x } = getBatch(data.unlabelled, idx);
    const weak = weakAugment({ data: x, count: idx.length, channels: ch, height: hh, width: ww }, new Random(o.poolSample.seed), { flip: c.flip }).data;
    sample = {
      idx, original: tensor(x, [idx.length, ch, hh, ww], like), weak: tensor(weak, [idx.length, ch, hh, ww], like),
      flags: o.inDistribution ? idx.map((i) => o.inDistribution![i]) : null,
    };
  }
  const poolWeights = async (meta: readonly Tensor[]): Promise<{ original: number[]; weak: number[] } | null> => {
    if (!sample) return null;
    if (w.kind === 'cn') {
      const [a, b] = noGrad(() => [confidenceWeights(w.cn, meta, sample!.original), confidenceWeights(w.cn, meta, sample!.weak)]);
      return { original: Array.from(await a.data()), weak: Array.from(await b.data()) };
    }
    if (w.kind === 'table') {
      const v = Array.from(await noGrad(() => w.table.weightsFor(meta, sample!.idx)).data());
      return { original: v, weak: [...v] };
    }
    return null;
  };

  const acc = { n: 0, loss: 0, ls: 0, lu: 0, masked: 0, seen: 0, correct: 0, wSum: 0, wN: 0, idSum: 0, idN: 0, oodSum: 0, oodN: 0, lr: c.lr };
  const resetAcc = (): void => {
    Object.assign(acc, { n: 0, loss: 0, ls: 0, lu: 0, masked: 0, seen: 0, correct: 0, wSum: 0, wN: 0, idSum: 0, idN: 0, oodSum: 0, oodN: 0 });
  };

  // A meta-step's batch, drawn from the loop's stream: B labelled and metaU (default μB) unlabelled images (with replacement), their views.
  const metaBatch = (rng: Random): { inputs: FixMatchInputs; poolIndices: Int32Array } => {
    const li = Int32Array.from({ length: c.batchSize }, () => rng.int(data.labelled.count));
    const ui = Int32Array.from({ length: metaU }, () => rng.int(data.unlabelled.count));
    const l = getBatch(data.labelled, li);
    const ub = { data: getBatch(data.unlabelled, ui).x, count: metaU, channels: ch, height: hh, width: ww };
    const x = new Float32Array((c.batchSize + 2 * metaU) * size);
    x.set(weakAugment({ data: l.x, count: c.batchSize, channels: ch, height: hh, width: ww }, rng, { flip: c.flip }).data, 0);
    x.set(weakAugment(ub, rng, { flip: c.flip }).data, c.batchSize * size);
    x.set(strongAugment(ub, rng, { flip: c.flip }).data, (c.batchSize + metaU) * size);
    return { inputs: { x, shape: [c.batchSize + 2 * metaU, ch, hh, ww], labels: l.y, unlabelled: metaU, tau: c.tau, lambdaU: c.lambdaU }, poolIndices: ui };
  };

  const metaNames = w.kind === 'cn' ? w.cn.parameters().map((p) => `cn/${p.name}`) : w.kind === 'table' ? ['table'] : [];
  const kind = w.kind === 'cn' ? 'confidence network' : w.kind === 'table' ? 'per-image weight table' : `${c.method} (no weighting)`;

  return {
    kind,
    tidy: true,
    metaNames,
    weightingOf,
    stepper,
    init() {
      if (w.kind === 'cn') return [...w.omega];
      if (w.kind === 'table') return w.omega ? [...w.omega] : w.table.init(like);
      return [];
    },
    innerParams: () => params,
    async innerStep(meta, { step: done }) {
      const step = done + 1;
      const batch = stepper.nextBatch(data, step);
      const theta = params.map((p) => p.value);
      const g = weightingOf
        ? await confidenceGradient(model, theta, weightingOf(weakRows(batch.inputs), batch.poolIndices), meta, batch.inputs, { normalisation: mode, weightDecay: c.weightDecay })
        : await fixMatchGradient(model, theta, batch.inputs);
      return {
        loss: g.loss,
        apply: () => {
          // confidenceGradient already holds the decay gradient λ_wd θ; fixMatchGradient does not.
          stepper.update(weightingOf ? g.grads : addWeightDecay(g.grads, params, c.weightDecay), step);
          acc.n++;
          acc.lr = batch.lr;
          acc.loss += g.loss;
          acc.ls += g.supervised;
          acc.lu += g.unsupervised;
          const weights = 'weights' in g ? (g.weights as ArrayLike<number>) : null;
          for (let i = 0; i < u; i++) {
            acc.seen++;
            acc.correct += g.pseudo.labels[i] === batch.trueLabels[i] ? 1 : 0;
            acc.masked += g.pseudo.mask[i] === 1 ? 1 : 0;
            if (!weights) continue;
            acc.wSum += weights[i];
            acc.wN++;
            if (!o.inDistribution) continue;
            if (o.inDistribution[batch.poolIndices[i]]) {
              acc.idSum += weights[i];
              acc.idN++;
            } else {
              acc.oodSum += weights[i];
              acc.oodN++;
            }
          }
        },
      };
    },
    async metaObjective(theta, _meta, rng) {
      if (!weightingOf) throw new Error(`confidenceProblem: '${kind}' has nothing to meta-learn (use the baseline method)`);
      const { inputs, poolIndices } = metaBatch(rng);
      const batch = await confidenceTargets(model, theta, inputs);
      const n = metaValidation > 0 ? Math.min(metaValidation, data.validation.count) : data.validation.count;
      const vi = n === data.validation.count ? Array.from({ length: n }, (_, i) => i) : rng.permutation(data.validation.count).subarray(0, n);
      const v = getBatch(data.validation, vi);
      const xv = tensor(v.x, [n, ch, hh, ww], like);
      return {
        trainLoss: confidenceTrainLoss(model, batch, weightingOf(weakRows(inputs), poolIndices), { normalisation: mode, weightDecay: c.weightDecay }),
        valLoss: confidenceValLoss(model, xv, v.y),
      };
    },
    async evaluate(meta) {
      const val = await evaluate(model, validation, { flatten: false });
      const te = await withParameterValues(model, stepper.ema.values, () => {
        const run = () => evaluate(model, test, { flatten: false });
        // 'recompute': the EMA weights get batch-norm statistics of their own (restored afterwards, so training is unchanged).
        return c.emaBatchNorm === 'recompute' ? withRecomputedBatchNorm(model, batchNormImages(c.method, data), run) : run();
      });
      const pw = await poolWeights(meta);
      let poolAuroc: number | null = null;
      if (pw && sample?.flags && sample.flags.some((f) => f === 1) && sample.flags.some((f) => f === 0)) poolAuroc = auroc(pw.original, sample.flags);
      const metrics: ConfidenceMetrics = {
        lr: acc.lr,
        trainLoss: mean(acc.loss, acc.n) ?? 0,
        supervisedLoss: mean(acc.ls, acc.n) ?? 0,
        unsupervisedLoss: mean(acc.lu, acc.n) ?? 0,
        maskRate: mean(acc.masked, acc.seen) ?? 0,
        pseudoAccuracy: mean(acc.correct, acc.seen) ?? 0,
        meanWeight: mean(acc.wSum, acc.wN),
        meanWeightId: mean(acc.idSum, acc.idN),
        meanWeightOod: mean(acc.oodSum, acc.oodN),
        validationLoss: val.loss,
        validationAccuracy: val.accuracy,
        testAccuracy: te.accuracy,
        testLoss: te.loss,
        poolWeights: pw,
        poolAuroc,
      };
      resetAcc();
      return { validationLoss: val.loss, esScore: te.accuracy, metrics };
    },
    async state() {
      const tensors: Record<string, Tensor> = {};
      for (const b of buffers) tensors[`buffer/${b.name}`] = b.value;
      params.forEach((p, i) => (tensors[`ema/${p.name}`] = stepper.ema.values[i]));
      return { tensors, optimizer: await stepper.optimizerState(), json: { fixmatch: stepper.json(), fixmatchConfig: c, normalisation: mode, metaUnlabelled: metaU } };
    },
    restore(saved) {
      const need = (name: string): Tensor => {
        const t = saved.tensors[name];
        if (!t) throw new Error(`${saved.where} has no tensor '${name}' (was it written by another model?)`);
        return t;
      };
      // The loop checks its own configuration; the FixMatch settings and the normalisation decide the trajectory too.
      const was = saved.json.fixmatchConfig as Record<string, unknown> | undefined;
      const now = c as unknown as Record<string, unknown>;
      const diffs = was ? Object.keys(now).filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k])).map((k) => `${k}: checkpoint ${JSON.stringify(was[k])}, now ${JSON.stringify(now[k])}`) : ['no FixMatch settings in the checkpoint'];
      if (saved.json.normalisation !== mode) diffs.push(`normalisation: checkpoint ${JSON.stringify(saved.json.normalisation)}, now '${mode}'`);
      // Checkpoints written before the option existed used μB.
      const savedMetaU = saved.json.metaUnlabelled ?? u;
      if (savedMetaU !== metaU) diffs.push(`metaUnlabelled: checkpoint ${JSON.stringify(savedMetaU)}, now ${metaU}`);
      if (diffs.length > 0) throw new Error(`${saved.where} was written with other settings; refusing to resume:\n  ${diffs.join('\n  ')}`);
      for (const b of buffers) b.value = need(`buffer/${b.name}`);
      const json = saved.json.fixmatch as Partial<StepperJson> | undefined;
      if (!json || !saved.optimizer) throw new Error(`${saved.where} has no FixMatch optimizer or sampler states; it was not written by a Confidence Network run`);
      stepper.restore(json, saved.optimizer, params.map((p) => need(`ema/${p.name}`)), saved.where);
      if (stepper.sgd.stepCount !== saved.step) throw new Error(`${saved.where}: step counters disagree (loop ${saved.step}, optimizer ${stepper.sgd.stepCount})`);
    },
  };
}
