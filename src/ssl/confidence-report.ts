// The Confidence Network experiment's HTML report sections: its tables and plots (and per chosen run the fig. 5.2 picture), ready for renderHtmlReport.

import type { ImageDataset } from '../data/dataset.js';
import type { HtmlPlot } from '../report/html.js';
import type { TableData } from '../report/markdown.js';
import { renderVegaLite } from '../report/plots.js';
import { weightedImageGrid, weightedImageGridSvg, type ImageGridOptions, type PngEncoder } from './confidence-image-grid.js';
import { idOodWeightPoints, idOodWeightSpec, validationLossPoints, validationLossSpec, viewWeightPoints, viewWeightSpec, keptWeightHistograms, weightHistogramSpec } from './confidence-plots.js';
import type { ConfidenceSettingResult, WeightLearningRun } from './confidence-results.js';
import { confidenceAccuracyTable, confidenceWeightTable } from './confidence-tables.js';

/** One run to picture (thesis fig. 5.2) with the unlabelled pool its sample indices point into (the pool of that setting and seed). */
export interface ConfidenceImageRun {
  pool: ImageDataset;
  setting: string;
  seed: number;
  /** Default 'cn' (else the run's only weighting). */
  weighting?: 'cn' | 'table';
  /** Labels per class, when the setting was run with several. */
  labelsPerClass?: number;
  grid?: ImageGridOptions;
}

export interface ConfidenceReportOptions {
  /** Runs to picture; needs `encodePng`. */
  images?: readonly ConfidenceImageRun[];
  /** PNG encoder of the pictures' pixels (in Node: `encodePngRgb` of src/node/png.ts). */
  encodePng?: PngEncoder;
  /** Bins of the weight histograms (default 20). */
  histogramBins?: number;
}

/** What `renderHtmlReport` takes besides the title. */
export interface ConfidenceReportSections {
  tables: TableData[];
  plots: HtmlPlot[];
}

/** The result and weight-learning run an image request names; throws naming what is missing. */
export function findImageRun(results: readonly ConfidenceSettingResult[], req: Omit<ConfidenceImageRun, 'pool'>): { result: ConfidenceSettingResult; run: WeightLearningRun } {
  const where = `image run (setting '${req.setting}', seed ${req.seed})`;
  const matches = results.filter((r) => r.setting.label === req.setting && r.seed === req.seed && (req.labelsPerClass === undefined || r.labelsPerClass === req.labelsPerClass));
  if (matches.length === 0) throw new Error(`${where}: no such result (settings: ${[...new Set(results.map((r) => r.setting.label))].join(', ') || 'none'})`);
  if (matches.length > 1) throw new Error(`${where}: ${matches.length} results with labels per class ${matches.map((r) => r.labelsPerClass).join(', ')}; say which with labelsPerClass`);
  const result = matches[0];
  const weightings = result.weightLearning.map((w) => w.weighting);
  const weighting = req.weighting ?? (weightings.includes('cn') ? 'cn' : weightings[0]);
  const run = result.weightLearning.find((w) => w.weighting === weighting);
  if (!run) throw new Error(`${where}: no weight-learning run with weighting '${weighting ?? 'cn'}' (has: ${weightings.join(', ') || 'none'})`);
  return { result, run };
}

/**
 * The report's tables (test accuracy per setting x method; the kept learner's ID/OOD weight statistics when any
 * weight learning ran) and plots (weight learning's validation loss; ID vs OOD mean weight; original vs weak views,
 * fig. 5.1; weight histogram, fig. 5.3; and per `options.images` entry fig. 5.2). Plots without data are left out.
 */
export async function confidenceReportSections(results: readonly ConfidenceSettingResult[], options: ConfidenceReportOptions = {}): Promise<ConfidenceReportSections> {
  const images = options.images ?? [];
  if (images.length > 0 && !options.encodePng) throw new Error('confidenceReportSections: images were requested but no encodePng was given');
  const tables: TableData[] = [confidenceAccuracyTable(results)];
  const anyWeights = results.some((r) => r.weightLearning.length > 0);
  if (anyWeights) tables.push(confidenceWeightTable(results));
  const plots: HtmlPlot[] = [];
  if (validationLossPoints(results).length > 0) plots.push({ title: 'Weight learning: validation loss over meta-epochs (mean ± std over seeds)', svg: await renderVegaLite(validationLossSpec(results)) });
  if (idOodWeightPoints(results).length > 0) plots.push({ title: 'Mean weight of in- vs out-of-distribution sample images over meta-epochs', svg: await renderVegaLite(idOodWeightSpec(results)) });
  if (viewWeightPoints(results).length > 0) plots.push({ title: 'Weights of original vs weakly augmented images over meta-epochs (thesis fig. 5.1)', svg: await renderVegaLite(viewWeightSpec(results)) });
  if (keptWeightHistograms(results, options.histogramBins).some((h) => h.bins.length > 0)) {
    plots.push({ title: 'Histogram of the kept learner’s weights (thesis fig. 5.3)', svg: await renderVegaLite(weightHistogramSpec(results, options.histogramBins)) });
  }
  for (const req of images) {
    const { result, run } = findImageRun(results, req);
    const grid = weightedImageGrid(req.pool, result, run, req.grid);
    const title = `Highest, median and lowest weighted images per class: ${result.setting.label}, seed ${result.seed}, ${run.weighting}, meta-epoch ${run.bestMetaEpoch} (thesis fig. 5.2)`;
    plots.push({ title, svg: weightedImageGridSvg(grid, options.encodePng!, title) });
  }
  return { tables, plots };
}
