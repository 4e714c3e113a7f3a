#!/usr/bin/env node
// A newer lavapipe (Mesa's Vulkan driver on the CPU) for the device-path tests, fetched privately.
//
// Debian 12's Mesa 22.3.6 lavapipe corrupts the heap once a context that has decoded is
// re-reserved (docs/native-core.md, "Vulkan"); Mesa 25.0.7 from the same release's backports
// suite (built against Debian 12's glibc and LLVM 15) does not. This script downloads that
// mesa-vulkan-drivers with `apt-get download` from <codename>-backports and unpacks it with
// `dpkg -x` into deps/lavapipe/root (git-ignored; nothing is installed on the system), and
// writes deps/lavapipe/lvp_icd.json, a Vulkan driver manifest with the absolute path of its
// libvulkan_lvp.so. test/helpers/vulkan.ts points the Vulkan loader at it (VK_DRIVER_FILES and
// VK_ICD_FILENAMES) when it exists and neither variable is set. It does nothing where the
// system's lavapipe is already Mesa >= 25 or the manifest exists; prints the manifest's path.
//
//   node scripts/lavapipe.mjs [--force]
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchDebs } from './private-apt.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the private driver goes. */
export const LAVAPIPE_DIR = join(ROOT, 'deps', 'lavapipe');
/** The driver manifest the tests point the Vulkan loader at. */
export const LAVAPIPE_ICD = join(LAVAPIPE_DIR, 'lvp_icd.json');
/** The oldest Mesa whose lavapipe ran the device-path tests without the heap corruption. */
export const MIN_MESA_MAJOR = 25;
const log = (m) => console.error(`[lavapipe] ${m}`);

/** The installed mesa-vulkan-drivers version (dpkg), or null. */
export function systemMesaVersion() {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'mesa-vulkan-drivers'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

const major = (v) => Number(/^(?:\d+:)?(\d+)/.exec(v ?? '')?.[1] ?? NaN);

/** Makes deps/lavapipe/lvp_icd.json if the system's lavapipe is too old; returns its path, or null when not needed. */
export function ensureLavapipe({ force = false } = {}) {
  const sys = systemMesaVersion();
  if (!force && major(sys) >= MIN_MESA_MAJOR) { log(`the system's lavapipe is Mesa ${sys}: nothing to do`); return null; }
  if (!force && existsSync(LAVAPIPE_ICD)) return LAVAPIPE_ICD;
  const release = readFileSync('/etc/os-release', 'utf8');
  const codename = /^VERSION_CODENAME=(\S+)/m.exec(release)?.[1];
  if (!codename || !/^ID=debian$/m.test(release)) throw new Error('a private lavapipe is fetched only on Debian (its <codename>-backports suite)');
  const root = join(LAVAPIPE_DIR, 'root');
  log(`system Mesa ${sys ?? 'none'}; fetching mesa-vulkan-drivers from ${codename}-backports into ${root} (private; nothing is installed)`);
  const debs = fetchDebs({ suite: `${codename}-backports`, packages: ['mesa-vulkan-drivers'], root, work: join(LAVAPIPE_DIR, 'work') });
  const libDir = join(root, 'usr', 'lib');
  const multiarch = existsSync(libDir) ? readdirSync(libDir).find((d) => existsSync(join(libDir, d, 'libvulkan_lvp.so'))) : undefined;
  const lib = join(libDir, multiarch ?? '?', 'libvulkan_lvp.so');
  const shipped = join(root, 'usr', 'share', 'vulkan', 'icd.d', 'lvp_icd.json');
  if (!existsSync(lib) || !existsSync(shipped)) throw new Error(`the unpacked package has no ${lib} or ${shipped}`);
  const manifest = JSON.parse(readFileSync(shipped, 'utf8'));
  manifest.ICD.library_path = lib;
  writeFileSync(LAVAPIPE_ICD, `${JSON.stringify(manifest, null, 2)}\n`);
  log(`${LAVAPIPE_ICD}: lavapipe from ${debs.join(', ')}`);
  return LAVAPIPE_ICD;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const icd = ensureLavapipe({ force: process.argv.includes('--force') });
    if (icd) console.log(icd);
  } catch (e) {
    log(e.message);
    process.exit(1);
  }
}
