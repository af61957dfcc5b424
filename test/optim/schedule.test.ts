// Learning-rate schedules: PyTorch's CosineAnnealingLR closed form and FixMatch's cosine, checked at hand-computed points.
import { describe, expect, it } from 'vitest';
import { constantLr, cosineAnnealingLr, fixMatchCosineLr, SGD } from '../../src/optim/index.js';
import { f64, P0 } from './helpers.js';

describe('cosineAnnealingLr', () => {
  it('follows eta_min + (base - eta_min)(1 + cos(pi t / T)) / 2', () => {
    const s = cosineAnnealingLr(0.1, 4, 0.001);
    expect(s(0)).toBe(0.1); // cos 0 = 1
    // cos(pi/4) = 0.7071067811865476: 0.001 + 0.099 * 0.8535533905932737 = 0.08550178566873411
    expect(s(1)).toBeCloseTo(0.08550178566873411, 15);
    expect(s(2)).toBeCloseTo(0.0505, 15); // cos(pi/2) = 0: midpoint
    // cos(3 pi/4) = -0.7071067811865476: 0.001 + 0.099 * 0.1464466094067262 = 0.015498214331265894
    expect(s(3)).toBeCloseTo(0.015498214331265894, 15);
    expect(s(4)).toBeCloseTo(0.001, 15); // cos(pi) = -1: eta_min
    expect(s(8)).toBeCloseTo(0.1, 15); // the closed form is periodic past T, as in PyTorch
    expect(cosineAnnealingLr(0.2, 10)(5)).toBeCloseTo(0.1, 15); // eta_min defaults to 0
  });

  it('rejects bad arguments', () => {
    expect(() => cosineAnnealingLr(-0.1, 10)).toThrow(/baseLr must be a finite number >= 0/);
    expect(() => cosineAnnealingLr(0.1, 0)).toThrow(/total steps must be a finite number > 0/);
    expect(() => cosineAnnealingLr(0.1, 10, NaN)).toThrow(/etaMin/);
    expect(() => cosineAnnealingLr(0.1, 10)(-1)).toThrow(/step must be a finite number >= 0/);
  });
});

describe('fixMatchCosineLr', () => {
  it('follows lr cos(7 pi k / (16 K)), clamped at 0', () => {
    const s = fixMatchCosineLr(0.03, 1000);
    expect(s(0)).toBe(0.03);
    // cos(7 pi / 32) = 0.773010453362737
    expect(s(500)).toBeCloseTo(0.03 * 0.773010453362737, 15);
    // cos(7 pi / 16) = 0.19509032201612825: the final rate is ~0.195 of the base
    expect(s(1000)).toBeCloseTo(0.005852709660483848, 15);
    for (let k = 1; k <= 1000; k++) expect(s(k)).toBeLessThan(s(k - 1));
    expect(s(2000)).toBe(0); // cos(7 pi / 8) < 0 is clamped
  });

  it('rejects bad arguments', () => {
    expect(() => fixMatchCosineLr(0.03, -5)).toThrow(/total steps/);
    expect(() => fixMatchCosineLr(0.03, 10)(Infinity)).toThrow(/step must be a finite number/);
  });
});

describe('schedules drive optimizer.lr', () => {
  it('a trainer assigns schedule(step) before each step', () => {
    const ref = { name: 'p', value: f64(P0) };
    const opt = new SGD([ref], { lr: 1 });
    const sched = cosineAnnealingLr(1, 2);
    const seen: number[] = [];
    for (let k = 0; k < 3; k++) {
      opt.lr = sched(k);
      seen.push(opt.lr);
      opt.step([f64([1, 1, 1])]);
    }
    expect(seen[0]).toBe(1);
    expect(seen[1]).toBeCloseTo(0.5, 15);
    expect(seen[2]).toBeCloseTo(0, 15);
    // p = p0 - (1 + 0.5 + ~0) = p0 - 1.5
    ref.value.toArray().forEach((v, i) => expect(v).toBeCloseTo(P0[i] - 1.5, 14));
    expect(constantLr(0.3)(123)).toBe(0.3);
  });
});
