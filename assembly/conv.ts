// Float32 im2col / col2im (and dW's final transpose) for one NCHW image, in a small module that imports the GEMM module's memory (no data of its own): the packing around the conv2d GEMMs (stride-1 rows as block copies and SIMD adds), and im2col written straight into the GEMM's packed-B panels.

/**
 * cols[(ci, ki, kj), (oy, ox)] = x[ci, oy*sh - ph + ki, ox*sw - pw + kj] (0 outside the image), for one
 * image x of c x h x w floats; cols is (c*kh*kw) x (ho*wo), row-major. Pointers are byte addresses.
 */
export function im2col(
  x: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, cols: usize,
): void {
  const rowBytes = <usize>(ho * wo) << 2;
  let dst = cols;
  for (let ci = 0; ci < c; ci++) {
    const xc = x + ((<usize>ci * <usize>h * <usize>w) << 2);
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++, dst += rowBytes) im2colRow(xc, h, w, ki, kj, ho, wo, sh, sw, ph, pw, dst);
    }
  }
}

/** Row (ki, kj) of one channel's columns: dst[oy*wo + ox] = xc[oy*sh - ph + ki, ox*sw - pw + kj], 0 outside. */
// @ts-ignore: decorator
@inline function im2colRow(
  xc: usize, h: i32, w: i32, ki: i32, kj: i32, ho: i32, wo: i32, sh: i32, sw: i32, ph: i32, pw: i32, dst: usize,
): void {
  const rowBytes = <usize>wo << 2;
  // Output columns whose input column ox*sw - pw + kj lies in [0, w).
  const ox0 = kj >= pw ? 0 : (pw - kj + sw - 1) / sw;
  const ox1 = w - 1 + pw - kj < 0 ? 0 : min(wo, (w - 1 + pw - kj) / sw + 1);
  for (let oy = 0; oy < ho; oy++, dst += rowBytes) {
    const iy = oy * sh - ph + ki;
    if (iy < 0 || iy >= h || ox1 <= ox0) {
      zeroRun(dst, 0, wo);
      continue;
    }
    zeroRun(dst, 0, ox0);
    zeroRun(dst, ox1, wo);
    const src = xc + ((<usize>iy * <usize>w) << 2);
    if (sw == 1) {
      copyRun(dst + (<usize>ox0 << 2), src + (<usize>(ox0 - pw + kj) << 2), ox1 - ox0);
    } else {
      for (let ox = ox0; ox < ox1; ox++) {
        store<f32>(dst + (<usize>ox << 2), load<f32>(src + (<usize>(ox * sw - pw + kj) << 2)));
      }
    }
  }
}

// Runs of an output row are short (a 32x32 image's rows: 32 floats, its padding 1): inline loops, where
// memory.copy / memory.fill are calls into the engine costing more than the copy (a 64-image batch's im2col for
// 3x3 p1 on 32x32: 0.65 -> 0.50 ms).

/** dst[i0:i1] = 0 (floats). */
// @ts-ignore: decorator
@inline function zeroRun(dst: usize, i0: i32, i1: i32): void {
  const z = f32x4.splat(0);
  let i = i0;
  for (; i + 4 <= i1; i += 4) v128.store(dst + (<usize>i << 2), z);
  for (; i < i1; i++) store<f32>(dst + (<usize>i << 2), 0);
}

/** dst[0:n] = src[0:n] (floats), four at a time. */
// @ts-ignore: decorator
@inline function copyRun(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/**
 * The adjoint of im2col: out (c x h x w, one image) = 0, then every column value is added back onto the
 * input pixel it was read from.
 */
export function col2im(
  cols: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, out: usize,
): void {
  memory.fill(out, 0, (<usize>c * <usize>h * <usize>w) << 2);
  const rowBytes = <usize>wo << 2;
  let src = cols;
  for (let ci = 0; ci < c; ci++) {
    const oc = out + ((<usize>ci * <usize>h * <usize>w) << 2);
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const ox0 = kj >= pw ? 0 : (pw - kj + sw - 1) / sw;
        const ox1 = w - 1 + pw - kj < 0 ? 0 : min(wo, (w - 1 + pw - kj) / sw + 1);
        for (let oy = 0; oy < ho; oy++, src += rowBytes) {
          const iy = oy * sh - ph + ki;
          if (iy < 0 || iy >= h || ox1 <= ox0) continue;
          const dst = oc + ((<usize>iy * <usize>w) << 2);
          if (sw == 1) {
            addRun(dst + (<usize>(ox0 - pw + kj) << 2), src + (<usize>ox0 << 2), ox1 - ox0);
          } else {
            for (let ox = ox0; ox < ox1; ox++) {
              const d = dst + (<usize>(ox * sw - pw + kj) << 2);
              store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>ox << 2)));
            }
          }
        }
      }
    }
  }
}

/** dst[0:n] += src[0:n] (floats), four at a time. */
function addRun(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/** The GEMM's panel width NR (assembly/gemm.ts; the caller checks that panelWidth() agrees). */
const NR: i32 = 8;

/**
 * The columns of im2col (K = c*kh*kw rows, N = ho*wo columns) written in the GEMM's packed-B layout (gemm.ts
 * kBlock): rows in blocks of kcBlk, each block as panels of NR columns, a panel kc x NR floats, the columns past N
 * zero. sgemmPacked then multiplies by them without a packing pass of its own. Each row is built in `row` (N + NR
 * floats, in L1) with im2col's block copies and fills, then dealt out to the panels NR floats at a time.
 */
export function im2colPacked(
  x: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, kcBlk: i32, row: usize, cols: usize,
): void {
  const K = c * kh * kw;
  const N = ho * wo;
  const panels = (N + NR - 1) / NR;
  // The row's tail up to a whole panel stays zero.
  memory.fill(row + (<usize>N << 2), 0, <usize>(panels * NR - N) << 2);
  let k = 0;
  for (let ci = 0; ci < c; ci++) {
    const xc = x + ((<usize>ci * <usize>h * <usize>w) << 2);
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++, k++) {
        im2colRow(xc, h, w, ki, kj, ho, wo, sh, sw, ph, pw, row);
        const pc = k / kcBlk * kcBlk;
        const step = <usize>min(kcBlk, K - pc) * <usize>NR << 2;
        let dst = cols + ((<usize>pc * <usize>(panels * NR) + <usize>(k - pc) * <usize>NR) << 2);
        let src = row;
        for (let p = 0; p < panels; p++, dst += step, src += <usize>NR << 2) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
        }
      }
    }
  }
}

/** dst[j, i] = src[i, j] for src rows x cols floats (conv's dW, computed as its transpose). */
export function transpose(src: usize, rows: i32, cols: i32, dst: usize): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      store<f32>(dst + ((<usize>j * <usize>rows + <usize>i) << 2), load<f32>(src + ((<usize>i * <usize>cols + <usize>j) << 2)));
    }
  }
}
