// Resolves which protocol a recipe runs (portable): recipe defaults, the --quick preset, a settings file, then explicit options.

import { methodLabel, parseMethod } from '../hypergrad/methods.js';
import type { RecipeOverrides } from './recipe-overrides.js';
import type { Recipe } from './recipes.js';
import type { ImlConfig } from './trainer.js';

/** The choices that planRecipe combines with a recipe. */
export interface PlanOptions {
  quick: boolean;
  dataset?: Recipe['dataset'];
  methods?: string[];
  seeds?: number[];
  /** Overrides the recipe's meta-epoch budget. */
  metaEpochs?: number;
  /** Protocol settings from a file (applied after --quick, before the explicit options above). */
  overrides?: RecipeOverrides;
}

/** The resolved protocol: configuration, methods, seeds, variants and the data/model choices. */
export interface RecipePlan {
  config: Omit<ImlConfig, 'method' | 'seed' | 'compare'>;
  methods: string[];
  seeds: number[];
  variants: { label: string; config: Partial<ImlConfig> }[];
  dataset: Recipe['dataset'];
  hidden: number;
  imageSize?: number;
  split?: Recipe['split'];
  metaKnowledge: Recipe['metaKnowledge'];
  compareExact?: Recipe['compareExact'];
}

/** Resolves the protocol that will run: recipe defaults, the --quick preset, a settings file, then explicit options. */
export function planRecipe(recipe: Recipe, opts: PlanOptions): RecipePlan {
  const { methods: qm, seeds: qs, ...quickConfig } = recipe.quick;
  const o = opts.overrides ?? {};
  const config = { ...recipe.config, ...(opts.quick ? quickConfig : {}), ...(o.config ?? {}), ...(opts.metaEpochs ? { metaEpochs: opts.metaEpochs } : {}) };
  const methods = opts.methods ?? o.methods ?? (opts.quick && qm ? qm : recipe.methods);
  const seeds = opts.seeds ?? o.seeds ?? (opts.quick && qs ? qs : recipe.seeds);
  const where = `recipe ${recipe.name}`;
  if (methods.length === 0) throw new Error(`${where}: no methods to run`);
  if (seeds.length === 0) throw new Error(`${where}: no seeds to run`);
  for (const [what, xs] of [['method', methods], ['seed', seeds]] as const) {
    const dup = (xs as readonly (string | number)[]).find((x, i) => xs.indexOf(x as never) !== i);
    if (dup !== undefined) throw new Error(`${where}: ${what} ${JSON.stringify(dup)} is listed twice`);
  }
  methods.forEach(parseMethod); // validate early, before any training
  const labels = methods.map((m) => methodLabel(parseMethod(m)));
  const same = labels.findIndex((l, i) => labels.indexOf(l) !== i);
  if (same >= 0) throw new Error(`${where}: methods '${methods[labels.indexOf(labels[same])]}' and '${methods[same]}' are the same method (${labels[same]})`);
  return {
    config,
    methods,
    seeds,
    variants: recipe.variants ?? [{ label: 'main', config: {} }],
    dataset: opts.dataset ?? o.dataset ?? recipe.dataset,
    hidden: o.hidden ?? recipe.hidden,
    imageSize: o.imageSize ?? recipe.imageSize,
    split: o.split ?? recipe.split,
    metaKnowledge: o.metaKnowledge ?? recipe.metaKnowledge,
    compareExact: o.compareExact ?? recipe.compareExact,
  };
}
