// Builds the emosteer addon from source with cmake-js: checks the tools, obtains the pinned
// llama.cpp source (scripts/llama-cpp-source.mjs) and runs cmake-js on CMakeLists.txt.
// Shared by scripts/build-native.mjs (the install script, `npm run build:native`) and
// scripts/prebuild.mjs (the portable binary for prebuilds/).
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLlamaCppSource } from './llama-cpp-source.mjs';
import { vulkanDefinitions } from './vulkan-sdk.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
export const log = (m) => console.log(`[emosteer] ${m}`);

/** Whether `cmd` runs (found on PATH and exits 0). */
export function has(cmd, args = ['--version']) {
  try {
    // Windows: npm, cmake wrappers and the like are .cmd files, which Node >= 20.12 only spawns through a shell.
    execFileSync(cmd, args, { stdio: 'ignore', shell: process.platform === 'win32' });
    return true;
  } catch {
    return false;
  }
}

/** Prints the reason and exits 1. */
export function fail(msg) {
  console.error(`\n[emosteer] build failed: ${msg}\n`);
  process.exit(1);
}

/** The tools a source build needs that are missing here, with an install hint (or null). */
export function missingBuildTools() {
  const missing = [];
  if (!has('cmake')) missing.push('cmake (>= 3.18)');
  if (!has('git')) missing.push('git');
  if (process.platform !== 'win32' && !has('c++') && !has('g++') && !has('clang++')) missing.push('a C++17 compiler (g++ or clang++)');
  if (!missing.length) return null;
  const hint = process.platform === 'darwin'
    ? 'xcode-select --install && brew install cmake git'
    : process.platform === 'win32'
      ? 'install Visual Studio Build Tools (C++), CMake and Git'
      : 'sudo apt-get install -y build-essential cmake git   (Debian/Ubuntu)';
  return `missing ${missing.join(', ')}. Install with:\n  ${hint}`;
}

/**
 * CMake definitions for a backend: 'cpu', 'cuda', 'metal' or 'vulkan'. The other GPU backends are
 * switched off explicitly, so that reusing a build folder made for another backend cannot keep
 * it (CMake remembers earlier definitions). Exits with a message for an unknown backend or a
 * missing toolkit.
 */
export function backendDefinitions(gpu) {
  const off = { cuda: 'GGML_CUDA=OFF', metal: 'GGML_METAL=OFF', vulkan: 'GGML_VULKAN=OFF' };
  const others = (keep) => Object.entries(off).filter(([k]) => k !== keep).map(([, v]) => v);
  switch (gpu) {
    case 'cpu':
      return others(null);
    case 'cuda':
      if (!has('nvcc')) fail('EMOSTEER_GPU=cuda but nvcc was not found. Install the CUDA toolkit and put nvcc on PATH.');
      return [...others('cuda'), 'GGML_CUDA=ON', `CMAKE_CUDA_ARCHITECTURES=${process.env.EMOSTEER_CUDA_ARCHS || 'native'}`];
    case 'metal':
      return [...others('metal'), 'GGML_METAL=ON', 'GGML_METAL_EMBED_LIBRARY=ON'];
    case 'vulkan':
      // Headers new enough for the pinned llama.cpp (scripts/vulkan-sdk.mjs: the system's, $VULKAN_SDK,
      // or Debian 13's unpacked privately into deps/vulkan-sdk), the system's loader and glslc.
      try {
        return [...others('vulkan'), 'GGML_VULKAN=ON', ...vulkanDefinitions()];
      } catch (e) {
        return fail(e.message);
      }
    default:
      return fail(`EMOSTEER_GPU=${gpu} is not one of cpu, cuda, metal, vulkan`);
  }
}

/**
 * The portable CPU baseline of the prebuilt addon, as ggml CMake definitions, for `arch`
 * (process.arch): on x64, x86-64-v3 (AVX2, FMA, F16C, BMI2) with no AVX-512 and no AVX-VNNI;
 * elsewhere the compiler's default for the target. No OpenMP (ggml's own thread pool).
 * scripts/prebuild.mjs builds the addon with it and `npm run build:rpc-server -- --portable`
 * builds rpc-server with it, so that both sides of an RPC split run the same CPU kernels
 * (ggml's AVX-512 and AVX2 kernels sum in different orders: on an AVX-512 machine a native
 * rpc-server differs from the prebuilt addon by ~3e-5 relative on the same graph).
 * Returns { defs, cpu: a label, features: /proc/cpuinfo flags the binary needs }.
 */
export function portableCpuDefinitions(arch = process.arch) {
  const defs = ['GGML_NATIVE=OFF', 'GGML_OPENMP=OFF'];
  if (arch === 'x64') {
    defs.push('GGML_SSE42=ON', 'GGML_AVX=ON', 'GGML_AVX2=ON', 'GGML_FMA=ON', 'GGML_F16C=ON', 'GGML_BMI2=ON',
      'GGML_AVX_VNNI=OFF', 'GGML_AVX512=OFF');
    return { defs, cpu: 'x86-64-v3+AVX2+FMA+F16C+BMI2', features: ['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'bmi2'] };
  }
  if (arch === 'arm64') {
    // the compiler's default, armv8-a (NEON): every 64-bit ARM Linux machine (Raspberry Pi 4 and
    // later, Graviton, Ampere); dotprod/fp16/SVE kernels are left to the source build
    return { defs, cpu: 'armv8-a', features: [] };
  }
  return { defs, cpu: 'baseline', features: [] };
}

/** EMOSTEER_CMAKE_DEFS ("A=1 B=OFF") as a list, checked. */
export function extraDefinitions() {
  const defs = [];
  for (const d of (process.env.EMOSTEER_CMAKE_DEFS || '').split(/\s+/).filter(Boolean)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(d)) fail(`EMOSTEER_CMAKE_DEFS entry '${d}' is not NAME=VALUE`);
    defs.push(d);
  }
  return defs;
}

/**
 * Runs cmake-js into `buildDir` (relative to the package root) with `defs` (NAME=VALUE) after
 * LLAMA_CPP_DIR; returns the path of the built emosteer.node. Exits with a message on failure.
 */
export function buildAddon({ buildDir, defs, label }) {
  const missing = missingBuildTools();
  if (missing) fail(missing);
  let llamaDir;
  try {
    llamaDir = ensureLlamaCppSource(ROOT, log);
  } catch (e) {
    fail(`could not obtain the pinned llama.cpp source: ${e.message}\n` +
         'It comes from the npm registry (package node-llama-cpp). Offline, point EMOSTEER_LLAMA_CPP_DIR at a llama.cpp checkout.');
  }
  if (!has('ccache')) log('ccache not found: repeated builds will be slower (apt-get install ccache)');
  const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  const all = [`LLAMA_CPP_DIR=${llamaDir}`, ...defs];
  const args = (command) => [cmakeJs, command, '--out', buildDir, '--log-level', 'warn', ...all.map((d) => `--CD${d}`)];
  log(`building the addon (${label}); a cold build of llama.cpp takes several minutes on 2 cores`);
  const t0 = Date.now();
  // Configure every time: `cmake-js build` alone keeps an existing CMakeCache.txt, so a changed
  // backend or definition would silently not apply to an earlier build folder.
  let r = spawnSync(process.execPath, args('configure'), { cwd: ROOT, stdio: 'inherit' });
  if (r.status === 0) r = spawnSync(process.execPath, args('build'), { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    fail(`cmake-js exited with ${r.status ?? r.signal}. Read the compiler output above; common causes: an old compiler ` +
         '(need C++17), cmake < 3.18, or for CUDA a toolkit that does not support your GPU architecture.');
  }
  const addon = join(ROOT, buildDir, 'Release', 'emosteer.node');
  log(`addon built in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${addon}`);
  return addon;
}
