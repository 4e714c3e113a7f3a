// Paired, interleaved rounds of generation arms: the measurement that bench/steering-tg-cost.mjs
// and bench/context-speed.mjs share. Every round runs each arm once, in an order that alternates
// (ABC, CBA, ...), so that drift of a shared machine falls on both sides of every ratio.
// tg tokens/s of a run = tg / (its time - the median time of the same call with maxTokens 0 in
// that arm); per round the ratio arm / its baseline (the arm its `baseline` names, else the first
// arm); reported: the median ratio with a percentile
// bootstrap 95% interval over the rounds (lib/evaluate's bootstrapCI, seed 0).
import { bootstrapCI } from '../../dist/evaluate/index.js';
import { median } from './util.mjs';

async function time(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/**
 * @param arms {Record<string, { before?: () => Promise<void>, run: (gen: (ctx, extra?) => Promise<{tokens: unknown[]}>) => Promise<{tokens: unknown[]}>, after?: () => Promise<void>, baseline?: string }>}
 *   an arm's ratios are to the arm `baseline` names, else to the first arm
 * @param prompt tokens of the prompt; tg: tokens to generate per run; rounds: paired rounds
 * @returns {{ seconds, tokensPerSecond: Record<string, number>, ratios: Record<string, { baseline, median, ci95, perRound }> }}
 */
export async function pairedRounds(arms, { prompt, tg, rounds }) {
  const names = Object.keys(arms);
  const gen = (c, extra = {}) => c.generateText(prompt, { maxTokens: tg, stopOnEog: false, ...extra });
  const promptOnly = (c, extra = {}) => c.generateText(prompt, { maxTokens: 0, stopOnEog: false, ...extra });
  // warm-up, and as many tokens from every arm (an arm may change which tokens, not how many)
  for (const n of names) {
    const a = arms[n];
    await a.before?.();
    const r = await a.run(gen);
    await a.after?.();
    if (r.tokens.length !== tg) throw new Error(`${n}: decoded ${r.tokens.length} of ${tg} tokens`);
  }
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  const prompts = Object.fromEntries(names.map((n) => [n, []]));
  const t0 = Date.now();
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const n of order) {
      const a = arms[n];
      await a.before?.();
      prompts[n].push(await time(() => a.run(promptOnly)));
      runs[n].push(await time(() => a.run(gen)));
      await a.after?.();
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  const tps = Object.fromEntries(names.map((n) => {
    const p = median(prompts[n]);
    return [n, runs[n].map((t) => tg / Math.max(1e-9, t - p))];
  }));
  const ratios = {};
  for (const n of names.slice(1)) {
    const baseline = arms[n].baseline ?? names[0];
    if (!(baseline in tps) || baseline === n) throw new Error(`arm ${n}: baseline '${baseline}' is not another arm`);
    const per = tps[n].map((v, i) => v / tps[baseline][i]);
    const ci = bootstrapCI(per.length, (idx) => median(Array.from(idx, (i) => per[i])));
    ratios[n] = { baseline, median: ci.value, ci95: ci.ci95, perRound: per };
  }
  return { seconds, tokensPerSecond: Object.fromEntries(names.map((n) => [n, median(tps[n])])), ratios };
}

/** The markdown table of a pairedRounds result. */
export function pairedTable(result, rounds) {
  const names = Object.keys(result.tokensPerSecond);
  const lines = [`| arm | tg tok/s (median) | ratio, median of ${rounds} paired rounds [95% CI] |`, '|---|--:|--:|'];
  for (const n of names) {
    const r = result.ratios[n];
    lines.push(`| ${n} | ${result.tokensPerSecond[n].toFixed(1)} | ${r ? `${r.median.toFixed(3)} [${r.ci95[0].toFixed(3)}, ${r.ci95[1].toFixed(3)}] to ${r.baseline}` : 'baseline'} |`);
  }
  return lines.join('\n');
}
