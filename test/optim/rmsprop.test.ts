// RMSprop matches hand-derived float64 steps (defaults; centred with momentum and weight decay) and PyTorch's defaults.
import { describe, expect, it } from 'vitest';
import { RMSprop } from '../../src/optim/index.js';
import { expectClose, f64, G, P0, trajectory } from './helpers.js';

// Throughout: p0 = [1, -2, 0.5], g1 = [0.5, -1, 2], g2 = [-0.25, 0.5, 1], g3 = [1, 2, -0.5].
// Rule: v <- a v + (1-a) g^2; centred: gbar <- a gbar + (1-a) g, s = sqrt(v - gbar^2) + eps, else s = sqrt(v) + eps;
// momentum: b <- mu b + g/s, p <- p - lr b; otherwise p <- p - lr g/s. Expected numbers: these formulas in float64.
describe('RMSprop', () => {
  it('has PyTorch defaults (lr 1e-2, alpha 0.99, eps 1e-8, weight_decay 0, momentum 0, centered false)', () => {
    const opt = new RMSprop([{ name: 'p', value: f64(P0) }]);
    expect(opt.options).toEqual({ lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false });
    expect(opt.lr).toBe(1e-2);
  });

  it('defaults: eps is added after the square root', () => {
    // Step 1: v = 0.01 g^2, s = 0.1 |g| + 1e-8, p1 = p0 - 0.01 g / s = p0 - 0.1 sign(g) / (1 + 1e-7/|g|)
    //   = [1 - 0.1/(1 + 2e-7), -2 + 0.1/(1 + 1e-7), 0.5 - 0.1/(1 + 5e-8)] ~ [0.90000002, -1.90000001, 0.400000005].
    //   (eps inside the root would give 1 - 0.1/sqrt(1 + 4e-14) ~ 0.9 instead.)
    // Step 2, element 0: v = 0.0099 0.25 + 0.01 0.0625 = 0.0031, s = 0.05567764..., p2 = p1 + 0.0025/s = 0.94490133...
    const got = trajectory((refs) => new RMSprop(refs));
    expectClose(got, [
      [0.900000019999996, -1.900000009999999, 0.40000000499999977],
      [0.9449013374421751, -1.944901331474435, 0.355098681509435],
      [0.8574273783928595, -2.0323752943495976, 0.377109100098154],
    ]);
  });

  it('weight decay 0.1, alpha 0.9 (the fused CPU path): the rule applied in float64 by hand, square_avg kept in place', () => {
    const lr = 0.01;
    const alpha = 0.9;
    const wd = 0.1;
    const p = [...P0];
    const v = [0, 0, 0];
    const want = G.map((g) => {
      g.forEach((gi0, i) => {
        const gi = gi0 + wd * p[i];
        v[i] = v[i] * alpha + (1 - alpha) * gi * gi;
        p[i] = p[i] + (-lr * gi) / (Math.sqrt(v[i]) + 1e-8);
      });
      return [...p];
    });
    expectClose(trajectory((refs) => new RMSprop(refs, { lr, alpha, weightDecay: wd })), want);
    // The square_avg buffer is updated in place: the tensor held after step 1 sees step 2.
    const ref = { name: 'w', value: f64(P0) };
    const opt = new RMSprop([ref], { lr, alpha });
    opt.step([f64(G[0])]);
    const buf = opt.stateDict().params.w.buffers.square_avg;
    opt.step([f64(G[1])]);
    expect(opt.stateDict().params.w.buffers.square_avg).not.toEqual(buf);
    expect(opt.stateDict().params.w.buffers.square_avg[0]).toBeCloseTo(alpha * (1 - alpha) * 0.25 + (1 - alpha) * 0.0625, 15);
  });

  it('centred, momentum 0.5, alpha 0.9, weight decay 0.1', () => {
    // lr = 0.01. Step 1: g = g1 + 0.1 p0 = [0.6, -1.2, 2.05]; v = 0.1 g^2; gbar = 0.1 g; v - gbar^2 = 0.09 g^2;
    //   s = 0.3 |g| + 1e-8; b = g / s ~ sign(g) / 0.3; p1 = p0 - 0.01 b ~ [0.9666667, -1.9666667, 0.4666667].
    // Step 2, element 0: g = -0.25 + 0.0966667 = -0.1533333; v = 0.0324 + 0.1 g^2 = 0.0347511;
    //   gbar = 0.054 - 0.0153333 = 0.0386667; s = sqrt(0.0347511 - 0.0014951) = 0.182362;
    //   b = 0.5 * 3.3333333 - 0.1533333/0.182362 = 0.825848; p2 = 0.9666667 - 0.00825848 = 0.958408.
    const got = trajectory((refs) => new RMSprop(refs, { lr: 0.01, alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 0.1 }));
    expectClose(got, [
      [0.9666666685185185, -1.9666666675925926, 0.46666666720867206],
      [0.958408173998616, -1.9583247625707714, 0.43353611316632173],
      [0.9239459053075623, -1.981408180964928, 0.42406959732306293],
    ]);
  });

  it('keeps square_avg, plus momentum_buffer and grad_avg when enabled', () => {
    const ref = { name: 'w', value: f64(P0) };
    const opt = new RMSprop([ref], { momentum: 0.5, centered: true });
    opt.step([f64([0.5, -1, 2])]);
    expect(Object.keys(opt.stateDict().params.w.buffers).sort()).toEqual(['grad_avg', 'momentum_buffer', 'square_avg']);
    const plain = new RMSprop([{ name: 'w', value: f64(P0) }]);
    plain.step([f64([0.5, -1, 2])]);
    expect(Object.keys(plain.stateDict().params.w.buffers)).toEqual(['square_avg']);
  });

  it('rejects invalid hyperparameters', () => {
    const refs = () => [{ name: 'p', value: f64(P0) }];
    expect(() => new RMSprop(refs(), { lr: -1 })).toThrow(/invalid learning rate/);
    expect(() => new RMSprop(refs(), { eps: -1 })).toThrow(/invalid epsilon value/);
    expect(() => new RMSprop(refs(), { momentum: -1 })).toThrow(/invalid momentum value/);
    expect(() => new RMSprop(refs(), { weightDecay: -1 })).toThrow(/invalid weight_decay value/);
    expect(() => new RMSprop(refs(), { alpha: -0.5 })).toThrow(/invalid alpha value/);
  });
});
