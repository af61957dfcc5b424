// Optimizer base behaviour: input validation, atomic failed steps, noGrad results, lr and state-dict round trips.
import { describe, expect, it } from 'vitest';
import { add, matmul, mul, Random, randn, square, sub, sum, tensor, valueAndGrad, variable, type Tensor } from '../../src/index.js';
import {
  Adam, cosineAnnealingLr, RMSprop, SGD, type Optimizer, type OptimizerState, type ParamRef,
} from '../../src/optim/index.js';
import { f64, G, P0 } from './helpers.js';

type Make = (refs: ParamRef[]) => Optimizer;

const CONFIGS: [string, Make][] = [
  ['SGD nesterov + weight decay', (r) => new SGD(r, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['SGD momentum + dampening', (r) => new SGD(r, { lr: 0.05, momentum: 0.8, dampening: 0.3 })],
  ['Adam amsgrad + weight decay', (r) => new Adam(r, { lr: 0.05, amsgrad: true, weightDecay: 0.01 })],
  ['Adam defaults', (r) => new Adam(r)],
  ['RMSprop centred + momentum', (r) => new RMSprop(r, { lr: 0.01, centered: true, momentum: 0.5, weightDecay: 0.01 })],
  ['RMSprop defaults', (r) => new RMSprop(r)],
];

/** A small two-parameter problem whose gradient depends on the parameters: Σ c (W x + b - t)^2 + 0.1 Σ W^4. */
function problem(dtype: 'float32' | 'float64') {
  const rng = new Random(7);
  const o = { dtype };
  const x = randn([3, 1], rng, 1, o);
  const t = randn([2, 1], rng, 1, o);
  const init = { W: randn([2, 3], rng, 1, o), b: randn([2, 1], rng, 1, o) };
  const loss = valueAndGrad(([W, b]) => {
    const r = sub(add(matmul(W, x), b), t);
    return add(sum(square(r)), mul(sum(square(square(W))), 0.1));
  });
  const refs = (): ParamRef[] => [
    { name: 'W', value: init.W },
    { name: 'b', value: init.b },
  ];
  return { refs, grads: (rs: ParamRef[]) => loss(rs.map((r) => r.value)).grads };
}

function copyRefs(refs: ParamRef[]): ParamRef[] {
  return refs.map((r) => ({ name: r.name, value: tensor(r.value.dataSync(), r.value.shape, { dtype: r.value.dtype }) }));
}

const bits = (t: Tensor): number[] => Array.from(new Uint8Array(t.dataSync().buffer));

describe('Optimizer state dicts', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    for (const [label, make] of CONFIGS) {
      it(`${label} (${dtype}): 3 steps, save, load into a fresh optimizer, 3 steps == 6 uninterrupted steps`, () => {
        const p = problem(dtype);
        const schedule = cosineAnnealingLr(0.05, 6, 0.001);
        const run = (opt: Optimizer, refs: ParamRef[], from: number, to: number): void => {
          for (let s = from; s < to; s++) {
            opt.lr = schedule(s);
            opt.step(p.grads(refs));
          }
        };
        const refsA = p.refs();
        const a = make(refsA);
        run(a, refsA, 0, 6);

        const refsB = p.refs();
        const b = make(refsB);
        run(b, refsB, 0, 3);
        const state = JSON.parse(JSON.stringify(b.stateDict())) as OptimizerState;
        expect(state.stepCount).toBe(3);
        expect(state.lr).toBe(schedule(2));

        const refsC = copyRefs(refsB);
        const c = make(refsC);
        c.loadStateDict(state);
        expect(c.stepCount).toBe(3);
        expect(c.lr).toBe(b.lr);
        run(c, refsC, 3, 6);
        expect(c.stepCount).toBe(6);
        refsA.forEach((r, i) => {
          expect(refsC[i].value.dtype).toBe(dtype);
          expect(bits(refsC[i].value)).toEqual(bits(r.value));
        });
        expect(JSON.stringify(c.stateDict())).toBe(JSON.stringify(a.stateDict()));
      });
    }
  }

  it('is JSON made of numbers and number arrays, buffers keyed by parameter name', () => {
    const refs = [{ name: 'w', value: f64(P0) }, { name: 'b', value: f64([0.25], [1]) }];
    const opt = new SGD(refs, { lr: 0.1, momentum: 0.9 });
    expect(opt.stateDict().params).toEqual({
      w: { shape: [3], dtype: 'float64', buffers: {} },
      b: { shape: [1], dtype: 'float64', buffers: {} },
    });
    opt.step([f64(G[0]), f64([2], [1])]);
    const s = opt.stateDict();
    expect(s).toEqual({
      format: 'iml-optimizer',
      version: 1,
      kind: 'sgd',
      lr: 0.1,
      stepCount: 1,
      hyperparameters: { momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false },
      params: {
        w: { shape: [3], dtype: 'float64', buffers: { momentum_buffer: G[0] } },
        b: { shape: [1], dtype: 'float64', buffers: { momentum_buffer: [2] } },
      },
    });
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('stateDictAsync reads the same state (any backend)', async () => {
    const opt = new RMSprop([{ name: 'w', value: f64(P0) }], { centered: true, momentum: 0.3 });
    opt.step([f64(G[0])]);
    opt.step([f64(G[1])]);
    expect(await opt.stateDictAsync()).toEqual(opt.stateDict());
  });

  it('loadStateDict rejects mismatched states with clear messages and changes nothing', () => {
    const mk = (names = ['w'], shape = [3]) =>
      new Adam(names.map((name) => ({ name, value: tensor(new Float64Array(shape.reduce((x, y) => x * y, 1)), shape) })), { lr: 0.1 });
    const src = mk();
    src.step([f64(G[0])]);
    const good = src.stateDict();
    const clone = (): OptimizerState => JSON.parse(JSON.stringify(good)) as OptimizerState;
    const dst = mk();
    expect(() => new SGD([{ name: 'w', value: f64(P0) }], { lr: 0.1 }).loadStateDict(clone())).toThrow(/written by 'adam', this optimizer is 'sgd'/);
    expect(() => new Adam([{ name: 'w', value: f64(P0) }], { amsgrad: true }).loadStateDict(clone())).toThrow(
      /hyperparameter 'amsgrad' is false in the state but true in this optimizer/,
    );
    expect(() => mk(['v']).loadStateDict(clone())).toThrow(/missing parameters 'v'; unexpected parameters 'w'/);
    expect(() => mk(['w'], [4]).loadStateDict(clone())).toThrow(/parameter 'w' has shape \[3\] in the state but \[4\] here/);
    const f32 = new Adam([{ name: 'w', value: tensor(P0, [3], { dtype: 'float32' }) }], { lr: 0.1 });
    expect(() => f32.loadStateDict(clone())).toThrow(/parameter 'w' is float64 in the state but float32 here/);
    const short = clone();
    short.params.w.buffers.exp_avg = [1, 2];
    expect(() => dst.loadStateDict(short)).toThrow(/buffer 'exp_avg' of parameter 'w' needs 3 numbers, got 2/);
    const lacking = clone();
    delete lacking.params.w.buffers.exp_avg_sq;
    expect(() => dst.loadStateDict(lacking)).toThrow(/parameter 'w' lacks buffers exp_avg_sq after 1 steps/);
    const nan = clone();
    nan.params.w.buffers.exp_avg[1] = null as unknown as number; // what JSON makes of NaN
    expect(() => dst.loadStateDict(nan)).toThrow(/non-finite or non-number entry at 1/);
    const v2 = { ...clone(), version: 2 } as unknown as OptimizerState;
    expect(() => dst.loadStateDict(v2)).toThrow(/unsupported state version 2/);
    expect(() => dst.loadStateDict({ ...clone(), lr: -1 })).toThrow(/invalid learning rate -1/);
    expect(() => dst.loadStateDict({ ...clone(), stepCount: 1.5 })).toThrow(/invalid stepCount 1.5/);
    expect(dst.stepCount).toBe(0);
    expect(dst.stateDict().params.w.buffers).toEqual({});
    dst.loadStateDict(clone());
    expect(dst.stateDict()).toEqual(good);
  });
});

describe('Optimizer.step', () => {
  const make = () => {
    const refs = [{ name: 'w', value: f64(P0) }, { name: 'bias', value: f64([0, 0], [2]) }];
    return { refs, opt: new Adam(refs, { lr: 0.1 }) };
  };

  it('rejects wrong gradient counts, shapes and dtypes, naming the parameter', () => {
    const { opt } = make();
    expect(() => opt.step([f64(G[0])])).toThrow(/got 1 gradients for 2 parameters \(no gradient for parameter 'bias'\)/);
    expect(() => opt.step([f64(G[0]), f64([1, 2]), f64([1])])).toThrow(/got 3 gradients for 2 parameters/);
    expect(() => opt.step([f64(G[0]), f64([1, 2, 3])])).toThrow(/gradient for parameter 'bias' has shape \[3\], the parameter has \[2\]/);
    expect(() => opt.step([f64(G[0]), tensor([1, 2], [2], { dtype: 'float32' })])).toThrow(
      /gradient for parameter 'bias' is float32, the parameter is float64/,
    );
    expect(opt.stepCount).toBe(0);
  });

  it('rejects a non-finite gradient naming the parameter and step, leaving everything unchanged', () => {
    const { refs, opt } = make();
    opt.step([f64(G[0]), f64([1, 1])]);
    opt.step([f64(G[1]), f64([1, 1])]);
    const before = refs.map((r) => r.value);
    const state = JSON.stringify(opt.stateDict());
    expect(() => opt.step([f64(G[2]), f64([1, NaN])])).toThrow(/non-finite gradient \(NaN\) for parameter 'bias' at element 1, step 3/);
    expect(() => opt.step([f64([1, Infinity, 0]), f64([1, 1])])).toThrow(/non-finite gradient \(Infinity\) for parameter 'w' at element 1, step 3/);
    expect(refs.map((r) => r.value)).toEqual(before);
    expect(refs[0].value).toBe(before[0]);
    expect(opt.stepCount).toBe(2);
    expect(JSON.stringify(opt.stateDict())).toBe(state);
  });

  it('rejects parameters replaced by a different shape since construction', () => {
    const { refs, opt } = make();
    refs[1].value = f64([1, 2, 3]);
    expect(() => opt.step([f64(G[0]), f64([1, 2, 3])])).toThrow(/parameter 'bias' changed from \[2\]:float64 to \[3\]:float64/);
  });

  it('rejects bad parameter lists', () => {
    expect(() => new SGD([], { lr: 0.1 })).toThrow(/empty parameter list/);
    expect(() => new SGD([{ name: 'a', value: f64(P0) }, { name: 'a', value: f64(P0) }], { lr: 0.1 })).toThrow(/'a' is used twice/);
    expect(() => new SGD([{ name: '', value: f64(P0) }], { lr: 0.1 })).toThrow(/non-empty string name/);
    expect(() => new SGD([{ name: 'a', value: [1, 2] as unknown as Tensor }], { lr: 0.1 })).toThrow(/'a' has no Tensor value/);
  });

  it('runs under noGrad: new values never require grad, even from traced parameters and gradients', () => {
    const w = variable(f64(P0));
    const refs = [{ name: 'w', value: w }];
    const g = mul(variable(f64(G[0])), 1);
    expect(w.requiresGrad && g.requiresGrad).toBe(true);
    for (const opt of [new SGD(refs, { lr: 0.1, momentum: 0.9, weightDecay: 0.1 }), new Adam(refs), new RMSprop(refs, { centered: true, momentum: 0.1 })]) {
      opt.step([g]);
      expect(refs[0].value.requiresGrad).toBe(false);
      expect(refs[0].value.node).toBeNull();
      expect(refs[0].value).not.toBe(w);
    }
  });

  it('lr is mutable, used from the next step on, and validated', () => {
    const ref = { name: 'p', value: f64(P0) };
    const opt = new SGD([ref], { lr: 0.1 });
    opt.lr = 1;
    opt.step([f64(G[0])]);
    expect(ref.value.toArray()).toEqual([0.5, -1, -1.5]);
    expect(() => {
      opt.lr = -0.1;
    }).toThrow(/invalid learning rate -0.1/);
    expect(() => {
      opt.lr = Infinity;
    }).toThrow(/invalid learning rate Infinity/);
    expect(opt.lr).toBe(1);
    expect(opt.options.lr).toBe(0.1);
  });

  it('keeps float32 parameters float32, close to the float64 trajectory', () => {
    const r32 = { name: 'p', value: tensor(P0, [3], { dtype: 'float32' }) };
    const r64 = { name: 'p', value: f64(P0) };
    const o32 = new Adam([r32], { lr: 0.1, amsgrad: true });
    const o64 = new Adam([r64], { lr: 0.1, amsgrad: true });
    for (const g of G) {
      o32.step([tensor(g, [3], { dtype: 'float32' })]);
      o64.step([f64(g)]);
    }
    expect(r32.value.dtype).toBe('float32');
    r32.value.toArray().forEach((v, i) => expect(v).toBeCloseTo(r64.value.toArray()[i], 6));
  });
});
