// Base optimizer: parameter holders, validated gradient steps under noGrad, mutable lr, JSON state dicts.

import { keep, tidy } from '../core/scope.js';
import { tensor } from '../core/creation.js';
import type { DType, TypedArray } from '../core/dtype.js';
import { add, mul, sub } from '../core/ops.js';
import { formatShape, shapesEqual, sizeOf } from '../core/shape.js';
import { disposeReplaced, noGrad, Tensor } from '../core/tensor.js';
import { residentKernels, WASM_MIN_ELEMENTS } from '../backend/cpu/wasm-elementwise.js';
import { allOnCpu, cpuData } from './cpu-storage.js';

/** A named, replaceable parameter: the optimizer swaps `value` for the updated tensor after each step. */
export interface ParamRef {
  name: string;
  value: Tensor;
}

/** Hyperparameter values as stored in a state dict (all JSON-serialisable). */
export type HyperValue = number | boolean | number[];

/** The buffers one parameter carries (momentum, moments, ...), as plain number arrays in row-major order. */
export interface ParamStateDict {
  shape: number[];
  dtype: DType;
  buffers: Record<string, number[]>;
}

/**
 * Everything needed to continue optimisation exactly: JSON-serialisable (numbers, number arrays and a few
 * strings/booleans), per-parameter buffers keyed by parameter name.
 */
export interface OptimizerState {
  format: 'iml-optimizer';
  version: 1;
  /** Which optimizer wrote it ('sgd', 'adam', 'rmsprop'). */
  kind: string;
  lr: number;
  stepCount: number;
  hyperparameters: Record<string, HyperValue>;
  params: Record<string, ParamStateDict>;
}

/** Per-parameter buffers held by an optimizer, keyed by buffer name. */
export type Buffers = Record<string, Tensor>;

const OPTIMIZER_STATE_VERSION = 1;

function checkLr(where: string, lr: number): void {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
    throw new Error(`${where}: invalid learning rate ${String(lr)} (must be a finite number >= 0)`);
  }
}

/** Throws unless `value` is a finite number >= 0 (PyTorch's `not 0.0 <= value` check, which also rejects NaN). */
export function checkNonNegative(where: string, what: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${where}: invalid ${what} value ${String(value)} (must be a finite number >= 0)`);
  }
}

/**
 * Linear interpolation a + w (b - a) with PyTorch's CPU rounding: for |w| < 0.5 it computes a + w (b - a),
 * otherwise b - (b - a)(1 - w), so that w = 1 returns b exactly.
 */
export function lerp(a: Tensor, b: Tensor, w: number): Tensor {
  return Math.abs(w) < 0.5 ? add(a, mul(sub(b, a), w)) : sub(b, mul(sub(b, a), 1 - w));
}

function hyperEqual(a: HyperValue, b: HyperValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
  }
  return Object.is(a, b);
}

function formatHyper(v: HyperValue | undefined): string {
  return v === undefined ? 'missing' : JSON.stringify(v);
}

/** Index of the first NaN or ±Infinity, or -1 (in Wasm SIMD when the array lives in the tensor heap). */
function firstNonFinite(data: TypedArray): number {
  // Heap blocks are float32 or float64 arrays, so a resident array is one of the two.
  const k = data.length >= WASM_MIN_ELEMENTS ? residentKernels([data]) : null;
  if (k !== null) {
    return (data instanceof Float32Array ? k.firstNonFiniteF32 : k.firstNonFiniteF64)(data.byteOffset, data.length);
  }
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/**
 * Common machinery of first-order optimizers. Subclasses give the per-parameter rule (`update`), the buffers
 * they keep (`bufferNames`) and their hyperparameters; the base class validates inputs, runs the rule under
 * noGrad for every parameter, commits all new values together and (de)serialises the state.
 */
export abstract class Optimizer {
  /** The parameter holders, in the order `step` expects gradients. */
  readonly params: readonly ParamRef[];
  /** Short identifier written into state dicts ('sgd', 'adam', 'rmsprop'). */
  abstract readonly kind: string;
  /** Whether `step` scans gradients for NaN/Infinity (needs a synchronously readable backend; skipped otherwise). */
  checkFinite = true;

  private currentLr: number;
  private steps = 0;
  private readonly shapes: readonly (readonly number[])[];
  private readonly dtypes: readonly DType[];
  /** Buffers per parameter name; absent until the parameter's first step (PyTorch's lazy state). */
  protected readonly state = new Map<string, Buffers>();
  /** Parameter values this optimizer made: disposed when its next step replaces them. */
  private readonly made = new WeakSet<Tensor>();

  protected constructor(params: readonly ParamRef[], lr: number) {
    const where = `${new.target.name}`;
    if (!Array.isArray(params) || params.length === 0) throw new Error(`${where}: got an empty parameter list`);
    const seen = new Set<string>();
    params.forEach((p, i) => {
      if (p === null || typeof p !== 'object' || typeof p.name !== 'string' || p.name === '') {
        throw new Error(`${where}: parameter ${i} needs a non-empty string name`);
      }
      if (!(p.value instanceof Tensor)) throw new Error(`${where}: parameter '${p.name}' has no Tensor value`);
      if (seen.has(p.name)) throw new Error(`${where}: parameter name '${p.name}' is used twice (names key the optimizer state)`);
      seen.add(p.name);
    });
    checkLr(where, lr);
    this.params = [...params];
    this.shapes = params.map((p) => [...p.value.shape]);
    this.dtypes = params.map((p) => p.value.dtype);
    this.currentLr = lr;
  }

  /** The learning rate used by the next step; schedules assign it before each step. */
  get lr(): number {
    return this.currentLr;
  }

  set lr(value: number) {
    checkLr(`${this.constructor.name}.lr`, value);
    this.currentLr = value;
  }

  /** Number of completed steps (the next step is number stepCount + 1). */
  get stepCount(): number {
    return this.steps;
  }

  /** Names of the buffers every parameter carries once it has taken a step, for this configuration. */
  protected abstract bufferNames(): readonly string[];

  /** Hyperparameters other than lr; they must match when a state dict is loaded. */
  protected abstract hyperparameters(): Record<string, HyperValue>;

  /**
   * One update of one parameter. `buffers` is undefined on the parameter's first step; the rule returns the
   * new parameter value and its new buffers (never mutate the old parameter value; a rule may update its own
   * buffers in place, as the fused CPU Adam does, since only the optimizer holds them). Runs under noGrad.
   * `step` is 1-based.
   */
  protected abstract update(param: Tensor, grad: Tensor, buffers: Buffers | undefined, step: number, index: number): { value: Tensor; buffers: Buffers };

  /**
   * Applies one update with `grads[i]` the gradient for `params[i]`. Everything is validated before any
   * parameter changes: on an error no parameter, buffer or the step count is modified.
   */
  step(grads: readonly Tensor[]): void {
    const where = `${this.constructor.name}.step`;
    const stepNo = this.steps + 1;
    if (!Array.isArray(grads)) throw new Error(`${where}: expected an array of gradients`);
    if (grads.length !== this.params.length) {
      const detail =
        grads.length < this.params.length
          ? `no gradient for parameter '${this.params[grads.length].name}'`
          : `extra gradient at position ${this.params.length}`;
      throw new Error(`${where}: got ${grads.length} gradients for ${this.params.length} parameters (${detail})`);
    }
    this.params.forEach((p, i) => {
      const g = grads[i];
      const v = p.value;
      if (!(v instanceof Tensor)) throw new Error(`${where}: parameter '${p.name}' no longer holds a Tensor`);
      if (!shapesEqual(v.shape, this.shapes[i]) || v.dtype !== this.dtypes[i]) {
        throw new Error(
          `${where}: parameter '${p.name}' changed from ${formatShape(this.shapes[i])}:${this.dtypes[i]} to ` +
            `${formatShape(v.shape)}:${v.dtype} since the optimizer was created`,
        );
      }
      if (!(g instanceof Tensor)) throw new Error(`${where}: gradient for parameter '${p.name}' is not a Tensor`);
      if (!shapesEqual(g.shape, v.shape)) {
        throw new Error(`${where}: gradient for parameter '${p.name}' has shape ${formatShape(g.shape)}, the parameter has ${formatShape(v.shape)}`);
      }
      if (g.dtype !== v.dtype) {
        throw new Error(`${where}: gradient for parameter '${p.name}' is ${g.dtype}, the parameter is ${v.dtype}`);
      }
      if (this.checkFinite && g.backend.readSync) {
        // CPU storage is read in place (no copy); other synchronous backends through readSync.
        const data = allOnCpu(g) ? cpuData(g) : g.dataSync();
        const bad = firstNonFinite(data);
        if (bad >= 0) {
          throw new Error(
            `${where}: non-finite gradient (${data[bad]}) for parameter '${p.name}' at element ${bad}, step ${stepNo}; no parameter was updated`,
          );
        }
      }
    });
    // The rule's temporaries are freed at once; its results (new values, new buffers) leave the scope.
    const results = tidy(() => noGrad(() =>
      this.params.map((p, i) => this.update(p.value, grads[i], this.state.get(p.name), stepNo, i)),
    ));
    this.params.forEach((p, i) => {
      const old = p.value;
      const oldBuffers = this.state.get(p.name);
      // Kept: an optimizer step may run inside a tidy scope (a training step), its results outlive it.
      p.value = keep(results[i].value);
      this.made.add(p.value);
      const next = Object.values(results[i].buffers);
      for (const t of next) keep(t);
      this.state.set(p.name, results[i].buffers);
      // What this step replaced is freed now, not by the garbage collector (which does not see Wasm or GPU
      // memory): the previous value when this optimizer made it (never the caller's initial tensor), and buffers
      // the rule did not carry over (a fused rule updates its own in place). Hold a value longer with retain().
      if (old !== p.value && this.made.has(old)) old.dispose();
      disposeReplaced(oldBuffers && Object.values(oldBuffers), next);
    });
    this.steps = stepNo;
  }

  /** A JSON-serialisable snapshot (buffers read synchronously: CPU backend). */
  stateDict(): OptimizerState {
    return this.buildState((t) => Array.from(t.dataSync()));
  }

  /** Same as stateDict, reading buffers asynchronously (works on every backend). */
  async stateDictAsync(): Promise<OptimizerState> {
    const arrays = new Map<Tensor, number[]>();
    for (const buffers of this.state.values()) {
      for (const t of Object.values(buffers)) arrays.set(t, Array.from(await t.data()));
    }
    return this.buildState((t) => arrays.get(t)!);
  }

  private buildState(read: (t: Tensor) => number[]): OptimizerState {
    const params: [string, ParamStateDict][] = this.params.map((p, i) => {
      const buffers = this.state.get(p.name);
      const entries = buffers ? Object.entries(buffers).map(([k, t]): [string, number[]] => [k, read(t)]) : [];
      return [p.name, { shape: [...this.shapes[i]], dtype: this.dtypes[i], buffers: Object.fromEntries(entries) }];
    });
    const hyper = Object.entries(this.hyperparameters()).map(([k, v]): [string, HyperValue] => [k, Array.isArray(v) ? [...v] : v]);
    return {
      format: 'iml-optimizer',
      version: OPTIMIZER_STATE_VERSION,
      kind: this.kind,
      lr: this.currentLr,
      stepCount: this.steps,
      hyperparameters: Object.fromEntries(hyper),
      params: Object.fromEntries(params),
    };
  }

  /**
   * Restores lr, step count and buffers. The state must come from the same kind of optimizer with the same
   * hyperparameters, over parameters with the same names, shapes and dtypes; every problem is reported
   * before anything changes.
   */
  loadStateDict(state: OptimizerState): void {
    const where = `${this.constructor.name}.loadStateDict`;
    const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
    if (!isObj(state)) throw new Error(`${where}: state must be an object`);
    if (state.format !== 'iml-optimizer') throw new Error(`${where}: not an optimizer state (format ${formatHyper(state.format as HyperValue)})`);
    if (state.version !== OPTIMIZER_STATE_VERSION) {
      throw new Error(`${where}: unsupported state version ${String(state.version)} (this build reads version ${OPTIMIZER_STATE_VERSION})`);
    }
    if (state.kind !== this.kind) throw new Error(`${where}: state was written by '${String(state.kind)}', this optimizer is '${this.kind}'`);
    checkLr(where, state.lr);
    if (!Number.isInteger(state.stepCount) || state.stepCount < 0) {
      throw new Error(`${where}: invalid stepCount ${String(state.stepCount)}`);
    }
    if (!isObj(state.hyperparameters)) throw new Error(`${where}: missing hyperparameters`);
    const mine = this.hyperparameters();
    for (const k of new Set([...Object.keys(mine), ...Object.keys(state.hyperparameters)])) {
      const theirs = Object.hasOwn(state.hyperparameters, k) ? state.hyperparameters[k] : undefined;
      const ours = Object.hasOwn(mine, k) ? mine[k] : undefined;
      if (theirs === undefined || ours === undefined || !hyperEqual(theirs, ours)) {
        throw new Error(`${where}: hyperparameter '${k}' is ${formatHyper(theirs)} in the state but ${formatHyper(ours)} in this optimizer`);
      }
    }
    if (!isObj(state.params)) throw new Error(`${where}: missing params`);
    const names = new Set(this.params.map((p) => p.name));
    const missing = [...names].filter((n) => !Object.hasOwn(state.params, n));
    const unexpected = Object.keys(state.params).filter((n) => !names.has(n));
    if (missing.length > 0 || unexpected.length > 0) {
      const parts: string[] = [];
      if (missing.length > 0) parts.push(`missing parameters ${missing.map((n) => `'${n}'`).join(', ')}`);
      if (unexpected.length > 0) parts.push(`unexpected parameters ${unexpected.map((n) => `'${n}'`).join(', ')}`);
      throw new Error(`${where}: state does not match the optimizer's parameters: ${parts.join('; ')}`);
    }
    const required = this.bufferNames();
    const restored = new Map<string, Buffers>();
    this.params.forEach((p, i) => {
      const ps = state.params[p.name] as unknown;
      if (!isObj(ps) || !Array.isArray(ps.shape) || !isObj(ps.buffers)) throw new Error(`${where}: malformed entry for parameter '${p.name}'`);
      if (!shapesEqual(ps.shape as number[], this.shapes[i])) {
        throw new Error(`${where}: parameter '${p.name}' has shape ${formatShape(ps.shape as number[])} in the state but ${formatShape(this.shapes[i])} here`);
      }
      if (ps.dtype !== this.dtypes[i]) {
        throw new Error(`${where}: parameter '${p.name}' is ${String(ps.dtype)} in the state but ${this.dtypes[i]} here`);
      }
      const bufs = ps.buffers;
      const have = Object.keys(bufs);
      const extra = have.filter((b) => !required.includes(b));
      if (extra.length > 0) throw new Error(`${where}: parameter '${p.name}' has unexpected buffers ${extra.join(', ')} for this configuration`);
      if (state.stepCount === 0 ? have.length > 0 : have.length !== required.length) {
        const lacking = required.filter((b) => !have.includes(b));
        throw new Error(
          state.stepCount === 0
            ? `${where}: parameter '${p.name}' has buffers but the state records no steps`
            : `${where}: parameter '${p.name}' lacks buffers ${lacking.join(', ')} after ${state.stepCount} steps`,
        );
      }
      if (have.length === 0) return;
      const n = sizeOf(this.shapes[i]);
      const loaded: [string, Tensor][] = have.map((b) => {
        const arr = bufs[b];
        if (!Array.isArray(arr) || arr.length !== n) {
          throw new Error(`${where}: buffer '${b}' of parameter '${p.name}' needs ${n} numbers, got ${Array.isArray(arr) ? arr.length : typeof arr}`);
        }
        const bad = arr.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
        if (bad >= 0) throw new Error(`${where}: buffer '${b}' of parameter '${p.name}' has a non-finite or non-number entry at ${bad}`);
        return [b, keep(tensor(arr as number[], this.shapes[i], { dtype: this.dtypes[i], backend: p.value.backend }))];
      });
      restored.set(p.name, Object.fromEntries(loaded));
    });
    // The buffers replaced are this optimizer's own: freed now.
    for (const buffers of this.state.values()) for (const t of Object.values(buffers)) t.dispose();
    this.state.clear();
    for (const [k, v] of restored) this.state.set(k, v);
    this.currentLr = state.lr;
    this.steps = state.stepCount;
  }
}
