/**
 * From the run folders of a study to its rows and cross-model figures: one row per model
 * (read from evaluation.json and steering.json), generation vs comprehension with models as
 * the unit, and quantization curves against the shipped precision.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bootstrapCI, cohensD, mannWhitneyU } from '../evaluate/statistics.js';
import type { EvaluationResult, MethodEvaluation } from '../evaluate/types.js';
import { findSets } from '../evaluate/evaluate.js';
import type { ModelEntry } from '../models/registry.js';
import { DEFAULT_SAMPLING_MODES, summarize } from '../steer/experiment.js';
import { SCENARIOS } from '../steer/scenarios.js';
import { PAIRWISE_FILE, type PairwiseJudgeRecord } from '../steer/pairwise-steering.js';
import { qualityHeadline, readVariantQuality } from '../quality/variant.js';
import { readSteeringFile } from '../steer/steering-file.js';
import type { SavedSteeringResult } from '../steer/steering-result.js';
import { cosine } from '../util/vec.js';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { steeringEndpoints } from './steering-endpoints.js';
import type { CrossModelComparison, QuantizationCurve, StudyMethodRow, StudyRow, StudySteeringRow, StudyVariant } from './types.js';

/** The figures of one method of one model. */
export function methodRow(m: MethodEvaluation): StudyMethodRow {
  const at = (layer: number) => m.layers.find((l) => l.layer === layer)!;
  const best = at(m.bestLayer);
  const byAcc = at(m.bestLayerByAccuracy);
  return {
    emotions: m.emotions.length,
    bestLayer: m.bestLayer,
    bestDepth: m.bestDepth,
    bestCosine: best.meanPairwiseCosine,
    bestLayerByAccuracy: m.bestLayerByAccuracy,
    bestDepthByAccuracy: byAcc.depth,
    heldOutAccuracy: byAcc.heldOutAccuracy,
    probeAccuracy: byAcc.probeAccuracy,
    chance: byAcc.chance,
    uShaped: m.shape.uShaped,
    anisotropyAtBest: best.anisotropy,
    correctedCosineAtBest: best.correctedCosine,
    curve: m.layers.map((l) => ({ layer: l.layer, depth: l.depth, cosine: l.meanPairwiseCosine, accuracy: l.heldOutAccuracy.value, anisotropy: l.anisotropy })),
    ...(m.bestBlock ? { bestBlock: m.bestBlock } : {}),
    ...(m.layers.every((l) => l.heldOutAccuracyUncentred) ? { bestLayerUncentred: m.layers.reduce((b, l) => (l.heldOutAccuracyUncentred!.value > b.heldOutAccuracyUncentred!.value ? l : b)).layer } : {}),
    ...(m.textBaseline ? { textBaseline: m.textBaseline } : {}),
  };
}

/** The steering figures of one model. */
export function steeringRow(s: SavedSteeringResult): StudySteeringRow {
  const judges: StudySteeringRow['judges'] = {};
  for (const [name, j] of Object.entries(s.judges)) judges[name] = { successes: j.perScenario.successes, trials: j.perScenario.trials, rate: j.perScenario.successRate, ci95: j.perScenario.ci95 };
  const lens = s.logitLens ?? [];
  const nonLatin = lens.map((l) => Object.entries(l.scripts).filter(([k]) => k !== 'Latin' && k !== 'none').reduce((a, [, v]) => a + v, 0));
  return {
    method: s.method,
    scenarios: s.scenarios,
    strengths: s.strengths,
    judges,
    contrasts: (s.contrasts ?? []).map((c) => ({ judge: c.judge, control: c.control, strength: c.strength, steeredRate: c.steeredRate, controlRate: c.controlRate, difference: c.difference.value, ci95: c.difference.ci95 })),
    regimes: s.regimes,
    crossLingualRate: s.runs.length ? s.crossLingualFlags.length / s.runs.length : Number.NaN,
    crossLingualFlags: s.crossLingualFlags.length,
    runs: s.runs.length,
    logitLensNonLatin: nonLatin.length ? nonLatin.reduce((a, b) => a + b, 0) / nonLatin.length : Number.NaN,
    judgeAgreement: (s.judgeAgreement ?? []).map((a) => ({ judges: a.judges, runs: a.runs, kappa: a.kappa, ...(a.ci95 ? { ci95: a.ci95 } : {}) })),
    ...(s.llmJudge ? { llmJudge: s.llmJudge.file ?? s.llmJudge.model } : {}),
  };
}

async function readJson<T>(path: string): Promise<T | undefined> {
  return existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as T) : undefined;
}

/**
 * The summary of a saved steering run recomputed from its runs with this version's rules
 * (success rates, contrasts, agreement), so that a study compares every model alike even
 * when their steering.json files were written by different versions.
 */
export function resummarize(saved: SavedSteeringResult): SavedSteeringResult {
  const ids = new Set(saved.runs.map((r) => r.scenario));
  const modes = DEFAULT_SAMPLING_MODES.filter((m) => saved.sampling.includes(m.name));
  if (modes.length === 0) return saved;
  const judges = Object.keys(saved.judges);
  const fresh = summarize({ info: { description: saved.model } }, { meta: { method: saved.method } }, SCENARIOS.filter((x) => ids.has(x.id)), saved.strengths, modes, saved.runs, judges, { controlRuns: saved.controlRuns ?? [], ...(saved.controls ? { controls: saved.controls } : {}), ...(saved.noiseRuns ? { noiseRuns: saved.noiseRuns } : {}) });
  return { ...saved, ...fresh };
}

/** Reads a run folder of the study into its row (what exists of it). */
export async function readRow(variant: StudyVariant, dir: string, entry: ModelEntry | undefined, seconds: Record<string, number>): Promise<StudyRow> {
  const evaluation = await readJson<EvaluationResult>(join(dir, 'evaluation.json'));
  const steering = await readSteeringFile(dir);
  const methods: Record<string, StudyMethodRow> = {};
  for (const [name, m] of Object.entries(evaluation?.methods ?? {})) methods[name] = methodRow(m);
  const any = Object.values(evaluation?.methods ?? {})[0];
  const row: StudyRow = { variant, methods, seconds };
  if (any) {
    row.model = {
      description: any.model.description,
      family: entry?.family ?? any.model.arch,
      arch: any.model.arch,
      params: entry?.params ?? null,
      kind: entry?.kind ?? 'unknown',
      quantization: variant.requantized ? variant.requantized.toUpperCase() : any.model.quantization,
      blocks: any.model.nLayer,
      embd: any.model.nEmbd,
      sha256: any.model.sha256,
    };
  }
  if (evaluation?.anisotropy.length) row.anisotropyMean = evaluation.anisotropy.reduce((a, l) => a + l.value, 0) / evaluation.anisotropy.length;
  if (steering) {
    const fresh = resummarize(steering);
    row.steering = steeringRow(fresh);
    // A judge votes only when every one of its validations passed (passages, and stories when given).
    const records = steering.judgeValidation;
    const voting = records ? [...new Set(records.map((v) => v.judge))].filter((j) => records.filter((v) => v.judge === j).every((v) => v.votes)) : undefined;
    const pw = await readJson<PairwiseJudgeRecord>(join(dir, PAIRWISE_FILE));
    const pairwise = pw?.complete ? { name: `llm ${pw.judge.file}`, votes: pw.votes, ...(pw.effects ? { effects: pw.effects } : {}) } : undefined;
    if (fresh.effects) row.steering.endpoints = steeringEndpoints(fresh, { params: entry?.params ?? null, ...(voting ? { votingJudges: voting } : {}), ...(pairwise ? { pairwise } : {}) });
    if (pw?.complete) row.steering.llmPairwise = { judge: pw.judge.file, votes: pw.votes, validation: pw.validation.map((v) => ({ data: v.data, n: v.n, accuracy: v.accuracy, votes: v.votes })), ...(pw.effects ? { effects: pw.effects } : {}) };
  }
  if (evaluation?.decodability) row.decodability = evaluation.decodability;
  return row;
}

/**
 * Generation vs comprehension across the models that have both, models as the unit: the
 * paper's Mann-Whitney U over models and, better for paired data, the mean per-model
 * difference with a bootstrap interval that resamples models.
 */
export function crossModelComparisons(rows: readonly StudyRow[]): CrossModelComparison[] {
  const both = rows.filter((r) => !r.error && r.methods.generation && r.methods.comprehension);
  if (both.length < 2) return [];
  return (['bestCosine', 'heldOutAccuracy'] as const).map((metric) => {
    const value = (m: StudyMethodRow) => (metric === 'bestCosine' ? m.bestCosine : m.heldOutAccuracy.value);
    const g = both.map((r) => value(r.methods.generation!));
    const c = both.map((r) => value(r.methods.comprehension!));
    const mw = mannWhitneyU(g, c);
    const d = g.map((x, i) => x - c[i]!);
    const boot = bootstrapCI(d.length, (idx) => { let s = 0; for (const i of idx) s += d[i]!; return s / idx.length; }, { resamples: 2000, seed: 0 });
    return { metric, models: both.map((r) => r.variant.id), generation: g, comprehension: c, mannWhitneyU: mw.u, mannWhitneyP: mw.p, cohensD: cohensD(g, c), pairedDifference: { value: boot.value, ci95: boot.ci95 } };
  });
}

/**
 * For every requantized variant: per block and method, the mean over emotions of the cosine
 * between its unit vectors and those of its shipped precision; its held-out accuracy and
 * steering success beside them, and its quality against the parent file (KL divergence, same
 * top-1, perplexity ratio) when the variant's folder holds quality.json.
 */
export async function quantizationCurves(rows: readonly StudyRow[], dirOf: (id: string) => string): Promise<QuantizationCurve[]> {
  const out: QuantizationCurve[] = [];
  for (const row of rows) {
    const parentId = row.variant.parent;
    if (!parentId || row.error) continue;
    const parentSets = await findSets(dirOf(parentId)).catch(() => new Map<string, string>());
    const sets = await findSets(dirOf(row.variant.id)).catch(() => new Map<string, string>());
    const qualityReport = await readVariantQuality(dirOf(row.variant.id));
    const quality = qualityReport ? qualityHeadline(qualityReport) : undefined;
    for (const [method, dir] of sets) {
      const pdir = parentSets.get(method);
      if (!pdir) continue;
      const a = await EmotionVectorSet.load(dir, { activations: false });
      const b = await EmotionVectorSet.load(pdir, { activations: false });
      const emotions = a.emotions.filter((e) => b.emotions.includes(e));
      const layers = a.layers.filter((l) => b.layers.includes(l));
      const n = a.meta.model.nLayer;
      const cos = layers.map((layer) => ({
        layer,
        depth: n > 1 ? layer / (n - 1) : 0,
        value: emotions.reduce((s, e) => s + cosine(a.vector(e, layer), b.vector(e, layer)), 0) / emotions.length,
      }));
      const steeringSuccess = row.steering ? Object.fromEntries(Object.entries(row.steering.judges).map(([k, j]) => [k, j.rate])) : undefined;
      out.push({
        parent: parentId,
        variant: row.variant.id,
        quantization: row.variant.requantized!,
        method,
        cosine: cos,
        heldOutAccuracy: row.methods[method]?.heldOutAccuracy.value ?? Number.NaN,
        ...(steeringSuccess ? { steeringSuccess } : {}),
        ...(row.quantization ? { bitsPerWeight: row.quantization.bitsPerWeight, fallbackTensors: row.quantization.fallbackTensors } : {}),
        ...(quality ? { quality } : {}),
      });
    }
  }
  return out;
}
