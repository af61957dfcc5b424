// CSV tests: RFC 4180 quoting and CRLF lines, report tables as CSV, per-run metrics columns and full-precision values.

import { describe, expect, it } from 'vitest';
import { csvField, metricsToCsv, METRICS_CSV_COLUMNS, tableToCsv, toCsv } from '../../src/report/csv.js';
import { metricsFor } from './fixtures.js';

/** A small RFC 4180 reader written independently of the writer: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 2; continue; }
    field += c; i++;
  }
  if (field !== '' || row.length) throw new Error('CSV does not end with CRLF');
  return rows;
}

describe('csv', () => {
  it('quotes fields with commas, quotes and line breaks, doubling inner quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(csvField(NaN)).toBe('NaN');
    expect(toCsv(['a', 'b'], [['1', 'x,y'], ['2']])).toBe('a,b\r\n1,"x,y"\r\n2,\r\n');
    expect(() => toCsv(['a'], [['1', '2']])).toThrow(/2 fields for 1 columns/);
  });

  it('writes a report table that reads back cell for cell', () => {
    const t = { title: 'T', headers: ['Name', 'Test'], rows: [['Neumann(3, α=0.1)', '95.00±1.00%'], ['a "quoted" | name\nwith a break', '—']] };
    const csv = tableToCsv(t);
    expect(parseCsv(csv)).toEqual([t.headers, ...t.rows]);
    expect(csv.split('\r\n')[1]).toBe('"Neumann(3, α=0.1)",95.00±1.00%');
  });

  it('metricsToCsv has the documented columns and the metrics values unrounded', () => {
    const metrics = metricsFor(3, 0.5);
    const rows = parseCsv(metricsToCsv(metrics));
    expect(rows[0]).toEqual([
      'metaEpoch', 'innerStep', 'trainLoss', 'trainAccuracy', 'validationLoss', 'validationAccuracy', 'testLoss', 'testAccuracy',
      'hypergradNorm', 'meanDecay', 'epochSeconds', 'approximationSeconds', 'hvps',
    ]);
    expect(rows[0]).toEqual([...METRICS_CSV_COLUMNS]);
    expect(rows.length).toBe(4);
    // Epoch 3 of metricsFor(3, 0.5): train loss 1/3.5, validation accuracy 0.5 + 0.024, hypergradient norm 0.1/3.
    const r = rows[3].map(Number);
    expect(r).toEqual([3, 150, 1 / 3.5, 0.5 + 0.01 * 3, 1.2 / 3.5, 0.5 + 0.008 * 3, 1.3 / 3.5, 0.5 + 0.007 * 3, 0.1 / 3, 0.69, 0.2, 0.02, 10]);
    expect(metricsToCsv([])).toBe(`${METRICS_CSV_COLUMNS.join(',')}\r\n`);
  });
});
