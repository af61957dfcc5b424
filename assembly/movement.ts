// Strided copies (transpose, slice, pad, broadcast) and max reductions on the CPU tensor heap: the loops of src/backend/cpu/elementwise.ts (copyStrided) and reduce.ts (maxBlock) with their values and order.

import { fillF32, fillF64 } from './elementwise';

// Copies move 4-byte or 8-byte integers (u32, u64): every bit pattern, NaN payloads included, arrives unchanged.

/**
 * One 4-byte or 8-byte row of a strided copy: dst[d0·i] = src[s0·i] for i < n (byte pointers, strides in elements).
 * Contiguous rows copy 16 bytes per step (memory.copy from 64 values), a broadcast value (s0 = 0) goes to fillF32/64, other
 * strides go value by value.
 */
@inline function copyRow<T>(src: usize, s0: i32, dst: usize, d0: i32, n: i32): void {
  const size = <usize>sizeof<T>();
  if (d0 == 1 && s0 == 1) {
    const bytes = <usize>n * size;
    if (n >= 64) {
      memory.copy(dst, src, bytes);
      return;
    }
    let o: usize = 0;
    for (; o + 16 <= bytes; o += 16) v128.store(dst + o, v128.load(src + o));
    for (; o < bytes; o += size) store<T>(dst + o, load<T>(src + o));
    return;
  }
  if (d0 == 1 && s0 == 0) {
    // The heap's fill (a float passed between Wasm functions keeps its bits, NaN payloads included).
    if (sizeof<T>() == 4) fillF32(dst, load<f32>(src), n);
    else fillF64(dst, load<f64>(src), n);
    return;
  }
  const ss = <usize>s0 * size, ds = <usize>d0 * size;
  for (let i = 0; i < n; i++, src += ss, dst += ds) store<T>(dst, load<T>(src));
}

/**
 * Four rows of a transposing copy of 4-byte values (d0 = 1, s1 = 1): dst row i1 + j, column i0 + k takes
 * src[(i0 + k)·s0 + i1 + j]. Four loads along i1 are transposed as a 4x4 block and stored along i0.
 */
@inline function transposeRows4(src: usize, s0: i32, dst: usize, d1: i32, n0: i32): void {
  const ss = <usize>s0 << 2, ds = <usize>d1 << 2;
  let i0 = 0;
  for (; i0 + 4 <= n0; i0 += 4) {
    const p = src + <usize>i0 * ss;
    const a = v128.load(p), b = v128.load(p + ss), c = v128.load(p + 2 * ss), d = v128.load(p + 3 * ss);
    const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5), t1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
    const t2 = i32x4.shuffle(c, d, 0, 4, 1, 5), t3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
    const q = dst + (<usize>i0 << 2);
    v128.store(q, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
    v128.store(q + ds, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
    v128.store(q + 2 * ds, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
    v128.store(q + 3 * ds, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
  }
  for (; i0 < n0; i0++) {
    const p = src + <usize>i0 * ss, q = dst + (<usize>i0 << 2);
    for (let j = 0; j < 4; j++) store<u32>(q + <usize>j * ds, load<u32>(p + (<usize>j << 2)));
  }
}

/** transposeRows4 for 8-byte values: two rows, 2x2 blocks. */
@inline function transposeRows2(src: usize, s0: i32, dst: usize, d1: i32, n0: i32): void {
  const ss = <usize>s0 << 3, ds = <usize>d1 << 3;
  let i0 = 0;
  for (; i0 + 2 <= n0; i0 += 2) {
    const p = src + <usize>i0 * ss;
    const a = v128.load(p), b = v128.load(p + ss);
    const q = dst + (<usize>i0 << 3);
    v128.store(q, i64x2.shuffle(a, b, 0, 2));
    v128.store(q + ds, i64x2.shuffle(a, b, 1, 3));
  }
  if (i0 < n0) {
    const p = src + <usize>i0 * ss, q = dst + (<usize>i0 << 3);
    store<u64>(q, load<u64>(p));
    store<u64>(q + ds, load<u64>(p, 8));
  }
}

/**
 * dst[d2·i2 + d1·i1 + d0·i0] = src[s2·i2 + s1·i1 + s0·i0] over an n2 x n1 x n0 block (non-negative strides in
 * elements): the innermost three loops of copyStrided. Where the output runs along i0 and the input along i1 (a
 * transpose of the two innermost axes) rows go four (8-byte values: two) at a time through SIMD block transposes.
 */
@inline function copyBlock<T>(src: usize, s2: i32, s1: i32, s0: i32, dst: usize, d2: i32, d1: i32, d0: i32, n2: i32, n1: i32, n0: i32): void {
  const size = <usize>sizeof<T>();
  const step = sizeof<T>() == 4 ? 4 : 2;
  const blocks = d0 == 1 && s1 == 1 && s0 > 1 && n0 >= step;
  for (let i2 = 0; i2 < n2; i2++) {
    const ps = src + <usize>i2 * <usize>s2 * size, pd = dst + <usize>i2 * <usize>d2 * size;
    let i1 = 0;
    if (blocks) {
      for (; i1 + step <= n1; i1 += step) {
        const qs = ps + <usize>i1 * size, qd = pd + <usize>i1 * <usize>d1 * size;
        if (sizeof<T>() == 4) transposeRows4(qs, s0, qd, d1, n0);
        else transposeRows2(qs, s0, qd, d1, n0);
      }
    }
    for (; i1 < n1; i1++) copyRow<T>(ps + <usize>i1 * <usize>s1 * size, s0, pd + <usize>i1 * <usize>d1 * size, d0, n0);
  }
}

export function copyBlock32(src: usize, s2: i32, s1: i32, s0: i32, dst: usize, d2: i32, d1: i32, d0: i32, n2: i32, n1: i32, n0: i32): void {
  copyBlock<u32>(src, s2, s1, s0, dst, d2, d1, d0, n2, n1, n0);
}

export function copyBlock64(src: usize, s2: i32, s1: i32, s0: i32, dst: usize, d2: i32, d1: i32, d0: i32, n2: i32, n1: i32, n0: i32): void {
  copyBlock<u64>(src, s2, s1, s0, dst, d2, d1, d0, n2, n1, n0);
}

/**
 * The reduction rule of maxBlock, one value at a time from `best`: v replaces it when v > best or v is NaN (so the
 * last NaN wins, and of equal values the first stays: +0 after -0 keeps -0).
 */
@inline function maxScalar<T>(x: usize, n: i32, best: T): T {
  for (let i = 0; i < n; i++) {
    const v = load<T>(x + (<usize>i << alignof<T>()));
    if (v > best || v != v) best = v;
  }
  return best;
}

/**
 * max(best, x[0..n)) by maxBlock's rule. Lanes take the run four (doubles: two) at a time in four chains; their
 * maximum is the rule's result unless a NaN took part or the maximum is ±0 (equal values of other bits: -0 and +0),
 * and then the run is read again one value at a time, as the JS loop reads it.
 */
@inline function maxRun<T>(x: usize, n: i32, best: T): T {
  if (best != best || n < 32) return maxScalar<T>(x, n, best);
  const four = sizeof<T>() == 4;
  const lanes = four ? 4 : 2;
  const b = four ? f32x4.splat(<f32>best) : f64x2.splat(<f64>best);
  let m0 = b, m1 = b, m2 = b, m3 = b;
  let nan = i32x4.splat(0);
  let i = 0;
  for (; i + 4 * lanes <= n; i += 4 * lanes) {
    const p = x + (<usize>i << alignof<T>());
    const a = v128.load(p), c = v128.load(p, 16), d = v128.load(p, 32), e = v128.load(p, 48);
    if (four) {
      m0 = f32x4.max(m0, a); m1 = f32x4.max(m1, c); m2 = f32x4.max(m2, d); m3 = f32x4.max(m3, e);
      nan = v128.or(nan, v128.or(v128.or(f32x4.ne(a, a), f32x4.ne(c, c)), v128.or(f32x4.ne(d, d), f32x4.ne(e, e))));
    } else {
      m0 = f64x2.max(m0, a); m1 = f64x2.max(m1, c); m2 = f64x2.max(m2, d); m3 = f64x2.max(m3, e);
      nan = v128.or(nan, v128.or(v128.or(f64x2.ne(a, a), f64x2.ne(c, c)), v128.or(f64x2.ne(d, d), f64x2.ne(e, e))));
    }
  }
  if (v128.any_true(nan)) return maxScalar<T>(x, n, best);
  let m: T;
  if (four) {
    const v = f32x4.max(f32x4.max(m0, m1), f32x4.max(m2, m3));
    m = <T>max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
  } else {
    const v = f64x2.max(f64x2.max(m0, m1), f64x2.max(m2, m3));
    m = <T>max(f64x2.extract_lane(v, 0), f64x2.extract_lane(v, 1));
  }
  // The tail, by the rule (no NaN before it; a NaN in it wins as in the JS loop).
  m = maxScalar<T>(x + (<usize>i << alignof<T>()), n - i, m);
  if (m == 0 || m != m) return maxScalar<T>(x, n, best);
  return m;
}

/** acc[k·step] = maxRun(run k, acc[k·step]) for `runs` consecutive runs of n values (step in elements). */
@inline function maxRuns<T>(x: usize, runs: i32, n: i32, acc: usize, step: i32): void {
  const runBytes = <usize>n << alignof<T>(), accBytes = <usize>step << alignof<T>();
  for (let k = 0; k < runs; k++, x += runBytes, acc += accBytes) store<T>(acc, maxRun<T>(x, n, load<T>(acc)));
}

export function maxRunsF32(x: usize, runs: i32, n: i32, acc: usize, step: i32): void {
  maxRuns<f32>(x, runs, n, acc, step);
}

export function maxRunsF64(x: usize, runs: i32, n: i32, acc: usize, step: i32): void {
  maxRuns<f64>(x, runs, n, acc, step);
}

/** The rule on lanes: v where v > best or v is NaN, else best. */
@inline function take<T>(v: v128, best: v128): v128 {
  const m = sizeof<T>() == 4 ? v128.or(f32x4.gt(v, best), f32x4.ne(v, v)) : v128.or(f64x2.gt(v, best), f64x2.ne(v, v));
  return v128.bitselect(v, best, m);
}

/**
 * acc[j] = maxBlock's rule over rows i of x (rows x cols, row-major) for every column j < cols: row by row (acc
 * stays in cache, x streams), each column taking its rows in order, so every column gets the JS loop's result and
 * bits; 16 bytes per lane group, the last columns one at a time.
 */
@inline function maxRows<T>(x: usize, rows: i32, cols: i32, acc: usize): void {
  const size = <usize>sizeof<T>();
  const bytes = <usize>cols * size;
  const vecBytes = bytes & ~(<usize>63);
  for (let i = 0; i < rows; i++, x += bytes) {
    let o: usize = 0;
    for (; o < vecBytes; o += 64) {
      v128.store(acc + o, take<T>(v128.load(x + o), v128.load(acc + o)));
      v128.store(acc + o, take<T>(v128.load(x + o, 16), v128.load(acc + o, 16)), 16);
      v128.store(acc + o, take<T>(v128.load(x + o, 32), v128.load(acc + o, 32)), 32);
      v128.store(acc + o, take<T>(v128.load(x + o, 48), v128.load(acc + o, 48)), 48);
    }
    for (; o + 16 <= bytes; o += 16) v128.store(acc + o, take<T>(v128.load(x + o), v128.load(acc + o)));
    for (; o < bytes; o += size) {
      const v = load<T>(x + o);
      if (v > load<T>(acc + o) || v != v) store<T>(acc + o, v);
    }
  }
}

export function maxRowsF32(x: usize, rows: i32, cols: i32, acc: usize): void {
  maxRows<f32>(x, rows, cols, acc);
}

export function maxRowsF64(x: usize, rows: i32, cols: i32, acc: usize): void {
  maxRows<f64>(x, rows, cols, acc);
}

/**
 * out[o, i, ·] = x[o, idx[i], ·] for o < outer, i < m, rows of `inner` values (x is [outer, len, inner], idx i32 in
 * the heap): the gather of src/backend/cpu/movement.ts, one row copy per index.
 */
@inline function gather<T>(x: usize, outer: i32, len: i32, inner: i32, idx: usize, m: i32, out: usize): void {
  const rowBytes = <usize>inner * <usize>sizeof<T>();
  for (let o = 0; o < outer; o++) {
    const base = x + <usize>o * <usize>len * rowBytes;
    for (let i = 0; i < m; i++, out += rowBytes) {
      const src = base + <usize>load<i32>(idx + (<usize>i << 2)) * rowBytes;
      if (inner == 1) store<T>(out, load<T>(src));
      else copyRow<T>(src, 1, out, 1, inner);
    }
  }
}

export function gather32(x: usize, outer: i32, len: i32, inner: i32, idx: usize, m: i32, out: usize): void {
  gather<u32>(x, outer, len, inner, idx, m, out);
}

export function gather64(x: usize, outer: i32, len: i32, inner: i32, idx: usize, m: i32, out: usize): void {
  gather<u64>(x, outer, len, inner, idx, m, out);
}

/**
 * out[o, idx[i], ·] += x[o, i, ·] for o, then i, in order (out zeroed before, [outer, size, inner]): the JS loop's
 * order, so a repeated index sums its rows as the JS loop does; each addition rounds once on both paths (a float32
 * sum computed in double rounds to the float32 sum).
 */
@inline function scatterAdd<T>(x: usize, outer: i32, m: i32, inner: i32, idx: usize, size: i32, out: usize): void {
  const bytes = <usize>sizeof<T>();
  const rowBytes = <usize>inner * bytes;
  for (let o = 0; o < outer; o++) {
    const base = out + <usize>o * <usize>size * rowBytes;
    for (let i = 0; i < m; i++, x += rowBytes) {
      const dst = base + <usize>load<i32>(idx + (<usize>i << 2)) * rowBytes;
      let q: usize = 0;
      for (; q + 16 <= rowBytes; q += 16) {
        const a = v128.load(dst + q), b = v128.load(x + q);
        v128.store(dst + q, sizeof<T>() == 4 ? f32x4.add(a, b) : f64x2.add(a, b));
      }
      for (; q < rowBytes; q += bytes) store<T>(dst + q, load<T>(dst + q) + load<T>(x + q));
    }
  }
}

export function scatterAddF32(x: usize, outer: i32, m: i32, inner: i32, idx: usize, size: i32, out: usize): void {
  scatterAdd<f32>(x, outer, m, inner, idx, size, out);
}

export function scatterAddF64(x: usize, outer: i32, m: i32, inner: i32, idx: usize, size: i32, out: usize): void {
  scatterAdd<f64>(x, outer, m, inner, idx, size, out);
}
