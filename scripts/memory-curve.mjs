#!/usr/bin/env node
/**
 * Memory over long runs (against dist/, synthetic models): the resident set size (RSS) after a
 * warm-up and at the end of
 *   - 500 context create/dispose cycles,
 *   - 50 model load/dispose cycles,
 *   - a 20,000-token generation with capture of one block (and, as its control, 10 generations
 *     of 2,000 tokens that each start afresh on a small context),
 *   - 2,000 requests to `emosteer serve` (createServer, 127.0.0.1, port 0, two clients at once),
 * each in a fresh child process (node --expose-gc: RSS is read after a full GC), and whether
 * it stayed within 5% of the warm-up value (grew by at most 5%; a drop counts as flat).
 *
 *   node scripts/memory-curve.mjs [--json] [--markdown] [--only contexts,models,generation,generation-chunks,server] [--scale 1]
 *
 * `--scale 0.1` runs a tenth of every count (for tests). `--markdown` writes the table into
 * docs/reliability.md (between the memory markers). Exit code 0 when every phase stayed within 5%.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const LIMIT = 0.05;

const MiB = 1024 * 1024;
function rss() {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().rss;
}
/** V8's committed heap (it grows its young generation with the allocation rate, then levels off). */
const heapTotal = () => process.memoryUsage().heapTotal;

/** Runs `n` steps of `step`, sampling RSS `samples` times; the first `warm` steps are warm-up. */
async function curve(warm, n, step, samples = 10) {
  for (let i = 0; i < warm; i++) await step(i);
  const warmRss = rss();
  const series = [{ at: 0, rss: warmRss, heap: heapTotal() }];
  const every = Math.max(1, Math.floor(n / samples));
  for (let i = 0; i < n; i++) {
    await step(warm + i);
    if ((i + 1) % every === 0 || i === n - 1) series.push({ at: i + 1, rss: rss(), heap: heapTotal() });
  }
  return { warmRss, endRss: series.at(-1).rss, peakRss: Math.max(...series.map((s) => s.rss)), series };
}

const PHASES = {
  async contexts(scale, dir) {
    const { loadModel } = await dist('runtime/model.js');
    const { writeSyntheticModel } = await dist('synth/synthetic-model.js');
    const path = join(dir, 'm.gguf');
    await writeSyntheticModel({ out: path, layers: 4, embd: 64, seed: 7 });
    const model = await loadModel(path);
    const n = Math.round(500 * scale);
    const r = await curve(Math.max(5, Math.round(250 * scale)), n, async () => {
      const ctx = await model.createContext({ contextSize: 256, threads: 1 });
      await ctx.evaluate([1, 40, 41, 42], { logits: true });
      await ctx.dispose();
    });
    model.dispose();
    return { what: `${n} context create / evaluate 4 tokens / dispose cycles (after ${Math.max(5, Math.round(250 * scale))} warm-up cycles)`, count: n, ...r };
  },
  async models(scale, dir) {
    const { loadModel } = await dist('runtime/model.js');
    const { writeSyntheticModel } = await dist('synth/synthetic-model.js');
    const path = join(dir, 'm.gguf');
    await writeSyntheticModel({ out: path, layers: 4, embd: 64, seed: 7 });
    const n = Math.max(5, Math.round(50 * scale));
    const warm = Math.max(5, Math.round(100 * scale));
    const r = await curve(warm, n, async () => {
      const model = await loadModel(path);
      const ctx = await model.createContext({ contextSize: 128, threads: 1 });
      await ctx.evaluate([1, 40], { logits: true });
      await ctx.dispose();
      model.dispose();
    });
    return { what: `${n} model load / context / dispose cycles (after ${warm} warm-up cycles)`, count: n, ...r };
  },
  async generation(scale, dir) {
    const { loadModel } = await dist('runtime/model.js');
    const { writeSyntheticModel } = await dist('synth/synthetic-model.js');
    const path = join(dir, 'm.gguf');
    await writeSyntheticModel({ out: path, layers: 2, embd: 32, seed: 7, ctx: 32768 });
    const model = await loadModel(path);
    const total = Math.round(20_000 * scale);
    const ctx = await model.createContext({ contextSize: total + 64, threads: 1 });
    // warm-up: one whole generation of the same length (fills the KV cache's pages once)
    for await (const _ of ctx.generate('Once upon a time', { maxTokens: total, stopOnEog: false, temperature: 0.8, seed: 0, capture: { layers: [1] } })) { /* warm-up */ }
    const warmRss = rss();
    const series = [{ at: 0, rss: warmRss, heap: heapTotal() }];
    let tokens = 0;
    let captured = 0;
    const t0 = performance.now();
    for await (const t of ctx.generate('Once upon a time', { maxTokens: total, stopOnEog: false, temperature: 0.8, seed: 1, capture: { layers: [1] } })) {
      tokens++;
      if (t.activations?.get(1).length === 32) captured++;
      if (tokens % Math.max(1, Math.floor(total / 10)) === 0) series.push({ at: tokens, rss: rss(), heap: heapTotal() });
    }
    const seconds = (performance.now() - t0) / 1000;
    const endRss = rss();
    // the KV cache is allocated up front but its pages become resident as it fills
    const kvBytes = 2 * 2 * 32 * 2 * (total + 64);
    await ctx.dispose();
    model.dispose();
    return { what: `one ${tokens}-token generation capturing block 1 (${captured} tokens with activations; ${Math.round(tokens / seconds)} tok/s), after a warm-up generation as long`, count: tokens, warmRss, endRss, peakRss: Math.max(...series.map((s) => s.rss)), series, note: `KV cache (F16, filled as it goes): ${(kvBytes / MiB).toFixed(1)} MiB` };
  },
  async 'generation-chunks'(scale, dir) {
    // the control for 'generation': as many tokens, in 10 generations that each start afresh on a
    // small context, so the KV cache and attention buffers stay the same size throughout
    const { loadModel } = await dist('runtime/model.js');
    const { writeSyntheticModel } = await dist('synth/synthetic-model.js');
    const path = join(dir, 'm.gguf');
    await writeSyntheticModel({ out: path, layers: 2, embd: 32, seed: 7, ctx: 32768 });
    const model = await loadModel(path);
    const chunk = Math.round(2000 * scale);
    const ctx = await model.createContext({ contextSize: chunk + 64, threads: 1 });
    let tokens = 0;
    // warm-up as long as the measured part (20,000 tokens), as for the single generation: V8 sizes its
    // young generation by the allocation rate during the first ~20,000 tokens (heapTotal 21 -> 38 MiB)
    const r = await curve(10, 10, async (i) => {
      for await (const t of ctx.generate('Once upon a time', { maxTokens: chunk, stopOnEog: false, temperature: 0.8, seed: i, capture: { layers: [1] } })) if (t.activations) tokens++;
    });
    await ctx.dispose();
    model.dispose();
    return { what: `10 generations of ${chunk} tokens capturing block 1, each afresh on a ${chunk + 64}-token context (after 10 warm-up generations)`, count: tokens, ...r, series: r.series.map((x) => ({ ...x, at: x.at * chunk })) };
  },
  async server(scale, dir) {
    const { loadModel } = await dist('runtime/model.js');
    const { writeSyntheticModel } = await dist('synth/synthetic-model.js');
    const { createServer } = await dist('server/server.js');
    const path = join(dir, 'm.gguf');
    await writeSyntheticModel({ out: path, layers: 4, embd: 64, seed: 7 });
    const model = await loadModel(path);
    const server = await createServer(model, { parallel: 2, contextPerRequest: 256, threads: 1 });
    const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    let failures = 0;
    const request = async (i) => {
      const chat = i % 2 === 0;
      const res = await fetch(`${url}/v1/${chat ? 'chat/completions' : 'completions'}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...(chat ? { messages: [{ role: 'user', content: `Hello number ${i}` }] } : { prompt: `Story ${i}:` }), max_tokens: 4, temperature: 0.7, seed: i }),
      });
      await res.arrayBuffer();
      if (res.status !== 200) failures++;
    };
    const n = Math.round(2000 * scale);
    // two clients at once: each step sends two requests
    const r = await curve(Math.max(10, Math.round(250 * scale)), Math.ceil(n / 2), async (i) => { await Promise.all([request(2 * i), request(2 * i + 1)]); });
    await server.close();
    model.dispose();
    return { what: `${n} HTTP requests (chat and text completions, 4 tokens, 2 clients; after ${2 * Math.max(10, Math.round(250 * scale))} warm-up requests)`, count: n, ...r, series: r.series.map((s) => ({ ...s, at: s.at * 2 })), failures };
  },
};

function runPhase(name, scale) {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, ['--expose-gc', SELF, '--phase', name, '--scale', String(scale)], { cwd: ROOT, env: { ...process.env, EMOSTEER_THREADS: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('close', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith('PHASE '));
      if (!line) rej(new Error(`phase ${name} ended with ${signal ?? code} and no result`));
      else res({ name, ...JSON.parse(line.slice(6)), exit: code, signal });
    });
  });
}

const BEGIN = '<!-- memory:begin (generated by node scripts/memory-curve.mjs --markdown) -->';
const END = '<!-- memory:end -->';

function writeMarkdown(results) {
  const path = join(ROOT, 'docs/reliability.md');
  const m = (b) => (b / MiB).toFixed(1);
  const lines = [
    BEGIN,
    '',
    '| run | RSS after warm-up | RSS at the end | peak | change | last half, per step | grew at most 5% |',
    '|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.what}${r.note ? ` (${r.note})` : ''}${r.failures ? `, ${r.failures} failed requests` : ''} | ${m(r.warmRss)} MiB | ${m(r.endRss)} MiB | ${m(r.peakRss)} MiB | ${(100 * r.change).toFixed(1)}% | ${r.lastHalfKiBPerStep.toFixed(2)} KiB | ${r.within ? 'yes' : '**no**'} |`),
    '',
    'RSS over each run, sampled after a full GC, with V8\'s committed heap in brackets (MiB; step: RSS [heap]):',
    '',
    ...results.map((r) => `- ${r.name}: ${r.series.map((s) => `${s.at}: ${m(s.rss)} [${m(s.heap)}]`).join(', ')}`),
    '',
    END,
  ];
  let text = existsSync(path) ? readFileSync(path, 'utf8') : '# Reliability\n';
  const a = text.indexOf(BEGIN.slice(0, 20));
  const b = text.indexOf(END);
  const block = lines.join('\n');
  text = a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + END.length) : `${text.trimEnd()}\n\n## Memory\n\n\`node scripts/memory-curve.mjs --markdown\`: synthetic models, each run in a fresh process (\`node --expose-gc\`, \`EMOSTEER_THREADS=1\`).\n\n${block}\n`;
  writeFileSync(path, text);
}

const { values } = parseArgs({ args: process.argv.slice(2), options: { phase: { type: 'string' }, scale: { type: 'string', default: '1' }, json: { type: 'boolean' }, markdown: { type: 'boolean' }, only: { type: 'string' } } });
const scale = Number(values.scale);
if (values.phase) {
  const dir = mkdtempSync(join(tmpdir(), 'emosteer-memory-'));
  try {
    const r = await PHASES[values.phase](scale, dir);
    process.stdout.write(`PHASE ${JSON.stringify(r)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  const names = values.only ? values.only.split(',') : Object.keys(PHASES);
  const results = [];
  for (const name of names) {
    const r = await runPhase(name, scale);
    r.change = (r.endRss - r.warmRss) / r.warmRss;
    // growth over the last half of the run, per step: a leak keeps growing, a warming allocator levels off
    const half = r.series.filter((x) => x.at >= r.series.at(-1).at / 2);
    r.lastHalfKiBPerStep = half.length > 1 ? ((half.at(-1).rss - half[0].rss) / 1024) / Math.max(1, half.at(-1).at - half[0].at) : 0;
    // flat = no growth beyond 5% over the warm-up value (a drop is memory handed back, not a leak)
    r.within = r.change <= LIMIT && !r.failures;
    results.push(r);
    if (!values.json) process.stderr.write(`${name}: ${r.what}: RSS ${(r.warmRss / MiB).toFixed(1)} -> ${(r.endRss / MiB).toFixed(1)} MiB (${(100 * r.change).toFixed(1)}%, peak ${(r.peakRss / MiB).toFixed(1)}, last half ${r.lastHalfKiBPerStep.toFixed(2)} KiB/step)${r.within ? '' : '  OVER 5%'}\n`);
  }
  if (values.json) process.stdout.write(`${JSON.stringify(results, null, 1)}\n`);
  if (values.markdown) writeMarkdown(results);
  process.exitCode = results.every((r) => r.within) ? 0 : 1;
}
