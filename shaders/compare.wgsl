// Comparison (gt, ge, lt, le, eq, ne -> 1/0) and select (where) kernels with broadcasting over strided inputs.

/** 0 gt, 1 ge, 2 lt, 3 le, 4 eq, 5 ne. */
override OP: u32 = 0u;

@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> c: array<f32>;

@compute @workgroup_size(WG)
fn compare(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = flat_id(wid, nwg, lid) * ELEMS;
  let n = min(prm(0u), first + ELEMS);
  for (var i = first; i < n; i++) {
    let o = strided_offsets(i);
    let x = a[o.x];
    let z = b[o.y];
    var r: bool;
    switch OP {
      case 0u: { r = x > z; }
      case 1u: { r = x >= z; }
      case 2u: { r = x < z; }
      case 3u: { r = x <= z; }
      case 4u: { r = x == z; }
      default: { r = x != z; }
    }
    out[i] = select(0.0, 1.0, r);
  }
}

/** out = a != 0 ? b : c (inputs: condition, then-branch, else-branch). */
@compute @workgroup_size(WG)
fn where_select(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = flat_id(wid, nwg, lid) * ELEMS;
  let n = min(prm(0u), first + ELEMS);
  for (var i = first; i < n; i++) {
    let o = strided_offsets(i);
    out[i] = select(c[o.z], b[o.y], a[o.x] != 0.0);
  }
}
