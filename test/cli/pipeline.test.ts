// The recipe -> run folder -> report chain through the real CLI: the exact-vs-approximate table equals the recorded comparisons, exact scored against itself is 1 / 0, the approximations are not, and iml report rebuilds the same table.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliBundle, runCli } from './cli-harness.js';

const base = mkdtempSync(join(tmpdir(), 'iml-pipeline-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
beforeAll(async () => {
  await cliBundle();
}, 120_000);

/** The table row of `method` in summary.md as its cells. */
const row = (md: string, method: string): string[] => {
  const line = md.split('\n').find((l) => l.startsWith(`| ${method} |`));
  if (!line) throw new Error(`no row '${method}' in\n${md}`);
  return line.split('|').slice(1, -1).map((c) => c.trim());
};

describe('exact-vs-approx through the CLI', () => {
  it('the comparison table holds the mean of the recorded cosines and relative errors, and they are right', async () => {
    const out = join(base, 'eva');
    const cfg = join(base, 'eva.json');
    // 14x14 MNIST and a 196-2-10 MLP: 424 weights, so the exact Hessian takes 424 HVPs per comparison.
    writeFileSync(cfg, JSON.stringify({
      methods: ['neumann:3'], seeds: [0, 1], hidden: 2, split: { train: 60, validation: 40, test: 40 },
      compareExact: { every: 1, methods: ['exact', 'identity', 'neumann:3'] },
      config: { innerSteps: 5, innerBatch: 32, metaEpochs: 2, checkpointEvery: 1 },
    }));
    const r = await runCli(['experiment', 'exact-vs-approx', '--config', cfg, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    const recorded = [0, 1].flatMap((s) => readFileSync(join(out, 'main', 'neumann_3', `seed-${s}`, 'metrics.jsonl'), 'utf8').trim().split('\n')
      .flatMap((l) => (JSON.parse(l).comparisons as { method: string; cosine: number; relativeError: number }[])));
    expect(recorded).toHaveLength(2 * 2 * 3);
    for (const method of ['Exact', 'IFT-Identity', 'Neumann(3, α=0.1)']) {
      const cs = recorded.filter((c) => c.method === method);
      expect(cs).toHaveLength(4);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const cells = row(md.slice(md.indexOf('Inverse-HVP vs exact')), method);
      expect(Number(cells[1].split('±')[0])).toBeCloseTo(mean(cs.map((c) => c.cosine)), 3);
      const e = mean(cs.map((c) => c.relativeError));
      // Printed with 3 significant digits (toExponential(2)).
      expect(Math.abs(Number(cells[2].split('±')[0]) - e)).toBeLessThanOrEqual(5e-3 * e + 1e-300);
      expect(cells[3]).toBe('4');
    }
    // The reference scored against itself is exact; identity and Neumann(3) are not.
    for (const c of recorded.filter((x) => x.method === 'Exact')) {
      expect(c.cosine).toBeCloseTo(1, 10);
      expect(c.relativeError).toBeLessThan(1e-10);
    }
    for (const c of recorded.filter((x) => x.method !== 'Exact')) expect(c.relativeError).toBeGreaterThan(1e-3);
    // iml report rebuilds the same table from the folder.
    const rep = await runCli(['report', out]);
    expect(rep.code).toBe(0);
    const table = (text: string) => text.slice(text.indexOf('Inverse-HVP vs exact'));
    expect(table(readFileSync(join(out, 'summary.md'), 'utf8'))).toBe(table(md));
  }, 300_000);
});
