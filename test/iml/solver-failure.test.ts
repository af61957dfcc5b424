// A solver that cannot solve (the exact solve on a singular Hessian too large for the pseudo-inverse) ends its run like a divergence, recorded with its meta-epoch and step, instead of aborting the whole recipe; other errors still propagate.
import { describe, expect, it } from 'vitest';
import { registerExactSolver } from '../../src/hypergrad/hypergradient.js';
import { identityInverseHvp, SolverFailure } from '../../src/hypergrad/inverse-hvp.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import { memoryRunStore } from '../../src/iml/run-store.js';
import { runIml, type MetaEpochMetrics } from '../../src/iml/trainer.js';
import { build, config, data } from './cases.js';

/** An exact solver that answers like the identity for `good` calls, then fails as the dense solver does on a singular H. */
function failingAfter(good: number, error: () => Error): { calls: () => number } {
  let calls = 0;
  registerExactSolver(async (_hvp, b) => {
    calls++;
    if (calls > good) throw error();
    return identityInverseHvp(b);
  });
  return { calls: () => calls };
}

describe('an inverse-HVP solver failure ends the run with its step', () => {
  it('the exact method on a Hessian singular to working precision: diverged at meta-epoch 3, the first two recorded', async () => {
    const message = 'exact solver: the 6634x6634 matrix is singular to working precision and n exceeds eigenMaxN (3000) for the eigen pseudo-inverse; pass damping > 0 or raise eigenMaxN';
    const solver = failingAfter(2, () => new SolverFailure(message));
    const { model, mk } = build();
    const store = memoryRunStore<MetaEpochMetrics>();
    const r = await runIml(model, mk, data, config({ method: parseMethod('exact'), metaEpochs: 5, innerSteps: 4, checkpointEvery: 1 }), { store });
    expect(solver.calls()).toBe(3);
    expect(r.summary.diverged).toEqual({ metaEpoch: 3, step: 12, what: message });
    expect(r.metrics.map((m) => m.metaEpoch)).toEqual([1, 2]);
    expect(r.summary.metaEpochsRun).toBe(2);
    expect((await store.readMetrics(10)).map((m) => m.metaEpoch)).toEqual([1, 2]);
  });

  it('any other error from the solver still aborts the run', async () => {
    failingAfter(1, () => new Error('exact solver: the Hessian must be square, got 3x4'));
    const { model, mk } = build();
    await expect(runIml(model, mk, data, config({ method: parseMethod('exact'), metaEpochs: 3 }))).rejects.toThrow('the Hessian must be square');
  });
});
