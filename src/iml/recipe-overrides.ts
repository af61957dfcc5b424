// Protocol settings from a user's JSON object (`iml experiment --config FILE`): validated field by field and applied over a recipe.

import { parseMethod } from '../hypergrad/methods.js';
import type { Recipe } from './recipes.js';

/** The recipe fields a settings file may set; `config` takes any protocol field of the IML loop. */
export type RecipeOverrides = Partial<Pick<Recipe, 'dataset' | 'imageSize' | 'hidden' | 'split' | 'metaKnowledge' | 'methods' | 'seeds' | 'compareExact'>> & {
  config?: Partial<Recipe['config']>;
};

const INT_FIELDS = ['innerSteps', 'innerBatch', 'metaEpochs', 'warmupSteps', 'patience', 'metaSubset', 'checkpointEvery'] as const;
const POSITIVE_INT_FIELDS = new Set(['innerBatch', 'metaEpochs']);
const NUMBER_FIELDS = ['innerLr', 'metaLr'] as const;
const BOOL_FIELDS = ['continueAfterEarlyStop', 'closedFormPenalty'] as const;
const TOP_FIELDS = ['dataset', 'imageSize', 'hidden', 'split', 'metaKnowledge', 'methods', 'seeds', 'compareExact', 'config'];

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function int(where: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`${where} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function unique<T>(where: string, xs: T[]): T[] {
  if (xs.length === 0) throw new Error(`${where} is empty`);
  const dup = xs.find((x, i) => xs.indexOf(x) !== i);
  if (dup !== undefined) throw new Error(`${where} lists ${JSON.stringify(dup)} twice`);
  return xs;
}

function unknownKeys(where: string, o: Record<string, unknown>, allowed: readonly string[]): void {
  const bad = Object.keys(o).filter((k) => !allowed.includes(k));
  if (bad.length > 0) throw new Error(`${where}: unknown field${bad.length > 1 ? 's' : ''} ${bad.map((k) => `'${k}'`).join(', ')} (allowed: ${allowed.join(', ')})`);
}

/** Checks a parsed settings object; errors name the source (`file`) and the field. */
export function parseRecipeOverrides(raw: unknown, file: string): RecipeOverrides {
  if (!isObj(raw)) throw new Error(`${file}: expected a JSON object of recipe fields (${TOP_FIELDS.join(', ')})`);
  unknownKeys(file, raw, TOP_FIELDS);
  const out: RecipeOverrides = {};
  const at = (k: string): string => `${file}: ${k}`;
  if (raw.dataset !== undefined) {
    if (raw.dataset !== 'mnist' && raw.dataset !== 'fashion-mnist' && raw.dataset !== 'cifar10') throw new Error(`${at('dataset')} must be mnist, fashion-mnist or cifar10, got ${JSON.stringify(raw.dataset)}`);
    out.dataset = raw.dataset;
  }
  if (raw.imageSize !== undefined) out.imageSize = int(at('imageSize'), raw.imageSize, 1);
  if (raw.hidden !== undefined) out.hidden = int(at('hidden'), raw.hidden, 0);
  if (raw.split !== undefined) {
    if (!isObj(raw.split)) throw new Error(`${at('split')} must be {train, validation, test}`);
    unknownKeys(at('split'), raw.split, ['train', 'validation', 'test']);
    out.split = { train: int(at('split.train'), raw.split.train, 0), validation: int(at('split.validation'), raw.split.validation, 0), test: int(at('split.test'), raw.split.test, 0) };
  }
  if (raw.metaKnowledge !== undefined) {
    if (raw.metaKnowledge !== 'per-parameter' && raw.metaKnowledge !== 'per-layer') throw new Error(`${at('metaKnowledge')} must be per-parameter or per-layer, got ${JSON.stringify(raw.metaKnowledge)}`);
    out.metaKnowledge = raw.metaKnowledge;
  }
  const methodList = (k: string, v: unknown): string[] => {
    if (!Array.isArray(v) || v.some((m) => typeof m !== 'string')) throw new Error(`${at(k)} must be a list of method specs`);
    const ms = unique(at(k), v as string[]);
    ms.forEach((m, i) => {
      try {
        parseMethod(m);
      } catch (e) {
        throw new Error(`${at(`${k}[${i}]`)}: ${(e as Error).message}`, { cause: e });
      }
    });
    return ms;
  };
  if (raw.methods !== undefined) out.methods = methodList('methods', raw.methods);
  if (raw.seeds !== undefined) {
    if (!Array.isArray(raw.seeds)) throw new Error(`${at('seeds')} must be a list of integers`);
    out.seeds = unique(at('seeds'), raw.seeds.map((s, i) => int(at(`seeds[${i}]`), s, 0)));
  }
  if (raw.compareExact !== undefined) {
    if (!isObj(raw.compareExact)) throw new Error(`${at('compareExact')} must be {every, methods}`);
    unknownKeys(at('compareExact'), raw.compareExact, ['every', 'methods']);
    out.compareExact = { every: int(at('compareExact.every'), raw.compareExact.every, 1), methods: methodList('compareExact.methods', raw.compareExact.methods) };
  }
  if (raw.config !== undefined) {
    if (!isObj(raw.config)) throw new Error(`${at('config')} must be an object of protocol fields`);
    const allowed = [...INT_FIELDS, ...NUMBER_FIELDS, ...BOOL_FIELDS];
    unknownKeys(at('config'), raw.config, allowed);
    const c: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw.config)) {
      if ((INT_FIELDS as readonly string[]).includes(k)) c[k] = int(at(`config.${k}`), v, POSITIVE_INT_FIELDS.has(k) ? 1 : 0);
      else if ((NUMBER_FIELDS as readonly string[]).includes(k)) {
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${at(`config.${k}`)} must be a positive number, got ${JSON.stringify(v)}`);
        c[k] = v;
      } else {
        if (typeof v !== 'boolean') throw new Error(`${at(`config.${k}`)} must be true or false, got ${JSON.stringify(v)}`);
        c[k] = v;
      }
    }
    out.config = c as Partial<Recipe['config']>;
  }
  return out;
}
