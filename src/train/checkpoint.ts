// Training checkpoints: one JSON file, everything in it under one SHA-256 (tensors as little-endian base64), written atomically via tmp + rename.

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { tensor } from '../core/creation.js';
import type { DType, TypedArray } from '../core/dtype.js';
import { formatShape, shapesEqual, sizeOf } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import type { OptimizerState, ParamRef, ParamStateDict } from '../optim/optimizer.js';

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

function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const BYTES: Record<DType, number> = { float32: 4, float64: 8 };
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function toLittleEndianBytes(data: TypedArray): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out = Buffer.alloc(data.byteLength);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(i * 4, data[i], true);
    else view.setFloat64(i * 8, data[i], true);
  }
  return out;
}

function fromLittleEndianBytes(bytes: Buffer, dtype: DType): TypedArray {
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

function encode(data: TypedArray, dtype: DType, shape: readonly number[]): EncodedTensor {
  const bytes = toLittleEndianBytes(data);
  return { dtype, shape: [...shape], sha256: createHash('sha256').update(bytes).digest('hex'), data: bytes.toString('base64') };
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
 * Writes a checkpoint to `path` atomically: the whole file is serialised first, written to
 * `path.tmp-<pid>`, flushed to disk and renamed over `path`, so a failed or interrupted save leaves any
 * previous checkpoint at `path` intact. Tensors are read with `await t.data()` (any backend).
 */
export async function saveCheckpoint(path: string, ckpt: CheckpointInput): Promise<void> {
  const where = `saveCheckpoint(${path})`;
  const text = await encodeCheckpoint(ckpt, where);
  const tmp = `${path}.tmp-${process.pid}`;
  let created = false;
  try {
    const handle = await fsp.open(tmp, 'w');
    created = true;
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, path);
    created = false;
  } catch (e) {
    if (created) await fsp.unlink(tmp).catch(() => undefined);
    throw new Error(`${where}: write failed, the previous file (if any) is unchanged: ${(e as Error).message}`, { cause: e });
  }
  await syncDirectory(dirname(path));
}

/**
 * The text of a checkpoint file (what saveCheckpoint writes), for stores other than a file: everything under
 * one SHA-256, tensors read with `await t.data()`. `where` names the destination in errors.
 */
export async function encodeCheckpoint(ckpt: CheckpointInput, where = 'encodeCheckpoint'): Promise<string> {
  if (ckpt === null || typeof ckpt !== 'object') throw new Error(`${where}: expected {params, step, optimizer?, meta?}`);
  if (!Number.isInteger(ckpt.step) || ckpt.step < 0) throw new Error(`${where}: step must be an integer >= 0, got ${String(ckpt.step)}`);
  const params: [string, EncodedTensor][] = [];
  for (const [name, t] of asRecord(where, ckpt.params)) params.push([name, encode(await t.data(), t.dtype, t.shape)]);
  const content: CheckpointContent = { step: ckpt.step, params: Object.fromEntries(params) };
  if (ckpt.optimizer !== undefined) content.optimizer = encodeOptimizer(where, ckpt.optimizer);
  if (ckpt.optimizers !== undefined) {
    content.optimizers = Object.fromEntries(Object.entries(ckpt.optimizers).map(([k, o]) => [k, encodeOptimizer(`${where}: optimizer '${k}'`, o)]));
  }
  if (ckpt.meta !== undefined) content.meta = ckpt.meta;
  let text: string;
  try {
    // Numbers that JSON cannot hold (NaN, ±Infinity) would come back as null and change the run: refuse them.
    const body = JSON.stringify(content, function (this: unknown, key: string, v: unknown) {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`field '${key}' is ${v}, which JSON cannot hold`);
      return v;
    });
    // The checksum covers the content's JSON text; loading re-serialises the parsed content to check it.
    text = `{"format":${JSON.stringify(CHECKPOINT_FORMAT)},"version":${CHECKPOINT_VERSION},"sha256":"${sha256Hex(body)}","content":${body}}`;
  } catch (e) {
    throw new Error(`${where}: cannot serialise the checkpoint (nothing was written): ${(e as Error).message}`, { cause: e });
  }
  return text;
}

/** Best-effort fsync of the directory so the rename itself survives a crash (not possible on every platform). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const h = await fsp.open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // Directories cannot be opened or synced on some platforms (Windows); the data itself is already synced.
  }
}

function encodeOptimizer(where: string, state: OptimizerState): EncodedOptimizer {
  if (state === null || typeof state !== 'object' || state.params === null || typeof state.params !== 'object') {
    throw new Error(`${where}: optimizer state is malformed (use optimizer.stateDict())`);
  }
  const params = Object.entries(state.params).map(([name, ps]): [string, EncodedOptimizer['params'][string]] => {
    const n = sizeOf(ps.shape);
    const buffers = Object.entries(ps.buffers).map(([b, arr]): [string, EncodedTensor] => {
      if (arr.length !== n) throw new Error(`${where}: optimizer buffer '${b}' of '${name}' has ${arr.length} values for shape ${formatShape(ps.shape)}`);
      const typed = ps.dtype === 'float32' ? Float32Array.from(arr) : Float64Array.from(arr);
      return [b, encode(typed, ps.dtype, ps.shape)];
    });
    return [name, { shape: [...ps.shape], dtype: ps.dtype, buffers: Object.fromEntries(buffers) }];
  });
  return { ...state, params: Object.fromEntries(params) };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function decode(where: string, what: string, rec: unknown): { data: TypedArray; dtype: DType; shape: number[] } {
  if (!isObject(rec)) throw new Error(`${where}: ${what} is not a tensor record`);
  const { dtype, shape, data, sha256 } = rec;
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`${where}: ${what} has unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${where}: ${what} has an invalid shape`);
  if (typeof data !== 'string' || data.length % 4 !== 0 || !BASE64.test(data)) throw new Error(`${where}: ${what} has corrupt base64 data`);
  const bytes = Buffer.from(data, 'base64');
  const expected = sizeOf(shape as number[]) * BYTES[dtype];
  if (bytes.length !== expected) {
    throw new Error(`${where}: ${what} holds ${bytes.length} bytes, ${formatShape(shape as number[])}:${dtype} needs ${expected}`);
  }
  if (typeof sha256 !== 'string' || createHash('sha256').update(bytes).digest('hex') !== sha256) {
    throw new Error(`${where}: ${what} fails its checksum (the file is corrupt)`);
  }
  return { data: fromLittleEndianBytes(bytes, dtype), dtype, shape: shape as number[] };
}

function decodeOptimizer(where: string, raw: unknown): OptimizerState {
  if (!isObject(raw) || !isObject(raw.params)) throw new Error(`${where}: optimizer state is malformed`);
  const params = Object.entries(raw.params).map(([name, ps]): [string, ParamStateDict] => {
    if (!isObject(ps) || !isObject(ps.buffers)) throw new Error(`${where}: optimizer entry for '${name}' is malformed`);
    const buffers = Object.entries(ps.buffers).map(([b, rec]): [string, number[]] => {
      const t = decode(where, `optimizer buffer '${b}' of '${name}'`, rec);
      return [b, Array.from(t.data)];
    });
    return [name, { shape: ps.shape as number[], dtype: ps.dtype as DType, buffers: Object.fromEntries(buffers) }];
  });
  return { ...(raw as unknown as OptimizerState), params: Object.fromEntries(params) };
}

export interface LoadCheckpointOptions {
  /** Backend for the restored tensors (default: the current backend). */
  backend?: Backend;
}

/**
 * Reads a checkpoint written by saveCheckpoint. A missing, truncated or corrupt file (bad JSON, bad
 * base64, wrong byte count, checksum mismatch) or an unsupported version throws an error naming the file.
 */
export async function loadCheckpoint(path: string, opts: LoadCheckpointOptions = {}): Promise<Checkpoint> {
  const where = `loadCheckpoint(${path})`;
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${where}: cannot read the file: ${(e as Error).message}`, { cause: e });
  }
  return decodeCheckpoint(text, where, opts);
}

/**
 * Parses and verifies the text of a checkpoint (what encodeCheckpoint returns or a file holds); errors start
 * with `where` (the file or store it came from).
 */
export function decodeCheckpoint(text: string, where: string, opts: LoadCheckpointOptions = {}): Checkpoint {
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
    if (sha256Hex(JSON.stringify(raw.content)) !== raw.sha256) {
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
  const params = Object.entries(body.params).map(([name, rec]): [string, Tensor] => {
    const t = decode(where, `parameter '${name}'`, rec);
    return [name, tensor(t.data, t.shape, { dtype: t.dtype, backend: opts.backend })];
  });
  const out: Checkpoint = { params: Object.fromEntries(params), step: body.step as number, checksummed };
  if (body.optimizer !== undefined) out.optimizer = decodeOptimizer(where, body.optimizer);
  if (body.optimizers !== undefined) {
    if (!isObject(body.optimizers)) throw new Error(`${where}: optimizers is malformed`);
    out.optimizers = Object.fromEntries(Object.entries(body.optimizers).map(([k, o]) => [k, decodeOptimizer(`${where}: optimizer '${k}'`, o)]));
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
