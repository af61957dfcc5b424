// The L2 hyperparameter problem (per-parameter, per-layer or fixed L2 on an image classifier) as a BilevelProblem: what runIml runs on runBilevel.

import { valueAndGrad } from '../autodiff/transforms.js';
import { keep } from '../core/scope.js';
import type { BilevelProblem } from '../bilevel/problem.js';
import { add } from '../core/ops.js';
import { noGrad, type Tensor } from '../core/tensor.js';
import type { ImageDataset } from '../data/dataset.js';
import type { LossFn } from '../hypergrad/hypergradient.js';
import type { MetaKnowledge } from '../hypergrad/meta-knowledge.js';
import { softplus } from '../ops/activations.js';
import { crossEntropy } from '../ops/losses.js';
import { functionalCall, type Module } from '../nn/module.js';
import { Adam } from '../optim/adam.js';
import { batchTensors, evaluate, type Evaluation } from '../train/evaluate.js';
import type { Random } from '../util/random.js';

/** The L2 problem's part of every meta-epoch record (MetaEpochMetrics is the loop's record with these). */
export interface L2Metrics {
  train: Evaluation;
  validation: Evaluation;
  test: Evaluation;
  /** Mean softplus(λ), the effective L2 weight. */
  meanDecay: number;
}

export interface L2ProblemOptions {
  innerBatch: number;
  /** Adam's learning rate for θ. */
  innerLr: number;
  /** Samples of the training / validation sets used in each meta-step (0 = all). */
  metaSubset: number;
  /** Use the meta-knowledge's closed-form penalty curvature in hypergradients (default true). */
  closedFormPenalty?: boolean;
}

/** The splits of an L2 run. */
export interface L2Data {
  train: ImageDataset;
  validation: ImageDataset;
  test: ImageDataset;
}

/**
 * θ = the model's parameters trained by Adam on cross-entropy + penalty(θ, λ) in shuffled mini-batches
 * (the penalty's gradient c ⊙ θ added by Adam as elementwise decay); L_V = cross-entropy on the validation
 * set (or a random subset of metaSubset samples); the evaluation reports train, validation and test
 * accuracy and loss and the mean softplus(λ), with the test accuracy as the early-stopping score.
 */
export function l2Problem(model: Module, metaKnowledge: MetaKnowledge, data: L2Data, options: L2ProblemOptions): BilevelProblem<L2Metrics> {
  const params = model.parameters();
  // Batches go where the model lives (CPU or WebGPU); every read below is asynchronous, so any backend works.
  const backend = params[0]?.value.backend;
  const inner = new Adam(params, { lr: options.innerLr });
  let order: Int32Array = new Int32Array(0);
  let cursor = 0;

  // Inner steps need λ only through the penalty's gradient c ⊙ w; rebuild c when λ changes.
  let decay: { lam: readonly Tensor[]; coefs: Tensor[] | null } | null = null;
  const decayCoefficients = (lam: readonly Tensor[]): Tensor[] | null => {
    if (decay === null || decay.lam.length !== lam.length || decay.lam.some((l, i) => l !== lam[i])) {
      // Cached across steps (each step runs in a tidy scope): kept.
      decay = { lam, coefs: metaKnowledge.decayCoefficients(lam)?.map((c) => keep(c)) ?? null };
    }
    return decay.coefs;
  };

  /**
   * A meta-step's batch of ds, made on first use: its samples are drawn now (the random stream's order does not
   * depend on which losses a method evaluates), its tensors only when a loss reads them (T1-T2 and identity with a
   * closed-form penalty never read the training batch).
   */
  const metaBatch = (ds: ImageDataset, rng: Random): (() => { x: Tensor; t: Tensor }) => {
    const n = options.metaSubset > 0 ? Math.min(options.metaSubset, ds.count) : ds.count;
    const idx = n === ds.count ? Array.from({ length: n }, (_, i) => i) : rng.permutation(ds.count).subarray(0, n);
    let made: { x: Tensor; t: Tensor } | null = null;
    // Made again if a scope inside the meta-step (a tidy around a loss evaluation) has disposed the first ones.
    return () => (made !== null && !made.x.isDisposed && !made.t.isDisposed ? made : (made = batchTensors(ds, idx, true, backend)));
  };

  const meanDecay = async (lam: readonly Tensor[]): Promise<number> => {
    let s = 0;
    let n = 0;
    for (const l of lam) {
      const sp = await noGrad(() => softplus(l)).data();
      for (const v of sp) s += v;
      n += l.size;
    }
    return n ? s / n : 0;
  };

  return {
    kind: metaKnowledge.kind,
    tidy: true,
    metaNames: metaKnowledge.names,
    init(rng) {
      const lam = metaKnowledge.init(rng);
      // The first epoch's data order is drawn right after λ.
      order = rng.permutation(data.train.count);
      cursor = 0;
      return lam;
    },
    innerParams: () => params,
    async innerStep(lam, { rng }) {
      if (cursor + options.innerBatch > order.length) {
        order = rng.permutation(data.train.count);
        cursor = 0;
      }
      const idx = order.subarray(cursor, Math.min(order.length, cursor + options.innerBatch));
      cursor += options.innerBatch;
      const { x, t } = batchTensors(data.train, idx, true, backend);
      const loss = (ws: Tensor[]): Tensor => functionalCall(model, ws, () => crossEntropy(model.forward(x, { training: true }), t));
      const { value, grads } = valueAndGrad(loss)(params.map((p) => p.value));
      return {
        loss: (await value.data())[0],
        apply: () => {
          // ∇(data loss + penalty) = ∇ data loss + c ⊙ w for the quadratic L2 penalties: Adam adds c ⊙ w
          // to the gradient inside its update, like weight decay.
          inner.elementwiseDecay = decayCoefficients(lam);
          inner.step(grads);
        },
      };
    },
    metaObjective(w, lam, rng) {
      const tr = metaBatch(data.train, rng);
      const va = metaBatch(data.validation, rng);
      // Closed-form penalty curvature when the meta-knowledge has it (the L2 forms): the HVPs then
      // differentiate the data loss only.
      const closedForm = options.closedFormPenalty === false ? undefined : metaKnowledge.closedForm?.(w, lam);
      const trainLoss: LossFn = (ws, lm) => functionalCall(model, ws, () => {
        const { x, t } = tr();
        const ce = crossEntropy(model.forward(x, { training: true, updateStats: false }), t);
        const pen = closedForm ? null : metaKnowledge.penalty(ws, lm);
        return pen ? add(ce, pen) : ce;
      });
      const valLoss: LossFn = (ws) => functionalCall(model, ws, () => {
        const { x, t } = va();
        return crossEntropy(model.forward(x, { training: false }), t);
      });
      return { trainLoss, valLoss, closedForm };
    },
    async evaluate(lam) {
      const metrics: L2Metrics = {
        train: await evaluate(model, data.train), validation: await evaluate(model, data.validation), test: await evaluate(model, data.test),
        meanDecay: await meanDecay(lam),
      };
      return { validationLoss: metrics.validation.loss, esScore: metrics.test.accuracy, metrics };
    },
    async state() {
      return { optimizer: await inner.stateDictAsync(), json: { order: Array.from(order), cursor } };
    },
    restore(saved) {
      if (!saved.optimizer) throw new Error(`${saved.where} has no optimizer states or run configuration; it was not written by an IML run`);
      inner.loadStateDict(saved.optimizer);
      // The learning rate is constant in this loop: a checkpoint with another was not written by this configuration.
      if (inner.lr !== options.innerLr) throw new Error(`${saved.where}: inner optimizer lr ${inner.lr} differs from the configuration's innerLr ${options.innerLr}`);
      if (inner.stepCount !== saved.step) throw new Error(`${saved.where}: step counters disagree (meta ${saved.step}, optimizer ${inner.stepCount})`);
      const { order: o, cursor: c } = saved.json;
      if (!Array.isArray(o) || o.some((i) => !Number.isInteger(i) || i < 0 || i >= data.train.count) || typeof c !== 'number' || !Number.isInteger(c) || c < 0) {
        throw new Error(`${saved.where}: the data order or cursor is missing or out of range for ${data.train.count} training samples`);
      }
      order = Int32Array.from(o as number[]);
      cursor = c;
    },
  };
}
