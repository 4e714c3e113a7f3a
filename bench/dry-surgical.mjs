#!/usr/bin/env node
// Does llama.cpp's DRY repetition sampler widen the range of steering strengths that stay
// surgical? (issue 22). For each strength and DRY off/on: the 10 'toward' scenarios, each steered
// toward its target emotion with a vector set of the model (norm-scaled, every steerable block),
// greedy, --tokens new tokens; the unsteered continuation of the same prompt (same DRY setting)
// is the baseline. Each continuation's regime (lib/steer/regimes.ts: explosive / repetitive /
// surgical, from the perplexity ratio under the unsteered model, repeated trigrams, distinct
// bigrams, non-word rate, length) is counted; the table gives the surgical share per strength
// and setting, and the largest strength whose surgical share is at least --keep (default 0.8).
//
//   npm run build:ts && node bench/dry-surgical.mjs --model <gguf> --set <set-dir>
//        [--strengths 0.01,0.02,0.04,0.08,0.12] [--tokens 64] [--dry 0.8] [--threads 2] [--keep 0.8] [--out <file.json>]
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: {
  model: { type: 'string' }, set: { type: 'string' }, strengths: { type: 'string', default: '0.01,0.02,0.04,0.08,0.12' },
  tokens: { type: 'string', default: '64' }, dry: { type: 'string', default: '0.8' }, threads: { type: 'string' }, keep: { type: 'string', default: '0.8' }, out: { type: 'string' },
} });
if (!values.model || !values.set) { console.error('usage: node bench/dry-surgical.mjs --model <gguf> --set <set-dir> [...]'); process.exit(2); }
const { EmotionVectorSet, loadModel } = await import('../dist/index.js');
const { classifyRegime, distinctN, nonWordRate, repeatedNgramRate, wordTokens } = await import('../dist/steer/regimes.js');
const { scenariosByKind } = await import('../dist/steer/scenarios.js');

const strengths = values.strengths.split(',').map(Number);
const maxTokens = Number(values.tokens);
const keep = Number(values.keep);
const threads = values.threads ? { threads: Number(values.threads) } : {};
const dryOn = { dryMultiplier: Number(values.dry), dryBase: 1.75, dryAllowedLength: 2, dryPenaltyLastN: -1 };
const model = await loadModel(values.model);
const set = await EmotionVectorSet.load(values.set, { activations: false });
const scenarios = scenariosByKind('toward');
const ctx = await model.createContext({ sequences: scenarios.length, contextSize: scenarios.length * 256, ...threads });
const t0 = performance.now();

/** Perplexity of `tokens` after `prompt` under the unsteered model. */
async function perplexity(prompt, tokens) {
  if (tokens.length === 0) return Number.NaN;
  const r = await ctx.logProbs(prompt, tokens);
  let s = 0;
  for (const lp of r.logProbs) s += lp;
  return Math.exp(-s / r.logProbs.length);
}

const rows = [];
for (const [setting, dry] of [['off', {}], ['on', dryOn]]) {
  const prompts = scenarios.map((s) => s.prompt);
  const base = await ctx.generateBatch(prompts, { maxTokens, temperature: 0, ...dry });
  const basePpl = [];
  for (let i = 0; i < prompts.length; i++) basePpl.push(await perplexity(prompts[i], base[i].tokens));
  for (const strength of strengths) {
    const out = await ctx.generateBatch(prompts, { maxTokens, temperature: 0, ...dry, steerings: scenarios.map((s) => ({ set, emotion: s.target, strength })) });
    const counts = { surgical: 0, repetitive: 0, explosive: 0 };
    for (let i = 0; i < prompts.length; i++) {
      const words = wordTokens(out[i].text);
      const ppl = await perplexity(prompts[i], out[i].tokens);
      const regime = classifyRegime({
        perplexityRatio: Number.isFinite(ppl / basePpl[i]) ? ppl / basePpl[i] : Infinity,
        repeatedTrigramRate: words.length >= 3 ? repeatedNgramRate(words, 3) : 0,
        distinct2: words.length >= 2 ? distinctN(words, 2) : 1,
        length: words.length,
        baselineLength: wordTokens(base[i].text).length,
        nonWordRate: nonWordRate(out[i].text),
      });
      counts[regime]++;
    }
    rows.push({ dry: setting, strength, ...counts, surgicalShare: counts.surgical / prompts.length });
    console.error(`[dry-surgical] DRY ${setting} strength ${strength}: ${JSON.stringify(counts)} at ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
}
await ctx.dispose();
model.dispose();
const widest = (setting) => Math.max(0, ...rows.filter((r) => r.dry === setting && r.surgicalShare >= keep).map((r) => r.strength));
console.log(`| strength | surgical, DRY off | surgical, DRY on (x${values.dry}) | repetitive off / on | explosive off / on |`);
console.log('|---:|---:|---:|---:|---:|');
for (const s of strengths) {
  const off = rows.find((r) => r.dry === 'off' && r.strength === s);
  const on = rows.find((r) => r.dry === 'on' && r.strength === s);
  console.log(`| ${s} | ${off.surgical}/${scenarios.length} | ${on.surgical}/${scenarios.length} | ${off.repetitive} / ${on.repetitive} | ${off.explosive} / ${on.explosive} |`);
}
console.log(`\nlargest strength with a surgical share >= ${keep}: DRY off ${widest('off') || 'none'}, DRY on ${widest('on') || 'none'} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
if (values.out) await writeFile(values.out, `${JSON.stringify({ model: values.model, set: values.set, maxTokens, dry: dryOn, keep, rows, seconds: (performance.now() - t0) / 1000 }, null, 2)}\n`);
