// A settings file's fields checked one by one (parseRecipeOverrides) and the order in which planRecipe applies recipe defaults, --quick, the file and explicit options, in process.

import { describe, expect, it } from 'vitest';
import { parseRecipeOverrides } from '../../src/iml/recipe-overrides.js';
import { planRecipe } from '../../src/iml/recipe-plan.js';
import { getRecipe, type Recipe } from '../../src/iml/recipes.js';

const F = 'cfg.json';
const parse = (raw: unknown): ReturnType<typeof parseRecipeOverrides> => parseRecipeOverrides(raw, F);
const fails = (raw: unknown): string => {
  try {
    parse(raw);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
};

describe('parseRecipeOverrides: what a settings file may say', () => {
  it('takes every field, each value as given', () => {
    const raw = {
      dataset: 'fashion-mnist', imageSize: 14, hidden: 0, split: { train: 10, validation: 0, test: 3 },
      metaKnowledge: 'per-layer', methods: ['neumann:3', 'cg:5:warm', 'identity'], seeds: [0, 4, 2],
      compareExact: { every: 1, methods: ['neumann:10', 't1t2'] },
      config: {
        innerSteps: 0, innerBatch: 1, metaEpochs: 1, warmupSteps: 0, patience: 0, metaSubset: 0, checkpointEvery: 0,
        innerLr: 1e-4, metaLr: 0.5, continueAfterEarlyStop: false, closedFormPenalty: true,
      },
    };
    expect(parse(raw)).toEqual(raw);
    // Nothing given: nothing set (no defaults are filled in here).
    expect(parse({})).toEqual({});
    expect(Object.keys(parse({ seeds: [1] }))).toEqual(['seeds']);
    for (const d of ['mnist', 'cifar10']) expect(parse({ dataset: d })).toEqual({ dataset: d });
    expect(parse({ metaKnowledge: 'per-parameter' })).toEqual({ metaKnowledge: 'per-parameter' });
    expect(parse({ config: { innerSteps: 7, patience: 3 } })).toEqual({ config: { innerSteps: 7, patience: 3 } });
  });

  it('refuses anything but an object, and unknown fields by name with the allowed ones', () => {
    const top = 'dataset, imageSize, hidden, split, metaKnowledge, methods, seeds, compareExact, config';
    for (const raw of [null, [], 3, 'x', [{}]]) expect(fails(raw)).toBe(`${F}: expected a JSON object of recipe fields (${top})`);
    expect(fails({ metaEpochs: 3 })).toBe(`${F}: unknown field 'metaEpochs' (allowed: ${top})`);
    expect(fails({ a: 1, b: 2, seeds: [0] })).toBe(`${F}: unknown fields 'a', 'b' (allowed: ${top})`);
    expect(fails({ split: { train: 1, validation: 1, test: 1, extra: 1 } })).toBe(`${F}: split: unknown field 'extra' (allowed: train, validation, test)`);
    expect(fails({ compareExact: { every: 1, methods: ['identity'], seeds: [] } })).toBe(`${F}: compareExact: unknown field 'seeds' (allowed: every, methods)`);
    expect(fails({ config: { innerLR: 0.1 } })).toMatch(/^cfg\.json: config: unknown field 'innerLR' \(allowed: innerSteps, .*closedFormPenalty\)$/);
  });

  it('names the field and the bad value of every scalar', () => {
    expect(fails({ dataset: 'svhn' })).toBe(`${F}: dataset must be mnist, fashion-mnist or cifar10, got "svhn"`);
    expect(fails({ metaKnowledge: 'global' })).toBe(`${F}: metaKnowledge must be per-parameter or per-layer, got "global"`);
    expect(fails({ imageSize: 0 })).toBe(`${F}: imageSize must be an integer >= 1, got 0`);
    expect(parse({ imageSize: 1 })).toEqual({ imageSize: 1 });
    expect(fails({ imageSize: 2.5 })).toBe(`${F}: imageSize must be an integer >= 1, got 2.5`);
    expect(fails({ imageSize: '28' })).toBe(`${F}: imageSize must be an integer >= 1, got "28"`);
    expect(fails({ hidden: -1 })).toBe(`${F}: hidden must be an integer >= 0, got -1`);
    expect(fails({ split: [1, 2, 3] })).toBe(`${F}: split must be {train, validation, test}`);
    expect(fails({ split: { train: 1, validation: 1 } })).toBe(`${F}: split.test must be an integer >= 0, got undefined`);
    expect(fails({ split: { train: -2, validation: 1, test: 1 } })).toBe(`${F}: split.train must be an integer >= 0, got -2`);
    expect(fails({ split: { train: 1, validation: 0.5, test: 1 } })).toBe(`${F}: split.validation must be an integer >= 0, got 0.5`);
  });

  it('checks method lists and seeds: types, emptiness, duplicates, each spec with its index', () => {
    expect(fails({ methods: 'neumann:3' })).toBe(`${F}: methods must be a list of method specs`);
    expect(fails({ methods: ['identity', 3] })).toBe(`${F}: methods must be a list of method specs`);
    expect(fails({ methods: [] })).toBe(`${F}: methods is empty`);
    expect(fails({ methods: ['identity', 'cg:3', 'identity'] })).toBe(`${F}: methods lists "identity" twice`);
    expect(fails({ methods: ['identity', 'newton'] })).toMatch(/^cfg\.json: methods\[1\]: .*newton/);
    // The parser's own error stays attached as the cause.
    const caught = ((): unknown => {
      try {
        parse({ methods: ['newton'] });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(((caught as Error).cause as Error).message).toMatch(/^unknown hypergradient method 'newton'/);
    expect(fails({ seeds: 0 })).toBe(`${F}: seeds must be a list of integers`);
    expect(fails({ seeds: [] })).toBe(`${F}: seeds is empty`);
    expect(fails({ seeds: [1, 2, 1] })).toBe(`${F}: seeds lists 1 twice`);
    expect(fails({ seeds: [0, -1] })).toBe(`${F}: seeds[1] must be an integer >= 0, got -1`);
    expect(fails({ compareExact: [] })).toBe(`${F}: compareExact must be {every, methods}`);
    expect(fails({ compareExact: { every: 0, methods: ['identity'] } })).toBe(`${F}: compareExact.every must be an integer >= 1, got 0`);
    expect(fails({ compareExact: { every: 2 } })).toBe(`${F}: compareExact.methods must be a list of method specs`);
    expect(fails({ compareExact: { every: 2, methods: ['cg:x'] } })).toMatch(/^cfg\.json: compareExact\.methods\[0\]: method 'cg:x': the number of steps/);
  });

  it('checks each protocol field by its kind: counts, positive counts, rates, switches', () => {
    expect(fails({ config: [] })).toBe(`${F}: config must be an object of protocol fields`);
    for (const k of ['innerSteps', 'warmupSteps', 'patience', 'metaSubset', 'checkpointEvery']) {
      expect(parse({ config: { [k]: 0 } })).toEqual({ config: { [k]: 0 } });
      expect(fails({ config: { [k]: -1 } })).toBe(`${F}: config.${k} must be an integer >= 0, got -1`);
      expect(fails({ config: { [k]: 1.5 } })).toBe(`${F}: config.${k} must be an integer >= 0, got 1.5`);
    }
    for (const k of ['innerBatch', 'metaEpochs']) {
      expect(fails({ config: { [k]: 0 } })).toBe(`${F}: config.${k} must be an integer >= 1, got 0`);
      expect(parse({ config: { [k]: 1 } })).toEqual({ config: { [k]: 1 } });
    }
    for (const k of ['innerLr', 'metaLr']) {
      for (const v of [0, -0.1, null, '0.1']) expect(fails({ config: { [k]: v } })).toBe(`${F}: config.${k} must be a positive number, got ${JSON.stringify(v)}`);
      // JSON has no Infinity or NaN, but an object built in code does.
      expect(fails({ config: { [k]: Infinity } })).toBe(`${F}: config.${k} must be a positive number, got null`);
      expect(parse({ config: { [k]: 5e-324 } })).toEqual({ config: { [k]: 5e-324 } });
    }
    for (const k of ['continueAfterEarlyStop', 'closedFormPenalty']) {
      expect(fails({ config: { [k]: 1 } })).toBe(`${F}: config.${k} must be true or false, got 1`);
      expect(fails({ config: { [k]: 'true' } })).toBe(`${F}: config.${k} must be true or false, got "true"`);
      expect(parse({ config: { [k]: false } })).toEqual({ config: { [k]: false } });
    }
  });
});

describe('planRecipe: recipe defaults < --quick < settings file < explicit options', () => {
  const recipe = getRecipe('overfit-small-val');

  it('uses the recipe as it stands without options', () => {
    const p = planRecipe(recipe, { quick: false });
    expect(p.config).toEqual(recipe.config);
    expect(p.methods).toEqual(recipe.methods);
    expect(p.seeds).toEqual(recipe.seeds);
    expect(p.variants).toEqual([{ label: 'main', config: {} }]);
    expect([p.dataset, p.hidden, p.imageSize, p.split, p.metaKnowledge, p.compareExact]).toEqual([recipe.dataset, recipe.hidden, recipe.imageSize, recipe.split, recipe.metaKnowledge, recipe.compareExact]);
  });

  it('applies --quick over the recipe, the file over --quick, explicit options over the file', () => {
    const { methods: qm, seeds: qs, ...qc } = recipe.quick;
    const quick = planRecipe(recipe, { quick: true });
    expect(quick.config).toEqual({ ...recipe.config, ...qc });
    expect(quick.methods).toEqual(qm);
    expect(quick.seeds).toEqual(qs);

    const overrides = parseRecipeOverrides({
      dataset: 'fashion-mnist', hidden: 16, imageSize: 14, split: { train: 5, validation: 6, test: 7 }, metaKnowledge: 'per-layer',
      methods: ['cg:3'], seeds: [9], compareExact: { every: 3, methods: ['identity'] }, config: { metaEpochs: 11, innerLr: 0.25 },
    }, F);
    const file = planRecipe(recipe, { quick: true, overrides });
    expect(file.config).toEqual({ ...recipe.config, ...qc, metaEpochs: 11, innerLr: 0.25 });
    expect([file.methods, file.seeds, file.dataset, file.hidden, file.imageSize, file.split, file.metaKnowledge, file.compareExact]).toEqual([
      ['cg:3'], [9], 'fashion-mnist', 16, 14, { train: 5, validation: 6, test: 7 }, 'per-layer', { every: 3, methods: ['identity'] },
    ]);

    const explicit = planRecipe(recipe, { quick: true, overrides, methods: ['identity', 't1t2'], seeds: [1, 2], metaEpochs: 4, dataset: 'mnist' });
    expect(explicit.config.metaEpochs).toBe(4);
    expect(explicit.config.innerLr).toBe(0.25);
    expect([explicit.methods, explicit.seeds, explicit.dataset]).toEqual([['identity', 't1t2'], [1, 2], 'mnist']);
    // metaEpochs 0 means "not given".
    expect(planRecipe(recipe, { quick: false, metaEpochs: 0 }).config.metaEpochs).toBe(recipe.config.metaEpochs);
  });

  it('keeps the recipe\'s variants and its quick lists only when it has them', () => {
    const bare: Recipe = { ...recipe, quick: { metaEpochs: 2 }, variants: [{ label: 'a', config: { innerSteps: 3 } }] };
    const p = planRecipe(bare, { quick: true });
    expect(p.methods).toEqual(recipe.methods);
    expect(p.seeds).toEqual(recipe.seeds);
    expect(p.config.metaEpochs).toBe(2);
    expect(p.variants).toEqual([{ label: 'a', config: { innerSteps: 3 } }]);
  });

  it('refuses empty, repeated and unknown methods and seeds, and two specs of one method, naming the recipe', () => {
    const w = 'recipe overfit-small-val';
    const err = (opts: Parameters<typeof planRecipe>[1]): string => {
      try {
        planRecipe(recipe, opts);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(err({ quick: false, methods: [] })).toBe(`${w}: no methods to run`);
    expect(err({ quick: false, seeds: [] })).toBe(`${w}: no seeds to run`);
    expect(err({ quick: false, methods: ['identity', 'cg:3', 'identity'] })).toBe(`${w}: method "identity" is listed twice`);
    expect(err({ quick: false, seeds: [3, 1, 3] })).toBe(`${w}: seed 3 is listed twice`);
    expect(err({ quick: false, methods: ['identity', 'bogus'] })).toMatch(/bogus/);
    expect(err({ quick: false, methods: ['cg:3', 'cg:3:ridge=0'] })).toMatch(/^recipe overfit-small-val: methods 'cg:3' and 'cg:3:ridge=0' are the same method \(.+\)$/);
    // Distinct methods pass.
    expect(planRecipe(recipe, { quick: false, methods: ['cg:3', 'cg:5'] }).methods).toEqual(['cg:3', 'cg:5']);
  });
});
