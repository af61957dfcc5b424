// l2Problem's inner steps rebuild the decay coefficients c = 2 softplus(λ)² whenever any λ tensor is replaced, also when only some are: against a problem that never saw the old λ.
import { describe, expect, it } from 'vitest';
import { add } from '../../src/core/ops.js';
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
