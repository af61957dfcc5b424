// Writes an experiment's reports into its run folder: summary.md, tables/*.csv, plots/*.svg, report.html (config.json only on request), each file atomically.

import { join } from 'node:path';
import { aggregateByMethod, comparisonRows, metricValue, type CurveMetric, type ExtraColumn, type RunResult } from '../report/aggregate.js';
import { metricsToCsv, tableToCsv } from '../report/csv.js';
import { renderHtmlReport, type HtmlPlot } from '../report/html.js';
import { accuracyTable, escapeMarkdown, extraTable, markdownDocument, perRunTable, runStatusTable, timeTable, type TableData } from '../report/markdown.js';
import { writeFileAtomic } from './write-atomic.js';
import { cosineOverTrainingSvg, curvesSvg, curveTitle, timePerMethodSvg } from '../report/plots.js';

export interface NamedPlot {
  /** File name stem under plots/ (sanitized to [A-Za-z0-9._-]). */
  name: string;
  title: string;
  svg: string;
}

export interface RunFolderInput {
  /** The folder's configuration (with its provenance): shown in report.html; written to config.json only with `writeConfig`. */
  config: unknown;
  /**
   * Also write `config` to config.json (default false: the experiment runner owns config.json, and a report
   * never rewrites it).
   */
  writeConfig?: boolean;
  results: readonly RunResult[];
  /** Report and summary title (default "Experiment report"). */
  title?: string;
  /** Extra per-run columns, aggregated into an "Extra measurements" table. */
  extraColumns?: readonly ExtraColumn[];
  extraTables?: readonly TableData[];
  extraPlots?: readonly NamedPlot[];
  /** Curves to plot (default DEFAULT_CURVES). */
  curves?: readonly CurveMetric[];
  /** Curves of the hyperparameters, drawn only for methods that learn some (default HYPER_CURVES). */
  hyperCurves?: readonly CurveMetric[];
  /** Leave diverged runs out of the means (default true). */
  excludeDiverged?: boolean;
  /** Also write each run's metrics as tables/runs/<method>-seed-<n>.csv (default true). */
  metricsCsv?: boolean;
  generatedAt?: Date;
}

export const DEFAULT_CURVES: readonly CurveMetric[] = [
  'validation.loss', 'validation.accuracy', 'train.loss', 'train.accuracy', 'test.accuracy',
];

/** The hypergradient norm and the learned L2 weight (mean softplus(λ)) over meta-epochs. */
export const HYPER_CURVES: readonly CurveMetric[] = ['hypergradNorm', 'meanDecay'];

/** The runs of the methods that have a non-zero value of `metric` somewhere (the baseline learns no λ: norm and decay are 0). */
export function runsWithValues(results: readonly RunResult[], metric: CurveMetric): RunResult[] {
  const methods = new Set(results.filter((r) => r.metrics.some((m) => { const v = metricValue(m, metric); return Number.isFinite(v) && v !== 0; })).map((r) => r.method));
  return results.filter((r) => methods.has(r.method));
}


function safeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  if (!s) throw new Error(`plot name '${name}' has no usable characters`);
  return s;
}

/** A file-name slug: lower case, runs of other characters as '-' ("Time per meta-epoch" -> "time-per-meta-epoch"). */
export function slugify(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/** Unique names from stems: the second "x" becomes "x-2", and so on. */
function uniqueNames(stems: readonly string[]): string[] {
  const seen = new Set<string>();
  return stems.map((stem) => {
    let name = stem;
    for (let k = 2; seen.has(name); k++) name = `${stem}-${k}`;
    seen.add(name);
    return name;
  });
}

/**
 * Writes summary.md, tables/<slug>.csv (one per table), tables/runs/<method>-seed-<n>.csv (per-run metrics),
 * plots/*.svg and report.html into `dir` (config.json too with `writeConfig`) and returns the path of report.html.
 * Per-run metrics.jsonl and checkpoints under `dir/<method>/seed-<n>/` belong to the trainer and are left alone.
 * Every summary is validated first (see validateSummary); an invalid one is refused before anything is written.
 */
export async function writeRunFolder(dir: string, input: RunFolderInput): Promise<string> {
  const title = input.title ?? 'Experiment report';
  const generatedAt = input.generatedAt ?? new Date();
  const aggs = aggregateByMethod(input.results, { excludeDiverged: input.excludeDiverged, extraColumns: input.extraColumns });
  const extra = extraTable(aggs);
  const tables: TableData[] = [
    accuracyTable(aggs),
    timeTable(aggs),
    ...(extra ? [extra] : []),
    runStatusTable(aggs),
    perRunTable(input.results),
    ...(input.extraTables ?? []),
  ];

  const plots: NamedPlot[] = [];
  if (input.results.length > 0) {
    for (const metric of input.curves ?? DEFAULT_CURVES) {
      plots.push({ name: metric.replace(/\./g, '-'), title: curveTitle(metric), svg: await curvesSvg(input.results, metric) });
    }
    for (const metric of input.hyperCurves ?? HYPER_CURVES) {
      const runs = runsWithValues(input.results, metric);
      if (runs.length > 0) plots.push({ name: metric.replace(/\./g, '-'), title: curveTitle(metric), svg: await curvesSvg(runs, metric) });
    }
    plots.push({ name: 'time-per-method', title: 'Time per meta-epoch', svg: await timePerMethodSvg(input.results) });
    const cmp = comparisonRows(input.results);
    if (cmp.length > 0) plots.push({ name: 'inverse-hvp-comparison', title: 'Approximate vs reference inverse-HVP', svg: await cosineOverTrainingSvg(cmp) });
  }
  plots.push(...(input.extraPlots ?? []));
  const plotNames = uniqueNames(plots.map((p) => safeName(p.name)));
  const files = plots.map((p, i) => ({ ...p, file: `plots/${plotNames[i]}.svg` }));
  const tableNames = uniqueNames(tables.map((t, i) => slugify(t.title ?? '') || `table-${i + 1}`));
  const csvFiles = tables.map((t, i) => ({ file: `tables/${tableNames[i]}.csv`, text: tableToCsv(t) }));
  if (input.metricsCsv ?? true) {
    const runNames = uniqueNames(input.results.map((r) => `${slugify(r.method) || 'run'}-seed-${r.seed}`));
    input.results.forEach((r, i) => csvFiles.push({ file: `tables/runs/${runNames[i]}.csv`, text: metricsToCsv(r.metrics) }));
  }

  const diverged = aggs.reduce((n, a) => n + a.diverged, 0);
  const intro = `${input.results.length} run(s) of ${aggs.length} method(s); mean ± population std over the seeds in "n seeds"`
    + `${diverged ? `, the ${diverged} diverged run(s) left out and counted under "Diverged"` : ''}; a single seed has no ±.`;
  if (input.writeConfig) await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(input.config, null, 2) ?? 'null'}\n`);
  const link = (text: string, file: string): string => `- [${escapeMarkdown(text).replace(/[[\]]/g, '\\$&')}](${file})`;
  await writeFileAtomic(
    join(dir, 'summary.md'),
    markdownDocument(title, tables, `Generated at ${generatedAt.toISOString()}. ${intro}`)
      + (files.length ? `\n## Plots\n\n${files.map((f) => link(f.title, f.file)).join('\n')}\n` : '')
      + `\n## Tables as CSV\n\n${csvFiles.map((f) => `- [${f.file}](${f.file})`).join('\n')}\n`,
  );
  for (const f of csvFiles) await writeFileAtomic(join(dir, f.file), f.text);
  for (const f of files) await writeFileAtomic(join(dir, f.file), f.svg);
  const reportPath = join(dir, 'report.html');
  const htmlPlots: HtmlPlot[] = files.map((f) => ({ title: f.title, svg: f.svg }));
  await writeFileAtomic(reportPath, renderHtmlReport({ title, config: input.config, generatedAt, intro, tables, plots: htmlPlots }));
  return reportPath;
}
