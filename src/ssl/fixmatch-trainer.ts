// The FixMatch training loop (and its supervised-only baseline): weak/strong views, one forward pass, SGD Nesterov with the cosine schedule, decay on weights only, EMA evaluation, checkpoints with bit-exact resume; any backend.

import { strongAugment, weakAugment, type ImageBatch } from '../augment/index.js';
import type { ImageDataset } from '../data/dataset.js';
import { getBatch } from '../data/dataset.js';
import type { Module } from '../nn/module.js';
import { fixMatchCosineLr } from '../optim/schedule.js';
import { SGD } from '../optim/sgd.js';
import { evaluate } from '../train/evaluate.js';
import type { Tensor } from '../core/tensor.js';
import { Random } from '../util/random.js';
import { WeightEma, withParameterValues } from './ema.js';
import type { FixMatchConfig } from './fixmatch-config.js';
import { validateFixMatchConfig } from './fixmatch-config.js';
import type { FixMatchMetrics } from './fixmatch-metrics.js';
import { fixMatchGradient } from './fixmatch-step.js';
import type { FixMatchStore } from './fixmatch-store.js';
import { EpochSampler, type SamplerState } from './sampler.js';
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

/** Random states hold NaN when no normal is cached; JSON has no NaN, so it is stored as null. */
const encodeState = (s: readonly number[]): (number | null)[] => s.map((v) => (Number.isNaN(v) ? null : v));
const decodeState = (s: readonly (number | null)[]): number[] => s.map((v) => (v === null ? NaN : v));
const encodeSampler = (s: SamplerState): { epochState: (number | null)[]; cursor: number } => ({ epochState: encodeState(s.epochState), cursor: s.cursor });
const decodeSampler = (s: { epochState: (number | null)[]; cursor: number }): SamplerState => ({ epochState: decodeState(s.epochState), cursor: s.cursor });

interface TrainerMeta {
  config: FixMatchConfig;
  augState: (number | null)[];
  labelled: { epochState: (number | null)[]; cursor: number };
  unlabelled: { epochState: (number | null)[]; cursor: number } | null;
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

function batchOf(ds: ImageDataset, idx: Int32Array): { batch: ImageBatch; labels: Uint8Array } {
  const { x, y } = getBatch(ds, idx);
  return { batch: { data: x, count: idx.length, channels: ds.channels, height: ds.height, width: ds.width }, labels: y };
}

function cap(ds: ImageDataset, limit: number): ImageDataset {
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
  const sgd = new SGD(params, { lr: c.lr, momentum: c.momentum, nesterov: true });
  sgd.checkFinite = false;
  const ema = new WeightEma(params, c.emaDecay, c.emaWarmup);
  const schedule = fixMatchCosineLr(c.lr, c.steps);
  const augRng = new Random(c.seed * 4 + 1);
  const labelled = new EpochSampler(data.labelled.count, new Random(c.seed * 4 + 2));
  const unlabelled = fixmatch ? new EpochSampler(data.unlabelled.count, new Random(c.seed * 4 + 3)) : null;
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
    ema.values = params.map((p) => ck.params[`ema/${p.name}`]);
    if (ck.optimizer) sgd.loadStateDict(ck.optimizer);
    augRng.setState(decodeState(meta.augState));
    labelled.restore(decodeSampler(meta.labelled));
    if (unlabelled && meta.unlabelled) unlabelled.restore(decodeSampler(meta.unlabelled));
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
    const meta: TrainerMeta = {
      config: c, augState: encodeState(augRng.getState()), labelled: encodeSampler(labelled.state()),
      unlabelled: unlabelled ? encodeSampler(unlabelled.state()) : null, seconds: seconds(),
    };
    await store.saveCheckpoint({ params: record, optimizer: await sgd.stateDictAsync(), step, meta });
  };
  const validation = cap(data.validation, c.evalLimit);
  const test = cap(data.test, c.evalLimit);
  const u = fixmatch ? c.mu * c.batchSize : 0;
  const acc = { n: 0, loss: 0, ls: 0, lu: 0, masked: 0, seen: 0, correct: 0, maskedCorrect: 0, since: performance.now() };
  let lastLr = c.lr;
  for (let step = start + 1; step <= c.steps; step++) {
    lastLr = schedule(step - 1);
    sgd.lr = lastLr;
    const l = batchOf(data.labelled, labelled.next(c.batchSize));
    const parts: ImageBatch[] = [weakAugment(l.batch, augRng, { flip: c.flip })];
    let trueU: Uint8Array | null = null;
    if (unlabelled) {
      const ub = batchOf(data.unlabelled, unlabelled.next(u));
      trueU = ub.labels;
      parts.push(weakAugment(ub.batch, augRng, { flip: c.flip }), strongAugment(ub.batch, augRng, { flip: c.flip }));
    }
    const size = l.batch.channels * l.batch.height * l.batch.width;
    const x = new Float32Array((c.batchSize + 2 * u) * size);
    let off = 0;
    for (const p of parts) {
      x.set(p.data, off);
      off += p.data.length;
    }
    const g = await fixMatchGradient(model, params.map((p) => p.value), {
      x, shape: [c.batchSize + 2 * u, l.batch.channels, l.batch.height, l.batch.width], labels: l.labels, unlabelled: u, tau: c.tau, lambdaU: c.lambdaU,
    });
    if (!Number.isFinite(g.loss)) throw new FixMatchDivergence(step, g.loss);
    sgd.step(addWeightDecay(g.grads, params, c.weightDecay));
    ema.update(params, step - 1);
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
      const [val, te] = await withParameterValues(model, ema.values, async () => [
        await evaluate(model, validation, { flatten: false }),
        await evaluate(model, test, { flatten: false }),
      ]);
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
