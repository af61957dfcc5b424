// The Confidence Network's warm-up (thesis 5.3.1): Adam on the mean squared error between C(α(u); ω) and 1 over (weakly augmented) unlabelled images, so that training starts with every image weighted 1.

import { valueAndGrad } from '../autodiff/transforms.js';
import { full, tensor } from '../core/creation.js';
import { noGrad, type Tensor } from '../core/tensor.js';
import { getBatch, type ImageDataset } from '../data/dataset.js';
import { weakAugment, type WeakOptions } from '../augment/weak.js';
import { meanSquaredError } from '../ops/losses.js';
import { Adam } from '../optim/adam.js';
import type { Random } from '../util/random.js';
import { confidenceWeights, type ConfidenceNet } from './confidence-net.js';

export interface ConfidenceWarmupOptions {
  steps: number;
  /** Adam's learning rate (default 1e-3, the thesis' CN rate). */
  lr?: number;
  /** Images per step (default 64, or the pool size if smaller). */
  batchSize?: number;
  /** The weak view α(u) applied to each batch; null trains on the images as they are (default null). */
  weak?: WeakOptions | null;
  /** Draws the batches and the augmentations. */
  rng: Random;
  /** Images per forward pass when measuring the final error (default 256). */
  evalBatchSize?: number;
}

export interface ConfidenceWarmupResult {
  /** ω after warm-up (cn.parameters() order; the module's parameters hold the same values). */
  omega: Tensor[];
  /** MSE of each step's batch. */
  losses: number[];
  /** mean_i |C(u_i; ω) − 1| over the whole pool (images as given, not augmented). */
  meanAbsError: number;
}

/**
 * `steps` Adam steps on L(ω) = (1/n) Σ_b (C(α(u_b); ω) − 1)² over batches drawn uniformly with replacement
 * from `pool` (its labels are ignored), on the CN's parameter dtype/backend. The gradient comes from the
 * autodiff rules: ∂L/∂C_b = 2 (C_b − 1)/n, pulled back through softplus and the network.
 */
export async function warmUpConfidenceNet(cn: ConfidenceNet, pool: ImageDataset, o: ConfidenceWarmupOptions): Promise<ConfidenceWarmupResult> {
  if (!Number.isInteger(o.steps) || o.steps < 0) throw new Error(`warmUpConfidenceNet: steps must be an integer >= 0, got ${o.steps}`);
  if (pool.count === 0) throw new Error(`warmUpConfidenceNet: the pool "${pool.name}" is empty`);
  const bs = Math.min(o.batchSize ?? 64, pool.count);
  if (!Number.isInteger(bs) || bs < 1) throw new Error(`warmUpConfidenceNet: batchSize must be a positive integer, got ${o.batchSize}`);
  const lr = o.lr ?? 1e-3;
  if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`warmUpConfidenceNet: lr must be a finite number > 0, got ${lr}`);
  const params = cn.parameters();
  const like = { backend: params[0].value.backend, dtype: params[0].value.dtype };
  const shape = [bs, pool.channels, pool.height, pool.width];
  const opt = new Adam(params, { lr });
  const target = full([bs], 1, like);
  const losses: number[] = [];
  for (let step = 0; step < o.steps; step++) {
    const idx = Array.from({ length: bs }, () => o.rng.int(pool.count));
    let data = getBatch(pool, idx).x;
    if (o.weak) data = weakAugment({ data, count: bs, channels: pool.channels, height: pool.height, width: pool.width }, o.rng, o.weak).data;
    const x = tensor(data, shape, like);
    const { value, grads } = valueAndGrad((omega) => meanSquaredError(confidenceWeights(cn, omega, x), target))(params.map((p) => p.value));
    opt.step(grads);
    const v = (await value.data())[0];
    if (!Number.isFinite(v)) throw new Error(`warmUpConfidenceNet: the loss became ${v} at step ${step + 1}; lower the learning rate (${lr})`);
    losses.push(v);
  }
  const omega = params.map((p) => p.value);
  const evalBs = o.evalBatchSize ?? 256;
  let absSum = 0;
  for (let start = 0; start < pool.count; start += evalBs) {
    const n = Math.min(evalBs, pool.count - start);
    const idx = Array.from({ length: n }, (_, k) => start + k);
    const x = tensor(getBatch(pool, idx).x, [n, pool.channels, pool.height, pool.width], like);
    const c = await noGrad(() => confidenceWeights(cn, omega, x)).data();
    for (let k = 0; k < n; k++) absSum += Math.abs(c[k] - 1);
  }
  return { omega, losses, meanAbsError: absSum / pool.count };
}
