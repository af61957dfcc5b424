// The thesis' Confidence Network protocol (5.3.1) over OOD settings and seeds, portable: phase 1 learns the CN (and the per-image table) with FixMatch on runBilevel and keeps the best-validation ω; phase 2 trains supervised, FixMatch, FixMatch + CN and FixMatch + table from scratch; the result is ConfidenceSettingResult.

import type { Backend } from '../backend/backend.js';
import type { BilevelConfig } from '../bilevel/config.js';
import { runBilevel, type BilevelEpochMetrics } from '../bilevel/loop.js';
import type { Tensor } from '../core/tensor.js';
import type { ImageDataset } from '../data/dataset.js';
import { parseMethod, methodLabel } from '../hypergrad/methods.js';
import type { RunStore } from '../iml/run-store.js';
import { Random } from '../util/random.js';
import { ConfidenceNet } from './confidence-net.js';
import { confidenceProblem, type ConfidenceMetrics, type ConfidenceWeighting } from './confidence-problem.js';
import type { ConfidenceMethod, ConfidenceSetting, ConfidenceSettingResult, WeightLearningRun } from './confidence-results.js';
import { warmUpConfidenceNet } from './confidence-warmup.js';
import { validateFixMatchConfig, type FixMatchConfig } from './fixmatch-config.js';
import { createSslModel } from './models.js';
import { classMismatchSplit, oodSplit, type OodSplit } from './ood-split.js';
import { SampleWeightTable } from './sample-weight-table.js';
import { parseWeightNormalisation, type WeightNormalisation } from './weight-normalisation.js';

export type ConfidenceRecord = BilevelEpochMetrics<ConfidenceMetrics>;

/** Everything that decides a Confidence Network experiment's numbers (JSON: the run folder's config). */
export interface ConfidenceProtocol {
  /** The task data set, as the environment loads it (absent: MNIST, the default of folders written before the option existed). */
  dataset?: string;
  labelsPerClass: number;
  validationPerClass: number;
  /** In-distribution images in every setting's unlabelled pool (OOD images are added to them). */
  poolInDistribution: number;
  seeds: number[];
  settings: ConfidenceSetting[];
  /** The weight learners of phase 1. */
  weightings: ('cn' | 'table')[];
  /** The models of phase 2 (a weighted one needs its learner in `weightings`). */
  methods: ConfidenceMethod[];
  /** FixMatch's settings for both phases (steps: see phase1 and phase2). */
  fixmatch: Omit<FixMatchConfig, 'method' | 'seed' | 'steps'>;
  phase1: {
    /** FixMatch steps before the first meta-step. */
    warmupSteps: number;
    /** FixMatch steps between meta-steps (the loop's innerSteps). */
    metaEvery: number;
    metaEpochs: number;
    /** Inverse-HVP method spec (parseMethod), default 'identity'. */
    method: string;
    normalisation: WeightNormalisation;
    /** Adam's learning rate on ω, per learner. */
    metaLr: { cn: number; table: number };
    /** Unlabelled images in a meta-step's L_T, per learner (0: μB, the inner batch's). */
    metaUnlabelled: { cn: number; table: number };
    /** Validation images per meta-step (0: all). */
    metaValidation: number;
    /** Adam steps of the CN warm-up (outputs → 1) before phase 1. */
    cnWarmupSteps: number;
    cnWidths: [number, number];
    /** Meta-epochs without a lower validation loss before weight learning stops (0: never). */
    patience: number;
    /** Checkpoint every this many meta-epochs. */
    checkpointEvery: number;
  };
  phase2: {
    steps: number;
    /** Steps between evaluations (and checkpoints); divides steps. */
    evalEvery: number;
  };
  /** Pool images whose weights are recorded after every meta-epoch (at most). */
  poolSample: number;
}

/** Where the experiment gets its data and keeps its runs (the CLI: MNIST + Fashion-MNIST and run folders; tests: memory). */
export interface ConfidenceExperimentEnv {
  /** The split of a setting for a seed (e.g. confidenceSplit of loaded data sets). */
  split(setting: ConfidenceSetting, seed: number): OodSplit;
  /** The store of one run, named '<setting>-seed<k>/<part>' (part: 'phase1-cn', 'phase1-table', 'phase2-<method>'). */
  store(run: string): RunStore<ConfidenceRecord>;
  /** Continue runs from their stores' checkpoints. */
  resume?: boolean;
  backend?: Backend;
  /** Progress: a run starts (total inner steps), a meta-epoch / evaluation ends. */
  onRunStart?(run: string, totalSteps: number): void;
  onRecord?(run: string, m: ConfidenceRecord): void;
}

/** 'ood-25' (25% Fashion-MNIST in the pool), 'mismatch-50' (50% unseen classes), 'none' (= 'ood-0'); throws naming the bad label. */
export function parseConfidenceSetting(label: string): ConfidenceSetting {
  if (label === 'none') return { kind: 'none', share: 0, label };
  const m = /^(ood|mismatch)-(\d{1,2})$/.exec(label);
  if (!m) throw new Error(`unknown setting '${label}'; expected ood-<percent>, mismatch-<percent> (percent 0-99) or none`);
  const share = Number(m[2]) / 100;
  if (m[1] === 'mismatch' && share === 0) throw new Error(`setting '${label}': a class-mismatch pool needs a share above 0`);
  return { kind: m[1] === 'ood' ? (share === 0 ? 'none' : 'ood') : 'mismatch', share, label };
}

/** The split of a setting: oodSplit with `ood` images, classMismatchSplit (digits 6-9 unseen), or the in-distribution pool alone. */
export function confidenceSplit(setting: ConfidenceSetting, train: ImageDataset, test: ImageDataset, ood: ImageDataset | null, o: { labelsPerClass: number; validationPerClass: number; poolInDistribution: number; seed: number }): OodSplit {
  const opts = { labelledPerClass: o.labelsPerClass, validationPerClass: o.validationPerClass, inDistributionCount: o.poolInDistribution, oodShare: setting.share, seed: o.seed };
  if (setting.kind === 'mismatch') return classMismatchSplit(train, test, opts);
  if (setting.kind === 'ood' && ood === null) throw new Error(`setting '${setting.label}' needs an out-of-distribution data set`);
  return oodSplit(train, test, ood ?? train, { ...opts, oodShare: setting.kind === 'none' ? 0 : setting.share });
}

/** Throws naming the first bad field of a protocol. */
export function validateConfidenceProtocol(p: ConfidenceProtocol): void {
  const int = (name: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new Error(`Confidence protocol: ${name} must be an integer >= ${min}, got ${String(v)}`);
  };
  int('labelsPerClass', p.labelsPerClass, 1);
  int('validationPerClass', p.validationPerClass, 1);
  int('poolInDistribution', p.poolInDistribution, 1);
  int('phase1.warmupSteps', p.phase1.warmupSteps, 0);
  int('phase1.metaEvery', p.phase1.metaEvery, 1);
  int('phase1.metaEpochs', p.phase1.metaEpochs, 1);
  int('phase1.metaValidation', p.phase1.metaValidation, 0);
  int('phase1.cnWarmupSteps', p.phase1.cnWarmupSteps, 0);
  int('phase1.patience', p.phase1.patience, 0);
  int('phase1.checkpointEvery', p.phase1.checkpointEvery, 1);
  int('phase2.steps', p.phase2.steps, 1);
  int('phase2.evalEvery', p.phase2.evalEvery, 1);
  int('poolSample', p.poolSample, 0);
  if (p.phase2.steps % p.phase2.evalEvery !== 0) throw new Error(`Confidence protocol: phase2.steps (${p.phase2.steps}) must be a multiple of phase2.evalEvery (${p.phase2.evalEvery})`);
  const method = parseMethod(p.phase1.method);
  if (method.kind === 'baseline' || method.kind === 'exact') throw new Error(`Confidence protocol: phase1.method '${p.phase1.method}' cannot learn the weights here (choose identity, neumann, damped-neumann, cg or t1t2)`);
  parseWeightNormalisation(p.phase1.normalisation);
  for (const [k, v] of Object.entries(p.phase1.metaLr)) if (!(v > 0 && Number.isFinite(v))) throw new Error(`Confidence protocol: phase1.metaLr.${k} must be a finite number > 0, got ${v}`);
  if (!p.phase1.metaUnlabelled) throw new Error('Confidence protocol: phase1.metaUnlabelled is missing (unlabelled images per meta-step for cn and table; 0 = μB)');
  for (const [k, v] of Object.entries(p.phase1.metaUnlabelled)) int(`phase1.metaUnlabelled.${k}`, v, 0);
  if (p.seeds.length === 0 || p.settings.length === 0) throw new Error('Confidence protocol: needs at least one seed and one setting');
  for (const m of p.methods) {
    const needs = m === 'fixmatch+cn' ? 'cn' : m === 'fixmatch+table' ? 'table' : null;
    if (needs && !p.weightings.includes(needs)) throw new Error(`Confidence protocol: method '${m}' needs the '${needs}' weighting in phase 1`);
  }
  for (const method of ['fixmatch', 'supervised'] as const) validateFixMatchConfig({ ...p.fixmatch, method, seed: 0, steps: 1, mu: method === 'supervised' ? 0 : p.fixmatch.mu });
}

/** Seeded pool indices whose weights every snapshot records: up to `count` of the pool, in a seeded order. */
export function poolSampleIndices(poolSize: number, count: number, seed: number): number[] {
  const perm = new Random(seed).permutation(poolSize);
  return Array.from(perm.subarray(0, Math.min(count, poolSize)));
}

const runPrefix = (setting: ConfidenceSetting, seed: number): string => `${setting.label}-seed${seed}`;

/** Phase 1 for one learner: CN warm-up (CN only), FixMatch + meta-steps on runBilevel; the best-validation ω and the learning record. */
async function learnWeights(p: ConfidenceProtocol, split: OodSplit, setting: ConfidenceSetting, seed: number, weighting: 'cn' | 'table', env: ConfidenceExperimentEnv): Promise<{ run: WeightLearningRun; omega: Tensor[]; cn: ConfidenceNet | null }> {
  const name = `${runPrefix(setting, seed)}/phase1-${weighting}`;
  const shape = { channels: split.labelled.channels, side: split.labelled.height, classes: split.labelled.numClasses };
  const model = createSslModel(p.fixmatch.model, shape, new Random(seed), { backend: env.backend });
  const steps = p.phase1.warmupSteps + p.phase1.metaEpochs * p.phase1.metaEvery;
  const config: FixMatchConfig = { ...p.fixmatch, method: 'fixmatch', seed, steps };
  let w: ConfidenceWeighting;
  let cn: ConfidenceNet | null = null;
  if (weighting === 'cn') {
    cn = new ConfidenceNet(new Random(seed * 7 + 5), { inChannels: shape.channels, widths: p.phase1.cnWidths, backend: env.backend });
    const warm = await warmUpConfidenceNet(cn, split.unlabelled, { steps: p.phase1.cnWarmupSteps, rng: new Random(seed * 7 + 6), weak: { flip: p.fixmatch.flip } });
    w = { kind: 'cn', cn, omega: warm.omega };
  } else {
    w = { kind: 'table', table: new SampleWeightTable(split.unlabelled.count) };
  }
  const sample = poolSampleIndices(split.unlabelled.count, p.poolSample, seed * 7 + 2);
  const problem = confidenceProblem(model, { ...split }, {
    config, weighting: w, normalisation: p.phase1.normalisation, metaValidation: p.phase1.metaValidation, metaUnlabelled: p.phase1.metaUnlabelled[weighting],
    inDistribution: split.inDistribution, poolSample: sample.length > 0 ? { indices: sample, seed: seed * 7 + 3 } : undefined,
  });
  const method = parseMethod(p.phase1.method);
  const loop: BilevelConfig = {
    method, innerSteps: p.phase1.metaEvery, metaEpochs: p.phase1.metaEpochs, warmupSteps: p.phase1.warmupSteps, patience: p.phase1.patience,
    seed, metaLr: p.phase1.metaLr[weighting], metaOptimizer: { kind: 'adam' }, checkpointEvery: p.phase1.checkpointEvery,
  };
  env.onRunStart?.(name, steps);
  const r = await runBilevel(problem, loop, { store: env.store(name), resume: env.resume, onMetaEpoch: (m) => env.onRecord?.(name, m) });
  const run: WeightLearningRun = {
    weighting,
    method: methodLabel(method),
    sample,
    inDistribution: sample.map((i) => split.inDistribution[i]),
    labels: sample.map((i) => split.unlabelled.labels[i]),
    curve: r.metrics.map((m) => ({ metaEpoch: m.metaEpoch, step: m.innerStep, validationLoss: m.validationLoss, testAccuracy: m.testAccuracy, meanWeight: m.meanWeight ?? 1 })),
    bestMetaEpoch: r.best.metaEpoch,
    snapshots: r.metrics.filter((m) => m.poolWeights).map((m) => ({ metaEpoch: m.metaEpoch, step: m.innerStep, original: m.poolWeights!.original, weak: m.poolWeights!.weak })),
  };
  if (r.diverged) run.diverged = `meta-epoch ${r.diverged.metaEpoch}, step ${r.diverged.step}: ${r.diverged.what}`;
  return { run, omega: r.best.meta ?? r.meta, cn };
}

/** Phase 2 for one method: the classifier from scratch, FixMatch steps at a frozen ω (baseline method: no meta-steps); the final EMA test accuracy. */
async function trainFromScratch(p: ConfidenceProtocol, split: OodSplit, setting: ConfidenceSetting, seed: number, method: ConfidenceMethod, learned: Map<'cn' | 'table', { omega: Tensor[]; cn: ConfidenceNet | null }>, env: ConfidenceExperimentEnv): Promise<{ accuracy: number | null; diverged?: string }> {
  const name = `${runPrefix(setting, seed)}/phase2-${method}`;
  const shape = { channels: split.labelled.channels, side: split.labelled.height, classes: split.labelled.numClasses };
  const model = createSslModel(p.fixmatch.model, shape, new Random(seed), { backend: env.backend });
  const supervised = method === 'supervised';
  const config: FixMatchConfig = { ...p.fixmatch, method: supervised ? 'supervised' : 'fixmatch', mu: supervised ? 0 : p.fixmatch.mu, seed, steps: p.phase2.steps };
  let weighting: ConfidenceWeighting = { kind: 'none' };
  if (method === 'fixmatch+cn') {
    const l = learned.get('cn')!;
    weighting = { kind: 'cn', cn: l.cn!, omega: l.omega };
  } else if (method === 'fixmatch+table') {
    // The table's weights apply to the same pool images by index.
    weighting = { kind: 'table', table: new SampleWeightTable(split.unlabelled.count), omega: learned.get('table')!.omega };
  }
  const problem = confidenceProblem(model, { ...split }, { config, weighting, normalisation: p.phase1.normalisation, inDistribution: split.inDistribution });
  const loop: BilevelConfig = {
    method: { kind: 'baseline', l2: 0 }, innerSteps: p.phase2.evalEvery, metaEpochs: p.phase2.steps / p.phase2.evalEvery, warmupSteps: 0, patience: 0,
    seed, metaLr: 1e-3, checkpointEvery: 1,
  };
  env.onRunStart?.(name, p.phase2.steps);
  const r = await runBilevel(problem, loop, { store: env.store(name), resume: env.resume, onMetaEpoch: (m) => env.onRecord?.(name, m) });
  const last = r.metrics.at(-1);
  if (r.diverged) return { accuracy: null, diverged: `step ${r.diverged.step}: ${r.diverged.what}` };
  return { accuracy: last ? last.testAccuracy : null };
}

/** One setting x seed: phase 1 for every learner, then phase 2 for every method. */
export async function runConfidenceSetting(p: ConfidenceProtocol, setting: ConfidenceSetting, seed: number, env: ConfidenceExperimentEnv): Promise<ConfidenceSettingResult> {
  validateConfidenceProtocol(p);
  const split = env.split(setting, seed);
  const learned = new Map<'cn' | 'table', { omega: Tensor[]; cn: ConfidenceNet | null }>();
  const weightLearning: WeightLearningRun[] = [];
  for (const weighting of p.weightings) {
    const l = await learnWeights(p, split, setting, seed, weighting, env);
    learned.set(weighting, l);
    weightLearning.push(l.run);
  }
  const testAccuracy: ConfidenceSettingResult['testAccuracy'] = {};
  const phase2Diverged: Partial<Record<ConfidenceMethod, string>> = {};
  for (const method of p.methods) {
    const r = await trainFromScratch(p, split, setting, seed, method, learned, env);
    if (r.accuracy !== null) testAccuracy[method] = r.accuracy;
    if (r.diverged) phase2Diverged[method] = r.diverged;
  }
  const result: ConfidenceSettingResult = { setting, seed, labelsPerClass: p.labelsPerClass, testAccuracy, weightLearning };
  if (Object.keys(phase2Diverged).length > 0) result.phase2Diverged = phase2Diverged;
  return result;
}

/** Every setting x seed of the protocol, in that order. */
export async function runConfidenceExperiment(p: ConfidenceProtocol, env: ConfidenceExperimentEnv): Promise<ConfidenceSettingResult[]> {
  validateConfidenceProtocol(p);
  const out: ConfidenceSettingResult[] = [];
  for (const setting of p.settings) for (const seed of p.seeds) out.push(await runConfidenceSetting(p, setting, seed, env));
  return out;
}
