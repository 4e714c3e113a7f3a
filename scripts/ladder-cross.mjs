#!/usr/bin/env node
// Cross-precision steering on the quantization ladder (issue 20): do the emotion vectors of one
// precision steer another precision of the same weights as well as its own?
//
//   node scripts/ladder-cross.mjs <registry model> [--rungs q8_0,q4_0,q3_k_m,q2_k]
//        [--ladder results/ladder] [--threads 2] [--commit] [--scenarios n]
//
// Needs the ladder's run of that model first (`emosteer study --models <m> --quantizations
// <rungs> --methods comprehension --no-steer --out <ladder>`: one run folder per precision with
// its comprehension set, the requantized files in the model cache) and dist/ (npm run build:ts).
// For every rung q, three experiments, plus the shipped precision on itself once:
//   <q>-on-shipped    q's vectors steer the shipped file
//   shipped-on-<q>    the shipped vectors steer q's file
//   <q>-on-<q>        q's vectors steer q's own file (the rung's own effect)
//   shipped-on-shipped
// Each with the reduced protocol: the primary scenarios (docs/PREREG.md: kind neutral and toward,
// 23 of the suite), the model's primary strength only (0.02 under 1B parameters, 0.01 above),
// greedy, 48 tokens, the emotion arm against one random direction per scenario and the other
// emotion's vector (both norm-matched per block), judged by the NRC Emotion Lexicon (margin 0.5,
// as in the rules; the same judge for every precision, since it reads text only) beside VADER
// and the word-list lexicon. Each experiment writes <ladder>/cross/<model>/<name>/steering.json (.gz when large)
// (and resumes from its checkpoint); then <ladder>/cross/<model>/summary.json and summary.md
// hold, per experiment and judge, the emotion arm's success rate minus each control's with a
// scenario-bootstrap 95% interval. --commit commits the cross folder after every experiment.
// --scenarios n keeps the first n primary scenarios (a smoke run of the whole pipeline; the
// ladder's runs use all of them).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveModel } from '../dist/models/fetch.js';
import { getModelEntry } from '../dist/models/registry.js';
import { requantizedModelPath, steerFolder } from '../dist/protocol/index.js';
import { loadNrcLexicon, NrcLexiconJudge, SCENARIOS } from '../dist/steer/index.js';
import { readSteeringFile, steeringFile } from '../dist/steer/steering-file.js';
import { primaryStrength } from '../dist/study/steering-endpoints.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rungs: { type: 'string', default: 'q8_0,q4_0,q3_k_m,q2_k' },
    ladder: { type: 'string', default: 'results/ladder' },
    threads: { type: 'string', default: '2' },
    commit: { type: 'boolean', default: false },
    scenarios: { type: 'string' },
  },
});
const [name] = positionals;
if (!name) {
  console.error('usage: node scripts/ladder-cross.mjs <registry model> [--rungs q8_0,q4_0,q3_k_m,q2_k] [--ladder results/ladder] [--threads 2] [--commit]');
  process.exit(2);
}
const entry = getModelEntry(name);
const threads = Number(values.threads);
if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive integer (got ${values.threads})`);
const rungs = values.rungs.split(',').map((s) => s.trim()).filter(Boolean);
if (rungs.length === 0) throw new Error('--rungs lists no quantization');
const crossDir = join(values.ladder, 'cross', entry.name);
const log = (m) => console.error(`${new Date().toISOString()} [ladder-cross ${entry.name}] ${m}`);

const shippedPath = await resolveModel(entry.name);
const precisions = new Map([['shipped', { dir: join(values.ladder, entry.name), model: shippedPath }]]);
for (const q of rungs) precisions.set(q, { dir: join(values.ladder, `${entry.name}@${q}`), model: requantizedModelPath(shippedPath, q) });
for (const [p, { dir, model }] of precisions) {
  if (!existsSync(join(dir, 'comprehension', 'manifest.json'))) throw new Error(`${dir}: no comprehension set; run the ladder first (emosteer study --models ${entry.name} --quantizations ${rungs.join(',')} --methods comprehension --no-steer --out ${values.ladder})`);
  if (!existsSync(model)) throw new Error(`${model}: the ${p} model file is missing; the ladder's run makes it`);
}

const experiments = [['shipped', 'shipped']];
for (const q of rungs) experiments.push([q, 'shipped'], ['shipped', q], [q, q]);
const primary = SCENARIOS.filter((s) => s.kind === 'neutral' || s.kind === 'toward').map((s) => s.id);
const nScenarios = values.scenarios === undefined ? primary.length : Number(values.scenarios);
if (!Number.isInteger(nScenarios) || nScenarios < 1) throw new Error(`--scenarios must be a positive integer (got ${values.scenarios})`);
const scenarios = primary.slice(0, nScenarios);
const strength = primaryStrength(entry.params, [0.01, 0.02]);
const judges = [{ judge: new NrcLexiconJudge(await loadNrcLexicon()), margin: 0.5 }];

const commit = (what) => {
  if (!values.commit) return;
  try {
    execFileSync('git', ['add', '--', crossDir], { stdio: 'ignore' });
    execFileSync('git', ['commit', '-q', '-m', `Ladder cross-precision steering, ${entry.name}: ${what}`, '--', crossDir], { stdio: 'ignore' });
    log(`committed: ${what}`);
  } catch {
    // nothing new, or the index is busy: the next commit takes it
  }
};

const stop = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { log(`${sig}: stopping after the continuation in flight (rerun to resume)`); stop.abort(); });
const rows = [];
for (const [vectors, steered] of experiments) {
  const id = `${vectors}-on-${steered}`;
  const out = join(crossDir, id);
  let data;
  if (steeringFile(out)) {
    data = await readSteeringFile(out);
    log(`${id}: done before`);
  } else {
    const t0 = Date.now();
    log(`${id}: start (${scenarios.length} scenarios, strength ${strength})`);
    let last = 0;
    try {
      data = await steerFolder(precisions.get(vectors).dir, {
        model: precisions.get(steered).model,
        crossModel: vectors !== steered,
        method: 'comprehension',
        out,
        scenarios,
        strengths: [strength],
        sampling: ['greedy'],
        controls: { randomSeeds: 1, shuffledSeeds: 0, otherEmotion: true },
        judges,
        lensNullDirections: 0,
        threads,
        signal: stop.signal,
        onProgress: (e) => {
          if (e.type === 'steering' && Date.now() - last > 60_000) { last = Date.now(); log(`${id}: ${e.done}/${e.total}`); }
        },
      });
    } catch (err) {
      if (stop.signal.aborted) { commit(`${id} stopped (checkpoint; rerun to resume)`); process.exit(130); }
      throw err;
    }
    log(`${id}: done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    commit(`${id} done`);
  }
  for (const c of data.contrasts ?? []) {
    if (c.strength !== strength) continue;
    rows.push({ experiment: id, vectors, steered, judge: c.judge, control: c.control, scenarios: c.scenarios, emotionRate: c.steeredRate, controlRate: c.controlRate, difference: c.difference.value, ci95: c.difference.ci95 });
  }
}

const pct = (x) => `${(100 * x).toFixed(0)}%`;
const md = [
  `# Cross-precision steering: ${entry.name}`,
  '',
  `Written by \`node scripts/ladder-cross.mjs ${entry.name} --rungs ${rungs.join(',')}${values.scenarios !== undefined ? ` --scenarios ${nScenarios}` : ''}\`: ${scenarios.length} primary scenarios, strength ${strength}, greedy, 48 tokens. Per experiment (vectors-on-model) and judge: the emotion arm's success rate, the control's, and their difference with a scenario-bootstrap 95% interval.`,
  '',
  '| vectors on model | judge | control | emotion | control | difference [95% CI] |',
  '| --- | --- | --- | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.experiment} | ${r.judge} | ${r.control} | ${pct(r.emotionRate)} | ${pct(r.controlRate)} | ${(100 * r.difference).toFixed(0)} [${(100 * r.ci95[0]).toFixed(0)}, ${(100 * r.ci95[1]).toFixed(0)}] pp |`),
  '',
].join('\n');
mkdirSync(crossDir, { recursive: true });
writeFileSync(join(crossDir, 'summary.json'), `${JSON.stringify({ model: entry.name, rungs, strength, scenarios, rows }, null, 2)}\n`);
writeFileSync(join(crossDir, 'summary.md'), md);
console.log(md);
commit('summary');
