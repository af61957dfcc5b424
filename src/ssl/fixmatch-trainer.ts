// The FixMatch training loop (and its supervised-only baseline): weak/strong views, one forward pass, SGD Nesterov with the cosine schedule, decay on weights only, EMA evaluation, checkpoints with bit-exact resume; any backend.

import type { ImageDataset } from '../data/dataset.js';
import type { Module } from '../nn/module.js';
import { evaluate } from '../train/evaluate.js';
import { tidyAsync } from '../core/scope.js';
import type { Tensor } from '../core/tensor.js';
import { withParameterValues } from './ema.js';
import { batchNormImages, withRecomputedBatchNorm } from './ema-batch-norm.js';
import type { FixMatchConfig } from './fixmatch-config.js';
import { validateFixMatchConfig } from './fixmatch-config.js';
import type { FixMatchMetrics } from './fixmatch-metrics.js';
import { fixMatchGradient } from './fixmatch-step.js';
import type { FixMatchStore } from './fixmatch-store.js';
import { FixMatchStepper, type StepperJson } from './fixmatch-stepper.js';
import { addWeightDecay } from './weight-decay.js';

export interface FixMatchData {
  labelled: ImageDataset;
  unlabelled: ImageDataset;
  validation: ImageDataset;
  test: ImageDataset;
}

export interface FixMatchHooks {
  /** Continue from the store's checkpoint when there is one. */
  resume?: boolean;
  onStep?: (step: number, loss: number) => void;
  onEvaluation?: (m: FixMatchMetrics) => void;
  /** Stop after this step (as if killed), leaving the run resumable (tests). */
  stopAfter?: number;
}

export interface FixMatchResult {
  metrics: FixMatchMetrics[];
  final: FixMatchMetrics | null;
  /** Whether the run reached config.steps (false when stopped by stopAfter). */
  finished: boolean;
}

interface TrainerMeta extends StepperJson {
  config: FixMatchConfig;
  seconds: number;
}

export class FixMatchDivergence extends Error {
  constructor(readonly step: number, readonly value: number) {
    super(`FixMatch diverged at step ${step}: loss is ${value}`);
  }
}

/** Fields that must agree between a checkpoint and the run resuming it (all but the checkpoint interval). */
function configDifferences(a: FixMatchConfig, b: FixMatchConfig): string[] {
  return (Object.keys(a) as (keyof FixMatchConfig)[]).filter((k) => k !== 'checkpointEvery' && a[k] !== b[k]).map((k) => `${k}: checkpoint ${String(b[k])}, now ${String(a[k])}`);
}

/** The first `limit` images of ds (all when limit is 0 or at least ds.count): the evaluation subset of --eval-limit. */
export function firstImages(ds: ImageDataset, limit: number): ImageDataset {
  if (limit <= 0 || limit >= ds.count) return ds;
  const size = ds.channels * ds.height * ds.width;
  return { ...ds, count: limit, images: ds.images.subarray(0, limit * size), labels: ds.labels.subarray(0, limit) };
}

/**
 * Trains `model` (its parameters and batch-norm buffers live on the backend it was built on) with FixMatch or
 * supervised-only. Every step: B labelled images (weak view) and, for FixMatch, μB unlabelled images in their weak
 * and strong views go through the network in one forward pass; lr_k = lr cos(7πk/16K); SGD (Nesterov) steps on
 * the gradient plus weight decay on weights; the EMA of the weights is evaluated every evalEvery steps. Random
 * streams (seeded from config.seed): labelled order, unlabelled order, augmentation; their states, the weights,
 * EMA, buffers and optimizer are checkpointed every checkpointEvery steps, so a resumed run repeats the
 * uninterrupted one bit for bit.
 */
export async function trainFixMatch(model: Module, data: FixMatchData, config: FixMatchConfig, store: FixMatchStore, hooks: FixMatchHooks = {}): Promise<FixMatchResult> {
  const c = validateFixMatchConfig({ ...config });
  const fixmatch = c.method === 'fixmatch';
  const params = model.parameters();
  const buffers = model.buffers();
  const backend = params[0].value.backend;
  const stepper = new FixMatchStepper(params, c, data);
  const ema = stepper.ema;
  let start = 0;
  let secondsBefore = 0;
  let metrics: FixMatchMetrics[] = [];
  const ck = hooks.resume ? await store.loadCheckpoint(backend) : null;
  if (ck) {
    const meta = ck.meta as TrainerMeta;
    const diff = configDifferences(c, meta.config);
    if (diff.length) throw new Error(`${store.location}: the checkpoint was written with a different configuration (${diff.join('; ')})`);
    for (const p of params) p.value = ck.params[p.name];
    for (const b of buffers) b.value = ck.params[`buffer/${b.name}`];
    stepper.restore(meta, ck.optimizer, params.map((p) => ck.params[`ema/${p.name}`]), store.location);
    start = ck.step;
    secondsBefore = meta.seconds;
    metrics = await store.readMetrics(start);
    await store.writeMetrics(metrics);
  } else {
    await store.writeMetrics([]);
  }
  const started = performance.now();
  const seconds = (): number => secondsBefore + (performance.now() - started) / 1000;
  const save = async (step: number): Promise<void> => {
    const record: Record<string, Tensor> = {};
    for (const p of params) record[p.name] = p.value;
    for (const b of buffers) record[`buffer/${b.name}`] = b.value;
    params.forEach((p, i) => (record[`ema/${p.name}`] = ema.values[i]));
    const meta: TrainerMeta = { config: c, ...stepper.json(), seconds: seconds() };
    await store.saveCheckpoint({ params: record, optimizer: await stepper.optimizerState(), step, meta });
  };
  const validation = firstImages(data.validation, c.evalLimit);
  const test = firstImages(data.test, c.evalLimit);
  const u = stepper.u;
  const acc = { n: 0, loss: 0, ls: 0, lu: 0, masked: 0, seen: 0, correct: 0, maskedCorrect: 0, since: performance.now() };
  let lastLr = c.lr;
  for (let step = start + 1; step <= c.steps; step++) {
    const batch = stepper.nextBatch(data, step);
    lastLr = batch.lr;
    const trueU: Uint8Array | null = fixmatch ? batch.trueLabels : null;
    // The forward and backward temporaries go back to the backend's pool when the gradient is done.
    const g = await tidyAsync(() => fixMatchGradient(model, params.map((p) => p.value), batch.inputs));
    if (!Number.isFinite(g.loss)) throw new FixMatchDivergence(step, g.loss);
    stepper.update(addWeightDecay(g.grads, params, c.weightDecay), step);
    acc.n++;
    acc.loss += g.loss;
    acc.ls += g.supervised;
    acc.lu += g.unsupervised;
    if (trueU) {
      for (let i = 0; i < u; i++) {
        const ok = g.pseudo.labels[i] === trueU[i] ? 1 : 0;
        acc.seen++;
        acc.correct += ok;
        if (g.pseudo.mask[i] === 1) {
          acc.masked++;
          acc.maskedCorrect += ok;
        }
      }
    }
    hooks.onStep?.(step, g.loss);
    if (step % c.evalEvery === 0 || step === c.steps) {
      const [val, te] = await withParameterValues(model, ema.values, async () => {
        const both = async () => [await evaluate(model, validation, { flatten: false }), await evaluate(model, test, { flatten: false })];
        // 'recompute': the EMA weights get batch-norm statistics of their own, from the images this method trains on.
        return c.emaBatchNorm === 'recompute' ? withRecomputedBatchNorm(model, batchNormImages(c.method, data), both) : both();
      });
      const m: FixMatchMetrics = {
        step,
        lr: lastLr,
        loss: acc.loss / acc.n,
        supervisedLoss: acc.ls / acc.n,
        unsupervisedLoss: acc.lu / acc.n,
        maskRate: acc.seen ? acc.masked / acc.seen : 0,
        pseudoAccuracy: acc.seen ? acc.correct / acc.seen : 0,
        maskedPseudoAccuracy: acc.masked ? acc.maskedCorrect / acc.masked : null,
        validationAccuracy: val.accuracy,
        testAccuracy: te.accuracy,
        testLoss: te.loss,
        stepsPerSecond: acc.n / ((performance.now() - acc.since) / 1000),
        seconds: seconds(),
      };
      metrics.push(m);
      await store.appendMetrics(m);
      hooks.onEvaluation?.(m);
      Object.assign(acc, { n: 0, loss: 0, ls: 0, lu: 0, masked: 0, seen: 0, correct: 0, maskedCorrect: 0, since: performance.now() });
      if (step % c.checkpointEvery === 0 || step === c.steps) await save(step);
    }
    if (hooks.stopAfter !== undefined && step >= hooks.stopAfter && step < c.steps) return { metrics, final: metrics.at(-1) ?? null, finished: false };
  }
  return { metrics, final: metrics.at(-1) ?? null, finished: true };
}
