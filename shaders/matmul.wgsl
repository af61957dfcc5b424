// Matrix multiply C[M,N] = op(A) op(B) with optional transposes, as loaders for the tiled GEMM core (gemm.wgsl).

override TRANS_A: bool = false;
override TRANS_B: bool = false;

@group(0) @binding(1) var<storage, read_write> c_out: array<f32>;
@group(0) @binding(2) var<storage, read> a_in: array<f32>;
@group(0) @binding(3) var<storage, read> b_in: array<f32>;

/** op(A)[row, k]: A is [M, K], or [K, M] when transposed. */
fn a_at(row: u32, k: u32) -> f32 {
  if (TRANS_A) { return a_in[k * prm(0u) + row]; }
  return a_in[row * prm(2u) + k];
}

struct BCols {
  col: u32,
  valid: vec4<bool>,
}

fn b_cols(col: u32) -> BCols {
  return BCols(col, vec4<u32>(col, col + 1u, col + 2u, col + 3u) < vec4<u32>(prm(1u)));
}

/** op(B)[k, col..col+3]: B is [K, N], or [N, K] when transposed; zeros past column N. */
fn b_vec(k: u32, c: BCols) -> vec4<f32> {
  var idx: vec4<u32>;
  if (TRANS_B) {
    idx = (vec4<u32>(c.col) + vec4<u32>(0u, 1u, 2u, 3u)) * prm(2u) + k;
  } else {
    idx = vec4<u32>(k * prm(1u) + c.col) + vec4<u32>(0u, 1u, 2u, 3u);
  }
  idx = select(vec4<u32>(0u), idx, c.valid);
  return select(vec4<f32>(), vec4<f32>(b_in[idx.x], b_in[idx.y], b_in[idx.z], b_in[idx.w]), c.valid);
}

/** Row-major C. */
fn c_row(row: u32) -> u32 {
  return row * prm(1u);
}

fn c_col(col: u32) -> u32 {
  return col;
}
