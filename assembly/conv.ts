// Float32 im2col / col2im (and dW's final transpose) for one NCHW image, in a small module that imports the GEMM module's memory (no data of its own): the packing around the conv2d GEMMs (stride-1 rows as block copies and SIMD adds), and im2col written straight into the GEMM's packed-B panels.

import { madd } from './madd';

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

// Whether this build fuses multiply-add (the conv-relaxed builds); conv2d.ts then lets dW take dwDot where it pays.
export { usesRelaxedSimd } from './madd';

/** The four lanes of v added as (l0 + l2) + (l1 + l3), plus Σ_{p >= p4} a[p] b[p] in order, then (+)= into *c. */
function dotFinish(v: v128, a: usize, b: usize, p4: i32, hw: i32, c: usize, accumulate: i32): void {
  const h = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  let s = f32x4.extract_lane(h, 0) + f32x4.extract_lane(h, 1);
  for (let p = p4; p < hw; p++) s += load<f32>(a + (<usize>p << 2)) * load<f32>(b + (<usize>p << 2));
  store<f32>(c, accumulate != 0 ? load<f32>(c) + s : s);
}

/**
 * dWᵀ[kk, o] (+)= Σ_p cols[kk, p] · gy[o, p] for kk < K and o in [o0, o1) (dWᵀ is K x O, row-major; cols K x hw and
 * gy O x hw, one image): dot products along the pixels with both operands read in place, where the GEMM packs
 * (transposes) both. Tiles of 2 rows of cols x 4 rows of gy in eight f32x4 accumulators, lane l summing the pixels
 * p = l (mod 4); a missing row of an edge tile reads the last row again and is not stored, so every element is the
 * same sum whatever the tile or the thread's range. With fused multiply-add 15% faster than the packed GEMM on a
 * 32x32 image's dW (3x3, 3 -> 32 channels); without it no faster, so the plain builds' callers keep the GEMM.
 */
export function dwDot(cols: usize, gy: usize, K: i32, O: i32, hw: i32, out: usize, accumulate: i32, o0: i32, o1: i32): void {
  const ld = <usize>hw << 2;
  const p4 = hw & ~3;
  const end = <usize>p4 << 2;
  const ldo = <usize>O << 2;
  for (let i = 0; i < K; i += 2) {
    const a0 = cols + <usize>i * ld;
    const a1 = i + 1 < K ? a0 + ld : a0;
    for (let j = o0; j < o1; j += 4) {
      const b0 = gy + <usize>j * ld;
      const b1 = j + 1 < o1 ? b0 + ld : b0;
      const b2 = j + 2 < o1 ? b1 + ld : b1;
      const b3 = j + 3 < o1 ? b2 + ld : b2;
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
      let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
      for (let o: usize = 0; o < end; o += 16) {
        const x0 = v128.load(a0 + o), x1 = v128.load(a1 + o);
        let y = v128.load(b0 + o);
        s00 = madd(x0, y, s00); s10 = madd(x1, y, s10);
        y = v128.load(b1 + o);
        s01 = madd(x0, y, s01); s11 = madd(x1, y, s11);
        y = v128.load(b2 + o);
        s02 = madd(x0, y, s02); s12 = madd(x1, y, s12);
        y = v128.load(b3 + o);
        s03 = madd(x0, y, s03); s13 = madd(x1, y, s13);
      }
      const c0 = out + <usize>i * ldo + (<usize>j << 2);
      const n = o1 - j;
      dotFinish(s00, a0, b0, p4, hw, c0, accumulate);
      if (n > 1) dotFinish(s01, a0, b1, p4, hw, c0 + 4, accumulate);
      if (n > 2) dotFinish(s02, a0, b2, p4, hw, c0 + 8, accumulate);
      if (n > 3) dotFinish(s03, a0, b3, p4, hw, c0 + 12, accumulate);
      if (i + 1 < K) {
        const c1 = c0 + ldo;
        dotFinish(s10, a1, b0, p4, hw, c1, accumulate);
        if (n > 1) dotFinish(s11, a1, b1, p4, hw, c1 + 4, accumulate);
        if (n > 2) dotFinish(s12, a1, b2, p4, hw, c1 + 8, accumulate);
        if (n > 3) dotFinish(s13, a1, b3, p4, hw, c1 + 12, accumulate);
      }
    }
  }
}
