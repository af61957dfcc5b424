// Cutout: a square of the image set to a constant (grey), as in the FixMatch references after RandAugment.

import type { FloatImage } from './levels.js';

/**
 * Fills a size x size square with `fill` (default grey 0.5). As the references (CutoutAbs), the square's corner is
 * (max(0, floor(cx - size/2)), max(0, floor(cy - size/2))) and it is cut at the right and bottom edges, so the
 * area is size² unless the square runs over those edges. Returns a new image.
 */
export function cutout(img: FloatImage, cx: number, cy: number, size: number, fill = 0.5): FloatImage {
  if (!Number.isInteger(size) || size < 0) throw new Error(`cutout: size must be a non-negative integer, got ${size}`);
  if (!Number.isFinite(cx) || !Number.isFinite(cy)) throw new Error(`cutout: centre must be finite, got (${cx}, ${cy})`);
  const { channels, height: h, width: w } = img;
  const x0 = Math.max(0, Math.floor(cx - size / 2));
  const y0 = Math.max(0, Math.floor(cy - size / 2));
  const x1 = Math.min(w, x0 + size);
  const y1 = Math.min(h, y0 + size);
  const out = img.data.slice();
  for (let c = 0; c < channels; c++) {
    for (let y = y0; y < y1; y++) out.fill(fill, (c * h + y) * w + x0, (c * h + y) * w + Math.max(x0, x1));
  }
  return { ...img, data: out };
}
