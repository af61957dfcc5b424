// `iml inverse-check` input checks: problem files (finite numbers only, shapes against sizes before allocation, a parameter limit, non-empty batches, the field named), numeric options, and the CG-iterate column.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerInverseCheck } from '../../src/cli/inverse-check.js';
import { formatInverseCheck, iterateText, MAX_PARAMETERS, runInverseCheck, PROBLEM_FORMAT } from '../../src/index.js';
import { parseProblem } from '../../src/node/index.js';

/** A valid problem for an MLP 3-2-2 (14 parameters) with per-parameter λ; `edit` changes it. */
function problem(edit: (p: any) => void = () => {}): any {
  let s = 1;
  const r = (): number => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  const t = (shape: number[]) => ({ shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, r) });
  const p = {
    format: PROBLEM_FORMAT, version: 1, description: 'tiny',
    model: { type: 'mlp', sizes: [3, 2, 2], activation: 'tanh' },
    weights: { 'fc1.weight': t([2, 3]), 'fc1.bias': t([2]), 'fc2.weight': t([2, 2]), 'fc2.bias': t([2]) },
    regularizer: { type: 'per-parameter-l2', lambdas: { 'fc1.weight': t([2, 3]), 'fc1.bias': t([2]), 'fc2.weight': t([2, 2]), 'fc2.bias': t([2]) } },
    train: { x: t([4, 3]), y: [0, 1, 1, 0] },
    validation: { x: t([3, 3]), y: [1, 0, 1] },
  };
  edit(p);
  return JSON.parse(JSON.stringify(p));
}

const bad = async (p: unknown, message: string): Promise<void> => {
  await expect(parseProblem(p, '.', 'problem.json')).rejects.toThrow(new Error(message));
};

describe('problem files', () => {
  it('a valid file parses, nested arrays included', async () => {
    const p = await parseProblem(problem((q) => { q.weights['fc2.weight'] = [[1, 2], [3, 4]]; q.regularizer.lambdas['fc2.bias'] = [0, 1]; }));
    expect(p.names).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(Array.from(p.weights[2]!.dataSync())).toEqual([1, 2, 3, 4]);
    expect(p.weights[2]!.shape).toEqual([2, 2]);
    expect(p.train.x.shape).toEqual([4, 3]);
  });

  it('only finite numbers, with the field path named', async () => {
    // JSON.parse turns 1e400 into Infinity.
    const big = JSON.parse(JSON.stringify(problem()).replace(/("fc1\.bias":\{"shape":\[2\],"data":\[)[^,]+/, '$11e400'));
    await bad(big, 'problem.json: weights.fc1.bias.data[0] is Infinity (out of range?), expected a finite number');
    await bad(problem((q) => { q.weights['fc1.weight'].data[4] = 'NaN'; }), 'problem.json: weights.fc1.weight.data[4] is the string "NaN", expected a finite number');
    await bad(problem((q) => { q.weights['fc1.weight'].data[1] = null; }), 'problem.json: weights.fc1.weight.data[1] is null, expected a finite number');
    await bad(problem((q) => { q.weights['fc1.weight'] = [[1, 2, 3], [4, 5, null]]; }), 'problem.json: weights.fc1.weight[1][2] is null, expected a finite number');
    await bad(problem((q) => { q.train.x.data[11] = true; }), 'problem.json: train.x.data[11] is true, expected a finite number');
    await bad(problem((q) => { q.regularizer.lambdas['fc2.bias'].data[1] = {}; }), 'problem.json: regularizer.lambdas.fc2.bias.data[1] is an object, expected a finite number');
    await bad(problem((q) => { q.validation.x = [[1, 2, 3], [1, 2, 3], [1, 2, 'x']]; }), 'problem.json: validation.x[2][2] is the string "x", expected a finite number');
  });

  it('sizes are checked, and the parameter limit, before anything is allocated', async () => {
    await bad(problem((q) => { q.model.sizes = [10000, 10000, 10]; delete q.weights; }),
      `problem.json: model.sizes: an MLP 10000-10000-10 has 100110010 parameters; inverse-check handles at most ${MAX_PARAMETERS} parameters (the exact solve keeps the dense n×n Hessian and a factor, 16·n² bytes, in the 4 GiB wasm32 memory)`);
    expect(MAX_PARAMETERS).toBe(15000);
    await bad(problem((q) => { q.model.sizes = [3, 0, 2]; }), 'problem.json: model.sizes[1] is 0, expected a positive integer');
    await bad(problem((q) => { q.model.sizes = [3, 2.5, 2]; }), 'problem.json: model.sizes[1] is 2.5, expected a positive integer');
    await bad(problem((q) => { q.model.sizes = [3, '2', 2]; }), 'problem.json: model.sizes[1] is the string "2", expected a positive integer');
    await bad(problem((q) => { q.model.activation = 'gelu'; }), 'problem.json: model.activation is the string "gelu", expected "relu", "tanh" or "sigmoid"');
  });

  it('shapes are checked against the sizes, blaming the field at fault', async () => {
    await bad(problem((q) => { q.weights['fc1.weight'].shape = [3, 2]; }), 'problem.json: weights.fc1.weight.shape is [3, 2], expected [2, 3]');
    await bad(problem((q) => { q.weights['fc1.weight'].shape = [100000, 100000]; }), 'problem.json: weights.fc1.weight.shape is [100000, 100000], expected [2, 3]');
    await bad(problem((q) => { q.weights['fc1.weight'].data.pop(); }), 'problem.json: weights.fc1.weight.data has 5 values, shape [2, 3] needs 6');
    await bad(problem((q) => { q.weights['fc1.weight'] = [[1, 2, 3], [4, 5]]; }), 'problem.json: weights.fc1.weight[1] has 2 entries, expected 3 (shape [2, 3])');
    await bad(problem((q) => { q.weights['fc1.weight'] = [1, 2, 3]; }), 'problem.json: weights.fc1.weight has 3 entries, expected 2 (shape [2, 3])');
    await bad(problem((q) => { q.weights['fc3.weight'] = [1]; }), 'problem.json: weights.fc3.weight is not a parameter of the MLP 3-2-2 (its parameters: fc1.weight, fc1.bias, fc2.weight, fc2.bias)');
    await bad(problem((q) => { delete q.weights['fc2.bias']; }), 'problem.json: no weights for fc2.bias (give "weights" or "checkpoint")');
    await bad(problem((q) => { q.regularizer.lambdas['fc1.bias'] = { shape: [1], data: [0] }; }), 'problem.json: regularizer.lambdas.fc1.bias.shape is [1], expected [2]');
    await bad(problem((q) => { q.regularizer = { type: 'per-tensor-l2', lambdas: { 'fc1.weight': [1, 2] } }; }), 'problem.json: regularizer.lambdas.fc1.weight has 2 entries, expected 1 (shape [1])');
    await bad(problem((q) => { q.regularizer = { type: 'l1' }; }), 'problem.json: regularizer.type is the string "l1", expected "per-parameter-l2", "per-tensor-l2" or "none"');
    await bad(problem((q) => { q.train.x.shape = [4, 2]; q.train.x.data = q.train.x.data.slice(0, 8); }), 'problem.json: train.x.shape is [4, 2], expected [4, 3]');
    await bad(problem((q) => { q.train.y = [0, 1, 1]; }), 'problem.json: train.x has 4 rows but train.y has 3 labels');
    await bad(problem((q) => { q.validation.y[2] = 2; }), 'problem.json: validation.y[2] is 2, expected a class in [0, 2)');
    await bad(problem((q) => { q.validation.y[0] = null; }), 'problem.json: validation.y[0] is null, expected a class in [0, 2)');
  });

  it('an empty training or validation batch is refused', async () => {
    await bad(problem((q) => { q.train = { x: { shape: [0, 3], data: [] }, y: [] }; }), 'problem.json: train.y is empty; the training batch (which defines H) needs at least one sample');
    await bad(problem((q) => { q.validation = { x: [], y: [] }; }), 'problem.json: validation.y is empty; the validation batch (which defines g) needs at least one sample');
  });

  it('per-tensor λ accepts a number, [x] or {shape: [], data: [x]}', async () => {
    const p = await parseProblem(problem((q) => {
      q.regularizer = { type: 'per-tensor-l2', lambdas: { 'fc1.weight': -3, 'fc1.bias': [-2], 'fc2.weight': { shape: [], data: [-1] }, 'fc2.bias': { shape: [1], data: [0] } } };
    }));
    expect(p.lambdas.map((l) => [l.shape, l.item()])).toEqual([[[], -3], [[], -2], [[], -1], [[], 0]]);
  });
});

/** Runs `iml inverse-check ...args` in-process; returns the error message (or '') and the stdout lines. */
async function command(args: string[]): Promise<{ error: string; out: string }> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerInverseCheck(program);
  const logs: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (s: string) => logs.push(s);
  console.error = () => {};
  try {
    await program.parseAsync(['node', 'iml', 'inverse-check', ...args]);
    return { error: '', out: logs.join('\n') };
  } catch (e) {
    return { error: (e as Error).message, out: logs.join('\n') };
  } finally {
    console.log = log;
    console.error = err;
  }
}

describe('the command', () => {
  it.each([
    [['--train-steps', 'abc'], "error: option '--train-steps <n>' argument 'abc' is invalid. --train-steps must be a non-negative integer, got 'abc'"],
    [['--seed', 'x'], "error: option '--seed <n>' argument 'x' is invalid. --seed must be a non-negative integer, got 'x'"],
    [['--seed', '-2'], "error: option '--seed <n>' argument '-2' is invalid. --seed must be a non-negative integer, got '-2'"],
    [['--alpha', '0'], "error: option '--alpha <x>' argument '0' is invalid. --alpha must be a positive number, got '0'"],
    [['--ridge', 'NaN'], "error: option '--ridge <x>' argument 'NaN' is invalid. --ridge must be a non-negative number, got 'NaN'"],
    [['--damping', '-1'], "error: option '--damping <x>' argument '-1' is invalid. --damping must be a non-negative number, got '-1'"],
    [['--lr', 'abc'], "error: option '--lr <x>' argument 'abc' is invalid. --lr must be a positive number, got 'abc'"],
    [['--train-size', '0'], "error: option '--train-size <n>' argument '0' is invalid. --train-size must be a positive integer, got '0'"],
    [['--neumann', '3,3'], "error: option '--neumann <k,...>' argument '3,3' is invalid. --neumann: '3' is listed twice"],
    [['--cg', '3,,5'], "error: option '--cg <k,...>' argument '3,,5' is invalid. --cg: item 2 of '3,,5' is empty"],
    [['--cg', '3,x'], "error: option '--cg <k,...>' argument '3,x' is invalid. --cg: 'x' must be a non-negative integer, got 'x'"],
  ])('%j is refused', async (args, message) => {
    expect((await command(args)).error).toBe(message);
  });

  it('the built-in problem is checked before any data is loaded', async () => {
    expect((await command(['--image-size', '29'])).error).toBe("inverse-check: --image-size 29 is larger than MNIST's 28x28 images");
    expect((await command(['--hidden', '100'])).error).toBe(
      `inverse-check: the built-in problem (--image-size, --hidden): an MLP 196-100-10 has 20710 parameters; inverse-check handles at most ${MAX_PARAMETERS} parameters (the exact solve keeps the dense n×n Hessian and a factor, 16·n² bytes, in the 4 GiB wasm32 memory)`);
  });

  it('--json and --save-problem destinations that cannot be written are refused before anything is built', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inverse-check-input-'));
    const taken = join(dir, 'taken');
    writeFileSync(taken, 'x');
    expect((await command(['--json', join(taken, 'r.json')])).error).toBe(`--json ${join(taken, 'r.json')}: cannot be written (EEXIST: file already exists, mkdir '${taken}')`);
    expect((await command(['--save-problem', join(taken, 'p.json')])).error).toBe(`--save-problem ${join(taken, 'p.json')}: cannot be written (EEXIST: file already exists, mkdir '${taken}')`);
  });

  it('a problem file that is not valid JSON, or has a bad field, is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inverse-check-input-'));
    const file = join(dir, 'problem.json');
    writeFileSync(file, JSON.stringify(problem()).slice(0, 100));
    expect((await command(['--problem', file])).error).toMatch(new RegExp(`^${file.replace(/[.\\/]/g, '\\$&')}: not valid JSON \\((Unterminated|Expected|Unexpected).*\\)$`));
    writeFileSync(file, JSON.stringify(problem((q) => { q.train.x.data[0] = null; })));
    expect((await command(['--problem', file])).error).toBe(`${file}: train.x.data[0] is null, expected a finite number`);
    expect((await command(['--problem', join(dir, 'missing.json')])).error).toMatch(/^.*missing\.json: cannot read \(ENOENT: no such file or directory, open '.*missing\.json'\)$/);
  });

  it('the table says which CG iterate was returned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inverse-check-input-'));
    const file = join(dir, 'problem.json');
    writeFileSync(file, JSON.stringify(problem()));
    const { error, out } = await command(['--problem', file, '--neumann', '2', '--cg', '1,30', '--no-progress', '--damping', '0']);
    expect(error).toBe('');
    expect(out).toContain('| HVPs | CG iterate returned |');
    expect(out).toMatch(/\| cg\(1\) \|.*\| 1 \| 1 of 1, last, residual [0-9.e+-]+ \|/);
    expect(out).toMatch(/\| cg\(30\) \|.*\| \d+ of \d+, (best|last), residual [0-9.e+-]+ \|/);
    expect(out).toMatch(/\| identity \|.*\| 0 \| - \|/);
  });

  it('iterateText and the rows', async () => {
    expect(iterateText(null)).toBe('-');
    expect(iterateText({ returned: 7, iterations: 10, residual: 0.0125, choice: 'best' })).toBe('7 of 10, best, residual 0.0125');
    expect(iterateText({ returned: 10, iterations: 10, residual: 2e-5, choice: 'last' })).toBe('10 of 10, last, residual 2.000e-5');
    const p = await parseProblem(problem());
    const r = await runInverseCheck(p, { neumann: [], alpha: 0.1, cg: [5], ridge: 0, method: 'auto', damping: 0, spectrum: 'auto' });
    const cg = r.rows.find((m) => m.method === 'cg(5)')!;
    expect(cg.iterate).not.toBeNull();
    expect(cg.iterate!.iterations).toBeLessThanOrEqual(5);
    expect(cg.note).toContain(`returned iterate ${cg.iterate!.returned} `);
    expect(r.rows[0]!.iterate).toBeNull();
    expect(formatInverseCheck(r)).toContain(iterateText(cg.iterate));
  });

  it('runInverseCheck refuses an empty batch and too many parameters', async () => {
    const p = await parseProblem(problem());
    const o = { neumann: [], alpha: 0.1, cg: [], ridge: 0, method: 'auto' as const, damping: 0, spectrum: 'auto' as const };
    await expect(runInverseCheck({ ...p, train: { x: p.train.x, y: [] } }, o)).rejects.toThrow(new Error('inverse-check: the training batch is empty (it defines H)'));
    await expect(runInverseCheck({ ...p, validation: { x: p.validation.x, y: [] } }, o)).rejects.toThrow(new Error('inverse-check: the validation batch is empty (it defines g)'));
  });
});
