/**
 * Whether this machine can run the Vulkan device-path tests: a Vulkan addon (the prebuild
 * variant prebuilds/<platform>-<arch>-vulkan, or a source build with EMOSTEER_GPU=vulkan in
 * build/ or $EMOSTEER_BUILD_DIR) that loads in a child process and sees a Vulkan device. On a
 * machine without a GPU that device is Mesa's lavapipe, which ggml lists only with
 * GGML_VK_VISIBLE_DEVICES set: callers set it (to 0) before the addon is first loaded.
 * With EMOSTEER_EXPECT_VULKAN=1 (.ci/run sets it after building the variant) a missing Vulkan
 * addon or device is an error, not a skip.
 */
import { backendDevices, findCandidates, probeAddon, type ProbeResult } from '../../lib/runtime/backend-select.js';
import { packageRoot } from '../../lib/runtime/native.js';

/** The Vulkan addon to test and its devices, or null and why not. */
export interface VulkanSetup { file: string | null; reason: string; devices: ProbeResult['devices'] }

/** Finds a working Vulkan addon (probed in a child process, cached). */
export function vulkanSetup(): VulkanSetup {
  const candidates = findCandidates(packageRoot).filter((c) => c.backend === 'vulkan');
  let found: VulkanSetup;
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
