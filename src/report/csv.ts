// CSV (RFC 4180) of report tables and of a run's per-meta-epoch metrics.

import type { MetaEpochMetrics } from '../iml/trainer.js';
import type { TableData } from './markdown.js';

export type CsvValue = string | number | boolean | null | undefined;

/**
 * One CSV field: numbers in full precision (String(x): shortest round-trip, NaN and Infinity spelled out), null and
 * undefined empty; quoted (with inner quotes doubled) when it holds a comma, a quote, CR or LF, or starts or ends
 * with a space.
 */
export function csvField(v: CsvValue): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A CSV document: a header line, then one line per row, CRLF line ends (RFC 4180), a final CRLF. */
export function toCsv(headers: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  rows.forEach((r, i) => {
    if (r.length > headers.length) throw new Error(`toCsv: row ${i} has ${r.length} fields for ${headers.length} columns`);
  });
  const line = (cells: readonly CsvValue[]): string => headers.map((_, i) => csvField(cells[i])).join(',');
  return [line(headers), ...rows.map(line)].map((l) => `${l}\r\n`).join('');
}

/** A report table as CSV (the cells as shown, e.g. "98.50±0.50%"). */
export function tableToCsv(t: TableData): string {
  return toCsv(t.headers, t.rows);
}

export const METRICS_CSV_COLUMNS = [
  'metaEpoch', 'innerStep',
  'trainLoss', 'trainAccuracy', 'validationLoss', 'validationAccuracy', 'testLoss', 'testAccuracy',
  'hypergradNorm', 'meanDecay', 'epochSeconds', 'approximationSeconds', 'hvps',
] as const;

/** A run's metrics (one line of metrics.jsonl per meta-epoch) as CSV with METRICS_CSV_COLUMNS, numbers unrounded. */
export function metricsToCsv(metrics: readonly MetaEpochMetrics[]): string {
  return toCsv(METRICS_CSV_COLUMNS, metrics.map((m) => [
    m.metaEpoch, m.innerStep,
    m.train.loss, m.train.accuracy, m.validation.loss, m.validation.accuracy, m.test.loss, m.test.accuracy,
    m.hypergradNorm, m.meanDecay, m.epochSeconds, m.approximationSeconds, m.hvps,
  ]));
}
