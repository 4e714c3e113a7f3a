/**
 * Whether this machine can run the Vulkan device-path tests: a Vulkan addon (the prebuild
 * variant prebuilds/<platform>-<arch>-vulkan, or a source build with EMOSTEER_GPU=vulkan in
 * build/ or $EMOSTEER_BUILD_DIR) that loads in a child process and sees a Vulkan device. On a
 * machine without a GPU that device is Mesa's lavapipe, which ggml lists only with
 * GGML_VK_VISIBLE_DEVICES set: callers set it (to 0) before the addon is first loaded.
 * With EMOSTEER_EXPECT_VULKAN=1 (.ci/run sets it after building the variant) a missing Vulkan
 * addon or device is an error, not a skip.
 *
 * Debian 12's lavapipe (Mesa 22.3.6) corrupts the heap on this workload (docs/native-core.md,
 * "Vulkan"); `node scripts/lavapipe.mjs` unpacks Mesa 25 from the backports suite into
 * deps/lavapipe, and this points the Vulkan loader at it (VK_DRIVER_FILES, VK_ICD_FILENAMES)
 * when it is there and neither variable is set.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { backendDevices, findCandidates, probeAddon, type ProbeResult } from '../../lib/runtime/backend-select.js';
import { packageRoot } from '../../lib/runtime/native.js';

/** The Vulkan addon to test and its devices, or null and why not. */
export interface VulkanSetup {
  file: string | null;
  reason: string;
  devices: ProbeResult['devices'];
  /** Which Vulkan driver manifest the loader was pointed at ('system' when none was). */
  driver: string;
  /** The device is the system's lavapipe from a Mesa older than 25 (the heap-corruption bug). */
  oldLavapipe: boolean;
}

/** The private lavapipe's driver manifest (scripts/lavapipe.mjs). */
export const PRIVATE_LAVAPIPE_ICD = join(packageRoot, 'deps', 'lavapipe', 'lvp_icd.json');

function systemMesaMajor(): number {
  try {
    const v = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'mesa-vulkan-drivers'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return Number(/^(?:\d+:)?(\d+)/.exec(v)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** Finds a working Vulkan addon (probed in a child process, cached). */
export function vulkanSetup(): VulkanSetup {
  if (existsSync(PRIVATE_LAVAPIPE_ICD) && !process.env.VK_DRIVER_FILES && !process.env.VK_ICD_FILENAMES) {
    process.env.VK_DRIVER_FILES = PRIVATE_LAVAPIPE_ICD;
    process.env.VK_ICD_FILENAMES = PRIVATE_LAVAPIPE_ICD;
  }
  const driver = process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES ?? 'system';
  const found = findVulkan();
  const lavapipe = found.devices.some((d) => /llvmpipe/i.test(`${d.name} ${d.description}`));
  const oldLavapipe = lavapipe && driver === 'system' && !(systemMesaMajor() >= 25);
  return { ...found, driver, oldLavapipe };
}

function findVulkan(): Omit<VulkanSetup, 'driver' | 'oldLavapipe'> {
  const candidates = findCandidates(packageRoot).filter((c) => c.backend === 'vulkan');
  let found: Omit<VulkanSetup, 'driver' | 'oldLavapipe'>;
  if (!candidates.length) {
    found = { file: null, devices: [], reason: 'no Vulkan addon is built (run `npm run prebuild -- --gpu vulkan`, or `EMOSTEER_GPU=vulkan npm run build:native`; docs/native-core.md)' };
  } else {
    const notes: string[] = [];
    found = { file: null, devices: [], reason: '' };
    for (const c of candidates) {
      const p = probeAddon(c.file);
      const devices = p.ok ? backendDevices('vulkan', p) : [];
      if (devices.length) { found = { file: c.file, devices, reason: '' }; break; }
      notes.push(`${c.file}: ${p.ok ? 'no Vulkan device (install mesa-vulkan-drivers for lavapipe, and set GGML_VK_VISIBLE_DEVICES=0)' : p.error}`);
    }
    if (!found.file) found.reason = notes.join('; ');
  }
  if (!found.file && process.env.EMOSTEER_EXPECT_VULKAN === '1') {
    throw new Error(`EMOSTEER_EXPECT_VULKAN=1 but the Vulkan device path cannot run: ${found.reason}`);
  }
  if (!found.file) console.warn(`[vulkan] skipped: ${found.reason}`);
  return found;
}
