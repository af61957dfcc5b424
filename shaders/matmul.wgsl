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

/** op(B)[k, col]: B is [K, N], or [N, K] when transposed. */
fn b_at(k: u32, col: u32) -> f32 {
  if (TRANS_B) { return b_in[col * prm(2u) + k]; }
  return b_in[k * prm(1u) + col];
}

/** Row-major C; split s of a split-K product writes partial slab s. */
fn store_c(row: u32, col: u32, split: u32, v: f32) {
  let n = prm(1u);
  c_out[(split * prm(0u) + row) * n + col] = v;
}
