// Reads finished runs back from a run folder (<variant>/<method>/seed-N/{summary.json, metrics.jsonl}), never following links out of it.

import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { readJsonFile } from './read-json.js';
import { parseMetricsLines } from './file-run-store.js';
import type { RecipeRunResult } from './run-recipe.js';
import type { ImlSummary } from '../iml/trainer.js';

/**
 * Every run in `dir` that has a summary.json (finished), in folder order; variants named by folder.
 * Symbolic links are followed only when they stay inside `dir`; others are skipped with a message.
 */
export function loadRuns(dir: string, opts: { onMessage?: (line: string) => void } = {}): RecipeRunResult[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: not a run folder`);
  const root = realpathSync(dir);
  const inside = (p: string): boolean => {
    if (!lstatSync(p).isSymbolicLink()) return true;
    let target: string;
    try {
      target = realpathSync(p);
    } catch {
      opts.onMessage?.(`${p}: broken symbolic link, skipped`);
      return false;
    }
    const rel = relative(root, target);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      opts.onMessage?.(`${p}: symbolic link to ${target}, outside the run folder, skipped`);
      return false;
    }
    return true;
  };
  const out: RecipeRunResult[] = [];
  const subdirs = (d: string): string[] => readdirSync(d).filter((n) => inside(join(d, n)) && statSync(join(d, n)).isDirectory()).sort();
  for (const variant of subdirs(dir)) {
    if (variant === 'plots' || variant === 'tables') continue;
    for (const method of subdirs(join(dir, variant))) {
      for (const seedDir of subdirs(join(dir, variant, method)).filter((n) => /^seed-\d+$/.test(n))) {
        const base = join(dir, variant, method, seedDir);
        const summaryPath = join(base, 'summary.json');
        if (!existsSync(summaryPath) || !inside(summaryPath)) continue;
        const summary = readJsonFile(summaryPath) as ImlSummary;
        const metricsPath = join(base, 'metrics.jsonl');
        const metrics = existsSync(metricsPath) && inside(metricsPath) ? parseMetricsLines(readFileSync(metricsPath, 'utf8'), metricsPath) : [];
        out.push({ variant: variant.replace(/_/g, ' '), method: summary.method, seed: summary.seed, summary, metrics });
      }
    }
  }
  return out;
}
