// Whether a prebuilt addon fits this machine (lib/prebuild.ts), and what the install script
// does when it does not: it says why and falls back to the source build (which, with no cmake
// or compiler on PATH, fails with the install hint instead of installing a binary that would
// crash with SIGILL).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuFeatureFlags, glibcVersion, prebuildStatus, type PrebuildRequirements } from '../../lib/runtime/prebuild.js';
// @ts-expect-error plain .mjs helper without types
import { ROOT, bareToolPath } from '../../scripts/pack-install.mjs';

const tuple = `${process.platform}-${process.arch}`;
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** A package root with prebuilds/<tuple>/ holding a dummy .node and the given requirements. */
function fakeRoot(req: Partial<PrebuildRequirements>, withNode = true): string {
  const root = mkdtempSync(join(tmpdir(), 'emosteer-prebuild-'));
  dirs.push(root);
  const dir = join(root, 'prebuilds', tuple);
  mkdirSync(dir, { recursive: true });
  const full: PrebuildRequirements = { file: 'emosteer.napi.glibc.node', platform: process.platform, arch: process.arch, cpu: 'test', cpuFeatures: [], glibc: null, napiVersion: 8, llamaCppCommit: 'x', builtAt: 'now', ...req };
  if (withNode) writeFileSync(join(dir, full.file), 'not really a binary');
  writeFileSync(join(dir, 'emosteer.requirements.json'), JSON.stringify(full));
  return root;
}

describe('prebuildStatus', () => {
  const flags = cpuFeatureFlags();
  it('reads this machine: CPU flags on Linux, glibc version', () => {
    if (process.platform === 'linux') {
      expect(flags?.size).toBeGreaterThan(5);
      expect(glibcVersion()).toMatch(/^\d+\.\d+/);
    }
  });

  it('usable when the CPU has the features and glibc is new enough', () => {
    const have = flags ? [...flags].slice(0, 3) : [];
    const st = prebuildStatus(fakeRoot({ cpuFeatures: have, glibc: '2.0' }));
    expect(st.usable).toBe(true);
    expect(st.file).toContain(join('prebuilds', tuple));
  });

  it.skipIf(process.platform !== 'linux')('not usable, with the reason, for a missing CPU feature or a newer glibc', () => {
    const cpu = prebuildStatus(fakeRoot({ cpuFeatures: ['avx2', 'no_such_feature_xyz'] }));
    expect(cpu.usable).toBe(false);
    expect(cpu.reason).toMatch(/lacks no_such_feature_xyz/);
    const libc = prebuildStatus(fakeRoot({ glibc: '99.1' }));
    expect(libc.usable).toBe(false);
    expect(libc.reason).toMatch(/glibc >= 99\.1/);
  });

  it('not usable without a prebuilds folder, a requirements file or the binary', () => {
    const empty = mkdtempSync(join(tmpdir(), 'emosteer-prebuild-'));
    dirs.push(empty);
    expect(prebuildStatus(empty)).toMatchObject({ usable: false, file: null });
    expect(prebuildStatus(fakeRoot({}, false))).toMatchObject({ usable: false, file: null });
    const noReq = fakeRoot({});
    rmSync(join(noReq, 'prebuilds', tuple, 'emosteer.requirements.json'));
    expect(prebuildStatus(noReq).usable).toBe(false);
  });

  it.skipIf(process.platform !== 'linux')('the install script refuses an unfitting prebuild, says why, and falls back to the source build', () => {
    // a copy of the package's install scripts and dist/runtime/prebuild.js around an unusable prebuild
    const root = fakeRoot({ cpuFeatures: ['no_such_feature_xyz'] });
    cpSync(join(ROOT, 'scripts'), join(root, 'scripts'), { recursive: true });
    mkdirSync(join(root, 'dist', 'runtime'), { recursive: true });
    cpSync(join(ROOT, 'dist', 'runtime', 'prebuild.js'), join(root, 'dist', 'runtime', 'prebuild.js'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'emosteer', type: 'module' }));
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], {
      cwd: root, encoding: 'utf8', env: { ...process.env, PATH: bareToolPath(), npm_lifecycle_event: 'install', EMOSTEER_SKIP_BUILD: '' },
    });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).toMatch(/not using the prebuilt addon: this CPU lacks no_such_feature_xyz/);
    expect(out).not.toMatch(/using the prebuilt addon \//);
    // no cmake or compiler on this PATH: the source build stops with the install hint
    expect(r.status).toBe(1);
    expect(out).toMatch(/missing cmake/);
  });
});
