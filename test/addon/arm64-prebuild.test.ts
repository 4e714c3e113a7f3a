// The cross-compiled linux-arm64 prebuild (npm run prebuild -- --arch arm64), run by an arm64
// Node under qemu-user-static through scripts/arm64-check.mjs: it must load as the prebuilt
// addon, capture, steer and generate, and agree with this machine's addon (greedy tokens equal,
// captured blocks within 1e-3 relative). Opt-in: it needs the prebuild (a ~15 min cold cross build
// on 2 cores), qemu-user-static, Debian's arm64 sysroot and, on the first run, the arm64 Node
// from the npm registry; then the emulated run takes about a minute.
//   EMOSTEER_ARM64_TESTS=1 npx vitest run test/addon/arm64-prebuild.test.ts
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs helper without types
import { ROOT } from '../../scripts/pack-install.mjs';

const prebuild = join(ROOT, 'prebuilds', 'linux-arm64');
const skipReason = process.env.EMOSTEER_ARM64_TESTS !== '1'
  ? 'set EMOSTEER_ARM64_TESTS=1 to run it'
  : process.platform !== 'linux' || process.arch !== 'x64'
    ? `the check cross-runs on linux-x64 only (this is ${process.platform}-${process.arch})`
    : !existsSync(join(prebuild, 'emosteer.requirements.json'))
      ? 'prebuilds/linux-arm64 is missing (npm run prebuild -- --arch arm64)'
      : !['/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64'].some(existsSync)
        ? 'qemu-user-static is not installed'
        : !existsSync('/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1')
          ? 'no arm64 sysroot (/usr/aarch64-linux-gnu, from g++-aarch64-linux-gnu)'
          : !existsSync(join(ROOT, 'dist', 'index.js'))
            ? 'dist/ is not built (npm run build:ts)'
            : '';

interface Check { id: string; ok: boolean; detail: string }
interface ModelResult { blockErrors: number[]; worstBlockRelativeError: number; tolerance: number; arm64Tokens: number[]; x64Tokens: number[] }
interface Result {
  ok: boolean;
  checks: Check[];
  qemuCpu: string;
  arm64: { glibc: string; binary: string; build: { kind: string; cpu: string } };
  models: Record<'f32' | 'q8_0', ModelResult>;
}
interface Requirements { arch: string; file: string; glibc: string | null; cpuFeatures: string[]; sharedLibraries: string[] }

/** The highest GLIBC_x.y in the binary's version-needs section (binutils' readelf reads arm64 ELF too). */
function glibcFromReadelf(file: string): string | null {
  const r = spawnSync('readelf', ['-V', '-W', file], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const needs = r.stdout.slice(r.stdout.indexOf('.gnu.version_r'));
  const versions = [...needs.matchAll(/Name: GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const top = versions.at(-1);
  return top ? `${top[0]}.${top[1]}` : null;
}

describe.skipIf(!!skipReason)(skipReason ? `linux-arm64 prebuild under qemu — skipped: ${skipReason}` : 'linux-arm64 prebuild under qemu', () => {
  it('loads as the prebuilt arm64 addon on an emulated Cortex-A53, captures, steers and generates the x64 addon\'s tokens', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'arm64-check.mjs'), '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 900_000 });
    expect(r.stderr).not.toMatch(/\[arm64-check\]/);
    const res = JSON.parse(r.stdout) as Result;
    const failed = res.checks.filter((c) => !c.ok).map((c) => `${c.id}: ${c.detail}`);
    expect(failed).toEqual([]);
    expect(res.checks).toHaveLength(8);
    expect(res.ok).toBe(true);
    expect(r.status).toBe(0);
    expect(res.qemuCpu).toBe('cortex-a53');
    expect(res.arm64.build).toMatchObject({ kind: 'prebuilt', cpu: 'armv8-a' });
    expect(res.arm64.binary).toMatch(/prebuilds\/linux-arm64\/emosteer\.napi\.glibc\.node$/);
    for (const type of ['f32', 'q8_0'] as const) {
      const m = res.models[type];
      expect(m.arm64Tokens).toHaveLength(8);
      expect(m.arm64Tokens).toEqual(m.x64Tokens);
      expect(m.blockErrors).toHaveLength(4);
      expect(m.worstBlockRelativeError).toBeLessThan(type === 'f32' ? 1e-3 : 5e-2);
    }
  }, 900_000);

  it('the requirements file states the binary\'s real glibc floor, at most 2.35 (Ubuntu 22.04), and no extra shared libraries', () => {
    const req = JSON.parse(readFileSync(join(prebuild, 'emosteer.requirements.json'), 'utf8')) as Requirements;
    expect(req.arch).toBe('arm64');
    expect(req.cpuFeatures).toEqual([]);  // qemu-user shows the host's /proc/cpuinfo, and armv8-a needs nothing beyond NEON
    expect(req.sharedLibraries).toEqual([]);
    expect(req.glibc).toMatch(/^2\.\d+$/);
    expect(Number(req.glibc!.split('.')[1])).toBeLessThanOrEqual(35);
    const fromElf = glibcFromReadelf(join(prebuild, req.file));
    if (fromElf !== null) expect(fromElf).toBe(req.glibc);
  });
});
