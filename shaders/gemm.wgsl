// Tiled GEMM core shared by matmul and the three convolutions: workgroup-memory tiles, an 8x8 register tile per invocation, optional split-K.

// The including family (matmul.wgsl, conv2d.wgsl) defines a_at(row, k) for in-range indices, a struct BCols with
// b_cols(col) (what four consecutive columns col..col+3 of B need, computed once per invocation) and b_vec(k, cols)
// (B[k, col..col+3], zeros past column N), the output binding c_out, and c_row(row) + c_col(col): the element
// offset of C[row, col] in c_out (split s of a split-K product writes slab s, at s * M * N).
// Parameter block: 0 M, 1 N, 2 K, 3 K-chunk per split (grid z), family slots from 4.
//
// Invocation (x, y) of a WGX x WGY workgroup owns rows row0 + 8y .. 8y+7 and columns col0 + 8x .. 8x+7 of C;
// per 4 steps along K it reads 8 vec4 of A and 8 vec4 of B from workgroup memory for 256 multiply-adds.
// (Software rasterizers such as lavapipe pay per load, so the large register tile matters there as much as on GPUs.)
override WGX: u32 = 8u;
override WGY: u32 = 8u;
/** Tile depth along K (a multiple of 4). */
override BK: u32 = 16u;
override BM: u32 = 8u * WGY;
override BN: u32 = 8u * WGX;
override BK4: u32 = BK / 4u;
override BN4: u32 = BN / 4u;
/** Row stride of the A tile in vec4 (padded by one against bank conflicts). */
override A_STRIDE: u32 = BK4 + 1u;
override A_TILE4: u32 = BM * A_STRIDE;
override B_TILE4: u32 = BK * BN4;
/** Whether consecutive invocations should load consecutive k (A row-major, B transposed) for coalescing. */
override A_K_FAST: bool = true;
override B_K_FAST: bool = false;

/** A tile: [m][k/4] (vec4 along k); B tile: [k][n/4] (vec4 along n). */
var<workgroup> tile_a: array<vec4<f32>, A_TILE4>;
var<workgroup> tile_b: array<vec4<f32>, B_TILE4>;

/** A[row, k..k+3] with zeros past the end of the K range. */
fn a_vec(row: u32, k: u32, k_end: u32) -> vec4<f32> {
  var v = vec4<f32>();
  if (k < k_end) { v.x = a_at(row, k); }
  if (k + 1u < k_end) { v.y = a_at(row, k + 1u); }
  if (k + 2u < k_end) { v.z = a_at(row, k + 2u); }
  if (k + 3u < k_end) { v.w = a_at(row, k + 3u); }
  return v;
}


@compute @workgroup_size(WGX, WGY)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let M = prm(0u);
  let N = prm(1u);
  let K = prm(2u);
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let k_begin = wid.z * prm(3u);
  let k_end = min(K, k_begin + prm(3u));
  let nt = WGX * WGY;
  let tx = lid.x;
  let ty = lid.y;
  // acc[2i + j]: row 8ty + i, columns 8tx + 4j .. +3.
  var acc: array<vec4<f32>, 16>;
  // With B_K_FAST false each invocation always loads the same four columns (nt is a multiple of BN4).
  let cols = b_cols(col0 + 4u * (li % BN4));
  for (var k0 = k_begin; k0 < k_end; k0 += BK) {
    for (var l = li; l < BM * BK4; l += nt) {
      var m: u32;
      var kq: u32;
      if (A_K_FAST) { m = l / BK4; kq = l % BK4; } else { kq = l / BM; m = l % BM; }
      var v = vec4<f32>();
      if (row0 + m < M) { v = a_vec(row0 + m, k0 + 4u * kq, k_end); }
      tile_a[m * A_STRIDE + kq] = v;
    }
    for (var l = li; l < B_TILE4; l += nt) {
      var v = vec4<f32>();
      if (B_K_FAST) {
        let nq = l / BK;
        let k = l % BK;
        if (k0 + k < k_end) { v = b_vec(k0 + k, b_cols(col0 + 4u * nq)); }
        tile_b[k * BN4 + nq] = v;
      } else {
        let k = l / BN4;
        if (k0 + k < k_end) { v = b_vec(k0 + k, cols); }
        tile_b[l] = v;
      }
    }
    workgroupBarrier();
    for (var kq = 0u; kq < BK4; kq++) {
      var b: array<vec4<f32>, 8>;
      for (var q = 0u; q < 4u; q++) {
        b[2u * q] = tile_b[(4u * kq + q) * BN4 + 2u * tx];
        b[2u * q + 1u] = tile_b[(4u * kq + q) * BN4 + 2u * tx + 1u];
      }
      for (var i = 0u; i < 8u; i++) {
        let a = tile_a[(8u * ty + i) * A_STRIDE + kq];
        for (var j = 0u; j < 2u; j++) {
          var s = acc[2u * i + j];
          s = fma(vec4<f32>(a.x), b[j], s);
          s = fma(vec4<f32>(a.y), b[2u + j], s);
          s = fma(vec4<f32>(a.z), b[4u + j], s);
          s = fma(vec4<f32>(a.w), b[6u + j], s);
          acc[2u * i + j] = s;
        }
      }
    }
    workgroupBarrier();
  }
  // Column offsets once per invocation (they may need divisions), then 64 stores.
  var col_off: array<u32, 8>;
  for (var j = 0u; j < 8u; j++) { col_off[j] = c_col(min(col0 + 8u * tx + j, N - 1u)); }
  let slab = wid.z * M * N;
  for (var i = 0u; i < 8u; i++) {
    let r = row0 + 8u * ty + i;
    if (r < M) {
      let base = slab + c_row(r);
      for (var j = 0u; j < 8u; j++) {
        if (col0 + 8u * tx + j < N) { c_out[base + col_off[j]] = acc[2u * i + j / 4u][j % 4u]; }
      }
    }
  }
}
