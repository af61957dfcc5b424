// Runs a recipe: every variant x method x seed as its own IML run, in a locked run folder with its configuration, provenance and metrics.

import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { getBackend } from '../backend/registry.js';
import { join } from 'node:path';
import { loadDataset } from './datasets.js';
// Registers the dense exact inverse-HVP used by the 'exact' method and exact comparisons.
import '../linalg/index.js';
import type { ImageDataset } from '../data/dataset.js';
import { subset } from '../data/dataset.js';
import { fixedL2, perLayerL2, perParameterL2, noMetaKnowledge, type MetaKnowledge } from '../hypergrad/meta-knowledge.js';
import { methodLabel, parseMethod } from '../hypergrad/methods.js';
import { MLP } from '../nn/layers.js';
import { Random } from '../util/random.js';
import { readJsonFile } from './read-json.js';
import { writeFileAtomicSync } from './write-atomic.js';
import type { RecipeOverrides } from '../iml/recipe-overrides.js';
import type { Recipe } from '../iml/recipes.js';
import { fileRunStore } from './file-run-store.js';
import { LOCK_FILE, lockRunFolder, removeStaleTempFiles } from './run-folder-lock.js';
import { resumedOnAnotherBackend } from './open-run-folder.js';
import { configDifferences, RESUMABLE_CHANGES, runIml, type ImlConfig, type ImlData, type ImlSummary, type MetaEpochMetrics } from '../iml/trainer.js';
import { planRecipe, type RecipePlan } from '../iml/recipe-plan.js';

export { planRecipe, type RecipePlan } from '../iml/recipe-plan.js';

export interface RecipeRunOptions {
  quick: boolean;
  outDir: string;
  dataset?: Recipe['dataset'];
  dataDir?: string;
  methods?: string[];
  seeds?: number[];
  resume?: boolean;
  /** Start afresh in a folder that already holds a run: its runs are deleted first. */
  force?: boolean;
  /** Overrides the recipe's meta-epoch budget. */
  metaEpochs?: number;
  /** Protocol settings from a file (applied after --quick, before the explicit options above). */
  overrides?: RecipeOverrides;
  /** Recorded in config.json (package version, git commit, Node, adapter, command line, ...). */
  provenance?: Record<string, unknown>;
  /** Called with a line of progress (method, seed, meta-epoch). */
  onEpoch?: (run: { variant: string; method: string; seed: number }, m: MetaEpochMetrics, total: number) => void;
  onRunDone?: (r: RecipeRunResult) => void;
  /** Notices (stale lock taken over, temp files removed, runs deleted by --force). */
  onMessage?: (line: string) => void;
}

export interface RecipeRunResult {
  variant: string;
  method: string;
  seed: number;
  summary: ImlSummary;
  metrics: MetaEpochMetrics[];
}

function firstN(ds: ImageDataset, n: number): ImageDataset {
  if (n <= 0 || n >= ds.count) return ds;
  return subset(ds, Array.from({ length: n }, (_, i) => i), `${ds.name}[:${n}]`);
}

function slug(s: string): string {
  return s.replace(/[^a-zA-Z0-9.=-]+/g, '_');
}

/** The folder of one run inside a run folder: <variant>/<method spec>/seed-N (names made safe for paths). */
export function runFolderOf(dir: string, variant: string, spec: string, seed: number): string {
  return join(dir, slug(variant), slug(spec), `seed-${seed}`);
}

/**
 * Everything one run of a recipe needs, built the same way wherever it runs (here, or a sweep worker): the data
 * split, the MLP and its meta-knowledge, the trainer configuration and the identity its checkpoints record.
 */
export function prepareRecipeRun(
  recipeName: string, quick: boolean, plan: RecipePlan, variant: RecipePlan['variants'][number], spec: string, seed: number, dataDir?: string,
  preloaded?: ReturnType<typeof loadDataset>,
): { model: MLP; mk: MetaKnowledge; data: ImlData; config: ImlConfig; identity: Record<string, unknown> } {
  const method = parseMethod(spec);
  const loaded = preloaded ?? loadDataset(plan.dataset, { dataDir, imageSize: plan.imageSize, seed });
  const data = plan.split
    ? { train: firstN(loaded.train, plan.split.train), validation: firstN(loaded.validation, plan.split.validation), test: firstN(loaded.test, plan.split.test) }
    : loaded;
  const inputs = data.train.channels * data.train.height * data.train.width;
  const sizes = [inputs, plan.hidden || inputs, data.train.numClasses];
  const model = new MLP(sizes, new Random(1000 + seed));
  const params = model.parameters();
  const mk = method.kind === 'baseline' ? (method.l2 > 0 ? fixedL2(params, method.l2) : noMetaKnowledge())
    : plan.metaKnowledge === 'per-parameter' ? perParameterL2(params) : perLayerL2(params, { groupBy: 'tensor' });
  const compare = plan.compareExact && method.kind !== 't1t2'
    ? { every: plan.compareExact.every, reference: parseMethod('exact'), methods: plan.compareExact.methods.map(parseMethod) } : undefined;
  const config: ImlConfig = { ...plan.config, ...variant.config, method, seed, compare };
  const identity = {
    recipe: recipeName, quick, variant: variant.label, methodSpec: spec, backend: getBackend().name,
    dataset: { name: plan.dataset, train: data.train.count, validation: data.validation.count, test: data.test.count, shape: [data.train.channels, data.train.height, data.train.width] },
    model: { kind: 'mlp', sizes },
  };
  return { model, mk, data, config, identity };
}

/** What config.json records about a run folder: the recipe and the resolved protocol (the methods and seeds run in it are kept as their union). */
export interface RunFolderConfig extends RecipePlan {
  recipe: string;
  section: string;
  title: string;
  quick: boolean;
  backend: string;
  dataDir?: string;
  provenance?: Record<string, unknown>;
  /** One entry per later `--resume` of the folder. */
  resumes?: Record<string, unknown>[];
}

/** The fields of config.json that must agree when a folder is resumed (everything but the method/seed lists and the budget). */
function protocolOf(c: Partial<RunFolderConfig>): Record<string, unknown> {
  const { methods: _m, seeds: _s, provenance: _p, resumes: _r, title: _t, dataDir: _d, ...rest } = c;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

const RUN_FOLDER_FILES = ['config.json', 'results.json', 'summary.md', 'report.html', 'plots', 'tables'];

/** Deletes what an earlier run left in `dir` (its known files and its <variant>/<method>/seed-N folders); nothing else. */
function clearRunFolder(dir: string, onMessage?: (line: string) => void): void {
  for (const f of RUN_FOLDER_FILES) rmSync(join(dir, f), { recursive: true, force: true });
  const subdirs = (d: string): string[] => readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const variant of subdirs(dir)) {
    for (const method of subdirs(join(dir, variant))) {
      const seeds = subdirs(join(dir, variant, method)).filter((n) => /^seed-\d+$/.test(n));
      for (const s of seeds) rmSync(join(dir, variant, method, s), { recursive: true, force: true });
      if (seeds.length > 0) onMessage?.(`--force: removed the runs in ${join(dir, variant, method)}`);
      if (readdirSync(join(dir, variant, method)).length === 0) rmSync(join(dir, variant, method), { recursive: true });
    }
    if (readdirSync(join(dir, variant)).length === 0) rmSync(join(dir, variant), { recursive: true });
  }
}

export async function runRecipe(recipe: Recipe, opts: RecipeRunOptions): Promise<{ results: RecipeRunResult[]; plan: RecipePlan }> {
  const plan = planRecipe(recipe, opts);
  const dir = opts.outDir;
  if (opts.resume && opts.force) throw new Error('--resume and --force exclude each other: --resume continues the runs in the folder, --force deletes them');
  const configPath = join(dir, 'config.json');
  if (opts.resume && !existsSync(configPath)) {
    throw new Error(`${dir}: nothing to resume (no config.json${existsSync(dir) ? '' : '; the folder does not exist'})`);
  }
  // The data are loaded before the folder is touched: a bad --dataset/--data-dir fails without leaving a config.json
  // that would label the folder as a run of data it never trained on.
  const loadFor = (seed: number) => loadDataset(plan.dataset, { dataDir: opts.dataDir, imageSize: plan.imageSize, seed });
  let preloaded: { seed: number; data: ReturnType<typeof loadFor> } | null = { seed: plan.seeds[0], data: loadFor(plan.seeds[0]) };
  mkdirSync(dir, { recursive: true });
  const lock = lockRunFolder(dir, { onMessage: opts.onMessage });
  try {
    for (const p of removeStaleTempFiles(dir)) opts.onMessage?.(`removed ${p}, a temporary file left by a killed writer`);
    const folderConfig: RunFolderConfig = {
      recipe: recipe.name, section: recipe.section, title: recipe.title, quick: opts.quick, backend: getBackend().name, dataDir: opts.dataDir, ...plan,
      provenance: opts.provenance,
    };
    if (opts.resume) {
      const saved = readJsonFile(configPath) as Partial<RunFolderConfig>;
      const diffs = configDifferences(protocolOf(saved), protocolOf(folderConfig)).filter((d) => !RESUMABLE_CHANGES.some((f) => d.startsWith(`${f}:`)));
      if (diffs.length > 0) {
        throw new Error(`${configPath}: --resume with a different configuration is refused:\n  ${diffs.join('\n  ').replaceAll('in the checkpoint', 'in the folder')}\n(use another --out, or start afresh with --force)`);
      }
      const note = resumedOnAnotherBackend(configPath, saved.provenance, opts.provenance);
      if (note !== null) opts.onMessage?.(note);
      // The folder's runs are the union of what every invocation ran; the first provenance stays.
      const union = <T>(a: T[] | undefined, b: T[]): T[] => [...(a ?? []), ...b.filter((x) => !(a ?? []).includes(x))];
      writeFileAtomicSync(configPath, `${JSON.stringify({
        ...saved, config: plan.config, methods: union(saved.methods, plan.methods), seeds: union(saved.seeds, plan.seeds),
        resumes: [...(saved.resumes ?? []), { ...opts.provenance, methods: plan.methods, seeds: plan.seeds }],
      }, null, 2)}\n`);
    } else {
      const entries = readdirSync(dir).filter((n) => n !== LOCK_FILE);
      if (entries.length > 0 && !opts.force) {
        throw new Error(existsSync(configPath)
          ? `${dir} already holds a run (config.json); pass --resume to continue it or --force to delete its runs and start afresh`
          : `${dir} is not empty and is not a run folder (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}); choose another --out, or --force to write into it`);
      }
      if (opts.force) clearRunFolder(dir, opts.onMessage);
      writeFileAtomicSync(configPath, `${JSON.stringify(folderConfig, null, 2)}\n`);
    }
    const results: RecipeRunResult[] = [];
    for (const variant of plan.variants) {
      for (const spec of plan.methods) {
        const method = parseMethod(spec);
        for (const seed of plan.seeds) {
          const early = preloaded?.seed === seed ? preloaded.data : undefined;
          preloaded = null;
          const { model, mk, data, config, identity } = prepareRecipeRun(recipe.name, opts.quick, plan, variant, spec, seed, opts.dataDir, early);
          const runDir = runFolderOf(dir, variant.label, spec, seed);
          const label = methodLabel(method);
          const { metrics, summary } = await runIml(model, mk, data, config, {
            store: fileRunStore(runDir),
            resume: opts.resume,
            identity,
            onMetaEpoch: (m) => opts.onEpoch?.({ variant: variant.label, method: label, seed }, m, config.metaEpochs),
          });
          const r = { variant: variant.label, method: label, seed, summary, metrics };
          results.push(r);
          writeFileAtomicSync(join(runDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
          opts.onRunDone?.(r);
        }
      }
    }
    writeFileAtomicSync(join(dir, 'results.json'), `${JSON.stringify(results.map(({ metrics: _m, ...rest }) => rest), null, 2)}\n`);
    return { results, plan };
  } finally {
    lock.release();
  }
}

/** Writes JSON atomically (temp file + rename). */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomicSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
