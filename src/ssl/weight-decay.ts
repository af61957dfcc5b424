// Weight decay as in the FixMatch references: only on weight matrices and convolution kernels, not on biases and batch-norm parameters.

import { add, mul } from '../core/ops.js';
import { noGrad, type Tensor } from '../core/tensor.js';
import type { Parameter } from '../nn/module.js';

/**
 * Whether a parameter is decayed: tensors of rank >= 2 (Linear weights, Conv2d kernels) are; rank-1 tensors
 * (every bias and batch-norm's weight and bias) are not. This is the references' name rule (no decay on 'bias'
 * and 'bn') stated by shape, so it holds for any model built from nn layers.
 */
export function decays(p: Pick<Parameter, 'value'>): boolean {
  return p.value.rank >= 2;
}

/**
 * g_i + λ w_i for decayed parameters, g_i for the others: the L2 term PyTorch's SGD adds to the gradient before
 * momentum (so this plus SGD without weight decay is SGD with weight decay on a parameter subset).
 */
export function addWeightDecay(grads: readonly Tensor[], params: readonly Pick<Parameter, 'value'>[], lambda: number): Tensor[] {
  if (grads.length !== params.length) throw new Error(`addWeightDecay: ${grads.length} gradients for ${params.length} parameters`);
  if (!Number.isFinite(lambda) || lambda < 0) throw new Error(`addWeightDecay: lambda must be a finite number >= 0, got ${lambda}`);
  if (lambda === 0) return [...grads];
  return noGrad(() => grads.map((g, i) => (decays(params[i]) ? add(g, mul(params[i].value, lambda)) : g)));
}
