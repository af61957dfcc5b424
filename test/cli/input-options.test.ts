// The shared CLI option parsers (src/cli/options.ts) and readJsonFile (src/util/read-json.ts): exact results and exact errors.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, uniqueIntList, uniqueList } from '../../src/cli/options.js';
import { readJsonFile } from '../../src/node/read-json.js';

const fails = (f: () => unknown, message: string): void => {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(InvalidArgumentError);
  expect((err as Error).message).toBe(message);
};

describe('option parsers', () => {
  it('numbers', () => {
    expect(positiveInt('--n')('3')).toBe(3);
    expect(nonNegativeInt('--seed')('0')).toBe(0);
    expect(positiveNumber('--lr')('1e-4')).toBe(1e-4);
    expect(nonNegativeNumber('--ridge')('0')).toBe(0);
    fails(() => positiveInt('--n')('0'), "--n must be a positive integer, got '0'");
    fails(() => positiveInt('--n')('2.5'), "--n must be a positive integer, got '2.5'");
    fails(() => nonNegativeInt('--seed')('abc'), "--seed must be a non-negative integer, got 'abc'");
    fails(() => nonNegativeInt('--seed')(' '), "--seed must be a non-negative integer, got ' '");
    fails(() => positiveNumber('--lr')('Infinity'), "--lr must be a positive number, got 'Infinity'");
    fails(() => nonNegativeNumber('--ridge')('-0.1'), "--ridge must be a non-negative number, got '-0.1'");
  });

  it('lists', () => {
    expect(uniqueList('--methods')('a, b,c')).toEqual(['a', 'b', 'c']);
    expect(uniqueIntList('--seeds')('0,1,2')).toEqual([0, 1, 2]);
    fails(() => uniqueList('--methods')(''), '--methods is empty');
    fails(() => uniqueList('--methods')('a,,b'), "--methods: item 2 of 'a,,b' is empty");
    fails(() => uniqueList('--methods')('a,b,a'), "--methods: 'a' is listed twice");
    fails(() => uniqueIntList('--seeds')('0,x'), "--seeds: 'x' must be a non-negative integer, got 'x'");
    fails(() => uniqueIntList('--seeds')('1,01'), '--seeds: 1 is listed twice');
    // `iml fixmatch --labels 0` used to pass the option, write the run folder's config.json, then fail in the split.
    expect(uniqueIntList('--labels', 1)('10,25')).toEqual([10, 25]);
    fails(() => uniqueIntList('--labels', 1)('10,0'), "--labels: '0' must be a positive integer, got '0'");
    fails(() => uniqueIntList('--n', 3)('2'), "--n: '2' must be an integer >= 3, got '2'");
  });
});

describe('readJsonFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'input-read-json-'));
  it('parses, and names the file when it cannot be read or is not JSON', () => {
    const ok = join(dir, 'ok.json');
    writeFileSync(ok, '{"a": [1, 2]}');
    expect(readJsonFile(ok)).toEqual({ a: [1, 2] });
    const cut = join(dir, 'config.json');
    writeFileSync(cut, '{"a": "unterminated');
    // Node 22+ adds '(line 1 column 20)' to the message.
    expect(() => readJsonFile(cut)).toThrow(new RegExp(`^${cut.replace(/[.\\/]/g, '\\$&')}: not valid JSON \\(Unterminated string in JSON at position 19( \\(line 1 column 20\\))?\\)$`));
    expect(() => readJsonFile(cut, 'run configuration')).toThrow(/^.*config\.json \(run configuration\): not valid JSON \(Unterminated string/);
    const missing = join(dir, 'missing.json');
    expect(() => readJsonFile(missing)).toThrow(new Error(`${missing}: cannot read (ENOENT: no such file or directory, open '${missing}')`));
  });
});
