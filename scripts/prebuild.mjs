#!/usr/bin/env node
// `npm run prebuild`: builds the portable CPU addon and places it where node-gyp-build looks,
// prebuilds/<platform>-<arch>/emosteer.napi.glibc.node, with a requirements file beside it
// (emosteer.requirements.json: the CPU features and glibc version the binary needs), which the
// install script and the loader check before they use it. `npm pack` ships the folder.
//
// linux-x64 baseline: x86-64-v3 (SSE4.2, AVX, AVX2, FMA, F16C, BMI2), one self-contained .node.
// Why not llama.cpp's per-CPU variants chosen at run time (GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS):
// they need shared ggml libraries beside the addon and compile the CPU backend ~10 times; AVX2 is
// in every x86-64 server and desktop CPU since 2013-2015 (Haswell, Zen), and the machines it
// leaves out get the source build. No OpenMP (libgomp may be absent on the user's machine: ggml's
// own thread pool instead), libstdc++ and libgcc linked statically, the RPC backend built in
// (rpcServers, docs/scale-out.md). Environment: EMOSTEER_PREBUILD_DIR (default build-prebuild).
//
// GPU variants: `npm run prebuild -- --gpu vulkan` builds the same portable addon with ggml's Vulkan
// backend into prebuilds/<platform>-<arch>-vulkan/ (build folder build-prebuild-vulkan). That
// folder is not the one node-gyp-build resolves, so the default load stays the CPU prebuild; the
// loader picks the variant for loadModel(path, { gpu: 'vulkan' | 'auto' }) after a child process
// has loaded it once (lib/runtime/backend-select.ts). The variant links the system's Vulkan loader
// (libvulkan.so.1) dynamically, which its requirements file names.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, backendDefinitions, buildAddon, fail, log, portableCpuDefinitions } from './addon-build.mjs';
import { LLAMA_CPP_PIN } from './llama-cpp-source.mjs';

const platform = process.platform;
const archArg = process.argv.indexOf('--arch');
const arch = archArg > 0 ? process.argv[archArg + 1] : process.arch;
// Cross builds: linux-x64 -> linux-arm64 with Debian's g++-aarch64-linux-gnu (GCC 12, the
// sysroot's glibc 2.36), into build-prebuild-arm64 and prebuilds/linux-arm64/. The same static
// runtime and native/glibc_compat.cpp as on x64 give the same floor, glibc 2.35. Checked under
// qemu-user-static with an arm64 Node on an emulated Cortex-A53 (scripts/arm64-check.mjs).
const CROSS = { 'linux-x64->arm64': { triple: 'aarch64-linux-gnu', processor: 'aarch64' } };
const cross = arch === process.arch ? null : CROSS[`${platform}-${process.arch}->${arch}`];
if (arch !== process.arch && !cross) fail(`no cross-compile recipe from ${platform}-${process.arch} to ${arch}`);
const gpuArg = process.argv.indexOf('--gpu');
const gpu = (gpuArg > 0 ? process.argv[gpuArg + 1] : 'cpu')?.toLowerCase();
if (gpu !== 'cpu' && gpu !== 'vulkan') fail(`--gpu ${gpu}: prebuild variants are cpu (default) and vulkan`);
if (gpu === 'vulkan' && platform !== 'linux') fail('the Vulkan prebuild variant is built on Linux only');
const variant = gpu === 'cpu' ? '' : `-${gpu}`;
const buildDir = process.env.EMOSTEER_PREBUILD_DIR || `build-prebuild${cross ? `-${arch}` : ''}${variant}`;

const portable = portableCpuDefinitions(arch);
const defs = [
  ...portable.defs,
  'GGML_RPC=ON',
  'EMOSTEER_STATIC_RUNTIME=ON',
  'EMOSTEER_BUILD_KIND=prebuilt',
];
const cpu = portable.cpu;
const cpuFeatures = portable.features;
if (arch !== 'x64' && !(platform === 'linux' && arch === 'arm64') && platform !== 'darwin') {
  fail(`no prebuild recipe for ${platform}-${arch}; build from source instead (npm run build:native)`);
}
defs.push(`EMOSTEER_BUILD_CPU=${cpu}`);
if (cross) {
  const root = `/usr/${cross.triple}`;
  if (!existsSync(root) || !existsSync(`/usr/bin/${cross.triple}-g++`)) {
    fail(`cross-compiling to ${arch} needs ${cross.triple}-g++ and its sysroot ${root}: sudo apt-get install -y g++-${cross.triple}`);
  }
  defs.push('CMAKE_SYSTEM_NAME=Linux', `CMAKE_SYSTEM_PROCESSOR=${cross.processor}`,
    `CMAKE_C_COMPILER=/usr/bin/${cross.triple}-gcc`, `CMAKE_CXX_COMPILER=/usr/bin/${cross.triple}-g++`,
    `CMAKE_FIND_ROOT_PATH=${root}`, 'CMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER',
    'CMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY', 'CMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY');
}
defs.push(...backendDefinitions(platform === 'darwin' ? 'metal' : gpu));

// A clean folder for the CPU prebuild (what ships must not inherit stale definitions); a GPU
// variant keeps its folder so that a rebuild does not recompile ~150 shaders (backendDefinitions
// switches the other backends off explicitly, and cmake-js configures every time).
if (!variant) rmSync(join(ROOT, buildDir), { recursive: true, force: true });
const t0 = Date.now();
const built = buildAddon({ buildDir, defs, label: `portable ${platform}-${arch}${variant}${cross ? ` (cross-compiled with ${cross.triple}-g++)` : ''}, CPU ${cpu}` });
const buildSeconds = Math.round((Date.now() - t0) / 1000);

/** The highest GLIBC_x.y symbol version the binary needs (from its dynamic string table). */
function glibcNeeded(file) {
  const text = readFileSync(file).toString('latin1');
  let best = null;
  for (const m of text.matchAll(/GLIBC_(\d+)\.(\d+)(?:\.(\d+))?/g)) {
    const v = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
    if (!best || v[0] > best[0] || (v[0] === best[0] && (v[1] > best[1] || (v[1] === best[1] && v[2] > best[2])))) best = v;
  }
  return best ? best.slice(0, best[2] ? 3 : 2).join('.') : null;
}

/** The shared libraries the binary loads (its DT_NEEDED entries beyond libc's own), via readelf. */
function sharedLibraries(file) {
  const r = spawnSync('readelf', ['-d', file], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  const base = new Set(['libc.so.6', 'libm.so.6', 'libpthread.so.0', 'libdl.so.2', 'librt.so.1', 'ld-linux-x86-64.so.2', 'ld-linux-aarch64.so.1']);
  return [...r.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]).filter((n) => !base.has(n));
}

const outDir = join(ROOT, 'prebuilds', `${platform}-${arch}${variant}`);
// Replace the files of this variant only (a process may have the old binary loaded: unlink, never
// overwrite in place; the other variants' folders are left alone).
mkdirSync(outDir, { recursive: true });
const libc = platform === 'linux' ? '.glibc' : '';
const file = `emosteer.napi${libc}.node`;
for (const f of [file, 'emosteer.requirements.json']) if (existsSync(join(outDir, f))) rmSync(join(outDir, f));
copyFileSync(built, join(outDir, file));
const requirements = {
  file,
  platform,
  arch,
  gpu: platform === 'darwin' ? 'metal' : gpu,
  cpu,
  cpuFeatures,
  glibc: platform === 'linux' ? glibcNeeded(built) : null,
  sharedLibraries: platform === 'linux' ? sharedLibraries(built) : [],
  napiVersion: 8,
  llamaCppCommit: LLAMA_CPP_PIN.commit,
  builtAt: new Date().toISOString(),
  buildSeconds,
};
writeFileSync(join(outDir, 'emosteer.requirements.json'), JSON.stringify(requirements, null, 2) + '\n');
log(`prebuild ready in ${buildSeconds} s: prebuilds/${platform}-${arch}${variant}/${file} (needs ${cpuFeatures.join(', ') || 'no extra CPU features'}` +
    `${requirements.glibc ? `, glibc >= ${requirements.glibc}` : ''})`);
