#!/usr/bin/env bash
# GPU check (run whenever an NVIDIA GPU is at hand): builds the addon with CUDA for sm_90 and
# runs the capture and steering checks with all layers offloaded, comparing every captured
# vector and the logits with the CPU path of the same build (gpuLayers 0), on synthetic models.
#   scripts/gpu-check.sh            # needs nvcc on PATH
set -euo pipefail
cd "$(dirname "$0")/.."
export EMOSTEER_GPU=cuda EMOSTEER_CUDA_ARCHS="${EMOSTEER_CUDA_ARCHS:-90}"
if [ ! -d node_modules ]; then EMOSTEER_SKIP_BUILD=1 npm ci --no-audit --no-fund; fi
node scripts/build-native.mjs --force
npx tsc -p tsconfig.json
npx vitest run --config vitest.gpu.config.ts
