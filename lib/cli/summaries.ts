/**
 * What the CLI prints when a step of the protocol is done: the extraction summary, the
 * evaluation table, the steering summary. `extract`, `evaluate` and `steer` print them for
 * their one step, `run` and `study` for each step of the main job.
 *
 * @module
 */
import { join } from 'node:path';
import type { EvaluationResult } from '../evaluate/types.js';
import type { SavedSteeringResult } from '../steer/steering-result.js';
import { meanPairwiseCosine } from '../util/vec.js';
import type { EmotionVectorSet } from '../vectors/emotion-vector-set.js';

/** The JSON summary `extract --json` prints. */
export function extractSummary(set: EmotionVectorSet): Record<string, unknown> {
  return {
    method: set.meta.method,
    nEmotions: set.emotions.length,
    nLayer: set.meta.model.nLayer,
    layers: set.layers.map((layer) => ({ layer, meanPairwiseCosine: +meanPairwiseCosine(set.vectorsAt(layer)).toFixed(6) })),
    seconds: +set.meta.timings.seconds.toFixed(2),
    tokensPerSecond: +set.meta.timings.tokensPerSecond.toFixed(1),
  };
}

/** The lines `extract` prints for a set saved to `out`. */
export function extractLines(set: EmotionVectorSet, out: string): string[] {
  const summary = extractSummary(set);
  const layers = summary.layers as { layer: number; meanPairwiseCosine: number }[];
  const best = layers.reduce((a, b) => (b.meanPairwiseCosine < a.meanPairwiseCosine ? b : a));
  return [
    `saved ${set.emotions.length} emotion vectors x ${set.layers.length} blocks (${set.meta.samples.length} samples) to ${out}`,
    `${summary.seconds} s, ${summary.tokensPerSecond} tokens/s`,
    `lowest mean pairwise cosine: block ${best.layer} (${best.meanPairwiseCosine.toFixed(4)})`,
  ];
}

/** The table `evaluate` prints for an evaluation saved in `dir`. */
export function evaluationLines(result: EvaluationResult, dir: string): string[] {
  const lines: string[] = [];
  for (const [name, m] of Object.entries(result.methods)) {
    lines.push(`\n${name} (${m.model.description}, ${m.nSamples} samples, ${m.folds}-fold)`);
    lines.push('block depth  meanCos  aniso  corrCos  accuracy [95% CI]      probe  chance  null95  silhouette  fisher');
    for (const l of m.layers) {
      lines.push(`${String(l.layer).padStart(5)} ${l.depth.toFixed(2).padStart(5)} ${l.meanPairwiseCosine.toFixed(3).padStart(8)} ${l.anisotropy.toFixed(3).padStart(6)} ${l.correctedCosine.toFixed(3).padStart(8)}  ${l.heldOutAccuracy.value.toFixed(3)} [${l.heldOutAccuracy.ci95.map((x) => x.toFixed(3)).join(', ')}]  ${l.probeAccuracy.value.toFixed(3)}  ${l.chance.toFixed(3)}  ${l.shuffledAccuracy.p95.toFixed(3)}  ${l.silhouette.value.toFixed(3).padStart(10)}  ${l.fisherRatio.value.toFixed(3)}`);
    }
    lines.push(`best block by mean cosine: ${m.bestLayer} (depth ${m.bestDepth.toFixed(2)}), by held-out accuracy: ${m.bestLayerByAccuracy}; U-shaped: ${m.shape.uShaped}`);
  }
  if (result.comparison) {
    const c = result.comparison;
    lines.push(`\ngeneration vs comprehension over blocks: Mann-Whitney U = ${c.mannWhitneyU}, p = ${c.mannWhitneyP.toPrecision(3)}${c.exact ? ' (exact)' : ''}, Cohen's d = ${c.cohensD.toFixed(2)}, Cliff's delta = ${c.cliffsDelta.toFixed(2)}`);
  }
  lines.push(`\nsaved ${join(dir, 'evaluation.json')}`);
  return lines;
}

/** The JSON summary `steer --json` prints. */
export function steeringSummary(data: SavedSteeringResult) {
  const lens = data.logitLens ?? [];
  const judges = Object.fromEntries(Object.entries(data.judges).map(([k, j]) => [k, { successRate: j.perScenario.successRate, ci95: j.perScenario.ci95, successes: j.perScenario.successes, trials: j.perScenario.trials, perRun: j.perRun }]));
  const logitLensNonLatin = lens.filter((l) => Object.entries(l.scripts).some(([k, v]) => k !== 'Latin' && k !== 'none' && v > 0)).map((l) => ({ emotion: l.emotion, scripts: l.scripts }));
  const contrasts = (data.contrasts ?? []).map((c) => ({ judge: c.judge, control: c.control, strength: c.strength, steered: c.steeredRate, controlRate: c.controlRate, difference: c.difference.value, ci95: c.difference.ci95 }));
  return { scenarios: data.scenarios, method: data.method, strengths: data.strengths, sampling: data.sampling, judges, contrasts, regimes: data.regimes, crossLingualFlags: data.crossLingualFlags, logitLensNonLatin };
}

/** The lines `steer` prints for a steering.json saved in `dir`. */
export function steeringLines(data: SavedSteeringResult, dir: string): string[] {
  const s = steeringSummary(data);
  const lines: string[] = [];
  for (const [k, j] of Object.entries(s.judges)) lines.push(`${k}: ${j.successes}/${j.trials} scenarios (${(100 * j.successRate).toFixed(1)}%, 95% CI ${j.ci95.map((x) => (100 * x).toFixed(1)).join('-')}%)`);
  for (const c of s.contrasts.filter((x) => x.strength === 'any')) lines.push(`${c.judge}, steered - ${c.control} control (any strength): ${(100 * c.difference).toFixed(1)} points (95% CI ${c.ci95.map((x) => (100 * x).toFixed(1)).join(' to ')})`);
  lines.push(`regimes: ${JSON.stringify(s.regimes)}; cross-lingual flags: ${s.crossLingualFlags.length}; logit lens with non-Latin tokens: ${s.logitLensNonLatin.length} emotions`);
  lines.push(`saved ${join(dir, 'steering.json')}`);
  return lines;
}
