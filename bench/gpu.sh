#!/usr/bin/env bash
# Device check for a fresh Linux machine with an NVIDIA GPU (npm + apt only): installs the Vulkan loader, runs the WebGPU kernel-equivalence tests and the WebGPU benchmarks, prints one table (< 5 min).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
t0=$(date +%s)
step() { echo "[gpu.sh +$(( $(date +%s) - t0 ))s] $*"; }

step "installing the Vulkan loader"
if command -v apt-get >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends libvulkan1 ca-certificates >/dev/null
fi
# Containers often mount the NVIDIA driver libraries without the Vulkan ICD manifest: point the loader at them.
if ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
  lib=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0/ { print $NF; exit }')
  if [ -n "${lib:-}" ]; then
    mkdir -p /etc/vulkan/icd.d
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$lib" > /etc/vulkan/icd.d/nvidia_icd.json
    step "wrote /etc/vulkan/icd.d/nvidia_icd.json for $lib"
  else
    step "warning: no NVIDIA Vulkan ICD and no libGLX_nvidia.so.0 (driver capabilities without 'graphics'?); Dawn may find no GPU"
  fi
fi
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
export IML_WEBGPU_POWER=high-performance

step "npm ci and build"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
npm run --silent build:wasm >/dev/null
npm run --silent build:shaders >/dev/null
npx tsc -p tsconfig.json >/dev/null 2>&1 || true # emits even if an unrelated module fails to type-check
test -f dist/bench/webgpu.js || { echo "build failed: dist/bench/webgpu.js missing"; exit 1; }

step "kernel-equivalence tests (WebGPU vs CPU, every primitive, HVP/mixed of an MLP and a CNN, IML trajectories)"
set +e
IML_REQUIRE_WEBGPU=1 timeout 150 npx vitest run test/webgpu/kernels.test.ts test/webgpu/iml.test.ts --reporter=dot > /tmp/iml-gpu-tests.log 2>&1
tests_rc=$?
set -e
tests_line=$(sed 's/\x1b\[[0-9;]*m//g' /tmp/iml-gpu-tests.log | grep -E 'Tests +[0-9]' | tail -1 | tr -s ' ')
[ "$tests_rc" -eq 0 ] || tail -40 /tmp/iml-gpu-tests.log

step "benchmarks (iml WebGPU vs tfjs-webgpu vs naive WGSL on the same adapter)"
timeout 150 node dist/bench/webgpu.js --sizes 256,512,1024,2048 --power high-performance 2>&1 | grep -v '^Warning'
step "IML meta-epochs, thesis 4.1 (784-784-10, per-parameter L2): WebGPU vs CPU, 8 meta-epochs each"
for be in webgpu cpu; do
  timeout 120 node dist/src/cli/main.js experiment overfit-small-val --backend $be --methods neumann:3,cg:3 --seeds 0 \
    --meta-epochs 8 --out /tmp/iml-gpu-$be --no-progress > /tmp/iml-gpu-$be.log 2>&1 || tail -5 /tmp/iml-gpu-$be.log
  grep -h -E '^\| (Neumann|CG)' /tmp/iml-gpu-$be/summary.md 2>/dev/null | grep ' ms ' | sed "s/^/$be /" || true
done
echo "kernel-equivalence tests: ${tests_line:-no result} (exit $tests_rc)"
step "done"
exit "$tests_rc"
