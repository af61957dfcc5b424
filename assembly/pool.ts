// Float32 2x2 stride-2 max pooling over NCHW planes in the tensor heap: the first-maximum offset per window (argmax, as 0..3), the gather at it and its transpose (the scatter), four windows per SIMD step; the same values as the JS kernels in src/backend/cpu/pool.ts.

/** Whether each lane of v replaces the running maximum: strictly greater (ties keep the first), or v is the first NaN. */
@inline function wins(v: v128, best: v128): v128 {
  return v128.or(f32x4.gt(v, best), v128.and(f32x4.ne(v, v), f32x4.eq(best, best)));
}

/** Lanes 0, 2 of a and of b (the even columns of 8 consecutive floats). */
@inline function evens(a: v128, b: v128): v128 {
  return i32x4.shuffle(a, b, 0, 2, 4, 6);
}

@inline function odds(a: v128, b: v128): v128 {
  return i32x4.shuffle(a, b, 1, 3, 5, 7);
}

@inline function winsScalar(v: f32, best: f32): bool {
  return v > best || (v != v && best == best);
}

/** out[plane, i, j] = offset (0..3, row-major in the window) of the first maximum of x[plane, 2i..2i+1, 2j..2j+1]. */
export function argmax2x2(x: usize, planes: i32, h: i32, w: i32, ho: i32, wo: i32, out: usize): void {
  const one = f32x4.splat(1.0), two = f32x4.splat(2.0), three = f32x4.splat(3.0), zero = f32x4.splat(0.0);
  for (let q = 0; q < planes; q++) {
    const xb = x + ((<usize>q * <usize>h * <usize>w) << 2);
    let o = out + ((<usize>q * <usize>ho * <usize>wo) << 2);
    for (let i = 0; i < ho; i++) {
      const row0 = xb + ((<usize>(2 * i) * <usize>w) << 2);
      const row1 = row0 + (<usize>w << 2);
      let j = 0;
      for (; j + 4 <= wo; j += 4, o += 16) {
        const p0 = row0 + (<usize>(2 * j) << 2), p1 = row1 + (<usize>(2 * j) << 2);
        const a0 = v128.load(p0), a1 = v128.load(p0, 16), b0 = v128.load(p1), b1 = v128.load(p1, 16);
        let best = evens(a0, a1);
        let r = zero;
        let v = odds(a0, a1);
        let m = wins(v, best);
        best = v128.bitselect(v, best, m);
        r = v128.bitselect(one, r, m);
        v = evens(b0, b1);
        m = wins(v, best);
        best = v128.bitselect(v, best, m);
        r = v128.bitselect(two, r, m);
        v = odds(b0, b1);
        r = v128.bitselect(three, r, wins(v, best));
        v128.store(o, r);
      }
      for (; j < wo; j++, o += 4) {
        const p0 = row0 + (<usize>(2 * j) << 2), p1 = row1 + (<usize>(2 * j) << 2);
        let best = load<f32>(p0);
        let r: f32 = 0;
        let v = load<f32>(p0, 4);
        if (winsScalar(v, best)) { best = v; r = 1; }
        v = load<f32>(p1);
        if (winsScalar(v, best)) { best = v; r = 2; }
        v = load<f32>(p1, 4);
        if (winsScalar(v, best)) r = 3;
        store<f32>(o, r);
      }
    }
  }
}

/** The index of the first offset in arg[0..n) that is not 0, 1, 2 or 3, or -1. */
export function checkArgs2x2(arg: usize, n: i32): i32 {
  const c0 = f32x4.splat(0.0), c1 = f32x4.splat(1.0), c2 = f32x4.splat(2.0), c3 = f32x4.splat(3.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const r = v128.load(arg + (<usize>i << 2));
    const ok = v128.or(v128.or(f32x4.eq(r, c0), f32x4.eq(r, c1)), v128.or(f32x4.eq(r, c2), f32x4.eq(r, c3)));
    if (!i32x4.all_true(ok)) break;
  }
  for (; i < n; i++) {
    const r = load<f32>(arg + (<usize>i << 2));
    if (!(r == 0 || r == 1 || r == 2 || r == 3)) return i;
  }
  return -1;
}

/** out[plane, i, j] = x at offset arg[plane, i, j] of window (i, j). Offsets must be 0..3 (checkArgs2x2). */
export function gather2x2(x: usize, arg: usize, planes: i32, h: i32, w: i32, ho: i32, wo: i32, out: usize): void {
  const c0 = f32x4.splat(0.0), c1 = f32x4.splat(1.0), c2 = f32x4.splat(2.0);
  for (let q = 0; q < planes; q++) {
    const xb = x + ((<usize>q * <usize>h * <usize>w) << 2);
    const off = (<usize>q * <usize>ho * <usize>wo) << 2;
    let o = out + off, a = arg + off;
    for (let i = 0; i < ho; i++) {
      const row0 = xb + ((<usize>(2 * i) * <usize>w) << 2);
      const row1 = row0 + (<usize>w << 2);
      let j = 0;
      for (; j + 4 <= wo; j += 4, o += 16, a += 16) {
        const p0 = row0 + (<usize>(2 * j) << 2), p1 = row1 + (<usize>(2 * j) << 2);
        const a0 = v128.load(p0), a1 = v128.load(p0, 16), b0 = v128.load(p1), b1 = v128.load(p1, 16);
        const r = v128.load(a);
        const lower = v128.bitselect(evens(b0, b1), odds(b0, b1), f32x4.eq(r, c2));
        const upper = v128.bitselect(evens(a0, a1), odds(a0, a1), f32x4.eq(r, c0));
        const isUpper = v128.or(f32x4.eq(r, c0), f32x4.eq(r, c1));
        v128.store(o, v128.bitselect(upper, lower, isUpper));
      }
      for (; j < wo; j++, o += 4, a += 4) {
        const r = <i32>load<f32>(a);
        store<f32>(o, load<f32>(row0 + (<usize>(2 * j + (r & 1)) << 2) + (<usize>(r >> 1) * (<usize>w << 2))));
      }
    }
  }
}

/**
 * out = 0, then out at offset arg[o] of window o += gy[o] (windows do not overlap, so each input gets at most one
 * value, added to 0: -0 becomes +0 as in the JS kernel).
 */
export function scatter2x2(gy: usize, arg: usize, planes: i32, h: i32, w: i32, ho: i32, wo: i32, out: usize): void {
  memory.fill(out, 0, (<usize>planes * <usize>h * <usize>w) << 2);
  const c0 = f32x4.splat(0.0), c1 = f32x4.splat(1.0), c2 = f32x4.splat(2.0), c3 = f32x4.splat(3.0);
  for (let q = 0; q < planes; q++) {
    const ob = out + ((<usize>q * <usize>h * <usize>w) << 2);
    const off = (<usize>q * <usize>ho * <usize>wo) << 2;
    let g = gy + off, a = arg + off;
    for (let i = 0; i < ho; i++) {
      const row0 = ob + ((<usize>(2 * i) * <usize>w) << 2);
      const row1 = row0 + (<usize>w << 2);
      let j = 0;
      for (; j + 4 <= wo; j += 4, g += 16, a += 16) {
        const v = v128.load(g), r = v128.load(a);
        const e00 = f32x4.add(c0, v128.and(v, f32x4.eq(r, c0)));
        const e01 = f32x4.add(c0, v128.and(v, f32x4.eq(r, c1)));
        const e10 = f32x4.add(c0, v128.and(v, f32x4.eq(r, c2)));
        const e11 = f32x4.add(c0, v128.and(v, f32x4.eq(r, c3)));
        const p0 = row0 + (<usize>(2 * j) << 2), p1 = row1 + (<usize>(2 * j) << 2);
        v128.store(p0, i32x4.shuffle(e00, e01, 0, 4, 1, 5));
        v128.store(p0, i32x4.shuffle(e00, e01, 2, 6, 3, 7), 16);
        v128.store(p1, i32x4.shuffle(e10, e11, 0, 4, 1, 5));
        v128.store(p1, i32x4.shuffle(e10, e11, 2, 6, 3, 7), 16);
      }
      for (; j < wo; j++, g += 4, a += 4) {
        const r = <i32>load<f32>(a);
        const p = row0 + (<usize>(2 * j + (r & 1)) << 2) + (<usize>(r >> 1) * (<usize>w << 2));
        store<f32>(p, load<f32>(p) + load<f32>(g));
      }
    }
  }
}
