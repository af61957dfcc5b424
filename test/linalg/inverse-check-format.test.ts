// The inverse-check text report and its input errors in process (the CLI tests run them in child processes), every line written out.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryProbe } from '../../src/linalg/memory-probe.js';
import { formatInverseCheck, iterateText, runInverseCheck, type InverseCheckResult, type MethodRow } from '../../src/index.js';
import { builtinProblem } from '../../src/node/index.js';
import { tensor } from '../../src/index.js';

const row = (over: Partial<MethodRow>): MethodRow => ({
  method: 'm', cosine: 1, relativeError: 0, norm: 1, hypergradCosine: null, hypergradRelativeError: null, ms: 0,
  peakJsBytes: 0, peakWasmBytes: 0, hvps: 0, note: '', iterate: null, ...over,
});

const result = (): InverseCheckResult => ({
  problem: { description: 'toy problem', parameters: 12, trainLoss: 0.123456789, valLoss: 2.5, gradNorm: 0.00012345, valGradNorm: 12345.6 },
  exact: {
    method: 'ldlt', pseudoInverse: false, notes: ['Cholesky failed at pivot 3', 'second note'], n: 12, damping: 0,
    lambdaMin: -0.5, lambdaMax: 40, absLambdaMin: 0.0005, conditionNumber: 80000, spectrumSource: 'eigenvalues',
    negativeEigenvalues: 1, inertia: { positive: 10, negative: 1, zero: 1 }, droppedEigenvalues: null, rcond1: 0.25,
    factorMs: 1234, spectrumMs: 56, hessianMs: 7890, solveMs: 3.14159, residual: 1e-13, asymmetry: 0,
  },
  rows: [
    row({ method: 'exact (ldlt)', cosine: 1, relativeError: 0, norm: 3.5, hypergradCosine: 1, hypergradRelativeError: 0, ms: 9180.25, peakJsBytes: 3 * 2 ** 20, peakWasmBytes: 1.5 * 2 ** 20, hvps: 12, note: 'residual 1.00e-13' }),
    row({ method: 'cg(3)', cosine: 0.987654321, relativeError: 0.25, norm: 2.75, hypergradCosine: -0.5, hypergradRelativeError: 1.5, ms: 12.345, peakJsBytes: 2 ** 19, hvps: 3, note: '', iterate: { returned: 2, iterations: 3, residual: 0.0125, choice: 'best' } }),
    row({ method: 'neumann(3, α=0.1)', cosine: NaN, relativeError: NaN, norm: NaN, ms: 0.04, note: 'failed: out of memory' }),
  ],
});

describe('formatInverseCheck', () => {
  it('writes the problem, the exact solve with its curvature and notes, and one table row per method', () => {
    expect(formatInverseCheck(result()).split('\n')).toEqual([
      'problem: toy problem',
      '  12 parameters, training loss 0.12346 (||∇|| 1.234e-4), validation loss 2.50000 (||g|| 1.235e+4)',
      'exact: ldlt; λmin -0.5000, λmax 40.0000, min|λ| 5.000e-4, cond 8.000e+4 (eigenvalues), inertia (+10, -1, 0:1), rcond₁ 0.2500',
      '  Hessian 7.89 s (asymmetry 0.0000), spectrum 0.06 s, factor 1.23 s, solve 3.1 ms, residual ||Hx-g||/||g|| 1.000e-13',
      '  note: Cholesky failed at pivot 3',
      '  note: second note',
      '',
      '| method | cos(x, x*) | rel. error | ||x|| | hypergrad cos | hypergrad rel. err | time (ms) | peak MiB (JS + Wasm) | HVPs | CG iterate returned |',
      '|---|---|---|---|---|---|---|---|---|---|',
      '| exact (ldlt) | 1.000000 | 0.0000 | 3.5000 | 1.000000 | 0.0000 | 9180.3 | 3.00 + 1.50 | 12 | - |',
      '| cg(3) | 0.987654 | 0.2500 | 2.7500 | -0.500000 | 1.5000 | 12.3 | 0.50 + 0.00 | 3 | 2 of 3, best, residual 0.0125 |',
      '| neumann(3, α=0.1) | NaN | NaN | NaN | - | - | 0.0 | 0.00 + 0.00 | 0 | - |',
      'neumann(3, α=0.1): failed: out of memory',
    ]);
  });

  it('names the pseudo-inverse and the damping, and leaves out inertia and rcond when unknown', () => {
    const r = result();
    r.exact = { ...r.exact, method: 'eigen', pseudoInverse: true, damping: 0.001, inertia: null, rcond1: null, spectrumSource: 'lanczos', notes: [] };
    const lines = formatInverseCheck(r).split('\n');
    expect(lines[2]).toBe('exact: eigen (pseudo-inverse), damping 0.001; λmin -0.5000, λmax 40.0000, min|λ| 5.000e-4, cond 8.000e+4 (lanczos)');
    // No notes: the blank line follows the timings directly.
    expect(lines[3]!.startsWith('  Hessian ')).toBe(true);
    expect(lines[4]).toBe('');
  });

  it('formats numbers at the edges: 0 plainly, 1e4 and 1e-3 thresholds, negative small values', () => {
    const r = result();
    r.rows = [row({ method: 'a', cosine: 0, relativeError: 1e-3, norm: 9999.5, hypergradCosine: -0.0005, hypergradRelativeError: 10000, ms: 1, hvps: 1 })];
    const table = formatInverseCheck(r).split('\n').at(-1);
    expect(table).toBe('| a | 0.000000 | 0.0010 | 9999.5000 | -5.00000e-4 | 1.000e+4 | 1.0 | 0.00 + 0.00 | 1 | - |');
  });

  it('names a Neumann series whose terms grew under the table, with its note', () => {
    const r = result();
    const note = 'alpha 0.1, 50 terms; diverging: ||(I - αH)^50 v|| = 3.00e+12·||v|| (|1 - αλ| > 1 for an eigenvalue λ of H: λ < 0 or αλ > 2)';
    r.rows = [row({ method: 'neumann(50, α=0.1)', note }), row({ method: 'neumann(3, α=0.1)', note: 'alpha 0.1, 3 terms' })];
    const lines = formatInverseCheck(r).split('\n');
    expect(lines.at(-1)).toBe(`neumann(50, α=0.1): ${note}`);
    expect(lines.at(-2)!.startsWith('| neumann(3, α=0.1) |')).toBe(true);
  });

  it('iterateText: the last iterate, and "-" for methods without one', () => {
    expect(iterateText(null)).toBe('-');
    expect(iterateText({ returned: 10, iterations: 10, residual: 2e-5, choice: 'last' })).toBe('10 of 10, last, residual 2.000e-5');
  });
});

describe('runInverseCheck input errors', () => {
  const small = { imageSize: 7, hidden: 6, trainSize: 8, valSize: 6, trainSteps: 2, seed: 1 };
  const options = { neumann: [], alpha: 0.1, cg: [], ridge: 0, method: 'auto' as const, damping: 0, spectrum: 'none' as const };

  it('refuses empty training and validation batches, naming which', async () => {
    const p = builtinProblem(small);
    await expect(runInverseCheck({ ...p, train: { ...p.train, x: tensor([], [0, 49]), y: [] } }, options)).rejects.toThrow('inverse-check: the training batch is empty (it defines H)');
    await expect(runInverseCheck({ ...p, validation: { ...p.validation, x: tensor([], [0, 49]), y: [] } }, options)).rejects.toThrow('inverse-check: the validation batch is empty (it defines g)');
  });

  it('refuses more than 15000 parameters with the count', async () => {
    const p = builtinProblem(small);
    const big = { ...p, weights: [...p.weights, tensor(new Float32Array(15001 - p.weights.reduce((s, t) => s + t.size, 0)), [15001 - p.weights.reduce((s, t) => s + t.size, 0)])] };
    await expect(runInverseCheck(big, options)).rejects.toThrow(/^inverse-check: the problem has 15001 parameters; inverse-check handles at most 15000 parameters/);
  });

  it('the row carries its solve\'s memory peak: the exact row Wasm bytes of at least the dense Hessian, the approximations none', async () => {
    const p = builtinProblem(small);
    const r = await runInverseCheck(p, { ...options, neumann: [5], cg: [5] });
    const n = r.problem.parameters;
    expect(r.rows[0]!.peakWasmBytes).toBeGreaterThanOrEqual(n * n * 8);
    for (const m of r.rows) expect(m.peakJsBytes).toBeGreaterThanOrEqual(0);
    for (const m of r.rows.slice(1)) expect(m.peakWasmBytes).toBe(0);
  });
});

describe('MemoryProbe', () => {
  afterEach(() => vi.restoreAllMocks());

  it('keeps the largest growth of heapUsed + arrayBuffers over the baseline taken at construction', () => {
    const readings = [[100, 50], [130, 60], [90, 40], [200, 5], [120, 100]];
    let i = 0;
    vi.spyOn(process, 'memoryUsage').mockImplementation(() => {
      const [heapUsed, arrayBuffers] = readings[i++]!;
      return { heapUsed: heapUsed!, arrayBuffers: arrayBuffers!, rss: 0, heapTotal: 0, external: 0 };
    });
    const probe = new MemoryProbe(); // baseline 150
    expect(probe.peak).toBe(0);
    probe.sample(); // 190: +40
    expect(probe.peak).toBe(40);
    probe.sample(); // 130: below the baseline, the peak stays
    expect(probe.peak).toBe(40);
    probe.sample(); // 205: +55
    expect(probe.peak).toBe(55);
    probe.sample(); // 220: +70
    expect(probe.peak).toBe(70);
    expect(i).toBe(5);
  });

  it('reads 0 where the runtime reports no memory', () => {
    const saved = globalThis.process;
    try {
      (globalThis as { process?: unknown }).process = undefined;
      expect(MemoryProbe.now()).toBe(0);
      const probe = new MemoryProbe();
      probe.sample();
      expect(probe.peak).toBe(0);
    } finally {
      globalThis.process = saved;
    }
  });
});
