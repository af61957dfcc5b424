// IML cost benchmark: hypergradient time / gradient time per method on the thesis MLP (784-784-10, batch 50, per-parameter L2), closed-form vs graph penalty curvature, with PyTorch (1 thread) mirrored in the same run.
// Usage: node dist/bench/iml.js [methods=identity,neumann:3,...] [--no-torch] [--reference]
//   without --reference the CPU backend keeps tensors in the Wasm heap (the default); with it, plain arrays and JS kernels (heap: false).

import Benchmark from 'benchmark';
import { initGemm } from '../src/backend/cpu/wasm-gemm.js';
import { valueAndGrad } from '../src/autodiff/transforms.js';
import { CpuBackend, Random, add, crossEntropy, getBackend, oneHot, randu, setBackend, tidy, tidyAsync, type Tensor } from '../src/index.js';
import { cpuHeap } from '../src/backend/cpu/wasm-heap.js';
import { hypergradient, type LossFn } from '../src/hypergrad/hypergradient.js';
import { perParameterL2 } from '../src/hypergrad/meta-knowledge.js';
import { parseMethod } from '../src/hypergrad/methods.js';
import { functionalCall, MLP } from '../src/nn/index.js';
import { runTorchIml, type MirroredMethod } from './iml-torch.js';

await initGemm();
// The Wasm tensor heap (the default) unless --reference: the plain-array backend with the JS kernels.
setBackend(new CpuBackend({ heap: !process.argv.includes('--reference') }));
console.log(`CPU backend: ${process.argv.includes('--reference') ? 'plain arrays, JS kernels (heap: false, the reference)' : 'tensor heap, Wasm kernels (the default)'}`);
const rng = new Random(0);
const model = new MLP([784, 784, 10], rng);
const mk = perParameterL2(model.parameters());
const lam = mk.init(rng);
const batch = 50;
const data = () => ({ x: randu([batch, 784], rng), t: oneHot(Array.from({ length: batch }, () => rng.int(10)), 10) });
const tr = data();
const va = data();
const w = model.parameters().map((p) => p.value);
const trainLoss: LossFn = (ws, ls) => functionalCall(model, ws, () => add(crossEntropy(model.forward(tr.x, { training: true }), tr.t), mk.penalty(ws, ls)!));
const valLoss: LossFn = (ws) => functionalCall(model, ws, () => crossEntropy(model.forward(va.x, { training: false }), va.t));
const dataLoss: LossFn = (ws) => functionalCall(model, ws, () => crossEntropy(model.forward(tr.x, { training: true }), tr.t));

// Peak memory of one hypergradient (the 1.57 GB allocated per Neumann(50) meta-step): the CPU heap's
// high-water mark, since every tensor of the computation lives there; bounded means independent of the step count.
{
  const heap = cpuHeap();
  if (heap !== null && !process.argv.includes('--reference')) {
    const be = getBackend() as CpuBackend;
    for (const spec of ['neumann:3', 'neumann:50', 'cg:50']) {
      const top0 = heap.stats().topBytes, live0 = heap.stats().liveBytes, alloc0 = be.allocatedBytes();
      const t = performance.now();
      await tidyAsync(async () => {
        const r = await hypergradient(dataLoss, valLoss, w, lam, parseMethod(spec), {}, undefined, mk.closedForm!(w, lam));
        r.hypergrad[0].dataSync();
      });
      const s = heap.stats();
      console.log(`${spec} hypergradient, closed-form penalty: ${(performance.now() - t).toFixed(0)} ms; allocated ${((be.allocatedBytes() - alloc0) / 2 ** 20).toFixed(0)} MiB in total, ` +
        `heap high-water +${((s.topBytes - top0) / 2 ** 20).toFixed(1)} MiB (beyond earlier runs), live afterwards +${((s.liveBytes - live0) / 2 ** 20).toFixed(2)} MiB`);
    }
  }
}

const methodArg = process.argv.slice(2).find((a) => !a.startsWith('--'));
const methods = (methodArg ?? 'identity,neumann:3,neumann:10,cg:3,cg:5,damped-neumann:10').split(',');
const suite = new Benchmark.Suite('iml');
const ms: Record<string, number> = {};
// Deferred like the hypergradients below, so both carry the same per-sample scheduling overhead.
suite.add('gradient of L_T (w)', {
  defer: true,
  fn: (d: { resolve(): void }) => {
    void Promise.resolve().then(() => {
      // Scoped, as the trainer runs it: the CPU heap's memory is freed per call, not left to the GC.
      tidy(() => valueAndGrad((ws: Tensor[]) => trainLoss(ws, lam))(w).grads[0].dataSync());
      d.resolve();
    });
  },
});
const GRAPH = ' (penalty graph)';
for (const m of methods) {
  const method = parseMethod(m);
  // Deferred: the hypergradient is async (it reads scalars with await, which works on every backend).
  // What the trainer runs: the data loss differentiated, the L2 penalty's curvature in closed form.
  suite.add(m, {
    defer: true,
    fn: (d: { resolve(): void }) => {
      void tidyAsync(async () => {
        const r = await hypergradient(dataLoss, valLoss, w, lam, method, {}, undefined, mk.closedForm!(w, lam));
        r.hypergrad[0].dataSync();
      }).then(() => d.resolve());
    },
  });
  // The generic path: every HVP differentiates through the penalty's graph as well.
  suite.add(m + GRAPH, {
    defer: true,
    fn: (d: { resolve(): void }) => {
      void tidyAsync(async () => {
        const r = await hypergradient(trainLoss, valLoss, w, lam, method);
        r.hypergrad[0].dataSync();
      }).then(() => d.resolve());
    },
  });
}
suite.on('cycle', (e: Benchmark.Event) => {
  const b = e.target as Benchmark.Target & { name: string; stats: { sample: number[] } };
  const s = [...b.stats.sample].sort((a, c) => a - c);
  ms[b.name] = 1000 * s[Math.floor(s.length / 2)];
});
suite.on('complete', () => {
  const g = ms['gradient of L_T (w)'];
  console.log(`| method | hypergradient, closed-form penalty (ms) | / gradient (${g.toFixed(1)} ms) | through the penalty graph (ms) | / gradient |\n|---|---|---|---|---|`);
  for (const m of methods) {
    const c = ms[m];
    const p = ms[m + GRAPH];
    console.log(`| ${m} | ${c.toFixed(1)} | ${(c / g).toFixed(2)}x | ${p.toFixed(1)} | ${(p / g).toFixed(2)}x |`);
  }
  if (process.argv.includes('--no-torch')) return;
  // PyTorch measured now, in this run (it used to be quoted as a constant): the same problem, 1 thread.
  const mirrored: MirroredMethod[] = methods.flatMap((m): MirroredMethod[] => {
    const p = parseMethod(m);
    if (p.kind === 'identity') return [{ name: m, kind: 'identity' as const, steps: 0, alpha: 0 }];
    if (p.kind === 'neumann') return [{ name: m, kind: 'neumann' as const, steps: p.steps, alpha: p.alpha }];
    return [];
  });
  const torch = runTorchIml(mirrored);
  if (typeof torch === 'string') {
    console.log(`\nPyTorch: ${torch}`);
    return;
  }
  const tg = torch.ms['gradient']!;
  console.log(`\nPyTorch ${torch.version}, 1 thread, same problem, same run (methods it mirrors: identity, neumann):`);
  console.log(`| method | PyTorch closed-form (ms) | / its gradient (${tg.toFixed(1)} ms) | PyTorch penalty graph (ms) | / its gradient | engine / PyTorch, closed-form | engine / PyTorch, graph |\n|---|---|---|---|---|---|---|`);
  for (const m of mirrored) {
    const c = torch.ms[m.name]!, p = torch.ms[m.name + GRAPH]!;
    console.log(`| ${m.name} | ${c.toFixed(1)} | ${(c / tg).toFixed(2)}x | ${p.toFixed(1)} | ${(p / tg).toFixed(2)}x | ${(ms[m.name]! / c).toFixed(2)}x | ${(ms[m.name + GRAPH]! / p).toFixed(2)}x |`);
  }
  console.log(`gradient: engine ${g.toFixed(1)} ms, PyTorch ${tg.toFixed(1)} ms (${(g / tg).toFixed(2)}x)`);
});
suite.run({ async: false, minSamples: 10 } as Benchmark.Options);
