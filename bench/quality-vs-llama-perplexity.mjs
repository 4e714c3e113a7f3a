#!/usr/bin/env node
// Checks `emosteer quality` (lib/quality: lockstep decoding, per-token reduction in native code)
// against llama.cpp's own llama-perplexity on the same text and the same pair of files: the
// reference (default: Gemma 3 270M Q4_K_M of the registry) and quantized copies of it made by
// emosteer's quantizeModel (default q8_0 and q4_0). llama-perplexity runs twice per candidate:
// `--kl-divergence-base` on the reference writes its logits file, `--kl-divergence` on the
// candidate reads it. Both sides cut the text alike (chunks of --ctx tokens, BOS first, the
// second half scored), with one chunk per decode (-b = -c) and flash attention off.
//
// Tolerances (why: llama-perplexity stores the reference's log-probabilities as 16-bit
// integers over a range of 16 nats and skips tokens below e^-16 in its KL sum; emosteer keeps
// float32 log-probabilities of the whole vocabulary; and llama-perplexity is built for the same
// CPU baseline as the prebuilt addon but is its own binary, so kernels may order sums apart):
//   perplexity (reference and candidate)  relative difference <= 0.1 %
//   mean KL divergence                    relative difference <= 1 % or absolute <= 1e-4
//   same top-1                            difference <= 0.25 percentage points
//   RMS delta-p                           difference <= 0.05 percentage points
// (Measured on Gemma 3 270M, 16 chunks: perplexity equal to 2e-6 relative, mean KL to 0.12 %,
// top-1 and RMS delta-p to the digits llama-perplexity prints: docs/benchmarks.md.)
// The script exits 1 when a figure is outside its tolerance.
//
//   npm run build:ts && node bench/quality-vs-llama-perplexity.mjs [--model <gguf|name>] [--types q8_0,q4_0]
//     [--chunks 16] [--ctx 512] [--threads N] [--llama-perplexity <bin>] [--save]
// --save writes bench/results/quality-vs-llama-perplexity.json. Work files (quantized models,
// the logits file) go to deps/quality-bench/ (ignored).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LLAMA_PERPLEXITY_BIN, buildLlamaPerplexity } from '../scripts/build-llama-perplexity.mjs';
import { resolveModel, resolveThreads } from './parts/util.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    types: { type: 'string', default: 'q8_0,q4_0' },
    chunks: { type: 'string', default: '16' },
    ctx: { type: 'string', default: '512' },
    threads: { type: 'string' },
    'llama-perplexity': { type: 'string' },
    save: { type: 'boolean' },
  },
});
const { loadModel, quantizeModel, versions } = await import('../dist/index.js');
const { compareQuality, defaultCorpusPath, formatQualityTable } = await import('../dist/quality/index.js');

const TOL = { pplRel: 0.001, kldRel: 0.01, kldAbs: 1e-4, sameTopPp: 0.25, rmsDpPp: 0.05 };
const chunks = Number(values.chunks);
const ctx = Number(values.ctx);
const threads = resolveThreads(values.threads);
const work = join(ROOT, 'deps', 'quality-bench');
mkdirSync(work, { recursive: true });
const log = (m) => console.error(`[quality-bench] ${m}`);

const ref = resolveModel(values.model);
const types = values.types.split(',').map((t) => t.trim()).filter(Boolean);
const cands = [];
for (const t of types) {
  const out = join(work, `${basename(ref, '.gguf')}-${t}.gguf`);
  if (!existsSync(out)) {
    log(`quantizing ${basename(ref)} to ${t}`);
    await quantizeModel(ref, { type: t, out, threads });
  }
  cands.push(out);
}

const bin = values['llama-perplexity'] ?? (existsSync(LLAMA_PERPLEXITY_BIN) ? LLAMA_PERPLEXITY_BIN : buildLlamaPerplexity());
const corpus = defaultCorpusPath();
// llama-perplexity's -f drops one trailing '\n' of the file: give emosteer the same string.
let text = readFileSync(corpus, 'utf8');
if (text.endsWith('\n')) text = text.slice(0, -1);

function llama(args) {
  const t0 = performance.now();
  const r = spawnSync(bin, ['-f', corpus, '-c', String(ctx), '-b', String(ctx), '-ub', String(ctx), '--chunks', String(chunks), '-t', String(threads), '-fa', 'off', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} exited with ${r.status}:\n${out.slice(-3000)}`);
  return { out, seconds: (performance.now() - t0) / 1000 };
}
const num = (out, re) => {
  const m = re.exec(out);
  if (!m) throw new Error(`llama-perplexity output has no ${re}`);
  return Number(m[1]);
};

const kldFile = join(work, `${basename(ref, '.gguf')}-c${ctx}-n${chunks}.kld`);
log(`llama-perplexity --kl-divergence-base on ${basename(ref)} (${chunks} chunks of ${ctx}, ${threads} threads)`);
const base = llama(['-m', ref, '--kl-divergence-base', kldFile]);
const llamaRefPpl = num(base.out, /Final estimate: PPL = ([\d.]+)/);
const llamaRuns = [];
for (const c of cands) {
  log(`llama-perplexity --kl-divergence on ${basename(c)}`);
  const r = llama(['-m', c, '--kl-divergence-base', kldFile, '--kl-divergence']);
  llamaRuns.push({
    seconds: r.seconds,
    ppl: num(r.out, /Mean PPL\(Q\)\s*:\s*([\d.]+)/),
    pplBase: num(r.out, /Mean PPL\(base\)\s*:\s*([\d.]+)/),
    kldMean: num(r.out, /Mean\s+KLD:\s*([-\d.]+)/),
    kldMedian: num(r.out, /Median\s+KLD:\s*([-\d.]+)/),
    kldP99: num(r.out, /99\.0%\s+KLD:\s*([-\d.]+)/),
    kldMax: num(r.out, /Maximum KLD:\s*([-\d.]+)/),
    rmsDeltaPPercent: num(r.out, /RMS Δp\s*:\s*([-\d.]+)/),
    sameTopPercent: num(r.out, /Same top p:\s*([-\d.]+)/),
  });
}

log(`emosteer quality on the same files and text (${threads} threads)`);
const models = [await loadModel(ref), ...(await Promise.all(cands.map((c) => loadModel(c))))];
const t0 = performance.now();
const report = await compareQuality(models[0], models.slice(1), { text, textName: 'alice29', contextSize: ctx, chunks, threads, speed: false, resamples: 1000 });
const oursSeconds = (performance.now() - t0) / 1000;
for (const m of models) m.dispose();
console.log(formatQualityTable(report));

const rows = [];
const checks = [];
const rel = (a, b) => Math.abs(a - b) / Math.abs(b);
checks.push({ what: `reference perplexity`, emosteer: report.reference.perplexity.value, llama: llamaRefPpl, ok: rel(report.reference.perplexity.value, llamaRefPpl) <= TOL.pplRel });
report.candidates.forEach((c, i) => {
  const l = llamaRuns[i];
  const name = types[i];
  rows.push({ type: name, file: basename(cands[i]), emosteer: { ppl: c.perplexity.value, kldMean: c.kld.mean.value, kldMedian: c.kld.median.value, kldP99: c.kld.p99.value, kldMax: c.kld.max, rmsDeltaPPercent: 100 * c.rmsDeltaP.value, sameTopPercent: c.sameTopPercent.value }, llama: l });
  checks.push({ what: `${name} perplexity`, emosteer: c.perplexity.value, llama: l.ppl, ok: rel(c.perplexity.value, l.ppl) <= TOL.pplRel });
  const dk = Math.abs(c.kld.mean.value - l.kldMean);
  checks.push({ what: `${name} mean KLD`, emosteer: c.kld.mean.value, llama: l.kldMean, ok: dk <= TOL.kldAbs || dk / l.kldMean <= TOL.kldRel });
  checks.push({ what: `${name} same top-1 %`, emosteer: c.sameTopPercent.value, llama: l.sameTopPercent, ok: Math.abs(c.sameTopPercent.value - l.sameTopPercent) <= TOL.sameTopPp });
  checks.push({ what: `${name} RMS delta-p %`, emosteer: 100 * c.rmsDeltaP.value, llama: l.rmsDeltaPPercent, ok: Math.abs(100 * c.rmsDeltaP.value - l.rmsDeltaPPercent) <= TOL.rmsDpPp });
});

console.log('\n| figure | emosteer quality | llama-perplexity | difference | within tolerance |');
console.log('| --- | ---: | ---: | ---: | --- |');
for (const c of checks) {
  const d = c.emosteer - c.llama;
  console.log(`| ${c.what} | ${c.emosteer.toPrecision(6)} | ${c.llama.toPrecision(6)} | ${d >= 0 ? '+' : ''}${d.toPrecision(3)} (${((100 * d) / c.llama).toFixed(3)} %) | ${c.ok ? 'yes' : '**no**'} |`);
}
console.log(`\nwall time: llama-perplexity ${(base.seconds + llamaRuns.reduce((s, r) => s + r.seconds, 0)).toFixed(1)} s (base + ${cands.length} runs), emosteer ${oursSeconds.toFixed(1)} s (${1 + cands.length} models in lockstep)`);

const result = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, loadavg: loadavg(), node: process.version },
  llamaCpp: versions().llamaCppCommit,
  reference: basename(ref),
  chunks, ctx, threads, tolerances: TOL,
  llamaPerplexity: { bin, referencePerplexity: llamaRefPpl, seconds: base.seconds + llamaRuns.reduce((s, r) => s + r.seconds, 0) },
  emosteerSeconds: oursSeconds,
  rows, checks, report,
};
if (values.save) {
  const out = join(ROOT, 'bench', 'results', 'quality-vs-llama-perplexity.json');
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${out}`);
}
process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
