// Naive WGSL matrix multiply (one invocation per output, no workgroup memory): the benchmark's baseline for the tiled kernel.

struct Dims { m: u32, n: u32, k: u32, pad: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= dims.n || g.y >= dims.m) { return; }
  var s = 0.0;
  for (var k = 0u; k < dims.k; k++) {
    s += a[g.y * dims.k + k] * b[k * dims.n + g.x];
  }
  c[g.y * dims.n + g.x] = s;
}
