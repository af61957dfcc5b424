// Commander argument parsers for the CLI's numeric and list options: each rejects bad input with the option's name and the offending text.

import { InvalidArgumentError, Option } from 'commander';

const num = (name: string, v: string, ok: (n: number) => boolean, what: string): number => {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!ok(n)) throw new InvalidArgumentError(`${name} must be ${what}, got '${v}'`);
  return n;
};

export const positiveInt = (name: string) => (v: string): number => num(name, v, (n) => Number.isInteger(n) && n > 0, 'a positive integer');
export const nonNegativeInt = (name: string) => (v: string): number => num(name, v, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');
export const positiveNumber = (name: string) => (v: string): number => num(name, v, (n) => Number.isFinite(n) && n > 0, 'a positive number');
export const nonNegativeNumber = (name: string) => (v: string): number => num(name, v, (n) => Number.isFinite(n) && n >= 0, 'a non-negative number');

/** A comma-separated list with no empty item and no item twice. */
export const uniqueList = (name: string) => (v: string): string[] => {
  const items = v.split(',').map((s) => s.trim());
  if (items.length === 1 && items[0] === '') throw new InvalidArgumentError(`${name} is empty`);
  const empty = items.indexOf('');
  if (empty >= 0) throw new InvalidArgumentError(`${name}: item ${empty + 1} of '${v}' is empty`);
  const dup = items.find((s, i) => items.indexOf(s) !== i);
  if (dup !== undefined) throw new InvalidArgumentError(`${name}: '${dup}' is listed twice`);
  return items;
};

/** A comma-separated list of distinct integers >= min (default 0). */
export const uniqueIntList = (name: string, min = 0) => (v: string): number[] => {
  const items = uniqueList(name)(v);
  const what = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
  const out = items.map((s) => num(`${name}: '${s}'`, s, (n) => Number.isInteger(n) && n >= min, what).valueOf());
  const dup = out.find((x, i) => out.indexOf(x) !== i);
  if (dup !== undefined) throw new InvalidArgumentError(`${name}: ${dup} is listed twice`);
  return out;
};

/** `--ema-bn live|recompute`: the batch-norm statistics an evaluated EMA model uses (iml fixmatch, iml confidence). */
export const emaBatchNormOption = (): Option =>
  new Option('--ema-bn <mode>', "batch-norm statistics of the evaluated EMA model: 'live' (the live model's, as the references) or 'recompute' (re-estimated at the EMA weights on 2048 un-augmented training images)").choices(['live', 'recompute']).default('live');
