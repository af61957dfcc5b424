// Float32 matrix multiply for the CPU backend, running the AssemblyScript Wasm SIMD kernel (assembly/gemm.ts).
import { gemmWasmBase64 } from '../../generated/gemm.wasm.js';

/** Raw exports of the gemm Wasm module (pointers are byte offsets into `memory`). */
interface GemmExports {
  readonly memory: WebAssembly.Memory;
  userBase(): number;
  ensureCapacity(bytes: number): number;
  sgemm(
    transA: number, transB: number, M: number, N: number, K: number,
    aPtr: number, bPtr: number, cPtr: number, accumulate: number,
  ): void;
}

let exportsCache: GemmExports | null = null;
let initPromise: Promise<void> | null = null;
let wasmBytes: Uint8Array<ArrayBuffer> | null = null;

/** Decodes standard base64 (atob where available, a small table decoder otherwise). */
function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  if (typeof atob === 'function') {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const lut = new Uint8Array(128);
  for (let i = 0; i < alphabet.length; i++) lut[alphabet.charCodeAt(i)] = i;
  const clean = b64.replace(/[^A-Za-z0-9+/]/g, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < clean.length; i += 4) {
    const n =
      (lut[clean.charCodeAt(i)]! << 18) |
      (lut[clean.charCodeAt(i + 1)]! << 12) |
      ((i + 2 < clean.length ? lut[clean.charCodeAt(i + 2)]! : 0) << 6) |
      (i + 3 < clean.length ? lut[clean.charCodeAt(i + 3)]! : 0);
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

function bytes(): Uint8Array<ArrayBuffer> {
  if (!wasmBytes) wasmBytes = decodeBase64(gemmWasmBase64);
  return wasmBytes;
}

/** Compiles and instantiates the module asynchronously (required on browser main threads). Idempotent. */
export async function initGemm(): Promise<void> {
  if (exportsCache) return;
  if (!initPromise) {
    initPromise = (async () => {
      const { instance } = await WebAssembly.instantiate(bytes(), {});
      if (!exportsCache) exportsCache = instance.exports as unknown as GemmExports;
    })();
    initPromise.catch(() => {
      initPromise = null;
    });
  }
  await initPromise;
}

/** Returns the instance, instantiating synchronously (fine in Node and workers) if initGemm was not awaited. */
function gemmExports(): GemmExports {
  if (!exportsCache) {
    const module = new WebAssembly.Module(bytes());
    exportsCache = new WebAssembly.Instance(module, {}).exports as unknown as GemmExports;
  }
  return exportsCache;
}

/** Whether the module is instantiated (sgemm will not need to compile synchronously). */
export function gemmReady(): boolean {
  return exportsCache !== null;
}

function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new Error(`sgemm: ${name} must be a non-negative integer, got ${v}`);
}

const align16 = (n: number): number => (n + 15) & ~15;

/**
 * C[M,N] = op(A) op(B), float32, row-major. op(A) is A ([M,K]) or, if transA, A^T with A stored [K,M];
 * op(B) is B ([K,N]) or, if transB, B^T with B stored [N,K]. Writes into `out` (length M*N) when given,
 * else into a new array; with `accumulate` the product is added to the existing contents of `out`.
 */
export function sgemm(
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
  transA = false,
  transB = false,
  out?: Float32Array,
  accumulate = false,
): Float32Array {
  checkDim('M', M);
  checkDim('N', N);
  checkDim('K', K);
  const aLen = M * K, bLen = K * N, cLen = M * N;
  if (a.length !== aLen) {
    throw new Error(`sgemm: A has length ${a.length}, expected ${aLen} (${transA ? `[K=${K}, M=${M}]` : `[M=${M}, K=${K}]`})`);
  }
  if (b.length !== bLen) {
    throw new Error(`sgemm: B has length ${b.length}, expected ${bLen} (${transB ? `[N=${N}, K=${K}]` : `[K=${K}, N=${N}]`})`);
  }
  if (out !== undefined && out.length !== cLen) {
    throw new Error(`sgemm: out has length ${out.length}, expected ${cLen} ([M=${M}, N=${N}])`);
  }
  if (accumulate && out === undefined) throw new Error('sgemm: accumulate requires an `out` array');
  const c = out ?? new Float32Array(cLen);
  if (cLen === 0) return c;

  const w = gemmExports();
  const aBytes = align16(aLen * 4), bBytes = align16(bLen * 4);
  const base = w.ensureCapacity(aBytes + bBytes + cLen * 4);
  if (base === 0) throw new Error(`sgemm: could not grow Wasm memory for M=${M}, N=${N}, K=${K}`);
  const aPtr = base, bPtr = base + aBytes, cPtr = bPtr + bBytes;
  const buf = w.memory.buffer; // re-read after ensureCapacity: growth replaces the buffer
  new Float32Array(buf, aPtr, aLen).set(a);
  new Float32Array(buf, bPtr, bLen).set(b);
  const cView = new Float32Array(buf, cPtr, cLen);
  if (accumulate) cView.set(c);
  w.sgemm(transA ? 1 : 0, transB ? 1 : 0, M, N, K, aPtr, bPtr, cPtr, accumulate ? 1 : 0);
  c.set(cView);
  return c;
}
