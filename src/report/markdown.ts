// Markdown tables of aggregated results: the thesis' accuracy (4.1/4.2) and timing (4.5) shapes, and a generic table.

import {
  formatEpochs, formatMeanStd, formatMs, formatPercent, PERCENT,
  type MethodAggregate, type RunResult,
} from './aggregate.js';
import { isDivergingNote } from '../hypergrad/inverse-hvp.js';

export type Align = 'left' | 'right' | 'center';

/** Table data shared by the markdown and HTML renderers. */
export interface TableData {
  title?: string;
  headers: string[];
  rows: string[][];
  /** Column alignment (default: first column left, the others right). */
  align?: Align[];
}

/**
 * Text for markdown: HTML special characters as entities (a method named `<script>` stays text), backslashes and
 * table pipes backslash-escaped, line breaks as spaces.
 */
export function escapeMarkdown(s: string): string {
  return s
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n|\r/g, ' ');
}

const escapeCell = escapeMarkdown;

function defaultAlign(n: number): Align[] {
  return Array.from({ length: n }, (_, i) => (i === 0 ? 'left' : 'right'));
}

/** A GitHub-flavoured markdown table; rows shorter than the header are padded, longer ones are an error. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[], align?: readonly Align[]): string {
  const n = headers.length;
  if (n === 0) throw new Error('markdownTable: no columns');
  rows.forEach((r, i) => {
    if (r.length > n) throw new Error(`markdownTable: row ${i} has ${r.length} cells for ${n} columns`);
  });
  const al = align ?? defaultAlign(n);
  const rule = (a: Align | undefined): string => (a === 'right' ? '---:' : a === 'center' ? ':---:' : '---');
  const line = (cells: readonly string[]): string =>
    `| ${Array.from({ length: n }, (_, i) => escapeCell(cells[i] ?? '')).join(' | ')} |`;
  return [line(headers), `| ${headers.map((_, i) => rule(al[i])).join(' | ')} |`, ...rows.map(line)].join('\n') + '\n';
}

export function tableToMarkdown(t: TableData): string {
  return markdownTable(t.headers, t.rows, t.align);
}

/** "1/3": diverged runs of all runs. */
export const divergedText = (a: MethodAggregate): string => `${a.diverged}/${a.runs}`;

/**
 * Thesis table 4.1/4.2 shape: Name | n seeds | Train max | Val max | Test | ES Test | Convergence epoch | Diverged.
 * "n seeds" is how many runs the means are over (diverged ones are left out and counted under Diverged as "1/3");
 * a single seed prints its value without ±, a method whose every seed diverged prints "—".
 */
export function accuracyTable(aggs: readonly MethodAggregate[], title = 'Accuracy'): TableData {
  return {
    title,
    headers: ['Name', 'n seeds', 'Train max', 'Val max', 'Test', 'ES Test', 'Convergence epoch', 'Diverged'],
    rows: aggs.map((a) => [
      a.method, String(a.used), formatPercent(a.trainMax), formatPercent(a.validationMax), formatPercent(a.test), formatPercent(a.esTest),
      formatEpochs(a.bestMetaEpoch), divergedText(a),
    ]),
  };
}

/** Thesis table 4.5 shape: Name | n seeds | Epoch time | Approximation time | share of epoch | Convergence epoch (diverged runs left out). */
export function timeTable(aggs: readonly MethodAggregate[], title = 'Time per meta-epoch'): TableData {
  return {
    title,
    headers: ['Name', 'n seeds', 'Epoch time', 'Approximation time', 'Share of epoch', 'Convergence epoch'],
    rows: aggs.map((a) => [
      a.method, String(a.used), formatMs(a.meanEpochSeconds), formatMs(a.meanApproximationSeconds), formatMeanStd(a.approximationShare, PERCENT),
      formatEpochs(a.bestMetaEpoch),
    ]),
  };
}

/** Name | Runs | Seeds | Diverged | Early stopped | Meta-epochs run. */
export function runStatusTable(aggs: readonly MethodAggregate[], title = 'Runs'): TableData {
  return {
    title,
    headers: ['Name', 'Runs', 'Seeds', 'Diverged', 'Early stopped', 'Meta-epochs run'],
    align: ['left', 'right', 'left', 'right', 'right', 'right'],
    rows: aggs.map((a) => [
      a.method, String(a.runs), a.seeds.join(', '), divergedText(a), String(a.stoppedEarly), formatEpochs(a.metaEpochsRun),
    ]),
  };
}

/** Name | n seeds | one column per extra (cosine similarity, relative error, ...); null when there are no extras. */
export function extraTable(aggs: readonly MethodAggregate[], title = 'Extra measurements'): TableData | null {
  const names = aggs[0]?.extra.map((e) => e.name) ?? [];
  if (names.length === 0) return null;
  return { title, headers: ['Name', 'n seeds', ...names], rows: aggs.map((a) => [a.method, String(a.used), ...a.extra.map((e) => e.text)]) };
}

/** '; Neumann terms grew in 3 meta-epochs (first 12)' when the series diverged (its note says so) in some meta-epochs, else ''. */
function grewText(metrics: readonly { metaEpoch: number; note?: string }[]): string {
  const grew = metrics.filter((m) => isDivergingNote(m.note));
  if (grew.length === 0) return '';
  return `; Neumann terms grew in ${grew.length} meta-epoch${grew.length === 1 ? '' : 's'} (first ${grew[0]!.metaEpoch})`;
}

/** One row per run: Name | Seed | Meta-epochs | Train max | Val max | Test | ES Test | Best epoch | Status. */
export function perRunTable(results: readonly RunResult[], title = 'Per run'): TableData {
  const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : '—');
  return {
    title,
    headers: ['Name', 'Seed', 'Meta-epochs', 'Train max', 'Val max', 'Test', 'ES Test', 'Best epoch', 'Status'],
    align: [...defaultAlign(8), 'left'],
    rows: results.map(({ method, seed, summary: s, metrics }) => [
      method, String(seed), String(s.metaEpochsRun), pct(s.trainMax), pct(s.validationMax), pct(s.test), pct(s.esTest),
      String(s.bestMetaEpoch),
      (s.diverged ? `diverged at meta-epoch ${s.diverged.metaEpoch}, step ${s.diverged.step}: ${s.diverged.what}` : s.stoppedEarly ? 'early stopped' : 'completed') +
        grewText(metrics),
    ]),
  };
}

/** A markdown document: `# title`, then each table under `## its title` (title, intro and table titles escaped). */
export function markdownDocument(title: string, tables: readonly TableData[], intro?: string): string {
  const parts = [`# ${escapeMarkdown(title)}\n`];
  if (intro) parts.push(`${escapeMarkdown(intro.trim())}\n`);
  tables.forEach((t, i) => parts.push(`## ${escapeMarkdown(t.title ?? `Table ${i + 1}`)}\n\n${tableToMarkdown(t)}`));
  return parts.join('\n');
}
