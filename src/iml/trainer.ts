// Implicit meta-learning of L2 hyperparameters: the configuration, metrics and summary of an IML run, run as the L2 problem on the generic bilevel loop.

import type { BilevelConfig } from '../bilevel/config.js';
import { runBilevel, type BilevelEpochBase } from '../bilevel/loop.js';
import type { ComparisonRequest } from '../hypergrad/hypergradient.js';
import type { MetaKnowledge } from '../hypergrad/meta-knowledge.js';
import { methodLabel, type HypergradMethod } from '../hypergrad/methods.js';
import type { Module } from '../nn/module.js';
import { l2Problem, type L2Data } from './l2-problem.js';
import type { RunStore } from './run-store.js';
import type { Evaluation } from '../train/evaluate.js';

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

/** One meta-epoch of the L2 trainer: the bilevel loop's numbers and the problem's evaluations. */
export interface MetaEpochMetrics extends BilevelEpochBase {
  train: Evaluation;
  validation: Evaluation;
  test: Evaluation;
  /** Mean softplus(λ), the effective L2 weight. */
  meanDecay: number;
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

export type ImlData = L2Data;

/** The error that ends a run as diverged (the bilevel loop's, under its IML name). */
export { BilevelDivergence as ImlDivergence } from '../bilevel/divergence.js';

export { RESUMABLE_CHANGES } from '../bilevel/config.js';
export { configDifferences } from '../bilevel/config-differences.js';

/** What a checkpoint records about the run it belongs to: the caller's description (recipe, dataset, ...) and the trainer's configuration. */
export function runIdentity(config: ImlConfig, metaKnowledge: MetaKnowledge, described: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ ...described, method: methodLabel(config.method), metaKnowledge: metaKnowledge.kind, hyperparameters: metaKnowledge.names, config })) as Record<string, unknown>;
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

/**
 * Runs one IML training (or the baseline) and returns the per-epoch metrics and the summary: the L2 problem
 * (l2Problem) on the generic bilevel loop (runBilevel), with the checkpoints, metrics and numbers of before.
 */
export async function runIml(
  model: Module,
  metaKnowledge: MetaKnowledge,
  data: ImlData,
  config: ImlConfig,
  hooks: ImlRunOptions = {},
): Promise<{ metrics: MetaEpochMetrics[]; summary: ImlSummary }> {
  const problem = l2Problem(model, metaKnowledge, data, config);
  const loop: BilevelConfig = {
    method: config.method, innerSteps: config.innerSteps, metaEpochs: config.metaEpochs, warmupSteps: config.warmupSteps,
    patience: config.patience, continueAfterEarlyStop: config.continueAfterEarlyStop, seed: config.seed, metaLr: config.metaLr,
    checkpointEvery: config.checkpointEvery, compare: config.compare,
  };
  const r = await runBilevel(problem, loop, {
    onMetaEpoch: hooks.onMetaEpoch, store: hooks.store, resume: hooks.resume,
    // The identity of the IML runs (the whole ImlConfig), so that their checkpoints stay resumable.
    identity: runIdentity(config, metaKnowledge, hooks.identity),
  });
  const metrics: MetaEpochMetrics[] = r.metrics;
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const last = metrics.at(-1);
  return {
    metrics,
    summary: {
      method: methodLabel(config.method),
      metaKnowledge: metaKnowledge.kind,
      seed: config.seed,
      metaEpochsRun: metrics.length,
      stoppedEarly: r.stoppedEarly,
      earlyStopEpoch: r.earlyStopEpoch,
      diverged: r.diverged,
      trainMax: Math.max(0, ...metrics.map((m) => m.train.accuracy)),
      validationMax: Math.max(0, ...metrics.map((m) => m.validation.accuracy)),
      test: last?.test.accuracy ?? 0,
      esTest: r.best.esScore,
      bestMetaEpoch: r.best.metaEpoch,
      meanEpochSeconds: mean(metrics.map((m) => m.epochSeconds)),
      meanApproximationSeconds: mean(metrics.map((m) => m.approximationSeconds)),
      maxApproximationBytes: Math.max(0, ...metrics.map((m) => m.approximationBytes ?? 0)),
    },
  };
}
