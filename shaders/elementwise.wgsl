// Elementwise kernels: unary maps (neg, exp, log, sqrt) and broadcasting binary arithmetic (add, sub, mul, div) over strided inputs.

/** Unary: 0 neg, 1 exp, 2 log, 3 sqrt. Binary: 0 add, 1 sub, 2 mul, 3 div. */
override OP: u32 = 0u;

@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;

@compute @workgroup_size(WG)
fn unary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = flat_id(wid, nwg, lid) * ELEMS;
  let n = min(prm(0u), first + ELEMS);
  for (var i = first; i < n; i++) {
    let x = a[strided_offsets(i).x];
    var y: f32;
    switch OP {
      case 0u: { y = -x; }
      case 1u: { y = exp(x); }
      case 2u: { y = log(x); }
      default: { y = sqrt(x); }
    }
    out[i] = y;
  }
}

@compute @workgroup_size(WG)
fn binary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = flat_id(wid, nwg, lid) * ELEMS;
  let n = min(prm(0u), first + ELEMS);
  for (var i = first; i < n; i++) {
    let o = strided_offsets(i);
    let x = a[o.x];
    let z = b[o.y];
    var y: f32;
    switch OP {
      case 0u: { y = x + z; }
      case 1u: { y = x - z; }
      case 2u: { y = x * z; }
      default: { y = x / z; }
    }
    out[i] = y;
  }
}
