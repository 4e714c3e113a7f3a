#!/usr/bin/env node
// The Vulkan headers ggml's Vulkan backend needs, as CMake definitions (used by
// scripts/addon-build.mjs for EMOSTEER_GPU=vulkan and by scripts/prebuild.mjs --gpu vulkan).
//
// The pinned llama.cpp uses vk::LayerSettingEXT (VK_EXT_layer_settings, Vulkan headers >= 1.3.261).
// Debian 12 ships 1.3.239 (libvulkan-dev) and Ubuntu 22.04 1.3.204, too old. Where the system
// headers are older, this script fetches Debian 13's libvulkan-dev and spirv-headers with
// `apt-get download` against a private sources list and unpacks them with `dpkg -x` into
// deps/vulkan-sdk/root (git-ignored; nothing is installed on the system). Only headers and CMake
// config files are used from there: the addon links the system's libvulkan.so.1 (the loader, ABI
// stable across 1.3/1.4) and the shaders are compiled by the system's glslc.
//
// Order: $VULKAN_SDK (LunarG SDK layout: include/, lib/, bin/glslc) if set; the system headers
// if new enough; deps/vulkan-sdk if already unpacked; otherwise fetch it (Debian/Ubuntu with
// apt-get). Run directly (`node scripts/vulkan-sdk.mjs`) it prints the definitions.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchDebs, hasApt } from './private-apt.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** VK_HEADER_VERSION the pinned llama.cpp needs (VK_EXT_layer_settings, 1.3.261). */
export const MIN_VK_HEADER = 261;
/** Where the private headers go. */
export const PRIVATE_SDK = join(ROOT, 'deps', 'vulkan-sdk');
/** The Debian suite whose packages carry new enough headers (libvulkan-dev 1.4.309). */
const SUITE = 'trixie';
const log = (m) => console.log(`[emosteer] ${m}`);

/** VK_HEADER_VERSION (the patch number, e.g. 239) and the full version of a vulkan_core.h, or null. */
export function headerVersion(includeDir) {
  const f = join(includeDir, 'vulkan', 'vulkan_core.h');
  if (!existsSync(f)) return null;
  const text = readFileSync(f, 'utf8');
  const patch = /#define VK_HEADER_VERSION (\d+)/.exec(text);
  const complete = /VK_HEADER_VERSION_COMPLETE VK_MAKE_API_VERSION\(\d+,\s*(\d+),\s*(\d+),/.exec(text);
  if (!patch) return null;
  return { patch: Number(patch[1]), version: complete ? `${complete[1]}.${complete[2]}.${patch[1]}` : `?.?.${patch[1]}` };
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The system's Vulkan loader library for linking (libvulkan.so, or libvulkan.so.1 without the -dev package). */
function systemLoader() {
  const multiarch = spawnSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).stdout?.trim();
  const dirs = [multiarch && `/usr/lib/${multiarch}`, '/usr/lib64', '/usr/lib', '/usr/local/lib'].filter(Boolean);
  for (const name of ['libvulkan.so', 'libvulkan.so.1']) {
    for (const d of dirs) if (existsSync(join(d, name))) return join(d, name);
  }
  return null;
}

/** Fetches and unpacks Debian 13's libvulkan-dev and spirv-headers into deps/vulkan-sdk/root. */
export function fetchPrivateHeaders() {
  if (!hasApt()) {
    throw new Error('the system Vulkan headers are older than 1.3.261 and this is not a Debian/Ubuntu system with apt-get: ' +
      'install the LunarG Vulkan SDK (https://vulkan.lunarg.com) and set VULKAN_SDK');
  }
  const root = join(PRIVATE_SDK, 'root');
  rmSync(PRIVATE_SDK, { recursive: true, force: true });
  log(`Vulkan headers: fetching Debian ${SUITE}'s libvulkan-dev and spirv-headers into ${root} (private; nothing is installed)`);
  fetchDebs({ suite: SUITE, packages: ['libvulkan-dev', 'spirv-headers'], root, work: join(PRIVATE_SDK, 'work') });
  return join(root, 'usr');
}

/**
 * CMake definitions for GGML_VULKAN with headers new enough for the pinned llama.cpp; throws
 * with what to install when it cannot find or fetch them.
 */
export function vulkanDefinitions() {
  const sdk = process.env.VULKAN_SDK;
  if (sdk) {
    const v = headerVersion(join(sdk, 'include'));
    if (!v) throw new Error(`VULKAN_SDK=${sdk} has no include/vulkan/vulkan_core.h`);
    if (v.patch < MIN_VK_HEADER) throw new Error(`VULKAN_SDK=${sdk} has Vulkan headers ${v.version}; llama.cpp needs >= 1.3.${MIN_VK_HEADER}`);
    log(`Vulkan headers ${v.version} from VULKAN_SDK=${sdk}`);
    return [`CMAKE_PREFIX_PATH=${sdk}`];
  }
  const glslc = which('glslc');
  const loader = systemLoader();
  const missing = [!glslc && 'glslc', !loader && 'the Vulkan loader (libvulkan1)'].filter(Boolean);
  if (missing.length) {
    throw new Error(`EMOSTEER_GPU=vulkan needs ${missing.join(' and ')}. On Debian/Ubuntu: ` +
      'sudo apt-get install -y libvulkan-dev glslc   (plus mesa-vulkan-drivers or your GPU vendor\'s driver to run it)');
  }
  const sys = headerVersion('/usr/include');
  if (sys && sys.patch >= MIN_VK_HEADER && existsSync('/usr/include/spirv') ) {
    log(`Vulkan headers ${sys.version} from the system`);
    return [`Vulkan_GLSLC_EXECUTABLE=${glslc}`];
  }
  let prefix = join(PRIVATE_SDK, 'root', 'usr');
  if (!headerVersion(join(prefix, 'include'))) prefix = fetchPrivateHeaders();
  const v = headerVersion(join(prefix, 'include'));
  if (!v || v.patch < MIN_VK_HEADER) throw new Error(`the Vulkan headers in ${prefix} are ${v?.version ?? 'missing'}; need >= 1.3.${MIN_VK_HEADER}`);
  log(`Vulkan headers ${v.version} from ${prefix} (system: ${sys?.version ?? 'none'}), loader ${loader}, ${glslc}`);
  return [
    `Vulkan_INCLUDE_DIR=${join(prefix, 'include')}`,
    `Vulkan_LIBRARY=${loader}`,
    `Vulkan_GLSLC_EXECUTABLE=${glslc}`,
    `CMAKE_PREFIX_PATH=${prefix}`,
  ];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    for (const d of vulkanDefinitions()) console.log(d);
  } catch (e) {
    console.error(`[emosteer] ${e.message}`);
    process.exit(1);
  }
}
