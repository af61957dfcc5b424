// Dot products and sums over arrays in the CPU tensor heap, accumulated in float64 in a fixed order (src/backend/cpu/dot.ts and reduce.ts compute the same order in JS, so the same bits): the solvers' inner products, every contiguous sum, and sums over leading axes (addRows*).
//
// Order: element i goes to partial sum i mod 8 (four f64x2 accumulators, lanes 2a and 2a+1 in accumulator a) for the
// whole steps of 8; the partial sums are combined as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), then the last
// n mod 8 products are added one by one. A float32 product is exact in float64 (48 significant bits), so float32
// inputs round only in the additions.

import { combine } from './lanes';

/** Σ a_i·b_i over n floats. */
export function dotF32(a: usize, b: usize, n: i32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const x0 = v128.load(a + o), x1 = v128.load(a + o, 16), y0 = v128.load(b + o), y1 = v128.load(b + o, 16);
    s0 = f64x2.add(s0, f64x2.mul(f64x2.promote_low_f32x4(x0), f64x2.promote_low_f32x4(y0)));
    s1 = f64x2.add(s1, f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(x0, x0, 2, 3, 0, 1)), f64x2.promote_low_f32x4(i32x4.shuffle(y0, y0, 2, 3, 0, 1))));
    s2 = f64x2.add(s2, f64x2.mul(f64x2.promote_low_f32x4(x1), f64x2.promote_low_f32x4(y1)));
    s3 = f64x2.add(s3, f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(x1, x1, 2, 3, 0, 1)), f64x2.promote_low_f32x4(i32x4.shuffle(y1, y1, 2, 3, 0, 1))));
  }
  let s = combine(s0, s1, s2, s3);
  for (; i < n; i++) s += <f64>load<f32>(a + (<usize>i << 2)) * <f64>load<f32>(b + (<usize>i << 2));
  return s;
}

/** Σ a_i·b_i over n doubles. */
export function dotF64(a: usize, b: usize, n: i32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 3;
    s0 = f64x2.add(s0, f64x2.mul(v128.load(a + o), v128.load(b + o)));
    s1 = f64x2.add(s1, f64x2.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
    s2 = f64x2.add(s2, f64x2.mul(v128.load(a + o, 32), v128.load(b + o, 32)));
    s3 = f64x2.add(s3, f64x2.mul(v128.load(a + o, 48), v128.load(b + o, 48)));
  }
  let s = combine(s0, s1, s2, s3);
  for (; i < n; i++) s += load<f64>(a + (<usize>i << 3)) * load<f64>(b + (<usize>i << 3));
  return s;
}

/** Σ x_i over n floats, in the order above (reduce.ts's sumRun). */
export function sumF32(x: usize, n: i32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const x0 = v128.load(x + o), x1 = v128.load(x + o, 16);
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(x0));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(x0, x0, 2, 3, 0, 1)));
    s2 = f64x2.add(s2, f64x2.promote_low_f32x4(x1));
    s3 = f64x2.add(s3, f64x2.promote_low_f32x4(i32x4.shuffle(x1, x1, 2, 3, 0, 1)));
  }
  let s = combine(s0, s1, s2, s3);
  for (; i < n; i++) s += <f64>load<f32>(x + (<usize>i << 2));
  return s;
}

/** Σ x_i over n doubles, in the order above. */
export function sumF64(x: usize, n: i32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 3;
    s0 = f64x2.add(s0, v128.load(x + o));
    s1 = f64x2.add(s1, v128.load(x + o, 16));
    s2 = f64x2.add(s2, v128.load(x + o, 32));
    s3 = f64x2.add(s3, v128.load(x + o, 48));
  }
  let s = combine(s0, s1, s2, s3);
  for (; i < n; i++) s += load<f64>(x + (<usize>i << 3));
  return s;
}


/**
 * acc[j] += x[r·n + j] for r < rows, j < n (x float32, acc float64): sums over leading axes with the innermost kept,
 * such as a bias gradient's column sums, each column added row by row in order (reduce.ts's sumBlock, the same
 * bits). Two columns per f64x2, rows of 16+ values.
 */
export function addRowsF32(x: usize, rows: i32, n: i32, acc: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>n) << 2);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const v = v128.load(xr + (<usize>j << 2));
      const a = acc + (<usize>j << 3);
      v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v)));
      v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1))), 16);
    }
    for (; j < n; j++) {
      const a = acc + (<usize>j << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(xr + (<usize>j << 2)));
    }
  }
}

/** addRowsF32 for float64 x. */
export function addRowsF64(x: usize, rows: i32, n: i32, acc: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>n) << 3);
    let j = 0;
    for (; j + 2 <= n; j += 2) {
      const a = acc + (<usize>j << 3);
      v128.store(a, f64x2.add(v128.load(a), v128.load(xr + (<usize>j << 3))));
    }
    if (j < n) {
      const a = acc + (<usize>j << 3);
      store<f64>(a, load<f64>(a) + load<f64>(xr + (<usize>j << 3)));
    }
  }
}
