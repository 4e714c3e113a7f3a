#!/usr/bin/env node
// How long `npm install <tarball>` takes for a new user, with the prebuilt addon (node, npm and
// sh only on PATH: no compiler, cmake or git) and from source (EMOSTEER_BUILD_FROM_SOURCE=1,
// compilers on PATH, ccache off and an empty llama.cpp source cache, so that it is a first build),
// each into a fresh folder with an empty npm cache (every dependency downloaded, as on a new
// machine). After each install it runs
// a script that loads the model (Gemma 3 270M by default) and generates 16 tokens, and reports
// which addon it used. Prints a JSON object as its last line.
//
//   node bench/install-time.mjs [--model m.gguf] [--no-source] [--keep]
// Needs prebuilds/ (npm run prebuild). The source build takes several minutes on 2 cores.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installTarball, packTarball } from '../scripts/pack-install.mjs';
import { resolveModel } from './parts/util.mjs';

const { values: o } = parseArgs({ options: { model: { type: 'string' }, 'no-source': { type: 'boolean' }, keep: { type: 'boolean' } } });
const model = resolveModel(o.model);
const work = mkdtempSync(join(tmpdir(), 'emosteer-install-time-'));
const log = (m) => console.error(`[install-time] ${m}`);

const smoke = `
import { loadModel, versions } from 'emosteer';
const t0 = performance.now();
const model = await loadModel(process.argv[2]);
const ctx = await model.createContext({ contextSize: 512 });
const r = await ctx.generateText('Once upon a time', { maxTokens: 16, temperature: 0 });
await ctx.dispose(); model.dispose();
console.log(JSON.stringify({ build: versions().build, tokens: r.tokens.length, text: r.text, seconds: (performance.now() - t0) / 1000 }));
`;

function attempt(name, tarball, options) {
  const dir = join(work, name);
  const cache = join(work, `${name}-npm-cache`);
  log(`${name}: npm install into ${dir} (empty npm cache)`);
  const r = installTarball(tarball, dir, { ...options, env: { npm_config_cache: cache, ...options.env } });
  if (r.status !== 0) return { name, ok: false, seconds: r.seconds, tail: r.output.slice(-2000) };
  writeFileSync(join(dir, 'smoke.mjs'), smoke);
  const out = JSON.parse(execFileSync(process.execPath, [join(dir, 'smoke.mjs'), model], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop());
  log(`${name}: ${r.seconds.toFixed(1)} s, addon ${out.build.kind} (${out.build.cpu}), generated "${out.text.trim().slice(0, 60)}"`);
  return { name, ok: true, seconds: r.seconds, addon: out.build, smoke: out };
}

try {
  const t0 = Date.now();
  const tarball = packTarball(join(work, 'pack'));
  const packSeconds = (Date.now() - t0) / 1000;
  log(`packed ${tarball.file} (${(tarball.size / 1048576).toFixed(1)} MiB, ${tarball.entries.length} files) in ${packSeconds.toFixed(1)} s`);
  const results = [attempt('prebuilt', tarball.file, { bare: true })];
  if (!o['no-source']) {
    results.push(attempt('source', tarball.file, { bare: false, env: { EMOSTEER_BUILD_FROM_SOURCE: '1', CCACHE_DISABLE: '1', EMOSTEER_CACHE_DIR: join(work, 'emosteer-cache') }, timeoutMs: 60 * 60_000 }));
  }
  console.log(JSON.stringify({ model, tarballBytes: tarball.size, files: tarball.entries.length, packSeconds, results }));
} finally {
  if (!o.keep) rmSync(work, { recursive: true, force: true });
}
