// Data movement kernels: strided copy (broadcastTo, reshape, transpose, slice), zero padding, gather and scatter-add along an axis.

@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> idx: array<u32>;

/** out[i] = a[offset + Σ coord_k stride_k] (strided layout, see strided.wgsl). */
@compute @workgroup_size(WG)
fn copy_strided(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = flat_id(wid, nwg, lid) * ELEMS;
  let n = min(prm(0u), first + ELEMS);
  for (var i = first; i < n; i++) {
    out[i] = a[strided_offsets(i).x];
  }
}

// pad: 0 outputs, 4..11 output dims, 12..19 pad before, 20..27 input dims, 28..35 input strides.
@compute @workgroup_size(WG)
fn pad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = flat_id(wid, nwg, lid) * ELEMS;
  let n = min(prm(0u), first + ELEMS);
  for (var i = first; i < n; i++) {
    var rem = i;
    var src = 0u;
    var inside = true;
    for (var d = RANK; d > 0u; d--) {
      let k = d - 1u;
      let dim = prm(4u + k);
      let q = udiv(rem, dim);
      // c - before wraps to a huge value when c < before, so one comparison covers both sides.
      let ci = rem - q * dim - prm(12u + k);
      rem = q;
      if (ci >= prm(20u + k)) { inside = false; }
      src += ci * prm(28u + k);
    }
    out[i] = select(0.0, a[select(0u, src, inside)], inside);
  }
}

// gather: 0 outputs, 1 number of indices m, 2 inner size, 3 axis length. out[o, j, t] = a[o, idx[j], t].
@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = flat_id(wid, nwg, lid) * ELEMS;
  let n = min(prm(0u), first + ELEMS);
  let m = prm(1u);
  let inner = prm(2u);
  for (var i = first; i < n; i++) {
    let oj = udiv(i, inner);
    let t = i - oj * inner;
    let o = udiv(oj, m);
    let j = oj - o * m;
    out[i] = a[(o * prm(3u) + idx[j]) * inner + t];
  }
}

// scatter_add: 0 outputs, 1 number of indices m, 2 inner size, 3 output axis length (size), 5 start of the source list in idx.
// idx holds CSR lists: idx[s]..idx[s+1] index the ascending source positions (idx[base + k]) scattered to slot s,
// so each output sums its sources in the CPU kernel's order (no atomics, deterministic).
@compute @workgroup_size(WG)
fn scatter_add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = flat_id(wid, nwg, lid) * ELEMS;
  let n = min(prm(0u), first + ELEMS);
  let m = prm(1u);
  let inner = prm(2u);
  let size = prm(3u);
  let base = prm(5u);
  for (var i = first; i < n; i++) {
    let os = udiv(i, inner);
    let t = i - os * inner;
    let o = udiv(os, size);
    let s = os - o * size;
    var acc = 0.0;
    for (var k = idx[s]; k < idx[s + 1u]; k++) {
      acc += a[(o * m + idx[base + k]) * inner + t];
    }
    out[i] = acc;
  }
}
