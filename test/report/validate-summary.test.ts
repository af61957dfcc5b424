// Summary validation: invalid summaries are refused naming the run and the field; aggregation refuses them before averaging.

import { describe, expect, it } from 'vitest';
import { aggregateByMethod, validateSummary } from '../../src/report/aggregate.js';
import { run, sampleResults } from './fixtures.js';

const good = () => ({ ...run('CG', 2, { trainMax: 0.9, validationMax: 0.8, test: 0.7, esTest: 0.75, bestMetaEpoch: 3, meanEpochSeconds: 0.2 }).summary });

describe('validateSummary', () => {
  it('accepts the summaries runIml writes', () => {
    for (const r of sampleResults()) expect(validateSummary(r.summary, 'x')).toBe(r.summary);
    expect(() => validateSummary({ ...good(), earlyStopEpoch: null }, 'x')).not.toThrow();
    expect(() => validateSummary({ ...good(), earlyStopEpoch: 4 }, 'x')).not.toThrow();
    // The ends of [0, 1] are accuracies too.
    expect(() => validateSummary({ ...good(), test: 1, trainMax: 0 }, 'x')).not.toThrow();
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ['accuracy above 1', { test: 1.5 }, "summary field 'test' is 1.5: is outside [0, 1]"],
    ['accuracy below 0', { trainMax: -0.1 }, "summary field 'trainMax' is -0.1: is outside [0, 1]"],
    ['NaN accuracy of a run that did not diverge', { esTest: NaN }, "summary field 'esTest' is NaN: must be a finite number"],
    ['null accuracy (NaN through JSON)', { validationMax: null }, "summary field 'validationMax' is null: must be a finite number"],
    ['infinite time', { meanEpochSeconds: Infinity }, "summary field 'meanEpochSeconds' is Infinity: must be a finite number"],
    ['negative metaEpochsRun', { metaEpochsRun: -1 }, "summary field 'metaEpochsRun' is -1: must be >= 0"],
    ['fractional bestMetaEpoch', { bestMetaEpoch: 2.5 }, "summary field 'bestMetaEpoch' is 2.5: must be an integer"],
    ['missing field', { meanApproximationSeconds: undefined }, "summary field 'meanApproximationSeconds' is missing: required"],
    ['string number', { seed: '2' }, "summary field 'seed' is \"2\": must be a finite number"],
    ['stoppedEarly not boolean', { stoppedEarly: 1 }, "summary field 'stoppedEarly' is 1: must be true or false"],
    ['diverged malformed', { diverged: { metaEpoch: 1, step: 'x', what: 'NaN' } }, "summary field 'diverged' is {\"metaEpoch\":1,\"step\":\"x\",\"what\":\"NaN\"}: its step must be a finite number"],
    ['diverged missing', { diverged: undefined }, "summary field 'diverged' is missing: required (null when the run did not diverge)"],
    ['method not a string', { method: 5 }, "summary field 'method' is 5: must be a string"],
    ['fractional seed', { seed: 1.5 }, "summary field 'seed' is 1.5: must be an integer"],
    ['fractional metaEpochsRun', { metaEpochsRun: 2.5 }, "summary field 'metaEpochsRun' is 2.5: must be an integer"],
    ['earlyStopEpoch 0', { earlyStopEpoch: 0 }, "summary field 'earlyStopEpoch' is 0: must be >= 1"],
    ['fractional earlyStopEpoch', { earlyStopEpoch: 1.5 }, "summary field 'earlyStopEpoch' is 1.5: must be an integer"],
    ['diverged a string', { diverged: 'NaN at step 3' }, "summary field 'diverged' is \"NaN at step 3\": must be null or { metaEpoch, step, what }"],
    ['diverged a list', { diverged: [1, 2] }, "summary field 'diverged' is [1,2]: must be null or { metaEpoch, step, what }"],
    ['diverged without its meta-epoch', { diverged: { step: 3, what: 'NaN' } }, "summary field 'diverged' is {\"step\":3,\"what\":\"NaN\"}: its metaEpoch must be a finite number"],
  ];
  for (const [name, patch, message] of cases) {
    it(`refuses ${name}`, () => {
      const s: Record<string, unknown> = { ...good(), ...patch };
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete s[k];
      expect(() => validateSummary(s, "run 'CG' seed 2")).toThrow(`run 'CG' seed 2: ${message}`);
    });
  }

  it('a field present with the value undefined is missing too (not judged by its type check)', () => {
    expect(() => validateSummary({ ...good(), method: undefined }, 'x')).toThrow("x: summary field 'method' is missing: required");
    expect(() => validateSummary({ ...good(), diverged: undefined }, 'x')).toThrow("x: summary field 'diverged' is missing: required (null when");
    expect(() => validateSummary(5, 'x')).toThrow('x: summary is 5, not an object');
    expect(() => validateSummary('{}', 'x')).toThrow('x: summary is "{}", not an object');
  });

  it('lets a diverged run have NaN/null accuracies (they are left out of the means) but not out-of-range ones', () => {
    const d = { metaEpoch: 2, step: 5, what: 'loss is NaN' };
    expect(() => validateSummary({ ...good(), diverged: d, test: NaN, esTest: null }, 'x')).not.toThrow();
    expect(() => validateSummary({ ...good(), diverged: d, test: 2 }, 'x')).toThrow("x: summary field 'test' is 2: is outside [0, 1]");
    expect(() => validateSummary(null, 'x')).toThrow('x: summary is null, not an object');
  });

  it('aggregateByMethod refuses an invalid summary naming the run (method and seed) and the field', () => {
    const results = sampleResults();
    results[3] = run('CG', 2, { test: 92 });
    expect(() => aggregateByMethod(results)).toThrow("run 'CG' seed 2: summary field 'test' is 92: is outside [0, 1]");
  });
});
