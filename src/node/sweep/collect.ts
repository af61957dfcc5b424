// `iml sweep --collect NAME --out DIR`: the usual run folder (config, per-run metrics, checkpoints, summaries, plots, report.html) from a sweep's finished jobs.

import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeExperimentReport } from '../experiment-report.js';
import { getRecipe } from '../../iml/recipes.js';
import { LOCK_FILE, lockRunFolder } from '../run-folder-lock.js';
import { runFolderOf, type RecipeRunResult, type RunFolderConfig } from '../run-recipe.js';
import { readJsonFile } from '../read-json.js';
import { writeFileAtomic } from '../write-atomic.js';
import type { QueueTarget } from './connection.js';
import { clientOf, readManifest, type SweepQueue } from './enqueue.js';
import { redisRunStore } from './redis-run-store.js';
import { jobRow } from './watch.js';

export interface CollectReport {
  outDir: string;
  collected: number;
  /** Jobs not finished (waiting, active, failed, missing), with their status. */
  missing: { run: string; status: string }[];
  markdown: string;
  htmlPath: string;
}

/**
 * Writes `outDir` from the finished jobs of sweep `name`: per run metrics.jsonl, summary.json, checkpoint.json and
 * best.json as a local `iml experiment` writes them, then config.json, results.json and the reports. An `outDir`
 * that holds anything but an earlier collect of the same sweep is refused.
 */
export async function collectSweep(queue: SweepQueue, t: QueueTarget, name: string, outDir: string, opts: { provenance?: Record<string, unknown>; onMessage?: (line: string) => void } = {}): Promise<CollectReport> {
  const m = await readManifest(queue, t, name);
  if (!m) throw new Error(`no sweep named ${name} on ${t.url} (prefix ${t.prefix})`);
  const recipe = getRecipe(m.recipe);
  const configPath = join(outDir, 'config.json');
  if (existsSync(outDir)) {
    const entries = readdirSync(outDir).filter((n) => n !== LOCK_FILE);
    const prior = existsSync(configPath) ? (readJsonFile(configPath) as { sweep?: { name?: string } }) : null;
    if (entries.length > 0 && prior?.sweep?.name !== name) {
      throw new Error(`${outDir} is not empty and is not a collect of sweep ${name}; choose another --out`);
    }
  }
  mkdirSync(outDir, { recursive: true });
  const lock = lockRunFolder(outDir, { onMessage: opts.onMessage });
  try {
    const client = await clientOf(queue);
    const results: RecipeRunResult[] = [];
    const missing: CollectReport['missing'] = [];
    const backends = new Set<string>();
    const workers = new Set<string>();
    // Runs in the plan's order (variant, method, seed), as `iml experiment` writes them.
    const order = (e: (typeof m.jobs)[number]): number[] => [m.plan.variants.findIndex((v) => v.label === e.variant), m.plan.methods.indexOf(e.methodSpec), m.plan.seeds.indexOf(e.seed)];
    const entries = [...m.jobs].sort((a, b) => {
      const x = order(a);
      const y = order(b);
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    });
    for (const e of entries) {
      const job = await queue.getJob(e.id);
      const row = await jobRow(e, job);
      if (row.status !== 'done' && row.status !== 'diverged') {
        missing.push({ run: row.run, status: row.status });
        continue;
      }
      const r = job!.returnvalue;
      const store = redisRunStore(client, { prefix: t.prefix, jobId: e.id, url: t.url });
      const runDir = runFolderOf(outDir, e.variant, e.methodSpec, e.seed);
      mkdirSync(runDir, { recursive: true });
      const lines = await store.metricsLines();
      await writeFileAtomic(join(runDir, 'metrics.jsonl'), lines.map((l) => `${l}\n`).join(''));
      for (const [file, text] of [['checkpoint.json', await store.checkpointText()], ['best.json', await store.bestText()]] as const) {
        if (text !== null) await writeFileAtomic(join(runDir, file), text);
      }
      await writeFileAtomic(join(runDir, 'summary.json'), `${JSON.stringify(r.summary, null, 2)}\n`);
      results.push({ variant: e.variant, method: r.summary.method, seed: e.seed, summary: r.summary, metrics: await store.readMetrics() });
      backends.add(r.backend);
      workers.add(r.worker);
    }
    if (results.length === 0) throw new Error(`sweep ${name}: no finished jobs yet (${missing.map((x) => `${x.run}: ${x.status}`).join('; ')})`);
    for (const x of missing) opts.onMessage?.(`not collected: ${x.run} (${x.status})`);
    const folderConfig: RunFolderConfig & { sweep: Record<string, unknown> } = {
      recipe: recipe.name, section: recipe.section, title: recipe.title, quick: m.quick, backend: [...backends].join(', '), dataDir: m.dataDir, ...m.plan,
      provenance: m.provenance,
      sweep: { name, queue: t.url, prefix: t.prefix, jobs: m.jobs.length, collected: results.length, workers: [...workers], collect: opts.provenance },
    };
    await writeFileAtomic(configPath, `${JSON.stringify(folderConfig, null, 2)}\n`);
    await writeFileAtomic(join(outDir, 'results.json'), `${JSON.stringify(results.map(({ metrics: _m, ...rest }) => rest), null, 2)}\n`);
    const seeds = m.plan.seeds.filter((s) => results.some((r) => r.seed === s));
    const report = await writeExperimentReport(outDir, recipe, { ...m.plan, seeds }, results, m.quick, folderConfig);
    return { outDir, collected: results.length, missing, ...report };
  } finally {
    lock.release();
  }
}
