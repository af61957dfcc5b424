// Front ends of the fused primitives: shape checks and the primitive calls (the ops that pick them or their composites: relu, leakyRelu, softplus, sigmoid, batchNorm).

import { applyPrim } from './apply.js';
import { shapesEqual } from './shape.js';
import type { Tensor } from './tensor.js';

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (!shapesEqual(a.shape, b.shape)) throw new Error(`${op}: ${a.describe()} and ${b.describe()} differ in shape`);
}

/** y = x · [x > 0] (x·0 for x <= 0: -0 for negative x, NaN for NaN and -∞, as the composite mul(x, x > 0)). */
export function fusedRelu(x: Tensor): Tensor {
  return applyPrim('relu', [x], {}, x.shape);
}

/** z = g · [x > 0], relu's backward (x carries no gradient into z). */
export function fusedReluGrad(g: Tensor, x: Tensor): Tensor {
  sameShape('reluGrad', g, x);
  return applyPrim('reluGrad', [g, x], {}, g.shape);
}

/** y = x · (1 if x > 0 else slope), one pass: what the composite where(x > 0, x, x · slope) gives, bit for bit. */
export function fusedLeakyRelu(x: Tensor, slope: number): Tensor {
  return applyPrim('leakyRelu', [x], { slope }, x.shape);
}

/** z = g · (1 if x > 0 else slope) + 0, leakyRelu's backward: the composite's sum of its two branches (x carries no gradient into z). */
export function fusedLeakyReluGrad(g: Tensor, x: Tensor, slope: number): Tensor {
  sameShape('leakyReluGrad', g, x);
  return applyPrim('leakyReluGrad', [g, x], { slope }, g.shape);
}

/** softplus(x) in one pass: what softplusComposite (src/ops/activations.ts) gives, bit for bit. */
export function fusedSoftplus(x: Tensor): Tensor {
  return applyPrim('softplus', [x], {}, x.shape);
}

/** σ(x) in one pass: what sigmoidComposite (src/ops/activations.ts) gives, bit for bit. */
export function fusedSigmoid(x: Tensor): Tensor {
  return applyPrim('sigmoid', [x], {}, x.shape);
}

/** Channels of a batch-norm input (axis 1), checked against per-channel tensors. */
export function batchNormChannels(op: string, x: Tensor, perChannel: readonly Tensor[]): number {
  if (x.rank < 2) throw new Error(`${op}: expects [N, C, ...] input with the channels on axis 1, got ${x.describe()}`);
  const c = x.shape[1];
  for (const t of perChannel) {
    if (t.rank !== 1 || t.shape[0] !== c) throw new Error(`${op}: per-channel tensor ${t.describe()} does not match the ${c} channels of ${x.describe()}`);
  }
  return c;
}

function checkStats(op: string, stats: Tensor, c: number): void {
  if (!shapesEqual(stats.shape, [2, c])) throw new Error(`${op}: statistics ${stats.describe()} are not [2, ${c}] (mean; variance)`);
}

/**
 * [2, C]: each channel's mean and biased variance over the other axes, bit for bit what the composite's
 * mean(x) and variance(x) give. Carries no gradient: only the fused batch-norm primitives read it, as a
 * cache of their input x's statistics, and their rules account for how the statistics depend on x.
 */
export function fusedBatchNormStats(x: Tensor): Tensor {
  const c = batchNormChannels('batchNormStats', x, []);
  return applyPrim('batchNormStats', [x], {}, [2, c]);
}

/** y = γ (x - μ) / √(σ² + ε) + β per channel, with μ, σ² = stats = fusedBatchNormStats(x). */
export function fusedBatchNormTrain(x: Tensor, stats: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor {
  const c = batchNormChannels('batchNormTrain', x, [gamma, beta]);
  checkStats('batchNormTrain', stats, c);
  return applyPrim('batchNormTrain', [x, stats, gamma, beta], { eps }, x.shape);
}

/** γ̄ = Σ g x̂ per channel, x̂ = (x - μ)/√(σ² + ε) with μ, σ² = stats = fusedBatchNormStats(x). */
export function fusedBatchNormGradGamma(g: Tensor, x: Tensor, stats: Tensor, eps: number): Tensor {
  sameShape('batchNormGradGamma', g, x);
  const c = batchNormChannels('batchNormGradGamma', x, []);
  checkStats('batchNormGradGamma', stats, c);
  return applyPrim('batchNormGradGamma', [g, x, stats], { eps }, [c]);
}

/**
 * x̄ = (γ/s) (g - β̄/M - x̂ γ̄/M) per channel of M values, s = √(σ² + ε), x̂ = (x - μ)/s, with μ, σ² = stats =
 * fusedBatchNormStats(x) and γ̄, β̄ given (Σ g x̂ and Σ g in the batch-norm backward).
 */
export function fusedBatchNormGradInput(
  g: Tensor, x: Tensor, stats: Tensor, gamma: Tensor, gammaBar: Tensor, betaBar: Tensor, eps: number,
): Tensor {
  sameShape('batchNormGradInput', g, x);
  const c = batchNormChannels('batchNormGradInput', x, [gamma, gammaBar, betaBar]);
  checkStats('batchNormGradInput', stats, c);
  return applyPrim('batchNormGradInput', [g, x, stats, gamma, gammaBar, betaBar], { eps }, x.shape);
}
