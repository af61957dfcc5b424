// Writes a recipe run's reports (tables, SVG plots, HTML) into its run folder and returns the main table.

import type { Recipe } from '../iml/recipes.js';
import type { RecipePlan, RecipeRunResult } from './run-recipe.js';
import { aggregateByMethod, comparisonRows, meanStd, type ExtraColumn, type RunResult } from '../report/aggregate.js';
import { accuracyTable, extraTable, tableToMarkdown, timeTable, type TableData } from '../report/markdown.js';
import { writeRunFolder } from './report-folder.js';

/** Exact-vs-approximate columns: mean cosine and relative error over the compared meta-steps. */
function comparisonTable(results: RunResult[]): TableData | null {
  const rows = comparisonRows(results);
  if (rows.length === 0) return null;
  const methods = [...new Set(rows.map((r) => r.method))];
  return {
    title: 'Inverse-HVP vs exact (mean over compared meta-steps and seeds)',
    headers: ['Name', 'Cosine similarity', 'Relative error', 'Comparisons', 'Diverged (non-finite)'],
    rows: methods.map((m) => {
      const rs = rows.filter((r) => r.method === m);
      const c = meanStd(rs.map((r) => r.cosine));
      const e = meanStd(rs.map((r) => r.relError));
      const diverged = rs.filter((r) => !Number.isFinite(r.relError) || !Number.isFinite(r.cosine)).length;
      const fmt = (x: string): string => (c.n === 0 ? '—' : x);
      return [m, fmt(`${c.mean.toFixed(3)}±${c.std.toFixed(3)}`), fmt(`${e.mean.toExponential(2)}±${e.std.toExponential(2)}`), String(rs.length), String(diverged)];
    }),
  };
}

/**
 * Writes summary.md, plots and report.html of `outDir` from the runs' results. `folderConfig` is the folder's
 * recorded config.json (shown in the report with its provenance); config.json itself is never written here.
 */
export async function writeExperimentReport(
  outDir: string, recipe: Recipe, plan: RecipePlan, results: RecipeRunResult[], quick: boolean, folderConfig?: unknown,
): Promise<{ markdown: string; htmlPath: string }> {
  const runs: RunResult[] = results.map((r) => ({
    method: r.variant === 'main' ? r.method : `${r.variant} · ${r.method}`,
    seed: r.seed, summary: r.summary, metrics: r.metrics,
  }));
  // Thesis table 4.4: memory of the inverse-HVP approximation (here: tensor bytes it allocates).
  const memory: ExtraColumn = { name: 'Approximation memory (MB allocated)', values: (r) => r.summary.maxApproximationBytes / 1e6, digits: 2 };
  const aggs = aggregateByMethod(runs, { extraColumns: [memory] });
  const title = `${recipe.title}${quick ? ' [--quick]' : ''}`;
  const cmp = comparisonTable(runs);
  const htmlPath = await writeRunFolder(outDir, {
    config: folderConfig ?? { recipe: recipe.name, section: recipe.section, quick, ...plan },
    results: runs,
    title,
    extraColumns: [memory],
    extraTables: cmp ? [cmp] : [],
  });
  const tables = [accuracyTable(aggs, 'Accuracy (mean ± std over seeds)'), timeTable(aggs, 'Time per meta-epoch (mean ± std)')];
  const mem = extraTable(aggs, 'Memory of the approximation');
  if (mem) tables.push(mem);
  if (cmp) tables.push(cmp);
  const markdown = `## ${title}\n\n${plan.seeds.length} seed(s), at most ${plan.config.metaEpochs} meta-epochs of ${plan.config.innerSteps} inner steps (batch ${plan.config.innerBatch})\n\n${tables.map(tableToMarkdown).join('\n\n')}\n`;
  return { markdown, htmlPath };
}
