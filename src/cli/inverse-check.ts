// `iml inverse-check`: exact H⁻¹g on a real problem against the Neumann, CG and identity approximations (accuracy, time, memory).

import { promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { secondOrderOperator, valueAndGrad } from '../autodiff/transforms.js';
import { tensor } from '../core/creation.js';
import { add, mul, sum } from '../core/ops.js';
import { noGrad, type Tensor } from '../core/tensor.js';
import { getBatch } from '../data/dataset.js';
import { cgInverseHvp, identityInverseHvp, neumannInverseHvp, type InverseHvpResult } from '../hypergrad/inverse-hvp.js';
import { vcosine, vnorm, vsub, type VectorList } from '../hypergrad/vector-list.js';
import { exactHessian } from '../linalg/hessian.js';
import { ExactHessianSolver, type ExactCurvatureReport, type ExactMethod } from '../linalg/exact-inverse-hvp.js';
import { unflattenLike, flattenTensors } from '../linalg/hessian.js';
import { initLinalg, linalgMemoryStats, resetLinalgPeak } from '../linalg/wasm.js';
import { MLP, type Activation } from '../nn/layers.js';
import { functionalCall } from '../nn/module.js';
import { softplus } from '../ops/activations.js';
import { crossEntropy } from '../ops/losses.js';
import { oneHot } from '../core/creation.js';
import { Adam } from '../optim/adam.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { Random } from '../util/random.js';
import { loadDataset } from './datasets.js';

export const PROBLEM_FORMAT = 'iml-inverse-check-problem';

// ---------------------------------------------------------------------------
// Problems: an MLP, its weights, per-parameter (or per-tensor) L2 hyperparameters, two batches.
// ---------------------------------------------------------------------------

/** L_T(w, λ) = mean CE(f(x_T; w), y_T) + Σ_p Σ (softplus(λ_p) ⊙ w_p)²; L_V(w) = mean CE(f(x_V; w), y_V). */
export interface InverseCheckProblem {
  description: string;
  sizes: number[];
  activation: Activation;
  /** Parameter names in model order (fc1.weight, fc1.bias, ...). */
  names: string[];
  weights: Tensor[];
  /** λ per parameter tensor: shaped like the weight (per-parameter) or a scalar (per-tensor); empty = no regulariser. */
  lambdas: Tensor[];
  train: { x: Tensor; y: number[] };
  validation: { x: Tensor; y: number[] };
}

const F64 = { dtype: 'float64' as const };

interface Losses {
  trainLoss: (w: Tensor[], lam: Tensor[]) => Tensor;
  valLoss: (w: Tensor[]) => Tensor;
}

function makeLosses(p: InverseCheckProblem, model: MLP): Losses {
  const classes = p.sizes[p.sizes.length - 1]!;
  const tTrain = oneHot(p.train.y, classes, F64);
  const tVal = oneHot(p.validation.y, classes, F64);
  return {
    trainLoss: (w, lam) =>
      functionalCall(model, w, () => {
        let loss = crossEntropy(model.forward(p.train.x), tTrain);
        lam.forEach((l, i) => {
          const r = mul(softplus(l), w[i]!);
          loss = add(loss, sum(mul(r, r)));
        });
        return loss;
      }),
    valLoss: (w) => functionalCall(model, w, () => crossEntropy(model.forward(p.validation.x), tVal)),
  };
}

function buildModel(p: InverseCheckProblem): MLP {
  const model = new MLP(p.sizes, new Random(0), p.activation, F64);
  const params = model.parameters();
  const names = params.map((q) => q.name);
  if (names.join(',') !== p.names.join(',')) {
    throw new Error(`inverse-check: model parameters are [${names.join(', ')}], the problem has [${p.names.join(', ')}]`);
  }
  params.forEach((q, i) => {
    const w = p.weights[i]!;
    if (q.value.shape.join('x') !== w.shape.join('x')) {
      throw new Error(`inverse-check: '${q.name}' has shape [${w.shape.join(', ')}], the model expects [${q.value.shape.join(', ')}]`);
    }
  });
  return model;
}

export interface BuiltinOptions {
  seed: number;
  imageSize: number;
  hidden: number;
  trainSize: number;
  valSize: number;
  trainSteps: number;
  batchSize: number;
  lr: number;
  /** λ ~ N(mean, std²) before softplus (the IML trainer's per-parameter L2 default: -3, 0.5). */
  lambdaMean: number;
  lambdaStd: number;
  activation: Activation;
}

export const BUILTIN_DEFAULTS: BuiltinOptions = {
  seed: 0, imageSize: 14, hidden: 32, trainSize: 50, valSize: 50, trainSteps: 300, batchSize: 32, lr: 1e-3,
  lambdaMean: -3, lambdaStd: 0.5, activation: 'relu',
};

/** Picks `count` samples (seeded) of a data split as float64 [count, C·H·W] plus labels. */
function sampleBatch(ds: Parameters<typeof getBatch>[0], count: number, rng: Random): { x: Tensor; y: number[] } {
  if (count > ds.count) throw new Error(`inverse-check: asked for ${count} samples of '${ds.name}', which has ${ds.count}`);
  const idx = rng.permutation(ds.count).subarray(0, count);
  const b = getBatch(ds, idx);
  return { x: tensor(Float64Array.from(b.x), [count, b.x.length / count], F64), y: Array.from(b.y) };
}

/**
 * The thesis' exact-inverse setting (section 4.1.3): MNIST at 14x14, MLP 196-32-10, per-parameter
 * L2 Σ (softplus(λ) ⊙ w)², 50 training and 50 validation samples, trained briefly with Adam (λ fixed)
 * so that the Hessian is that of a partly fitted model rather than of random weights.
 */
export function builtinProblem(o: Partial<BuiltinOptions> = {}, log: (s: string) => void = () => {}): InverseCheckProblem {
  const c = { ...BUILTIN_DEFAULTS, ...o };
  const data = loadDataset('mnist', { imageSize: c.imageSize, seed: c.seed });
  const rng = new Random(c.seed + 1);
  const train = sampleBatch(data.train, c.trainSize, rng);
  const validation = sampleBatch(data.validation, c.valSize, rng);
  const inputs = c.imageSize * c.imageSize;
  const sizes = [inputs, c.hidden, data.train.numClasses];
  const model = new MLP(sizes, new Random(c.seed), c.activation, F64);
  const params = model.parameters();
  const lrng = new Random(c.seed + 2);
  const lambdas = params.map((q) => {
    const v = new Float64Array(q.value.size);
    for (let i = 0; i < v.length; i++) v[i] = c.lambdaMean + c.lambdaStd * lrng.normal();
    return tensor(v, q.value.shape, F64);
  });
  const problem: InverseCheckProblem = {
    description:
      `built-in: MNIST ${c.imageSize}x${c.imageSize}, MLP ${sizes.join('-')} (${c.activation}), per-parameter L2 λ ~ N(${c.lambdaMean}, ${c.lambdaStd}²), ` +
      `${c.trainSize} train / ${c.valSize} validation samples, Adam lr ${c.lr} for ${c.trainSteps} steps of ${Math.min(c.batchSize, c.trainSize)} (seed ${c.seed})`,
    sizes, activation: c.activation, names: params.map((q) => q.name), weights: params.map((q) => q.value), lambdas, train, validation,
  };
  // Brief training of the weights on the training loss (λ fixed).
  const opt = new Adam(params, { lr: c.lr });
  const classes = sizes[2]!;
  const brng = new Random(c.seed + 3);
  const bs = Math.min(c.batchSize, c.trainSize);
  let last = NaN;
  for (let step = 0; step < c.trainSteps; step++) {
    const idx = brng.permutation(c.trainSize).subarray(0, bs);
    const xb = noGrad(() => tensor(Array.from(idx).flatMap((i) => Array.from(train.x.dataSync().subarray(i * inputs, (i + 1) * inputs))), [bs, inputs], F64));
    const tb = oneHot(Array.from(idx).map((i) => train.y[i]!), classes, F64);
    const { value, grads } = valueAndGrad((w: Tensor[]) =>
      functionalCall(model, w, () => {
        let loss = crossEntropy(model.forward(xb), tb);
        lambdas.forEach((l, i) => {
          const r = mul(softplus(l), w[i]!);
          loss = add(loss, sum(mul(r, r)));
        });
        return loss;
      }),
    )(params.map((q) => q.value));
    opt.step(grads);
    last = value.item();
  }
  problem.weights = params.map((q) => q.value);
  log(`trained ${c.trainSteps} Adam steps, final minibatch training loss ${last.toFixed(4)}`);
  return problem;
}

// ---------------------------------------------------------------------------
// Problem files (docs/inverse-check.md).
// ---------------------------------------------------------------------------

interface TensorJson {
  shape: number[];
  data: number[];
}

function tensorFromJson(where: string, v: unknown): Tensor {
  if (Array.isArray(v)) {
    // Nested arrays: infer the shape.
    const shape: number[] = [];
    let cur: unknown = v;
    while (Array.isArray(cur)) {
      shape.push(cur.length);
      cur = cur[0];
    }
    const data = (v as unknown[]).flat(shape.length) as number[];
    if (data.length !== shape.reduce((a, b) => a * b, 1) || data.some((x) => typeof x !== 'number')) {
      throw new Error(`${where}: ragged or non-numeric nested array`);
    }
    return tensor(data, shape, F64);
  }
  if (typeof v === 'number') return tensor([v], [], F64);
  const t = v as Partial<TensorJson>;
  if (!t || !Array.isArray(t.shape) || !Array.isArray(t.data)) throw new Error(`${where}: expected {shape, data}, a nested array or a number`);
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== size) throw new Error(`${where}: ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  return tensor(t.data, t.shape, F64);
}

function tensorToJson(t: Tensor): TensorJson {
  return { shape: [...t.shape], data: Array.from(t.dataSync()) };
}

/** Parses a problem file's JSON (a checkpoint named in it is loaded relative to `baseDir`). */
export async function parseProblem(raw: unknown, baseDir = '.'): Promise<InverseCheckProblem> {
  const where = 'problem file';
  const o = raw as Record<string, unknown>;
  if (!o || typeof o !== 'object' || o.format !== PROBLEM_FORMAT) throw new Error(`${where}: "format" must be "${PROBLEM_FORMAT}"`);
  const model = o.model as { type?: string; sizes?: number[]; activation?: Activation } | undefined;
  if (!model || model.type !== 'mlp' || !Array.isArray(model.sizes) || model.sizes.length < 2) {
    throw new Error(`${where}: "model" must be {"type": "mlp", "sizes": [in, ..., classes], "activation"?}`);
  }
  const activation = model.activation ?? 'relu';
  if (!['relu', 'tanh', 'sigmoid'].includes(activation)) throw new Error(`${where}: unknown activation '${activation}'`);
  const names = new MLP(model.sizes, new Random(0), activation, F64).parameters().map((q) => q.name);
  let named: Record<string, Tensor> = {};
  let lambdasFromCheckpoint: Record<string, Tensor> = {};
  if (typeof o.checkpoint === 'string') {
    const ck = await readCheckpointParams(resolve(baseDir, o.checkpoint));
    named = ck.weights;
    lambdasFromCheckpoint = ck.lambdas;
  }
  if (o.weights !== undefined) {
    for (const [k, v] of Object.entries(o.weights as Record<string, unknown>)) named[k] = tensorFromJson(`${where}: weights.${k}`, v);
  }
  const missing = names.filter((n) => !named[n]);
  if (missing.length > 0) throw new Error(`${where}: no weights for ${missing.join(', ')} (give "weights" or "checkpoint")`);
  const weights = names.map((n) => named[n]!);
  const reg = (o.regularizer ?? { type: 'none' }) as { type?: string; lambdas?: Record<string, unknown> };
  let lambdas: Tensor[] = [];
  if (reg.type === 'per-parameter-l2' || reg.type === 'per-tensor-l2') {
    const given = reg.lambdas ?? {};
    lambdas = names.map((n, i) => {
      const t = given[n] !== undefined ? tensorFromJson(`${where}: regularizer.lambdas.${n}`, given[n]) : lambdasFromCheckpoint[n];
      if (!t) throw new Error(`${where}: no λ for '${n}'`);
      const ok = reg.type === 'per-tensor-l2' ? t.size === 1 : t.shape.join('x') === weights[i]!.shape.join('x');
      if (!ok) throw new Error(`${where}: λ for '${n}' has shape [${t.shape.join(', ')}], expected ${reg.type === 'per-tensor-l2' ? 'a scalar' : `[${weights[i]!.shape.join(', ')}]`}`);
      return t.size === 1 && t.shape.length > 0 ? tensor(t.dataSync(), [], F64) : t;
    });
  } else if (reg.type !== 'none') {
    throw new Error(`${where}: "regularizer.type" must be "per-parameter-l2", "per-tensor-l2" or "none"`);
  }
  const batch = (key: 'train' | 'validation'): { x: Tensor; y: number[] } => {
    const b = o[key] as { x?: unknown; y?: unknown } | undefined;
    if (!b || !Array.isArray(b.y)) throw new Error(`${where}: "${key}" must be {"x": tensor [N, ${model.sizes![0]}], "y": [labels]}`);
    const x = tensorFromJson(`${where}: ${key}.x`, b.x);
    const y = b.y as number[];
    if (x.rank !== 2 || x.shape[1] !== model.sizes![0] || x.shape[0] !== y.length) {
      throw new Error(`${where}: ${key}.x has shape [${x.shape.join(', ')}], expected [${y.length}, ${model.sizes![0]}]`);
    }
    const classes = model.sizes![model.sizes!.length - 1]!;
    y.forEach((c, i) => {
      if (!Number.isInteger(c) || c < 0 || c >= classes) throw new Error(`${where}: ${key}.y[${i}] = ${c} is not a class in [0, ${classes})`);
    });
    return { x, y };
  };
  return {
    description: typeof o.description === 'string' ? o.description : 'problem file',
    sizes: model.sizes, activation, names, weights, lambdas, train: batch('train'), validation: batch('validation'),
  };
}

/** The problem in the documented file format (weights inline). */
export function problemToJson(p: InverseCheckProblem): Record<string, unknown> {
  const perTensor = p.lambdas.length > 0 && p.lambdas.every((l) => l.size === 1);
  return {
    format: PROBLEM_FORMAT,
    version: 1,
    description: p.description,
    model: { type: 'mlp', sizes: p.sizes, activation: p.activation },
    weights: Object.fromEntries(p.names.map((n, i) => [n, tensorToJson(p.weights[i]!)])),
    regularizer:
      p.lambdas.length === 0
        ? { type: 'none' }
        : { type: perTensor ? 'per-tensor-l2' : 'per-parameter-l2', lambdas: Object.fromEntries(p.names.map((n, i) => [n, tensorToJson(p.lambdas[i]!)])) },
    train: { x: tensorToJson(p.train.x), y: p.train.y },
    validation: { x: tensorToJson(p.validation.x), y: p.validation.y },
  };
}

/** Weights and λ from an iml checkpoint (IML trainer names: 'fc1.weight', ..., 'lam:fc1.weight.l2'). */
async function readCheckpointParams(path: string): Promise<{ weights: Record<string, Tensor>; lambdas: Record<string, Tensor> }> {
  const ck = await loadCheckpoint(path);
  const weights: Record<string, Tensor> = {};
  const lambdas: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(ck.params)) {
    const f64 = t.dtype === 'float64' ? t : tensor(Float64Array.from(t.dataSync()), t.shape, F64);
    if (name.startsWith('lam:')) lambdas[name.slice(4).replace(/\.l2$/, '')] = f64;
    else if (!name.includes(':')) weights[name] = f64;
  }
  return { weights, lambdas };
}

/** A problem from a checkpoint alone: MLP sizes from the fcK.weight shapes, data from built-in MNIST. */
async function checkpointProblem(path: string, o: BuiltinOptions): Promise<InverseCheckProblem> {
  const { weights, lambdas } = await readCheckpointParams(path);
  const sizes: number[] = [];
  for (let k = 1; weights[`fc${k}.weight`]; k++) {
    const s = weights[`fc${k}.weight`]!.shape;
    if (k === 1) sizes.push(s[1]!);
    sizes.push(s[0]!);
  }
  if (sizes.length < 2) throw new Error(`inverse-check: ${path} has no fc1.weight (an MLP checkpoint from 'iml train' or the IML trainer is expected)`);
  const side = Math.round(Math.sqrt(sizes[0]!));
  if (side * side !== sizes[0]) throw new Error(`inverse-check: input size ${sizes[0]} is not a square MNIST image; use --problem with your own data`);
  const data = loadDataset('mnist', { imageSize: side, seed: o.seed });
  const rng = new Random(o.seed + 1);
  const names = new MLP(sizes, new Random(0), o.activation, F64).parameters().map((q) => q.name);
  const missingLam = names.filter((n) => !lambdas[n]);
  return {
    description: `checkpoint ${path}: MLP ${sizes.join('-')} (${o.activation}), ${missingLam.length === 0 ? 'λ from the checkpoint' : 'no λ (unregularised)'}, ` +
      `${o.trainSize} train / ${o.valSize} validation MNIST ${side}x${side} samples (seed ${o.seed})`,
    sizes, activation: o.activation, names,
    weights: names.map((n) => {
      if (!weights[n]) throw new Error(`inverse-check: ${path} has no '${n}'`);
      return weights[n]!;
    }),
    lambdas: missingLam.length === 0 ? names.map((n) => (lambdas[n]!.size === 1 ? tensor(lambdas[n]!.dataSync(), [], F64) : lambdas[n]!)) : [],
    train: sampleBatch(data.train, o.trainSize, rng),
    validation: sampleBatch(data.validation, o.valSize, rng),
  };
}

// ---------------------------------------------------------------------------
// The comparison.
// ---------------------------------------------------------------------------

export interface InverseCheckOptions {
  neumann: number[];
  alpha: number;
  cg: number[];
  ridge: number;
  method: 'auto' | ExactMethod;
  damping: number;
  spectrum: 'auto' | 'full' | 'lanczos' | 'none';
  onProgress?: (done: number, total: number) => void;
}

export interface MethodRow {
  method: string;
  /** cos(x, x*) and ||x - x*|| / ||x*|| against the exact solution x*. */
  cosine: number;
  relativeError: number;
  norm: number;
  /** Same for the hypergradient -xᵀ ∂²L_T/∂w∂λ (when there are hyperparameters). */
  hypergradCosine: number | null;
  hypergradRelativeError: number | null;
  ms: number;
  /** Peak JS heap + array-buffer growth during the solve, and peak Wasm bytes (exact only). */
  peakJsBytes: number;
  peakWasmBytes: number;
  hvps: number;
  note: string;
}

export interface InverseCheckResult {
  problem: { description: string; parameters: number; trainLoss: number; valLoss: number; gradNorm: number; valGradNorm: number };
  exact: ExactCurvatureReport & { hessianMs: number; solveMs: number; residual: number; asymmetry: number };
  rows: MethodRow[];
}

/** Samples JS memory (heap + array buffers) to find the peak growth over a baseline. */
class MemoryProbe {
  private readonly base: number;
  peak = 0;
  constructor() {
    (globalThis as { gc?: () => void }).gc?.();
    this.base = MemoryProbe.now();
  }
  static now(): number {
    const proc = (globalThis as { process?: { memoryUsage?: () => { heapUsed: number; arrayBuffers: number } } }).process;
    const m = proc?.memoryUsage?.();
    return m ? m.heapUsed + m.arrayBuffers : 0;
  }
  sample(): void {
    this.peak = Math.max(this.peak, MemoryProbe.now() - this.base);
  }
}

/** Runs the exact solve and every approximation on one problem. */
export async function runInverseCheck(p: InverseCheckProblem, o: InverseCheckOptions): Promise<InverseCheckResult> {
  await initLinalg();
  const model = buildModel(p);
  const { trainLoss, valLoss } = makeLosses(p, model);
  const w = p.weights;
  const lam = p.lambdas;
  const n = w.reduce((s, t) => s + t.size, 0);
  const { value: vl, grads: g } = valueAndGrad(valLoss)(w);
  const op = secondOrderOperator(trainLoss, w, lam);
  const trainValue = op.value.item();

  // Exact.
  resetLinalgPeak();
  const wasmBefore = linalgMemoryStats().bytesInUse;
  const probe = new MemoryProbe();
  const H = exactHessian((ws) => trainLoss(ws, lam), w, {
    onProgress: (d, total) => {
      if (d % 64 === 0 || d === total) probe.sample();
      o.onProgress?.(d, total);
    },
  });
  const solver = ExactHessianSolver.create(H.matrix, { method: o.method, damping: o.damping, spectrum: o.spectrum });
  const sol = solver.solve(flattenTensors(g));
  probe.sample();
  const xStar = unflattenLike(sol.x, g);
  const report = solver.report;
  const wasmPeak = linalgMemoryStats().peakBytesInUse - wasmBefore;
  solver.free();
  H.matrix.free();
  const mixed = (x: VectorList): VectorList | null => (lam.length === 0 ? null : op.mixed(x));
  const hgStar = mixed(xStar);
  const exactMs = H.ms + report.factorMs + report.spectrumMs + sol.ms;

  const row = async (method: string, r: InverseHvpResult, ms: number, mem: MemoryProbe, wasmBytes: number): Promise<MethodRow> => {
    const hg = hgStar ? mixed(r.x) : null;
    const nx = await vnorm(xStar);
    return {
      method,
      cosine: await vcosine(r.x, xStar),
      relativeError: nx === 0 ? NaN : (await vnorm(vsub(r.x, xStar))) / nx,
      norm: await vnorm(r.x),
      hypergradCosine: hg && hgStar ? await vcosine(hg, hgStar) : null,
      hypergradRelativeError: hg && hgStar ? (await vnorm(vsub(hg, hgStar))) / (await vnorm(hgStar)) : null,
      ms,
      peakJsBytes: mem.peak,
      peakWasmBytes: wasmBytes,
      hvps: r.hvps,
      note: r.note,
    };
  };
  const rows: MethodRow[] = [
    await row(
      `exact (${report.method}${report.pseudoInverse ? ' pinv' : ''})`,
      { x: xStar, hvps: n, residuals: [sol.residual], note: `residual ${sol.residual.toExponential(2)}` },
      exactMs, probe, wasmPeak,
    ),
  ];
  const timed = async (name: string, solve: (hvp: (v: VectorList) => VectorList) => InverseHvpResult | Promise<InverseHvpResult>): Promise<void> => {
    const mem = new MemoryProbe();
    const hvp = (v: VectorList): VectorList => {
      const r = op.hvp(v);
      mem.sample();
      return r;
    };
    const t = performance.now();
    let r: InverseHvpResult;
    try {
      r = await solve(hvp);
    } catch (e) {
      rows.push({ method: name, cosine: NaN, relativeError: NaN, norm: NaN, hypergradCosine: null, hypergradRelativeError: null, ms: performance.now() - t, peakJsBytes: mem.peak, peakWasmBytes: 0, hvps: 0, note: `failed: ${(e as Error).message}` });
      return;
    }
    const ms = performance.now() - t;
    mem.sample();
    rows.push(await row(name, r, ms, mem, 0));
  };
  for (const k of o.neumann) await timed(`neumann(${k}, α=${o.alpha})`, (hvp) => neumannInverseHvp(hvp, g, { alpha: o.alpha, steps: k }));
  for (const k of o.cg) await timed(`cg(${k}${o.ridge ? `, ridge=${o.ridge}` : ''})`, (hvp) => cgInverseHvp(hvp, g, { steps: k, ridge: o.ridge }));
  await timed('identity', () => identityInverseHvp(g));

  return {
    problem: { description: p.description, parameters: n, trainLoss: trainValue, valLoss: vl.item(), gradNorm: await vnorm(op.grad), valGradNorm: await vnorm(g) },
    exact: { ...report, notes: [...report.notes], hessianMs: H.ms, solveMs: sol.ms, residual: sol.residual, asymmetry: H.asymmetry },
    rows,
  };
}

// ---------------------------------------------------------------------------
// Output.
// ---------------------------------------------------------------------------

const mib = (b: number): string => (b / 2 ** 20).toFixed(2);
const fmt = (x: number | null, digits = 4): string => (x === null ? '-' : Number.isNaN(x) ? 'NaN' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(digits - 1) : x.toFixed(digits));

export function formatInverseCheck(r: InverseCheckResult): string {
  const e = r.exact;
  const lines: string[] = [];
  lines.push(`problem: ${r.problem.description}`);
  lines.push(`  ${r.problem.parameters} parameters, training loss ${r.problem.trainLoss.toFixed(5)} (||∇|| ${fmt(r.problem.gradNorm)}), validation loss ${r.problem.valLoss.toFixed(5)} (||g|| ${fmt(r.problem.valGradNorm)})`);
  lines.push(`exact: ${e.method}${e.pseudoInverse ? ' (pseudo-inverse)' : ''}${e.damping ? `, damping ${e.damping}` : ''}; ` +
    `λmin ${fmt(e.lambdaMin)}, λmax ${fmt(e.lambdaMax)}, min|λ| ${fmt(e.absLambdaMin)}, cond ${fmt(e.conditionNumber)} (${e.spectrumSource})` +
    `${e.inertia ? `, inertia (+${e.inertia.positive}, -${e.inertia.negative}, 0:${e.inertia.zero})` : ''}${e.rcond1 !== null ? `, rcond₁ ${fmt(e.rcond1)}` : ''}`);
  lines.push(`  Hessian ${(e.hessianMs / 1000).toFixed(2)} s (asymmetry ${fmt(e.asymmetry)}), spectrum ${(e.spectrumMs / 1000).toFixed(2)} s, ` +
    `factor ${(e.factorMs / 1000).toFixed(2)} s, solve ${e.solveMs.toFixed(1)} ms, residual ||Hx-g||/||g|| ${fmt(e.residual)}`);
  for (const note of e.notes) lines.push(`  note: ${note}`);
  lines.push('');
  const head = ['method', 'cos(x, x*)', 'rel. error', '||x||', 'hypergrad cos', 'hypergrad rel. err', 'time (ms)', 'peak MiB (JS + Wasm)', 'HVPs'];
  const body = r.rows.map((m) => [
    m.method, fmt(m.cosine, 6), fmt(m.relativeError), fmt(m.norm), fmt(m.hypergradCosine, 6), fmt(m.hypergradRelativeError),
    m.ms.toFixed(1), `${mib(m.peakJsBytes)} + ${mib(m.peakWasmBytes)}`, String(m.hvps),
  ]);
  lines.push(`| ${head.join(' | ')} |`);
  lines.push(`|${head.map(() => '---').join('|')}|`);
  for (const b of body) lines.push(`| ${b.join(' | ')} |`);
  const failed = r.rows.filter((m) => m.note.startsWith('failed'));
  for (const f of failed) lines.push(`${f.method}: ${f.note}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// Command.
// ---------------------------------------------------------------------------

function intList(name: string) {
  return (v: string): number[] => {
    if (v.trim() === '' || v === 'none') return [];
    return v.split(',').map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} takes comma-separated non-negative integers, got '${v}'`);
      return n;
    });
  };
}

function num(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number >= ${min}, got '${v}'`);
    return n;
  };
}

function posInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got '${v}'`);
    return n;
  };
}

/** Adds `iml inverse-check` to the program. */
export function registerInverseCheck(program: Command): void {
  program
    .command('inverse-check')
    .description('exact H⁻¹g (dense Hessian, Cholesky/LU/eigen in Wasm) vs Neumann, CG and identity: cosine, relative error, norms, time, peak memory')
    .option('--problem <file>', 'problem file (model, weights or checkpoint, λ, train/validation batches; docs/inverse-check.md)')
    .option('--checkpoint <file>', 'MLP weights (and λ named lam:<param>.l2) from an iml checkpoint; data from built-in MNIST')
    .option('--save-problem <file>', 'write the problem (e.g. the built-in one) in the problem-file format')
    .option('--json <file>', 'write the results as JSON')
    .option('--neumann <k,...>', 'Neumann series terms to compare', intList('--neumann'), [3, 10, 20, 50])
    .option('--alpha <x>', 'Neumann step size α', num('--alpha', 0), 0.1)
    .option('--cg <k,...>', 'conjugate-gradient steps to compare', intList('--cg'), [3, 5, 10])
    .option('--ridge <x>', 'CG damping: solve (H + ridge I) x = g', num('--ridge', 0), 0)
    .option('--method <m>', 'exact solver: auto (Cholesky, else LDLᵀ, else eigen pseudo-inverse), cholesky, ldlt, lu or eigen', 'auto')
    .option('--damping <x>', 'exact solve of (H + damping I) x = g', num('--damping', 0), 0)
    .option('--spectrum <s>', 'eigenvalues for the report: auto, full, lanczos or none', 'auto')
    .option('--seed <n>', 'built-in problem: data split, sample choice, initialisation', (v) => Number.parseInt(v, 10), BUILTIN_DEFAULTS.seed)
    .option('--image-size <n>', 'built-in problem: MNIST resized to n x n', posInt('--image-size'), BUILTIN_DEFAULTS.imageSize)
    .option('--hidden <n>', 'built-in problem: hidden units', posInt('--hidden'), BUILTIN_DEFAULTS.hidden)
    .option('--train-size <n>', 'training samples (the Hessian batch)', posInt('--train-size'), BUILTIN_DEFAULTS.trainSize)
    .option('--val-size <n>', 'validation samples', posInt('--val-size'), BUILTIN_DEFAULTS.valSize)
    .option('--train-steps <n>', 'built-in problem: Adam steps before the check', (v) => Number.parseInt(v, 10), BUILTIN_DEFAULTS.trainSteps)
    .option('--lr <x>', 'built-in problem: Adam learning rate', num('--lr', 0), BUILTIN_DEFAULTS.lr)
    .option('--activation <a>', 'relu, tanh or sigmoid (built-in problem and --checkpoint)', BUILTIN_DEFAULTS.activation)
    .option('--no-progress', 'no progress output')
    .action(async (opts) => {
      if (!['auto', 'cholesky', 'ldlt', 'lu', 'eigen'].includes(opts.method)) throw new InvalidArgumentError(`--method must be auto, cholesky, ldlt, lu or eigen, got '${opts.method}'`);
      if (!['auto', 'full', 'lanczos', 'none'].includes(opts.spectrum)) throw new InvalidArgumentError(`--spectrum must be auto, full, lanczos or none, got '${opts.spectrum}'`);
      if (!['relu', 'tanh', 'sigmoid'].includes(opts.activation)) throw new InvalidArgumentError(`--activation must be relu, tanh or sigmoid`);
      const log = (s: string): void => console.error(s);
      const builtin: BuiltinOptions = {
        ...BUILTIN_DEFAULTS, seed: opts.seed, imageSize: opts.imageSize, hidden: opts.hidden, trainSize: opts.trainSize,
        valSize: opts.valSize, trainSteps: opts.trainSteps, lr: opts.lr, activation: opts.activation,
      };
      let problem: InverseCheckProblem;
      if (opts.problem) {
        const text = await fsp.readFile(opts.problem, 'utf8');
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch (e) {
          throw new Error(`${opts.problem}: invalid JSON (${(e as Error).message})`);
        }
        problem = await parseProblem(raw, dirname(resolve(opts.problem)));
        if (opts.checkpoint) throw new Error('give either --problem (which may name a checkpoint) or --checkpoint, not both');
      } else if (opts.checkpoint) {
        problem = await checkpointProblem(opts.checkpoint, builtin);
      } else {
        log('building the built-in problem (MNIST, brief Adam training) ...');
        problem = builtinProblem(builtin, log);
      }
      if (opts.saveProblem) {
        await fsp.writeFile(opts.saveProblem, JSON.stringify(problemToJson(problem)));
        log(`problem written to ${opts.saveProblem}`);
      }
      const n = problem.weights.reduce((s, t) => s + t.size, 0);
      log(`exact Hessian: ${n} x ${n} (${((n * n * 8) / 2 ** 20).toFixed(0)} MiB) ...`);
      let lastPct = -1;
      const result = await runInverseCheck(problem, {
        neumann: opts.neumann, alpha: opts.alpha, cg: opts.cg, ridge: opts.ridge, method: opts.method, damping: opts.damping, spectrum: opts.spectrum,
        onProgress: opts.progress
          ? (d, total) => {
              const pct = Math.floor((100 * d) / total);
              if (pct !== lastPct && pct % 10 === 0) {
                lastPct = pct;
                log(`  Hessian rows ${d}/${total}`);
              }
            }
          : undefined,
      });
      console.log(formatInverseCheck(result));
      if (opts.json) {
        await fsp.writeFile(opts.json, JSON.stringify(result, null, 2));
        log(`results written to ${opts.json}`);
      }
    });
}
