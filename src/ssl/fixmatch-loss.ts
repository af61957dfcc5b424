// The FixMatch objective on the logits of one forward pass over [labelled weak | unlabelled weak | unlabelled strong]: L = L_s + lambda_u mean_u 1(max q >= tau) CE(argmax q, f(A(u))).

import { oneHot, tensor } from '../core/creation.js';
import { add, mul, slice } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { crossEntropy, crossEntropyPerSample, weightedMean } from '../ops/losses.js';

export interface FixMatchTargets {
  /** Labels of the B labelled images. */
  labels: ArrayLike<number>;
  /** Pseudo-labels of the μB unlabelled images (from the weak view, constants). */
  pseudo: ArrayLike<number>;
  /** Confidence mask 1(max q >= tau) of the μB unlabelled images (constants). */
  mask: Float32Array;
  lambdaU: number;
}

export interface FixMatchLossParts {
  loss: Tensor;
  supervised: Tensor;
  unsupervised: Tensor;
}

/**
 * With logits z of shape [B + 2μB, C] (rows: B labelled weak, μB unlabelled weak, μB unlabelled strong):
 *   L_s = (1/B) Σ_b CE(y_b, z_b),   L_u = (1/μB) Σ_i m_i CE(p_i, z_{B+μB+i}),   L = L_s + λ_u L_u,
 * with CE(y, z) = -log softmax(z)_y. The weak-unlabelled rows enter only through the constant pseudo-labels p and
 * mask m, so they get no gradient. Derivatives (built from the primitives' rules): ∂L/∂z_b = (softmax(z_b) - e_{y_b}) / B,
 * ∂L/∂z_{B+μB+i} = λ_u m_i (softmax(z_{B+μB+i}) - e_{p_i}) / μB, and 0 on the weak-unlabelled rows.
 * With μB = 0 (supervised only) L = L_s.
 */
export function fixMatchLoss(logits: Tensor, t: FixMatchTargets): FixMatchLossParts {
  if (logits.rank !== 2) throw new Error(`fixMatchLoss: logits must be [N, C], got ${logits.describe()}`);
  const [n, classes] = logits.shape;
  const b = t.labels.length;
  const u = t.pseudo.length;
  if (t.mask.length !== u) throw new Error(`fixMatchLoss: ${t.mask.length} mask values for ${u} pseudo-labels`);
  if (n !== b + 2 * u) throw new Error(`fixMatchLoss: ${n} logit rows, expected B + 2 μB = ${b} + 2 x ${u}`);
  if (b === 0) throw new Error('fixMatchLoss: the labelled batch is empty');
  if (!Number.isFinite(t.lambdaU) || t.lambdaU < 0) throw new Error(`fixMatchLoss: lambda_u must be a finite number >= 0, got ${t.lambdaU}`);
  const opts = { backend: logits.backend, dtype: logits.dtype };
  const supervised = crossEntropy(slice(logits, [0, 0], [b, classes]), oneHot(t.labels, classes, opts));
  if (u === 0) return { loss: supervised, supervised, unsupervised: mul(supervised, 0) };
  const strong = slice(logits, [b + u, 0], [u, classes]);
  const perSample = crossEntropyPerSample(strong, oneHot(t.pseudo, classes, opts));
  const unsupervised = weightedMean(perSample, tensor(t.mask, [u], opts));
  return { loss: add(supervised, mul(unsupervised, t.lambdaU)), supervised, unsupervised };
}
