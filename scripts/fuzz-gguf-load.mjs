#!/usr/bin/env node
/**
 * Fuzzes model loading: mutants of a small synthetic llama GGUF (truncations, bit flips, huge
 * counts and string lengths, wrong value and tensor types, changed hyper-parameters and tensor
 * dimensions, tensor offsets past the end; test/fuzz/gguf-mutate.mjs) are handed to `loadModel`
 * (against dist/), and each one that loads is given a context and a 3-token decode.
 *
 * Mutants run in batches in child processes (at most 2 at once, EMOSTEER_THREADS=1). A child
 * prints `BEGIN i` before and `END i outcome` after mutant i, so a crash (a signal, or an exit
 * mid-batch) or a hang (the child's timeout) is attributed to the mutant that was running; the
 * rest of its batch then runs in a fresh child. Crashing mutants are saved with `--save <dir>`.
 *
 *   node scripts/fuzz-gguf-load.mjs [--cases 2000] [--seed 1] [--type f32|f16|q8_0|q4_0] [--batch 100] [--parallel 2] [--json] [--save dir]
 *
 * Exit code 0 when no mutant crashed, hung or threw anything but an EmosteerError; 1 otherwise.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const { ggufFields, mutant } = await import(pathToFileURL(join(ROOT, 'test/fuzz/gguf-mutate.mjs')).href);

async function child(base, seed, start, end) {
  const [{ loadModel }, { EmosteerError }] = await Promise.all([dist('runtime/model.js'), dist('errors.js')]);
  const bytes = readFileSync(base);
  const map = ggufFields(bytes);
  const file = join(dirname(base), `mutant-${process.pid}.gguf`);
  for (let i = start; i < end; i++) {
    writeFileSync(file, mutant(bytes, map, seed, i).bytes);
    writeSync(1, `BEGIN ${i}\n`);
    let outcome;
    let model;
    try {
      model = await loadModel(file);
      const ctx = await model.createContext({ contextSize: 64, threads: 1 });
      try {
        await ctx.evaluate([1, 40, 41], { logits: true });
        outcome = 'loaded+decoded';
      } finally {
        await ctx.dispose();
      }
    } catch (e) {
      outcome = e instanceof EmosteerError ? e.code : `untyped:${e?.name}:${String(e?.message).slice(0, 120).replace(/\s+/g, ' ')}`;
    } finally {
      model?.dispose();
    }
    writeSync(1, `END ${i} ${outcome}\n`);
  }
  rmSync(file, { force: true });
}

function runBatch(base, seed, start, end, timeoutMs) {
  return new Promise((res) => {
    const p = spawn(process.execPath, [SELF, '--child', base, String(seed), String(start), String(end)], { cwd: ROOT, env: { ...process.env, EMOSTEER_THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; try { process.kill(-p.pid, 'SIGKILL'); } catch { p.kill('SIGKILL'); } }, timeoutMs);
    p.on('close', (code, signal) => { clearTimeout(timer); res({ out, err, code, signal, timedOut }); });
  });
}

async function parent(opts) {
  const { writeSyntheticModel } = await dist('synth/synthetic-model.js');
  const dir = mkdtempSync(join(tmpdir(), 'emosteer-fuzz-load-'));
  const t0 = Date.now();
  try {
    const base = join(dir, 'base.gguf');
    await writeSyntheticModel({ out: base, layers: 2, embd: 32, seed: 3, type: opts.type });
    const bytes = readFileSync(base);
    const map = ggufFields(bytes);
    const outcomes = {};
    const crashes = [];
    const untyped = [];
    const queue = [];
    for (let s = 0; s < opts.cases; s += opts.batch) queue.push([s, Math.min(opts.cases, s + opts.batch)]);
    let ran = 0;
    const worker = async () => {
      while (queue.length) {
        const [start, end] = queue.shift();
        const r = await runBatch(base, opts.seed, start, end, 120_000);
        let last = start - 1;
        let begun = -1;
        for (const line of r.out.split('\n')) {
          const m = /^(BEGIN|END) (\d+)(?: (.*))?$/.exec(line);
          if (!m) continue;
          const i = Number(m[2]);
          if (m[1] === 'BEGIN') { begun = i; continue; }
          last = i;
          ran++;
          outcomes[m[3].startsWith('untyped:') ? 'untyped' : m[3]] = (outcomes[m[3].startsWith('untyped:') ? 'untyped' : m[3]] ?? 0) + 1;
          if (m[3].startsWith('untyped:')) untyped.push({ index: i, how: mutant(bytes, map, opts.seed, i).how, error: m[3] });
        }
        if (last < end - 1) {
          // the child died or hung before finishing its batch
          const culprit = begun > last ? begun : last + 1;
          const { how, bytes: mb } = mutant(bytes, map, opts.seed, culprit);
          ran++;
          const kind = r.timedOut ? 'hang' : r.signal ? `signal ${r.signal}` : `exit ${r.code}`;
          outcomes[kind] = (outcomes[kind] ?? 0) + 1;
          const entry = { index: culprit, how, kind, stderr: r.err.trim().split('\n').slice(-5).join('\n') };
          if (opts.save) { mkdirSync(opts.save, { recursive: true }); entry.saved = join(opts.save, `mutant-${opts.seed}-${culprit}.gguf`); writeFileSync(entry.saved, mb); }
          crashes.push(entry);
          if (!opts.json) process.stderr.write(`CRASH mutant ${culprit} (${how}): ${kind}\n${entry.stderr}\n`);
          if (culprit + 1 < end) queue.unshift([culprit + 1, end]);
        }
        if (!opts.json) process.stderr.write(`[fuzz] ${ran}/${opts.cases}\r`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(2, opts.parallel)) }, worker));
    const summary = { cases: ran, seed: opts.seed, type: opts.type, baseBytes: bytes.length, headerFields: map.fields.length, outcomes, crashes, untyped, seconds: Math.round((Date.now() - t0) / 100) / 10 };
    if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 1)}\n`);
    else process.stderr.write(`\n${ran} mutants in ${summary.seconds} s: ${Object.entries(outcomes).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}; ${crashes.length} crashed or hung, ${untyped.length} untyped errors\n`);
    return crashes.length === 0 && untyped.length === 0 && ran === opts.cases ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  child(argv[1], Number(argv[2]), Number(argv[3]), Number(argv[4])).catch((e) => { process.stderr.write(`${e?.stack ?? e}\n`); process.exitCode = 3; });
} else {
  const { values } = parseArgs({ args: argv, options: { cases: { type: 'string', default: '2000' }, seed: { type: 'string', default: '1' }, batch: { type: 'string', default: '100' }, parallel: { type: 'string', default: '2' }, json: { type: 'boolean' }, save: { type: 'string' }, type: { type: 'string', default: 'f32' } } });
  parent({ cases: Number(values.cases), seed: Number(values.seed), batch: Number(values.batch), parallel: Number(values.parallel), json: values.json, save: values.save, type: values.type }).then((c) => { process.exitCode = c; });
}
