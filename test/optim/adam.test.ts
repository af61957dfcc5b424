// Adam matches hand-derived float64 steps (defaults, L2 weight decay, AMSGrad) and PyTorch's defaults.
import { describe, expect, it } from 'vitest';
import { Adam } from '../../src/optim/index.js';
import { expectClose, f64, P0, trajectory } from './helpers.js';

// Throughout: p0 = [1, -2, 0.5], g1 = [0.5, -1, 2], g2 = [-0.25, 0.5, 1], g3 = [1, 2, -0.5], lr = 0.1.
// Rule: m <- b1 m + (1-b1) g, v <- b2 v + (1-b2) g^2, p <- p - (lr/bc1) m / (sqrt(v)/sqrt(bc2) + eps),
// bc1 = 1 - b1^t, bc2 = 1 - b2^t. The expected numbers below are these formulas evaluated in float64.
describe('Adam', () => {
  it('has PyTorch defaults (lr 1e-3, betas [0.9, 0.999], eps 1e-8, weight_decay 0, amsgrad false)', () => {
    const opt = new Adam([{ name: 'p', value: f64(P0) }]);
    expect(opt.options).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false });
    expect(opt.lr).toBe(1e-3);
  });

  it('default betas and eps', () => {
    // Step 1: m = 0.1 g, v = 0.001 g^2, bc1 = 0.1, bc2 = 0.001, so sqrt(v)/sqrt(bc2) = |g| and
    //   p1 = p0 - 0.1 g / (|g| + 1e-8): [1 - 0.1/(1 + 2e-8), -2 + 0.1/(1 + 1e-8), 0.5 - 0.1/(1 + 5e-9)]
    //      ~ [0.900000002, -1.900000001, 0.4000000005].
    // Step 2: m = 0.09 g1 + 0.1 g2, v = 0.000999 g1^2 + 0.001 g2^2, bc1 = 0.19, bc2 = 0.001999.
    //   element 0: m = 0.02, v = 0.00031225, sqrt(v/bc2) = 0.3952255..., p2 = p1 - (0.1/0.19) 0.02 / 0.3952255...
    //              = 0.900000002 - 0.0266337... = 0.8733662987...
    // Step 3: bc1 = 0.271, bc2 = 0.002997001, same recursion.
    const got = trajectory((refs) => new Adam(refs, { lr: 0.1 }));
    expectClose(got, [
      [0.900000002, -1.900000001, 0.4000000005],
      [0.8733662987078463, -1.873366297370903, 0.30678203720851044],
      [0.8075551396770898, -1.9190994760260234, 0.25041589998043867],
    ]);
  });

  it('weight decay 0.1 is added to the gradient (L2), not decoupled', () => {
    // Step 1: g = g1 + 0.1 p0 = [0.6, -1.2, 2.05]; p1 = p0 - 0.1 g/(|g| + 1e-8)
    //   = [1 - 0.1/(1 + 1e-8/0.6), -2 + 0.1/(1 + 1e-8/1.2), 0.5 - 0.1/(1 + 1e-8/2.05)]
    //   ~ [0.9000000016667, -1.9000000008333, 0.4000000004878].
    // Step 2: g = g2 + 0.1 p1, element 0: g = -0.25 + 0.09 = -0.16 (up to 1.7e-10), m = 0.054 - 0.016 = 0.038,
    //   v = 0.000999 0.36 + 0.001 0.0256 = 0.00038524, p2 = p1 - (0.1/0.19) 0.038 / sqrt(v/0.001999) = 0.85444...
    const got = trajectory((refs) => new Adam(refs, { lr: 0.1, weightDecay: 0.1 }));
    expectClose(got, [
      [0.9000000016666666, -1.9000000008333333, 0.4000000004878049],
      [0.8544413674617625, -1.8537472646427609, 0.306570104544592],
      [0.7815043998631659, -1.88636311586399, 0.2486013749103515],
    ]);
  });

  it('AMSGrad uses the running maximum of v (betas [0.9, 0.5], where v shrinks)', () => {
    // v1 = 0.5 g1^2 = [0.125, 0.5, 2]; v2 = 0.5 v1 + 0.5 g2^2 = [0.09375, 0.375, 1.5] < v1, so AMSGrad keeps v1;
    // v3 = 0.5 v2 + 0.5 g3^2 = [0.546875, 2.1875, 0.875]: the maximum becomes [v3_0, v3_1, v1_2].
    // Step 2, element 0: m = 0.02, bc1 = 0.19, bc2 = 0.75:
    //   AMSGrad:  p2 = p1 - (0.1/0.19) 0.02 / (sqrt(0.125/0.75) + 1e-8) = p1 - 0.0257841... = 0.87421590...
    //   plain:    p2 = p1 - (0.1/0.19) 0.02 / (sqrt(0.09375/0.75) + 1e-8) = p1 - 0.0297729... = 0.87022708...
    const ams = trajectory((refs) => new Adam(refs, { lr: 0.1, betas: [0.9, 0.5], amsgrad: true }));
    expectClose(ams, [
      [0.900000002, -1.900000001, 0.4000000005],
      [0.8742159000759665, -1.8742158987601771, 0.30975564210798817],
      [0.8191385924479416, -1.9124899602352778, 0.2604528966006037],
    ]);
    const plain = trajectory((refs) => new Adam(refs, { lr: 0.1, betas: [0.9, 0.5] }));
    expectClose(plain, [
      [0.900000002, -1.900000001, 0.4000000005],
      [0.8702270857395137, -1.8702270843184612, 0.2957947913777719],
      [0.8151497781114888, -1.908501145793562, 0.22125604673570548],
    ]);
  });

  it('keeps exp_avg, exp_avg_sq (and max_exp_avg_sq with AMSGrad) per parameter', () => {
    const ref = { name: 'w', value: f64(P0) };
    const opt = new Adam([ref], { amsgrad: true, betas: [0.9, 0.5] });
    opt.step([f64([0.5, -1, 2])]);
    const s = opt.stateDict();
    expect(Object.keys(s.params.w.buffers).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']);
    expectClose([s.params.w.buffers.exp_avg], [[0.05, -0.1, 0.2]]);
    expectClose([s.params.w.buffers.exp_avg_sq], [[0.125, 0.5, 2]]);
    expect(s.hyperparameters).toEqual({ betas: [0.9, 0.5], eps: 1e-8, weightDecay: 0, amsgrad: true });
  });

  it('rejects invalid hyperparameters', () => {
    const refs = () => [{ name: 'p', value: f64(P0) }];
    expect(() => new Adam(refs(), { lr: -1 })).toThrow(/invalid learning rate -1/);
    expect(() => new Adam(refs(), { eps: -1e-8 })).toThrow(/invalid epsilon value/);
    expect(() => new Adam(refs(), { betas: [1, 0.999] })).toThrow(/invalid beta parameter at index 0: 1/);
    expect(() => new Adam(refs(), { betas: [0.9, -0.1] })).toThrow(/invalid beta parameter at index 1/);
    expect(() => new Adam(refs(), { weightDecay: -0.1 })).toThrow(/invalid weight_decay value/);
  });
});
