// Confidence Network benchmark: time of one CN meta-step (fresh batch, targets, hypergradient, Adam on ω) per inverse-HVP method relative to one FixMatch training step on the same batch size, and the share of a run spent in meta-steps; CPU and WebGPU.
// node dist/bench/confidence.js [--batch 16] [--mu 3] [--reps 5] [--meta-every 50] [--methods identity,neumann:5,cg:5,t1t2] [--table-unlabelled 480] [--backend cpu|webgpu|both]

import type { Backend } from '../src/backend/backend.js';
import { initGemm } from '../src/backend/cpu/wasm-gemm.js';
import { createMetaOptimizer } from '../src/bilevel/meta-optimizer.js';
import { tidyAsync } from '../src/core/scope.js';
import type { Tensor } from '../src/core/tensor.js';
import type { ImageDataset } from '../src/data/dataset.js';
import { hypergradient, type MethodState } from '../src/hypergrad/hypergradient.js';
import { methodLabel, parseMethod } from '../src/hypergrad/methods.js';
import { createNodeWebGpuBackend } from '../src/node/webgpu.js';
import { ConfidenceNet } from '../src/ssl/confidence-net.js';
import { confidenceProblem, type ConfidenceWeighting } from '../src/ssl/confidence-problem.js';
import { SampleWeightTable } from '../src/ssl/sample-weight-table.js';
import { FIXMATCH_DEFAULTS } from '../src/ssl/fixmatch-config.js';
import { SmallCnn } from '../src/ssl/small-cnn.js';
import { Random } from '../src/util/random.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const B = Number(arg('batch', '16'));
const MU = Number(arg('mu', '3'));
const REPS = Number(arg('reps', '5'));
const META_EVERY = Number(arg('meta-every', '50'));
const METHODS = arg('methods', 'identity,neumann:5,cg:5,t1t2').split(',');
const BACKENDS = arg('backend', 'cpu');
// Unlabelled images of a table meta-step (iml confidence's default: 10 x mu x B; 0 skips the row).
const TABLE_U = Number(arg('table-unlabelled', String(10 * B * MU)));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function images(count: number, seed: number): ImageDataset {
  const rng = new Random(seed);
  return {
    images: Float32Array.from({ length: count * 784 }, () => rng.int(256) / 255), labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    count, channels: 1, height: 28, width: 28, numClasses: 10, name: `random-${seed}`,
  };
}

async function sync(ts: readonly Tensor[]): Promise<void> {
  await Promise.all(ts.map((t) => t.data()));
}

/** Median seconds of `reps` calls after one untimed call, each in a scope as the bilevel loop runs them. */
async function timeIt(fn: () => Promise<void>): Promise<number> {
  const once = async (): Promise<number> => {
    const t = performance.now();
    await tidyAsync(fn);
    return (performance.now() - t) / 1000;
  };
  await once();
  const times: number[] = [];
  for (let k = 0; k < REPS; k++) times.push(await once());
  return median(times);
}

async function measure(backend: Backend | undefined, label: string): Promise<void> {
  const data = { labelled: images(100, 1), unlabelled: images(500, 2), validation: images(200, 3), test: images(100, 4) };
  const config = { ...FIXMATCH_DEFAULTS, batchSize: B, mu: MU, tau: 0, steps: 1000, flip: false, seed: 0 };
  const setup = (weighting: ConfidenceWeighting, metaUnlabelled?: number) => {
    const model = new SmallCnn(new Random(0), { side: 28, backend });
    const problem = confidenceProblem(model, data, { config, weighting, metaValidation: 200, metaUnlabelled });
    const rng = new Random(2);
    const refs = problem.init(rng).map((value, i) => ({ name: `w${i}`, value }));
    return { problem, rng, refs, params: problem.innerParams() };
  };
  /** One meta-step (fresh batch and targets, hypergradient, Adam on ω) of a problem by a method. */
  const metaStep = (p: ReturnType<typeof setup>, spec: string) => {
    const method = parseMethod(spec);
    const opt = createMetaOptimizer(p.refs, 1e-3, { kind: 'adam' });
    const state: MethodState = {};
    return async (): Promise<void> => {
      const theta = p.params.map((x) => x.value);
      const obj = await p.problem.metaObjective(theta, p.refs.map((r) => r.value), p.rng);
      const r = await hypergradient(obj.trainLoss, obj.valLoss, theta, p.refs.map((x) => x.value), method, state);
      opt.step(r.hypergrad);
      await sync(p.refs.map((x) => x.value));
    };
  };
  const cn = new ConfidenceNet(new Random(1), { backend });
  const withCn = setup({ kind: 'cn', cn, omega: cn.parameters().map((p) => p.value) });
  let done = 0;
  const step = await timeIt(async () => {
    const omega = withCn.refs.map((r) => r.value);
    const s = await withCn.problem.innerStep(omega, { rng: withCn.rng, metaEpoch: 0, step: done++ });
    await s.apply();
    await sync(withCn.params.map((p) => p.value));
  });
  const { loadavg } = await import('node:os');
  console.log(`\n${label}: small CNN 1x28x28, B ${B}, mu ${MU} (${B + 2 * B * MU} images per pass), CN 8-16; median of ${REPS}; load ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  console.log(`FixMatch (weighted) inner step: ${step.toFixed(3)} s`);
  console.log(`| learner, method | meta-step s | x inner step | share of run, a meta-step every ${META_EVERY} steps (T1-T2: every step) |\n|---|---|---|---|`);
  const row = (what: string, m: number, every: number) => console.log(`| ${what} | ${m.toFixed(3)} | ${(m / step).toFixed(2)} | ${((100 * m) / (m + every * step)).toFixed(1)}% |`);
  for (const spec of METHODS) {
    const method = parseMethod(spec);
    row(`CN, ${methodLabel(method)}`, await timeIt(metaStep(withCn, spec)), method.kind === 't1t2' ? 1 : META_EVERY);
  }
  if (TABLE_U > 0) {
    const table = setup({ kind: 'table', table: new SampleWeightTable(data.unlabelled.count) }, TABLE_U);
    row(`table, IFT-Identity, ${TABLE_U} unlabelled`, await timeIt(metaStep(table, 'identity')), META_EVERY);
  }
}

async function main(): Promise<void> {
  await initGemm();
  if (BACKENDS === 'cpu' || BACKENDS === 'both') await measure(undefined, 'CPU (JS + Wasm SIMD)');
  if (BACKENDS === 'webgpu' || BACKENDS === 'both') {
    const be = await createNodeWebGpuBackend();
    try {
      await measure(be, `WebGPU (${be.name})`);
    } finally {
      be.dispose();
    }
  }
}

await main();
