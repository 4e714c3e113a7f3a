#!/usr/bin/env bash
# The Vulkan device-path check outside CI (issue 23): builds the Vulkan prebuild variant
# (prebuilds/linux-x64-vulkan; ~26 min cold on 2 cores, shaders included), unpacks Mesa 25's
# lavapipe privately (scripts/lavapipe.mjs; Debian 12's Mesa 22.3.6 lavapipe corrupts the heap),
# and runs the device-path tests with every layer offloaded: test/addon/vulkan-device.test.ts
# and test/addon/backend-select.test.ts. Not part of .ci/run by default because build plus tests
# would take that run near its 90-minute limit (EMOSTEER_CI_VULKAN=1 adds them there).
# Needs: mesa-vulkan-drivers libvulkan1 glslc (apt), dist/ (npm run build:ts).
# Usage: scripts/vulkan-device-check.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
if [ "${1:-}" != "--no-build" ] || [ ! -f prebuilds/linux-x64-vulkan/emosteer.requirements.json ]; then
  npm run -s prebuild -- --gpu vulkan
  echo "[vulkan-check] Vulkan prebuild: $(( $(date +%s) - start )) s"
fi
node scripts/lavapipe.mjs >/dev/null || echo "[vulkan-check] no private Mesa 25 lavapipe: testing on the system's"
start=$(date +%s)
EMOSTEER_EXPECT_VULKAN=1 npx vitest run test/addon/vulkan-device.test.ts test/addon/backend-select.test.ts --testTimeout 900000
echo "[vulkan-check] device-path tests: $(( $(date +%s) - start )) s"
