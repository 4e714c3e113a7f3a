/**
 * The flat JSON that `emosteer evaluate --json` prints: every interval-valued metric becomes
 * `<name>` (the value) plus `<name>Ci95`, so consumers read plain numbers.
 */
import type { Estimate, EvaluationResult, LayerMetrics } from './types.js';

function flatLayer(l: LayerMetrics | object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(l)) {
    if (v && typeof v === 'object' && 'value' in (v as object) && 'ci95' in (v as object)) {
      out[k] = (v as Estimate).value;
      out[`${k}Ci95`] = (v as Estimate).ci95;
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** Flattens an evaluation for printing as JSON. */
export function evaluationSummary(result: EvaluationResult): Record<string, unknown> {
  const methods: Record<string, unknown> = {};
  for (const [name, m] of Object.entries(result.methods)) {
    const best = m.layers.find((l) => l.layer === m.bestLayer)!;
    methods[name] = {
      bestLayer: m.bestLayer,
      bestDepth: m.bestDepth,
      bestLayerByAccuracy: m.bestLayerByAccuracy,
      anisotropyAtBest: best.anisotropy,
      heldOutAccuracyAtBest: best.heldOutAccuracy.value,
      chance: best.chance,
      ...(m.bestBlock ? { bestBlock: m.bestBlock } : {}),
      ...(m.textBaseline ? { textBaseline: flatLayer(m.textBaseline) } : {}),
      uShaped: m.shape.uShaped,
      nSamples: m.nSamples,
      folds: m.folds,
      model: m.model,
      layers: m.layers.map(flatLayer),
    };
  }
  const out: Record<string, unknown> = { runDir: result.runDir, methods };
  if (result.comparison) {
    const c = result.comparison;
    out.comparison = {
      unit: c.unit,
      metric: c.metric,
      mannWhitneyU: c.mannWhitneyU,
      mannWhitneyP: c.mannWhitneyP,
      exact: c.exact,
      cohensD: c.cohensD,
      cliffsDelta: c.cliffsDelta,
      rsa: c.rsa,
      perEmotionCosine: c.perEmotionCosine,
      ...(c.decodability ? { decodability: c.decodability } : {}),
    };
  }
  if (result.decodability) out.decodability = result.decodability;
  return out;
}
