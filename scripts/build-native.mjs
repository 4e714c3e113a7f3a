#!/usr/bin/env node
// Builds the emosteer addon: fetches the pinned llama.cpp source (scripts/llama-cpp-source.mjs)
// and runs cmake-js on CMakeLists.txt. Runs as the package's `install` script.
//
// Environment:
//   EMOSTEER_GPU=cpu|cuda|metal|vulkan   backend (default: cpu; metal on macOS)
//   EMOSTEER_CUDA_ARCHS="90"             CMAKE_CUDA_ARCHITECTURES for cuda (default: native)
//   EMOSTEER_LLAMA_CPP_DIR=/path         use an existing llama.cpp checkout (offline)
//   EMOSTEER_SKIP_BUILD=1                skip (e.g. when a prebuilt addon is supplied)
//   EMOSTEER_BUILD_DIR=build             cmake-js output folder
//   EMOSTEER_CMAKE_DEFS="A=1 B=OFF"      extra CMake definitions, space-separated (e.g.
//                                        GGML_CUDA_FA=OFF, EMOSTEER_WITH_LLAMA_BENCH=ON)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLlamaCppSource } from './llama-cpp-source.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const log = (m) => console.log(`[emosteer] ${m}`);
const force = process.argv.includes('--force');

function has(cmd, args = ['--version']) {
  try { execFileSync(cmd, args, { stdio: 'ignore' }); return true; } catch { return false; }
}

function fail(msg) {
  console.error(`\n[emosteer] build failed: ${msg}\n`);
  process.exit(1);
}

if (process.env.EMOSTEER_SKIP_BUILD === '1') { log('EMOSTEER_SKIP_BUILD=1: not building the addon'); process.exit(0); }

const buildDir = process.env.EMOSTEER_BUILD_DIR || 'build';
const addon = join(root, buildDir, 'Release', 'emosteer.node');
if (!force && existsSync(addon) && process.env.npm_lifecycle_event === 'install' && process.env.EMOSTEER_REBUILD !== '1') {
  // cmake is incremental anyway, but skipping saves the configure step on repeated installs.
  log(`addon already built (${addon}); set EMOSTEER_REBUILD=1 or run \`npm run build:native\` to rebuild`);
  process.exit(0);
}

const missing = [];
if (!has('cmake')) missing.push('cmake (>= 3.18)');
if (!has('git')) missing.push('git');
if (process.platform !== 'win32' && !has('c++') && !has('g++') && !has('clang++')) missing.push('a C++17 compiler (g++ or clang++)');
if (missing.length) {
  const hint = process.platform === 'darwin'
    ? 'xcode-select --install && brew install cmake git'
    : 'sudo apt-get install -y build-essential cmake git   (Debian/Ubuntu)';
  fail(`missing ${missing.join(', ')}. Install with:\n  ${hint}`);
}

let llamaDir;
try {
  llamaDir = ensureLlamaCppSource(root, log);
} catch (e) {
  fail(`could not obtain the pinned llama.cpp source: ${e.message}\n` +
       'It comes from the npm registry (package node-llama-cpp). Offline, point EMOSTEER_LLAMA_CPP_DIR at a llama.cpp checkout.');
}

const gpu = (process.env.EMOSTEER_GPU || (process.platform === 'darwin' ? 'metal' : 'cpu')).toLowerCase();
const defs = [`LLAMA_CPP_DIR=${llamaDir}`];
switch (gpu) {
  case 'cpu':
    if (process.platform === 'darwin') defs.push('GGML_METAL=OFF');
    break;
  case 'cuda':
    if (!has('nvcc')) fail('EMOSTEER_GPU=cuda but nvcc was not found. Install the CUDA toolkit and put nvcc on PATH.');
    defs.push('GGML_CUDA=ON', `CMAKE_CUDA_ARCHITECTURES=${process.env.EMOSTEER_CUDA_ARCHS || 'native'}`);
    break;
  case 'metal':
    defs.push('GGML_METAL=ON', 'GGML_METAL_EMBED_LIBRARY=ON');
    break;
  case 'vulkan':
    defs.push('GGML_VULKAN=ON');
    break;
  default:
    fail(`EMOSTEER_GPU=${gpu} is not one of cpu, cuda, metal, vulkan`);
}
for (const d of (process.env.EMOSTEER_CMAKE_DEFS || '').split(/\s+/).filter(Boolean)) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(d)) fail(`EMOSTEER_CMAKE_DEFS entry '${d}' is not NAME=VALUE`);
  defs.push(d);
}
if (!has('ccache')) log('ccache not found: repeated builds will be slower (apt-get install ccache)');

const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const args = [cmakeJs, 'build', '--out', buildDir, '--log-level', 'warn', ...defs.map((d) => `--CD${d}`)];
log(`building the addon (backend: ${gpu}); a cold build of llama.cpp takes several minutes on 2 cores`);
const t0 = Date.now();
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  fail(`cmake-js exited with ${r.status}. Read the compiler output above; common causes: an old compiler ` +
       '(need C++17), cmake < 3.18, or for CUDA a toolkit that does not support your GPU architecture.');
}
log(`addon built in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${addon}`);
