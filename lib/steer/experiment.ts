/**
 * The steering experiment: for each scenario, an unsteered continuation and steered ones at
 * several strengths (paper scaling: unit x strength x mean residual norm, every steerable
 * block), under greedy and seeded sampling; each judged by external judges, placed in a regime
 * (surgical / repetitive collapse / explosive) and checked for other scripts and languages.
 */
import { EmosteerError } from '../errors.js';
import type { Context } from '../context.js';
import type { Model } from '../model.js';
import type { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { judgeSuccess, type Judge } from './judges/judge.js';
import { classifyRegime, distinctN, nonWordRate, repeatedNgramRate, wordTokens } from './regimes.js';
import { SCENARIOS, type SteeringScenario } from './scenarios.js';
import { crossLingualFlag, scriptShares } from './scripts.js';
import type { EmotionMeter } from './emotion-meter.js';
import { steeringVectors } from './steering-vectors.js';

/** The paper's strengths for ~124M-1B models, and ours by default. */
export const DEFAULT_STRENGTHS: readonly number[] = [0.005, 0.01, 0.02, 0.03, 0.05];

/** A decoding mode of the experiment. */
export interface SamplingMode {
  name: string;
  temperature: number;
  seed: number;
}

/** Greedy, and seeded sampling at temperature 0.8. */
export const DEFAULT_SAMPLING_MODES: readonly SamplingMode[] = [
  { name: 'greedy', temperature: 0, seed: 0 },
  { name: 'sampled', temperature: 0.8, seed: 1 },
];

/** Options of {@link runSteeringExperiment}. */
export interface SteeringExperimentOptions {
  scenarios?: readonly SteeringScenario[];
  strengths?: readonly number[];
  sampling?: readonly SamplingMode[];
  /** New tokens per continuation (default 48). */
  maxTokens?: number;
  /** Judges; a judge's margin is the minimum move of its score that counts as success. */
  judges: readonly { judge: Judge; margin: number }[];
  /** Steered block range (default: every steerable block of the set). */
  layers?: [number, number];
  threads?: number;
  /** When given, every continuation also records the meter's reading of the target emotion per token (no extra pass). */
  meter?: EmotionMeter;
  onProgress?: (done: number, total: number, scenario: string) => void;
  signal?: AbortSignal;
}

/** One steered continuation and everything measured on it. */
export interface SteeringRun {
  scenario: string;
  target: string;
  direction: 'toward' | 'away';
  strength: number;
  sampling: string;
  text: string;
  baselineText: string;
  judges: Record<string, { success: boolean; steered: number; baseline: number; delta: number }>;
  perplexityRatio: number;
  repeatedTrigramRate: number;
  distinct2: number;
  length: number;
  regime: 'surgical' | 'repetitive' | 'explosive';
  scripts: Record<string, number>;
  crossLingual: { flagged: boolean; reason: string };
  /** Meter reading of the target emotion per generated token (steered, and unsteered baseline). */
  meterTrace?: { steered: number[]; baseline: number[]; layer: number };
}

/** Binomial proportion with a Wilson 95% interval. */
export interface Proportion {
  successes: number;
  trials: number;
  successRate: number;
  ci95: [number, number];
}

/** The experiment's outcome. */
export interface SteeringResult {
  model: string;
  method: string;
  strengths: number[];
  sampling: string[];
  scenarios: number;
  runs: SteeringRun[];
  /** Per judge: success over every (scenario, strength, sampling) run, and per scenario (success at any non-explosive strength under greedy decoding, the paper's unit). */
  judges: Record<string, { perRun: Proportion; perScenario: Proportion }>;
  regimes: { surgical: number; repetitive: number; explosive: number };
  /** Regime counts per (target emotion, strength). */
  regimeMap: { emotion: string; strength: number; surgical: number; repetitive: number; explosive: number }[];
  crossLingualFlags: { scenario: string; strength: number; sampling: string; reason: string }[];
}

/** Wilson score interval for k successes in n trials (95%). */
export function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.959963984540054;
  const p = k / n;
  const den = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / den;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / den;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

function proportion(k: number, n: number): Proportion {
  return { successes: k, trials: n, successRate: n ? k / n : Number.NaN, ci95: wilson(k, n) };
}

async function perplexity(scorer: Context, prompt: string, continuation: number[]): Promise<number> {
  if (continuation.length === 0) return Number.NaN;
  return (await scorer.logProbs(prompt, continuation)).perplexity;
}

/** Runs the scenario suite on a model with a vector set of that model. */
export async function runSteeringExperiment(model: Model, set: EmotionVectorSet, options: SteeringExperimentOptions): Promise<SteeringResult> {
  const scenarios = options.scenarios ?? SCENARIOS;
  const strengths = [...(options.strengths ?? DEFAULT_STRENGTHS)];
  const modes = options.sampling ?? DEFAULT_SAMPLING_MODES;
  const maxTokens = options.maxTokens ?? 48;
  for (const s of scenarios) {
    if (!set.emotions.includes(s.target)) throw new EmosteerError('INVALID_ARGUMENT', `scenario ${s.id} targets '${s.target}', which the set has no vector for`);
  }
  const steerCtx = await model.createContext({ contextSize: 1024, threads: options.threads });
  const scorer = await model.createContext({ contextSize: 1024, threads: options.threads });
  const runs: SteeringRun[] = [];
  const total = scenarios.length * modes.length * strengths.length;
  let done = 0;
  try {
    for (const sc of scenarios) {
      for (const mode of modes) {
        if (options.signal?.aborted) throw new EmosteerError('ABORTED', 'the steering experiment was aborted');
        const meter = options.meter;
        const gen = { maxTokens, temperature: mode.temperature, seed: mode.seed, signal: options.signal, ...(meter ? { capture: { layers: [meter.layer] } } : {}) };
        const trace = (r: { tokenActivations?: { get(l: number): Float32Array }[] }) => (meter ? (r.tokenActivations ?? []).map((a) => meter.read(a.get(meter.layer))[sc.target]!) : []);
        await steerCtx.clearSteering();
        const base = await steerCtx.generateText(sc.prompt, gen);
        const basePpl = await perplexity(scorer, sc.prompt, base.tokens);
        for (const strength of strengths) {
          const signed = sc.direction === 'away' ? -strength : strength;
          const sv = steeringVectors(set, { emotion: sc.target, strength: signed }, options.layers ? { layers: options.layers } : {});
          await steerCtx.setSteering(sv.vectors, { layers: sv.layers });
          const out = await steerCtx.generateText(sc.prompt, gen);
          await steerCtx.clearSteering();
          const words = wordTokens(out.text);
          const ppl = await perplexity(scorer, sc.prompt, out.tokens);
          const metrics = {
            perplexityRatio: ppl / basePpl,
            repeatedTrigramRate: repeatedNgramRate(words, 3),
            distinct2: distinctN(words, 2),
            length: words.length,
            baselineLength: wordTokens(base.text).length,
            nonWordRate: nonWordRate(out.text),
          };
          const judged: SteeringRun['judges'] = {};
          for (const { judge, margin } of options.judges) {
            judged[judge.name] = await judgeSuccess(judge, sc.target, sc.direction, out.text, base.text, margin);
          }
          const cl = crossLingualFlag(out.text, base.text);
          runs.push({
            scenario: sc.id,
            target: sc.target,
            direction: sc.direction,
            strength,
            sampling: mode.name,
            text: out.text,
            baselineText: base.text,
            judges: judged,
            perplexityRatio: metrics.perplexityRatio,
            repeatedTrigramRate: metrics.repeatedTrigramRate,
            distinct2: metrics.distinct2,
            length: metrics.length,
            regime: classifyRegime(metrics),
            scripts: scriptShares(out.text) as unknown as Record<string, number>,
            crossLingual: { flagged: cl.flagged, reason: cl.reason },
            ...(meter ? { meterTrace: { steered: trace(out), baseline: trace(base), layer: meter.layer } } : {}),
          });
          options.onProgress?.(++done, total, sc.id);
        }
      }
    }
  } finally {
    await steerCtx.dispose();
    await scorer.dispose();
  }
  return summarize(model, set, scenarios, strengths, modes, runs, options.judges.map((j) => j.judge.name));
}

/**
 * Re-derives every judgement of saved runs from their texts and metrics (judges, regime,
 * cross-lingual flag), e.g. after a threshold changed, without generating again.
 */
export async function rescoreRuns(runs: SteeringRun[], judges: readonly { judge: Judge; margin: number }[]): Promise<SteeringRun[]> {
  const out: SteeringRun[] = [];
  for (const r of runs) {
    const judged: SteeringRun['judges'] = {};
    for (const { judge, margin } of judges) judged[judge.name] = await judgeSuccess(judge, r.target, r.direction, r.text, r.baselineText, margin);
    const cl = crossLingualFlag(r.text, r.baselineText);
    const regime = classifyRegime({
      perplexityRatio: r.perplexityRatio,
      repeatedTrigramRate: r.repeatedTrigramRate,
      distinct2: r.distinct2,
      length: r.length,
      baselineLength: wordTokens(r.baselineText).length,
      nonWordRate: nonWordRate(r.text),
    });
    out.push({ ...r, judges: judged, regime, crossLingual: { flagged: cl.flagged, reason: cl.reason }, scripts: scriptShares(r.text) as unknown as Record<string, number> });
  }
  return out;
}

/** Aggregates runs into success rates, regime counts and flags. @internal */
export function summarize(model: { info: { description: string } }, set: { meta: { method: string } }, scenarios: readonly SteeringScenario[], strengths: number[], modes: readonly SamplingMode[], runs: SteeringRun[], judgeNames: string[]): SteeringResult {
  const judges: SteeringResult['judges'] = {};
  for (const name of judgeNames) {
    const ok = runs.filter((r) => r.regime !== 'explosive' && r.judges[name]?.success);
    const perScenario = scenarios.filter((sc) => runs.some((r) => r.scenario === sc.id && r.sampling === modes[0]!.name && r.regime !== 'explosive' && r.judges[name]?.success));
    judges[name] = { perRun: proportion(ok.length, runs.length), perScenario: proportion(perScenario.length, scenarios.length) };
  }
  const count = (rs: SteeringRun[]) => ({
    surgical: rs.filter((r) => r.regime === 'surgical').length,
    repetitive: rs.filter((r) => r.regime === 'repetitive').length,
    explosive: rs.filter((r) => r.regime === 'explosive').length,
  });
  const regimeMap = [...new Set(runs.map((r) => r.target))].flatMap((emotion) =>
    strengths.map((strength) => ({ emotion, strength, ...count(runs.filter((r) => r.target === emotion && r.strength === strength)) })));
  return {
    model: model.info.description,
    method: set.meta.method,
    strengths,
    sampling: modes.map((m) => m.name),
    scenarios: scenarios.length,
    runs,
    judges,
    regimes: count(runs),
    regimeMap,
    crossLingualFlags: runs.filter((r) => r.crossLingual.flagged).map((r) => ({ scenario: r.scenario, strength: r.strength, sampling: r.sampling, reason: r.crossLingual.reason })),
  };
}
