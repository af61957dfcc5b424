// HTML report tests: tables and inline SVGs present, ids scoped per plot, escaping, no external URLs or assets.

import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { aggregateByMethod } from '../../src/report/aggregate.js';
import { escapeHtml, htmlTable, inlineSvg, provenanceSection, renderHtmlReport } from '../../src/report/html.js';
import { accuracyTable, timeTable } from '../../src/report/markdown.js';
import { curvesSvg, timePerMethodSvg } from '../../src/report/plots.js';
import { sampleResults } from './fixtures.js';

/** src/href attributes (or CSS url()/@import) that point outside the document. */
const EXTERNAL = /\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\/|url\(\s*["']?(?:https?:)?\/\/|@import/i;

describe('html report', () => {
  it('escapes text and builds tables from the table data', () => {
    expect(escapeHtml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
    const t = htmlTable({ headers: ['Name', 'Val'], rows: [['<b>', '1']] });
    expect(t).toContain('<th style="text-align:left">Name</th><th style="text-align:right">Val</th>');
    expect(t).toContain('<td style="text-align:left">&lt;b&gt;</td><td style="text-align:right">1</td>');
  });

  it('scopes the ids of inline SVGs', () => {
    const svg = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"><use href="#clip1"/></g></svg>';
    const out = inlineSvg(svg, 'p2-');
    expect(out.startsWith('<svg')).toBe(true);
    expect(out).toContain('id="p2-clip1"');
    expect(out).toContain('url(#p2-clip1)');
    expect(out).toContain('href="#p2-clip1"');
    expect(out).not.toMatch(/#clip1|"clip1"/);
  });

  it('holds the title, generated-at time, tables, inline SVGs and config, with nothing external', async () => {
    const results = sampleResults();
    const aggs = aggregateByMethod(results);
    const plots = [
      { title: 'Validation loss', svg: await curvesSvg(results, 'validation.loss') },
      { title: 'Time', svg: await timePerMethodSvg(results) },
    ];
    const html = renderHtmlReport({
      title: 'MNIST <IML>', config: { lr: 0.1, method: 'neumann', note: '</code><script>' }, generatedAt: new Date('2026-01-02T03:04:05Z'),
      tables: [accuracyTable(aggs), timeTable(aggs)], plots,
    });
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<title>MNIST &lt;IML&gt;</title>');
    expect(html).toContain('2026-01-02T03:04:05.000Z');
    expect(html.match(/<table>/g)?.length).toBe(2);
    for (const h of ['Train max', 'Val max', 'ES Test', 'Convergence epoch', 'Approximation time', 'Share of epoch']) expect(html).toContain(`>${h}</th>`);
    expect(html).toContain('>98.50±0.50%</td>');
    expect(html).toContain('>185.00±5.00 ms</td>');
    expect(html.match(/<svg[\s>]/g)?.length).toBe(2);
    expect(html).toContain('&quot;lr&quot;: 0.1');
    expect(html).not.toContain('<script');
    expect(html).not.toMatch(/<link\b|<img\b|<iframe\b/i);
    expect(html).not.toMatch(EXTERNAL);
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of html.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(m[1]);
    // Each inline SVG is still well-formed XML.
    for (const m of html.matchAll(/<svg[\s\S]*?<\/svg>/g)) expect(XMLValidator.validate(m[0])).toBe(true);
  });

  it('the external-URL check catches what it should', () => {
    expect('<img src="https://x/y.png">').toMatch(EXTERNAL);
    expect('<a href=\'http://x\'>').toMatch(EXTERNAL);
    expect('<script src="//cdn/x.js">').toMatch(EXTERNAL);
    expect('<svg xmlns="http://www.w3.org/2000/svg">').not.toMatch(EXTERNAL);
  });

  it('renders config.provenance (any keys, escaped) and each resume in a Provenance section', () => {
    const config = {
      recipe: 'compare',
      provenance: { packageVersion: '0.3.0', gitCommit: 'deadbeef', node: 'v22.1.0', backend: 'webgpu', adapter: 'llvmpipe <x>', command: ['iml', 'experiment', 'a b'], startedAt: '2026-01-01T00:00:00Z', effectiveOptions: { quick: true } },
      resumes: [{ startedAt: '2026-01-02T00:00:00Z', seeds: [0, 1] }],
    };
    const sec = provenanceSection(config)!;
    expect(sec.startsWith('<h2 id="provenance">Provenance</h2>')).toBe(true);
    for (const [k, v] of [['packageVersion', '0.3.0'], ['gitCommit', 'deadbeef'], ['node', 'v22.1.0'], ['backend', 'webgpu'], ['adapter', 'llvmpipe &lt;x&gt;'], ['command', 'iml experiment a b'], ['startedAt', '2026-01-01T00:00:00Z'], ['effectiveOptions', '{&quot;quick&quot;:true}']]) {
      expect(sec).toContain(`<th style="text-align:left">${k}</th><td style="text-align:left"><code>${v}</code></td>`);
    }
    expect(sec).toContain('<h3>Resumed (1)</h3>');
    expect(sec).toContain('<code>[0,1]</code>');
    expect(provenanceSection({ recipe: 'x' })).toBeNull();
    expect(provenanceSection(null)).toBeNull();
    const html = renderHtmlReport({ title: 'R', config, tables: [], plots: [] });
    expect(html).toContain('<li><a href="#provenance">Provenance</a></li>');
    expect(html.indexOf('id="provenance"')).toBeLessThan(html.indexOf('id="config"'));
  });
});

describe('html report document, whole', () => {
  it('is exactly this outline: nav links to every section in order, slugged ids, untitled tables numbered, SVG ids scoped per figure, provenance with resumes, config', () => {
    const html = renderHtmlReport({
      title: 'Run <1>', generatedAt: '2026-01-02T03:04:05Z', intro: 'Intro & more',
      tables: [{ title: 'Accuracy (%) — MNIST', headers: ['Name', 'Acc'], rows: [['A', '1']] }, { headers: ['x'], rows: [] }],
      plots: [
        { title: 'Loss', svg: '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg id="root"><clipPath id="c.1"/><g clip-path="url(#c.1)"/><use xlink:href="#c.1"/></svg>' },
        { title: 'Time', svg: '<svg><g/></svg>' },
      ],
      config: { provenance: { node: 'v20', command: ['iml', 3] }, resumes: [{ seeds: [1] }, 'bad'], lr: 1 },
    });
    const style = /<style>([\s\S]*)<\/style>/.exec(html)![1]!;
    for (const rule of ['table {', 'th, td {', 'figure svg {', 'table.provenance code {']) expect(style).toContain(rule);
    const q = (s: string): string => s.replace(/"/g, '&quot;');
    expect(html.replace(/<style>[\s\S]*<\/style>/, '<style></style>')).toBe([
      '<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width, initial-scale=1">', '<title>Run &lt;1&gt;</title>', '<style></style>',
      '</head>', '<body>', '<h1>Run &lt;1&gt;</h1>',
      '<p class="generated">Generated at <time datetime="2026-01-02T03:04:05Z">2026-01-02T03:04:05Z</time></p>',
      '<p>Intro &amp; more</p>',
      '<nav><ul>',
      '<li><a href="#table-1-accuracy-mnist">Accuracy (%) — MNIST</a></li>', '<li><a href="#table-2">Table 2</a></li>',
      '<li><a href="#plot-1-loss">Loss</a></li>', '<li><a href="#plot-2-time">Time</a></li>',
      '<li><a href="#provenance">Provenance</a></li>', '<li><a href="#config">Configuration</a></li>',
      '</ul></nav>',
      '<h2>Tables</h2>',
      '<section id="table-1-accuracy-mnist">', '<h3>Accuracy (%) — MNIST</h3>', '<table>',
      '<thead><tr><th style="text-align:left">Name</th><th style="text-align:right">Acc</th></tr></thead>', '<tbody>',
      '<tr><td style="text-align:left">A</td><td style="text-align:right">1</td></tr>', '</tbody>', '</table>', '</section>',
      '<section id="table-2">', '<h3>Table 2</h3>', '<table>', '<thead><tr><th style="text-align:left">x</th></tr></thead>', '<tbody>', '',
      '</tbody>', '</table>', '</section>',
      '<h2>Plots</h2>',
      '<figure id="plot-1-loss">', '<svg id="p1-root"><clipPath id="p1-c.1"/><g clip-path="url(#p1-c.1)"/><use xlink:href="#p1-c.1"/></svg>',
      '<figcaption>Loss</figcaption>', '</figure>',
      '<figure id="plot-2-time">', '<svg><g/></svg>', '<figcaption>Time</figcaption>', '</figure>',
      '<h2 id="provenance">Provenance</h2>', '<table class="provenance">', '<tbody>',
      '<tr><th style="text-align:left">node</th><td style="text-align:left"><code>v20</code></td></tr>',
      // An array that is not all strings is shown as JSON, not joined as a command line.
      `<tr><th style="text-align:left">command</th><td style="text-align:left"><code>${q('["iml",3]')}</code></td></tr>`,
      '</tbody>', '</table>',
      '<h3>Resumed (1)</h3>', '<table class="provenance">', '<tbody>',
      '<tr><th style="text-align:left">seeds</th><td style="text-align:left"><code>[1]</code></td></tr>', '</tbody>', '</table>',
      '<h3>Resumed (2)</h3>', '<pre><code>bad</code></pre>',
      '<h2 id="config">Configuration</h2>',
      `<pre><code>${q(JSON.stringify({ provenance: { node: 'v20', command: ['iml', 3] }, resumes: [{ seeds: [1] }, 'bad'], lr: 1 }, null, 2))}</code></pre>`,
      '</body>', '</html>', '',
    ].join('\n'));
    // Every link of the nav has its target.
    for (const m of html.matchAll(/<a href="#([^"]+)">/g)) expect(html).toContain(`id="${m[1]}"`);
  });

  it('without tables, plots or config: no nav, no section headings, nothing but the title block', () => {
    const html = renderHtmlReport({ title: 'Empty', generatedAt: 'then', tables: [], plots: [] });
    expect(html.replace(/<style>[\s\S]*<\/style>/, '<style></style>').split('\n').slice(6)).toEqual([
      '<style></style>', '</head>', '<body>', '<h1>Empty</h1>', '<p class="generated">Generated at <time datetime="then">then</time></p>', '</body>', '</html>', '',
    ]);
    // A config without provenance: its section and nav link, no Provenance.
    const withConfig = renderHtmlReport({ title: 'C', generatedAt: 'then', tables: [], plots: [], config: { a: 1 } });
    expect(withConfig).toContain('<nav><ul>\n<li><a href="#config">Configuration</a></li>\n</ul></nav>');
    expect(withConfig).not.toContain('Provenance');
    expect(withConfig).not.toContain('<h2>Tables</h2>');
    expect(withConfig).not.toContain('<h2>Plots</h2>');
  });
});
