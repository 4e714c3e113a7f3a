#!/usr/bin/env bash
# CUDA check and bench, for any machine with an NVIDIA GPU and the CUDA toolkit (nvcc on PATH).
# In one run:
#   1. builds the addon with CUDA (EMOSTEER_CUDA_ARCHS, default 90 = H100/H200) and llama.cpp's
#      llama-bench from the same build tree (EMOSTEER_WITH_LLAMA_BENCH=ON: one CUDA compile);
#   2. runs the GPU-vs-CPU checks (test/gpu/*.gpu.ts: captures, steering and logits with every
#      layer offloaded equal the CPU path of the same build);
#   3. writes synthetic models of real shapes (llama-0.5b, llama-1.5b; Q4_0, random weights) and
#      runs `bench/run.mjs` on each with every layer offloaded, llama-bench included;
#   4. measures the GPU's memory bandwidth (a device-to-device copy through PyTorch, when python3
#      has torch) for the tg limit.
# Results go to $OUT if set, else bench/results/cuda/: summary.txt (machine, tables), build.log,
# gpu-checks.log, gpu-bandwidth.json, bench-<shape>.json, bench.log (the parts' stderr).
# docs/benchmarks.md says how the numbers were read.
#
# Offline machines: run scripts/pack-offline-bundle.sh and `npm run prepare` here, carry .offline/
# and dist/; this script unpacks node, node_modules and the llama.cpp source from .offline/ when
# they are missing.
#   scripts/cuda-bench.sh [--checks-only] [--no-build]
# Environment: EMOSTEER_CUDA_ARCHS (default 90), CUDA_FA=ON to compile the flash-attention kernels
# (default OFF: emosteer's default is no flash attention, and they are half the compile time),
# BENCH_MODELS (default "llama-0.5b llama-1.5b"), DEADLINE (seconds since start after which no
# further model is benched, for time-limited machines), EMOSTEER_GPU=cpu for a dry run of this script
# on a machine without a GPU (the checks then fail at "has a GPU device").
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RES=${OUT:-$ROOT/bench/results/cuda}
mkdir -p "$RES"
JOBS=$(nproc)
T0=$(date +%s)
log() { echo "[cuda-bench +$(( $(date +%s) - T0 ))s] $*"; }
checks_only=0; no_build=0
for a in "$@"; do
  case $a in
    --checks-only) checks_only=1 ;;
    --no-build) no_build=1 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done

# ---- offline inputs ----
if ! command -v node >/dev/null; then
  [ -f .offline/node.tar.xz ] || { echo "node is not installed and .offline/node.tar.xz is missing" >&2; exit 1; }
  mkdir -p /tmp/emosteer-node && tar -xJf .offline/node.tar.xz -C /tmp/emosteer-node
  export PATH=/tmp/emosteer-node/node/bin:$PATH
fi
if [ ! -d node_modules/node-addon-api ]; then
  log "unpacking node_modules"; tar -xJf .offline/node_modules.tar.xz || exit 1
fi
if [ ! -f deps/llama.cpp/include/llama.h ] && [ -f .offline/llama.cpp.tar.xz ]; then
  log "unpacking the llama.cpp source"; mkdir -p deps && tar -xJf .offline/llama.cpp.tar.xz -C deps || exit 1
  cp .offline/llama.cpp.commit deps/llama.cpp.commit
fi
if [ -f deps/llama.cpp.commit ]; then export EMOSTEER_LLAMA_COMMIT=$(cat deps/llama.cpp.commit); fi
export EMOSTEER_LLAMA_CPP_DIR=$ROOT/deps/llama.cpp
[ -f dist/index.js ] || node node_modules/typescript/bin/tsc -p tsconfig.json || exit 1
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv; nvcc --version | tail -2; echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) x $JOBS"; node --version; } >"$RES/summary.txt" 2>&1
cat "$RES/summary.txt"

# ---- build ----
if [ $no_build = 0 ]; then
  log "building the addon with CUDA (sm_${EMOSTEER_CUDA_ARCHS:-90}, $JOBS jobs)"
  EMOSTEER_GPU=${EMOSTEER_GPU:-cuda} EMOSTEER_CUDA_ARCHS=${EMOSTEER_CUDA_ARCHS:-90} CMAKE_BUILD_PARALLEL_LEVEL=$JOBS \
    EMOSTEER_CMAKE_DEFS="GGML_CUDA_FA=${CUDA_FA:-OFF} GGML_CUDA_NCCL=OFF EMOSTEER_WITH_LLAMA_BENCH=ON" \
    node scripts/build-native.mjs --force >"$RES/build.log" 2>&1 || { tail -40 "$RES/build.log"; exit 1; }
  log "building llama-bench in the same tree"
  cmake --build build --target llama-bench --parallel "$JOBS" >>"$RES/build.log" 2>&1 || { tail -40 "$RES/build.log"; exit 1; }
  log "build done"
fi
LLAMA_BENCH=$(find build -type f -name llama-bench -perm -u+x | head -1)
node -e "import('./dist/index.js').then(m => console.log('devices:', JSON.stringify(m.versions().devices)))"

# ---- checks ----
log "GPU-vs-CPU checks"
NO_COLOR=1 node node_modules/vitest/vitest.mjs run --config vitest.gpu.config.ts --reporter=default 2>&1 | tee "$RES/gpu-checks.log" | grep -E "✓|×|FAIL|Test Files|Tests|\[gpu\] .* block 0 " ; checks_rc=${PIPESTATUS[0]}
log "checks exit code $checks_rc"
[ $checks_only = 1 ] && exit $checks_rc

# ---- GPU memory bandwidth ----
if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
  python3 - >"$RES/gpu-bandwidth.json" <<'PY'
import json, torch
n = 2 * 1024**3  # 2 GiB
a = torch.empty(n, dtype=torch.uint8, device='cuda'); b = torch.empty_like(a)
for _ in range(3): b.copy_(a)
torch.cuda.synchronize()
s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
best = 0.0
for _ in range(10):
    s.record(); b.copy_(a); e.record(); torch.cuda.synchronize()
    best = max(best, 2 * n / (s.elapsed_time(e) / 1e3) / 1e9)  # read + write
print(json.dumps({"copyGbPerSecondReadPlusWrite": best, "bytes": n, "method": "torch uint8 copy_, best of 10"}))
PY
  log "GPU bandwidth: $(cat "$RES/gpu-bandwidth.json")" | tee -a "$RES/summary.txt"
fi

# ---- bench on synthetic real-shape models ----
for shape in ${BENCH_MODELS:-llama-0.5b llama-1.5b}; do
  if [ -n "${DEADLINE:-}" ] && [ $(( $(date +%s) - T0 )) -gt "$DEADLINE" ]; then log "past DEADLINE=${DEADLINE}s: skipping $shape"; continue; fi
  m=/tmp/emosteer-$shape-q4_0.gguf
  [ -f "$m" ] || node dist/cli/main.js synth --shape "$shape" --type q4_0 --share-blocks --out "$m" || exit 1
  log "bench $shape"
  extra=()
  [ "$shape" != llama-0.5b ] && extra+=(--no-extraction)
  node bench/run.mjs --model "$m" --gpu-layers max --llama-bench "$LLAMA_BENCH" --no-bandwidth \
    --rounds 1 --reps 5 --sequences 1,4,8,16 --out "$RES/bench-$shape.json" "${extra[@]}" 2>>"$RES/bench.log" \
    | tee -a "$RES/summary.txt"
done
log "done"
exit $checks_rc
