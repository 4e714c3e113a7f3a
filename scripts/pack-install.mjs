// Packs emosteer as npm would publish it and installs the tarball into a fresh folder the way a
// user would, optionally with no compiler, cmake or git on PATH (so that only the prebuilt addon
// can make the install work). Used by test/models/package-install.test.ts and bench/install-time.mjs.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const npmCli = () => {
  // npm's JS entry beside this Node (global installs) or the one on PATH
  const cmd = process.platform === 'win32' ? 'where' : 'which';
  return realpathSync(execFileSync(cmd, ['npm'], { encoding: 'utf8' }).split('\n')[0].trim());
};

/**
 * `npm pack` of the package root into `outDir`; returns { file, size, entries } (entries: the
 * paths inside the tarball, without the leading 'package/'). `npm pack` runs `prepare` (tsc)
 * unless `ignoreScripts` (then dist/ is packed as it is).
 */
export function packTarball(outDir, { ignoreScripts = false } = {}) {
  mkdirSync(outDir, { recursive: true });
  const args = [npmCli(), 'pack', '--json', '--pack-destination', outDir, ...(ignoreScripts ? ['--ignore-scripts'] : [])];
  const out = execFileSync(process.execPath, args, {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20,
  });
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  return { file: join(outDir, info.filename), size: info.size, unpackedSize: info.unpackedSize, entries: info.files.map((f) => f.path) };
}

/**
 * A folder holding only `node`, `npm` and `sh` (symlinks; npm runs lifecycle scripts with `sh`
 * from PATH): a PATH with no compiler, cmake or git.
 */
export function bareToolPath() {
  const dir = mkdtempSync(join(tmpdir(), 'emosteer-bare-path-'));
  symlinkSync(process.execPath, join(dir, 'node'));
  symlinkSync(npmCli(), join(dir, 'npm'));
  if (process.platform !== 'win32') symlinkSync(realpathSync('/bin/sh'), join(dir, 'sh'));
  return dir;
}

/**
 * Installs `tarball` into a new project folder `dir` (package.json with "type": "module") with
 * `npm install`; `bare` strips PATH to node, npm and sh. Returns { seconds, status, output }.
 */
export function installTarball(tarball, dir, { bare = true, env = {}, timeoutMs = 30 * 60_000 } = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'emosteer-install-check', private: true, type: 'module' }, null, 2));
  const PATH = bare ? bareToolPath() : process.env.PATH;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [npmCli(), 'install', '--no-audit', '--no-fund', '--foreground-scripts', tarball], {
    cwd: dir, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20,
    env: { ...process.env, PATH, npm_config_update_notifier: 'false', ...env },
  });
  return { seconds: (Date.now() - t0) / 1000, status: r.status, signal: r.signal, output: `${r.stdout}\n${r.stderr}` };
}

/** PATH entries joined for the platform (for callers that add to a bare PATH). */
export const joinPath = (...dirs) => dirs.join(delimiter);
