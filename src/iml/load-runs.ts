// Reads finished runs back from a run folder (<variant>/<method>/seed-N/{summary.json, metrics.jsonl}).

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RecipeRunResult } from './run-recipe.js';
import type { ImlSummary, MetaEpochMetrics } from './trainer.js';

/** Every run in `dir` that has a summary.json (finished), in folder order; variants named by folder. */
export function loadRuns(dir: string): RecipeRunResult[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: not a run folder`);
  const out: RecipeRunResult[] = [];
  const subdirs = (d: string): string[] => readdirSync(d).filter((n) => statSync(join(d, n)).isDirectory()).sort();
  for (const variant of subdirs(dir)) {
    if (variant === 'plots') continue;
    for (const method of subdirs(join(dir, variant))) {
      for (const seedDir of subdirs(join(dir, variant, method)).filter((n) => /^seed-\d+$/.test(n))) {
        const base = join(dir, variant, method, seedDir);
        const summaryPath = join(base, 'summary.json');
        if (!existsSync(summaryPath)) continue;
        let summary: ImlSummary;
        try {
          summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as ImlSummary;
        } catch (e) {
          throw new Error(`${summaryPath}: not valid JSON (${(e as Error).message})`);
        }
        const metricsPath = join(base, 'metrics.jsonl');
        const metrics = existsSync(metricsPath)
          ? readFileSync(metricsPath, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
            try {
              return JSON.parse(l) as MetaEpochMetrics;
            } catch {
              throw new Error(`${metricsPath}: line ${i + 1} is not valid JSON`);
            }
          })
          : [];
        out.push({ variant: variant.replace(/_/g, ' '), method: summary.method, seed: summary.seed, summary, metrics });
      }
    }
  }
  return out;
}
