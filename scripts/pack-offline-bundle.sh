#!/usr/bin/env bash
# Packs what a machine with no network needs to build and run emosteer from this checkout (the
# CUDA bench machine, see scripts/cuda-bench.sh) into one folder of compressed archives:
#   node.tar.xz         this machine's node binary (x86-64 Linux), unpacked as node/bin/node
#   node_modules.tar.xz node_modules without typescript and playwright-core (not needed to build
#                       the addon, run dist/ or run vitest)
#   llama.cpp.tar.xz    the pinned llama.cpp source (deps/llama.cpp) without its git history,
#                       models, docs, tests and web UI; llama.cpp.commit beside it
# Build dist/ (npm run prepare) and the llama.cpp source (npm install) first.
#   scripts/pack-offline-bundle.sh [folder]     (default .offline, ignored by git)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-.offline}
[ -f deps/llama.cpp/include/llama.h ] || { echo "deps/llama.cpp is missing: run npm install first" >&2; exit 1; }
[ -d node_modules/node-addon-api ] || { echo "node_modules is missing: run npm ci first" >&2; exit 1; }
mkdir -p "$B"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/node/bin" && cp "$(command -v node)" "$tmp/node/bin/node"
tar -C "$tmp" -cf - node | xz -T0 -6 >"$B/node.tar.xz"
tar --exclude=node_modules/typescript --exclude=node_modules/playwright-core -cf - node_modules | xz -T0 -6 >"$B/node_modules.tar.xz"
tar -C deps --exclude=llama.cpp/.git --exclude=llama.cpp/models --exclude=llama.cpp/docs \
  --exclude=llama.cpp/tests --exclude=llama.cpp/examples --exclude=llama.cpp/benches \
  --exclude=llama.cpp/tools/ui --exclude=llama.cpp/tools/server/public --exclude=llama.cpp/conversion \
  -cf - llama.cpp | xz -T0 -6 >"$B/llama.cpp.tar.xz"
git -C deps/llama.cpp rev-parse HEAD >"$B/llama.cpp.commit"
du -sh "$B"/*
