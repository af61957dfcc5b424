// `iml experiment <recipe>` and `iml compare`: run the thesis' recipes with progress bars and write the run folder.

import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { setBackend } from '../backend/registry.js';
import { createNodeWebGpuBackend, nodeWebGpuUnavailable } from '../backend/webgpu/node.js';
import { join } from 'node:path';
import { initGemm } from '../backend/cpu/wasm-gemm.js';
import { METHOD_HELP, methodLabel, parseMethod } from '../hypergrad/methods.js';
import { getRecipe, RECIPES } from '../iml/recipes.js';
import { loadRuns } from '../iml/load-runs.js';
import { planRecipe, runRecipe, type RecipeRunResult } from '../iml/run-recipe.js';
import { existsSync, readFileSync } from 'node:fs';
import { writeExperimentReport } from './experiment-report.js';

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

function seedList(v: string): number[] {
  return list(v).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`--seeds: '${s}' is not a non-negative integer`);
    return n;
  });
}

interface ExperimentFlags {
  quick?: boolean;
  dataset?: 'mnist' | 'fashion-mnist' | 'cifar10';
  dataDir?: string;
  methods?: string[];
  seeds?: number[];
  out?: string;
  resume?: boolean;
  metaEpochs?: number;
  backend?: 'cpu' | 'webgpu';
  progress: boolean;
}

/** Makes the chosen backend the default for models, λ and batches (the IML loop reads everything asynchronously). */
async function selectBackend(kind: 'cpu' | 'webgpu'): Promise<string> {
  if (kind === 'cpu') return 'cpu (JS + Wasm SIMD)';
  const reason = await nodeWebGpuUnavailable();
  if (reason !== null) throw new Error(`--backend webgpu: ${reason}`);
  const power = process.env.IML_WEBGPU_POWER as GPUPowerPreference | undefined;
  const be = await createNodeWebGpuBackend(power ? { powerPreference: power } : {});
  setBackend(be);
  return `webgpu (${be.adapterName})`;
}

async function runExperiment(name: string, flags: ExperimentFlags): Promise<void> {
  await initGemm();
  const backendLabel = await selectBackend(flags.backend ?? 'cpu');
  const recipe = getRecipe(name);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const outDir = flags.out ?? join('runs', `${recipe.name}${flags.quick ? '-quick' : ''}-${stamp}`);
  console.log(`${recipe.title} (thesis ${recipe.section})${flags.quick ? ' [--quick]' : ''}\nrun folder: ${outDir}\nbackend: ${backendLabel}`);
  const bar = flags.progress ? new cliProgress.SingleBar({ format: '{run} [{bar}] {value}/{total} meta-epochs | val acc {val} | {duration_formatted}', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  let current = '';
  const { results, plan } = await runRecipe(recipe, {
    quick: flags.quick ?? false, outDir, dataset: flags.dataset, dataDir: flags.dataDir, methods: flags.methods, seeds: flags.seeds, resume: flags.resume, metaEpochs: flags.metaEpochs,
    onEpoch: (run, m, total) => {
      const key = `${run.variant === 'main' ? '' : `${run.variant} `}${run.method} seed ${run.seed}`;
      if (key !== current) {
        bar?.stop();
        current = key;
        bar?.start(total, 0, { run: key.padEnd(28), val: '-' });
      }
      bar?.update(m.metaEpoch, { val: `${(100 * m.validation.accuracy).toFixed(1)}%` });
    },
    onRunDone: (r: RecipeRunResult) => {
      bar?.stop();
      current = '';
      if (!flags.progress) {
        const s = r.summary;
        console.log(`${r.variant} ${r.method} seed ${r.seed}: test ${(100 * s.test).toFixed(2)}% ES test ${(100 * s.esTest).toFixed(2)}% after ${s.metaEpochsRun} meta-epochs${s.diverged ? ` (diverged at meta-epoch ${s.diverged.metaEpoch})` : ''}`);
      }
    },
  });
  const report = await writeExperimentReport(outDir, recipe, plan, results, flags.quick ?? false);
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
    .option('--methods <list>', `comma-separated method specs: ${METHOD_HELP}`, list)
    .option('--seeds <list>', 'comma-separated seeds (default 0,1,2)', seedList)
    .option('--out <dir>', 'run folder (default runs/<recipe>-<time>)')
    .option('--resume', 'continue runs from their checkpoints in --out')
    .option('--meta-epochs <n>', 'cap on meta-epochs (overrides the recipe; reported in config.json)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`--meta-epochs must be a positive integer, got '${v}'`);
      return n;
    })
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
      // Recipe order (thesis table order), then seed.
      const order = recipe.methods.map((m) => methodLabel(parseMethod(m)));
      const rank = (label: string): number => (order.indexOf(label) < 0 ? order.length : order.indexOf(label));
      // Variants (the ablation's inner-step counts) in the recipe's order too.
      const variants = (recipe.variants ?? []).map((v) => v.label);
      const vrank = (label: string): number => (variants.indexOf(label) < 0 ? variants.length : variants.indexOf(label));
      const results = loadRuns(dir).sort((a, b) => vrank(a.variant) - vrank(b.variant) || rank(a.method) - rank(b.method) || a.seed - b.seed);
      if (results.length === 0) throw new Error(`${dir}: no finished runs (no */*/seed-*/summary.json)`);
      const seeds = [...new Set(results.map((r) => r.seed))];
      const report = await writeExperimentReport(dir, recipe, { ...planRecipe(recipe, { quick: cfg.quick, metaEpochs: cfg.metaEpochs }), seeds }, results, cfg.quick);
      console.log(`${report.markdown}
report: ${report.htmlPath}`);
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
  return new Option('--backend <name>', 'where tensors live: cpu, or webgpu (Dawn: a GPU, or Mesa lavapipe); exact solves need cpu')
    .choices(['cpu', 'webgpu'])
    .default('cpu');
}

function readConfig(dir: string): { recipe: string; quick: boolean; metaEpochs?: number } {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new Error(`${path}: missing; is ${dir} a run folder written by iml experiment?`);
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as { recipe?: unknown; quick?: unknown; config?: { metaEpochs?: unknown } };
  if (typeof cfg.recipe !== 'string') throw new Error(`${path}: no recipe name`);
  const metaEpochs = typeof cfg.config?.metaEpochs === 'number' ? cfg.config.metaEpochs : undefined;
  return { recipe: cfg.recipe, quick: cfg.quick === true, metaEpochs };
}
