// Writes an experiment's run folder: config.json, summary.md, plots/*.svg and report.html, each file atomically.

import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { aggregateByMethod, comparisonRows, type CurveMetric, type ExtraColumn, type RunResult } from './aggregate.js';
import { renderHtmlReport, type HtmlPlot } from './html.js';
import { accuracyTable, extraTable, markdownDocument, perRunTable, runStatusTable, timeTable, type TableData } from './markdown.js';
import { cosineOverTrainingSvg, curvesSvg, curveTitle, timePerMethodSvg } from './plots.js';

export interface NamedPlot {
  /** File name stem under plots/ (sanitized to [A-Za-z0-9._-]). */
  name: string;
  title: string;
  svg: string;
}

export interface RunFolderInput {
  config: unknown;
  results: readonly RunResult[];
  /** Report and summary title (default "Experiment report"). */
  title?: string;
  /** Extra per-run columns, aggregated into an "Extra measurements" table. */
  extraColumns?: readonly ExtraColumn[];
  extraTables?: readonly TableData[];
  extraPlots?: readonly NamedPlot[];
  /** Curves to plot (default: validation loss/accuracy, training loss/accuracy, test accuracy). */
  curves?: readonly CurveMetric[];
  /** Leave diverged runs out of the means. */
  excludeDiverged?: boolean;
  generatedAt?: Date;
}

export const DEFAULT_CURVES: readonly CurveMetric[] = [
  'validation.loss', 'validation.accuracy', 'train.loss', 'train.accuracy', 'test.accuracy',
];

/** Writes `data` to a temporary file beside `path`, then renames it over `path` (readers never see a partial file). */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, 'utf8');
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

function safeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  if (!s) throw new Error(`plot name '${name}' has no usable characters`);
  return s;
}

/**
 * Writes config.json, summary.md, plots/*.svg and report.html into `dir` and returns the path of report.html.
 * Per-run metrics.jsonl and checkpoints under `dir/<method>/seed-<n>/` belong to the trainer and are left alone.
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
    plots.push({ name: 'time-per-method', title: 'Time per meta-epoch', svg: await timePerMethodSvg(input.results) });
    const cmp = comparisonRows(input.results);
    if (cmp.length > 0) plots.push({ name: 'inverse-hvp-comparison', title: 'Approximate vs reference inverse-HVP', svg: await cosineOverTrainingSvg(cmp) });
  }
  plots.push(...(input.extraPlots ?? []));
  const names = new Set<string>();
  const files = plots.map((p) => {
    let name = safeName(p.name);
    for (let k = 2; names.has(name); k++) name = `${safeName(p.name)}-${k}`;
    names.add(name);
    return { ...p, file: `plots/${name}.svg` };
  });

  const intro = `${input.results.length} run(s) of ${aggs.length} method(s); mean ± population std over seeds.`;
  await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(input.config, null, 2) ?? 'null'}\n`);
  await writeFileAtomic(
    join(dir, 'summary.md'),
    markdownDocument(title, tables, `Generated at ${generatedAt.toISOString()}. ${intro}`) + (files.length ? `\n## Plots\n\n${files.map((f) => `- [${f.title}](${f.file})`).join('\n')}\n` : ''),
  );
  for (const f of files) await writeFileAtomic(join(dir, f.file), f.svg);
  const reportPath = join(dir, 'report.html');
  const htmlPlots: HtmlPlot[] = files.map((f) => ({ title: f.title, svg: f.svg }));
  await writeFileAtomic(reportPath, renderHtmlReport({ title, config: input.config, generatedAt, intro, tables, plots: htmlPlots }));
  return reportPath;
}
