// Builds one of llama.cpp's own tools (llama-bench, llama-server) from the same pinned source
// the addon links (deps/llama.cpp, see scripts/llama-cpp-source.mjs), in its own build folder
// under deps/ (ignored). Shared by scripts/build-llama-bench.mjs and scripts/build-llama-server.mjs.
// Release, static, with the same ggml defaults as the addon (CPU backend, GGML_NATIVE on);
// no curl, no openssl; ccache when it is installed, Ninja when it is installed.
//
// Environment: EMOSTEER_TOOL_BUILD_JOBS=N sets the parallel compile jobs (default: every core);
// EMOSTEER_TOOL_BUILD_NICE=N runs cmake under `nice -n N` (default: not niced).
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { has } from './addon-build.mjs';
import { ensureLlamaCppSource } from './llama-cpp-source.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => console.error(`[emosteer] ${m}`);

export { has };

/** `<build dir>/bin/<name>` (with .exe on Windows). */
export function toolBinary(buildDir, name) {
  return join(buildDir, 'bin', process.platform === 'win32' ? `${name}.exe` : name);
}

function cmake(args, niceLevel) {
  const [cmd, argv] = niceLevel !== undefined && process.platform !== 'win32' && has('nice', ['true'])
    ? ['nice', ['-n', String(niceLevel), 'cmake', ...args]]
    : ['cmake', args];
  const r = spawnSync(cmd, argv, { stdio: ['ignore', process.stderr, process.stderr] });
  if (r.status !== 0) throw new Error(`cmake ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

function envInt(name) {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new Error(`${name} must be an integer, got '${v}'`);
  return Number(v);
}

/**
 * Configures (once, or again with `force`) and builds `target` in `buildDir`; returns the
 * binary's absolute path. `options` are extra -D settings ({ NAME: 'ON' }), which override the
 * defaults below. `jobs` and `nice` default to EMOSTEER_TOOL_BUILD_JOBS / EMOSTEER_TOOL_BUILD_NICE.
 */
export function buildLlamaCppTool({ target, buildDir, options = {}, force = false, jobs, nice } = {}) {
  if (!has('cmake')) throw new Error(`cmake (>= 3.18) is needed to build ${target}`);
  const src = ensureLlamaCppSource(ROOT, log);
  const niceLevel = nice ?? envInt('EMOSTEER_TOOL_BUILD_NICE');
  const nJobs = jobs ?? envInt('EMOSTEER_TOOL_BUILD_JOBS') ?? availableParallelism();
  if (force) rmSync(buildDir, { recursive: true, force: true });
  // Configure every time (seconds with a cache): a changed option (--portable, EMOSTEER_GPU)
  // must reach the cache, which a build alone would keep as it was.
  {
    log(`configuring ${target} in ${buildDir}`);
    const settings = {
      CMAKE_BUILD_TYPE: 'Release',
      CMAKE_RUNTIME_OUTPUT_DIRECTORY: join(buildDir, 'bin'),
      LLAMA_BUILD_TOOLS: 'ON',
      LLAMA_BUILD_EXAMPLES: 'OFF',
      LLAMA_BUILD_TESTS: 'OFF',
      LLAMA_BUILD_SERVER: 'OFF',
      LLAMA_BUILD_APP: 'OFF',
      LLAMA_CURL: 'OFF',
      LLAMA_OPENSSL: 'OFF',
      BUILD_SHARED_LIBS: 'OFF',
      GGML_CCACHE: has('ccache') ? 'ON' : 'OFF',
      ...options,
    };
    const generator = has('ninja') ? ['-G', 'Ninja'] : [];
    cmake(['-S', src, '-B', buildDir, ...generator, ...Object.entries(settings).map(([k, v]) => `-D${k}=${v}`)], niceLevel);
  }
  log(`building the ${target} target (${nJobs} jobs${niceLevel !== undefined ? `, nice ${niceLevel}` : ''})`);
  cmake(['--build', buildDir, '--config', 'Release', '--target', target, '-j', String(nJobs)], niceLevel);
  const bin = toolBinary(buildDir, target);
  if (!existsSync(bin)) throw new Error(`the build finished but ${bin} is missing`);
  return bin;
}

/** The command-line entry of a build script: prints the binary path as the last stdout line. */
export function toolBuildMain(target, build) {
  try {
    console.log(build({ force: process.argv.includes('--force') }));
  } catch (e) {
    console.error(`[emosteer] could not build ${target}: ${e.message}`);
    process.exit(1);
  }
}
