// The recorded L2 trajectory: runIml on the tiny synthetic problem for every method, reduced to exact numbers (the fixture and its check share this).
import { setGemmRelaxedSimd } from '../../src/backend/cpu/wasm-gemm.js';
import { fixedL2, noMetaKnowledge, perLayerL2, type MetaKnowledge } from '../../src/hypergrad/meta-knowledge.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
// Registers the dense exact inverse-HVP ('exact' method).
import '../../src/linalg/index.js';
import { memoryRunStore, type StoredCheckpoint, type StoredTensor } from '../../src/iml/run-store.js';
import { runIml, type ImlConfig, type MetaEpochMetrics } from '../../src/iml/trainer.js';
import type { Module } from '../../src/nn/module.js';
import { sha256Hex } from '../../src/util/sha256.js';
import { build, config, data } from '../iml/cases.js';

/** One recorded run: a method spec, the meta-knowledge and the configuration changes from the shared test problem. */
export interface TrajectoryCase {
  name: string;
  spec: string;
  metaKnowledge: 'per-parameter' | 'per-layer' | 'none' | 'fixed';
  config: Partial<ImlConfig>;
}

const compare = { every: 2, reference: parseMethod('exact'), methods: [parseMethod('neumann:3'), parseMethod('cg:3'), parseMethod('identity')] };
// Warm-up, a small patience that fires (innerLr 0.3 makes the validation loss rise), checkpoints, a meta subset.
const common: Partial<ImlConfig> = { warmupSteps: 3, innerLr: 0.3, patience: 2, metaEpochs: 7, checkpointEvery: 2, metaSubset: 10 };

export const TRAJECTORY_CASES: readonly TrajectoryCase[] = [
  { name: 'baseline', spec: 'baseline', metaKnowledge: 'none', config: { ...common, continueAfterEarlyStop: true } },
  { name: 'baseline-l2', spec: 'baseline:l2=0.01', metaKnowledge: 'fixed', config: { ...common } },
  { name: 'neumann', spec: 'neumann:3', metaKnowledge: 'per-parameter', config: { ...common, continueAfterEarlyStop: true, compare } },
  { name: 'neumann-stop', spec: 'neumann:3', metaKnowledge: 'per-parameter', config: { ...common } },
  { name: 'cg-warm', spec: 'cg:3:warm', metaKnowledge: 'per-parameter', config: { ...common, continueAfterEarlyStop: true, compare } },
  { name: 'damped-neumann', spec: 'damped-neumann:3', metaKnowledge: 'per-parameter', config: { ...common, continueAfterEarlyStop: true } },
  { name: 'identity', spec: 'identity', metaKnowledge: 'per-parameter', config: { ...common, continueAfterEarlyStop: true } },
  { name: 't1t2', spec: 't1t2', metaKnowledge: 'per-parameter', config: { ...common, metaEpochs: 4, continueAfterEarlyStop: true } },
  { name: 'exact', spec: 'exact', metaKnowledge: 'per-parameter', config: { ...common, continueAfterEarlyStop: true } },
  { name: 'per-layer-cg', spec: 'cg:3', metaKnowledge: 'per-layer', config: { ...common, innerLr: 0.05, patience: 3, metaSubset: 0, compare } },
  { name: 'generic-penalty', spec: 'neumann:3', metaKnowledge: 'per-parameter', config: { ...common, closedFormPenalty: false, metaEpochs: 3 } },
  { name: 'diverged', spec: 'neumann:3', metaKnowledge: 'per-parameter', config: { innerLr: 1e30, metaEpochs: 3 } },
  { name: 'diverged-warmup', spec: 'neumann:3', metaKnowledge: 'per-parameter', config: { innerLr: 1e30, warmupSteps: 3, metaEpochs: 3 } },
  { name: 'diverged-approximation', spec: 'neumann:60:alpha=50', metaKnowledge: 'per-parameter', config: { metaEpochs: 2 } },
];

/** Non-finite numbers as strings, so that the record survives JSON unchanged. */
const encode = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)));

const tensorHash = async (t: StoredTensor): Promise<string> => `${t.dtype}[${t.shape.join(',')}] ${await sha256Hex(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))}`;

/** The SHA-256 of every tensor of a stored checkpoint by name, with its non-tensor content as it is. */
async function digest(ck: StoredCheckpoint | null): Promise<unknown> {
  if (ck === null) return null;
  const params: Record<string, string> = {};
  for (const k of Object.keys(ck.params).sort()) params[k] = await tensorHash(ck.params[k]);
  const json = async (v: unknown): Promise<string> => sha256Hex(JSON.stringify(v ?? null));
  return { params, step: ck.step, optimizer: await json(ck.optimizer), optimizers: await json(ck.optimizers), meta: ck.meta };
}

async function finalWeights(model: Module): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of model.parameters()) {
    const d = (await p.value.data()) as Float32Array | Float64Array;
    out[p.name] = await tensorHash({ data: d, shape: [...p.value.shape], dtype: p.value.dtype as 'float32' | 'float64' });
  }
  return out;
}

/** Every meta-epoch's numbers without the wall-clock times (the comparisons' reference time included). */
const strip = (ms: readonly MetaEpochMetrics[]) => ms.map(({ epochSeconds: _e, approximationSeconds: _a, comparisons, ...rest }) => ({
  ...rest, comparisons: comparisons?.map(({ referenceSeconds: _r, ...c }) => c),
}));

/** Runs one case with the plain-SIMD matrix kernels (bit-identical on every engine) and returns its record. */
export async function recordCase(c: TrajectoryCase): Promise<unknown> {
  await setGemmRelaxedSimd(false);
  const { model, mk: perParameter } = build();
  const params = model.parameters();
  const method = parseMethod(c.spec);
  const mk: MetaKnowledge = c.metaKnowledge === 'per-parameter' ? perParameter
    : c.metaKnowledge === 'per-layer' ? perLayerL2(params)
    : c.metaKnowledge === 'fixed' ? fixedL2(params, method.kind === 'baseline' ? method.l2 : 0)
    : noMetaKnowledge();
  const store = memoryRunStore();
  const { metrics, summary } = await runIml(model, mk, data, config({ method, ...c.config }), { store });
  const { meanEpochSeconds: _m, meanApproximationSeconds: _a, ...timeless } = summary;
  return encode({
    name: c.name, metrics: strip(metrics), summary: timeless, finalWeights: await finalWeights(model),
    checkpoint: await digest(await storeCheckpoint(store)), best: await digest(store.best),
  });
}

async function storeCheckpoint(store: ReturnType<typeof memoryRunStore>): Promise<StoredCheckpoint | null> {
  const ck = await store.loadCheckpoint();
  if (ck === null) return null;
  const params: Record<string, StoredTensor> = {};
  for (const [k, t] of Object.entries(ck.params)) params[k] = { data: (await t.data()) as Float32Array, shape: [...t.shape], dtype: t.dtype as 'float32' };
  return { params, step: ck.step, optimizer: ck.optimizer, optimizers: ck.optimizers, meta: ck.meta };
}

/** Every case's record, in TRAJECTORY_CASES order. */
export async function recordL2Trajectory(): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const c of TRAJECTORY_CASES) out.push(await recordCase(c));
  return out;
}
