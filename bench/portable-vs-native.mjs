#!/usr/bin/env node
// The portable prebuilt addon (prebuilds/<platform>-<arch>, `npm run prebuild`) against the one
// built on this machine (build/Release, -march=native): pp and tg tokens/s on one model (default
// Gemma 3 270M), plain, with capture and steered, from bench/parts/core.mjs run alternately with
// each binary (PREBUILDS_ONLY=1 makes node-gyp-build take the prebuild) for --rounds rounds, one
// process per run; the table gives medians over every repetition and the ratio portable/native.
//
//   node bench/portable-vs-native.mjs [--model m.gguf] [--rounds 3] [--reps 3] [--json]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './parts/util.mjs';

const { values: o } = parseArgs({ options: { model: { type: 'string' }, rounds: { type: 'string', default: '3' }, reps: { type: 'string', default: '3' }, json: { type: 'boolean' } } });
const core = fileURLToPath(new URL('./parts/core.mjs', import.meta.url));
const args = [core, '--reps', o.reps, ...(o.model ? ['--model', o.model] : [])];
const keys = ['pp_plain', 'pp_capture', 'tg_plain', 'tg_steered'];
const pooled = { native: {}, portable: {} };
const binaries = {};
for (let r = 0; r < Number(o.rounds); r++) {
  for (const side of r % 2 ? ['portable', 'native'] : ['native', 'portable']) {
    const env = { ...process.env };
    delete env.PREBUILDS_ONLY;
    if (side === 'portable') env.PREBUILDS_ONLY = '1';
    const out = JSON.parse(execFileSync(process.execPath, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop());
    if (!binaries[side]) binaries[side] = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', "import('" + new URL('../dist/index.js', import.meta.url).href + "').then((m) => console.log(JSON.stringify(m.versions().build)))"], { env, encoding: 'utf8' }).trim());
    for (const k of keys) (pooled[side][k] ??= []).push(...(out.samples[k] ?? []));
    console.error(`[portable-vs-native] round ${r + 1} ${side}: ${keys.map((k) => `${k} ${median(out.samples[k] ?? []).toFixed(1)}`).join(', ')}`);
  }
}
const rows = keys.map((k) => ({ metric: k, native: median(pooled.native[k]), portable: median(pooled.portable[k]), ratio: median(pooled.portable[k]) / median(pooled.native[k]) }));
if (o.json) console.log(JSON.stringify({ binaries, rows }));
else {
  console.log(`native: ${JSON.stringify(binaries.native)}\nportable: ${JSON.stringify(binaries.portable)}\n`);
  console.log('| tokens/s | native | portable | portable / native |\n|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.metric} | ${r.native.toFixed(1)} | ${r.portable.toFixed(1)} | ${r.ratio.toFixed(2)} |`);
}
