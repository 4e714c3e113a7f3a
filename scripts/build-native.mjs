#!/usr/bin/env node
// The package's `install` script, node-gyp-build style: use the prebuilt addon in
// prebuilds/<platform>-<arch>/ when one ships and works on this machine; otherwise build from
// source (fetch the pinned llama.cpp, cmake-js, CMakeLists.txt; scripts/addon-build.mjs).
// `npm run build:native` (--force) always builds from source.
//
// Environment:
//   EMOSTEER_BUILD_FROM_SOURCE=1         never use the prebuilt addon
//   EMOSTEER_GPU=cpu|cuda|metal|vulkan   backend (default: cpu; metal on macOS); any GPU builds from source
//   EMOSTEER_RPC=1                       build the RPC backend in (GGML_RPC, docs/scale-out.md); the prebuild has it
//   EMOSTEER_CUDA_ARCHS="90"             CMAKE_CUDA_ARCHITECTURES for cuda (default: native)
//   EMOSTEER_LLAMA_CPP_DIR=/path         use an existing llama.cpp checkout (offline)
//   EMOSTEER_SKIP_BUILD=1                do nothing (e.g. when the addon is supplied another way)
//   EMOSTEER_BUILD_DIR=build             cmake-js output folder
//   EMOSTEER_CMAKE_DEFS="A=1 B=OFF"      extra CMake definitions, space-separated (e.g.
//                                        GGML_CUDA_FA=OFF, EMOSTEER_WITH_LLAMA_BENCH=ON); implies a source build
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, backendDefinitions, buildAddon, extraDefinitions, log } from './addon-build.mjs';

const env = process.env;
if (env.EMOSTEER_SKIP_BUILD === '1') { log('EMOSTEER_SKIP_BUILD=1: not building the addon'); process.exit(0); }
const force = process.argv.includes('--force');

/** Why a source build is asked for, or null. */
function sourceBuildReason() {
  if (force) return 'asked to build (--force)';
  if (env.EMOSTEER_BUILD_FROM_SOURCE === '1') return 'EMOSTEER_BUILD_FROM_SOURCE=1';
  if (env.EMOSTEER_GPU && env.EMOSTEER_GPU.toLowerCase() !== 'cpu') return `EMOSTEER_GPU=${env.EMOSTEER_GPU}`;
  if (env.EMOSTEER_CMAKE_DEFS) return 'EMOSTEER_CMAKE_DEFS is set';
  if (env.EMOSTEER_LLAMA_CPP_DIR) return 'EMOSTEER_LLAMA_CPP_DIR is set';
  return null;
}

/**
 * Whether the shipped prebuild fits this machine and loads (in a child process, so that a
 * crash while loading cannot take the install down). Logs why not.
 */
async function prebuildWorks() {
  if (!existsSync(join(ROOT, 'prebuilds'))) return false;
  const checker = join(ROOT, 'dist', 'runtime', 'prebuild.js');
  if (!existsSync(checker)) { log('prebuilds/ present but dist/ is not built yet: building from source'); return false; }
  const { prebuildStatus } = await import(pathToFileURL(checker).href);
  const status = prebuildStatus(ROOT);
  if (!status.usable) { log(`not using the prebuilt addon: ${status.reason}`); return false; }
  const probe = 'const v = require(process.argv[1]).versions(); if (v.build.kind !== "prebuilt") process.exit(3); console.log(v.build.cpu);';
  const r = spawnSync(process.execPath, ['-e', probe, status.file], { encoding: 'utf8' });
  if (r.status !== 0) {
    log(`the prebuilt addon ${status.file} does not load here (${r.signal ?? `exit ${r.status}`}: ${(r.stderr || '').trim().split('\n').pop()})`);
    return false;
  }
  log(`using the prebuilt addon ${status.file} (CPU ${r.stdout.trim()}); set EMOSTEER_BUILD_FROM_SOURCE=1 to build for this machine instead`);
  return true;
}

const reason = sourceBuildReason();
if (!reason && await prebuildWorks()) process.exit(0);

const buildDir = env.EMOSTEER_BUILD_DIR || 'build';
const addon = join(ROOT, buildDir, 'Release', 'emosteer.node');
if (!force && existsSync(addon) && env.npm_lifecycle_event === 'install' && env.EMOSTEER_REBUILD !== '1') {
  // cmake is incremental anyway, but skipping saves the configure step on repeated installs.
  log(`addon already built (${addon}); set EMOSTEER_REBUILD=1 or run \`npm run build:native\` to rebuild`);
  process.exit(0);
}

const gpu = (env.EMOSTEER_GPU || (process.platform === 'darwin' ? 'metal' : 'cpu')).toLowerCase();
const defs = [...backendDefinitions(gpu)];
defs.push(`GGML_RPC=${env.EMOSTEER_RPC === '1' ? 'ON' : 'OFF'}`);
defs.push(...extraDefinitions());
buildAddon({ buildDir, defs, label: `backend: ${gpu}${env.EMOSTEER_RPC === '1' ? ', RPC' : ''}${reason ? `; ${reason}` : ''}` });
