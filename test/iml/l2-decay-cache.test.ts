// l2Problem's inner steps rebuild the decay coefficients c = 2 softplus(λ)² whenever any λ tensor is replaced, also when only some are: against a problem that never saw the old λ; its meta-step batches are made on first use and again after a scope disposed them.
import { describe, expect, it } from 'vitest';
import { add } from '../../src/core/ops.js';
import { tidy } from '../../src/core/scope.js';
import { l2Problem } from '../../src/iml/l2-problem.js';
import { Random } from '../../src/util/random.js';
import { build, data } from './cases.js';

const options = { innerBatch: 8, innerLr: 1e-2, metaSubset: 0 };

/** Two inner steps: the first with λ, the second with `second(λ)`; the parameters after them. */
async function twoSteps(second: (lam: ReturnType<ReturnType<typeof build>['mk']['init']>) => typeof lam): Promise<number[][]> {
  const { model, mk } = build();
  const problem = l2Problem(model, mk, data, options);
  const rng = new Random(3);
  const lam = problem.init(rng);
  for (const l of [lam, second(lam)]) {
    const s = await problem.innerStep(l, { rng, metaEpoch: 1, step: 0 });
    await s.apply();
  }
  return model.parameters().map((p) => Array.from(p.value.toArray()));
}

describe('l2Problem decay coefficients follow λ', () => {
  it('replacing one λ tensor of four changes the next step exactly as a fresh problem would', async () => {
    // Only λ of the second tensor changes (+3: a much larger decay); the others stay the same objects.
    const partly = await twoSteps((lam) => lam.map((l, i) => (i === 1 ? add(l, 3) : l)));
    // The same values, every tensor a new object.
    const fresh = await twoSteps((lam) => lam.map((l, i) => add(l, i === 1 ? 3 : 0)));
    const unchanged = await twoSteps((lam) => lam);
    expect(partly).toEqual(fresh);
    // The control: the change matters for the second tensor's weights.
    expect(partly[1]).not.toEqual(unchanged[1]);
  });
});

describe('l2Problem meta-step batches', () => {
  it('made on first use, and made again when a scope inside the meta-step disposed them (the same loss values)', async () => {
    const { model, mk } = build();
    const problem = l2Problem(model, mk, data, options);
    const rng = new Random(4);
    const lam = problem.init(rng);
    const w = model.parameters().map((p) => p.value);
    const objective = await problem.metaObjective(w, lam, rng);
    // The first evaluation inside a tidy scope disposes the batch it makes; the next one must not read it.
    const first = tidy(() => objective.trainLoss(w, lam).toArray()[0]);
    const again = objective.trainLoss(w, lam).toArray()[0];
    const twice = objective.trainLoss(w, lam).toArray()[0];
    expect(again).toBe(first);
    expect(twice).toBe(first);
    const v1 = tidy(() => objective.valLoss(w, lam).toArray()[0]);
    expect(objective.valLoss(w, lam).toArray()[0]).toBe(v1);
    // A training loss and a validation loss: different data.
    expect(v1).not.toBe(first);
  });
});
