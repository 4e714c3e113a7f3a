/**
 * The claims table and the model table of a study as Markdown (claims.md in the study folder;
 * docs/results.md quotes it).
 *
 * @module
 */
import { kldDigits } from '../quality/format.js';
import type { StudyResult, StudyRow } from './types.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const f = (x: number | undefined, d = 3) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const pct = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : 'n/a');

function modelLine(r: StudyRow): string {
  const m = r.model;
  if (!m) return `| ${cell(r.variant.id)} | ${r.error ? `failed at ${cell(r.error.step)}: ${cell(r.error.message)}` : 'not run'} |||||||||`;
  const g = r.methods.generation;
  const c = r.methods.comprehension;
  const method = (x: typeof g) => (x ? `${x.bestLayer} (${f(x.bestDepth, 2)}) / ${x.bestLayerByAccuracy} (${f(x.bestDepthByAccuracy, 2)})` : 'n/a');
  const acc = (x: typeof g) => (x ? `${pct(x.heldOutAccuracy.value)} [${pct(x.heldOutAccuracy.ci95[0])}, ${pct(x.heldOutAccuracy.ci95[1])}] (chance ${pct(x.chance)})` : 'n/a');
  const s = r.steering;
  const judge = s ? Object.entries(s.judges).map(([k, j]) => `${k} ${j.successes}/${j.trials}`).join(', ') : 'n/a';
  const ctl = s ? s.contrasts.filter((x) => x.control === 'random' && x.strength === 'any').map((x) => `${x.judge} ${(100 * x.difference).toFixed(0)} [${(100 * x.ci95[0]).toFixed(0)}, ${(100 * x.ci95[1]).toFixed(0)}]`).join(', ') : 'n/a';
  const reg = s ? `${s.regimes.surgical}/${s.regimes.repetitive}/${s.regimes.explosive}` : 'n/a';
  return `| ${cell(r.variant.id)} | ${cell(m.family)}, ${m.kind}, ${cell(m.quantization)}, ${m.blocks} blocks | ${method(g)} | ${method(c)} | ${acc(g)} | ${acc(c)} | ${f(r.anisotropyMean)} | ${cell(judge)} | ${cell(ctl)} | ${reg} | ${s ? pct(s.crossLingualRate) : 'n/a'} |`;
}

/** claims.md: the claims, then one row per model. */
export function claimsMarkdown(result: StudyResult): string {
  const lines: string[] = [];
  lines.push(`# Study: the paper's claims on ${result.rows.length} model(s)`, '');
  lines.push(`Written by emosteer ${result.emosteerVersion} at ${result.createdAt} from \`${result.outDir}\` (options: \`${JSON.stringify(result.options)}\`).`, '');
  if (result.rules) lines.push(`Verdicts by the pre-registered rules \`${result.rules}\` (docs/PREREG.md)${result.commit ? `, code at commit ${result.commit}` : ''}.`, '');
  lines.push('| claim | paper | verdict | per model | why |', '|---|---|---|---|---|');
  for (const c of result.claims) {
    const per = Object.entries(c.perModel ?? {}).map(([id, v]) => `${id}: ${v.verdict}`).join('; ') || 'no model tested';
    lines.push(`| ${cell(c.claim)} | ${cell(c.paper)} | **${c.verdict}** | ${cell(per)} | ${cell(c.why)} |`);
  }
  lines.push('');
  for (const c of result.claims) {
    lines.push(`### ${c.claim}`, '');
    for (const [id, text] of Object.entries(c.ours)) {
      const v = c.perModel?.[id];
      lines.push(`- ${id}: ${v ? `**${v.verdict}** (${v.reason}). ` : ''}${text}`);
    }
    lines.push('');
  }
  lines.push('## Models', '');
  lines.push('Best block (depth) by the paper\'s metric / by held-out accuracy; held-out nearest-centroid accuracy at the latter with its 95% bootstrap interval; steering: scenarios succeeded at any strength (greedy) per judge, and steered minus a random direction of the same norm in points with its 95% scenario-bootstrap interval; regimes surgical/repetitive/explosive.', '');
  lines.push('| model | what | generation best | comprehension best | generation accuracy | comprehension accuracy | anisotropy (mean) | steering (any strength) | steered - random | regimes | cross-lingual |', '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of result.rows) lines.push(modelLine(r));
  lines.push('');
  if (result.comparisons.length) {
    lines.push('## Generation vs comprehension, models as the unit', '');
    for (const c of result.comparisons) {
      lines.push(`- ${c.metric} over ${c.models.join(', ')}: generation ${c.generation.map((x) => f(x)).join(', ')}; comprehension ${c.comprehension.map((x) => f(x)).join(', ')}; Mann-Whitney U = ${f(c.mannWhitneyU, 1)}, p = ${f(c.mannWhitneyP)}; Cohen's d = ${f(c.cohensD, 2)}; paired difference ${f(c.pairedDifference.value)} [${f(c.pairedDifference.ci95[0])}, ${f(c.pairedDifference.ci95[1])}]`);
    }
    lines.push('');
  }
  if (result.quantization.length) {
    lines.push('## Quantization ladder', '');
    lines.push('Bits per weight are what the file holds: on widths that are not multiples of 256 llama.cpp stores k-quant tensors in other types (fallbacks), so a "q3_k_m" file may hold no 3-bit tensor.', '');
    const withCi = (e: { value: number; ci95: [number, number] }, d: number) => `${f(e.value, d)} [${f(e.ci95[0], d)}, ${f(e.ci95[1], d)}]`;
    const measured = result.quantization.find((q) => q.quality)?.quality;
    if (measured) lines.push(`Quality against the parent file (the model as given to the study; for a registry model its shipped file), with 95% bootstrap intervals over chunks: mean KL(parent || variant) of the next-token distributions in nats per token, the share of tokens whose most probable next token is the parent's, and PPL(variant) / PPL(parent), on ${measured.chunks} chunks of ${measured.contextSize} tokens of ${measured.text} (${measured.scoredTokens} scored tokens; docs/quality.md).`, '');
    lines.push('| variant | bits/weight (fallback tensors) | method | mean cosine to shipped precision over blocks | lowest block cosine | held-out accuracy | steering success (any strength) | mean KL to parent | same top-1 % | PPL ratio |', '|---|---|---|---|---|---|---|---|---|---|');
    for (const q of result.quantization) {
      const vals = q.cosine.map((x) => x.value);
      const mean = vals.reduce((a, b) => a + b, 0) / Math.max(1, vals.length);
      const low = q.cosine.reduce((b, x) => (x.value < b.value ? x : b), q.cosine[0] ?? { layer: -1, depth: 0, value: Number.NaN });
      const success = q.steeringSuccess ? Object.entries(q.steeringSuccess).map(([k, v]) => `${k} ${pct(v)}`).join(', ') : 'n/a';
      const h = q.quality;
      const quality = h ? `${withCi(h.kldMean, kldDigits(h.kldMean.value))} | ${withCi(h.sameTopPercent, 2)} | ${withCi(h.perplexityRatio, 4)}` : 'n/a | n/a | n/a';
      lines.push(`| ${cell(q.variant)} | ${f(q.bitsPerWeight, 2)} (${q.fallbackTensors ?? 'n/a'}) | ${q.method} | ${f(mean)} | ${f(low.value)} (block ${low.layer}) | ${pct(q.heldOutAccuracy)} | ${cell(success)} | ${quality} |`);
    }
    lines.push('');
  }
  const times = result.rows.filter((r) => Object.keys(r.seconds).length);
  if (times.length) {
    lines.push('## Wall time per model and step (seconds, this machine)', '');
    const steps = [...new Set(times.flatMap((r) => Object.keys(r.seconds)))];
    lines.push(`| model | ${steps.join(' | ')} |`, `|---|${steps.map(() => '---').join('|')}|`);
    for (const r of times) lines.push(`| ${cell(r.variant.id)} | ${steps.map((s) => (r.seconds[s] !== undefined ? r.seconds[s]!.toFixed(0) : '')).join(' | ')} |`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
