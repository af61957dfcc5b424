// Meta-epoch cost of the thesis 4.1 problem (overfit-small-val: 784-784-10 MLP, per-parameter L2, 50 inner Adam steps of batch 32 per meta-epoch) on the CPU tensor heap and on the plain-array reference backend, alternating in one process.
// Usage: npm run build && node dist/bench/meta-epoch.js [--methods neumann:3,cg:3,identity,t1t2] [--meta-epochs N] [--rounds R] [--recipe NAME] [--backends heap,plain] [--threads 1|2] [--torch]
//   (--backends heap alone, e.g. under --cpu-prof, profiles the heap backend only; the table then leaves the plain column empty.)
//   --torch (overfit-small-val only) runs PyTorch's mirror (bench/meta-epoch-torch.ts) after the engine, at the same thread count,
//   and adds its meta-epoch and its per-method ratios: the cost of each method relative to the others on this machine.
//   Each round runs every method on both backends with the same seed; the median of the meta-epochs after the first
//   (the first pays for compilation and first-touch memory) is reported, and the trajectories are checked to agree.

import { loadavg } from 'node:os';
import { setBackend } from '../src/backend/registry.js';
import { CpuBackend } from '../src/backend/cpu/cpu-backend.js';
import { initGemm, setGemmThreads } from '../src/backend/cpu/wasm-gemm.js';
import { cpuHeap } from '../src/backend/cpu/wasm-heap.js';
import { memoryRunStore } from '../src/iml/run-store.js';
import { getRecipe } from '../src/iml/recipes.js';
import { runIml, type MetaEpochMetrics } from '../src/iml/trainer.js';
import { loadDataset } from '../src/node/datasets.js';
import { planRecipe, prepareRecipeRun } from '../src/node/run-recipe.js';
import { runTorchMetaEpochs, torchMirrors } from './meta-epoch-torch.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const methods = (arg('methods') ?? 'neumann:3,cg:3,identity,t1t2').split(',');
const metaEpochs = Number(arg('meta-epochs') ?? 6);
const rounds = Number(arg('rounds') ?? 2);
const recipe = getRecipe(arg('recipe') ?? 'overfit-small-val');
if (!Number.isInteger(metaEpochs) || metaEpochs < 2) throw new Error(`--meta-epochs must be an integer >= 2, got ${arg('meta-epochs')}`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${arg('rounds')}`);

const withTorch = process.argv.includes('--torch');
if (withTorch && recipe.name !== 'overfit-small-val') throw new Error(`--torch mirrors overfit-small-val only, not ${recipe.name}`);
const threads = Number(arg('threads') ?? 1);
if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive integer, got ${arg('threads')}`);

await initGemm();
// Worker threads for the GEMM, conv and large elementwise passes on the tensor heap (the plain backend's products too).
if ((await setGemmThreads(threads)) !== threads) throw new Error(`setGemmThreads(${threads}) could not start ${threads} thread(s)`);
const plan = planRecipe(recipe, { quick: false, metaEpochs, methods, seeds: [0] });
const dataset = loadDataset(plan.dataset, { imageSize: plan.imageSize, seed: 0 });
const variant = plan.variants[0];
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`${recipe.name} (thesis ${recipe.section}): ${metaEpochs} meta-epochs per run, ${rounds} round(s), ${threads} thread(s); load ${load()} at the start`);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const chosen = (arg('backends') ?? 'heap,plain').split(',');
for (const c of chosen) if (c !== 'heap' && c !== 'plain') throw new Error(`--backends: '${c}' is neither heap nor plain`);
const backends = ([{ label: 'heap', heap: true }, { label: 'plain', heap: false }] as const).filter((b) => chosen.includes(b.label));
if (backends.length === 0) throw new Error('--backends: name heap, plain or both');
const seconds: Record<string, Record<string, number[]>> = {};
const losses: Record<string, Record<string, number[]>> = {};
const heapTop: Record<string, number> = {};
for (let round = 0; round < rounds; round++) {
  for (const spec of methods) {
    for (const b of backends) {
      setBackend(new CpuBackend({ heap: b.heap }));
      const { model, mk, data, config } = prepareRecipeRun(recipe.name, false, plan, variant, spec, 0, undefined, dataset);
      const { metrics } = await runIml(model, mk, data, config, { store: memoryRunStore<MetaEpochMetrics>() });
      ((seconds[spec] ??= {})[b.label] ??= []).push(...metrics.slice(1).map((m) => m.epochSeconds));
      (losses[spec] ??= {})[b.label] = metrics.map((m) => m.validation.loss);
      if (b.heap) heapTop[spec] = Math.max(heapTop[spec] ?? 0, cpuHeap()?.stats().topBytes ?? 0);
    }
  }
}

const torch = withTorch ? runTorchMetaEpochs(methods, metaEpochs, rounds, threads) : null;
if (typeof torch === 'string') console.log(`\nPyTorch: ${torch}`);
const torchMs = (spec: string): number => (torch && typeof torch !== 'string' ? torch.ms[spec] ?? NaN : NaN);
const ms = (v: number): string => (Number.isNaN(v) ? '-' : v.toFixed(0));
const torchHead = torch && typeof torch !== 'string' ? ` PyTorch ${torch.version}, ${torch.threads}T (ms) | heap / PyTorch |` : '';
console.log(`\n| method | meta-epoch, heap (ms) | meta-epoch, plain arrays (ms) | plain / heap | heap high-water (MiB) | trajectories |${torchHead}`);
console.log(`|---|---|---|---|---|---|${torchHead ? '---|---|' : ''}`);
for (const spec of methods) {
  const h = seconds[spec].heap ? median(seconds[spec].heap) * 1000 : NaN;
  const p = seconds[spec].plain ? median(seconds[spec].plain) * 1000 : NaN;
  const both = losses[spec].heap !== undefined && losses[spec].plain !== undefined;
  const same = both && losses[spec].heap.every((v, i) => Object.is(v, losses[spec].plain[i]));
  const t = torchMs(spec);
  const torchCells = torchHead ? ` ${ms(t)} | ${Number.isNaN(t) || Number.isNaN(h) ? '-' : `${(h / t).toFixed(2)}x`} |` : '';
  console.log(`| ${spec} | ${ms(h)} | ${ms(p)} | ${both ? `${(p / h).toFixed(2)}x` : '-'} | ${heapTop[spec] ? (heapTop[spec] / 2 ** 20).toFixed(0) : '-'} | ${both ? (same ? 'identical' : 'DIFFER') : '-'} |${torchCells}`);
}
const main = backends[0].label;
const ref = median(seconds[methods[0]][main]);
console.log(`\nPer method / ${methods[0]} on ${main}: ${methods.map((m) => `${m} ${(median(seconds[m][main]) / ref).toFixed(2)}x`).join(', ')}`);
if (torchHead && torchMirrors(methods[0])) {
  console.log(`Per method / ${methods[0]} in PyTorch: ${methods.filter(torchMirrors).map((m) => `${m} ${(torchMs(m) / torchMs(methods[0])).toFixed(2)}x`).join(', ')}`);
}
console.log(`load ${load()} at the end`);
await setGemmThreads(1);
