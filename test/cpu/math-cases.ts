// Deterministic exp/log inputs shared by the Node accuracy tests and the Chromium bit-identity run: dense sweeps, random draws, specials and float helpers (ulp distance).
import { Random } from '../../src/util/random.js';

/** Values whose handling is special: NaN, ±Inf, ±0, subnormals, the overflow and underflow edges. */
export const SPECIALS: readonly number[] = [
  NaN, Infinity, -Infinity, 0, -0, 1, -1, 2, 0.5, Math.E, Math.LN2, -Math.LN2,
  709.782712893384, 709.7827128933841, 710, -745.1332191019411, -745.1332191019412, -745.14, -746,
  88.72283935546875, 88.72284, 89, -87.33654, -103.27893, -103.97208, -104, -150,
  5e-324, 1e-320, 2.2250738585072014e-308, 2.225073858507201e-308, Number.MAX_VALUE,
  1.401298464324817e-45, 1.1754942106924411e-38, 1.1754943508222875e-38, 3.4028234663852886e+38,
  1.0000000000000002, 0.9999999999999999, Math.SQRT2, Math.SQRT1_2, 1e-10, -1e-10,
];

/** n evenly spaced values over [lo, hi]. */
export function linspace(lo: number, hi: number, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

/** n uniform draws from [lo, hi). */
export function uniform(lo: number, hi: number, n: number, rng: Random): Float64Array {
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
}

/** 2^e for an integer e in [-1022, 1023], from its bits (no Math.pow: its last bits may differ between engines). */
function pow2(e: number): number {
  const b = new BigUint64Array([BigInt(e + 1023) << 52n]);
  return new Float64Array(b.buffer)[0]!;
}

/**
 * n positive values spread log-uniformly over [2^e0, 2^e1) (integers e0 >= -1074, e1 <= 1024): 2^e·(1 + u) for a
 * uniform integer e and uniform u, built with exact operations only so that every engine draws the same values.
 */
export function logUniform(e0: number, e1: number, n: number, rng: Random): Float64Array {
  return Float64Array.from({ length: n }, () => {
    const e = e0 + Math.floor((e1 - e0) * rng.uniform());
    const m = 1 + rng.uniform();
    return e >= -1022 ? m * pow2(e) : m * pow2(e + 100) * pow2(-100); // the second product rounds once into subnormals
  });
}

const concat = (...xs: ArrayLike<number>[]): Float64Array => {
  const out = new Float64Array(xs.reduce((s, x) => s + x.length, 0));
  let o = 0;
  for (const x of xs) {
    out.set(x, o);
    o += x.length;
  }
  return out;
};

/** The inputs of the exp bit-identity run (float64 values; the float32 run rounds them). */
export function expInputs(): Float64Array {
  const rng = new Random(7);
  return concat(SPECIALS, linspace(-746, 710, 40001), uniform(-2, 2, 20000, rng), uniform(-110, 90, 20000, rng));
}

/** The inputs of the log bit-identity run (negatives included). */
export function logInputs(): Float64Array {
  const rng = new Random(8);
  return concat(SPECIALS, linspace(0, 4, 40001), logUniform(-1074, 1024, 20000, rng), logUniform(-150, 128, 20000, rng), uniform(-5, 5, 1000, rng));
}

/** Bytes of a float array, as base64 (for page.evaluate). */
export function toBase64(a: Float32Array | Float64Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return btoa(s);
}

export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Ordered integer of a double: adjacent doubles differ by 1, -0 and +0 coincide. */
function ord64(v: number): bigint {
  const i = new BigInt64Array(new Float64Array([v]).buffer)[0]!;
  return i < 0n ? -(i & 0x7fffffffffffffffn) : i;
}

function ord32(v: number): number {
  const i = new Int32Array(new Float32Array([v]).buffer)[0]!;
  return i < 0 ? -(i & 0x7fffffff) : i;
}

/** Distance in units in the last place between two doubles (0 for two NaNs, Infinity for NaN vs a number). */
export function ulp64(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  return Math.abs(Number(ord64(a) - ord64(b)));
}

/** Distance in float32 ulps between two float32 values. */
export function ulp32(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  return Math.abs(ord32(a) - ord32(b));
}
