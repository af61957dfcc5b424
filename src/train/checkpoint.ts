// The checkpoint format (portable): one JSON text, everything in it under one SHA-256, tensors as little-endian base64; files: src/node/checkpoint-file.ts.

import type { Backend } from '../backend/backend.js';
import { tensor } from '../core/creation.js';
import type { DType, TypedArray } from '../core/dtype.js';
import { formatShape, shapesEqual, sizeOf } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import type { OptimizerState, ParamRef, ParamStateDict } from '../optim/optimizer.js';
import { decodeBase64, encodeBase64 } from '../util/base64.js';
import { sha256Hex } from '../util/sha256.js';

export const CHECKPOINT_FORMAT = 'iml-checkpoint';
/**
 * Version 2 puts the whole content (tensors, optimizer states and hyperparameters, step, meta) under one
 * SHA-256; version 1 checksummed the tensors only and is still read (`checksummed: 'tensors'`).
 */
export const CHECKPOINT_VERSION = 2;

/** What saveCheckpoint writes: parameters by name (a record or ParamRef list), optimizer state, step, free metadata. */
export interface CheckpointInput {
  params: Readonly<Record<string, Tensor>> | readonly ParamRef[];
  optimizer?: OptimizerState;
  /** Further optimizers by name (e.g. the meta optimizer of an IML run), stored like `optimizer`. */
  optimizers?: Readonly<Record<string, OptimizerState>>;
  step: number;
  /** Any JSON-serialisable value (run configuration, metrics, ...). */
  meta?: unknown;
}

/** What loadCheckpoint returns. */
export interface Checkpoint {
  params: Record<string, Tensor>;
  optimizer?: OptimizerState;
  optimizers?: Record<string, OptimizerState>;
  step: number;
  meta?: unknown;
  /** What the file's checksums cover: everything (version 2), or only the tensors (version 1 files). */
  checksummed?: 'all' | 'tensors';
}

/** A tensor inside the file: dtype, shape, SHA-256 of the bytes and the little-endian bytes in base64. */
interface EncodedTensor {
  dtype: DType;
  shape: number[];
  sha256: string;
  data: string;
}

interface EncodedOptimizer extends Omit<OptimizerState, 'params'> {
  params: Record<string, { shape: number[]; dtype: DType; buffers: Record<string, EncodedTensor> }>;
}

interface CheckpointContent {
  step: number;
  params: Record<string, EncodedTensor>;
  optimizer?: EncodedOptimizer;
  optimizers?: Record<string, EncodedOptimizer>;
  meta?: unknown;
}

/** Version 2: the content and the SHA-256 of its JSON text (JSON.stringify of the parsed content reproduces it). */
interface CheckpointFile {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  sha256: string;
  content: CheckpointContent;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const BYTES: Record<DType, number> = { float32: 4, float64: 8 };
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function toLittleEndianBytes(data: TypedArray): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(i * 4, data[i], true);
    else view.setFloat64(i * 8, data[i], true);
  }
  return out;
}

function fromLittleEndianBytes(bytes: Uint8Array, dtype: DType): TypedArray {
  const n = bytes.length / BYTES[dtype];
  const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = dtype === 'float32' ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
  return out;
}

async function encode(data: TypedArray, dtype: DType, shape: readonly number[]): Promise<EncodedTensor> {
  const bytes = toLittleEndianBytes(data);
  return { dtype, shape: [...shape], sha256: await sha256Hex(bytes), data: encodeBase64(bytes) };
}

function asRecord(where: string, params: CheckpointInput['params']): [string, Tensor][] {
  const entries: [string, Tensor][] = Array.isArray(params)
    ? (params as readonly ParamRef[]).map((p) => [p.name, p.value])
    : Object.entries(params as Record<string, Tensor>);
  const seen = new Set<string>();
  for (const [name, t] of entries) {
    if (typeof name !== 'string' || name === '') throw new Error(`${where}: parameter names must be non-empty strings`);
    if (seen.has(name)) throw new Error(`${where}: parameter name '${name}' appears twice`);
    seen.add(name);
    if (!(t instanceof Tensor)) throw new Error(`${where}: parameter '${name}' is not a Tensor`);
  }
  return entries;
}

/**
 * The checkpoint file's text for `ckpt` (tensors are read with `await t.data()`, any backend). `where` starts
 * every error message (e.g. the file it is meant for). Numbers JSON cannot hold are refused.
 */
export async function encodeCheckpoint(ckpt: CheckpointInput, where = 'encodeCheckpoint'): Promise<string> {
  if (ckpt === null || typeof ckpt !== 'object') throw new Error(`${where}: expected {params, step, optimizer?, meta?}`);
  if (!Number.isInteger(ckpt.step) || ckpt.step < 0) throw new Error(`${where}: step must be an integer >= 0, got ${String(ckpt.step)}`);
  const params: [string, EncodedTensor][] = [];
  for (const [name, t] of asRecord(where, ckpt.params)) params.push([name, await encode(await t.data(), t.dtype, t.shape)]);
  const content: CheckpointContent = { step: ckpt.step, params: Object.fromEntries(params) };
  if (ckpt.optimizer !== undefined) content.optimizer = await encodeOptimizer(where, ckpt.optimizer);
  if (ckpt.optimizers !== undefined) {
    const entries: [string, EncodedOptimizer][] = [];
    for (const [k, o] of Object.entries(ckpt.optimizers)) entries.push([k, await encodeOptimizer(`${where}: optimizer '${k}'`, o)]);
    content.optimizers = Object.fromEntries(entries);
  }
  if (ckpt.meta !== undefined) content.meta = ckpt.meta;
  let body: string;
  try {
    // Numbers that JSON cannot hold (NaN, ±Infinity) would come back as null and change the run: refuse them.
    body = JSON.stringify(content, function (this: unknown, key: string, v: unknown) {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`field '${key}' is ${v}, which JSON cannot hold`);
      return v;
    });
  } catch (e) {
    throw new Error(`${where}: cannot serialise the checkpoint (nothing was written): ${(e as Error).message}`, { cause: e });
  }
  // The checksum covers the content's JSON text; loading re-serialises the parsed content to check it.
  return `{"format":${JSON.stringify(CHECKPOINT_FORMAT)},"version":${CHECKPOINT_VERSION},"sha256":"${await sha256Hex(body)}","content":${body}}`;
}

async function encodeOptimizer(where: string, state: OptimizerState): Promise<EncodedOptimizer> {
  if (state === null || typeof state !== 'object' || state.params === null || typeof state.params !== 'object') {
    throw new Error(`${where}: optimizer state is malformed (use optimizer.stateDict())`);
  }
  const params: [string, EncodedOptimizer['params'][string]][] = [];
  for (const [name, ps] of Object.entries(state.params)) {
    const n = sizeOf(ps.shape);
    const buffers: [string, EncodedTensor][] = [];
    for (const [b, arr] of Object.entries(ps.buffers)) {
      if (arr.length !== n) throw new Error(`${where}: optimizer buffer '${b}' of '${name}' has ${arr.length} values for shape ${formatShape(ps.shape)}`);
      const typed = ps.dtype === 'float32' ? Float32Array.from(arr) : Float64Array.from(arr);
      buffers.push([b, await encode(typed, ps.dtype, ps.shape)]);
    }
    params.push([name, { shape: [...ps.shape], dtype: ps.dtype, buffers: Object.fromEntries(buffers) }]);
  }
  return { ...state, params: Object.fromEntries(params) };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

async function decode(where: string, what: string, rec: unknown): Promise<{ data: TypedArray; dtype: DType; shape: number[] }> {
  if (!isObject(rec)) throw new Error(`${where}: ${what} is not a tensor record`);
  const { dtype, shape, data, sha256 } = rec;
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`${where}: ${what} has unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${where}: ${what} has an invalid shape`);
  if (typeof data !== 'string' || data.length % 4 !== 0 || !BASE64.test(data)) throw new Error(`${where}: ${what} has corrupt base64 data`);
  const bytes = decodeBase64(data);
  const expected = sizeOf(shape as number[]) * BYTES[dtype];
  if (bytes.length !== expected) {
    throw new Error(`${where}: ${what} holds ${bytes.length} bytes, ${formatShape(shape as number[])}:${dtype} needs ${expected}`);
  }
  if (typeof sha256 !== 'string' || (await sha256Hex(bytes)) !== sha256) {
    throw new Error(`${where}: ${what} fails its checksum (the file is corrupt)`);
  }
  return { data: fromLittleEndianBytes(bytes, dtype), dtype, shape: shape as number[] };
}

async function decodeOptimizer(where: string, raw: unknown): Promise<OptimizerState> {
  if (!isObject(raw) || !isObject(raw.params)) throw new Error(`${where}: optimizer state is malformed`);
  const params: [string, ParamStateDict][] = [];
  for (const [name, ps] of Object.entries(raw.params)) {
    if (!isObject(ps) || !isObject(ps.buffers)) throw new Error(`${where}: optimizer entry for '${name}' is malformed`);
    const buffers: [string, number[]][] = [];
    for (const [b, rec] of Object.entries(ps.buffers)) {
      const t = await decode(where, `optimizer buffer '${b}' of '${name}'`, rec);
      buffers.push([b, Array.from(t.data)]);
    }
    params.push([name, { shape: ps.shape as number[], dtype: ps.dtype as DType, buffers: Object.fromEntries(buffers) }]);
  }
  return { ...(raw as unknown as OptimizerState), params: Object.fromEntries(params) };
}

export interface LoadCheckpointOptions {
  /** Backend for the restored tensors (default: the current backend). */
  backend?: Backend;
}

/**
 * Parses a checkpoint's text (from encodeCheckpoint or a checkpoint file). Truncated or corrupt text (bad JSON,
 * bad base64, wrong byte count, checksum mismatch) or an unsupported version throws an error starting with `where`.
 */
export async function decodeCheckpoint(text: string, opts: LoadCheckpointOptions = {}, where = 'decodeCheckpoint'): Promise<Checkpoint> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: the file is truncated or corrupt (invalid JSON: ${(e as Error).message})`, { cause: e });
  }
  if (!isObject(raw) || raw.format !== CHECKPOINT_FORMAT) throw new Error(`${where}: not an ${CHECKPOINT_FORMAT} file`);
  let body: Record<string, unknown>;
  let checksummed: 'all' | 'tensors';
  if (raw.version === CHECKPOINT_VERSION) {
    if (typeof raw.sha256 !== 'string' || !isObject(raw.content)) throw new Error(`${where}: missing content or checksum (the file is corrupt)`);
    if ((await sha256Hex(JSON.stringify(raw.content))) !== raw.sha256) {
      throw new Error(`${where}: fails its checksum: the file was modified or is corrupt (refusing to resume from it)`);
    }
    body = raw.content;
    checksummed = 'all';
  } else if (raw.version === 1) {
    body = raw;
    checksummed = 'tensors';
  } else {
    throw new Error(`${where}: unsupported checkpoint version ${JSON.stringify(raw.version)} (this build reads versions 1 and ${CHECKPOINT_VERSION})`);
  }
  if (!Number.isInteger(body.step) || (body.step as number) < 0) throw new Error(`${where}: invalid step ${JSON.stringify(body.step)}`);
  if (!isObject(body.params)) throw new Error(`${where}: missing params`);
  const params: [string, Tensor][] = [];
  for (const [name, rec] of Object.entries(body.params)) {
    const t = await decode(where, `parameter '${name}'`, rec);
    params.push([name, tensor(t.data, t.shape, { dtype: t.dtype, backend: opts.backend })]);
  }
  const out: Checkpoint = { params: Object.fromEntries(params), step: body.step as number, checksummed };
  if (body.optimizer !== undefined) out.optimizer = await decodeOptimizer(where, body.optimizer);
  if (body.optimizers !== undefined) {
    if (!isObject(body.optimizers)) throw new Error(`${where}: optimizers is malformed`);
    const entries: [string, OptimizerState][] = [];
    for (const [k, o] of Object.entries(body.optimizers)) entries.push([k, await decodeOptimizer(`${where}: optimizer '${k}'`, o)]);
    out.optimizers = Object.fromEntries(entries);
  }
  if (Object.hasOwn(body, 'meta')) out.meta = body.meta;
  return out;
}

/**
 * Sets each ref's value to the checkpoint's tensor of the same name. The names must match exactly and
 * every shape and dtype must agree; all checks run before any ref changes.
 */
export function restoreParams(refs: readonly ParamRef[], checkpoint: Pick<Checkpoint, 'params'>): void {
  const where = 'restoreParams';
  const saved = checkpoint.params;
  const names = new Set(refs.map((r) => r.name));
  const missing = refs.filter((r) => !Object.hasOwn(saved, r.name)).map((r) => `'${r.name}'`);
  const unexpected = Object.keys(saved).filter((n) => !names.has(n)).map((n) => `'${n}'`);
  if (missing.length > 0 || unexpected.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing from the checkpoint: ${missing.join(', ')}`);
    if (unexpected.length > 0) parts.push(`not among the parameters: ${unexpected.join(', ')}`);
    throw new Error(`${where}: parameter names differ (${parts.join('; ')})`);
  }
  for (const r of refs) {
    const t = saved[r.name];
    if (!shapesEqual(t.shape, r.value.shape)) {
      throw new Error(`${where}: parameter '${r.name}' has shape ${formatShape(t.shape)} in the checkpoint but ${formatShape(r.value.shape)} in the model`);
    }
    if (t.dtype !== r.value.dtype) throw new Error(`${where}: parameter '${r.name}' is ${t.dtype} in the checkpoint but ${r.value.dtype} in the model`);
  }
  for (const r of refs) r.value = saved[r.name];
}
