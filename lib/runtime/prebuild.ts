/**
 * Whether the prebuilt addon in `prebuilds/<platform>-<arch>/` fits this machine: the CPU
 * features and glibc version it needs (from the `emosteer.requirements.json` that
 * scripts/prebuild.mjs writes beside it) against what this machine has. The install script
 * (scripts/build-native.mjs) asks before it skips the source build, and the loader asks before
 * it loads a prebuild, so that a CPU without AVX2 gets a typed error instead of SIGILL.
 * @internal
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What scripts/prebuild.mjs records about a prebuilt binary. @internal */
export interface PrebuildRequirements {
  /** The .node file's name in the same folder. */
  file: string;
  platform: string;
  arch: string;
  /**
   * The GPU backend built in: 'cpu' (none), 'vulkan', 'metal'. Absent in files written before
   * variants existed (then 'metal' on macOS, 'cpu' elsewhere).
   */
  gpu?: string;
  /** Shared libraries the binary loads beyond libc's own (e.g. libvulkan.so.1 for the Vulkan variant). */
  sharedLibraries?: string[];
  /** The CPU baseline, e.g. 'x86-64-v3+AVX2+FMA+F16C+BMI2'. */
  cpu: string;
  /** CPU features the binary uses, as Linux's /proc/cpuinfo names them. */
  cpuFeatures: string[];
  /** The highest glibc symbol version it links against (Linux), or null. */
  glibc: string | null;
  napiVersion: number;
  llamaCppCommit: string;
  builtAt: string;
}

/** The answer of {@link prebuildStatus}. @internal */
export interface PrebuildStatus {
  /** `prebuilds/<platform>-<arch>` under the package root. */
  dir: string;
  /** Absolute path of the prebuilt .node, or null when there is none. */
  file: string | null;
  requirements: PrebuildRequirements | null;
  /** True when the binary exists and this machine meets its requirements. */
  usable: boolean;
  /** Why it is not usable. */
  reason?: string;
}

/** The CPU feature flags of this machine (Linux /proc/cpuinfo), or null where unknown. @internal */
export function cpuFeatureFlags(): Set<string> | null {
  if (process.platform !== 'linux') return null;
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
    return line ? new Set(line.slice(line.indexOf(':') + 1).trim().split(/\s+/)) : null;
  } catch {
    return null;
  }
}

/** The glibc version Node runs on ('2.36'), or null (musl, macOS, Windows). @internal */
export function glibcVersion(): string | null {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ?? null;
}

function versionAtLeast(have: string, need: string): boolean {
  const a = have.split('.').map(Number);
  const b = need.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/**
 * The GPU variants shipped beside the default prebuild: the `<variant>` of every
 * `prebuilds/<platform>-<arch>-<variant>/` folder (e.g. 'vulkan'), sorted. @internal
 */
export function prebuildVariants(root: string, platform: string = process.platform, arch: string = process.arch): string[] {
  const base = join(root, 'prebuilds');
  const prefix = `${platform}-${arch}-`;
  try {
    return readdirSync(base, { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name.startsWith(prefix) && d.name.length > prefix.length)
      .map((d) => d.name.slice(prefix.length))
      .sort();
  } catch {
    return [];
  }
}

/**
 * Checks the prebuild for this platform and architecture under `root`: the default one
 * (`prebuilds/<platform>-<arch>/`, which node-gyp-build resolves) or, with `variant`, a GPU
 * variant (`prebuilds/<platform>-<arch>-<variant>/`). @internal
 */
export function prebuildStatus(root: string, platform: string = process.platform, arch: string = process.arch, variant?: string): PrebuildStatus {
  const name = variant ? `${platform}-${arch}-${variant}` : `${platform}-${arch}`;
  const dir = join(root, 'prebuilds', name);
  const none = (reason: string): PrebuildStatus => ({ dir, file: null, requirements: null, usable: false, reason });
  if (!existsSync(dir)) return none(`no prebuilt addon for ${name}`);
  const reqFile = join(dir, 'emosteer.requirements.json');
  let req: PrebuildRequirements;
  try {
    req = JSON.parse(readFileSync(reqFile, 'utf8')) as PrebuildRequirements;
  } catch (e) {
    const nodes = readdirSync(dir).filter((f) => f.endsWith('.node'));
    return { ...none(`${reqFile} is missing or unreadable (${(e as Error).message})`), file: nodes[0] ? join(dir, nodes[0]) : null };
  }
  const file = join(dir, req.file);
  const base = { dir, file, requirements: req };
  if (!existsSync(file)) return { ...base, file: null, usable: false, reason: `${file} is missing` };
  const flags = cpuFeatureFlags();
  if (flags) {
    const lacking = req.cpuFeatures.filter((f) => !flags.has(f));
    if (lacking.length) return { ...base, usable: false, reason: `this CPU lacks ${lacking.join(', ')}, which the prebuilt addon (${req.cpu}) uses` };
  }
  if (req.glibc) {
    const have = glibcVersion();
    if (have === null) return { ...base, usable: false, reason: `the prebuilt addon needs glibc ${req.glibc} and this system has none (musl?)` };
    if (!versionAtLeast(have, req.glibc)) return { ...base, usable: false, reason: `the prebuilt addon needs glibc >= ${req.glibc}, this system has ${have}` };
  }
  return { ...base, usable: true };
}
