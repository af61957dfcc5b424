// SGD matches hand-derived float64 steps (plain, momentum + dampening + weight decay, Nesterov) and PyTorch's defaults.
import { describe, expect, it } from 'vitest';
import { SGD } from '../../src/optim/index.js';
import { expectClose, f64, G, P0, trajectory } from './helpers.js';

// Throughout: p0 = [1, -2, 0.5], g1 = [0.5, -1, 2], g2 = [-0.25, 0.5, 1], g3 = [1, 2, -0.5].
describe('SGD', () => {
  it('has PyTorch defaults (lr required, momentum 0, dampening 0, weight_decay 0, nesterov false)', () => {
    const opt = new SGD([{ name: 'p', value: f64(P0) }], { lr: 0.5 });
    expect(opt.options).toEqual({ lr: 0.5, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false });
    expect(opt.lr).toBe(0.5);
    expect(opt.stepCount).toBe(0);
    expect(() => new SGD([{ name: 'p', value: f64(P0) }], {} as { lr: number })).toThrow(/lr is required/);
  });

  it('plain: p <- p - lr g', () => {
    // lr = 0.1:
    //   p1 = [1 - 0.05, -2 + 0.1, 0.5 - 0.2]     = [0.95, -1.9, 0.3]
    //   p2 = [0.95 + 0.025, -1.9 - 0.05, 0.3 - 0.1] = [0.975, -1.95, 0.2]
    //   p3 = [0.975 - 0.1, -1.95 - 0.2, 0.2 + 0.05] = [0.875, -2.15, 0.25]
    const got = trajectory((refs) => new SGD(refs, { lr: 0.1 }));
    expectClose(got, [
      [0.95, -1.9, 0.3],
      [0.975, -1.95, 0.2],
      [0.875, -2.15, 0.25],
    ]);
  });

  it('momentum 0.9, dampening 0.5, weight decay 0.1: buffer starts at the first gradient', () => {
    // g <- g + 0.1 p; b1 = g; b_t = 0.9 b + 0.5 g; p <- p - 0.1 b.
    // element 0: g=0.6,        b=0.6,                         p=0.94
    //            g=-0.156,     b=0.54-0.078=0.462,            p=0.8938
    //            g=1.08938,    b=0.4158+0.54469=0.96049,      p=0.797751
    // element 1: g=-1.2,       b=-1.2,                        p=-1.88
    //            g=0.312,      b=-1.08+0.156=-0.924,          p=-1.7876
    //            g=1.82124,    b=-0.8316+0.91062=0.07902,     p=-1.795502
    // element 2: g=2.05,       b=2.05,                        p=0.295
    //            g=1.0295,     b=1.845+0.51475=2.35975,       p=0.059025
    //            g=-0.4940975, b=2.123775-0.24704875=1.87672625, p=-0.128647625
    const got = trajectory((refs) => new SGD(refs, { lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.1 }));
    expectClose(got, [
      [0.94, -1.88, 0.295],
      [0.8938, -1.7876, 0.059025],
      [0.797751, -1.795502, -0.128647625],
    ]);
  });

  it('Nesterov momentum 0.9: p <- p - lr (g + 0.9 b)', () => {
    // b1 = g1; b_t = 0.9 b + g; d = g + 0.9 b; p <- p - 0.1 d.
    // element 0: b=0.5,  d=0.95,   p=0.905;  b=0.2,  d=-0.07, p=0.912;   b=1.18, d=2.062, p=0.7058
    // element 1: b=-1,   d=-1.9,   p=-1.81;  b=-0.4, d=0.14,  p=-1.824;  b=1.64, d=3.476, p=-2.1716
    // element 2: b=2,    d=3.8,    p=0.12;   b=2.8,  d=3.52,  p=-0.232;  b=2.02, d=1.318, p=-0.3638
    const got = trajectory((refs) => new SGD(refs, { lr: 0.1, momentum: 0.9, nesterov: true }));
    expectClose(got, [
      [0.905, -1.81, 0.12],
      [0.912, -1.824, -0.232],
      [0.7058, -2.1716, -0.3638],
    ]);
  });

  it('momentum 0.9 without dampening equals the closed form b_t = g_t + 0.9 b_{t-1}', () => {
    // element 0: b = 0.5, 0.2, 1.18 -> p = 0.95, 0.93, 0.812
    const got = trajectory((refs) => new SGD(refs, { lr: 0.1, momentum: 0.9 }));
    expectClose(got.map((r) => [r[0]]), [[0.95], [0.93], [0.812]]);
  });

  it('the momentum buffer is a copy, not the caller\'s gradient tensor', () => {
    const ref = { name: 'p', value: f64(P0) };
    const opt = new SGD([ref], { lr: 0.1, momentum: 0.9 });
    const g = f64(G[0]);
    opt.step([g]);
    g.dispose();
    expect(opt.stateDict().params.p.buffers.momentum_buffer).toEqual(G[0]);
  });

  it('rejects invalid hyperparameters with PyTorch\'s messages', () => {
    const refs = () => [{ name: 'p', value: f64(P0) }];
    expect(() => new SGD(refs(), { lr: -0.1 })).toThrow(/invalid learning rate -0.1/);
    expect(() => new SGD(refs(), { lr: NaN })).toThrow(/invalid learning rate NaN/);
    expect(() => new SGD(refs(), { lr: 0.1, momentum: -0.5 })).toThrow(/invalid momentum value -0.5/);
    expect(() => new SGD(refs(), { lr: 0.1, weightDecay: -1 })).toThrow(/invalid weight_decay value -1/);
    expect(() => new SGD(refs(), { lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum requires a momentum and zero dampening/);
    expect(() => new SGD(refs(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/Nesterov/);
  });
});
