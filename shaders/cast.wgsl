// Cast kernel: converts a contiguous float32 buffer to the output dtype (float32 is the only WebGPU dtype, so a plain copy).

@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;

@compute @workgroup_size(WG)
fn cast_copy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = flat_id(wid, nwg, lid) * ELEMS;
  let n = min(prm(0u), first + ELEMS);
  for (var i = first; i < n; i++) {
    out[i] = f32(a[i]);
  }
}
