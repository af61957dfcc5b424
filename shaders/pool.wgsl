// Max pooling: per output window the offset of its first maximum (argmax), the gather of values at those offsets, and the scatter-add back (as a gather over inputs: no atomics, the CPU kernel's order).

@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> arg: array<f32>;

// Parameters: 0 invocation count, 1 H, 2 W, 3 Ho, 4 Wo, 5 kh, 6 kw, 7 sh, 8 sw, 9 ph, 10 pw.

/** Output o as (plane, top row, left column) of its window; rows and columns may start in the padding (< 0). */
fn pool_window(o: u32) -> vec3<i32> {
  let wo = prm(4u);
  let ho = prm(3u);
  let pq = udiv(o, wo);
  let j = o - pq * wo;
  let q = udiv(pq, ho);
  let i = pq - q * ho;
  return vec3<i32>(i32(q), i32(i * prm(7u)) - i32(prm(9u)), i32(j * prm(8u)) - i32(prm(10u)));
}

/** Flat input index of output o's window offset r = dy·kw + dx, clamped into the image (the CPU kernel rejects bad offsets). */
fn pool_source(o: u32, r: u32) -> u32 {
  let win = pool_window(o);
  let kw = prm(6u);
  let dy = udiv(r, kw);
  let dx = r - dy * kw;
  let h = i32(prm(1u));
  let w = i32(prm(2u));
  let yy = clamp(win.y + i32(dy), 0, h - 1);
  let xx = clamp(win.z + i32(dx), 0, w - 1);
  return u32((win.x * h + yy) * w + xx);
}

/** out[o] = dy·kw + dx of the window's first maximum in row-major order (strictly greater replaces). */
@compute @workgroup_size(WG)
fn pool_argmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = flat_id(wid, nwg, lid) * ELEMS;
  let n = min(prm(0u), first + ELEMS);
  let h = i32(prm(1u));
  let w = i32(prm(2u));
  let kh = i32(prm(5u));
  let kw = i32(prm(6u));
  for (var o = first; o < n; o++) {
    let win = pool_window(o);
    let dy0 = max(0, -win.y);
    let dy1 = min(kh, h - win.y);
    let dx0 = max(0, -win.z);
    let dx1 = min(kw, w - win.z);
    let base = win.x * h * w;
    // Start from the first in-image value (no -inf constant needed); comparing it with itself changes nothing.
    var best = a[u32(base + (win.y + dy0) * w + win.z + dx0)];
    var r = dy0 * kw + dx0;
    for (var dy = dy0; dy < dy1; dy++) {
      let row = base + (win.y + dy) * w + win.z;
      for (var dx = dx0; dx < dx1; dx++) {
        let v = a[u32(row + dx)];
        if (v > best) {
          best = v;
          r = dy * kw + dx;
        }
      }
    }
    out[o] = f32(r);
  }
}

/** out[o] = a at output o's argmax. */
@compute @workgroup_size(WG)
fn pool_gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = flat_id(wid, nwg, lid) * ELEMS;
  let n = min(prm(0u), first + ELEMS);
  for (var o = first; o < n; o++) {
    out[o] = a[pool_source(o, u32(arg[o]))];
  }
}

/**
 * out[t] = Σ a[o] over the outputs o (ascending) whose window covers input t and whose argmax is t: the windows
 * covering row y are those i with i·sh - ph <= y < i·sh - ph + kh, at most ⌈kh / sh⌉ of them (likewise columns).
 */
@compute @workgroup_size(WG)
fn pool_scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = flat_id(wid, nwg, lid) * ELEMS;
  let n = min(prm(0u), first + ELEMS);
  let h = prm(1u);
  let w = prm(2u);
  let ho = prm(3u);
  let wo = prm(4u);
  let kh = prm(5u);
  let kw = prm(6u);
  let sh = prm(7u);
  let sw = prm(8u);
  for (var t = first; t < n; t++) {
    let pq = udiv(t, w);
    let x = t - pq * w;
    let q = udiv(pq, h);
    let y = pq - q * h;
    // Padded coordinates: window i covers py = y + ph iff i·sh <= py <= i·sh + kh - 1.
    let py = y + prm(9u);
    let px = x + prm(10u);
    let i0 = select(0u, udiv(py - kh + sh, sh), py + 1u > kh);
    let i1 = min(ho, udiv(py, sh) + 1u);
    let j0 = select(0u, udiv(px - kw + sw, sw), px + 1u > kw);
    let j1 = min(wo, udiv(px, sw) + 1u);
    var acc = 0.0;
    for (var i = i0; i < i1; i++) {
      for (var j = j0; j < j1; j++) {
        let o = (q * ho + i) * wo + j;
        let r = u32(arg[o]);
        let dy = udiv(r, kw);
        if (i * sh + dy == py && j * sw + r - dy * kw == px) {
          acc += a[o];
        }
      }
    }
    out[t] = acc;
  }
}
