#!/usr/bin/env node
// `npm run bench`: every benchmark of emosteer on one model (default Gemma 3 270M) in ONE run,
// with the same model, threads and batch sizes throughout, as a table of numbers, ratios and
// targets (met / missed).
//
// Each part runs in its own process (bench/parts/*.mjs), so that each has its own peak RSS;
// the parts are repeated `--rounds` times, interleaved (the order rotates every round), and
// every number is the median of all repetitions of all rounds (bandwidth: the best).
//   core          pp tokens/s plain and with all-block last-token capture; tg tokens/s plain,
//                 steered on every steerable block, and with the emotion meter on
//   llama-bench   llama.cpp's own llama-bench from the same pinned source, -fa 0; only when
//                 deps/llama-bench-build/bin/llama-bench exists or --build-llama-bench is given
//   batched       generateBatch tokens/s with 1, 4, 8, 16 sequences in one batch
//   extraction    the default comprehension protocol, and a generation subset, end to end
//   bandwidth     memory bandwidth now, against tg x bytes read per token (the tensor bytes)
//   pytorch       with --pytorch: the comprehension extraction in PyTorch (bench/pytorch.mjs),
//                 wall-time ratio and per-block cosine of the vectors; after the rounds, one
//                 model load and --pytorch-reps extractions (median), compared with the median
//                 of the rounds' emosteer extractions
//
//   npm run bench -- [--model <gguf>] [--threads N] [--pp 128] [--tg 64] [--reps 5] [--rounds 3]
//                    [--batch 512] [--sequences 1,4,8,16] [--batched-reps 2] [--no-extraction]
//                    [--build-llama-bench | --llama-bench <bin>] [--gpu-layers N|max] [--no-bandwidth]
//                    [--pytorch] [--pytorch-reps 3] [--json] [--save] [--out <file.json>]
//                    [--parts core,llama-bench,batched,extraction-comprehension,extraction-generation,bandwidth]
// `npm run bench:core` is `--parts core --rounds 1`: the hook costs alone.
// --gpu-layers is passed to every part (loadModel's gpuLayers, llama-bench's -ngl; default: all,
// which on a CPU build means none). --llama-bench names a llama-bench binary to use instead of
// deps/llama-bench-build (e.g. the one scripts/cuda-bench.sh builds in the addon's own tree).
// --save also writes the JSON to bench/results/latest.json; --from-json <file> prints the table of
// a saved result again without measuring.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { versions } from '../dist/index.js';
import { buildLlamaBench, LLAMA_BENCH_BIN } from '../scripts/build-llama-bench.mjs';
import { median, resolveModel, resolveThreads, runJson } from './parts/util.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The error line of a part's output (and its emosteer code), without the stack trace. */
function failureLine(message) {
  const lines = String(message).split('\n');
  const err = lines.find((l) => /^\w*Error: /.test(l));
  const code = /code: '([A-Z_]+)'/.exec(message)?.[1];
  return err ? `${err}${code ? ` [${code}]` : ''}` : lines[0];
}
const { values } = parseArgs({
  options: {
    model: { type: 'string', short: 'm' },
    threads: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    pp: { type: 'string', default: '128' },
    tg: { type: 'string', default: '64' },
    reps: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '512' },
    sequences: { type: 'string', default: '1,4,8,16' },
    'batched-reps': { type: 'string', default: '2' },
    'no-extraction': { type: 'boolean', default: false },
    'build-llama-bench': { type: 'boolean', default: false },
    'llama-bench': { type: 'string' },
    'no-llama-bench': { type: 'boolean', default: false },
    'gpu-layers': { type: 'string' },
    'no-bandwidth': { type: 'boolean', default: false },
    parts: { type: 'string' },
    out: { type: 'string' },
    pytorch: { type: 'boolean', default: false },
    'pytorch-reps': { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    save: { type: 'boolean', default: false },
    'from-json': { type: 'string' },
  },
});
const log = (m) => console.error(`[bench] ${m}`);
const PART_NAMES = ['core', 'llama-bench', 'batched', 'extraction-comprehension', 'extraction-generation', 'bandwidth'];
const onlyParts = values.parts?.split(',');
if (onlyParts?.some((p) => !PART_NAMES.includes(p))) {
  console.error(`--parts takes ${PART_NAMES.join(', ')}; got ${values.parts}`);
  process.exit(2);
}
if (values.help) {
  const { BENCH_USAGE } = await import('../dist/cli/bench.js');
  console.log(BENCH_USAGE.replace('emosteer bench', 'npm run bench --'));
  process.exit(0);
}

async function measure() {
  const modelPath = resolveModel(values.model);
  const threads = resolveThreads(values.threads);
  const ROUNDS = Number(values.rounds);
  const common = ['--model', modelPath, '--threads', String(threads), ...(values['gpu-layers'] ? ['--gpu-layers', values['gpu-layers']] : [])];
  const load = { start: loadavg().map((x) => +x.toFixed(2)) };
  const t0 = performance.now();

  let llamaBenchBin = values['no-llama-bench'] ? null : values['llama-bench'] ?? (existsSync(LLAMA_BENCH_BIN) ? LLAMA_BENCH_BIN : null);
  const failures = [];
  if (values['build-llama-bench'] && !values['no-llama-bench']) {
    try {
      llamaBenchBin = buildLlamaBench();
    } catch (e) {
      failures.push({ part: 'build-llama-bench', error: e.message });
      log(`could not build llama-bench: ${e.message}`);
    }
  }

  // The extraction of the last round is kept for the PyTorch comparison.
  const extractionDir = values.pytorch && !values['no-extraction'] ? mkdtempSync(join(tmpdir(), 'emosteer-bench-')) : null;
  const parts = [
    { name: 'core', args: () => ['bench/parts/core.mjs', ...common, '--pp', values.pp, '--tg', values.tg, '--reps', values.reps, '--batch', values.batch] },
    llamaBenchBin && { name: 'llama-bench', args: () => ['bench/parts/llama-bench.mjs', ...common, '--bin', llamaBenchBin, '--pp', values.pp, '--tg', values.tg, '--reps', values.reps, '--batch', values.batch] },
    { name: 'batched', args: () => ['bench/parts/batched.mjs', ...common, '--tg', values.tg, '--reps', values['batched-reps'], '--sequences', values.sequences, '--batch', values.batch] },
    !values['no-extraction'] && { name: 'extraction-comprehension', args: (round) => ['bench/parts/extraction.mjs', ...common, '--method', 'comprehension', ...(extractionDir && round === ROUNDS - 1 ? ['--out', extractionDir] : [])] },
    !values['no-extraction'] && { name: 'extraction-generation', args: () => ['bench/parts/extraction.mjs', ...common, '--method', 'generation'] },
    !values['no-bandwidth'] && { name: 'bandwidth', args: () => ['bench/parts/bandwidth.mjs', '--threads', String(threads)] },
  ].filter(Boolean).filter((p) => !onlyParts || onlyParts.includes(p.name));

  // every part's list exists (empty when skipped), so the aggregation below needs no guards
  const results = Object.fromEntries(PART_NAMES.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < parts.length; k++) {
      const part = parts[(k + round) % parts.length];
      log(`round ${round + 1}/${ROUNDS}: ${part.name}`);
      try {
        results[part.name].push(await runJson(process.execPath, part.args(round), { cwd: root }));
      } catch (e) {
        failures.push({ part: part.name, round, error: e.message });
        log(`${part.name} failed: ${failureLine(e.message)}`);
      }
    }
  }
  load.afterRounds = loadavg().map((x) => +x.toFixed(2));

  // ---- aggregate ----
  const pooled = (runs, get) => median(runs.flatMap(get));
  const maxOf = (runs, get) => (runs.length ? Math.max(...runs.map(get)) : null);
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null);
  const core = results.core;
  const coreTps = (k) => (core.length && core[0].samples[k] ? pooled(core, (r) => r.samples[k]) : null);
  const pp = { plain: coreTps('pp_plain'), capture: coreTps('pp_capture'), captureAllTokens: coreTps('pp_capture_tokens'), noHooks: coreTps('pp_nohooks') };
  const tg = { plain: coreTps('tg_plain'), steered: coreTps('tg_steered'), meter: coreTps('tg_meter'), capture: coreTps('tg_capture'), noHooks: coreTps('tg_nohooks') };
  const lb = results['llama-bench'] ?? [];
  const llamaBench = lb.length ? { pp: pooled(lb, (r) => r.samples.pp), tg: pooled(lb, (r) => r.samples.tg), buildCommit: lb[0].buildCommit, args: lb[0].args } : null;
  const counts = values.sequences.split(',').map(Number);
  const batchedRuns = results.batched;
  const batched = batchedRuns.length
    ? counts.map((n) => ({ sequences: n, tokensPerSecond: pooled(batchedRuns, (r) => r.results.find((x) => x.sequences === n)?.samples ?? []) }))
    : [];
  const bps = (n) => batched.find((b) => b.sequences === n)?.tokensPerSecond ?? null;
  const extractionOf = (name) => {
    const runs = results[name] ?? [];
    if (!runs.length) return null;
    const med = (k) => median(runs.map((r) => r[k]));
    return { samples: runs[0].samples, params: runs[0].params, seconds: med('seconds'), tokens: runs[0].tokens, tokensPerSecond: med('tokensPerSecond'), wallSeconds: med('wallSeconds'), loadSeconds: med('loadSeconds'), runs: runs.length };
  };
  const extraction = { comprehension: extractionOf('extraction-comprehension'), generation: extractionOf('extraction-generation') };
  const bw = results.bandwidth ?? [];
  const tensorBytes = core[0]?.tensorBytes ?? null;
  const bandwidth = bw.length
    ? (() => {
        const gb = { copy: maxOf(bw, (r) => r.gbPerSecond.copy), read1: maxOf(bw, (r) => r.gbPerSecond.read1), read: maxOf(bw, (r) => r.gbPerSecond.read) };
        const best = Math.max(gb.read, gb.read1);
        const tgLimit = tensorBytes ? (best * 1e9) / tensorBytes : null;
        return {
          gbPerSecond: gb,
          bytesPerToken: tensorBytes,
          tgLimitTokensPerSecond: tgLimit,
          tgPlainOverLimit: ratio(tg.plain, tgLimit),
          llamaBenchTgOverLimit: llamaBench ? ratio(llamaBench.tg, tgLimit) : null,
          // bandwidth that plain tg actually uses: tokens/s x bytes read per token
          tgPlainGbPerSecond: tensorBytes && tg.plain ? (tg.plain * tensorBytes) / 1e9 : null,
        };
      })()
    : null;
  const rssOf = (name, key = 'peakRssMiB') => maxOf(results[name] ?? [], (r) => r[key]);
  const rss = {
    core: rssOf('core'),
    batched: rssOf('batched'),
    extractionComprehension: rssOf('extraction-comprehension'),
    extractionGeneration: rssOf('extraction-generation'),
    llamaBench: rssOf('llama-bench', 'llamaBenchPeakRssMiB'),
    bandwidth: rssOf('bandwidth'),
  };

  let pytorch = null;
  if (values.pytorch) {
    if (!extraction.comprehension || !extractionDir || !existsSync(join(extractionDir, 'passages.json'))) {
      failures.push({ part: 'pytorch', error: 'no emosteer comprehension extraction to compare with (it failed, or --no-extraction was given)' });
    } else {
      log('PyTorch comparison');
      try {
        const { comparePytorch } = await import('./pytorch.mjs');
        pytorch = await comparePytorch({ dir: extractionDir, modelPath, threads, emosteer: extraction.comprehension, reps: Number(values['pytorch-reps']) });
        rss.pytorch = pytorch.pytorch.peakRssMiB;
      } catch (e) {
        failures.push({ part: 'pytorch', error: e.message });
        log(`PyTorch comparison failed: ${e.message}`);
      }
    }
  }
  if (extractionDir) rmSync(extractionDir, { recursive: true, force: true });
  load.end = loadavg().map((x) => +x.toFixed(2));

  const ratios = {
    captureOverPlainPp: ratio(pp.capture, pp.plain),
    steeredOverPlainTg: ratio(tg.steered, tg.plain),
    meterOverPlainTg: ratio(tg.meter, tg.plain),
    plainOverNoHooksPp: ratio(pp.plain, pp.noHooks),
    plainOverNoHooksTg: ratio(tg.plain, tg.noHooks),
    noHooksOverLlamaBenchTg: llamaBench ? ratio(tg.noHooks, llamaBench.tg) : null,
    plainOverLlamaBenchPp: llamaBench ? ratio(pp.plain, llamaBench.pp) : null,
    plainOverLlamaBenchTg: llamaBench ? ratio(tg.plain, llamaBench.tg) : null,
    batched4OverSingle: ratio(bps(4), bps(1)),
    batched8OverSingle: ratio(bps(8), bps(1)),
    batched16OverSingle: ratio(bps(16), bps(1)),
    extractionSpeedupOverPytorch: pytorch?.speedup?.extraction ?? null,
  };
  const skipped = (part) => (onlyParts && !onlyParts.includes(part) ? `not in --parts ${values.parts}` : null);
  const target = (name, value, min, why) => ({ name, value, min, status: value === null || value === undefined ? 'not measured' : value >= min ? 'met' : 'missed', ...(why ? { why } : {}) });
  const targets = [
    target('capture/plain pp', ratios.captureOverPlainPp, 0.95),
    target('steered/plain tg', ratios.steeredOverPlainTg, 0.97),
    target('emosteer plain / llama-bench pp', ratios.plainOverLlamaBenchPp, 0.9, llamaBench ? undefined : skipped('llama-bench') ?? 'llama-bench not built (npm run bench -- --build-llama-bench)'),
    target('emosteer plain / llama-bench tg', ratios.plainOverLlamaBenchTg, 0.9, llamaBench ? undefined : skipped('llama-bench') ?? 'llama-bench not built (npm run bench -- --build-llama-bench)'),
    target('8 sequences / 1 sequence tg', ratios.batched8OverSingle, 3),
    target('extraction speed-up over PyTorch', ratios.extractionSpeedupOverPytorch, 5, values.pytorch ? undefined : 'PyTorch comparison not run (npm run bench -- --pytorch)'),
  ];

  const result = {
    model: core[0]?.model ?? null,
    modelPath,
    threads,
    settings: { pp: Number(values.pp), tg: Number(values.tg), batchSize: Number(values.batch), reps: Number(values.reps), rounds: ROUNDS, batchedReps: Number(values['batched-reps']), meterLayer: core[0]?.meterLayer ?? null },
    machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), memGiB: +(totalmem() / 2 ** 30).toFixed(1), platform: `${process.platform}-${process.arch}`, node: process.version },
    llamaCppCommit: versions().llamaCppCommit,
    devices: versions().devices,
    gpuLayers: values['gpu-layers'] ?? 'max',
    load,
    pp,
    tg,
    llamaBench,
    batched,
    ratios,
    extraction,
    bandwidth,
    rss,
    pytorch,
    targets,
    failures,
    // runs that produced a result, per part (0 everywhere = nothing was measured)
    partRuns: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.length])),
    // every repetition behind the medians above, pooled over the rounds (tokens/s)
    samples: {
      core: core.length ? Object.fromEntries(Object.keys(core[0].samples).map((k) => [k, core.flatMap((r) => r.samples[k])])) : null,
      llamaBench: lb.length ? { pp: lb.flatMap((r) => r.samples.pp), tg: lb.flatMap((r) => r.samples.tg) } : null,
      batched: batchedRuns.length ? Object.fromEntries(counts.map((n) => [n, batchedRuns.flatMap((r) => r.results.find((x) => x.sequences === n)?.samples ?? [])])) : null,
      extractionSeconds: Object.fromEntries(['extraction-comprehension', 'extraction-generation'].map((k) => [k, (results[k] ?? []).map((r) => r.seconds)])),
    },
    seconds: (performance.now() - t0) / 1000,
    createdAt: new Date().toISOString(),
  };
  return result;
}

const result = values['from-json'] ? JSON.parse(readFileSync(values['from-json'], 'utf8')) : await measure();
if (values.save && !values['from-json']) {
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  log('wrote bench/results/latest.json');
}
if (values.out && !values['from-json']) {
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${values.out}`);
}

const { pp, tg, ratios, llamaBench, batched, extraction, bandwidth, rss, pytorch, targets, failures, load, threads } = result;
const bps = (n) => batched.find((b) => b.sequences === n)?.tokensPerSecond ?? null;
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null);
if (values.json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const f = (x, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
  const rows = [];
  const row = (what, value, unit = '', note = '') => rows.push([what, value, unit, note]);
  const s = result.settings;
  const gpus = (result.devices ?? []).filter((d) => d.type === 'gpu').map((d) => d.description);
  console.log(`${result.model} | ${gpus.length ? `${gpus.join(', ')}, gpu layers ${result.gpuLayers} | ` : ''}${threads} threads | ${result.machine.cpu} (${result.machine.cores} cores) | llama.cpp ${result.llamaCppCommit.slice(0, 8)}`);
  console.log(`pp${s.pp} tg${s.tg} batch ${s.batchSize}; median of ${s.rounds} rounds x ${s.reps} reps (batched: x ${s.batchedReps}), parts interleaved; load average ${load.start[0]} at start, ${load.end[0]} at end`);
  row('pp plain', f(pp.plain), 'tok/s');
  row('pp capture all blocks (last token)', f(pp.capture), 'tok/s', `${f(ratios.captureOverPlainPp, 3)} x plain`);
  if (pp.captureAllTokens) row('pp capture all blocks, every token', f(pp.captureAllTokens), 'tok/s', `${f(ratio(pp.captureAllTokens, pp.plain), 3)} x plain`);
  row('tg plain', f(tg.plain), 'tok/s');
  if (tg.noHooks) row('tg plain, context without hooks', f(tg.noHooks), 'tok/s', `hooked plain ${f(ratios.plainOverNoHooksTg, 3)} x; pp ${f(ratios.plainOverNoHooksPp, 3)} x`);
  row('tg steered (all steerable blocks)', f(tg.steered), 'tok/s', `${f(ratios.steeredOverPlainTg, 3)} x plain`);
  row(`tg emotion meter (block ${s.meterLayer})`, f(tg.meter), 'tok/s', `${f(ratios.meterOverPlainTg, 3)} x plain`);
  if (tg.capture) row('tg capture all blocks, every token', f(tg.capture), 'tok/s', `${f(ratio(tg.capture, tg.plain), 3)} x plain`);
  if (llamaBench) {
    row('llama-bench pp (-fa 0)', f(llamaBench.pp), 'tok/s', `emosteer ${f(ratios.plainOverLlamaBenchPp, 3)} x`);
    row('llama-bench tg (-fa 0)', f(llamaBench.tg), 'tok/s', `emosteer ${f(ratios.plainOverLlamaBenchTg, 3)} x`);
  } else if (!onlyParts || onlyParts.includes('llama-bench')) {
    row('llama-bench', '-', '', 'not built: npm run bench -- --build-llama-bench');
  }
  for (const b of batched) row(`tg batched, ${b.sequences} sequence${b.sequences > 1 ? 's' : ''}`, f(b.tokensPerSecond), 'tok/s', `${f(ratio(b.tokensPerSecond, bps(1)), 2)} x one`);
  for (const [k, e] of Object.entries(extraction)) {
    if (e) row(`extraction ${k} (${e.samples} samples)`, f(e.seconds, 2), 's', `${f(e.tokensPerSecond)} tok/s; process ${f(e.wallSeconds, 1)} s`);
  }
  if (bandwidth) {
    row('memory bandwidth, read (best)', f(Math.max(bandwidth.gbPerSecond.read, bandwidth.gbPerSecond.read1), 2), 'GB/s', `${threads} threads ${f(bandwidth.gbPerSecond.read, 2)}, 1 thread ${f(bandwidth.gbPerSecond.read1, 2)}; copy ${f(bandwidth.gbPerSecond.copy, 2)}`);
    row('tg limit = bandwidth / bytes per token', f(bandwidth.tgLimitTokensPerSecond), 'tok/s', `${f(bandwidth.bytesPerToken / 2 ** 20, 1)} MiB/token; tg plain at ${f(100 * bandwidth.tgPlainOverLimit, 0)}%`);
  }
  for (const [k, v] of Object.entries(rss)) if (v !== null && v !== undefined) row(`peak RSS ${k}`, f(v, 0), 'MiB');
  if (pytorch) {
    row('PyTorch comprehension extraction', f(pytorch.pytorch.seconds, 2), 's', `${f(pytorch.pytorch.tokensPerSecond)} tok/s; emosteer ${f(pytorch.speedup.extraction, 2)}x faster; with start-up and model load ${f(pytorch.speedup.process, 2)}x`);
    row('PyTorch vs emosteer vector cosine', f(pytorch.cosine.vectorMeanOverLayers, 4), '', `mean over blocks; worst emotion/block ${f(pytorch.cosine.vectorMinOverLayers, 4)}`);
  }
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log(`  ${r[0].padEnd(w[0])}  ${String(r[1]).padStart(w[1])} ${r[2].padEnd(w[2])}  ${r[3]}`);
  if (pytorch) {
    console.log('  PyTorch vs emosteer, per block: vector cosine mean/min over emotions, activation cosine');
    console.log(`    ${pytorch.cosine.perLayer.map((l) => `${l.layer}: ${f(l.vectorCosineMean, 3)}/${f(l.vectorCosineMin, 3)}/${f(l.activationCosineMean, 4)}`).join('  ')}`);
  }
  console.log('targets:');
  for (const t of targets) console.log(`  ${t.status === 'met' ? 'met    ' : t.status === 'missed' ? 'MISSED ' : '-      '} ${t.name.padEnd(34)} ${f(t.value, 3).padStart(6)} (>= ${t.min})${t.why ? `  ${t.why}` : ''}`);
  for (const x of failures) console.log(`failed: ${x.part}${x.round !== undefined ? ` (round ${x.round + 1})` : ''}: ${x.error.split('\n')[0]}`);
  console.log(`${f(result.seconds, 0)} s in all`);
}
// Nothing measured at all (every run of every part failed, e.g. a file that is not a model):
// that is a failure of the command, not a table of dashes.
if (failures.length > 0 && result.partRuns && Object.values(result.partRuns).every((n) => n === 0)) {
  console.error(`[bench] every part failed: ${failureLine(failures[0].error)}`);
  process.exitCode = 1;
}
