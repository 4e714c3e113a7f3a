#!/usr/bin/env node
// Builds llama.cpp's own `llama-bench` from the same pinned source the addon links
// (deps/llama.cpp, see scripts/llama-cpp-source.mjs), for `npm run bench` to compare against.
// A bench-only step: npm install never runs it. The build folder is deps/llama-bench-build/
// (ignored with the rest of deps/); only the llama-bench target is built, in Release, with the
// same ggml defaults as the addon (CPU backend, GGML_NATIVE on, flash attention chosen at run time).
// The absolute path of the binary is printed as the last line of stdout.
//
//   node scripts/build-llama-bench.mjs [--force]     (--force: configure again from scratch)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLlamaCppSource } from './llama-cpp-source.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => console.error(`[emosteer] ${m}`);
export const LLAMA_BENCH_BUILD_DIR = join(root, 'deps', 'llama-bench-build');
export const LLAMA_BENCH_BIN = join(LLAMA_BENCH_BUILD_DIR, 'bin', process.platform === 'win32' ? 'llama-bench.exe' : 'llama-bench');

function has(cmd, args = ['--version']) {
  try { execFileSync(cmd, args, { stdio: 'ignore' }); return true; } catch { return false; }
}

function step(args) {
  const r = spawnSync('cmake', args, { stdio: ['ignore', process.stderr, process.stderr] });
  if (r.status !== 0) throw new Error(`cmake ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** Configures and builds llama-bench; returns the binary's absolute path. */
export function buildLlamaBench({ force = false } = {}) {
  if (!has('cmake')) throw new Error('cmake (>= 3.18) is needed to build llama-bench');
  const src = ensureLlamaCppSource(root, log);
  if (force) rmSync(LLAMA_BENCH_BUILD_DIR, { recursive: true, force: true });
  if (!existsSync(join(LLAMA_BENCH_BUILD_DIR, 'CMakeCache.txt'))) {
    log(`configuring llama-bench in ${LLAMA_BENCH_BUILD_DIR}`);
    const generator = has('ninja') ? ['-G', 'Ninja'] : [];
    step([
      '-S', src, '-B', LLAMA_BENCH_BUILD_DIR, ...generator,
      '-DCMAKE_BUILD_TYPE=Release',
      `-DCMAKE_RUNTIME_OUTPUT_DIRECTORY=${join(LLAMA_BENCH_BUILD_DIR, 'bin')}`,
      '-DLLAMA_BUILD_TOOLS=ON',
      '-DLLAMA_BUILD_EXAMPLES=OFF',
      '-DLLAMA_BUILD_TESTS=OFF',
      '-DLLAMA_BUILD_SERVER=OFF',
      '-DLLAMA_BUILD_APP=OFF',
      '-DLLAMA_CURL=OFF',
      '-DLLAMA_OPENSSL=OFF',
      '-DBUILD_SHARED_LIBS=OFF',
      `-DGGML_CCACHE=${has('ccache') ? 'ON' : 'OFF'}`,
    ]);
  }
  log('building the llama-bench target');
  step(['--build', LLAMA_BENCH_BUILD_DIR, '--config', 'Release', '--target', 'llama-bench', '-j', String(availableParallelism())]);
  if (!existsSync(LLAMA_BENCH_BIN)) throw new Error(`the build finished but ${LLAMA_BENCH_BIN} is missing`);
  return LLAMA_BENCH_BIN;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    console.log(buildLlamaBench({ force: process.argv.includes('--force') }));
  } catch (e) {
    console.error(`[emosteer] could not build llama-bench: ${e.message}`);
    process.exit(1);
  }
}
