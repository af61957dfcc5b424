// `iml experiment <recipe>`, `iml compare` and `iml report`: run the thesis' recipes with progress (bars on a terminal, lines otherwise) and write the run folder.

import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { join } from 'node:path';
import { initGemm } from '../backend/cpu/wasm-gemm.js';
import { METHOD_HELP, methodLabel, parseMethod } from '../hypergrad/methods.js';
import { getRecipe, RECIPES } from '../iml/recipes.js';
import { estimateRecipe, formatDuration } from '../iml/estimate.js';
import { loadRuns } from '../node/load-runs.js';
import { parseRecipeOverrides } from '../iml/recipe-overrides.js';
import { lockRunFolder } from '../node/run-folder-lock.js';
import { planRecipe, runRecipe, type RecipePlan, type RecipeRunResult, type RunFolderConfig } from '../node/run-recipe.js';
import { existsSync } from 'node:fs';
import { readJsonFile } from '../node/read-json.js';
import { loadDataset } from '../node/datasets.js';
import { writeExperimentReport } from '../node/experiment-report.js';
import { BACKEND_KINDS, selectBackend, type BackendKind } from '../node/select-backend.js';
import { positiveInt, uniqueIntList, uniqueList } from './options.js';
import { provenance } from './provenance.js';

interface ExperimentFlags {
  quick?: boolean;
  dataset?: 'mnist' | 'fashion-mnist' | 'cifar10';
  dataDir?: string;
  methods?: string[];
  seeds?: number[];
  out?: string;
  resume?: boolean;
  force?: boolean;
  config?: string;
  dryRun?: boolean;
  metaEpochs?: number;
  backend?: BackendKind;
  progress: boolean;
}

/** Prints how many runs the plan makes and roughly how long they take, measured from a few gradient steps here. */
function printDryRun(recipeName: string, plan: RecipePlan, dataDir: string | undefined): void {
  const loaded = loadDataset(plan.dataset, { dataDir, imageSize: plan.imageSize, seed: plan.seeds[0] });
  const cut = (ds: typeof loaded.train, n: number | undefined) => (n && n > 0 && n < ds.count ? { ...ds, count: n } : ds);
  const data = { train: cut(loaded.train, plan.split?.train), validation: cut(loaded.validation, plan.split?.validation), test: cut(loaded.test, plan.split?.test) };
  const e = estimateRecipe(plan, data);
  const c = plan.config;
  console.log(`${recipeName}: ${e.runs} run(s) = ${plan.variants.length} variant(s) x ${plan.methods.length} method(s) x ${plan.seeds.length} seed(s); ` +
    `${plan.dataset} ${data.train.count}/${data.validation.count}/${data.test.count}, ${e.parameters} weights; ` +
    `up to ${c.metaEpochs} meta-epochs of ${c.innerSteps} inner steps (batch ${c.innerBatch}), ${c.warmupSteps} warm-up steps`);
  console.log(`measured here: one inner gradient (${e.innerSamples} samples) ${(1000 * e.innerGradientSeconds).toFixed(1)} ms, one meta-batch gradient (${e.metaSamples} samples) ${(1000 * e.metaGradientSeconds).toFixed(1)} ms (CPU backend)`);
  for (const [m, s] of Object.entries(e.perMethodSeconds)) console.log(`  ${m.padEnd(22)} at most ~${formatDuration(s)}`);
  console.log(`total: at most ~${formatDuration(e.totalSeconds)} on this machine (early stopping can end runs sooner); nothing was run (--dry-run)`);
}

async function runExperiment(name: string, flags: ExperimentFlags): Promise<void> {
  const recipe = getRecipe(name);
  if (flags.resume && !flags.out) throw new Error('--resume needs --out <run folder> (the folder whose runs to continue)');
  if (flags.resume && flags.force) throw new Error('--resume and --force exclude each other: --resume continues the runs in --out, --force deletes them');
  const overrides = flags.config ? parseRecipeOverrides(readJsonFile(flags.config), flags.config) : undefined;
  const planOpts = { quick: flags.quick ?? false, dataset: flags.dataset, methods: flags.methods, seeds: flags.seeds, metaEpochs: flags.metaEpochs, overrides };
  await initGemm();
  if (flags.dryRun) {
    printDryRun(recipe.name, planRecipe(recipe, planOpts), flags.dataDir);
    return;
  }
  const backendLabel = await selectBackend(flags.backend ?? 'cpu');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const outDir = flags.out ?? join('runs', `${recipe.name}${flags.quick ? '-quick' : ''}-${stamp}`);
  console.log(`${recipe.title} (thesis ${recipe.section})${flags.quick ? ' [--quick]' : ''}\nrun folder: ${outDir}\nbackend: ${backendLabel}`);
  // Bars only on a terminal; elsewhere (CI logs, files) one line per meta-epoch.
  const tty = process.stdout.isTTY === true;
  const bar = flags.progress && tty ? new cliProgress.SingleBar({ format: '{run} [{bar}] {value}/{total} meta-epochs | val acc {val} | {duration_formatted}', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  let current = '';
  const { results, plan } = await runRecipe(recipe, {
    ...planOpts, outDir, dataDir: flags.dataDir, resume: flags.resume, force: flags.force,
    provenance: { ...provenance(backendLabel), effectiveOptions: { ...flags } },
    onMessage: (line) => console.log(line),
    onEpoch: (run, m, total) => {
      const key = `${run.variant === 'main' ? '' : `${run.variant} `}${run.method} seed ${run.seed}`;
      if (!bar) {
        if (flags.progress) {
          console.log(`${key}: meta-epoch ${m.metaEpoch}/${total} | val loss ${m.validation.loss.toPrecision(4)} acc ${(100 * m.validation.accuracy).toFixed(1)}% | test acc ${(100 * m.test.accuracy).toFixed(1)}% | hypergrad norm ${m.hypergradNorm.toPrecision(3)} | ${m.epochSeconds.toFixed(2)} s`);
        }
        return;
      }
      if (key !== current) {
        bar.stop();
        current = key;
        bar.start(total, 0, { run: key.padEnd(28), val: '-' });
      }
      bar.update(m.metaEpoch, { val: `${(100 * m.validation.accuracy).toFixed(1)}%` });
    },
    onRunDone: (r: RecipeRunResult) => {
      bar?.stop();
      current = '';
      if (!bar) {
        const s = r.summary;
        console.log(`${r.variant} ${r.method} seed ${r.seed}: test ${(100 * s.test).toFixed(2)}% ES test ${(100 * s.esTest).toFixed(2)}% after ${s.metaEpochsRun} meta-epochs${s.diverged ? ` (diverged at meta-epoch ${s.diverged.metaEpoch})` : ''}`);
      }
    },
  });
  const report = await writeExperimentReport(outDir, recipe, plan, results, flags.quick ?? false, readJsonFile(join(outDir, 'config.json')));
  console.log(`\n${report.markdown}\nreport: ${report.htmlPath}`);
}

export function registerExperiments(program: Command): void {
  program
    .command('experiment')
    .description(`run one of the thesis' experiments: ${Object.keys(RECIPES).join(', ')}`)
    .argument('<recipe>', 'recipe name')
    .option('--quick', 'reduced protocol that finishes in minutes (labelled --quick in the report)')
    .option('--dataset <name>', 'mnist (default) | fashion-mnist | cifar10')
    .option('--data-dir <dir>', 'folder for fashion-mnist or cifar10')
    .option('--methods <list>', `comma-separated method specs: ${METHOD_HELP}`, uniqueList('--methods'))
    .option('--seeds <list>', 'comma-separated seeds (default 0,1,2)', uniqueIntList('--seeds'))
    .option('--out <dir>', 'run folder (default runs/<recipe>-<time>)')
    .option('--resume', 'continue the runs in --out from their checkpoints (refused if the configuration differs)')
    .option('--force', 'start afresh in an --out that already holds a run (its runs are deleted)')
    .option('--config <file>', 'JSON file of protocol settings: any recipe field (dataset, hidden, imageSize, split, metaKnowledge, methods, seeds, compareExact) and config.{innerSteps, innerBatch, innerLr, metaLr, metaEpochs, warmupSteps, patience, metaSubset, checkpointEvery, continueAfterEarlyStop}')
    .option('--dry-run', 'print how many runs the protocol makes and roughly how long they take here, then stop')
    .option('--meta-epochs <n>', 'cap on meta-epochs (overrides the recipe; reported in config.json)', positiveInt('--meta-epochs'))
    .addOption(backendOption())
    .option('--no-progress', 'no progress bars')
    .action((name: string, flags: ExperimentFlags) => runExperiment(name, flags));

  program
    .command('report')
    .description('rebuild the tables, plots and HTML report of a run folder from its finished runs')
    .argument('<dir>', 'run folder written by iml experiment')
    .action(async (dir: string) => {
      const cfg = readConfig(dir);
      const recipe = getRecipe(cfg.recipe);
      // The report is built from what the folder recorded (config.json), never from the recipe's defaults,
      // and config.json itself is not rewritten. Method order: as recorded (the recipe's table order), then seed.
      const order = cfg.methods.map((m) => methodLabel(parseMethod(m)));
      const rank = (label: string): number => (order.indexOf(label) < 0 ? order.length : order.indexOf(label));
      const variants = cfg.variants.map((v) => v.label);
      const vrank = (label: string): number => (variants.indexOf(label) < 0 ? variants.length : variants.indexOf(label));
      const lock = lockRunFolder(dir, { onMessage: (line) => console.log(line) });
      try {
        const results = loadRuns(dir, { onMessage: (line) => console.log(line) }).sort((a, b) => vrank(a.variant) - vrank(b.variant) || rank(a.method) - rank(b.method) || a.seed - b.seed);
        if (results.length === 0) throw new Error(`${dir}: no finished runs (no */*/seed-*/summary.json)`);
        const seeds = cfg.seeds.filter((s) => results.some((r) => r.seed === s));
        const report = await writeExperimentReport(dir, recipe, { ...cfg, seeds }, results, cfg.quick, cfg);
        console.log(`${report.markdown}
report: ${report.htmlPath}`);
      } finally {
        lock.release();
      }
    });

  program
    .command('compare')
    .description('short IML comparison on MNIST with per-layer L2: baseline vs Neumann(3) vs CG(3) vs identity')
    .option('--out <dir>', 'run folder')
    .addOption(backendOption())
    .option('--no-progress', 'no progress bars')
    .action((flags: ExperimentFlags) => runExperiment('compare', flags));
}

function backendOption(): Option {
  return new Option('--backend <name>', 'where tensors live: cpu (tensors in the Wasm heap, docs/memory.md), cpu-js (its plain-array reference), or webgpu (Dawn: a GPU, or Mesa lavapipe); exact solves need a CPU backend')
    .choices([...BACKEND_KINDS])
    .default('cpu');
}

/** config.json of a run folder, checked for the fields a report needs. */
function readConfig(dir: string): RunFolderConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new Error(`${path}: missing; is ${dir} a run folder written by iml experiment?`);
  const cfg = readJsonFile(path) as Partial<RunFolderConfig> | null;
  if (cfg === null || typeof cfg !== 'object') throw new Error(`${path}: not a run configuration object`);
  if (typeof cfg.recipe !== 'string') throw new Error(`${path}: no recipe name`);
  if (!Array.isArray(cfg.methods) || cfg.methods.some((m) => typeof m !== 'string')) throw new Error(`${path}: 'methods' is not a list of method specs`);
  if (!Array.isArray(cfg.seeds) || cfg.seeds.some((s) => !Number.isInteger(s))) throw new Error(`${path}: 'seeds' is not a list of integers`);
  if (cfg.config === null || typeof cfg.config !== 'object' || typeof cfg.config.metaEpochs !== 'number') throw new Error(`${path}: 'config' (the protocol) is missing or has no metaEpochs`);
  if (!Array.isArray(cfg.variants)) throw new Error(`${path}: 'variants' is missing`);
  return { ...cfg, quick: cfg.quick === true } as RunFolderConfig;
}
