// The L2 recipes on the generic bilevel loop reproduce the trajectory recorded from the original runIml bit for bit (metrics, summary, weights, checkpoints).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { recordCase, TRAJECTORY_CASES } from './l2-trajectory-cases.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/l2-trajectory.json', import.meta.url), 'utf8')) as { cases: { name: string }[] };

describe('L2 trajectory recorded before the bilevel refactor (test/fixtures/l2-trajectory.json)', () => {
  it('the fixture holds every case', () => {
    expect(fixture.cases.map((c) => c.name)).toEqual(TRAJECTORY_CASES.map((c) => c.name));
  });

  for (const [i, c] of TRAJECTORY_CASES.entries()) {
    it(`${c.name} (${c.spec}, ${c.metaKnowledge}): every meta-epoch, the summary, the final weights and the checkpoints are the recorded ones`, async () => {
      const recorded = fixture.cases[i];
      // toStrictEqual compares doubles with Object.is: bit for bit, including the non-finite ones (stored as strings).
      expect(await recordCase(c)).toStrictEqual(recorded);
    });
  }
});
