// EMA of weights and FixMatch's cosine schedule against hand-computed values; weight decay skips biases and batch-norm parameters; the small CNN's shapes.
import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/core/creation.js';
import { WideResNet } from '../../src/nn/wide-resnet.js';
import { fixMatchCosineLr } from '../../src/optim/schedule.js';
import { SGD } from '../../src/optim/sgd.js';
import { WeightEma, withParameterValues } from '../../src/ssl/ema.js';
import { SmallCnn } from '../../src/ssl/small-cnn.js';
import { addWeightDecay, decays } from '../../src/ssl/weight-decay.js';
import { Random } from '../../src/util/random.js';

const f64 = { dtype: 'float64' as const };

describe('EMA and schedule', () => {
  it('EMA: e <- 0.999 e + 0.001 w, step by step', () => {
    const p = [{ value: tensor([1, -2], [2], f64) }];
    const ema = new WeightEma(p, 0.999);
    p[0].value = tensor([3, 0], [2], f64);
    ema.update(p);
    // 0.999 * 1 + 0.001 * 3 = 1.002; 0.999 * -2 + 0 = -1.998.
    expect(Array.from(ema.values[0].dataSync())).toEqual([0.999 * 1 + (1 - 0.999) * 3, 0.999 * -2 + (1 - 0.999) * 0]);
    expect(ema.values[0].dataSync()[0]).toBeCloseTo(1.002, 15);
    p[0].value = tensor([5, 10], [2], f64);
    ema.update(p);
    expect(ema.values[0].dataSync()[0]).toBeCloseTo(0.999 * 1.002 + 0.001 * 5, 15);
    expect(ema.values[0].dataSync()[1]).toBeCloseTo(0.999 * -1.998 + 0.001 * 10, 15);
    expect(() => new WeightEma(p, 1)).toThrow(/decay must be in \[0, 1\)/);
  });

  it('cosine schedule lr cos(7 pi k / 16 K): 0.03 at 0, 0.03 cos(7 pi/32) at K/2, 0.03 cos(7 pi/16) at K', () => {
    const s = fixMatchCosineLr(0.03, 1000);
    expect(s(0)).toBe(0.03);
    expect(s(500)).toBeCloseTo(0.03 * Math.cos((7 * Math.PI) / 32), 15);
    expect(s(500)).toBeCloseTo(0.023190, 5); // cos(7π/32) = 0.773010
    expect(s(1000)).toBeCloseTo(0.03 * 0.19509032201612825, 15);
  });

  it('withParameterValues swaps values in for an async function and restores them', async () => {
    const model = new SmallCnn(new Random(0), { widths: [2, 2, 2] });
    const before = model.parameters().map((p) => p.value);
    const other = before.map((v) => tensor(new Float32Array(v.size).fill(7), v.shape));
    const seen = await withParameterValues(model, other, async () => { await Promise.resolve(); return model.parameters()[0].value.dataSync()[0]; });
    expect(seen).toBe(7);
    model.parameters().forEach((p, i) => expect(p.value).toBe(before[i]));
  });
});

describe('weight decay', () => {
  it('skips biases and batch-norm weight/bias in WRN-28-2 and the small CNN', () => {
    const wrn = new WideResNet(new Random(0), { depth: 10, widen: 1 });
    const skipped = wrn.parameters().filter((p) => !decays(p)).map((p) => p.name);
    expect(skipped.length).toBeGreaterThan(0);
    for (const n of skipped) expect(n.endsWith('.bias') || /(^|\.)bn\d?\./.test(n)).toBe(true);
    const decayed = wrn.parameters().filter(decays).map((p) => p.name);
    for (const n of decayed) expect(/conv|stem|shortcut|head\.weight/.test(n) && !/bn/.test(n)).toBe(true);
    const cnn = new SmallCnn(new Random(0));
    expect(cnn.parameters().filter(decays).map((p) => p.name)).toEqual(['conv1.weight', 'conv2.weight', 'conv3.weight', 'head.weight']);
    expect(cnn.parameters().filter((p) => !decays(p)).map((p) => p.name)).toEqual(['bn1.weight', 'bn1.bias', 'bn2.weight', 'bn2.bias', 'bn3.weight', 'bn3.bias', 'head.bias']);
  });

  it('adds lambda w to decayed gradients only; with SGD it equals PyTorch SGD weight_decay on that subset', () => {
    const params = [{ name: 'w', value: tensor([1, 2, 3, 4], [2, 2], f64) }, { name: 'b', value: tensor([5, 6], [2], f64) }];
    const grads = [tensor([0.1, 0.1, 0.1, 0.1], [2, 2], f64), tensor([1, 1], [2], f64)];
    const out = addWeightDecay(grads, params, 0.5);
    expect(Array.from(out[0].dataSync())).toEqual([0.6, 1.1, 1.6, 2.1]);
    expect(out[1]).toBe(grads[1]);
    const a = new SGD([{ name: 'w', value: params[0].value }], { lr: 0.1, momentum: 0.9, nesterov: true });
    const b = new SGD([{ name: 'w', value: params[0].value }], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.5 });
    a.step([out[0]]);
    b.step([grads[0]]);
    expect(Array.from(a.params[0].value.dataSync())).toEqual(Array.from(b.params[0].value.dataSync()));
  });
});

describe('small CNN', () => {
  it('maps [N, C, side, side] to [N, 10] for 28 and 32 px, grayscale and RGB', () => {
    for (const [c, side] of [[1, 28], [3, 32]]) {
      const m = new SmallCnn(new Random(1), { inChannels: c, side });
      const y = m.forward(tensor(new Float32Array(2 * c * side * side).fill(0.5), [2, c, side, side]), { training: false });
      expect(y.shape).toEqual([2, 10]);
    }
    expect(() => new SmallCnn(new Random(1), { side: 30 })).toThrow(/multiple of 4/);
  });
});

describe('EMA warm-up', () => {
  it('uses min(d, (1 + t)/(10 + t)): 0.1 at t = 0, 0.5 at t = 8, 0.999 from t = 8990', () => {
    const p = [{ value: tensor([10], [1], f64) }];
    const ema = new WeightEma(p, 0.999, true);
    expect([ema.decayAt(0), ema.decayAt(8), ema.decayAt(8990), ema.decayAt(8991), ema.decayAt(1e6)]).toEqual([0.1, 0.5, 8991 / 9000, 0.999, 0.999]);
    p[0].value = tensor([20], [1], f64);
    ema.update(p, 0);
    expect(ema.values[0].dataSync()[0]).toBeCloseTo(0.1 * 10 + 0.9 * 20, 13); // 19
    ema.update(p, 8);
    expect(ema.values[0].dataSync()[0]).toBeCloseTo(0.5 * 19 + 0.5 * 20, 13);
    expect(new WeightEma(p, 0.999).decayAt(0)).toBe(0.999);
  });
});
