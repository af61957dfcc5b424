// Wide-ResNet basic blocks and a small WRN written as plain float64 loops from their documented structure.
import { describe, expect, it } from 'vitest';
import { Random, tensor, type Tensor } from '../../src/index.js';
import { WideBasicBlock, WideResNet, type BatchNorm } from '../../src/nn/index.js';
import { expectClose, f64, loopBatchNorm, loopConv2d, loopLeakyRelu, normals, prod } from './helpers.js';

const arr = (t: Tensor): number[] => t.toArray();

/** Give every BN non-trivial γ and β so that the affine part is exercised. */
function randomiseBn(bn: BatchNorm, seed: number): void {
  bn.gamma.value = tensor(normals(bn.channels, seed, 0.3, 1), [bn.channels], f64);
  bn.beta.value = tensor(normals(bn.channels, seed + 1, 0.5), [bn.channels], f64);
}

interface BnState { mean: number[]; var: number[] }
const bnState = (bn: BatchNorm): BnState => ({ mean: arr(bn.runningMean), var: arr(bn.runningVar) });

/**
 * BN → act → conv3x3(stride, pad 1) → BN → act → conv3x3(pad 1), plus the identity shortcut on x
 * or, when the shape changes, a 1x1 conv(stride) on the first activation (original WRN code).
 * Training: batch statistics, and the expected running statistics after the step are returned.
 */
function refBlock(block: WideBasicBlock, x: ArrayLike<number>, xs: number[], training: boolean, momentum: number) {
  const slope = block.slope;
  const bn = (b: BatchNorm, v: ArrayLike<number>, s: number[]) => {
    const st = bnState(b);
    const r = loopBatchNorm(v, s, arr(b.gamma.value), arr(b.beta.value), b.eps, training ? undefined : st);
    const next: BnState = training
      ? { mean: st.mean.map((m, k) => (1 - momentum) * m + momentum * r.mean[k]), var: st.var.map((m, k) => (1 - momentum) * m + momentum * r.unbiasedVar[k]) }
      : st;
    return { y: r.y, next };
  };
  const stride = block.conv1.stride;
  const b1 = bn(block.bn1, x, xs);
  const a = loopLeakyRelu(b1.y, slope);
  const c1 = loopConv2d(a, xs, arr(block.conv1.weight.value), block.conv1.weight.value.shape, stride, 1);
  const b2 = bn(block.bn2, c1.y, c1.ys);
  const c2 = loopConv2d(loopLeakyRelu(b2.y, slope), c1.ys, arr(block.conv2.weight.value), block.conv2.weight.value.shape, 1, 1);
  const sc = block.shortcut ? loopConv2d(a, xs, arr(block.shortcut.weight.value), block.shortcut.weight.value.shape, stride, 0).y : Float64Array.from(x);
  expect(sc.length).toBe(c2.y.length);
  return { y: c2.y.map((v, i) => v + sc[i]), ys: c2.ys, bn1: b1.next, bn2: b2.next };
}

const BLOCKS: Array<[string, number, number, number, number]> = [
  // name, inC, outC, stride, slope
  ['identity shortcut (4 -> 4, stride 1, slope 0.1)', 4, 4, 1, 0.1],
  ['projection shortcut (3 -> 5, stride 2, slope 0.1)', 3, 5, 2, 0.1],
  ['projection shortcut (4 -> 6, stride 1, slope 0 = ReLU)', 4, 6, 1, 0],
  ['projection shortcut (2 -> 2, stride 2)', 2, 2, 2, 0.2],
];

describe.each(BLOCKS)('WideBasicBlock %s', (_name, inC, outC, stride, slope) => {
  const momentum = 0.05;
  const make = (): WideBasicBlock => {
    const b = new WideBasicBlock(inC, outC, stride, new Random(inC * 10 + outC), slope, momentum, f64);
    randomiseBn(b.bn1, 61);
    randomiseBn(b.bn2, 63);
    return b;
  };
  const xs = [3, inC, 7, 6];
  const x = normals(prod(xs), 65, 1.5, 0.3);

  it('has the documented layers (shortcut only when the shape changes)', () => {
    const b = make();
    expect(b.shortcut === null).toBe(inC === outC && stride === 1);
    expect(b.parameters().map((p) => p.name)).toEqual([
      'bn1.weight', 'bn1.bias', 'conv1.weight', 'bn2.weight', 'bn2.bias', 'conv2.weight', ...(b.shortcut ? ['shortcut.weight'] : []),
    ]);
  });

  it('training-mode output and running statistics', () => {
    const b = make();
    const want = refBlock(b, x, xs, true, momentum);
    const y = b.forward(tensor(x, xs, f64), { training: true });
    expect(y.shape).toEqual(want.ys);
    expectClose(y.toArray(), want.y, { rtol: 1e-11, atol: 1e-11, label: 'y' });
    expectClose(arr(b.bn1.runningMean), want.bn1.mean, { label: 'bn1 mean' });
    expectClose(arr(b.bn1.runningVar), want.bn1.var, { label: 'bn1 var' });
    expectClose(arr(b.bn2.runningMean), want.bn2.mean, { label: 'bn2 mean' });
    expectClose(arr(b.bn2.runningVar), want.bn2.var, { label: 'bn2 var' });
  });

  it('evaluation-mode output after two training steps (running statistics)', () => {
    const b = make();
    b.forward(tensor(x, xs, f64), { training: true });
    b.forward(tensor(normals(prod(xs), 66), xs, f64), { training: true });
    const x3 = normals(prod(xs), 67, 0.7);
    const want = refBlock(b, x3, xs, false, momentum);
    expectClose(b.forward(tensor(x3, xs, f64), { training: false }).toArray(), want.y, { rtol: 1e-11, atol: 1e-11, label: 'eval y' });
  });
});

describe('WideResNet (depth 10, widen 1) as loops', () => {
  const model = new WideResNet(new Random(5), { depth: 10, widen: 1, numClasses: 5, inChannels: 3, bnMomentum: 0.1, ...f64 });
  model.blocks.forEach((b, i) => {
    randomiseBn(b.bn1, 70 + 4 * i);
    randomiseBn(b.bn2, 72 + 4 * i);
  });
  randomiseBn(model.bn, 90);
  const xs = [2, 3, 8, 8];
  const x = normals(prod(xs), 91);

  function refModel(input: ArrayLike<number>, training: boolean): Float64Array {
    const stem = loopConv2d(input, xs, arr(model.stem.weight.value), model.stem.weight.value.shape, 1, 1);
    let h: ArrayLike<number> = stem.y;
    let hs = stem.ys;
    for (const b of model.blocks) {
      const r = refBlock(b, h, hs, training, 0.1);
      h = r.y;
      hs = r.ys;
    }
    const bn = loopBatchNorm(h, hs, arr(model.bn.gamma.value), arr(model.bn.beta.value), model.bn.eps, training ? undefined : bnState(model.bn));
    const a = loopLeakyRelu(bn.y, model.slope);
    const [n, c, hh, ww] = hs;
    const pooled = new Float64Array(n * c);
    for (let i = 0; i < n * c; i++) {
      let s = 0;
      for (let p = 0; p < hh * ww; p++) s += a[i * hh * ww + p];
      pooled[i] = s / (hh * ww);
    }
    const W = arr(model.head.weight.value);
    const B = arr(model.head.bias!.value);
    const k = B.length;
    const out = new Float64Array(n * k);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < k; j++) {
        let s = B[j];
        for (let q = 0; q < c; q++) s += pooled[i * c + q] * W[j * c + q];
        out[i * k + j] = s;
      }
    return out;
  }

  it('three groups of one block (widths 16, 32, 64; strides 1, 2, 2), global average pool, linear head', () => {
    expect(model.blocks.map((b) => [b.conv1.inChannels, b.conv1.outChannels, b.conv1.stride])).toEqual([[16, 16, 1], [16, 32, 2], [32, 64, 2]]);
    expect(model.blocks.map((b) => b.shortcut !== null)).toEqual([false, true, true]);
  });

  it('training-mode logits, then evaluation-mode logits with the updated running statistics', () => {
    const want = refModel(x, true); // computed before the engine's forward updates the statistics
    const y = model.forward(tensor(x, xs, f64), { training: true });
    expect(y.shape).toEqual([2, 5]);
    expectClose(y.toArray(), want, { rtol: 1e-10, atol: 1e-11, label: 'train logits' });
    const x2 = normals(prod(xs), 92);
    expectClose(model.forward(tensor(x2, xs, f64), { training: false }).toArray(), refModel(x2, false), { rtol: 1e-10, atol: 1e-11, label: 'eval logits' });
  });
});
