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
