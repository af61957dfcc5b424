// Batch normalisation with batch statistics: the fused primitives where the backend has their kernels, else the reference composites of core ops that define them.

import { hasKernels } from '../core/fused.js';
import {
  batchNormChannels, fusedBatchNormStats, fusedBatchNormTrain,
} from '../core/fused-ops.js';
import { add, div, mul, reshape, slice, sqrt, sub, sum } from '../core/ops.js';
import type { FusedPrim } from '../core/primitives.js';
import { noGrad, type Tensor } from '../core/tensor.js';
import { mean, variance } from './reductions.js';

/** The fused primitives of batch norm: the op uses them only where the backend has all four. */
export const BATCH_NORM_PRIMS: readonly FusedPrim[] = ['batchNormStats', 'batchNormTrain', 'batchNormGradGamma', 'batchNormGradInput'];

export interface BatchNormBatch {
  /** y = γ (x - μ) / √(σ² + ε) + β per channel. */
  y: Tensor;
  /** The batch mean per channel, [C], carrying no gradient (for the running statistics). */
  mean: Tensor;
  /** The biased batch variance per channel, [C], carrying no gradient. */
  variance: Tensor;
}

/** Every axis but the channel axis 1. */
const reducedAxes = (x: Tensor): number[] => x.shape.map((_, i) => i).filter((i) => i !== 1);
/** [1, C, 1, ...]: a per-channel tensor broadcast along x. */
const channelShape = (x: Tensor): number[] => x.shape.map((d, i) => (i === 1 ? d : 1));
/** M: the values per channel. */
const perChannel = (x: Tensor): number => x.size / x.shape[1];

/** eps must be a finite number >= 0 (PyTorch's rule: 0 is allowed; a negative eps makes √(σ² + ε) NaN for σ² < -ε). */
export function checkEps(op: string, eps: number): void {
  if (!Number.isFinite(eps) || eps < 0) throw new Error(`${op}: eps must be a finite number >= 0, got ${String(eps)}`);
}

/**
 * Batch normalisation of x [N, C, ...] over every axis but the channel axis 1 with the batch's own statistics:
 * y = γ (x - μ) / √(σ² + ε) + β, μ and σ² the mean and biased variance of each channel's M values. One statistics
 * pass and one normalising pass where the backend has the fused kernels (CPU), the composite elsewhere; the values
 * are the composite's bit for bit, the gradients equal up to rounding (and the mean and variance exactly).
 */
export function batchNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): BatchNormBatch {
  checkEps('batchNorm', eps);
  const c = batchNormChannels('batchNorm', x, [gamma, beta]);
  if (!hasKernels(x, BATCH_NORM_PRIMS)) return batchNormComposite(x, gamma, beta, eps);
  const stats = fusedBatchNormStats(x);
  return {
    y: fusedBatchNormTrain(x, stats, gamma, beta, eps),
    mean: reshape(slice(stats, [0, 0], [1, c]), [c]),
    variance: reshape(slice(stats, [1, 0], [1, c]), [c]),
  };
}

/** y = γ (x - m) / √(v + ε) + β with m, v broadcast along x ([1, C, 1, ...]) and γ, β per channel ([C]). */
export function batchNormApply(x: Tensor, m: Tensor, v: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor {
  checkEps('batchNormApply', eps);
  const bshape = channelShape(x);
  const xhat = div(sub(x, m), sqrt(add(v, eps)));
  return add(mul(xhat, reshape(gamma, bshape)), reshape(beta, bshape));
}

/** The reference batchNorm in core ops (mean, variance, batchNormApply): what backends without the kernels run. */
export function batchNormComposite(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): BatchNormBatch {
  const c = batchNormChannels('batchNorm', x, [gamma, beta]);
  const axes = reducedAxes(x);
  const m = mean(x, axes, true);
  const v = variance(x, axes, true);
  const y = batchNormApply(x, m, v, gamma, beta, eps);
  return { y, ...noGrad(() => ({ mean: reshape(m, [c]), variance: reshape(v, [c]) })) };
}

/** x̂ = (x - μ)/s and s = √(σ² + ε), from x's batch statistics in core ops (so differentiable in x). */
function normalised(x: Tensor, eps: number): { xhat: Tensor; s: Tensor } {
  const axes = reducedAxes(x);
  const s = sqrt(add(variance(x, axes, true), eps));
  return { xhat: div(sub(x, mean(x, axes, true)), s), s };
}

/** x̄ = (γ/s) (g - β̄/M - x̂ γ̄/M) in core ops, γ̄ and β̄ per channel ([C]). */
function gradInputFrom(g: Tensor, xhat: Tensor, s: Tensor, gamma: Tensor, gammaBar: Tensor, betaBar: Tensor): Tensor {
  const bshape = channelShape(g);
  const m = perChannel(g);
  const centred = sub(sub(g, reshape(div(betaBar, m), bshape)), mul(xhat, reshape(div(gammaBar, m), bshape)));
  return mul(div(reshape(gamma, bshape), s), centred);
}

export interface BatchNormCotangents {
  x: Tensor | null;
  gamma: Tensor | null;
  beta: Tensor | null;
}

/**
 * The batch-norm backward in core ops, the definition of the fused backward primitives: β̄ = Σ ȳ, γ̄ = Σ ȳ x̂ and
 * x̄ = (γ/s) (ȳ - β̄/M - x̂ γ̄/M) with x̂ and s computed from x, each where `needs` asks for it (x̄ needs γ̄ and β̄).
 * Recorded, its graph differentiates to every order like any composite (batchNormTrain's rule uses it then).
 */
export function batchNormBackwardComposite(
  g: Tensor, x: Tensor, gamma: Tensor, eps: number, needs: { x: boolean; gamma: boolean; beta: boolean },
): BatchNormCotangents {
  const { xhat, s } = normalised(x, eps);
  const axes = reducedAxes(x);
  const betaBar = needs.x || needs.beta ? sum(g, axes) : null;
  const gammaBar = needs.x || needs.gamma ? sum(mul(g, xhat), axes) : null;
  return {
    x: needs.x ? gradInputFrom(g, xhat, s, gamma, gammaBar!, betaBar!) : null,
    gamma: needs.gamma ? gammaBar : null,
    beta: needs.beta ? betaBar : null,
  };
}

/** batchNormGradGamma(g, x, stats) = Σ g x̂ per channel ([C]); stats, x's own statistics, goes unused. */
export function batchNormGradGammaComposite([g, x]: readonly Tensor[], { eps }: { eps: number }): Tensor {
  return sum(mul(g, normalised(x, eps).xhat), reducedAxes(x));
}

/** batchNormGradInput(g, x, stats, γ, γ̄, β̄) = (γ/s) (g - β̄/M - x̂ γ̄/M), γ̄ and β̄ independent inputs. */
export function batchNormGradInputComposite([g, x, , gamma, gammaBar, betaBar]: readonly Tensor[], { eps }: { eps: number }): Tensor {
  const { xhat, s } = normalised(x, eps);
  return gradInputFrom(g, xhat, s, gamma, gammaBar, betaBar);
}
