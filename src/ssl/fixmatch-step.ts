// One FixMatch gradient: a single forward pass over labelled and unlabelled images (batch norm sees them together), pseudo-labels read from the weak logits, the loss's gradient pulled back through the network (shared with the weighted loss of the Confidence Network).

import { valueAndGrad, vjp } from '../autodiff/transforms.js';
import { tensor } from '../core/creation.js';
import type { Tensor } from '../core/tensor.js';
import { functionalCall, type Module } from '../nn/module.js';
import { fixMatchLoss, type FixMatchLossParts, type FixMatchTargets } from './fixmatch-loss.js';
import { pseudoLabels, type PseudoLabels } from './pseudo-labels.js';

export interface FixMatchInputs {
  /** [B + 2μB, C, H, W] values: labelled weak, unlabelled weak, unlabelled strong (NCHW, row-major). */
  x: Float32Array;
  shape: [number, number, number, number];
  labels: ArrayLike<number>;
  /** μB, the number of unlabelled images (0: supervised only). */
  unlabelled: number;
  tau: number;
  lambdaU: number;
}

export interface FixMatchGradient {
  grads: Tensor[];
  loss: number;
  supervised: number;
  unsupervised: number;
  pseudo: PseudoLabels;
}

/**
 * Gradient of the FixMatch loss with respect to `weights` (model.parameters() order), in two stages of the chain
 * rule (pseudoLabelledGradient with fixMatchLoss): the network's forward pass is recorded once (vjp), the weak
 * logits are read (await, any backend) to form the constant pseudo-labels and mask, the loss's gradient with
 * respect to the logits is taken (valueAndGrad) and pulled back through the recorded network. Batch norm runs in
 * training mode once over all B + 2μB images.
 */
export async function fixMatchGradient(model: Module, weights: readonly Tensor[], inp: FixMatchInputs): Promise<FixMatchGradient> {
  const [n, c, h, w] = inp.shape;
  const b = inp.labels.length;
  const u = inp.unlabelled;
  if (n !== b + 2 * u) throw new Error(`fixMatchGradient: ${n} images, expected B + 2 μB = ${b} + 2 x ${u}`);
  if (inp.x.length !== n * c * h * w) throw new Error(`fixMatchGradient: ${inp.x.length} values for shape [${inp.shape.join(', ')}]`);
  const backend = weights[0]?.backend;
  const x = tensor(inp.x, inp.shape, { backend, dtype: weights[0]?.dtype });
  const r = await pseudoLabelledGradient(model, weights, x, inp, fixMatchLoss);
  const [lv, sv, uv] = await Promise.all([r.loss.data(), r.supervised.data(), r.unsupervised.data()]);
  return { grads: r.grads, loss: lv[0], supervised: sv[0], unsupervised: uv[0], pseudo: r.pseudo };
}

/** A loss on the logits [B + 2μB, C] given the batch's targets (fixMatchLoss, or a weighted one). */
export type LossOnLogits = (z: Tensor, targets: FixMatchTargets) => FixMatchLossParts;

/** What pseudoLabelledGradient returns: the weights' gradient, the loss and its parts (not yet read), the pseudo-labels. */
export interface PseudoLabelledGradient {
  grads: Tensor[];
  loss: Tensor;
  supervised: Tensor;
  unsupervised: Tensor;
  pseudo: PseudoLabels;
}

/**
 * The step shared by FixMatch and the Confidence Network's inner steps, for any loss L(z) on the logits z = f(x; θ):
 *   ∂L/∂θ = (∂z/∂θ)ᵀ ∂L/∂z,
 * the network's forward pass is recorded once (vjp, batch norm in training mode updating its running statistics),
 * the weak logits z_{B..B+μB} are read (await, any backend) to form the constant pseudo-labels and mask, ∂L/∂z is
 * taken with valueAndGrad and pulled back through the recorded network.
 */
export async function pseudoLabelledGradient(
  model: Module,
  weights: readonly Tensor[],
  x: Tensor,
  inp: Pick<FixMatchInputs, 'labels' | 'unlabelled' | 'tau' | 'lambdaU'>,
  lossOnLogits: LossOnLogits,
): Promise<PseudoLabelledGradient> {
  const b = inp.labels.length;
  const u = inp.unlabelled;
  const { outputs, pullback } = vjp((ws) => [functionalCall(model, ws, () => model.forward(x, { training: true }))], [...weights]);
  const logits = outputs[0];
  const classes = logits.shape[1];
  const values = await logits.data();
  const pseudo = pseudoLabels(values.subarray(b * classes, (b + u) * classes), u, classes, inp.tau);
  const targets = { labels: inp.labels, pseudo: pseudo.labels, mask: pseudo.mask, lambdaU: inp.lambdaU };
  const parts: Tensor[] = [];
  const { value, grads: [dLogits] } = valueAndGrad(([z]) => {
    const p = lossOnLogits(z, targets);
    parts.push(p.supervised, p.unsupervised);
    return p.loss;
  })([logits]);
  const grads = pullback([dLogits]);
  return { grads, loss: value, supervised: parts[0], unsupervised: parts[1], pseudo };
}
