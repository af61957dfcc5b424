// A sweep's grid as queue jobs: one per (variant, method, seed), each carrying the full effective configuration, its id a hash of that configuration.

import { createHash } from 'node:crypto';
import { methodLabel, parseMethod } from '../../hypergrad/methods.js';
import type { RecipeOverrides } from '../../iml/recipe-overrides.js';
import { getRecipe } from '../../iml/recipes.js';
import { planRecipe, type RecipePlan } from '../run-recipe.js';
import type { ImlSummary } from '../../iml/trainer.js';

/** What a worker needs to run one job, and nothing that depends on the machine it runs on (except dataDir). */
export interface SweepJobData {
  recipe: string;
  quick: boolean;
  /** The whole resolved protocol (recipe, --quick, settings file, flags), as `iml experiment` would run it. */
  plan: RecipePlan;
  variant: RecipePlan['variants'][number];
  methodSpec: string;
  method: string;
  seed: number;
  dataDir?: string;
}

/** What a finished job returns (kept by BullMQ as the job's return value). */
export interface SweepJobResult {
  summary: ImlSummary;
  backend: string;
  worker: string;
  /** Meta-epoch this attempt started at (1 = from scratch, more = resumed from the run's checkpoint). */
  startEpoch: number;
  seconds: number;
}

export interface SweepJob {
  id: string;
  data: SweepJobData;
}

export interface SweepDefinition {
  name: string;
  recipe: string;
  quick: boolean;
  plan: RecipePlan;
  dataDir?: string;
  jobs: SweepJob[];
}

/** Sorted-key JSON, so that the same configuration always hashes to the same id. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The protocol of a plan without its method and seed lists (what every job of the sweep shares). */
export function protocolOfPlan(plan: RecipePlan): Omit<RecipePlan, 'methods' | 'seeds' | 'variants'> {
  const { methods: _m, seeds: _s, variants: _v, ...rest } = plan;
  return rest;
}

/**
 * The job id of one run: a hash of everything that decides its trajectory (recipe, --quick, data, model, protocol,
 * variant, method, seed). The same run enqueued again, by any sweep, is the same job.
 */
export function jobIdOf(d: SweepJobData): string {
  const identity = { recipe: d.recipe, quick: d.quick, dataDir: d.dataDir ?? null, protocol: protocolOfPlan(d.plan), variant: d.variant, methodSpec: d.methodSpec, seed: d.seed };
  return `run-${createHash('sha256').update(canonical(identity)).digest('hex').slice(0, 24)}`;
}

/**
 * Resolves and validates the whole grid before anything is enqueued: the recipe, the settings (already parsed),
 * every method spec. Errors name what is wrong; an invalid sweep enqueues nothing.
 */
export function defineSweep(opts: {
  recipe: string; quick: boolean; name?: string; methods?: string[]; seeds?: number[]; dataset?: RecipePlan['dataset']; dataDir?: string;
  metaEpochs?: number; overrides?: RecipeOverrides;
}): SweepDefinition {
  const recipe = getRecipe(opts.recipe);
  const plan = planRecipe(recipe, opts);
  const jobs: SweepJob[] = [];
  for (const variant of plan.variants) {
    for (const methodSpec of plan.methods) {
      for (const seed of plan.seeds) {
        const data: SweepJobData = { recipe: recipe.name, quick: opts.quick, plan, variant, methodSpec, method: methodLabel(parseMethod(methodSpec)), seed, dataDir: opts.dataDir };
        jobs.push({ id: jobIdOf(data), data });
      }
    }
  }
  const hash = createHash('sha256').update(canonical({ recipe: recipe.name, quick: opts.quick, ids: jobs.map((j) => j.id).sort() })).digest('hex').slice(0, 8);
  const name = opts.name ?? `${recipe.name}${opts.quick ? '-quick' : ''}-${hash}`;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`--name ${JSON.stringify(name)}: use letters, digits, '_', '.' and '-' only`);
  return { name, recipe: recipe.name, quick: opts.quick, plan, dataDir: opts.dataDir, jobs };
}
