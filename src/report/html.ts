// Self-contained HTML report of an experiment: title, generated-at time, tables, inline SVG plots, provenance, config JSON; no external assets.

import type { TableData } from './markdown.js';

export interface HtmlPlot {
  title: string;
  /** A standalone SVG document (as from the plots module). */
  svg: string;
}

export interface HtmlReportInput {
  title: string;
  /** Shown as pretty-printed JSON; its `provenance` object (and `resumes` list), if any, also as a "Provenance" table. */
  config?: unknown;
  /** Default: now. */
  generatedAt?: Date | string;
  /** Plain text paragraph under the title. */
  intro?: string;
  tables: readonly TableData[];
  plots: readonly HtmlPlot[];
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * Prepares an SVG document for inlining: drops the XML prolog / doctype and prefixes its ids (and their
 * `url(#id)` / `href="#id"` references) so that several inline SVGs, e.g. vega's `clip1`, do not collide.
 */
export function inlineSvg(svg: string, idPrefix: string): string {
  let s = svg.replace(/<\?xml[^>]*\?>/g, '').replace(/<!DOCTYPE[^>]*>/gi, '').trim();
  const ids = new Set<string>();
  for (const m of s.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]);
  if (ids.size === 0) return s;
  const re = (id: string): string => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const id of ids) {
    const e = re(id);
    s = s
      .replace(new RegExp(`(\\sid=")${e}(")`, 'g'), `$1${idPrefix}${id}$2`)
      .replace(new RegExp(`url\\(#${e}\\)`, 'g'), `url(#${idPrefix}${id})`)
      .replace(new RegExp(`((?:xlink:)?href=")#${e}(")`, 'g'), `$1#${idPrefix}${id}$2`);
  }
  return s;
}

/** An HTML <table> from table data (cells are escaped text). */
export function htmlTable(t: TableData): string {
  const align = t.align ?? t.headers.map((_, i) => (i === 0 ? 'left' : 'right'));
  const cell = (tag: 'th' | 'td', text: string, i: number): string =>
    `<${tag} style="text-align:${align[i] ?? 'right'}">${escapeHtml(text)}</${tag}>`;
  const head = `<tr>${t.headers.map((h, i) => cell('th', h, i)).join('')}</tr>`;
  const body = t.rows.map((r) => `<tr>${t.headers.map((_, i) => cell('td', r[i] ?? '', i)).join('')}</tr>`).join('\n');
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A provenance value as text: strings as they are, arrays of strings joined by spaces (a command line), anything else as JSON. */
function provenanceText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(' ');
  return JSON.stringify(v) ?? String(v);
}

/** A key/value table of a provenance record (whatever keys it has, in order; everything escaped). */
export function provenanceTable(p: Record<string, unknown>): string {
  const rows = Object.entries(p).map(([k, v]) => `<tr><th style="text-align:left">${escapeHtml(k)}</th><td style="text-align:left"><code>${escapeHtml(provenanceText(v))}</code></td></tr>`);
  return `<table class="provenance">\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

/** The "Provenance" section of `config` (its `provenance` object, then each `resumes` entry), or null when it has none. */
export function provenanceSection(config: unknown): string | null {
  if (!isRecord(config) || !isRecord(config.provenance)) return null;
  const parts = ['<h2 id="provenance">Provenance</h2>', provenanceTable(config.provenance)];
  if (Array.isArray(config.resumes)) {
    config.resumes.forEach((r, i) => {
      parts.push(`<h3>Resumed (${i + 1})</h3>`, isRecord(r) ? provenanceTable(r) : `<pre><code>${escapeHtml(provenanceText(r))}</code></pre>`);
    });
  }
  return parts.join('\n');
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0.2rem; }
.generated { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; }
th { background: #f3f3f3; }
tbody tr:nth-child(even) { background: #fafafa; }
figure { margin: 1rem 0 2rem; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #444; font-size: 0.9rem; }
pre { background: #f6f8fa; padding: 0.8rem; overflow: auto; border: 1px solid #e1e4e8; }
nav ul { columns: 2; }
table.provenance code { white-space: pre-wrap; word-break: break-all; }
`;

function slug(s: string, i: number, prefix: string): string {
  const base = s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return `${prefix}-${i + 1}${base ? `-${base}` : ''}`;
}

/** The whole report as one HTML document with everything inline (no scripts, stylesheets, fonts or images to fetch). */
export function renderHtmlReport(input: HtmlReportInput): string {
  const at = input.generatedAt === undefined ? new Date() : input.generatedAt;
  const generated = typeof at === 'string' ? at : at.toISOString();
  const tables = input.tables.map((t, i) => ({ id: slug(t.title ?? '', i, 'table'), t }));
  const plots = input.plots.map((p, i) => ({ id: slug(p.title, i, 'plot'), p }));
  const provenance = provenanceSection(input.config);
  const nav = [
    ...tables.map(({ id, t }, i) => `<li><a href="#${id}">${escapeHtml(t.title ?? `Table ${i + 1}`)}</a></li>`),
    ...plots.map(({ id, p }) => `<li><a href="#${id}">${escapeHtml(p.title)}</a></li>`),
    ...(provenance ? ['<li><a href="#provenance">Provenance</a></li>'] : []),
    ...(input.config !== undefined ? ['<li><a href="#config">Configuration</a></li>'] : []),
  ];
  const parts: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(input.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(input.title)}</h1>`,
    `<p class="generated">Generated at <time datetime="${escapeHtml(generated)}">${escapeHtml(generated)}</time></p>`,
  ];
  if (input.intro) parts.push(`<p>${escapeHtml(input.intro)}</p>`);
  if (nav.length) parts.push(`<nav><ul>\n${nav.join('\n')}\n</ul></nav>`);
  if (tables.length) parts.push('<h2>Tables</h2>');
  tables.forEach(({ id, t }, i) => {
    parts.push(`<section id="${id}">`, `<h3>${escapeHtml(t.title ?? `Table ${i + 1}`)}</h3>`, htmlTable(t), '</section>');
  });
  if (plots.length) parts.push('<h2>Plots</h2>');
  plots.forEach(({ id, p }, i) => {
    parts.push(`<figure id="${id}">`, inlineSvg(p.svg, `p${i + 1}-`), `<figcaption>${escapeHtml(p.title)}</figcaption>`, '</figure>');
  });
  if (provenance) parts.push(provenance);
  if (input.config !== undefined) {
    parts.push('<h2 id="config">Configuration</h2>', `<pre><code>${escapeHtml(JSON.stringify(input.config, null, 2) ?? 'undefined')}</code></pre>`);
  }
  parts.push('</body>', '</html>', '');
  return parts.join('\n');
}
