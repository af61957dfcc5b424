// The generic bilevel (implicit meta-learning) loop: warm-up, inner steps, hypergradient meta-steps, early stopping, checkpoints and exact resume.

import { tidyAsync } from '../core/scope.js';
import { retain, type Tensor } from '../core/tensor.js';
import { NonFiniteError, SolverFailure } from '../hypergrad/inverse-hvp.js';
import { hypergradient, type HypergradientResult, type InverseHvpComparison, type MethodState } from '../hypergrad/hypergradient.js';
import { methodLabel } from '../hypergrad/methods.js';
import type { RunStore } from '../iml/run-store.js';
import type { ParamRef } from '../optim/optimizer.js';
import { Random } from '../util/random.js';
import { bilevelIdentity, RESUMABLE_CHANGES, type BilevelConfig } from './config.js';
import { configDifferences } from './config-differences.js';
import { BilevelDivergence } from './divergence.js';
import { createMetaOptimizer } from './meta-optimizer.js';
import type { BilevelProblem, ProblemState } from './problem.js';

/** What the loop measures in every meta-epoch; the problem's evaluation metrics are added to it. */
export interface BilevelEpochBase {
  metaEpoch: number;
  /** Inner steps taken so far (warm-up included). */
  innerStep: number;
  /** Norm of the last hypergradient of the meta-epoch (0 for the baseline). */
  hypergradNorm: number;
  /** Wall-clock seconds of the meta-epoch's training, without evaluation and comparisons. */
  epochSeconds: number;
  approximationSeconds: number;
  /** Tensor bytes allocated by the inverse-HVP approximation in this meta-epoch (largest single meta-step). */
  approximationBytes: number;
  hvps: number;
  note: string;
  comparisons?: InverseHvpComparison[];
}

/** One meta-epoch's record: the loop's numbers and the problem's metrics. */
export type BilevelEpochMetrics<R extends object> = Omit<R, keyof BilevelEpochBase> & BilevelEpochBase;

/** Hooks of runBilevel: progress, where the run is kept, resuming, and what identifies the run. */
export interface BilevelHooks<R extends object> {
  /** Called after every meta-epoch with its record; a returned promise is awaited. */
  onMetaEpoch?: (m: BilevelEpochMetrics<R>) => void | Promise<void>;
  /** Called after every meta-step with the point (θ, ω before the update) and the hypergradient the meta optimizer was given. */
  onMetaStep?: (s: { metaEpoch: number; step: number; theta: readonly Tensor[]; meta: readonly Tensor[]; result: HypergradientResult }) => void | Promise<void>;
  /** Where metrics, checkpoints and the best snapshot go. */
  store?: RunStore<BilevelEpochMetrics<R>>;
  /** Continue from the store's checkpoint. */
  resume?: boolean;
  /**
   * The run's identity recorded in every checkpoint (resuming with a different one is refused with the
   * differences, RESUMABLE_CHANGES aside). Default: bilevelIdentity(config, problem).
   */
  identity?: Readonly<Record<string, unknown>>;
}

export interface BilevelResult<R extends object> {
  metrics: BilevelEpochMetrics<R>[];
  /** The run ended because patience ran out (not continued). */
  stoppedEarly: boolean;
  /** Meta-epoch at which patience ran out (whether or not training continued), or null. */
  earlyStopEpoch: number | null;
  diverged: { metaEpoch: number; step: number; what: string } | null;
  /** The meta-epoch with the lowest validation loss before patience ran out (metaEpoch 0: none). */
  best: { metaEpoch: number; validationLoss: number; esScore: number; theta: Tensor[] | null; meta: Tensor[] | null };
  /** ω at the end (the best snapshot's with restoreBest). */
  meta: Tensor[];
  /** Inner steps taken. */
  step: number;
}

/** What the epoch loop keeps of a meta-step: numbers, no tensors. */
type MetaStepNumbers = Pick<HypergradientResult, 'seconds' | 'approximationBytes' | 'hypergradNorm' | 'comparisons'> & { ihvp: { hvps: number; note: string } };

/** Fields of a checkpoint's meta written by the loop; a problem's JSON state may not use them. */
const LOOP_META_KEYS = ['identity', 'rng', 'startEpoch', 'best', 'sinceBest', 'earlyStopAt', 'stoppedEarly', 'step', 'methodState'];
/** Prefixes of the loop's tensor names in a checkpoint (besides θ's own names). */
const LOOP_TENSOR_PREFIXES = ['lam:', 'best:', 'bestlam:', 'state:'];

interface LoopMeta {
  identity: Record<string, unknown>;
  rng: (number | null)[];
  startEpoch: number;
  best: { loss: number; epoch: number; test: number };
  sinceBest: number;
  earlyStopAt: number;
  stoppedEarly: boolean;
  step: number;
  methodState: { topEigenvalue: number | null; previousSolution: number; eigenvector: number };
}

function checkConfig(config: BilevelConfig): void {
  const count = (name: keyof BilevelConfig, v: unknown, min = 0): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`runBilevel: config.${name} must be an integer >= ${min}, got ${String(v)}`);
  };
  count('innerSteps', config.innerSteps);
  count('metaEpochs', config.metaEpochs);
  count('warmupSteps', config.warmupSteps);
  count('patience', config.patience);
  count('checkpointEvery', config.checkpointEvery);
  if (config.compare) count('compare', config.compare.every, 1);
}

/**
 * Runs a bilevel problem: `warmupSteps` inner steps, then meta-epochs of `innerSteps` inner steps followed by
 * one meta-step (T1-T2: one after every inner step) that applies the implicit hypergradient of the problem's
 * outer loss to ω through the meta optimizer. Early stopping follows the problem's validation loss; checkpoints
 * hold θ, ω, both optimizers, the random stream, the inverse-HVP method's carried state and the problem's state,
 * so a resumed run continues bit for bit. A non-finite loss or hypergradient ends the run as diverged.
 */
export async function runBilevel<R extends object>(problem: BilevelProblem<R>, config: BilevelConfig, hooks: BilevelHooks<R> = {}): Promise<BilevelResult<R>> {
  checkConfig(config);
  const rng = new Random(config.seed);
  const params: readonly ParamRef[] = problem.innerParams();
  const backend = params[0]?.value.backend;
  const initial = problem.init(rng);
  if (initial.length !== problem.metaNames.length) {
    throw new Error(`runBilevel: ${problem.kind}.init returned ${initial.length} meta-parameter tensors for ${problem.metaNames.length} names (${problem.metaNames.join(', ')})`);
  }
  const metaRefs: ParamRef[] = initial.map((value, i) => ({ name: problem.metaNames[i], value }));
  const method = config.method;
  const isBaseline = method.kind === 'baseline';
  // The baseline has no meta-parameters to learn, hence no meta optimizer.
  const metaOpt = metaRefs.length > 0 ? createMetaOptimizer(metaRefs, config.metaLr, config.metaOptimizer) : null;
  // Every hypergradient reaches the meta optimizer after its norm was found finite (metaStep), and a finite sum of
  // squares has no NaN or infinite term: the optimizer's own scan of the gradient would find nothing.
  if (metaOpt) metaOpt.checkFinite = false;
  if (!isBaseline && metaOpt === null) throw new Error(`runBilevel: '${problem.kind}' has no meta-parameters, so ${methodLabel(method)} has nothing to learn (use the baseline method)`);
  const metaLr = metaOpt?.lr ?? 0;
  const methodState: MethodState = {};
  const metrics: BilevelEpochMetrics<R>[] = [];
  const omega = (): Tensor[] => metaRefs.map((l) => l.value);
  let step = 0;
  let startEpoch = 1;
  let best = { loss: Infinity, epoch: 0, test: 0, snapshot: null as { theta: Tensor[]; meta: Tensor[] } | null };
  let sinceBest = 0;
  /** Meta-epoch at which patience ran out (0: not yet); the run stops there unless continueAfterEarlyStop. */
  let earlyStopAt = 0;
  let stoppedEarly = false;
  const store = hooks.store ?? null;
  const where = store?.location ?? 'bilevel run';
  const identity = JSON.parse(JSON.stringify(hooks.identity ?? bilevelIdentity(config, problem))) as Record<string, unknown>;

  const ck = hooks.resume && store ? await store.loadCheckpoint(backend) : null;
  if (ck) {
    const m = ck.meta as LoopMeta;
    const ckWhere = `${where}: checkpoint`;
    if (ck.checksummed !== 'all') {
      throw new Error(`${ckWhere} was written by an older version whose checksum covers only the tensors (its configuration and optimizer settings cannot be verified); start the run afresh (--force)`);
    }
    if ((metaOpt && !ck.optimizers?.meta) || !m || typeof m !== 'object' || !m.identity) {
      throw new Error(`${ckWhere} has no optimizer states or run configuration; it was not written by an IML run`);
    }
    const diffs = configDifferences(m.identity, identity).filter((d) => !RESUMABLE_CHANGES.some((f) => d.startsWith(`${f}:`)));
    if (diffs.length > 0) {
      throw new Error(`${ckWhere} belongs to a different configuration; refusing to resume:\n  ${diffs.join('\n  ')}\n(use another run folder, or start afresh with --force)`);
    }
    params.forEach((p) => (p.value = need(ck.params, p.name, where)));
    metaRefs.forEach((l) => (l.value = need(ck.params, `lam:${l.name}`, where)));
    if (metaOpt) {
      metaOpt.loadStateDict(ck.optimizers!.meta);
      // The meta learning rate is constant in this loop: a checkpoint with another was not written by this configuration.
      if (metaOpt.lr !== metaLr) throw new Error(`${ckWhere}: meta optimizer lr ${metaOpt.lr} differs from the configuration's metaLr ${metaLr}`);
    }
    if (m.step !== ck.step) throw new Error(`${ckWhere}: step counters disagree (meta ${m.step}, file ${ck.step})`);
    const { meta: _meta, ...problemOptimizers } = ck.optimizers ?? {};
    problem.restore({ tensors: ck.params, optimizer: ck.optimizer, optimizers: problemOptimizers, json: m as unknown as Record<string, unknown>, step: m.step, where: ckWhere });
    rng.setState(m.rng.map((v) => (v === null ? NaN : v)));
    startEpoch = m.startEpoch;
    step = m.step;
    sinceBest = m.sinceBest;
    earlyStopAt = m.earlyStopAt;
    stoppedEarly = m.stoppedEarly;
    const vectors = (prefix: string, n: number): Tensor[] => Array.from({ length: n }, (_, i) => need(ck.params, `${prefix}:${i}`, where));
    if (m.methodState.previousSolution > 0) methodState.previousSolution = vectors('state:previousSolution', m.methodState.previousSolution);
    if (m.methodState.eigenvector > 0) methodState.eigenvector = vectors('state:eigenvector', m.methodState.eigenvector);
    if (m.methodState.topEigenvalue !== null) methodState.topEigenvalue = m.methodState.topEigenvalue;
    const bw = params.map((p) => ck.params[`best:${p.name}`]);
    best = { ...m.best, snapshot: bw.every(Boolean) ? { theta: bw, meta: metaRefs.map((l) => ck.params[`bestlam:${l.name}`]) } : null };
    // The stored metrics hold the checkpoint's epochs, perhaps more (written after it, or half-written when the
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

  // With problem.tidy, each inner step, meta-step and evaluation runs in a tidy scope: its temporaries go back to
  // the backend's pool; what it writes into state (parameters, optimizer buffers, carried solver state, running
  // statistics) is kept.
  const scoped = <T>(fn: () => Promise<T>): Promise<T> => (problem.tidy ? tidyAsync(fn) : fn());
  const innerStep = (epoch: number): Promise<void> => scoped(async () => {
    const s = await problem.innerStep(omega(), { rng, metaEpoch: epoch, step });
    step++;
    if (!Number.isFinite(s.loss)) throw new BilevelDivergence(epoch, step, `training loss is ${s.loss}`);
    await s.apply();
  });

  /** One meta-step; returns its numbers only, so that in a tidy scope every tensor of the hypergradient is freed. */
  const metaStep = (epoch: number, compare: boolean): Promise<MetaStepNumbers> => scoped(async () => {
    const theta = params.map((p) => p.value);
    const lam = omega();
    const objective = await problem.metaObjective(theta, lam, rng);
    const cmp = compare && config.compare && epoch > 0 && epoch % config.compare.every === 0 ? config.compare : undefined;
    let r: HypergradientResult;
    try {
      // L_T's value is read only by an onMetaStep hook: without one it is not computed where it would cost a pass.
      r = await hypergradient(objective.trainLoss, objective.valLoss, theta, lam, method, methodState, cmp, objective.closedForm, { trainLoss: hooks.onMetaStep !== undefined });
    } catch (e) {
      // A diverging series, or a method that cannot solve here (a singular Hessian for the exact solve): the run ends
      // at this step, recorded with it, and a recipe goes on with its other runs.
      if (e instanceof NonFiniteError || e instanceof SolverFailure) throw new BilevelDivergence(epoch, step, e.message);
      throw e;
    }
    if (!Number.isFinite(r.hypergradNorm)) throw new BilevelDivergence(epoch, step, `hypergradient norm is ${r.hypergradNorm} (${r.ihvp.note})`);
    // The meta optimizer disposes the ω it replaces: the hook sees it through handles of its own.
    const before = hooks.onMetaStep ? lam.map(retain) : null;
    metaOpt!.step(r.hypergrad);
    try {
      if (before) await hooks.onMetaStep?.({ metaEpoch: epoch, step, theta, meta: before, result: r });
    } finally {
      before?.forEach((t) => t.dispose());
    }
    return {
      seconds: { ...r.seconds }, approximationBytes: r.approximationBytes, hypergradNorm: r.hypergradNorm,
      ihvp: { hvps: r.ihvp.hvps, note: r.ihvp.note }, comparisons: r.comparisons,
    };
  });

  async function saveState(to: RunStore<BilevelEpochMetrics<R>>, nextEpoch: number, finished: boolean): Promise<void> {
    const named: Record<string, Tensor> = {};
    params.forEach((p) => (named[p.name] = p.value));
    metaRefs.forEach((l) => (named[`lam:${l.name}`] = l.value));
    if (best.snapshot) {
      params.forEach((p, i) => (named[`best:${p.name}`] = best.snapshot!.theta[i]));
      metaRefs.forEach((l, i) => (named[`bestlam:${l.name}`] = best.snapshot!.meta[i]));
    }
    // The inverse-HVP method's carried state (CG warm start, power-iteration vector) continues the run too.
    methodState.previousSolution?.forEach((t, i) => (named[`state:previousSolution:${i}`] = t));
    methodState.eigenvector?.forEach((t, i) => (named[`state:eigenvector:${i}`] = t));
    const own = await problem.state();
    addProblemTensors(named, own, params, problem.kind);
    const json = problemJson(own, problem.kind);
    const optimizers = { ...own.optimizers };
    if ('meta' in optimizers) throw new Error(`runBilevel: ${problem.kind}.state() names an optimizer 'meta' (the loop's meta optimizer)`);
    if (metaOpt) optimizers.meta = await metaOpt.stateDictAsync();
    const methodMeta = { previousSolution: methodState.previousSolution?.length ?? 0, eigenvector: methodState.eigenvector?.length ?? 0, topEigenvalue: methodState.topEigenvalue ?? null };
    const meta: LoopMeta = {
      identity, ...json, rng: rng.getState().map((v) => (Number.isNaN(v) ? null : v)), startEpoch: nextEpoch,
      best: { loss: best.loss, epoch: best.epoch, test: best.test }, sinceBest, earlyStopAt, stoppedEarly: finished, step, methodState: methodMeta,
    };
    await to.saveCheckpoint({ params: named, optimizer: own.optimizer, optimizers: Object.keys(optimizers).length > 0 ? optimizers : undefined, step, meta });
  }

  let diverged: BilevelResult<R>['diverged'] = null;
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
          const r = await metaStep(epoch, false);
          approx += r.seconds.approximation;
          bytes = Math.max(bytes, r.approximationBytes);
          norm = r.hypergradNorm;
          note = r.ihvp.note;
        }
      }
      if (!isBaseline && method.kind !== 't1t2') {
        const r = await metaStep(epoch, true);
        approx = r.seconds.approximation;
        norm = r.hypergradNorm;
        hvps = r.ihvp.hvps;
        note = r.ihvp.note;
        comparisons = r.comparisons;
        comparisonSeconds = r.seconds.comparison;
        bytes = r.approximationBytes;
      }
      // Time spent on exact comparisons is bookkeeping, not part of the method's cost.
      const epochSeconds = (performance.now() - t0) / 1000 - comparisonSeconds;
      const ev = await scoped(() => problem.evaluate(omega(), { metaEpoch: epoch, step }));
      const m = {
        metaEpoch: epoch, innerStep: step, ...ev.metrics,
        hypergradNorm: norm, epochSeconds, approximationSeconds: approx, approximationBytes: bytes, hvps, note, comparisons,
      } as BilevelEpochMetrics<R>;
      metrics.push(m);
      await store?.appendMetrics(m);
      await hooks.onMetaEpoch?.(m);
      // Once patience has run out the early-stopping snapshot is frozen, also when training goes on.
      if (earlyStopAt === 0) {
        if (ev.validationLoss < best.loss) {
          // Handles, not the values themselves: the optimizers dispose the values they replace.
          releaseSnapshot(best.snapshot);
          best = { loss: ev.validationLoss, epoch, test: ev.esScore, snapshot: { theta: params.map((p) => retain(p.value)), meta: omega().map(retain) } };
          sinceBest = 0;
        } else {
          sinceBest++;
        }
        if (config.patience > 0 && sinceBest >= config.patience) earlyStopAt = epoch;
      }
      const stopNow = earlyStopAt === epoch && !config.continueAfterEarlyStop;
      const last = stopNow || epoch === config.metaEpochs;
      // The last meta-epoch is always checkpointed, so resuming a finished run trains no further.
      if (store && config.checkpointEvery > 0 && (epoch % config.checkpointEvery === 0 || last)) await saveState(store, epoch + 1, stopNow);
      if (stopNow) {
        stoppedEarly = true;
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof BilevelDivergence)) throw e;
    diverged = { metaEpoch: e.metaEpoch, step: e.step, what: e.what };
  }

  if (store && best.snapshot) {
    const named: Record<string, Tensor> = {};
    params.forEach((p, i) => (named[p.name] = best.snapshot!.theta[i]));
    metaRefs.forEach((l, i) => (named[`lam:${l.name}`] = best.snapshot!.meta[i]));
    await store.saveBest({ params: named, step, meta: { metaEpoch: best.epoch, validationLoss: best.loss } });
  }
  if (config.restoreBest && best.snapshot) {
    params.forEach((p, i) => (p.value = best.snapshot!.theta[i]));
    metaRefs.forEach((l, i) => (l.value = best.snapshot!.meta[i]));
  }
  return {
    metrics,
    stoppedEarly,
    earlyStopEpoch: earlyStopAt || null,
    diverged,
    best: { metaEpoch: best.epoch, validationLoss: best.loss, esScore: best.test, theta: best.snapshot?.theta ?? null, meta: best.snapshot?.meta ?? null },
    meta: omega(),
    step,
  };
}

/** Frees an early-stopping snapshot's handles (the storage stays while anything else holds it). */
function releaseSnapshot(s: { theta: Tensor[]; meta: Tensor[] } | null): void {
  s?.theta.forEach((t) => t.dispose());
  s?.meta.forEach((t) => t.dispose());
}

/** Adds the problem's tensors to a checkpoint's, refusing names that θ or the loop use. */
function addProblemTensors(named: Record<string, Tensor>, own: ProblemState, params: readonly ParamRef[], kind: string): void {
  const thetaNames = new Set(params.map((p) => p.name));
  for (const [name, t] of Object.entries(own.tensors ?? {})) {
    if (thetaNames.has(name) || LOOP_TENSOR_PREFIXES.some((p) => name.startsWith(p))) {
      throw new Error(`runBilevel: ${kind}.state() tensor '${name}' clashes with θ's names or the loop's prefixes (${LOOP_TENSOR_PREFIXES.join(', ')})`);
    }
    named[name] = t;
  }
}

/** The problem's JSON state, refusing the loop's field names. */
function problemJson(own: ProblemState, kind: string): Record<string, unknown> {
  const json = own.json ?? {};
  const clash = Object.keys(json).find((k) => LOOP_META_KEYS.includes(k));
  if (clash !== undefined) throw new Error(`runBilevel: ${kind}.state() JSON field '${clash}' is one of the loop's (${LOOP_META_KEYS.join(', ')})`);
  return json;
}

function need(params: Record<string, Tensor>, name: string, where: string): Tensor {
  const t = params[name];
  if (!t) throw new Error(`${where}: checkpoint has no tensor '${name}' (was it written by another model or method?)`);
  return t;
}
