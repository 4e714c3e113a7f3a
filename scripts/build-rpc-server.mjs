#!/usr/bin/env node
// `npm run build:rpc-server`: builds llama.cpp's RPC server (the ggml-rpc-server target of
// tools/rpc) from the same pinned source the addon links, into deps/rpc-server-build/ (ignored).
// Run it on each machine that should hold layers for `loadModel(path, { rpcServers })`
// (docs/scale-out.md). It has no authentication: bind it to 127.0.0.1 or a private network only.
// The absolute path of the binary is printed as the last line of stdout.
//
//   node scripts/build-rpc-server.mjs [--force] [--portable]
//   --force: configure again from scratch; --portable: the prebuilt addon's CPU baseline
//   (x86-64-v3, no AVX-512, no OpenMP) instead of -march=native, so that a loopback test against
//   the prebuilt addon compares the same CPU kernels on both sides (CI builds it so).
// Environment: EMOSTEER_GPU=cuda|metal|vulkan builds the server with that backend too (a GPU
// machine serving its memory); EMOSTEER_TOOL_BUILD_JOBS / _NICE: see scripts/llama-cpp-tool-build.mjs.
import { join } from 'node:path';
import { buildLlamaCppTool, ROOT, toolBinary, toolBuildMain } from './llama-cpp-tool-build.mjs';
import { portableCpuDefinitions } from './addon-build.mjs';
import { pathToFileURL } from 'node:url';

export const RPC_SERVER_BUILD_DIR = join(ROOT, 'deps', 'rpc-server-build');
export const RPC_SERVER_BIN = toolBinary(RPC_SERVER_BUILD_DIR, 'ggml-rpc-server');

const GPU_OPTIONS = {
  cpu: {},
  cuda: { GGML_CUDA: 'ON' },
  metal: { GGML_METAL: 'ON', GGML_METAL_EMBED_LIBRARY: 'ON' },
  vulkan: { GGML_VULKAN: 'ON' },
};

/** Configures and builds the RPC server; returns the binary's absolute path. */
export function buildRpcServer({ force = false, portable = process.argv.includes('--portable'), jobs, nice } = {}) {
  const gpu = (process.env.EMOSTEER_GPU || 'cpu').toLowerCase();
  const backend = GPU_OPTIONS[gpu];
  if (!backend) throw new Error(`EMOSTEER_GPU=${gpu} is not one of ${Object.keys(GPU_OPTIONS).join(', ')}`);
  return buildLlamaCppTool({
    target: 'ggml-rpc-server',
    buildDir: RPC_SERVER_BUILD_DIR,
    options: {
      GGML_RPC: 'ON',
      ...backend,
      ...(portable ? Object.fromEntries(portableCpuDefinitions().defs.map((d) => d.split('='))) : { GGML_NATIVE: 'ON', GGML_OPENMP: 'ON' }),
    },
    force,
    jobs,
    nice,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) toolBuildMain('ggml-rpc-server', buildRpcServer);
