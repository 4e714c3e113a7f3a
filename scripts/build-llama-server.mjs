#!/usr/bin/env node
// Builds llama.cpp's own `llama-server` from the same pinned source the addon links
// (deps/llama.cpp, see scripts/llama-cpp-source.mjs), for `npm run bench:serve`
// (bench/serve.mjs) to compare `emosteer serve` against. A bench-only step: npm install never
// runs it. The build folder is deps/llama-server-build/ (ignored with the rest of deps/); only
// the llama-server target is built, in Release, with the same ggml defaults as the addon, without
// curl or openssl and without the web UI (no npm build, no download of prebuilt assets).
// The absolute path of the binary is printed as the last line of stdout.
//
//   node scripts/build-llama-server.mjs [--force]     (--force: configure again from scratch)
// EMOSTEER_TOOL_BUILD_JOBS / EMOSTEER_TOOL_BUILD_NICE: see scripts/llama-cpp-tool-build.mjs.
import { join } from 'node:path';
import { buildLlamaCppTool, ROOT, toolBinary, toolBuildMain } from './llama-cpp-tool-build.mjs';
import { pathToFileURL } from 'node:url';

export const LLAMA_SERVER_BUILD_DIR = join(ROOT, 'deps', 'llama-server-build');
export const LLAMA_SERVER_BIN = toolBinary(LLAMA_SERVER_BUILD_DIR, 'llama-server');

/** Configures and builds llama-server; returns the binary's absolute path. */
export function buildLlamaServer({ force = false, jobs, nice } = {}) {
  return buildLlamaCppTool({
    target: 'llama-server',
    buildDir: LLAMA_SERVER_BUILD_DIR,
    options: { LLAMA_BUILD_SERVER: 'ON', LLAMA_BUILD_UI: 'OFF', LLAMA_USE_PREBUILT_UI: 'OFF' },
    force,
    jobs,
    nice,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) toolBuildMain('llama-server', buildLlamaServer);
