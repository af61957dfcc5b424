// Checks a run's summary (summary.json or runIml's result) before it is aggregated: fields present, of the right type and in range.

import type { ImlSummary } from '../iml/trainer.js';

type Check = (v: unknown) => string | null;

const describe = (v: unknown): string => {
  if (v === undefined) return 'missing';
  if (typeof v === 'number') return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

const isNum = (v: unknown): v is number => typeof v === 'number';

const finiteAtLeast = (lo: number, integer = false): Check => (v) => {
  if (!isNum(v) || !Number.isFinite(v)) return 'must be a finite number';
  if (integer && !Number.isInteger(v)) return 'must be an integer';
  if (v < lo) return `must be >= ${lo}`;
  return null;
};

const unitInterval: Check = (v) => (!isNum(v) || !Number.isFinite(v) ? 'must be a finite number' : v < 0 || v > 1 ? 'is outside [0, 1]' : null);
const str: Check = (v) => (typeof v === 'string' ? null : 'must be a string');
const bool: Check = (v) => (typeof v === 'boolean' ? null : 'must be true or false');

const ACCURACIES = ['trainMax', 'validationMax', 'test', 'esTest'] as const;

/**
 * Throws `${where}: summary field '<field>' is <value>: <problem>` for the first field of `summary` that is
 * missing, of the wrong type or out of range: accuracies in [0, 1] (a diverged run may have NaN/null ones,
 * it is left out of the means), counts and meta-epochs non-negative integers, times and bytes finite and
 * non-negative, `diverged` null or { metaEpoch, step, what }. Returns the summary typed.
 */
export function validateSummary(summary: unknown, where: string): ImlSummary {
  if (summary === null || typeof summary !== 'object' || Array.isArray(summary)) {
    throw new Error(`${where}: summary is ${describe(summary)}, not an object`);
  }
  const s = summary as Record<string, unknown>;
  const fail = (field: string, problem: string): never => {
    throw new Error(`${where}: summary field '${field}' is ${describe(s[field])}: ${problem}`);
  };
  const check = (field: string, c: Check): void => {
    if (!(field in s) || s[field] === undefined) fail(field, 'required');
    const problem = c(s[field]);
    if (problem) fail(field, problem);
  };
  check('method', str);
  check('metaKnowledge', str);
  check('seed', finiteAtLeast(0, true));
  check('metaEpochsRun', finiteAtLeast(0, true));
  check('stoppedEarly', bool);
  if (s.earlyStopEpoch !== undefined && s.earlyStopEpoch !== null) check('earlyStopEpoch', finiteAtLeast(1, true));
  if (!('diverged' in s) || s.diverged === undefined) fail('diverged', 'required (null when the run did not diverge)');
  const d = s.diverged;
  if (d !== null) {
    const dv = d as Record<string, unknown>;
    if (typeof d !== 'object' || Array.isArray(d)) fail('diverged', 'must be null or { metaEpoch, step, what }');
    if (finiteAtLeast(0, true)(dv.metaEpoch)) fail('diverged', `its metaEpoch ${finiteAtLeast(0, true)(dv.metaEpoch)}`);
    if (finiteAtLeast(0, true)(dv.step)) fail('diverged', `its step ${finiteAtLeast(0, true)(dv.step)}`);
    if (typeof dv.what !== 'string') fail('diverged', 'its what must be a string');
  }
  for (const f of ACCURACIES) {
    // A diverged run's accuracies may be NaN (written to JSON as null): it is left out of the means anyway.
    if (d !== null && (s[f] === null || (isNum(s[f]) && Number.isNaN(s[f])))) continue;
    check(f, unitInterval);
  }
  check('bestMetaEpoch', finiteAtLeast(0, true));
  check('meanEpochSeconds', finiteAtLeast(0));
  check('meanApproximationSeconds', finiteAtLeast(0));
  check('maxApproximationBytes', finiteAtLeast(0));
  return summary as ImlSummary;
}
