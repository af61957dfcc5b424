// exp and log over float32 / float64 arrays in the Wasm module built from assembly/math.ts: the same bits in Node and every browser (method and accuracy: docs/cpu-math.md).
import type { TypedArray } from '../../core/dtype.js';
import { decodeBase64 } from '../../util/base64.js';
import { mathWasmBase64 } from '../../generated/math.wasm.js';

/** Raw exports of the math module (pointers are byte offsets into `memory`; every function works in place). */
interface MathExports {
  readonly memory: WebAssembly.Memory;
  bufferBase(): number;
  ensureCapacity(bytes: number): number;
  expF64(ptr: number, n: number): void;
  logF64(ptr: number, n: number): void;
  expF32(ptr: number, n: number): void;
  logF32(ptr: number, n: number): void;
}

/** Elements per call: the module's own memory then stays at 256 KiB and the chunk stays in cache between copy-in, compute and copy-out. */
const CHUNK = 32768;

let exportsCache: MathExports | null = null;

/** The instance, compiled synchronously on first use (the module is under 4 KiB, which browsers' main threads allow). */
function instance(): MathExports {
  if (!exportsCache) {
    const module = new WebAssembly.Module(decodeBase64(mathWasmBase64));
    const e = new WebAssembly.Instance(module, {}).exports as unknown as MathExports;
    if (e.ensureCapacity(CHUNK * 8) === 0) throw new Error(`wasm-math: cannot reserve ${CHUNK * 8} bytes of Wasm memory`);
    exportsCache = e;
  }
  return exportsCache;
}

export type MathOp = 'exp' | 'log';

/**
 * out[i] = exp(x[i]) or log(x[i]) for float32 or float64 arrays of the same type and length (out may be x),
 * computed in Wasm chunk by chunk: copy in, transform in place, copy out.
 */
export function wasmMath(op: MathOp, x: TypedArray, out: TypedArray): void {
  const f64 = x instanceof Float64Array;
  if (f64 !== out instanceof Float64Array) throw new Error(`wasmMath(${op}): input and output dtypes differ`);
  if (x.length !== out.length) throw new Error(`wasmMath(${op}): input has ${x.length} elements, output ${out.length}`);
  const e = instance();
  const base = e.bufferBase();
  const fn = f64 ? (op === 'exp' ? e.expF64 : e.logF64) : op === 'exp' ? e.expF32 : e.logF32;
  const lanes = f64 ? 2 : 4;
  const n = x.length;
  for (let i0 = 0; i0 < n; i0 += CHUNK) {
    const m = Math.min(CHUNK, n - i0);
    const padded = Math.ceil(m / lanes) * lanes;
    // Views re-created per chunk: the memory never grows after instance(), but this keeps them valid if it did.
    const buf = f64 ? new Float64Array(e.memory.buffer, base, padded) : new Float32Array(e.memory.buffer, base, padded);
    buf.set(x.subarray(i0, i0 + m));
    if (padded > m) buf.fill(0, m);
    fn(base, padded);
    out.set(buf.subarray(0, m), i0);
  }
}
