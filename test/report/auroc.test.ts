// AUROC by Mann-Whitney with ties counted 1/2: hand-computed examples, invariances and input errors.

import { describe, expect, it } from 'vitest';
import { auroc } from '../../src/report/auroc.js';

/** Pairwise definition, O(n⁺ n⁻): the reference the rank formula must match. */
function pairwise(s: number[], y: number[]): number {
  let acc = 0;
  let pairs = 0;
  s.forEach((sp, i) => {
    if (y[i] !== 1) return;
    s.forEach((sn, j) => {
      if (y[j] !== 0) return;
      pairs++;
      acc += sp > sn ? 1 : sp === sn ? 0.5 : 0;
    });
  });
  return acc / pairs;
}

describe('auroc', () => {
  it('counts a tie 1/2: scores [0.9, 0.8, 0.8, 0.3], labels [1, 0, 1, 0] give 0.875', () => {
    // Positives 0.9, 0.8; negatives 0.8, 0.3. Pairs (pos, neg): (0.9, 0.8) 1, (0.9, 0.3) 1, (0.8, 0.8) ½,
    // (0.8, 0.3) 1 → 3.5 / 4 = 0.875. By ranks: sorted 0.3 (1), 0.8 0.8 (2.5 each), 0.9 (4); positives'
    // rank sum 4 + 2.5 = 6.5, U = 6.5 − 2·3/2 = 3.5.
    expect(auroc([0.9, 0.8, 0.8, 0.3], [1, 0, 1, 0])).toBe(0.875);
    expect(auroc([0.9, 0.8, 0.8, 0.3], [true, false, true, false])).toBe(0.875);
  });

  it('takes true/false labels like 1/0', () => {
    expect(auroc([0.9, 0.8, 0.8, 0.3], [true, false, true, false])).toBe(0.875);
    // Unbalanced, so that counting the wrong class changes n⁺: one positive above two negatives.
    expect(auroc([0.9, 0.5, 0.1], [true, false, false])).toBe(1);
    expect(auroc([0.9, 0.5, 0.1], [false, true, false])).toBe(0.5);
  });

  it('is 1 for perfect separation, 0 when inverted, 1/2 when all scores are equal', () => {
    expect(auroc([3, 2, 1, 0], [1, 1, 0, 0])).toBe(1);
    expect(auroc([3, 2, 1, 0], [0, 0, 1, 1])).toBe(0);
    expect(auroc([5, 5, 5, 5, 5], [1, 0, 0, 1, 0])).toBe(0.5);
  });

  it('a three-way tie across classes: scores [1, 1, 1, 2, 0], labels [1, 0, 0, 1, 0] give 5/6', () => {
    // Positives 1, 2; negatives 1, 1, 0. Pairs: (1, 1) ½, (1, 1) ½, (1, 0) 1, (2, ·) 1 + 1 + 1 → 5 / 6.
    expect(auroc([1, 1, 1, 2, 0], [1, 0, 0, 1, 0])).toBeCloseTo(5 / 6, 15);
  });

  it('equals the pairwise count on random scores with many ties', () => {
    let seed = 7;
    const next = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let t = 0; t < 5; t++) {
      const n = 40 + t * 7;
      const s = Array.from({ length: n }, () => Math.floor(next() * 6) / 2);
      const y = Array.from({ length: n }, (_, i) => (i < 3 ? 1 : i < 6 ? 0 : next() < 0.4 ? 1 : 0));
      expect(auroc(s, y)).toBeCloseTo(pairwise(s, y), 14);
    }
  });

  it('does not depend on a monotone transform of the scores or on the order of the items', () => {
    const s = [0.1, 0.7, 0.7, 0.4, 0.9, 0.2];
    const y = [0, 1, 0, 1, 1, 0];
    const a = auroc(s, y);
    expect(auroc(s.map((v) => Math.exp(3 * v)), y)).toBe(a);
    expect(auroc([...s].reverse(), [...y].reverse())).toBe(a);
  });

  it('names the problem: empty classes, non-finite scores, bad labels, lengths', () => {
    expect(() => auroc([1, 2], [1, 1])).toThrow(/no negative/);
    expect(() => auroc([1, 2], [0, 0])).toThrow(/no positive/);
    expect(() => auroc([], [])).toThrow(/no positive/);
    expect(() => auroc([1, NaN, 3], [1, 0, 1])).toThrow(/score NaN at position 1 is not finite/);
    expect(() => auroc([1, Infinity], [1, 0])).toThrow(/position 1/);
    expect(() => auroc([1, 2], [1, 2])).toThrow(/label 2 at position 1/);
    expect(() => auroc([1, 2, 3], [1, 0])).toThrow(/3 scores but 2 labels/);
  });
});
