// Reductions (sum, max) over any set of axes and any length: one invocation per output for short rows, a workgroup tree (optionally split into chunks) for long ones.

// Parameter block: 0 outputs M, 1 reduced length R, 2 chunk length, 3 splits per output,
//   4..11 kept dims (KRANK), 12..19 kept strides, 20..27 reduced dims (RRANK), 28..35 reduced strides.
/** 0 sum, 1 max (NaN propagates, as in the CPU kernel). */
override OP: u32 = 0u;
override KRANK: u32 = 1u;
override RRANK: u32 = 1u;

@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn kept_offset(m: u32) -> u32 {
  var rem = m;
  var off = 0u;
  for (var k = KRANK - 1u; k > 0u; k--) {
    let dim = prm(4u + k);
    let q = udiv(rem, dim);
    off += (rem - q * dim) * prm(12u + k);
    rem = q;
  }
  return off + rem * prm(12u);
}

fn reduced_offset(r: u32) -> u32 {
  var rem = r;
  var off = 0u;
  for (var k = RRANK - 1u; k > 0u; k--) {
    let dim = prm(20u + k);
    let q = udiv(rem, dim);
    off += (rem - q * dim) * prm(28u + k);
    rem = q;
  }
  return off + rem * prm(28u);
}

fn combine(acc: f32, v: f32) -> f32 {
  if (OP == 0u) { return acc + v; }
  return select(acc, v, v > acc || v != v);
}

/** One invocation per output, summing its row in order (short rows, many outputs). */
@compute @workgroup_size(WG)
fn reduce_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m = flat_id(wid, nwg, lid);
  if (m >= prm(0u)) { return; }
  let base = kept_offset(m);
  let len = prm(1u);
  var acc = 0.0;
  var r = 0u;
  if (OP != 0u) {
    acc = a[base + reduced_offset(0u)];
    r = 1u;
  }
  for (; r < len; r++) {
    acc = combine(acc, a[base + reduced_offset(r)]);
  }
  out[m] = acc;
}

/** One workgroup per (output, chunk): strided partial sums, then a tree in workgroup memory (WG a power of two). */
@compute @workgroup_size(WG)
fn reduce_tree(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = flat_group(wid, nwg);
  let splits = prm(3u);
  let m = g / splits;
  if (m >= prm(0u)) { return; }
  let chunk = prm(2u);
  let r0 = (g % splits) * chunk;
  let r1 = min(r0 + chunk, prm(1u));
  let base = kept_offset(m);
  var acc = 0.0;
  if (OP != 0u) { acc = a[base + reduced_offset(r0)]; }
  for (var r = r0 + lid; r < r1; r += WG) {
    acc = combine(acc, a[base + reduced_offset(r)]);
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w = w / 2u) {
    if (lid < w) { partial[lid] = combine(partial[lid], partial[lid + w]); }
    workgroupBarrier();
  }
  if (lid == 0u) { out[g] = partial[0]; }
}
