// The bilevel-problem interface: what runBilevel needs from an inner problem θ*(ω) = argmin L_T(θ, ω) and its outer loss L_V.

import type { Tensor } from '../core/tensor.js';
import type { ClosedFormPenalty } from '../hypergrad/meta-knowledge.js';
import type { LossFn } from '../hypergrad/hypergradient.js';
import type { OptimizerState, ParamRef } from '../optim/optimizer.js';
import type { Random } from '../util/random.js';

/** Where the loop is when it asks the problem for an inner step. */
export interface InnerStepContext {
  /** The loop's random stream (seeded by the configuration, checkpointed by the loop). */
  rng: Random;
  /** Meta-epoch of the step (0 during warm-up). */
  metaEpoch: number;
  /** Inner steps completed before this one (warm-up included). */
  step: number;
}

/**
 * One inner step computed but not applied: the loop checks `loss` (a non-finite value ends the run as
 * diverged with θ untouched) and only then calls `apply`, which updates θ with the problem's own optimizer.
 */
export interface InnerStep {
  loss: number;
  apply(): void | Promise<void>;
}

/**
 * The losses of one meta-step at (θ, ω), handed to hypergradient(): `trainLoss` is L_T(θ, ω) on the
 * problem's batch for this meta-step (it may depend on ω through a penalty, per-sample weights or a second
 * network), `valLoss` the outer loss L_V(θ, ω). With `closedForm`, trainLoss is the part without the
 * closed-form term and must not depend on ω (see hypergradient()).
 */
export interface MetaObjective {
  trainLoss: LossFn;
  valLoss: LossFn;
  closedForm?: ClosedFormPenalty;
}

/** A meta-epoch's evaluation: the loss that drives early stopping, a score kept with the best snapshot, and the problem's own metrics. */
export interface ProblemEvaluation<R> {
  /** Outer (validation) loss at the current θ: lower is better; early stopping and the best snapshot follow it. */
  validationLoss: number;
  /** What the run reports for the early-stopping snapshot (e.g. test accuracy); kept with the best snapshot. */
  esScore: number;
  /** Per-meta-epoch fields added to the loop's record (losses, accuracies, the problem's extra metrics). */
  metrics: R;
}

/**
 * The problem's own checkpoint state (inner optimizer, samplers, EMA weights, ...): everything beyond θ, ω and
 * the loop's random stream that decides its future.
 */
export interface ProblemState {
  /** Tensors by name; the names must differ from θ's and from the loop's ('lam:', 'best:', 'bestlam:', 'state:'). */
  tensors?: Record<string, Tensor>;
  /** The inner optimizer's state (the checkpoint's `optimizer`). */
  optimizer?: OptimizerState;
  /** Further optimizer states by name (any name but 'meta', the loop's meta optimizer). */
  optimizers?: Record<string, OptimizerState>;
  /** JSON fields kept beside the loop's in the checkpoint's meta; the loop's own field names are refused. */
  json?: Record<string, unknown>;
}

/** What restore() gets back: the whole checkpoint's tensors, optimizers and meta (the problem takes its own by name). */
export interface SavedProblemState {
  tensors: Readonly<Record<string, Tensor>>;
  optimizer?: OptimizerState;
  optimizers: Readonly<Record<string, OptimizerState>>;
  json: Readonly<Record<string, unknown>>;
  /** Inner steps the checkpointed run had taken. */
  step: number;
  /** The checkpoint, for error messages ('<store location>: checkpoint'). */
  where: string;
}

/**
 * A bilevel problem: inner parameters θ trained by the problem's own optimizer on L_T(θ, ω), meta-parameters ω
 * learned by runBilevel from the implicit hypergradient of the outer loss L_V. R is the problem's part of every
 * meta-epoch record.
 */
export interface BilevelProblem<R extends object = Record<string, unknown>> {
  /** What ω is (e.g. 'per-parameter L2'), recorded in checkpoints and results. */
  readonly kind: string;
  /**
   * True when the problem keep()s every tensor that innerStep, apply, metaObjective or evaluate store in its own
   * state (optimizers, batch norm and the loop's meta optimizer keep theirs): the loop then runs each inner step,
   * meta-step and evaluation in a tidy scope, so their temporaries go back to the backend's pool at once instead
   * of waiting for the garbage collector. Leave it unset when unsure: an unkept tensor would be disposed.
   */
  readonly tidy?: boolean;
  /** Names of the ω tensors (checkpoint names 'lam:<name>'); empty: nothing to meta-learn (the baseline method only). */
  readonly metaNames: readonly string[];
  /**
   * The initial ω, one tensor per metaNames entry, and whatever else the problem draws at the start (e.g. its
   * first data order). Called once before training, also when resuming (restore() then overwrites it).
   */
  init(rng: Random): Tensor[];
  /** θ: the tensors the loop snapshots, checkpoints and restores (by name). The loop assigns `value` on restore. */
  innerParams(): readonly ParamRef[];
  /** One inner training step at ω: the problem samples its batch and computes its loss and update; the loop applies it. */
  innerStep(meta: readonly Tensor[], ctx: InnerStepContext): Promise<InnerStep>;
  /** The losses of a meta-step at (θ, ω), on batches the problem chooses (drawing from `rng` if it samples). */
  metaObjective(theta: readonly Tensor[], meta: readonly Tensor[], rng: Random): MetaObjective | Promise<MetaObjective>;
  /** Evaluation after each meta-epoch, at the current θ and ω. */
  evaluate(meta: readonly Tensor[], ctx: { metaEpoch: number; step: number }): Promise<ProblemEvaluation<R>>;
  /** The problem's checkpoint state (see ProblemState). */
  state(): Promise<ProblemState>;
  /** Restores state() from a checkpoint; throws naming `saved.where` when something is missing or inconsistent. */
  restore(saved: SavedProblemState): void;
}
