// Neumann and CG hold a bounded number of vector lists however many steps they take: the peak of live CPU-heap bytes during a solve is the same for 4 and 40 steps, a few lists at most, and only the returned solution outlives the solve; the caller's b and warm start are never disposed.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { tensor } from '../../src/core/creation.js';
import { mul } from '../../src/core/ops.js';
import { cgInverseHvp, neumannInverseHvp, type LinearOperator } from '../../src/hypergrad/inverse-hvp.js';
import type { VectorList } from '../../src/hypergrad/vector-list.js';
import { Random } from '../../src/util/random.js';

const backend = new CpuBackend({ heap: true });
const heap = backend.heap()!;
const N = 1 << 16; // two tensors of 64k floats: one list is 512 KiB
const LIST = 2 * N * 4;
const rng = new Random(5);
const vec = (f: () => number): VectorList => [0, 1].map(() => tensor(Float32Array.from({ length: N }, f), [N], { backend }));
// A well-conditioned SPD diagonal operator (eigenvalues in [1, 2]): CG and Neumann (α = 0.5) both converge.
const diag = vec(() => 1 + rng.uniform());
const b = vec(() => rng.uniform() - 0.5);
const init = vec(() => 0.1);

/** Peak live heap bytes above the start while the solve runs (sampled at every operator application), and what stays live. */
async function measure(solve: (hvp: LinearOperator) => Promise<VectorList>): Promise<{ peak: number; after: number; x: number[] }> {
  const live0 = heap.stats().liveBytes;
  let peak = 0;
  const hvp: LinearOperator = (v) => {
    peak = Math.max(peak, heap.stats().liveBytes - live0);
    return v.map((t, i) => mul(t, diag[i]));
  };
  const x = await solve(hvp);
  const after = heap.stats().liveBytes - live0;
  const values = Array.from(x[0].dataSync().slice(0, 4));
  for (const t of x) t.dispose();
  return { peak, after, x: values };
}

describe('inverse-HVP solvers keep their memory bounded', () => {
  it('Neumann: the same peak for 4 and 40 steps (a few lists), only the solution survives', async () => {
    const r4 = await measure(async (hvp) => (await neumannInverseHvp(hvp, b, { alpha: 0.5, steps: 4 })).x);
    const r40 = await measure(async (hvp) => (await neumannInverseHvp(hvp, b, { alpha: 0.5, steps: 40 })).x);
    expect(r40.peak).toBe(r4.peak);
    expect(r40.peak).toBeLessThanOrEqual(4 * LIST);
    expect(r4.after).toBe(LIST); // the returned x
    expect(r40.after).toBe(LIST);
    // Converged: x = b / diag.
    const bx = b[0].dataSync(), d = diag[0].dataSync();
    r40.x.forEach((v, i) => expect(v).toBeCloseTo(bx[i] / d[i], 4));
  });

  it('CG (cold and warm start, with ridge): the same peak for 4 and 40 steps, b and the warm start intact', async () => {
    for (const opts of [{}, { init }, { ridge: 0.1 }]) {
      const run = (steps: number) => measure(async (hvp) => (await cgInverseHvp(hvp, b, { steps, tol: 0, ...opts })).x);
      const r4 = await run(4);
      const r40 = await run(40);
      expect(r40.peak, JSON.stringify(Object.keys(opts))).toBe(r4.peak);
      expect(r40.peak).toBeLessThanOrEqual(8 * LIST);
      expect(r40.after).toBe(LIST);
    }
    // The caller's vectors are untouched and usable.
    expect(b.every((t) => !t.isDisposed) && init.every((t) => !t.isDisposed)).toBe(true);
    expect(init[1].dataSync()[7]).toBeCloseTo(0.1, 6);
  });

  it('CG with an operator that hands back its input (H = I): the direction p it was given stays alive', async () => {
    // A(p) is p's own tensors here, so freeing A(p) without keeping p would free p.
    const identity: LinearOperator = (v) => v;
    const r = await measure(async () => (await cgInverseHvp(identity, b, { steps: 3 })).x);
    const bx = b[0].dataSync();
    r.x.forEach((v, i) => expect(v).toBeCloseTo(bx[i], 5));
    expect(r.after).toBe(LIST);
    // Warm-started, A(x₀) is the caller's x₀ itself.
    const w = await measure(async () => (await cgInverseHvp(identity, b, { steps: 3, init })).x);
    w.x.forEach((v, i) => expect(v).toBeCloseTo(bx[i], 5));
    expect(init.every((t) => !t.isDisposed)).toBe(true);
    expect(init[0].dataSync()[3]).toBeCloseTo(0.1, 6);
  });

  it('CG on an indefinite operator returns its best iterate alive and frees the rest', async () => {
    // Eigenvalues ±1..2: the residual is not monotone, so the best iterate is an earlier one, held while later ones are made and dropped.
    const sign = [0, 1].map(() => tensor(Float32Array.from({ length: N }, (_, i) => (i % 3 === 0 ? -1 : 1) * (1 + (i % 7) / 7)), [N], { backend }));
    const indefinite: LinearOperator = (v) => v.map((t, i) => mul(t, sign[i]));
    const live0 = heap.stats().liveBytes;
    const r = await cgInverseHvp(indefinite, b, { steps: 5 }); // residuals here: 2.9, 0.39, 1.05, 0.14, 0.37
    expect(r.iterate?.choice).toBe('best');
    expect(r.iterate!.returned).toBeLessThan(r.iterate!.iterations);
    // The returned x is readable and is the iterate whose residual the note reports.
    const res = sign.map((s, i) => {
      const sx = s.dataSync(), xx = r.x[i].dataSync(), bb = b[i].dataSync();
      let rr = 0;
      for (let j = 0; j < N; j++) rr += (bb[j] - sx[j] * xx[j]) ** 2;
      return rr;
    });
    const bn = Math.hypot(...b.map((t) => Math.hypot(...t.dataSync())));
    expect(Math.sqrt(res[0] + res[1]) / bn).toBeCloseTo(r.iterate!.residual, 4);
    expect(heap.stats().liveBytes - live0).toBe(LIST);
    r.x.forEach((t) => t.dispose());
    sign.forEach((t) => t.dispose());
  });
});
