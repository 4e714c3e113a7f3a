// Obtains the pinned llama.cpp source tree. llama.cpp is a dependency, never committed:
// the npm package node-llama-cpp@3.21.1 ships upstream llama.cpp as a git bundle
// (llama/gitRelease.bundle); we fetch that exact tarball through npm, check its integrity
// hash, and clone the bundle into deps/llama.cpp at the pinned commit.
// EMOSTEER_LLAMA_CPP_DIR=/path/to/llama.cpp uses an existing checkout instead (offline builds).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

/** The pin: change all four together. */
export const LLAMA_CPP_PIN = Object.freeze({
  npmPackage: 'node-llama-cpp',
  npmVersion: '3.21.1',
  integrity: 'sha512-E3N0Ev2Va0wzydvXYFwM9Hvyo07PoWjt8T/9GMc43Cvt8YkV/NU/tYUgEMC1grTPv2o9PRjQi0G3Wb5P/awiMg==',
  commit: '80fb11ac73e66d89eae2c6a91d8a77428fa733ed',
});

function cacheDir() {
  const base = process.env.EMOSTEER_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'emosteer');
  mkdirSync(base, { recursive: true });
  return base;
}

function sha512Integrity(file) {
  return 'sha512-' + createHash('sha512').update(readFileSync(file)).digest('base64');
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
}

/** Downloads (or reuses from the cache) the pinned npm tarball and verifies it. */
function pinnedTarball(log) {
  const { npmPackage, npmVersion, integrity } = LLAMA_CPP_PIN;
  const file = join(cacheDir(), `${npmPackage}-${npmVersion}.tgz`);
  if (existsSync(file) && sha512Integrity(file) === integrity) return file;
  log(`fetching ${npmPackage}@${npmVersion} (llama.cpp source bundle, ~35 MB) through npm`);
  const tmp = mkdtempSync(join(tmpdir(), 'emosteer-pack-'));
  try {
    // Windows: npm is npm.cmd, which Node >= 20.12 spawns only through a shell.
    const win = process.platform === 'win32';
    const args = ['pack', `${npmPackage}@${npmVersion}`, '--json', '--pack-destination', tmp];
    const out = run(win ? 'npm.cmd' : 'npm', win ? args.map((a) => `"${a}"`) : args, { shell: win });
    const packed = JSON.parse(out)[0];
    const got = join(tmp, packed.filename);
    const actual = sha512Integrity(got);
    if (actual !== integrity) {
      throw new Error(`integrity mismatch for ${npmPackage}@${npmVersion}: expected ${integrity}, got ${actual}`);
    }
    renameSync(got, file);
    return file;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Returns the absolute path of a llama.cpp source tree at the pinned commit, fetching it
 * into `<root>/deps/llama.cpp` if needed.
 */
export function ensureLlamaCppSource(root, log = (m) => console.log(`[emosteer] ${m}`)) {
  const override = process.env.EMOSTEER_LLAMA_CPP_DIR;
  if (override) {
    const dir = resolve(override);
    if (!existsSync(join(dir, 'include', 'llama.h'))) {
      throw new Error(`EMOSTEER_LLAMA_CPP_DIR=${override} is not a llama.cpp source tree (no include/llama.h)`);
    }
    log(`using llama.cpp from EMOSTEER_LLAMA_CPP_DIR=${dir}`);
    return dir;
  }
  const dir = join(root, 'deps', 'llama.cpp');
  const stamp = join(root, 'deps', 'llama.cpp.commit');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === LLAMA_CPP_PIN.commit && existsSync(join(dir, 'include', 'llama.h'))) {
    return dir;
  }
  const tgz = pinnedTarball(log);
  const tmp = mkdtempSync(join(tmpdir(), 'emosteer-llama-'));
  try {
    // The archive by its bare name, from its folder: GNU tar reads 'C:\\...' as host:path.
    run('tar', ['-xzf', basename(tgz), '-C', tmp, 'package/llama/gitRelease.bundle'], { cwd: dirname(tgz) });
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(root, 'deps'), { recursive: true });
    log(`cloning llama.cpp ${LLAMA_CPP_PIN.commit.slice(0, 12)} into deps/llama.cpp`);
    run('git', ['clone', '--quiet', join(tmp, 'package', 'llama', 'gitRelease.bundle'), dir]);
    run('git', ['-C', dir, '-c', 'advice.detachedHead=false', 'checkout', '--quiet', LLAMA_CPP_PIN.commit]);
    const head = run('git', ['-C', dir, 'rev-parse', 'HEAD']).trim();
    if (head !== LLAMA_CPP_PIN.commit) throw new Error(`llama.cpp checkout is at ${head}, expected ${LLAMA_CPP_PIN.commit}`);
    writeFileSync(stamp, LLAMA_CPP_PIN.commit + '\n');
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
