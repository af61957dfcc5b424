// Data movement kernels: strided copy (broadcastTo, reshape, transpose, slice), zero padding, gather and scatter-add along an axis.

@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> idx: array<u32>;

/** out[i] = a[offset + Σ coord_k stride_k] (strided layout, see strided.wgsl). */
@compute @workgroup_size(WG)
fn copy_strided(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid);
  if (i >= prm(0u)) { return; }
  out[i] = a[strided_offsets(i).x];
}

// pad: 0 outputs, 4..11 output dims, 12..19 pad before, 20..27 input dims, 28..35 input strides.
@compute @workgroup_size(WG)
fn pad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid);
  if (i >= prm(0u)) { return; }
  var rem = i;
  var src = 0u;
  var inside = true;
  for (var d = RANK; d > 0u; d--) {
    let k = d - 1u;
    let dim = prm(4u + k);
    let c = rem % dim;
    rem = rem / dim;
    let before = prm(12u + k);
    // c - before wraps to a huge value when c < before, so one comparison covers both sides.
    let ci = c - before;
    if (ci >= prm(20u + k)) { inside = false; }
    src += ci * prm(28u + k);
  }
  var v = 0.0;
  if (inside) { v = a[src]; }
  out[i] = v;
}

// gather: 0 outputs, 1 number of indices m, 2 inner size, 3 axis length. out[o, j, t] = a[o, idx[j], t].
@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid);
  if (i >= prm(0u)) { return; }
  let m = prm(1u);
  let inner = prm(2u);
  let t = i % inner;
  let oj = i / inner;
  let j = oj % m;
  let o = oj / m;
  out[i] = a[(o * prm(3u) + idx[j]) * inner + t];
}

// scatter_add: 0 outputs, 1 number of indices m, 2 inner size, 3 output axis length (size), 5 start of the source list in idx.
// idx holds CSR lists: idx[s]..idx[s+1] index the ascending source positions (idx[base + k]) scattered to slot s,
// so each output sums its sources in the CPU kernel's order (no atomics, deterministic).
@compute @workgroup_size(WG)
fn scatter_add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid);
  if (i >= prm(0u)) { return; }
  let m = prm(1u);
  let inner = prm(2u);
  let size = prm(3u);
  let base = prm(5u);
  let t = i % inner;
  let os = i / inner;
  let s = os % size;
  let o = os / size;
  var acc = 0.0;
  for (var k = idx[s]; k < idx[s + 1u]; k++) {
    acc += a[(o * m + idx[base + k]) * inner + t];
  }
  out[i] = acc;
}
