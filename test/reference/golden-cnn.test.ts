// A conv-ReLU-maxpool-BN-linear CNN and a WRN basic block with per-parameter L2 match PyTorch float64 golden values (loss, grad, HVP, mixed term, BN stats).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  add, crossEntropy, hvpAndMixed, maxPool2d, mul, relu, reshape, secondOrderOperator, softplus, sum, tensor, valueAndGrad, type Tensor,
} from '../../src/index.js';
import { BatchNorm, Conv2d, functionalCall, Linear, Module, WideBasicBlock, type ForwardContext } from '../../src/nn/index.js';
import { globalAvgPool2d } from '../../src/ops/pooling.js';
import { Random } from '../../src/util/random.js';
import { expectClose, f32, f64 } from './helpers.js';

interface GoldenCnn {
  config: { n: number; c: number; h: number; w: number; o: number; padding: number; k: number; soft: boolean; eps: number; momentum: number };
  param_names: string[];
  param_shapes: number[][];
  x: number[];
  targets: number[];
  labels: number[] | null;
  weights: number[][];
  lambdas: number[][];
  v: number[][];
  loss: number;
  cross_entropy: number;
  train_logits: number[];
  grad: number[][];
  hvp: number[][];
  mixed: number[][];
  running_mean: number[];
  running_var: number[];
  eval_logits: number[];
}

/** conv3x3 -> ReLU -> max-pool 2 -> BatchNorm -> flatten -> linear, built from the engine's nn layers. */
class SmallCnn extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm;
  readonly fc: Linear;
  constructor(cfg: GoldenCnn['config'], features: number, opts: { dtype: 'float32' | 'float64' } = f64) {
    super();
    const rng = new Random(0); // overwritten by the golden weights
    this.conv = this.child('conv', new Conv2d(cfg.c, cfg.o, 3, rng, { ...opts, padding: cfg.padding }));
    this.bn = this.child('bn', new BatchNorm(cfg.o, cfg.eps, cfg.momentum, opts));
    this.fc = this.child('fc', new Linear(features, cfg.k, rng, opts));
  }
  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const h = this.bn.forward(maxPool2d(relu(this.conv.forward(x)), 2), ctx);
    return this.fc.forward(reshape(h, [h.shape[0], -1]));
  }
}

const flat = (ts: Tensor[]): number[] => ts.flatMap((t) => t.toArray());
const relErr = (got: number[], want: number[]): number =>
  Math.sqrt(got.reduce((s, g, i) => s + (g - want[i]) ** 2, 0) / want.reduce((s, w) => s + w * w, 0));

describe.each(['cnn-seed1.json', 'cnn-seed2.json'])('PyTorch float64 CNN golden %s', (file) => {
  const g = JSON.parse(readFileSync(new URL(`../fixtures/golden/${file}`, import.meta.url), 'utf8')) as GoldenCnn;
  const cfg = g.config;
  const features = g.param_shapes[4][1];
  const model = new SmallCnn(cfg, features);
  const shapes = g.param_shapes;
  const w = g.weights.map((a, i) => tensor(a, shapes[i], f64));
  const lam = g.lambdas.map((a, i) => tensor(a, shapes[i], f64));
  const v = g.v.map((a, i) => tensor(a, shapes[i], f64));
  const x = tensor(g.x, [cfg.n, cfg.c, cfg.h, cfg.w], f64);
  const t = tensor(g.targets, [cfg.n, cfg.k], f64);
  const logits = (ws: Tensor[], ctx: ForwardContext): Tensor => functionalCall(model, ws, () => model.forward(x, ctx));
  const trainLoss = (ws: Tensor[], ls: Tensor[]): Tensor => {
    let loss = crossEntropy(logits(ws, { training: true, updateStats: false }), t);
    ws.forEach((wi, i) => {
      const r = mul(softplus(ls[i]), wi);
      loss = add(loss, sum(mul(r, r)));
    });
    return loss;
  };

  it('the engine model has the fixture\'s parameters, in order and shape', () => {
    const ps = model.parameters();
    expect(ps.map((p) => p.name)).toEqual(g.param_names);
    expect(ps.map((p) => p.value.shape)).toEqual(shapes);
    expect(g.targets.length).toBe(cfg.n * cfg.k);
  });

  it('training-mode logits, cross-entropy and regularised loss', () => {
    expectClose(logits(w, { training: true, updateStats: false }).toArray(), g.train_logits, { rtol: 1e-11, atol: 1e-12, label: 'logits' });
    expect(Math.abs(crossEntropy(logits(w, { training: true, updateStats: false }), t).item() - g.cross_entropy)).toBeLessThan(1e-12);
    expect(Math.abs(trainLoss(w, lam).item() - g.loss)).toBeLessThan(1e-12 * Math.abs(g.loss));
  });

  it('gradient with respect to every parameter', () => {
    const { value, grads } = valueAndGrad((ws) => trainLoss(ws, lam))(w);
    expect(Math.abs(value.item() - g.loss)).toBeLessThan(1e-12);
    grads.forEach((gr, i) => expect(relErr(gr.toArray(), g.grad[i]), g.param_names[i]).toBeLessThan(1e-10));
    expectClose(flat(grads), g.grad.flat(), { rtol: 1e-9, atol: 1e-12, label: 'grad' });
  });

  it('H v and vᵀ ∂²L/∂w∂λ in one pass (hvpAndMixed), and from a recorded operator', () => {
    const r = hvpAndMixed(trainLoss, w, lam, v);
    r.hvp.forEach((h, i) => expect(relErr(h.toArray(), g.hvp[i]), `hvp ${g.param_names[i]}`).toBeLessThan(1e-10));
    r.mixed.forEach((m, i) => expect(relErr(m.toArray(), g.mixed[i]), `mixed ${g.param_names[i]}`).toBeLessThan(1e-10));
    expectClose(flat(r.hvp), g.hvp.flat(), { rtol: 1e-8, atol: 1e-11, label: 'hvp' });
    expectClose(flat(r.mixed), g.mixed.flat(), { rtol: 1e-8, atol: 1e-11, label: 'mixed' });
    expect(relErr(flat(r.grad), g.grad.flat())).toBeLessThan(1e-10);
    const op = secondOrderOperator(trainLoss, w, lam);
    expect(relErr(flat(op.hvp(v)), g.hvp.flat())).toBeLessThan(1e-10);
    expect(relErr(flat(op.mixed(v)), g.mixed.flat())).toBeLessThan(1e-10);
  });

  it('float32 (Wasm sgemm paths): loss, gradient, H v and mixed term to float32 accuracy', () => {
    const m32 = new SmallCnn(cfg, features, f32);
    const c = (a: number[], i: number): Tensor => tensor(a, shapes[i], f32);
    const x32 = tensor(g.x, [cfg.n, cfg.c, cfg.h, cfg.w], f32);
    const t32 = tensor(g.targets, [cfg.n, cfg.k], f32);
    const f = (ws: Tensor[], ls: Tensor[]): Tensor => {
      let loss = crossEntropy(functionalCall(m32, ws, () => m32.forward(x32, { training: true, updateStats: false })), t32);
      ws.forEach((wi, i) => {
        const r = mul(softplus(ls[i]), wi);
        loss = add(loss, sum(mul(r, r)));
      });
      return loss;
    };
    const r = hvpAndMixed(f, g.weights.map(c), g.lambdas.map(c), g.v.map(c));
    expect(r.value.dtype).toBe('float32');
    expect(Math.abs(r.value.item() - g.loss)).toBeLessThan(1e-5 * Math.abs(g.loss));
    expect(relErr(flat(r.grad), g.grad.flat())).toBeLessThan(1e-5);
    expect(relErr(flat(r.hvp), g.hvp.flat())).toBeLessThan(1e-4);
    expect(relErr(flat(r.mixed), g.mixed.flat())).toBeLessThan(1e-4);
  });

  it('BN running statistics after one training forward, then evaluation-mode logits', () => {
    const fresh = new SmallCnn(cfg, features);
    functionalCall(fresh, w, () => fresh.forward(x, { training: true }));
    expectClose(fresh.bn.runningMean.toArray(), g.running_mean, { rtol: 1e-12, atol: 1e-14, label: 'running mean' });
    expectClose(fresh.bn.runningVar.toArray(), g.running_var, { rtol: 1e-12, atol: 1e-14, label: 'running var' });
    const ev = functionalCall(fresh, w, () => fresh.forward(x, { training: false }));
    expectClose(ev.toArray(), g.eval_logits, { rtol: 1e-11, atol: 1e-12, label: 'eval logits' });
  });
});

interface GoldenWrn extends Omit<GoldenCnn, 'config' | 'running_mean' | 'running_var'> {
  config: { n: number; c: number; h: number; w: number; o: number; stride: number; k: number; slope: number; momentum: number; eps: number };
  running: Record<'bn1.mean' | 'bn1.var' | 'bn2.mean' | 'bn2.var', number[]>;
}

/** One engine WideBasicBlock, global average pooling and a linear head. */
class BlockNet extends Module {
  readonly block: WideBasicBlock;
  readonly head: Linear;
  constructor(cfg: GoldenWrn['config']) {
    super();
    const rng = new Random(0); // overwritten by the golden weights
    this.block = this.child('block', new WideBasicBlock(cfg.c, cfg.o, cfg.stride, rng, cfg.slope, cfg.momentum, f64));
    this.head = this.child('head', new Linear(cfg.o, cfg.k, rng, f64));
  }
  forward(x: Tensor, ctx: ForwardContext): Tensor {
    return this.head.forward(globalAvgPool2d(this.block.forward(x, ctx)));
  }
}

describe('PyTorch float64 golden: WRN basic block with projection shortcut (cnn-wrn-block.json)', () => {
  const g = JSON.parse(readFileSync(new URL('../fixtures/golden/cnn-wrn-block.json', import.meta.url), 'utf8')) as GoldenWrn;
  const cfg = g.config;
  const net = new BlockNet(cfg);
  const shapes = g.param_shapes;
  const w = g.weights.map((a, i) => tensor(a, shapes[i], f64));
  const lam = g.lambdas.map((a, i) => tensor(a, shapes[i], f64));
  const v = g.v.map((a, i) => tensor(a, shapes[i], f64));
  const x = tensor(g.x, [cfg.n, cfg.c, cfg.h, cfg.w], f64);
  const t = tensor(g.targets, [cfg.n, cfg.k], f64);
  const trainLoss = (ws: Tensor[], ls: Tensor[]): Tensor => {
    let loss = crossEntropy(functionalCall(net, ws, () => net.forward(x, { training: true, updateStats: false })), t);
    ws.forEach((wi, i) => {
      const r = mul(softplus(ls[i]), wi);
      loss = add(loss, sum(mul(r, r)));
    });
    return loss;
  };

  it('parameter names and shapes match', () => {
    expect(net.parameters().map((p) => p.name)).toEqual(g.param_names);
    expect(net.parameters().map((p) => p.value.shape)).toEqual(shapes);
  });

  it('logits, loss, gradient, H v and the mixed term', () => {
    const z = functionalCall(net, w, () => net.forward(x, { training: true, updateStats: false }));
    expectClose(z.toArray(), g.train_logits, { rtol: 1e-11, atol: 1e-12, label: 'logits' });
    const r = hvpAndMixed(trainLoss, w, lam, v);
    expect(Math.abs(r.value.item() - g.loss)).toBeLessThan(1e-12 * Math.abs(g.loss));
    r.grad.forEach((q, i) => expect(relErr(q.toArray(), g.grad[i]), `grad ${g.param_names[i]}`).toBeLessThan(1e-10));
    r.hvp.forEach((q, i) => expect(relErr(q.toArray(), g.hvp[i]), `hvp ${g.param_names[i]}`).toBeLessThan(1e-10));
    r.mixed.forEach((q, i) => expect(relErr(q.toArray(), g.mixed[i]), `mixed ${g.param_names[i]}`).toBeLessThan(1e-10));
  });

  it('running statistics (momentum 0.001) after one training forward, and evaluation logits', () => {
    const fresh = new BlockNet(cfg);
    functionalCall(fresh, w, () => fresh.forward(x, { training: true }));
    const b = fresh.block;
    expectClose(b.bn1.runningMean.toArray(), g.running['bn1.mean'], { rtol: 1e-12, atol: 1e-15, label: 'bn1 mean' });
    expectClose(b.bn1.runningVar.toArray(), g.running['bn1.var'], { rtol: 1e-12, atol: 1e-15, label: 'bn1 var' });
    expectClose(b.bn2.runningMean.toArray(), g.running['bn2.mean'], { rtol: 1e-12, atol: 1e-15, label: 'bn2 mean' });
    expectClose(b.bn2.runningVar.toArray(), g.running['bn2.var'], { rtol: 1e-12, atol: 1e-15, label: 'bn2 var' });
    const ev = functionalCall(fresh, w, () => fresh.forward(x, { training: false }));
    expectClose(ev.toArray(), g.eval_logits, { rtol: 1e-11, atol: 1e-12, label: 'eval logits' });
  });
});
