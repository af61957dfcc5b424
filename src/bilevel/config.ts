// Configuration of runBilevel (schedule, hypergradient method, early stopping, checkpoints) and what identifies a run in its checkpoints.

import type { ComparisonRequest } from '../hypergrad/hypergradient.js';
import { methodLabel, type HypergradMethod } from '../hypergrad/methods.js';
import type { MetaOptimizerSpec } from './meta-optimizer.js';

export interface BilevelConfig {
  /** How H⁻¹v is approximated; 'baseline' trains θ only (no meta-steps). */
  method: HypergradMethod;
  /** Inner steps per meta-epoch; a meta-step follows them (T1-T2: one after every inner step). */
  innerSteps: number;
  metaEpochs: number;
  /** Inner steps before the first meta-epoch (no meta-steps). */
  warmupSteps: number;
  /** Meta-epochs without a lower validation loss before stopping (0 = never stop early). */
  patience: number;
  /** Keep training to metaEpochs after patience runs out, with the early-stopping snapshot frozen (default false: stop). */
  continueAfterEarlyStop?: boolean;
  /** Seed of the loop's random stream (ω's initialisation and everything the problem draws from it). */
  seed: number;
  /** Learning rate of the meta optimizer. */
  metaLr: number;
  /** The meta optimizer on ω (default RMSprop at metaLr). */
  metaOptimizer?: MetaOptimizerSpec;
  /** Save a checkpoint every this many meta-epochs, and at the last one (0 = never). */
  checkpointEvery: number;
  /** Every this many meta-epochs, compare approximations with a reference inverse-HVP (e.g. exact) at that meta-step. */
  compare?: { every: number } & ComparisonRequest;
  /** At the end, put the best snapshot's θ and ω back into the problem (default false: θ stays where training ended). */
  restoreBest?: boolean;
}

/**
 * Configuration fields that may differ between a checkpoint and the run resuming it: they change how far
 * the run goes and how often it is saved, not the trajectory up to there.
 */
export const RESUMABLE_CHANGES: readonly string[] = ['config.metaEpochs', 'config.checkpointEvery'];

/** The default identity of a run: the caller's description, the method, the problem's kind and ω names, and the configuration (as JSON). */
export function bilevelIdentity(config: BilevelConfig, problem: { kind: string; metaNames: readonly string[] }, described: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ ...described, method: methodLabel(config.method), problem: problem.kind, metaNames: problem.metaNames, config })) as Record<string, unknown>;
}
