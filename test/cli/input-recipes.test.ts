// getRecipe: recipes are looked up as own properties only; an unknown name lists the recipes.

import { describe, expect, it } from 'vitest';
import { getRecipe, RECIPES } from '../../src/iml/recipes.js';

describe('getRecipe', () => {
  it('finds every recipe by its name', () => {
    for (const name of Object.keys(RECIPES)) expect(getRecipe(name).name).toBe(name);
  });

  it('refuses unknown names and Object.prototype names, listing the recipes', () => {
    const list = 'overfit-small-val, exact-vs-approx, per-layer, inner-steps-ablation, compare';
    expect(Object.keys(RECIPES).join(', ')).toBe(list);
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'nope', '']) {
      expect(() => getRecipe(name)).toThrow(new Error(`unknown recipe '${name}'; choose one of ${list}`));
    }
  });
});
