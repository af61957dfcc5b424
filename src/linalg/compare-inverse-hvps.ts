// `iml inverse-check`: exact H⁻¹g on a real problem against the Neumann, CG and identity approximations (accuracy, time, memory).

import { promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, uniqueIntList } from './options.js';
import { readJsonFile } from '../util/read-json.js';
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
  if (c.imageSize > 28) throw new Error(`inverse-check: --image-size ${c.imageSize} is larger than MNIST's 28x28 images`);
  checkParameterCount('inverse-check: the built-in problem (--image-size, --hidden)', [c.imageSize * c.imageSize, c.hidden, 10]);
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

/**
 * The most parameters `iml inverse-check` accepts: the exact path keeps the dense n×n float64 Hessian and one
 * factor copy in Wasm memory (16·n² bytes, 3.4 GiB at 15000), and wasm32 memories end at 4 GiB.
 */
export const MAX_PARAMETERS = 15000;

const TOO_LARGE = `inverse-check handles at most ${MAX_PARAMETERS} parameters (the exact solve keeps the dense n×n Hessian and a factor, 16·n² bytes, in the 4 GiB wasm32 memory)`;

/** Parameter names and shapes of an MLP with these layer sizes (the order of the flattened Hessian). */
export function mlpParameterShapes(sizes: readonly number[]): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [];
  for (let k = 1; k < sizes.length; k++) {
    out.push({ name: `fc${k}.weight`, shape: [sizes[k]!, sizes[k - 1]!] }, { name: `fc${k}.bias`, shape: [sizes[k]!] });
  }
  return out;
}

/** Throws when an MLP with these sizes has more than MAX_PARAMETERS parameters (`where` names the source). */
export function checkParameterCount(where: string, sizes: readonly number[]): number {
  const n = mlpParameterShapes(sizes).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  if (n > MAX_PARAMETERS) throw new Error(`${where}: an MLP ${sizes.join('-')} has ${n} parameters; ${TOO_LARGE}`);
  return n;
}

const show = (v: unknown): string =>
  v === null ? 'null' : v === undefined ? 'missing' : typeof v === 'string' ? `the string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...` : v)}`
    : typeof v === 'number' ? String(v) : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : String(v);

const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Copies finite numbers into `out` from `at`, naming the first bad element by its path. */
function finiteInto(path: (i: number) => string, values: readonly unknown[], out: Float64Array, at: number): void {
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new Error(`${path(i)} is ${show(x)}${typeof x === 'number' ? ' (out of range?)' : ''}, expected a finite number`);
    }
    out[at + i] = x;
  }
}

/**
 * A tensor of exactly `expected` shape from {shape, data}, a nested array or (for a scalar) a number; the shape is
 * checked before any data is read or allocated, and every element must be a finite number. `where` is the field's path.
 */
function tensorFromJson(where: string, v: unknown, expected: readonly number[], scalarOk = false): Tensor {
  const size = expected.reduce((a, b) => a * b, 1);
  if (typeof v === 'number' || v === null || typeof v === 'string' || typeof v === 'boolean') {
    if (!(scalarOk || size === 1)) throw new Error(`${where} is ${show(v)}, expected a tensor of shape ${shapeText(expected)}`);
    const out = new Float64Array(1);
    finiteInto(() => where, [v], out, 0);
    return tensor(out, scalarOk ? [] : [...expected], F64);
  }
  if (Array.isArray(v)) {
    // Nested arrays: walk the expected shape, naming the first element that does not fit.
    const out = new Float64Array(size);
    let at = 0;
    const walk = (a: unknown, depth: number, path: string): void => {
      if (depth === expected.length) {
        finiteInto(() => path, [a], out, at++);
        return;
      }
      if (!Array.isArray(a)) throw new Error(`${path} is ${show(a)}, expected an array of ${expected[depth]} (shape ${shapeText(expected)})`);
      if (a.length !== expected[depth]) throw new Error(`${path} has ${a.length} entries, expected ${expected[depth]} (shape ${shapeText(expected)})`);
      if (depth === expected.length - 1) {
        finiteInto((i) => `${path}[${i}]`, a, out, at);
        at += a.length;
      } else {
        a.forEach((x, i) => walk(x, depth + 1, `${path}[${i}]`));
      }
    };
    walk(v, 0, where);
    return tensor(out, scalarOk ? [] : [...expected], F64);
  }
  const t = v as Partial<TensorJson> | undefined;
  if (!t || typeof t !== 'object') throw new Error(`${where} is ${show(v)}, expected {"shape", "data"}, a nested array or a number`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    throw new Error(`${where}.shape must be an array of non-negative integers, got ${JSON.stringify(t.shape) ?? 'nothing'}`);
  }
  const same = t.shape.length === expected.length && t.shape.every((d, i) => d === expected[i]);
  const scalarLike = scalarOk && t.shape.reduce((a: number, b: number) => a * b, 1) === 1;
  if (!same && !scalarLike) throw new Error(`${where}.shape is ${shapeText(t.shape)}, expected ${shapeText(expected)}`);
  if (!Array.isArray(t.data)) throw new Error(`${where}.data is ${show(t.data)}, expected an array of numbers`);
  const n = t.shape.reduce((a: number, b: number) => a * b, 1);
  if (t.data.length !== n) throw new Error(`${where}.data has ${t.data.length} values, shape ${shapeText(t.shape)} needs ${n}`);
  const out = new Float64Array(n);
  finiteInto((i) => `${where}.data[${i}]`, t.data, out, 0);
  return tensor(out, scalarLike ? [] : [...expected], F64);
}

function tensorToJson(t: Tensor): TensorJson {
  return { shape: [...t.shape], data: Array.from(t.dataSync()) };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * Parses a problem file's JSON (a checkpoint named in it is loaded relative to `baseDir`); `source` (the file's
 * path) starts every error, which names the field at fault. Sizes and the parameter limit are checked first,
 * then every shape against them before its data is read.
 */
export async function parseProblem(raw: unknown, baseDir = '.', source = 'problem file'): Promise<InverseCheckProblem> {
  const where = source;
  if (!isRecord(raw) || raw.format !== PROBLEM_FORMAT) throw new Error(`${where}: "format" must be "${PROBLEM_FORMAT}"`);
  const o = raw;
  if (o.version !== undefined && o.version !== 1) throw new Error(`${where}: version is ${show(o.version)}, expected 1`);
  if (o.description !== undefined && typeof o.description !== 'string') throw new Error(`${where}: description is ${show(o.description)}, expected a string`);
  const model = o.model;
  if (!isRecord(model) || model.type !== 'mlp' || !Array.isArray(model.sizes) || model.sizes.length < 2) {
    throw new Error(`${where}: "model" must be {"type": "mlp", "sizes": [in, ..., classes], "activation"?}`);
  }
  model.sizes.forEach((s, i) => {
    if (!Number.isInteger(s) || (s as number) <= 0) throw new Error(`${where}: model.sizes[${i}] is ${show(s)}, expected a positive integer`);
  });
  const sizes = model.sizes as number[];
  const activation = (model.activation ?? 'relu') as Activation;
  if (!['relu', 'tanh', 'sigmoid'].includes(activation)) throw new Error(`${where}: model.activation is ${show(model.activation)}, expected "relu", "tanh" or "sigmoid"`);
  checkParameterCount(`${where}: model.sizes`, sizes);
  const params = mlpParameterShapes(sizes);
  const names = params.map((q) => q.name);
  const shapeOf = new Map(params.map((q) => [q.name, q.shape]));
  const named: Record<string, Tensor> = {};
  let lambdasFromCheckpoint: Record<string, Tensor> = {};
  if (o.checkpoint !== undefined) {
    if (typeof o.checkpoint !== 'string') throw new Error(`${where}: checkpoint is ${show(o.checkpoint)}, expected a path`);
    const path = resolve(baseDir, o.checkpoint);
    const ck = await readCheckpointParams(path);
    for (const name of names) {
      const t = ck.weights[name];
      if (t && t.shape.join('x') !== shapeOf.get(name)!.join('x')) {
        throw new Error(`${where}: checkpoint ${o.checkpoint}: '${name}' has shape ${shapeText(t.shape)}, model.sizes ${shapeText(sizes)} needs ${shapeText(shapeOf.get(name)!)}`);
      }
      if (t) named[name] = t;
    }
    lambdasFromCheckpoint = ck.lambdas;
  }
  if (o.weights !== undefined) {
    if (!isRecord(o.weights)) throw new Error(`${where}: weights is ${show(o.weights)}, expected an object {name: tensor}`);
    for (const [k, v] of Object.entries(o.weights)) {
      if (!shapeOf.has(k)) throw new Error(`${where}: weights.${k} is not a parameter of the MLP ${sizes.join('-')} (its parameters: ${names.join(', ')})`);
      named[k] = tensorFromJson(`${where}: weights.${k}`, v, shapeOf.get(k)!);
    }
  }
  const missing = names.filter((n) => !has(named, n));
  if (missing.length > 0) throw new Error(`${where}: no weights for ${missing.join(', ')} (give "weights" or "checkpoint")`);
  const weights = names.map((n) => named[n]!);
  const reg = o.regularizer ?? { type: 'none' };
  if (!isRecord(reg)) throw new Error(`${where}: regularizer is ${show(reg)}, expected {"type", "lambdas"?}`);
  let lambdas: Tensor[] = [];
  if (reg.type === 'per-parameter-l2' || reg.type === 'per-tensor-l2') {
    const perTensor = reg.type === 'per-tensor-l2';
    const given = reg.lambdas ?? {};
    if (!isRecord(given)) throw new Error(`${where}: regularizer.lambdas is ${show(reg.lambdas)}, expected an object {name: tensor}`);
    for (const k of Object.keys(given)) {
      if (!shapeOf.has(k)) throw new Error(`${where}: regularizer.lambdas.${k} is not a parameter of the MLP ${sizes.join('-')} (its parameters: ${names.join(', ')})`);
    }
    lambdas = names.map((n) => {
      const field = `${where}: regularizer.lambdas.${n}`;
      if (has(given, n)) return tensorFromJson(field, given[n], perTensor ? [1] : shapeOf.get(n)!, perTensor);
      const t = has(lambdasFromCheckpoint, n) ? lambdasFromCheckpoint[n] : undefined;
      if (!t) throw new Error(`${where}: no λ for '${n}' (regularizer.lambdas.${n}, or lam:${n}.l2 in the checkpoint)`);
      const ok = perTensor ? t.size === 1 : t.shape.join('x') === shapeOf.get(n)!.join('x');
      if (!ok) throw new Error(`${where}: checkpoint λ for '${n}' has shape ${shapeText(t.shape)}, expected ${perTensor ? 'a scalar' : shapeText(shapeOf.get(n)!)}`);
      const data = t.dataSync();
      for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) throw new Error(`${where}: checkpoint λ for '${n}' has a non-finite value at ${i}`);
      return t.size === 1 && t.shape.length > 0 ? tensor(data, [], F64) : t;
    });
  } else if (reg.type !== 'none') {
    throw new Error(`${where}: regularizer.type is ${show(reg.type)}, expected "per-parameter-l2", "per-tensor-l2" or "none"`);
  }
  const inputs = sizes[0]!;
  const classes = sizes[sizes.length - 1]!;
  const batch = (key: 'train' | 'validation'): { x: Tensor; y: number[] } => {
    const b = o[key];
    if (!isRecord(b) || !Array.isArray(b.y)) throw new Error(`${where}: "${key}" must be {"x": tensor [N, ${inputs}], "y": [labels]}`);
    const y = b.y as unknown[];
    if (y.length === 0) throw new Error(`${where}: ${key}.y is empty; the ${key === 'train' ? 'training batch (which defines H)' : 'validation batch (which defines g)'} needs at least one sample`);
    y.forEach((c, i) => {
      if (!Number.isInteger(c) || (c as number) < 0 || (c as number) >= classes) {
        throw new Error(`${where}: ${key}.y[${i}] is ${show(c)}, expected a class in [0, ${classes})`);
      }
    });
    const rows = Array.isArray(b.x) ? b.x.length : isRecord(b.x) && Array.isArray(b.x.shape) ? b.x.shape[0] : undefined;
    if (typeof rows === 'number' && rows !== y.length) throw new Error(`${where}: ${key}.x has ${rows} rows but ${key}.y has ${y.length} labels`);
    const x = tensorFromJson(`${where}: ${key}.x`, b.x, [y.length, inputs]);
    return { x, y: y as number[] };
  };
  const train = batch('train');
  const validation = batch('validation');
  return {
    description: typeof o.description === 'string' ? o.description : 'problem file',
    sizes, activation, names, weights, lambdas, train, validation,
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
  checkParameterCount(`inverse-check: ${path}`, sizes);
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
  /** CG rows: the iterate returned (of how many), its relative residual ||b - Ax||/||b||, and whether it is the best-residual or the last one. */
  iterate: { returned: number; iterations: number; residual: number; choice: 'best' | 'last' } | null;
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
  const count = p.weights.reduce((s, t) => s + t.size, 0);
  if (count > MAX_PARAMETERS) throw new Error(`inverse-check: the problem has ${count} parameters; ${TOO_LARGE}`);
  if (p.train.y.length === 0) throw new Error('inverse-check: the training batch is empty (it defines H)');
  if (p.validation.y.length === 0) throw new Error('inverse-check: the validation batch is empty (it defines g)');
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
      iterate: r.iterate ?? null,
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
      rows.push({ method: name, cosine: NaN, relativeError: NaN, norm: NaN, hypergradCosine: null, hypergradRelativeError: null, ms: performance.now() - t, peakJsBytes: mem.peak, peakWasmBytes: 0, hvps: 0, note: `failed: ${(e as Error).message}`, iterate: null });
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

/** '7 of 10, best residual 1.2e-3' (an earlier iterate had the smallest residual) or '10 of 10, last, residual ...'; '-' for other methods. */
export function iterateText(it: MethodRow['iterate']): string {
  if (!it) return '-';
  return `${it.returned} of ${it.iterations}, ${it.choice === 'best' ? 'best' : 'last'}, residual ${fmt(it.residual)}`;
}

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
  const head = ['method', 'cos(x, x*)', 'rel. error', '||x||', 'hypergrad cos', 'hypergrad rel. err', 'time (ms)', 'peak MiB (JS + Wasm)', 'HVPs', 'CG iterate returned'];
  const body = r.rows.map((m) => [
    m.method, fmt(m.cosine, 6), fmt(m.relativeError), fmt(m.norm), fmt(m.hypergradCosine, 6), fmt(m.hypergradRelativeError),
    m.ms.toFixed(1), `${mib(m.peakJsBytes)} + ${mib(m.peakWasmBytes)}`, String(m.hvps), iterateText(m.iterate),
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

/** A comma list of distinct non-negative integers; '' or 'none' is the empty list. */
function intList(name: string) {
  const parse = uniqueIntList(name);
  return (v: string): number[] => (v.trim() === '' || v.trim() === 'none' ? [] : parse(v));
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
    .option('--alpha <x>', 'Neumann step size α', positiveNumber('--alpha'), 0.1)
    .option('--cg <k,...>', 'conjugate-gradient steps to compare', intList('--cg'), [3, 5, 10])
    .option('--ridge <x>', 'CG damping: solve (H + ridge I) x = g', nonNegativeNumber('--ridge'), 0)
    .option('--method <m>', 'exact solver: auto (Cholesky, else LDLᵀ, else eigen pseudo-inverse), cholesky, ldlt, lu or eigen', 'auto')
    .option('--damping <x>', 'exact solve of (H + damping I) x = g', nonNegativeNumber('--damping'), 0)
    .option('--spectrum <s>', 'eigenvalues for the report: auto, full, lanczos or none', 'auto')
    .option('--seed <n>', 'built-in problem: data split, sample choice, initialisation', nonNegativeInt('--seed'), BUILTIN_DEFAULTS.seed)
    .option('--image-size <n>', 'built-in problem: MNIST resized to n x n', positiveInt('--image-size'), BUILTIN_DEFAULTS.imageSize)
    .option('--hidden <n>', 'built-in problem: hidden units', positiveInt('--hidden'), BUILTIN_DEFAULTS.hidden)
    .option('--train-size <n>', 'training samples (the Hessian batch)', positiveInt('--train-size'), BUILTIN_DEFAULTS.trainSize)
    .option('--val-size <n>', 'validation samples', positiveInt('--val-size'), BUILTIN_DEFAULTS.valSize)
    .option('--train-steps <n>', 'built-in problem: Adam steps before the check', nonNegativeInt('--train-steps'), BUILTIN_DEFAULTS.trainSteps)
    .option('--lr <x>', 'built-in problem: Adam learning rate', positiveNumber('--lr'), BUILTIN_DEFAULTS.lr)
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
        if (opts.checkpoint) throw new Error('give either --problem (which may name a checkpoint) or --checkpoint, not both');
        problem = await parseProblem(readJsonFile(opts.problem), dirname(resolve(opts.problem)), opts.problem);
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
