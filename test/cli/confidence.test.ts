// `iml confidence` end to end in child processes on a tiny protocol (real MNIST + Fashion-MNIST): run folder files, refusals, a run killed after its first checkpoint and resumed matches the uninterrupted run bit for bit.
import { auroc } from '../../src/report/auroc.js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/node/checkpoint-file.js';
import type { ConfidenceSettingResult } from '../../src/ssl/confidence-results.js';
import { runCli, startCli } from './cli-harness.js';
import { Random } from '../../src/util/random.js';

const dir = mkdtempSync(join(tmpdir(), 'iml-confidence-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ARGS = ['confidence', '--settings', 'ood-50', '--labels', '1', '--validation', '2', '--pool', '20', '--seeds', '0', '--batch-size', '4', '--mu', '1',
  '--tau', '0.3', '--warmup-steps', '2', '--meta-every', '2', '--meta-epochs', '3', '--steps', '4', '--eval-every', '2', '--eval-limit', '40',
  '--cn-warmup-steps', '2', '--pool-sample', '10', '--meta-validation', '10', '--no-progress'];

const RUNS = ['phase1-cn', 'phase1-table', 'phase2-fixmatch', 'phase2-fixmatch+cn', 'phase2-fixmatch+table', 'phase2-supervised'];
const TIMING = ['epochSeconds', 'approximationSeconds'];
const metricsOf = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => {
  const m = JSON.parse(l) as Record<string, unknown>;
  for (const k of TIMING) delete m[k];
  return m;
});

describe('iml confidence', () => {
  it('writes config, per-run metrics and checkpoints, results, summary, plot and report; refuses to overwrite without --resume/--force and another protocol on resume', async () => {
    const out = join(dir, 'a');
    const r = await runCli([...ARGS, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const runs = join(out, 'runs', 'ood-50-seed0');
    expect(readdirSync(runs).sort()).toEqual(RUNS);
    expect(metricsOf(join(runs, 'phase1-cn', 'metrics.jsonl')).map((m) => m.innerStep)).toEqual([4, 6, 8]);
    expect(metricsOf(join(runs, 'phase2-fixmatch', 'metrics.jsonl')).map((m) => m.innerStep)).toEqual([2, 4]);
    expect((await loadCheckpoint(join(runs, 'phase1-table', 'checkpoint.json'))).step).toBe(8);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ConfidenceSettingResult[];
    expect(results).toHaveLength(1);
    expect(Object.keys(results[0].testAccuracy).sort()).toEqual(['fixmatch', 'fixmatch+cn', 'fixmatch+table', 'supervised']);
    expect(results[0].weightLearning.map((w) => [w.weighting, w.snapshots.length, w.sample.length])).toEqual([['cn', 3, 10], ['table', 3, 10]]);
    // 20 MNIST digits + 20 Fashion-MNIST images: the sample holds both.
    expect(new Set(results[0].weightLearning[0].inDistribution)).toEqual(new Set([0, 1]));
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    for (const m of ['supervised', 'fixmatch', 'fixmatch\\+cn', 'fixmatch\\+table']) expect(summary).toMatch(new RegExp(`\\| ood-50 \\| 1 \\| ${m} \\| [\\d.]+% \\|`));
    // The kept CN's AUROC: auroc() on its snapshot in results.json (one seed: no ± part).
    const cn = results[0].weightLearning[0];
    const kept = cn.snapshots.find((s) => s.metaEpoch === cn.bestMetaEpoch)!;
    expect(summary).toContain(`| ood-50 | 1 | cn | ${auroc(kept.original, cn.inDistribution).toFixed(3)} |`);
    expect(readdirSync(join(out, 'plots'))).toEqual([
      '01-weight-learning-validation-loss-over-meta-epochs-mean-std-ov.svg', '02-mean-weight-of-in-vs-out-of-distribution-sample-images-over.svg',
      '03-weights-of-original-vs-weakly-augmented-images-over-meta-epo.svg', '04-histogram-of-the-kept-learner-s-weights.svg',
      '05-highest-median-and-lowest-weighted-images-per-class-ood-50-s.svg',
    ]);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/<svg/);
    expect(html).toMatch(/AUROC \(ID vs OOD\)/);
    // Fig. 5.2: the pool's images drawn into the report.
    expect(html).toMatch(/data:image\/png;base64,/);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.protocol.phase1.method).toBe('identity');
    expect(config.protocol.settings).toEqual([{ kind: 'ood', share: 0.5, label: 'ood-50' }]);
    // B 4, μ 1: the CN's meta-steps see μB = 4 unlabelled images, the table's 10μB; EMA evaluation with live statistics unless asked.
    expect(config.protocol.phase1.metaUnlabelled).toEqual({ cn: 4, table: 40 });
    expect(config.protocol.fixmatch.emaBatchNorm).toBeUndefined();
    const again = await runCli([...ARGS, '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds runs: pass --resume to continue them or --force to delete them/);
    const other = await runCli([...ARGS, '--out', out, '--resume', '--method', 'neumann:2']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/started with another protocol/);
    for (const flag of [['--table-meta-unlabelled', '41'], ['--ema-bn', 'recompute']]) {
      const changed = await runCli([...ARGS, '--out', out, '--resume', ...flag]);
      expect(changed.code, flag.join(' ')).toBe(1);
      expect(changed.stderr).toMatch(/started with another protocol/);
    }
    const bad = await runCli([...ARGS, '--out', join(dir, 'bad'), '--settings', 'ood-100']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--settings: unknown setting 'ood-100'/);
  }, 180_000);

  it('killed after its first checkpoint and resumed: the same results, metrics and weights as an uninterrupted run', async () => {
    const full = join(dir, 'full');
    const r = await runCli([...ARGS, '--out', full]);
    expect(r.code, r.stderr).toBe(0);
    const killed = join(dir, 'killed');
    const first = join(killed, 'runs', 'ood-50-seed0', 'phase1-cn', 'checkpoint.json');
    const { child, done } = await startCli([...ARGS, '--out', killed]);
    const t0 = Date.now();
    while (!existsSync(first) && Date.now() - t0 < 120_000) await new Promise((res) => setTimeout(res, 5));
    child.kill('SIGKILL');
    const k = await done;
    expect(k.signal).toBe('SIGKILL');
    expect(existsSync(join(killed, 'results.json'))).toBe(false);
    const resumed = await runCli([...ARGS, '--out', killed, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(killed, 'results.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(join(full, 'results.json'), 'utf8')));
    for (const run of RUNS) {
      const a = join(killed, 'runs', 'ood-50-seed0', run);
      const b = join(full, 'runs', 'ood-50-seed0', run);
      expect(metricsOf(join(a, 'metrics.jsonl')), run).toEqual(metricsOf(join(b, 'metrics.jsonl')));
      const ca = await loadCheckpoint(join(a, 'checkpoint.json'));
      const cb = await loadCheckpoint(join(b, 'checkpoint.json'));
      expect(Object.keys(ca.params).sort()).toEqual(Object.keys(cb.params).sort());
      for (const key of Object.keys(ca.params)) expect(Array.from(ca.params[key].dataSync()), `${run} ${key}`).toEqual(Array.from(cb.params[key].dataSync()));
      expect(ca.optimizer).toEqual(cb.optimizer);
    }
  }, 240_000);

  it('confidence-report merges the results of two run folders (seeds 0 and 1) into one report; refuses the same seed twice', async () => {
    const s0 = join(dir, 'merge-s0');
    const s1 = join(dir, 'merge-s1');
    for (const [out, seed] of [[s0, '0'], [s1, '1']]) {
      const r = await runCli([...ARGS, '--out', out, '--seeds', seed]);
      expect(r.code, r.stderr).toBe(0);
    }
    const merged = join(dir, 'merged');
    const r = await runCli(['confidence-report', s0, s1, '--out', merged]);
    expect(r.code, r.stderr).toBe(0);
    const results = [s0, s1].map((f) => (JSON.parse(readFileSync(join(f, 'results.json'), 'utf8')) as ConfidenceSettingResult[])[0]);
    const summary = readFileSync(join(merged, 'summary.md'), 'utf8');
    // Mean ± population std over the two seeds, as the experiment's own table writes it.
    const [a, b] = results.map((x) => 100 * x.testAccuracy.fixmatch!);
    const mean = (a + b) / 2;
    const std = Math.abs(a - b) / 2;
    expect(summary).toContain(`| ood-50 | 1 | fixmatch | ${mean.toFixed(2)}±${std.toFixed(2)}% | — | 2/2 |`);
    expect(summary).toContain('seeds 0, 1.');
    const config = JSON.parse(readFileSync(join(merged, 'config.json'), 'utf8'));
    expect(config.protocol.seeds).toEqual([0, 1]);
    expect(config.sources.map((x: { results: string[] }) => x.results)).toEqual([['ood-50 seed 0'], ['ood-50 seed 1']]);
    expect(readFileSync(join(merged, 'report.html'), 'utf8')).toMatch(/data:image\/png;base64,/);
    const again = await runCli(['confidence-report', s0, s1, '--out', merged]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a report.html: pass --force/);
    const twice = await runCli(['confidence-report', s0, s0, '--out', join(dir, 'merged-2')]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/ood-50 seed 0 is in both .*merge-s0 and .*merge-s0/);
  }, 180_000);

  it('--dataset cifar10 from a folder runs the thesis protocol (none) and the class-mismatch setting; refuses the OOD settings there, naming why', async () => {
    // A generated CIFAR-10 folder: 5 x 1030 training records (5000 are held out, as iml fixmatch does), labels cycling 0-9.
    const data = join(dir, 'cifar');
    mkdirSync(data, { recursive: true });
    const rng = new Random(4);
    const batch = (records: number, offset: number) => {
      const out = new Uint8Array(records * 3073);
      for (let r = 0; r < records; r++) {
        out[r * 3073] = (offset + r) % 10;
        for (let k = 1; k < 3073; k++) out[r * 3073 + k] = rng.int(256);
      }
      return out;
    };
    for (let f = 1; f <= 5; f++) writeFileSync(join(data, `data_batch_${f}.bin`), batch(1030, f));
    writeFileSync(join(data, 'test_batch.bin'), batch(40, 0));
    const out = join(dir, 'cifar-run');
    const r = await runCli([...ARGS, '--out', out, '--dataset', 'cifar10', '--data-dir', data, '--settings', 'none,mismatch-50', '--weightings', 'cn', '--methods', 'fixmatch,fixmatch+cn']);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ConfidenceSettingResult[];
    expect(results.map((x) => [x.setting.label, Object.keys(x.testAccuracy).sort()])).toEqual([['none', ['fixmatch', 'fixmatch+cn']], ['mismatch-50', ['fixmatch', 'fixmatch+cn']]]);
    // 'none': every pool image is in distribution; mismatch-50: the unseen classes 6-9 are flagged OOD.
    expect(new Set(results[0].weightLearning[0].inDistribution)).toEqual(new Set([1]));
    const mismatch = results[1].weightLearning[0];
    mismatch.labels.forEach((label, i) => expect(mismatch.inDistribution[i]).toBe(label >= 6 ? 0 : 1));
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.protocol.dataset).toBe('cifar10');
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/^CIFAR-10: 1 labels\/class/m);
    const ood = await runCli([...ARGS, '--out', join(dir, 'cifar-ood'), '--dataset', 'cifar10', '--data-dir', data]);
    expect(ood.code).toBe(1);
    expect(ood.stderr).toMatch(/'ood-<percent>' settings have no out-of-distribution source for cifar10 here/);
    // Fashion-MNIST as the task takes MNIST as its OOD source.
    const fashion = join(dir, 'fashion-run');
    const f = await runCli([...ARGS, '--out', fashion, '--dataset', 'fashion-mnist', '--weightings', 'cn', '--methods', 'fixmatch+cn']);
    expect(f.code, f.stderr).toBe(0);
    expect(readFileSync(join(fashion, 'summary.md'), 'utf8')).toMatch(/^Fashion-MNIST \+ mnist\/train \(OOD\): 1 labels\/class/m);
    const noDir = await runCli([...ARGS, '--out', join(dir, 'cifar-nodir'), '--dataset', 'cifar10', '--settings', 'none']);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toMatch(/cifar10 needs --data-dir/);
  }, 240_000);
});
