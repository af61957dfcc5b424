// Batch-norm statistics re-estimated for the EMA model: exact averages of batch means and unbiased variances (against a plain float64 computation), previous statistics put back, and a FixMatch run whose training is unchanged by --ema-bn recompute while its evaluation uses them.
import { describe, expect, it } from 'vitest';
import { createImageDataset, type ImageDataset } from '../../src/data/dataset.js';
import { BatchNorm } from '../../src/nn/layers.js';
import { Module, type ForwardContext } from '../../src/nn/module.js';
import type { Tensor } from '../../src/core/tensor.js';
import { tensor } from '../../src/core/creation.js';
import { recomputeBatchNormStatistics, withRecomputedBatchNorm } from '../../src/ssl/ema-batch-norm.js';
import { validateFixMatchConfig } from '../../src/ssl/fixmatch-config.js';
import { TIMING_FIELDS, type FixMatchMetrics } from '../../src/ssl/fixmatch-metrics.js';
import { memoryFixMatchStore } from '../../src/ssl/fixmatch-store.js';
import { trainFixMatch } from '../../src/ssl/fixmatch-trainer.js';
import { SmallCnn } from '../../src/ssl/small-cnn.js';
import { Random } from '../../src/util/random.js';
import { tinyConfig, tinyData } from './cases.js';

/** BatchNorm straight on the images (plus a parameter, which recompute reads the backend from). */
class BnOnly extends Module {
  readonly bn: BatchNorm;
  constructor() {
    super();
    this.bn = this.child('bn', new BatchNorm(2));
  }
  forward(x: Tensor, ctx: ForwardContext): Tensor {
    return this.bn.forward(x, ctx);
  }
}

function images(n: number): ImageDataset {
  const rng = new Random(5);
  return createImageDataset({ name: 'toy', count: n, channels: 2, height: 2, width: 3, numClasses: 2, images: Float32Array.from({ length: n * 12 }, () => rng.uniform()), labels: new Uint8Array(n) });
}

/** Per channel: the mean over batches of the batch mean and of the unbiased batch variance, in float64. */
function expected(ds: ImageDataset, batches: number[][]): { mean: number[]; variance: number[] } {
  const mean = [0, 0];
  const variance = [0, 0];
  for (const b of batches) {
    for (let c = 0; c < 2; c++) {
      const xs: number[] = [];
      for (const i of b) for (let p = 0; p < 6; p++) xs.push(ds.images[i * 12 + c * 6 + p]);
      const m = xs.reduce((s, v) => s + v, 0) / xs.length;
      const v = xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
      mean[c] += m / batches.length;
      variance[c] += v / batches.length;
    }
  }
  return { mean, variance };
}

describe('batch-norm statistics for the EMA model', () => {
  it('are the exact averages over the batches (a last batch of one image joins the one before)', () => {
    const ds = images(7);
    const model = new BnOnly();
    // Stale statistics that must not leak into the result.
    model.bn.runningMean = tensor([50, -50], [2]);
    model.bn.runningVar = tensor([9, 9], [2]);
    expect(recomputeBatchNormStatistics(model, ds, 7, 3)).toBe(7);
    const want = expected(ds, [[0, 1, 2], [3, 4, 5, 6]]);
    Array.from(model.bn.runningMean.dataSync()).forEach((v, c) => expect(v).toBeCloseTo(want.mean[c], 5));
    Array.from(model.bn.runningVar.dataSync()).forEach((v, c) => expect(v).toBeCloseTo(want.variance[c], 4));
    // A limit below the data set: only the first images count.
    recomputeBatchNormStatistics(model, ds, 4, 2);
    const first4 = expected(ds, [[0, 1], [2, 3]]);
    Array.from(model.bn.runningMean.dataSync()).forEach((v, c) => expect(v).toBeCloseTo(first4.mean[c], 5));
    expect(() => recomputeBatchNormStatistics(model, images(1))).toThrow('recomputeBatchNormStatistics: toy has 1 image(s), at least 2 are needed');
  });

  it('withRecomputedBatchNorm uses them inside and puts the previous statistics back, also on an error', async () => {
    const ds = images(6);
    const model = new BnOnly();
    const before = [model.bn.runningMean, model.bn.runningVar];
    const inside = await withRecomputedBatchNorm(model, ds, async () => Array.from(model.bn.runningMean.dataSync()));
    const want = expected(ds, [[0, 1, 2, 3, 4, 5]]);
    inside.forEach((v, c) => expect(v).toBeCloseTo(want.mean[c], 5));
    expect([model.bn.runningMean, model.bn.runningVar]).toEqual(before);
    await expect(withRecomputedBatchNorm(model, ds, async () => { throw new Error('eval failed'); })).rejects.toThrow('eval failed');
    expect(model.bn.runningMean).toBe(before[0]);
  });

  it('--ema-bn recompute changes what is evaluated, not what is trained; a bad mode is refused', async () => {
    const strip = (ms: FixMatchMetrics[]) => ms.map((m) => Object.fromEntries(Object.entries(m).filter(([k]) => !(TIMING_FIELDS as string[]).includes(k) && !['validationAccuracy', 'testAccuracy', 'testLoss'].includes(k))));
    const data = tinyData();
    const live = new SmallCnn(new Random(3), { side: 8, numClasses: 3, widths: [4, 4, 4] });
    const rec = new SmallCnn(new Random(3), { side: 8, numClasses: 3, widths: [4, 4, 4] });
    const a = await trainFixMatch(live, data, tinyConfig(), memoryFixMatchStore());
    const b = await trainFixMatch(rec, data, tinyConfig({ emaBatchNorm: 'recompute' }), memoryFixMatchStore());
    expect(strip(b.metrics)).toEqual(strip(a.metrics));
    for (const [i, p] of [...rec.parameters(), ...rec.buffers()].entries()) expect(Array.from(p.value.dataSync())).toEqual(Array.from([...live.parameters(), ...live.buffers()][i].value.dataSync()));
    expect(b.metrics.map((m) => m.testLoss)).not.toEqual(a.metrics.map((m) => m.testLoss));
    expect(() => validateFixMatchConfig({ ...tinyConfig(), emaBatchNorm: 'ema' as never })).toThrow("FixMatch config: emaBatchNorm must be 'live' or 'recompute', got 'ema'");
  });
});
