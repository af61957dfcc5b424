// Vega-Lite charts in the page (SVG renderer): line charts of per-epoch series and grouped bar charts, redrawn as data arrives.
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

const views = new WeakMap<HTMLElement, vega.View>();

/** Renders `spec` into `el`, replacing what was there. */
export async function draw(el: HTMLElement, spec: TopLevelSpec): Promise<void> {
  views.get(el)?.finalize();
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'svg', container: el, hover: true });
  views.set(el, view);
  await view.runAsync();
}

/** One line per series over x. */
export function lineSpec(title: string, rows: { x: number; y: number; series: string }[], xTitle: string, yTitle: string, log = false): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title, width: 300, height: 170, data: { values: rows.filter((r) => Number.isFinite(r.y) && (!log || r.y > 0)) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle, axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'y', type: 'quantitative', title: yTitle, scale: log ? { type: 'log' } : { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** Bars of y per category, grouped by series (points on a log axis, where bars have no baseline). */
export function barSpec(title: string, rows: { category: string; y: number; series: string }[], yTitle: string, log = false): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title, width: { step: 14 }, height: 170, data: { values: rows.filter((r) => Number.isFinite(r.y) && (!log || r.y > 0)) },
    mark: log ? { type: 'point', filled: true, size: 70 } : 'bar',
    encoding: {
      x: { field: 'category', type: 'nominal', title: null, sort: null },
      xOffset: { field: 'series' },
      y: { field: 'y', type: 'quantitative', title: yTitle, scale: log ? { type: 'log' } : {} },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}
