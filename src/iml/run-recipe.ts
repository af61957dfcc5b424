// Runs a recipe: every variant x method x seed as its own IML run, in a run folder with metrics and reports.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { getBackend } from '../backend/registry.js';
import { join } from 'node:path';
import { loadDataset } from '../cli/datasets.js';
// Registers the dense exact inverse-HVP used by the 'exact' method and exact comparisons.
import '../linalg/index.js';
import type { ImageDataset } from '../data/dataset.js';
import { subset } from '../data/dataset.js';
import { fixedL2, perLayerL2, perParameterL2, noMetaKnowledge } from '../hypergrad/meta-knowledge.js';
import { methodLabel, parseMethod } from '../hypergrad/methods.js';
import { MLP } from '../nn/layers.js';
import { Random } from '../util/random.js';
import type { Recipe } from './recipes.js';
import { fileRunStore } from './file-run-store.js';
import { runIml, type ImlConfig, type ImlSummary, type MetaEpochMetrics } from './trainer.js';

export interface RecipeRunOptions {
  quick: boolean;
  outDir: string;
  dataset?: Recipe['dataset'];
  dataDir?: string;
  methods?: string[];
  seeds?: number[];
  resume?: boolean;
  /** Overrides the recipe's meta-epoch budget. */
  metaEpochs?: number;
  /** Called with a line of progress (method, seed, meta-epoch). */
  onEpoch?: (run: { variant: string; method: string; seed: number }, m: MetaEpochMetrics, total: number) => void;
  onRunDone?: (r: RecipeRunResult) => void;
}

export interface RecipeRunResult {
  variant: string;
  method: string;
  seed: number;
  summary: ImlSummary;
  metrics: MetaEpochMetrics[];
}

export interface RecipePlan {
  config: Omit<ImlConfig, 'method' | 'seed' | 'compare'>;
  methods: string[];
  seeds: number[];
  variants: { label: string; config: Partial<ImlConfig> }[];
  dataset: Recipe['dataset'];
}

/** Resolves the protocol that will run: recipe defaults, the --quick preset, then explicit overrides. */
export function planRecipe(recipe: Recipe, opts: Pick<RecipeRunOptions, 'quick' | 'methods' | 'seeds' | 'dataset' | 'metaEpochs'>): RecipePlan {
  const { methods: qm, seeds: qs, ...quickConfig } = recipe.quick;
  const config = { ...recipe.config, ...(opts.quick ? quickConfig : {}), ...(opts.metaEpochs ? { metaEpochs: opts.metaEpochs } : {}) };
  const methods = opts.methods ?? (opts.quick && qm ? qm : recipe.methods);
  methods.forEach(parseMethod); // validate early, before any training
  return {
    config,
    methods,
    seeds: opts.seeds ?? (opts.quick && qs ? qs : recipe.seeds),
    variants: recipe.variants ?? [{ label: 'main', config: {} }],
    dataset: opts.dataset ?? recipe.dataset,
  };
}

function firstN(ds: ImageDataset, n: number): ImageDataset {
  if (n <= 0 || n >= ds.count) return ds;
  return subset(ds, Array.from({ length: n }, (_, i) => i), `${ds.name}[:${n}]`);
}

function slug(s: string): string {
  return s.replace(/[^a-zA-Z0-9.=-]+/g, '_');
}

export async function runRecipe(recipe: Recipe, opts: RecipeRunOptions): Promise<{ results: RecipeRunResult[]; plan: RecipePlan }> {
  const plan = planRecipe(recipe, opts);
  mkdirSync(opts.outDir, { recursive: true });
  writeJsonAtomic(join(opts.outDir, 'config.json'), { recipe: recipe.name, section: recipe.section, quick: opts.quick, backend: getBackend().name, ...plan, hidden: recipe.hidden, imageSize: recipe.imageSize, split: recipe.split, metaKnowledge: recipe.metaKnowledge });
  const results: RecipeRunResult[] = [];
  for (const variant of plan.variants) {
    for (const spec of plan.methods) {
      const method = parseMethod(spec);
      for (const seed of plan.seeds) {
        const loaded = loadDataset(plan.dataset, { dataDir: opts.dataDir, imageSize: recipe.imageSize, seed });
        const data = recipe.split
          ? { train: firstN(loaded.train, recipe.split.train), validation: firstN(loaded.validation, recipe.split.validation), test: firstN(loaded.test, recipe.split.test) }
          : loaded;
        const inputs = data.train.channels * data.train.height * data.train.width;
        const model = new MLP([inputs, recipe.hidden || inputs, data.train.numClasses], new Random(1000 + seed));
        const params = model.parameters();
        const mk = method.kind === 'baseline' ? (method.l2 > 0 ? fixedL2(params, method.l2) : noMetaKnowledge())
          : recipe.metaKnowledge === 'per-parameter' ? perParameterL2(params) : perLayerL2(params, { groupBy: 'tensor' });
        const compare = recipe.compareExact && method.kind !== 't1t2'
          ? { every: recipe.compareExact.every, reference: parseMethod('exact'), methods: recipe.compareExact.methods.map(parseMethod) } : undefined;
        const config: ImlConfig = { ...plan.config, ...variant.config, method, seed, compare };
        const runDir = join(opts.outDir, slug(variant.label), slug(spec), `seed-${seed}`);
        const label = methodLabel(method);
        const { metrics, summary } = await runIml(model, mk, data, config, {
          store: fileRunStore(runDir),
          resume: opts.resume,
          onMetaEpoch: (m) => opts.onEpoch?.({ variant: variant.label, method: label, seed }, m, config.metaEpochs),
        });
        const r = { variant: variant.label, method: label, seed, summary, metrics };
        results.push(r);
        writeJsonAtomic(join(runDir, 'summary.json'), summary);
        opts.onRunDone?.(r);
      }
    }
  }
  writeJsonAtomic(join(opts.outDir, 'results.json'), results.map(({ metrics: _m, ...rest }) => rest));
  return { results, plan };
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}
