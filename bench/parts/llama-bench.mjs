#!/usr/bin/env node
// Bench part: llama.cpp's own llama-bench (built from the same pinned source by
// scripts/build-llama-bench.mjs) on the same model, threads and batch sizes as the emosteer
// parts, flash attention off as in emosteer's default:
//   llama-bench -m <gguf> -p <pp> -n <tg> -t <threads> -r <reps> -b <batch> -ub <batch> -fa 0 -o json
// Returns every repetition's tokens/s for pp and tg, and llama-bench's peak RSS (VmHWM from
// /proc, sampled while it runs; Linux only, null elsewhere).
//
//   node bench/parts/llama-bench.mjs [--bin <path>] [--model <gguf>] [--pp 128] [--tg 64] [--reps 5] [--threads N] [--batch 512]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LLAMA_BENCH_BIN } from '../../scripts/build-llama-bench.mjs';
import { emit, llamaBenchGpuLayers, median, MODEL_OPTIONS, resolveGpuLayers, resolveModel, resolveThreads, SPEED_OPTIONS } from './util.mjs';

const { values } = parseArgs({
  options: {
    bin: { type: 'string' },
    ...MODEL_OPTIONS,
    ...SPEED_OPTIONS,
  },
});
const bin = values.bin ?? LLAMA_BENCH_BIN;
const modelPath = resolveModel(values.model);
const threads = resolveThreads(values.threads);
const args = ['-m', modelPath, '-p', values.pp, '-n', values.tg, '-t', String(threads), '-r', values.reps, '-b', values.batch, '-ub', values.batch, '-fa', '0', '-ngl', String(llamaBenchGpuLayers(resolveGpuLayers(values['gpu-layers']))), '-o', 'json'];

function vmHwmKiB(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const { out, peakKiB } = await new Promise((res, rej) => {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let peakKiB = null;
  const sample = () => { const v = vmHwmKiB(child.pid); if (v !== null) peakKiB = Math.max(peakKiB ?? 0, v); };
  const timer = setInterval(sample, 20);
  child.stdout.on('data', (d) => { out += d; sample(); });
  child.stderr.on('data', (d) => { err += d; });
  child.on('error', (e) => { clearInterval(timer); rej(e); });
  child.on('exit', () => sample());
  child.on('close', (code) => {
    clearInterval(timer);
    if (code !== 0) rej(new Error(`${bin} ${args.join(' ')} exited with ${code}:\n${err.slice(-3000)}`));
    else res({ out, peakKiB });
  });
});
const tests = JSON.parse(out);
const pick = (pred) => {
  const t = tests.find(pred);
  if (!t) throw new Error('llama-bench printed no result for one of its tests');
  return t;
};
const pp = pick((t) => t.n_prompt > 0 && t.n_gen === 0);
const tg = pick((t) => t.n_gen > 0 && t.n_prompt === 0);
emit({
  part: 'llama-bench',
  bin,
  args,
  buildCommit: pp.build_commit,
  model: pp.model_type,
  threads: pp.n_threads,
  flashAttention: pp.flash_attn,
  nBatch: pp.n_batch,
  nUbatch: pp.n_ubatch,
  typeK: pp.type_k,
  typeV: pp.type_v,
  samples: { pp: pp.samples_ts, tg: tg.samples_ts },
  tokensPerSecond: { pp: median(pp.samples_ts), tg: median(tg.samples_ts) },
  llamaBenchPeakRssMiB: peakKiB === null ? null : +(peakKiB / 1024).toFixed(1),
});
