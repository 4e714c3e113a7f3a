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
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, backendDefinitions, buildAddon, fail, log, portableCpuDefinitions } from './addon-build.mjs';
import { LLAMA_CPP_PIN } from './llama-cpp-source.mjs';

const platform = process.platform;
const arch = process.arch;
const buildDir = process.env.EMOSTEER_PREBUILD_DIR || 'build-prebuild';

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
defs.push(...backendDefinitions(platform === 'darwin' ? 'metal' : 'cpu'));

rmSync(join(ROOT, buildDir), { recursive: true, force: true });
const built = buildAddon({ buildDir, defs, label: `portable ${platform}-${arch}, CPU ${cpu}` });

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

const outDir = join(ROOT, 'prebuilds', `${platform}-${arch}`);
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const libc = platform === 'linux' ? '.glibc' : '';
const file = `emosteer.napi${libc}.node`;
copyFileSync(built, join(outDir, file));
const requirements = {
  file,
  platform,
  arch,
  cpu,
  cpuFeatures,
  glibc: platform === 'linux' ? glibcNeeded(built) : null,
  napiVersion: 8,
  llamaCppCommit: LLAMA_CPP_PIN.commit,
  builtAt: new Date().toISOString(),
};
writeFileSync(join(outDir, 'emosteer.requirements.json'), JSON.stringify(requirements, null, 2) + '\n');
log(`prebuild ready: prebuilds/${platform}-${arch}/${file} (needs ${cpuFeatures.join(', ') || 'no extra CPU features'}` +
    `${requirements.glibc ? `, glibc >= ${requirements.glibc}` : ''})`);
