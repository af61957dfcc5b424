// Implicit meta-learning loop: warm-up, inner training, hypergradient meta-steps, early stopping, checkpoints.

import { valueAndGrad } from '../autodiff/transforms.js';
import { add } from '../core/ops.js';
import { noGrad, Tensor } from '../core/tensor.js';
import type { ImageDataset } from '../data/dataset.js';
import { NonFiniteError } from '../hypergrad/inverse-hvp.js';
import { hypergradient, type ComparisonRequest, type InverseHvpComparison, type LossFn, type MethodState } from '../hypergrad/hypergradient.js';
import type { MetaKnowledge } from '../hypergrad/meta-knowledge.js';
import { methodLabel, type HypergradMethod } from '../hypergrad/methods.js';
import { crossEntropy } from '../ops/losses.js';
import { softplus } from '../ops/activations.js';
import { functionalCall, type Module } from '../nn/module.js';
import { Adam } from '../optim/adam.js';
import type { ParamRef } from '../optim/optimizer.js';
import { RMSprop } from '../optim/rmsprop.js';
import type { RunStore } from './run-store.js';
import { batchTensors, evaluate, type Evaluation } from '../train/evaluate.js';
import { Random } from '../util/random.js';

export interface ImlConfig {
  method: HypergradMethod;
  innerSteps: number;
  innerBatch: number;
  innerLr: number;
  metaLr: number;
  metaEpochs: number;
  warmupSteps: number;
  /** Meta-updates without a better validation loss before stopping (0 = never stop early). */
  patience: number;
  /**
   * Keep training to metaEpochs after patience runs out (thesis 4.1: "Test" after meta-epoch 1000,
   * "ES Test" at the frozen early-stopping checkpoint). Default false: stop there.
   */
  continueAfterEarlyStop?: boolean;
  /** Samples of the training / validation sets used in each meta-step (0 = all). */
  metaSubset: number;
  seed: number;
  /** Save a checkpoint every this many meta-epochs (0 = never). */
  checkpointEvery: number;
  /**
   * Use the meta-knowledge's closed-form penalty curvature in hypergradients (default true); false
   * differentiates the penalty's graph in every HVP (the generic path, kept as a reference).
   */
  closedFormPenalty?: boolean;
  /** Every this many meta-updates, compare approximations with a reference inverse-HVP (e.g. exact) at that point. */
  compare?: { every: number } & ComparisonRequest;
}

export const THESIS_DEFAULTS: Omit<ImlConfig, 'method' | 'seed'> = {
  innerSteps: 50, innerBatch: 32, innerLr: 1e-4, metaLr: 0.1, metaEpochs: 1000, warmupSteps: 0,
  patience: 15, metaSubset: 0, checkpointEvery: 0,
};

export interface MetaEpochMetrics {
  metaEpoch: number;
  innerStep: number;
  train: Evaluation;
  validation: Evaluation;
  test: Evaluation;
  hypergradNorm: number;
  /** Mean softplus(λ), the effective L2 weight. */
  meanDecay: number;
  epochSeconds: number;
  approximationSeconds: number;
  /** Tensor bytes allocated by the inverse-HVP approximation in this meta-epoch (largest single meta-step). */
  approximationBytes: number;
  hvps: number;
  note: string;
  comparisons?: InverseHvpComparison[];
}

export interface ImlSummary {
  method: string;
  metaKnowledge: string;
  seed: number;
  metaEpochsRun: number;
  stoppedEarly: boolean;
  /** Meta-epoch at which early stopping fired (whether or not training continued), or null (absent in older summaries). */
  earlyStopEpoch?: number | null;
  diverged: { metaEpoch: number; step: number; what: string } | null;
  trainMax: number;
  validationMax: number;
  test: number;
  /** Test accuracy of the checkpoint with the lowest validation loss. */
  esTest: number;
  /** Meta-epoch of the lowest validation loss (the convergence epoch). */
  bestMetaEpoch: number;
  meanEpochSeconds: number;
  meanApproximationSeconds: number;
  /** Largest tensor allocation of one inverse-HVP approximation over the run (bytes). */
  maxApproximationBytes: number;
}

export interface ImlData {
  train: ImageDataset;
  validation: ImageDataset;
  test: ImageDataset;
}

export class ImlDivergence extends Error {
  constructor(readonly metaEpoch: number, readonly step: number, readonly what: string) {
    super(`diverged at meta-epoch ${metaEpoch}, inner step ${step}: ${what}`);
  }
}

interface Snapshot {
  w: Tensor[];
  lam: Tensor[];
}

/**
 * Configuration fields that may differ between a checkpoint and the run resuming it: they change how far
 * the run goes and how often it is saved, not the trajectory up to there.
 */
export const RESUMABLE_CHANGES: readonly string[] = ['config.metaEpochs', 'config.checkpointEvery'];

/** What a checkpoint records about the run it belongs to: the caller's description (recipe, dataset, ...) and the trainer's configuration. */
export function runIdentity(config: ImlConfig, metaKnowledge: MetaKnowledge, described: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ ...described, method: methodLabel(config.method), metaKnowledge: metaKnowledge.kind, hyperparameters: metaKnowledge.names, config })) as Record<string, unknown>;
}

/** Differences between two JSON values as 'path: a in the checkpoint, b now' lines (paths like config.seed). */
export function configDifferences(saved: unknown, now: unknown, path = ''): string[] {
  const show = (v: unknown): string => (v === undefined ? 'absent' : JSON.stringify(v));
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(saved) && isObj(now)) {
    const keys = [...new Set([...Object.keys(saved), ...Object.keys(now)])].sort();
    return keys.flatMap((k) => configDifferences(saved[k], now[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(saved) === JSON.stringify(now) ? [] : [`${path || '(value)'}: ${show(saved)} in the checkpoint, ${show(now)} now`];
}

/** Hooks of runIml: progress, where the run is kept (a RunStore), resuming, and what identifies the run. */
export interface ImlRunOptions {
  /** Called after every meta-epoch with its metrics; a returned promise is awaited (e.g. to let a page repaint its charts). */
  onMetaEpoch?: (m: MetaEpochMetrics) => void | Promise<void>;
  /** Where metrics, checkpoints and the best snapshot go (memoryRunStore(), or fileRunStore(dir) in Node). */
  store?: RunStore;
  /** Continue from the store's checkpoint. */
  resume?: boolean;
  /**
   * What else identifies the run (recipe, dataset, variant, backend, model sizes, ...): recorded in every
   * checkpoint with the configuration; resuming with a different identity is refused with the differences.
   */
  identity?: Readonly<Record<string, unknown>>;
}

/** Runs one IML training (or the baseline) and returns the per-epoch metrics and the summary. */
export async function runIml(
  model: Module,
  metaKnowledge: MetaKnowledge,
  data: ImlData,
  config: ImlConfig,
  hooks: ImlRunOptions = {},
): Promise<{ metrics: MetaEpochMetrics[]; summary: ImlSummary }> {
  const rng = new Random(config.seed);
  const params = model.parameters();
  // Batches go where the model lives (CPU or WebGPU); every read below is asynchronous, so any backend works.
  const backend = params[0]?.value.backend;
  const lamRefs: ParamRef[] = metaKnowledge.init(rng).map((value, i) => ({ name: metaKnowledge.names[i], value }));
  const inner = new Adam(params, { lr: config.innerLr });
  // The baseline has no hyperparameters to learn, hence no meta optimizer.
  const meta = lamRefs.length > 0 ? new RMSprop(lamRefs, { lr: config.metaLr }) : null;
  const method = config.method;
  const isBaseline = method.kind === 'baseline';
  const state: MethodState = {};
  const metrics: MetaEpochMetrics[] = [];
  let step = 0;
  let startEpoch = 1;
  let best = { loss: Infinity, epoch: 0, test: 0, snapshot: null as Snapshot | null };
  let sinceBest = 0;
  /** Meta-epoch at which patience ran out (0: not yet); the run stops there unless continueAfterEarlyStop. */
  let earlyStopAt = 0;
  let stoppedEarly = false;
  const store = hooks.store ?? null;
  const where = store?.location ?? 'IML run';

  const identity = runIdentity(config, metaKnowledge, hooks.identity);
  let resumedOrder: { order: Int32Array; cursor: number } | null = null;
  const ck = hooks.resume && store ? await store.loadCheckpoint(backend) : null;
  if (ck) {
    const m = ck.meta as {
      rng: (number | null)[]; startEpoch: number; best: { loss: number; epoch: number; test: number }; sinceBest: number; step: number;
      earlyStopAt: number; stoppedEarly: boolean; order: number[]; cursor: number; identity: Record<string, unknown>;
      methodState: { topEigenvalue: number | null; previousSolution: number; eigenvector: number };
    };
    const ckWhere = `${where}: checkpoint`;
    if (ck.checksummed !== 'all') {
      throw new Error(`${ckWhere} was written by an older version whose checksum covers only the tensors (its configuration and optimizer settings cannot be verified); start the run afresh (--force)`);
    }
    if (!ck.optimizer || (meta && !ck.optimizers?.meta) || !m || typeof m !== 'object' || !m.identity) {
      throw new Error(`${ckWhere} has no optimizer states or run configuration; it was not written by an IML run`);
    }
    const diffs = configDifferences(m.identity, identity).filter((d) => !RESUMABLE_CHANGES.some((f) => d.startsWith(`${f}:`)));
    if (diffs.length > 0) {
      throw new Error(`${ckWhere} belongs to a different configuration; refusing to resume:\n  ${diffs.join('\n  ')}\n(use another run folder, or start afresh with --force)`);
    }
    params.forEach((p) => (p.value = need(ck.params, p.name, where)));
    lamRefs.forEach((l) => (l.value = need(ck.params, `lam:${l.name}`, where)));
    inner.loadStateDict(ck.optimizer);
    if (meta) meta.loadStateDict(ck.optimizers!.meta);
    // The learning rates are constant in this loop: a checkpoint with others was not written by this configuration.
    if (inner.lr !== config.innerLr) throw new Error(`${ckWhere}: inner optimizer lr ${inner.lr} differs from the configuration's innerLr ${config.innerLr}`);
    if (meta && meta.lr !== config.metaLr) throw new Error(`${ckWhere}: meta optimizer lr ${meta.lr} differs from the configuration's metaLr ${config.metaLr}`);
    rng.setState(m.rng.map((v) => (v === null ? NaN : v)));
    resumedOrder = { order: Int32Array.from(m.order), cursor: m.cursor };
    startEpoch = m.startEpoch;
    step = m.step;
    if (step !== ck.step || inner.stepCount !== step) throw new Error(`${ckWhere}: step counters disagree (meta ${step}, file ${ck.step}, optimizer ${inner.stepCount})`);
    sinceBest = m.sinceBest;
    earlyStopAt = m.earlyStopAt;
    stoppedEarly = m.stoppedEarly;
    const vectors = (prefix: string, n: number): Tensor[] => Array.from({ length: n }, (_, i) => need(ck.params, `${prefix}:${i}`, where));
    if (m.methodState.previousSolution > 0) state.previousSolution = vectors('state:previousSolution', m.methodState.previousSolution);
    if (m.methodState.eigenvector > 0) state.eigenvector = vectors('state:eigenvector', m.methodState.eigenvector);
    if (m.methodState.topEigenvalue !== null) state.topEigenvalue = m.methodState.topEigenvalue;
    const bw = params.map((p) => ck.params[`best:${p.name}`]);
    best = { ...m.best, snapshot: bw.every(Boolean) ? { w: bw, lam: lamRefs.map((l) => ck.params[`bestlam:${l.name}`]) } : null };
    // metrics.jsonl holds the checkpoint's epochs, perhaps more (written after it, or half-written when the
    // process died): the later ones are dropped; fewer than the checkpoint's is a damaged run.
    const stored = await store!.readMetrics(startEpoch - 1);
    if (stored.length < startEpoch - 1) {
      throw new Error(`${where}: metrics hold ${stored.length} meta-epochs but the checkpoint is at meta-epoch ${startEpoch - 1}; the metrics were truncated or replaced (refusing to resume with a gap)`);
    }
    stored.forEach((s, i) => {
      if (s?.metaEpoch !== i + 1) throw new Error(`${where}: metrics line ${i + 1} is meta-epoch ${String(s?.metaEpoch)}, expected ${i + 1}`);
    });
    metrics.push(...stored);
  }
  // The stored metrics are exactly the epochs of this run: the resumed prefix, or nothing.
  await store?.writeMetrics(metrics);

  // Inner steps need λ only through the penalty's gradient c ⊙ w; rebuild c when λ changes.
  let decay: { lam: Tensor[]; coefs: Tensor[] | null } | null = null;
  const decayCoefficients = (): Tensor[] | null => {
    const lam = lamRefs.map((l) => l.value);
    if (decay === null || decay.lam.some((l, i) => l !== lam[i])) decay = { lam, coefs: metaKnowledge.decayCoefficients(lam) };
    return decay.coefs;
  };

  let order = resumedOrder?.order ?? rng.permutation(data.train.count);
  let cursor = resumedOrder?.cursor ?? 0;
  const innerStep = async (epoch: number): Promise<void> => {
    if (cursor + config.innerBatch > order.length) {
      order = rng.permutation(data.train.count);
      cursor = 0;
    }
    const idx = order.subarray(cursor, Math.min(order.length, cursor + config.innerBatch));
    cursor += config.innerBatch;
    const { x, t } = batchTensors(data.train, idx, true, backend);
    const loss = (ws: Tensor[]): Tensor => functionalCall(model, ws, () => crossEntropy(model.forward(x, { training: true }), t));
    const { value, grads } = valueAndGrad(loss)(params.map((p) => p.value));
    step++;
    const v = (await value.data())[0];
    if (!Number.isFinite(v)) throw new ImlDivergence(epoch, step, `training loss is ${v}`);
    // ∇(data loss + penalty) = ∇ data loss + c ⊙ w for the quadratic L2 penalties: Adam adds c ⊙ w
    // to the gradient inside its update, like weight decay.
    inner.elementwiseDecay = decayCoefficients();
    inner.step(grads);
  };

  const metaBatch = (ds: ImageDataset): { x: Tensor; t: Tensor } => {
    const n = config.metaSubset > 0 ? Math.min(config.metaSubset, ds.count) : ds.count;
    const idx = n === ds.count ? Array.from({ length: n }, (_, i) => i) : rng.permutation(ds.count).subarray(0, n);
    return batchTensors(ds, idx, true, backend);
  };

  const metaStep = async (epoch: number): Promise<{ norm: number; approx: number; hvps: number; note: string; comparisons?: InverseHvpComparison[]; comparisonSeconds: number; bytes: number }> => {
    const tr = metaBatch(data.train);
    const va = metaBatch(data.validation);
    const w = params.map((p) => p.value);
    const lam = lamRefs.map((l) => l.value);
    // Closed-form penalty curvature when the meta-knowledge has it (the L2 forms): the HVPs then
    // differentiate the data loss only.
    const closed = config.closedFormPenalty === false ? undefined : metaKnowledge.closedForm?.(w, lam);
    const trainLoss: LossFn = (ws, lm) => functionalCall(model, ws, () => {
      const ce = crossEntropy(model.forward(tr.x, { training: true, updateStats: false }), tr.t);
      const pen = closed ? null : metaKnowledge.penalty(ws, lm);
      return pen ? add(ce, pen) : ce;
    });
    const valLoss: LossFn = (ws) => functionalCall(model, ws, () => crossEntropy(model.forward(va.x, { training: false }), va.t));
    const cmp = config.compare && epoch > 0 && epoch % config.compare.every === 0 ? config.compare : undefined;
    let r: Awaited<ReturnType<typeof hypergradient>>;
    try {
      r = await hypergradient(trainLoss, valLoss, w, lam, method, state, cmp, closed);
    } catch (e) {
      if (e instanceof NonFiniteError) throw new ImlDivergence(epoch, step, e.message);
      throw e;
    }
    if (!Number.isFinite(r.hypergradNorm)) throw new ImlDivergence(epoch, step, `hypergradient norm is ${r.hypergradNorm} (${r.ihvp.note})`);
    meta!.step(r.hypergrad);
    return { norm: r.hypergradNorm, approx: r.seconds.approximation, hvps: r.ihvp.hvps, note: r.ihvp.note, comparisons: r.comparisons, comparisonSeconds: r.seconds.comparison, bytes: r.approximationBytes };
  };

  const meanDecay = async (): Promise<number> => {
    let s = 0;
    let n = 0;
    for (const l of lamRefs) {
      const sp = await noGrad(() => softplus(l.value)).data();
      for (const v of sp) s += v;
      n += l.value.size;
    }
    return n ? s / n : 0;
  };

  let diverged: ImlSummary['diverged'] = null;
  try {
    if (startEpoch === 1) for (let i = 0; i < config.warmupSteps; i++) await innerStep(0);
    // A resumed run that had stopped early is finished: nothing more to train.
    for (let epoch = startEpoch; !stoppedEarly && epoch <= config.metaEpochs; epoch++) {
      const t0 = performance.now();
      let approx = 0;
      let norm = 0;
      let hvps = 0;
      let note = '';
      let comparisons: InverseHvpComparison[] | undefined;
      let comparisonSeconds = 0;
      let bytes = 0;
      for (let i = 0; i < config.innerSteps; i++) {
        await innerStep(epoch);
        if (method.kind === 't1t2') {
          const r = await metaStep(epoch);
          approx += r.approx;
          bytes = Math.max(bytes, r.bytes);
          norm = r.norm;
          note = r.note;
        }
      }
      if (!isBaseline && method.kind !== 't1t2') {
        const r = await metaStep(epoch);
        approx = r.approx;
        norm = r.norm;
        hvps = r.hvps;
        note = r.note;
        comparisons = r.comparisons;
        comparisonSeconds = r.comparisonSeconds;
        bytes = r.bytes;
      }
      // Time spent on exact comparisons is bookkeeping, not part of the method's cost.
      const epochSeconds = (performance.now() - t0) / 1000 - comparisonSeconds;
      const m: MetaEpochMetrics = {
        metaEpoch: epoch, innerStep: step,
        train: await evaluate(model, data.train), validation: await evaluate(model, data.validation), test: await evaluate(model, data.test),
        hypergradNorm: norm, meanDecay: await meanDecay(), epochSeconds, approximationSeconds: approx, approximationBytes: bytes, hvps, note, comparisons,
      };
      metrics.push(m);
      await store?.appendMetrics(m);
      await hooks.onMetaEpoch?.(m);
      // Once patience has run out the early-stopping checkpoint is frozen, also when training goes on.
      if (earlyStopAt === 0) {
        if (m.validation.loss < best.loss) {
          best = { loss: m.validation.loss, epoch, test: m.test.accuracy, snapshot: { w: params.map((p) => p.value), lam: lamRefs.map((l) => l.value) } };
          sinceBest = 0;
        } else {
          sinceBest++;
        }
        if (config.patience > 0 && sinceBest >= config.patience) earlyStopAt = epoch;
      }
      const stopNow = earlyStopAt === epoch && !config.continueAfterEarlyStop;
      const last = stopNow || epoch === config.metaEpochs;
      // The last meta-epoch is always checkpointed, so resuming a finished run trains no further.
      if (store && ((config.checkpointEvery > 0 && epoch % config.checkpointEvery === 0) || (last && config.checkpointEvery > 0))) {
        await saveState(store, epoch + 1, stopNow);
      }
      if (stopNow) {
        stoppedEarly = true;
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof ImlDivergence)) throw e;
    diverged = { metaEpoch: e.metaEpoch, step: e.step, what: e.what };
  }

  async function saveState(to: RunStore, nextEpoch: number, finished = false): Promise<void> {
    const named: Record<string, Tensor> = {};
    params.forEach((p) => (named[p.name] = p.value));
    lamRefs.forEach((l) => (named[`lam:${l.name}`] = l.value));
    if (best.snapshot) {
      params.forEach((p, i) => (named[`best:${p.name}`] = best.snapshot!.w[i]));
      lamRefs.forEach((l, i) => (named[`bestlam:${l.name}`] = best.snapshot!.lam[i]));
    }
    // The inverse-HVP method's carried state (CG warm start, power-iteration vector) continues the run too.
    state.previousSolution?.forEach((t, i) => (named[`state:previousSolution:${i}`] = t));
    state.eigenvector?.forEach((t, i) => (named[`state:eigenvector:${i}`] = t));
    const methodState = { previousSolution: state.previousSolution?.length ?? 0, eigenvector: state.eigenvector?.length ?? 0, topEigenvalue: state.topEigenvalue ?? null };
    await to.saveCheckpoint({
      params: named,
      optimizer: await inner.stateDictAsync(),
      optimizers: meta ? { meta: await meta.stateDictAsync() } : undefined,
      step,
      meta: {
        identity, order: Array.from(order), cursor, rng: rng.getState().map((v) => (Number.isNaN(v) ? null : v)), startEpoch: nextEpoch,
        best: { loss: best.loss, epoch: best.epoch, test: best.test }, sinceBest, earlyStopAt, stoppedEarly: finished, step, methodState,
      },
    });
  }

  if (store && best.snapshot) {
    const named: Record<string, Tensor> = {};
    params.forEach((p, i) => (named[p.name] = best.snapshot!.w[i]));
    lamRefs.forEach((l, i) => (named[`lam:${l.name}`] = best.snapshot!.lam[i]));
    await store.saveBest({ params: named, step, meta: { metaEpoch: best.epoch, validationLoss: best.loss } });
  }

  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const last = metrics.at(-1);
  return {
    metrics,
    summary: {
      method: methodLabel(method),
      metaKnowledge: metaKnowledge.kind,
      seed: config.seed,
      metaEpochsRun: metrics.length,
      stoppedEarly,
      earlyStopEpoch: earlyStopAt || null,
      diverged,
      trainMax: Math.max(0, ...metrics.map((m) => m.train.accuracy)),
      validationMax: Math.max(0, ...metrics.map((m) => m.validation.accuracy)),
      test: last?.test.accuracy ?? 0,
      esTest: best.test,
      bestMetaEpoch: best.epoch,
      meanEpochSeconds: mean(metrics.map((m) => m.epochSeconds)),
      meanApproximationSeconds: mean(metrics.map((m) => m.approximationSeconds)),
      maxApproximationBytes: Math.max(0, ...metrics.map((m) => m.approximationBytes ?? 0)),
    },
  };
}

function need(params: Record<string, Tensor>, name: string, where: string): Tensor {
  const t = params[name];
  if (!t) throw new Error(`${where}: checkpoint has no tensor '${name}' (was it written by another model or method?)`);
  return t;
}
