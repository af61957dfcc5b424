// Summary table of a recipe run (mean ± std over seeds), written into the run folder.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Recipe } from '../iml/recipes.js';
import type { RecipePlan, RecipeRunResult } from '../iml/run-recipe.js';

function meanStd(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return [m, Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length)];
}

export function writeExperimentReport(outDir: string, recipe: Recipe, plan: RecipePlan, results: RecipeRunResult[], quick: boolean): { markdown: string; htmlPath: string } {
  const groups = new Map<string, RecipeRunResult[]>();
  for (const r of results) {
    const key = `${r.variant === 'main' ? '' : `${r.variant} · `}${r.method}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const pct = (xs: number[]): string => {
    const [m, s] = meanStd(xs.map((x) => 100 * x));
    return `${m.toFixed(2)}±${s.toFixed(2)}%`;
  };
  const num = (xs: number[], d = 2): string => {
    const [m, s] = meanStd(xs);
    return `${m.toFixed(d)}±${s.toFixed(d)}`;
  };
  const lines = [
    `| Name | Train max | Val max | Test | ES Test | Convergence epoch | Epoch time (ms) | Approximation (ms) | Diverged |`,
    `|---|---|---|---|---|---|---|---|---|`,
  ];
  for (const [name, rs] of groups) {
    const s = rs.map((r) => r.summary);
    lines.push(`| ${name} | ${pct(s.map((x) => x.trainMax))} | ${pct(s.map((x) => x.validationMax))} | ${pct(s.map((x) => x.test))} | ${pct(s.map((x) => x.esTest))} | ${num(s.map((x) => x.bestMetaEpoch))} | ${num(s.map((x) => 1000 * x.meanEpochSeconds))} | ${num(s.map((x) => 1000 * x.meanApproximationSeconds))} | ${s.filter((x) => x.diverged).length}/${s.length} |`);
  }
  const markdown = `## ${recipe.title}${quick ? ' [--quick]' : ''}\n\n${plan.seeds.length} seed(s), ${plan.config.metaEpochs} meta-epochs max, ${plan.config.innerSteps} inner steps of batch ${plan.config.innerBatch}\n\n${lines.join('\n')}\n`;
  writeFileSync(join(outDir, 'summary.md'), markdown);
  const htmlPath = join(outDir, 'report.html');
  writeFileSync(htmlPath, `<!doctype html><meta charset="utf-8"><title>${recipe.title}</title><pre>${markdown.replace(/</g, '&lt;')}</pre>`);
  return { markdown, htmlPath };
}
