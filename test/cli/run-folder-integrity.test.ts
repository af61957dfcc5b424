// The run folder through the real CLI: provenance, refused overwrites and mismatched resumes, a lock against concurrent writers, stale locks and temp files after kill -9, report idempotence.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliBundle, runCli, startCli } from './cli-harness.js';

const base = mkdtempSync(join(tmpdir(), 'iml-cli-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
beforeAll(async () => {
  await cliBundle();
}, 120_000);

/** A tiny protocol of the compare recipe (MNIST 14x14, 200/100/100, MLP 196-16-10). */
const settings = (o: Record<string, unknown> = {}): string => {
  const p = join(base, `settings-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, JSON.stringify({
    methods: ['baseline', 'neumann:3'], seeds: [0], imageSize: 14, hidden: 16, split: { train: 200, validation: 100, test: 100 },
    config: { innerSteps: 5, innerBatch: 32, warmupSteps: 0, metaEpochs: 3, metaSubset: 50, checkpointEvery: 1, ...o },
  }));
  return p;
};
const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };

describe('iml CLI run folders', () => {
  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('records provenance, prints a line per meta-epoch off a terminal, refuses to overwrite, and report leaves config.json byte-identical', async () => {
    const out = join(base, 'run1');
    const cfg = settings();
    const r = await runCli(['experiment', 'compare', '--config', cfg, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^neumann:3|Neumann\(3, α=0\.1\) seed 0: meta-epoch 1\/3 \| val loss [\d.]+ acc [\d.]+% \| test acc [\d.]+% \| hypergrad norm [\d.e+-]+ \| [\d.]+ s$/m);
    expect(r.stdout.match(/meta-epoch \d\/3/g)).toHaveLength(6);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.provenance).toMatchObject({ packageVersion: pkg.version, node: process.version, backend: 'cpu (tensors in the Wasm heap, SIMD kernels on pointers)' });
    expect(config.provenance.commandLine).toBe(`iml experiment compare --config ${cfg} --out ${out}`);
    expect(typeof config.provenance.gitCommit === 'string' || config.provenance.gitCommit === null).toBe(true);
    expect(config).toMatchObject({ recipe: 'compare', methods: ['baseline', 'neumann:3'], seeds: [0], hidden: 16, imageSize: 14, dataset: 'mnist' });
    expect(config.config).toMatchObject({ innerSteps: 5, metaEpochs: 3, metaSubset: 50 });
    expect(existsSync(join(out, '.iml-lock'))).toBe(false);

    const again = await runCli(['experiment', 'compare', '--config', cfg, '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`iml: ${out} already holds a run (config.json); pass --resume to continue it or --force to delete its runs and start afresh`);

    const before = readFileSync(join(out, 'config.json'));
    const rep = await runCli(['report', out]);
    expect(rep.code).toBe(0);
    expect(readFileSync(join(out, 'config.json')).equals(before)).toBe(true);
    expect(rep.stdout).toContain('Neumann(3, α=0.1)');

    const mismatch = await runCli(['experiment', 'compare', '--config', settings({ innerSteps: 6 }), '--out', out, '--resume', '--dataset', 'fashion-mnist']);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain(`${join(out, 'config.json')}: --resume with a different configuration is refused:`);
    expect(mismatch.stderr).toContain('config.innerSteps: 5 in the folder, 6 now');
    expect(mismatch.stderr).toContain('dataset: "mnist" in the folder, "fashion-mnist" now');

    const forced = await runCli(['experiment', 'compare', '--config', settings({ metaEpochs: 2 }), '--out', out, '--force']);
    expect(forced.code).toBe(0);
    const lines = readFileSync(join(out, 'main', 'neumann_3', 'seed-0', 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).metaEpoch)).toEqual([1, 2]);
  }, 240_000);

  it('option errors: --resume without --out, a settings file with an unknown field or bad JSON, --dry-run runs nothing', async () => {
    const noOut = await runCli(['experiment', 'compare', '--resume']);
    expect(noOut.code).toBe(1);
    expect(noOut.stderr).toContain('iml: --resume needs --out <run folder>');
    const bad = join(base, 'bad.json');
    writeFileSync(bad, JSON.stringify({ config: { innerStep: 5 } }));
    const unknown = await runCli(['experiment', 'compare', '--config', bad, '--out', join(base, 'x')]);
    expect(unknown.stderr).toContain(`iml: ${bad}: config: unknown field 'innerStep' (allowed: innerSteps, innerBatch`);
    writeFileSync(bad, '{"config": {"innerSteps": 5');
    const truncated = await runCli(['experiment', 'compare', '--config', bad]);
    expect(truncated.stderr).toMatch(new RegExp(`iml: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON \\(`));
    const dry = await runCli(['experiment', 'overfit-small-val', '--dry-run', '--out', join(base, 'dry')]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('overfit-small-val: 33 run(s) = 1 variant(s) x 11 method(s) x 3 seed(s); mnist 50/50/50, 623290 weights; up to 1000 meta-epochs of 50 inner steps (batch 32)');
    expect(dry.stdout).toMatch(/total: at most ~\d+ h \d+ min on this machine/);
    expect(existsSync(join(base, 'dry'))).toBe(false);
    // Data that cannot be loaded fail before the folder is created: no config.json labels it a run of those data.
    const noData = await runCli(['experiment', 'compare', '--dataset', 'cifar10', '--out', join(base, 'nodata')]);
    expect(noData.code).toBe(1);
    expect(noData.stderr).toContain('iml: cifar10 needs --data-dir pointing at the folder with data_batch_1.bin');
    expect(existsSync(join(base, 'nodata'))).toBe(false);
  }, 120_000);

  it('a second writer is refused while the first runs; after kill -9 the stale lock is taken over, temp files removed and the run resumes', async () => {
    const out = join(base, 'locked');
    const cfg = settings({ metaEpochs: 400 });
    const a = await startCli(['experiment', 'compare', '--config', cfg, '--out', out]);
    const metrics = join(out, 'main', 'baseline', 'seed-0', 'metrics.jsonl');
    for (let i = 0; i < 600 && !(existsSync(metrics) && readFileSync(metrics, 'utf8').split('\n').length > 3); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(join(out, '.iml-lock'))).toBe(true);
    const b = await runCli(['experiment', 'compare', '--config', cfg, '--out', out, '--resume']);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain(`iml: ${out} is in use: pid ${a.child.pid} on this host writes it since `);
    a.child.kill('SIGKILL');
    await a.done;
    // What a writer killed mid-save leaves behind.
    writeFileSync(join(out, 'main', 'baseline', 'seed-0', 'checkpoint.json.tmp-999999'), '{"trunc');
    // As if the folder had been started by `iml` with the fused multiply-add GEMM: the resume says it will not repeat
    // those bits (this process runs the plain build).
    const cfgFile = join(out, 'config.json');
    const started = JSON.parse(readFileSync(cfgFile, 'utf8'));
    const fma = 'cpu (tensors in the Wasm heap, SIMD kernels on pointers, fused multiply-add in the GEMM)';
    writeFileSync(cfgFile, JSON.stringify({ ...started, provenance: { ...started.provenance, backend: fma } }));
    const c = await runCli(['experiment', 'compare', '--config', settings({ metaEpochs: 4 }), '--out', out, '--resume']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(c.stdout).toContain(`${join(out, '.iml-lock')}: taking over a stale lock of pid ${a.child.pid} (no longer running since `);
    expect(c.stdout).toContain(`removed ${join(out, 'main', 'baseline', 'seed-0', 'checkpoint.json.tmp-999999')}, a temporary file left by a killed writer`);
    expect(c.stdout).toContain(`note: ${cfgFile} was started on '${fma}' and is resumed on 'cpu (tensors in the Wasm heap, SIMD kernels on pointers)': the runs continue, but not bit for bit as an uninterrupted run would`);
    // The first provenance stays; the resume is recorded with its own.
    const after = JSON.parse(readFileSync(cfgFile, 'utf8'));
    expect(after.provenance.backend).toBe(fma);
    expect(after.resumes.at(-1).backend).toBe('cpu (tensors in the Wasm heap, SIMD kernels on pointers)');
    const epochs = readFileSync(metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l).metaEpoch);
    // The killed run was past meta-epoch 4: the resumed budget ends it at its checkpoint's epoch or continues to 4, without gaps.
    expect(epochs).toEqual(Array.from({ length: epochs.length }, (_, i) => i + 1));
  }, 240_000);

  it('report does not follow symbolic links out of the run folder', async () => {
    const out = join(base, 'run1');
    const outside = join(base, 'outside', 'main', 'evil', 'seed-0');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'summary.json'), readFileSync(join(out, 'main', 'neumann_3', 'seed-0', 'summary.json')));
    symlinkSync(join(base, 'outside', 'main', 'evil'), join(out, 'main', 'evil'));
    const rep = await runCli(['report', out]);
    expect(rep.code).toBe(0);
    expect(rep.stdout).toContain(`${join(out, 'main', 'evil')}: symbolic link to ${join(base, 'outside', 'main', 'evil')}, outside the run folder, skipped`);
  }, 120_000);
});
