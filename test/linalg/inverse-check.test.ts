// `iml inverse-check`: the comparison on a small built-in problem, problem files (inline weights or a checkpoint) and the command's JSON output.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerInverseCheck } from '../../src/cli/inverse-check.js';
import { formatInverseCheck, problemToJson, runInverseCheck, PROBLEM_FORMAT, type InverseCheckResult } from '../../src/index.js';
import { builtinProblem, parseProblem, saveCheckpoint } from '../../src/node/index.js';
import { tensor } from '../../src/index.js';

const small = { imageSize: 7, hidden: 6, trainSize: 16, valSize: 12, trainSteps: 30, seed: 3 };
const options = { neumann: [3, 200], alpha: 0.1, cg: [3, 200], ridge: 0, method: 'auto' as const, damping: 0, spectrum: 'auto' as const };

describe('inverse-check', () => {
  const problem = builtinProblem(small);
  const n = problem.weights.reduce((s, t) => s + t.size, 0);

  it('compares every method with the exact solution', async () => {
    const r: InverseCheckResult = await runInverseCheck(problem, options);
    expect(r.problem.parameters).toBe(n);
    expect(n).toBe(49 * 6 + 6 + 6 * 10 + 10);
    expect(r.exact.residual).toBeLessThan(1e-10);
    expect(r.exact.spectrumSource).toBe('eigenvalues');
    expect(['cholesky', 'ldlt', 'eigen']).toContain(r.exact.method);
    expect(r.exact.hessianMs).toBeGreaterThan(0);
    const names = r.rows.map((m) => m.method);
    expect(names).toEqual([`exact (${r.exact.method})`, 'neumann(3, α=0.1)', 'neumann(200, α=0.1)', 'cg(3)', 'cg(200)', 'identity']);
    const exact = r.rows[0]!;
    expect(exact.cosine).toBeCloseTo(1, 12);
    expect(exact.relativeError).toBe(0);
    expect(exact.hvps).toBe(n);
    expect(exact.peakWasmBytes).toBeGreaterThanOrEqual(n * n * 8);
    for (const m of r.rows) {
      expect(Math.abs(m.cosine)).toBeLessThanOrEqual(1 + 1e-12);
      expect(m.relativeError).toBeGreaterThanOrEqual(0);
      expect(m.hypergradCosine).not.toBeNull();
      expect(m.ms).toBeGreaterThanOrEqual(0);
    }
    const identity = r.rows.at(-1)!;
    expect(identity.hvps).toBe(0);
    expect(identity.norm).toBeCloseTo(r.problem.valGradNorm, 12);
    const text = formatInverseCheck(r);
    expect(text).toMatch(/\| method \| cos\(x, x\*\) \| rel\. error \|/);
    expect(text).toMatch(/exact: (cholesky|ldlt|eigen)/);
  });

  it('damping: CG with ridge δ matches the exact (H + δI)⁻¹g after enough steps', async () => {
    // With δ above the most negative eigenvalue H + δI is positive definite and CG converges.
    const probe = await runInverseCheck(problem, { ...options, neumann: [], cg: [], spectrum: 'full' });
    const damping = Math.max(0, -probe.exact.lambdaMin) + 0.1;
    const r = await runInverseCheck(problem, { ...options, neumann: [], cg: [400], ridge: damping, damping });
    expect(r.exact.method).toBe('cholesky');
    const cg = r.rows.find((m) => m.method.startsWith('cg'))!;
    expect(cg.relativeError).toBeLessThan(1e-8);
    expect(cg.cosine).toBeCloseTo(1, 10);
  });

  it('problem files: inline weights round-trip; a checkpoint supplies weights and λ', async () => {
    const json = problemToJson(problem);
    expect(json.format).toBe(PROBLEM_FORMAT);
    const back = await parseProblem(JSON.parse(JSON.stringify(json)));
    expect(back.names).toEqual(problem.names);
    back.weights.forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(problem.weights[i]!.dataSync())));
    back.lambdas.forEach((l, i) => expect(Array.from(l.dataSync())).toEqual(Array.from(problem.lambdas[i]!.dataSync())));
    expect(back.train.y).toEqual(problem.train.y);

    // Weights and λ from an IML-trainer-style checkpoint, data inline, λ per tensor.
    const dir = mkdtempSync(join(tmpdir(), 'inverse-check-'));
    const params: Record<string, ReturnType<typeof tensor>> = {};
    problem.names.forEach((name, i) => {
      params[name] = problem.weights[i]!;
      params[`lam:${name}.l2`] = tensor([-2 - i], [], { dtype: 'float64' });
    });
    await saveCheckpoint(join(dir, 'ck.json'), { params, step: 7 });
    const file = { ...json, weights: undefined, checkpoint: 'ck.json', regularizer: { type: 'per-tensor-l2' } };
    const fromCk = await parseProblem(JSON.parse(JSON.stringify(file)), dir);
    fromCk.weights.forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(problem.weights[i]!.dataSync())));
    expect(fromCk.lambdas.map((l) => l.item())).toEqual([-2, -3, -4, -5]);
    const r = await runInverseCheck(fromCk, { ...options, neumann: [3], cg: [3] });
    expect(r.exact.residual).toBeLessThan(1e-10);

    // Clear errors for malformed files.
    await expect(parseProblem({ format: 'x' })).rejects.toThrow(/"format" must be/);
    await expect(parseProblem({ ...json, weights: { 'fc1.weight': json.weights && (json.weights as Record<string, unknown>)['fc1.weight'] } })).rejects.toThrow(/no weights for fc1.bias/);
    const badY = { ...json, train: { ...(json.train as object), y: [99] } };
    await expect(parseProblem(badY)).rejects.toThrow(new Error('problem file: train.y[0] is 99, expected a class in [0, 10)'));
    await expect(parseProblem({ ...json, train: { ...(json.train as object), y: [1] } })).rejects.toThrow(new Error('problem file: train.x has 16 rows but train.y has 1 labels'));
  });

  it('the command writes the table and the JSON file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inverse-check-cli-'));
    const problemFile = join(dir, 'p.json');
    writeFileSync(problemFile, JSON.stringify(problemToJson(problem)));
    const out = join(dir, 'r.json');
    const program = new Command().exitOverride();
    registerInverseCheck(program);
    const logs: string[] = [];
    const log = console.log;
    const err = console.error;
    console.log = (s: string) => logs.push(s);
    console.error = () => {};
    try {
      await program.parseAsync(['node', 'iml', 'inverse-check', '--problem', problemFile, '--json', out, '--neumann', '3,10', '--cg', '5', '--no-progress']);
    } finally {
      console.log = log;
      console.error = err;
    }
    expect(logs.join('\n')).toMatch(/neumann\(10, α=0\.1\)/);
    const r = JSON.parse(readFileSync(out, 'utf8')) as InverseCheckResult;
    expect(r.rows.map((m) => m.method)).toEqual([`exact (${r.exact.method})`, 'neumann(3, α=0.1)', 'neumann(10, α=0.1)', 'cg(5)', 'identity']);
    expect(r.problem.parameters).toBe(n);
  });
});
