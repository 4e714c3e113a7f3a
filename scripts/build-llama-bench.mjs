#!/usr/bin/env node
// Builds llama.cpp's own `llama-bench` from the same pinned source the addon links
// (deps/llama.cpp, see scripts/llama-cpp-source.mjs), for `npm run bench` to compare against.
// A bench-only step: npm install never runs it. The build folder is deps/llama-bench-build/
// (ignored with the rest of deps/); only the llama-bench target is built, in Release, with the
// same ggml defaults as the addon (CPU backend, GGML_NATIVE on, flash attention chosen at run time).
// The absolute path of the binary is printed as the last line of stdout.
//
//   node scripts/build-llama-bench.mjs [--force]     (--force: configure again from scratch)
// EMOSTEER_TOOL_BUILD_JOBS / EMOSTEER_TOOL_BUILD_NICE: see scripts/llama-cpp-tool-build.mjs.
import { join } from 'node:path';
import { buildLlamaCppTool, ROOT, toolBinary, toolBuildMain } from './llama-cpp-tool-build.mjs';
import { pathToFileURL } from 'node:url';

export const LLAMA_BENCH_BUILD_DIR = join(ROOT, 'deps', 'llama-bench-build');
export const LLAMA_BENCH_BIN = toolBinary(LLAMA_BENCH_BUILD_DIR, 'llama-bench');

/** Configures and builds llama-bench; returns the binary's absolute path. */
export function buildLlamaBench({ force = false, jobs, nice } = {}) {
  return buildLlamaCppTool({ target: 'llama-bench', buildDir: LLAMA_BENCH_BUILD_DIR, force, jobs, nice });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) toolBuildMain('llama-bench', buildLlamaBench);
