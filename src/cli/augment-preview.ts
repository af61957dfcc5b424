// `iml augment-preview`: a PNG or SVG grid of a data set's images with their weak and strong (RandAugment + Cutout) views.

import { Command } from 'commander';
import { extname } from 'node:path';
import { allowsHorizontalFlip, describeTrace, previewGrid } from '../augment/index.js';
import { writeFileAtomic } from '../node/write-atomic.js';
import { DATASET_NAMES, loadDataset } from '../node/datasets.js';
import { nonNegativeInt, positiveInt } from './options.js';
import { encodePngRgb } from '../node/png.js';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function registerAugmentPreview(program: Command): void {
  program
    .command('augment-preview')
    .description('write a grid of images with their weak and strong FixMatch views (PNG, or SVG with the ops as captions)')
    .option('--dataset <name>', `one of ${DATASET_NAMES.join(', ')}`, 'mnist')
    .option('--data-dir <dir>', 'folder for fashion-mnist (IDX) or cifar10 (binary batches)')
    .requiredOption('--out <file>', 'output file, .png or .svg')
    .option('--count <n>', 'images (rows)', positiveInt('--count'), 8)
    .option('--weak <n>', 'weak views per image', nonNegativeInt('--weak'), 2)
    .option('--strong <n>', 'strong views per image', nonNegativeInt('--strong'), 4)
    .option('--scale <n>', 'pixel magnification', positiveInt('--scale'), 4)
    .option('--seed <n>', 'random seed of the views', nonNegativeInt('--seed'), 0)
    .action(async (o) => {
      const ext = extname(o.out).toLowerCase();
      if (ext !== '.png' && ext !== '.svg') throw new Error(`--out ${o.out}: the file name must end in .png or .svg`);
      const data = loadDataset(o.dataset, { dataDir: o.dataDir, seed: 0 }).test;
      const count = Math.min(o.count, data.count);
      const size = data.channels * data.height * data.width;
      const batch = { data: data.images.subarray(0, count * size), count, channels: data.channels, height: data.height, width: data.width };
      const flip = allowsHorizontalFlip(o.dataset);
      const grid = previewGrid(batch, { weakViews: o.weak, strongViews: o.strong, scale: o.scale, seed: o.seed, weak: { flip } });
      const png = encodePngRgb(grid.rgb, grid.width, grid.height);
      if (ext === '.png') {
        await writeFileAtomic(o.out, png);
      } else {
        const head = 18;
        const captions = grid.columns.map((c, k) => `<text x="${grid.gap + k * (grid.cell + grid.gap) + grid.cell / 2}" y="13" text-anchor="middle">${escapeXml(c)}</text>`);
        const titles = grid.traces.flatMap((row, i) => row.map((t, k) => {
          const x = grid.gap + (1 + o.weak + k) * (grid.cell + grid.gap);
          const y = head + grid.gap + i * (grid.cell + grid.gap);
          return `<rect x="${x}" y="${y}" width="${grid.cell}" height="${grid.cell}" fill="transparent"><title>${escapeXml(describeTrace(t))}</title></rect>`;
        }));
        const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${grid.width}" height="${grid.height + head}" font-family="sans-serif" font-size="11">\n` +
          `<image x="0" y="${head}" width="${grid.width}" height="${grid.height}" style="image-rendering:pixelated" href="data:image/png;base64,${png.toString('base64')}"/>\n` +
          `${captions.join('\n')}\n${titles.join('\n')}\n</svg>\n`;
        await writeFileAtomic(o.out, svg);
      }
      console.log(`${o.dataset}: ${count} images x (${grid.columns.join(', ')}), flip ${flip ? 'on' : 'off'}, seed ${o.seed} -> ${o.out}`);
      grid.traces.forEach((row, i) => console.log(`  image ${i + 1}: ${row.map(describeTrace).join(' | ')}`));
    });
}
