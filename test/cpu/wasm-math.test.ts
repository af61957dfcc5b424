// The Wasm exp/log (assembly/math.ts via wasm-math.ts): max ulp error against Math.exp/Math.log over dense sweeps and random inputs, special values, chunking and padding, and the CPU backend's use of it.
import { describe, expect, it } from 'vitest';
import { unaryKernel, unaryKernelJs } from '../../src/backend/cpu/elementwise.js';
import { wasmMath } from '../../src/backend/cpu/wasm-math.js';
import { mathWasmBase64 } from '../../src/generated/math.wasm.js';
import { decodeBase64 } from '../../src/util/base64.js';
import { Random } from '../../src/util/random.js';
import { linspace, logUniform, SPECIALS, ulp32, ulp64, uniform } from './math-cases.js';
import { expCorrectlyRounded, logCorrectlyRounded } from './math-reference.js';

const N = 200_001;

/** Max ulp distance of wasmMath(op) from the reference over each input set, and the worst input. */
function maxUlp(op: 'exp' | 'log', f32: boolean, sets: Float64Array[]): { ulp: number; at: number; inputs: number } {
  let worst = { ulp: 0, at: NaN, inputs: 0 };
  for (const set of sets) {
    const x = f32 ? Float32Array.from(set) : set;
    const y = f32 ? new Float32Array(x.length) : new Float64Array(x.length);
    wasmMath(op, x, y);
    const ref = op === 'exp' ? Math.exp : Math.log;
    for (let i = 0; i < x.length; i++) {
      // float32: the float64 Math result rounded to float32 (the correctly rounded float32 value up to a double rounding).
      const d = f32 ? ulp32(y[i]!, Math.fround(ref(x[i]!))) : ulp64(y[i]!, ref(x[i]!));
      if (d > worst.ulp) worst = { ulp: d, at: x[i]!, inputs: 0 };
    }
    worst.inputs += x.length;
  }
  worst.inputs = sets.reduce((s, x) => s + x.length, 0);
  return worst;
}

describe('accuracy: at most 1 ulp from Math.exp / Math.log (float64) and from the rounded float64 result (float32)', () => {
  const rng = new Random(2024);
  it('exp float64 over [-746, 710], [-1, 1], [-1e-8, 1e-8] and random draws', () => {
    const r = maxUlp('exp', false, [
      linspace(-746, 710, N), linspace(-1, 1, N), linspace(-1e-8, 1e-8, 10_001),
      uniform(-746, 710, N, rng), uniform(-3, 3, N, rng), uniform(-745.2, -708, 50_000, rng),
    ]);
    expect(r.ulp, `worst at x = ${r.at}`).toBeLessThanOrEqual(1);
  });

  it('log float64 over [0, 4], near 1, subnormals and log-uniform draws over all doubles', () => {
    const r = maxUlp('log', false, [
      linspace(0, 4, N), linspace(1 - 1e-6, 1 + 1e-6, 10_001), uniform(0.7, 1.45, N, rng),
      logUniform(-1074, -1022, 50_000, rng), logUniform(-1022, 1024, N, rng),
    ]);
    expect(r.ulp, `worst at x = ${r.at}`).toBeLessThanOrEqual(1);
  });

  it('exp float32 over [-104, 89] and random draws', () => {
    const r = maxUlp('exp', true, [linspace(-104, 89, N), uniform(-2, 2, N, rng), uniform(-104, -87, 50_000, rng)]);
    expect(r.ulp, `worst at x = ${r.at}`).toBeLessThanOrEqual(1);
  });

  it('log float32 over [0, 4], subnormals and log-uniform draws over all floats', () => {
    const r = maxUlp('log', true, [linspace(0, 4, N), logUniform(-149, -126, 50_000, rng), logUniform(-126, 128, N, rng)]);
    expect(r.ulp, `worst at x = ${r.at}`).toBeLessThanOrEqual(1);
  });
});

describe('accuracy against the correctly rounded result (300-bit BigInt reference)', () => {
  const rng = new Random(77);
  /** Max ulp error, and the fraction of results that are not the correctly rounded double. */
  const check = (op: 'exp' | 'log', x: Float64Array, ref: (v: number) => number): { max: number; wrong: number } => {
    const y = new Float64Array(x.length);
    wasmMath(op, x, y);
    let max = 0, wrong = 0;
    for (let i = 0; i < x.length; i++) {
      const d = ulp64(y[i]!, ref(x[i]!));
      max = Math.max(max, d);
      if (d > 0) wrong++;
    }
    return { max, wrong: wrong / x.length };
  };

  it('the reference itself: exp(1) = e, log(2) = ln 2, exp(log(3)) round trip', () => {
    expect(expCorrectlyRounded(1)).toBe(Math.E);
    expect(logCorrectlyRounded(2)).toBe(Math.LN2);
    expect(expCorrectlyRounded(0)).toBe(1);
    expect(logCorrectlyRounded(1)).toBe(0);
    expect(Math.abs(expCorrectlyRounded(logCorrectlyRounded(3)) - 3)).toBeLessThanOrEqual(4.5e-16);
  });

  it('exp float64: within 1 ulp, correctly rounded for at least 95% of 4000 inputs in [-20, 20]', () => {
    const r = check('exp', uniform(-20, 20, 4000, rng), expCorrectlyRounded);
    expect(r.max).toBeLessThanOrEqual(1);
    expect(r.wrong).toBeLessThan(0.05);
  });

  it('log float64: within 1 ulp, correctly rounded for at least 95% of 1500 inputs over [2^-30, 2^30] and near 1', () => {
    const x = Float64Array.from([...logUniform(-30, 30, 1000, rng), ...uniform(0.9, 1.1, 500, rng)]);
    const r = check('log', x, logCorrectlyRounded);
    expect(r.max).toBeLessThanOrEqual(1);
    expect(r.wrong).toBeLessThan(0.05);
  });
});

describe('special values', () => {
  const run = (op: 'exp' | 'log', xs: number[], f32 = false): number[] => {
    const x = f32 ? Float32Array.from(xs) : Float64Array.from(xs);
    const y = f32 ? new Float32Array(xs.length) : new Float64Array(xs.length);
    wasmMath(op, x, y);
    return [...y];
  };

  it('exp: NaN, ±Inf, ±0, overflow to +Inf, underflow through subnormals to 0', () => {
    expect(run('exp', [NaN, Infinity, -Infinity, 0, -0, 1e-300, -1e-300])).toEqual([NaN, Infinity, 0, 1, 1, 1, 1]);
    // exp(709.782712893384) = 1.7976931348622732e308 (finite); the next double overflows.
    expect(run('exp', [709.782712893384, 709.7827128933841, 710, 1e308])).toEqual([1.7976931348622732e308, Infinity, Infinity, Infinity]);
    // exp(-745.1332191019411) rounds to the smallest subnormal 2^-1074; slightly below rounds to 0.
    expect(run('exp', [-745.1332191019411, -745.14, -746, -1e308])).toEqual([5e-324, 0, 0, 0]);
    const sub = run('exp', [-740]);
    expect(ulp64(sub[0]!, Math.exp(-740))).toBeLessThanOrEqual(1);
    expect(sub[0]!).toBeLessThan(2.2250738585072014e-308);
    expect(Object.is(run('exp', [-Infinity])[0], 0)).toBe(true);
  });

  it('log: 0 and -0 -> -Inf, negatives -> NaN, +Inf, NaN, 1 -> +0, subnormals', () => {
    expect(run('log', [0, -0, -1, -Infinity, -5e-324, Infinity, NaN])).toEqual([-Infinity, -Infinity, NaN, NaN, NaN, Infinity, NaN]);
    expect(Object.is(run('log', [1])[0], 0)).toBe(true);
    // log(2^-1074) = -1074 ln 2, log(2^1023·(2 - 2^-52)) = log(MAX_VALUE).
    expect(run('log', [5e-324, Number.MAX_VALUE])).toEqual([-744.4400719213812, 709.782712893384]);
    expect(ulp64(run('log', [1e-310])[0]!, Math.log(1e-310))).toBeLessThanOrEqual(1);
  });

  it('float32: the same specials, float32 overflow / underflow edges and float32 subnormals', () => {
    expect(run('exp', [NaN, Infinity, -Infinity, 0, 89, -104, 88.72283935546875], true)).toEqual([
      NaN, Infinity, 0, 1, Infinity, 0, Math.fround(Math.exp(88.72283935546875)),
    ]);
    // exp(-100) is a float32 subnormal.
    const sub = run('exp', [-100], true)[0]!;
    expect(sub).toBeGreaterThan(0);
    expect(ulp32(sub, Math.fround(Math.exp(-100)))).toBeLessThanOrEqual(1);
    expect(run('log', [0, -0, -2, Infinity, NaN, 1], true)).toEqual([-Infinity, -Infinity, NaN, Infinity, NaN, 0]);
    const tiny = 1.401298464324817e-45; // 2^-149
    expect(run('log', [tiny], true)).toEqual([Math.fround(-149 * Math.LN2)]);
  });

  it('NaN results have one bit pattern (canonical quiet NaN), whatever the input NaN', () => {
    const x64 = new Float64Array(4);
    new BigUint64Array(x64.buffer).set([0x7ff8000000000000n, 0xfff8000000000001n, 0x7ff0000000000001n, 0x7ff4000000000000n]);
    for (const op of ['exp', 'log'] as const) {
      const y = new Float64Array(4);
      wasmMath(op, x64, y);
      expect([...new BigUint64Array(y.buffer)], op).toEqual(Array(4).fill(0x7ff8000000000000n));
      const y32 = new Float32Array(5);
      const x32 = Float32Array.from([NaN, NaN, NaN, NaN, -1]);
      new Uint32Array(x32.buffer).set([0x7fc00000, 0xffc00001, 0x7f800001, 0x7fa00000]);
      wasmMath(op, x32, y32);
      const want = op === 'log' ? 5 : 4;
      expect([...new Uint32Array(y32.buffer)].slice(0, want), op).toEqual(Array(want).fill(0x7fc00000));
    }
  });
});

describe('host side', () => {
  it('lengths that are not whole vectors or chunks, and out aliasing x, give the per-element results', () => {
    const rng = new Random(5);
    for (const n of [0, 1, 3, 5, 32767, 32768, 32769, 70001]) {
      for (const f32 of [false, true]) {
        const src = uniform(-5, 5, n, rng);
        const x = f32 ? Float32Array.from(src) : src;
        const y = f32 ? new Float32Array(n) : new Float64Array(n);
        wasmMath('exp', x, y);
        // Element by element (length-1 calls) must give the same bits as the batched call.
        for (const i of [0, n >> 1, n - 1]) {
          if (i < 0 || i >= n) continue;
          const one = f32 ? new Float32Array(1) : new Float64Array(1);
          wasmMath('exp', x.subarray(i, i + 1), one);
          expect(Object.is(one[0], y[i]), `n=${n} i=${i}`).toBe(true);
        }
        const copy = x.slice();
        wasmMath('exp', copy, copy);
        expect(copy).toEqual(y);
      }
    }
  });

  it('rejects mismatched dtypes and lengths, naming the op', () => {
    expect(() => wasmMath('log', new Float32Array(2), new Float64Array(2))).toThrow(/wasmMath\(log\): input and output dtypes differ/);
    expect(() => wasmMath('exp', new Float64Array(3), new Float64Array(2))).toThrow(/wasmMath\(exp\): input has 3 elements, output 2/);
  });

  it('the CPU backend kernel uses it; the JS reference loop stays within 1 ulp of it', () => {
    const x = Float64Array.from(SPECIALS.concat([...uniform(-30, 30, 5000, new Random(3))]));
    for (const op of ['exp', 'log'] as const) {
      const a = new Float64Array(x.length), b = new Float64Array(x.length), c = new Float64Array(x.length);
      unaryKernel(op, x, a);
      wasmMath(op, x, b);
      unaryKernelJs(op, x, c);
      expect(a).toEqual(b);
      for (let i = 0; i < x.length; i++) expect(ulp64(a[i]!, c[i]!), `${op}(${x[i]})`).toBeLessThanOrEqual(1);
    }
  });

  it('the math Wasm module stays under 4 KiB (synchronous compile on browser main threads)', () => {
    const n = decodeBase64(mathWasmBase64).length;
    expect(n).toBeGreaterThan(500);
    expect(n).toBeLessThanOrEqual(4096);
  });
});
