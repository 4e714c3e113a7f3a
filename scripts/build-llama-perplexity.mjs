#!/usr/bin/env node
// Builds llama.cpp's own `llama-perplexity` from the same pinned source the addon links
// (deps/llama.cpp, see scripts/llama-cpp-source.mjs), for bench/quality-vs-llama-perplexity.mjs
// to check `emosteer quality` (perplexity, KL divergence) against. A bench-only step: npm
// install never runs it. The build folder is deps/llama-perplexity-build/ (ignored with the
// rest of deps/); only the llama-perplexity target is built, in Release.
// By default it uses the prebuilt addon's CPU baseline (x86-64-v3, no AVX-512, no OpenMP:
// portableCpuDefinitions in scripts/addon-build.mjs), so both sides run the same CPU kernels;
// --native builds for this CPU (-march=native, OpenMP) instead, like a source-built addon.
// The absolute path of the binary is printed as the last line of stdout.
//
//   node scripts/build-llama-perplexity.mjs [--force] [--native]
// EMOSTEER_TOOL_BUILD_JOBS / EMOSTEER_TOOL_BUILD_NICE: see scripts/llama-cpp-tool-build.mjs.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { portableCpuDefinitions } from './addon-build.mjs';
import { buildLlamaCppTool, ROOT, toolBinary, toolBuildMain } from './llama-cpp-tool-build.mjs';

export const LLAMA_PERPLEXITY_BUILD_DIR = join(ROOT, 'deps', 'llama-perplexity-build');
export const LLAMA_PERPLEXITY_BIN = toolBinary(LLAMA_PERPLEXITY_BUILD_DIR, 'llama-perplexity');

/** Configures and builds llama-perplexity; returns the binary's absolute path. */
export function buildLlamaPerplexity({ force = false, native = process.argv.includes('--native'), jobs, nice } = {}) {
  return buildLlamaCppTool({
    target: 'llama-perplexity',
    buildDir: LLAMA_PERPLEXITY_BUILD_DIR,
    options: native ? { GGML_NATIVE: 'ON', GGML_OPENMP: 'ON' } : Object.fromEntries(portableCpuDefinitions().defs.map((d) => d.split('='))),
    force,
    jobs,
    nice,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) toolBuildMain('llama-perplexity', buildLlamaPerplexity);
