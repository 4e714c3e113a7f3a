/**
 * Manipulation check of the steering arms (study v2): does each control push the model as hard
 * as the emotion arm? Matching per-block norms is how the controls are built; this measures
 * what the push does. On neutral text, for every arm draw (an arm's steering for one scenario
 * and draw) and strength, one forward pass with the steering and one without, read at the
 * text's last token:
 * - **deltaNorm**: ||h_steered - h_unsteered|| of the residual stream at the arm's last
 *   steered block (the block output, steering included);
 * - **relativeDeltaNorm**: the same divided by ||h_unsteered||;
 * - **kl**: KL(unsteered || steered) of the next-token distribution, in nats, over the whole
 *   vocabulary.
 * Per arm and strength, the mean over scenarios (a scenario's draws and texts averaged first)
 * with a 95% bootstrap interval over scenarios, and each arm's ratio to the emotion arm's mean.
 * An arm far below the emotion arm pushes less, and "emotion beats this control" then says
 * little.
 *
 * Every batch decodes one text only: its unsteered pass and up to `batch - 1` steered ones, so
 * the reference is computed in a batch of the same shape as the passes it is compared with
 * (quantized matrix products round differently with the batch's composition).
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import { bootstrapCI, mean } from '../evaluate/statistics.js';
import type { Model } from '../runtime/model.js';
import type { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import type { SteeringArm } from './controls.js';
import { scenariosByKind } from './scenarios.js';

/** Steering data of one arm draw at one strength: nLayer x nEmbd floats and the block range it steers. */
export interface ArmSteeringData {
  /** nLayer x nEmbd floats, row i = block i. */
  vectors: Float32Array;
  /** Inclusive block range steered. */
  layers: [number, number];
}

/** One arm's steering for one scenario and draw, at any strength. */
export interface ManipulationArm {
  /** The arm. */
  arm: SteeringArm;
  /** The scenario the draw belongs to (draws are averaged within their scenario). */
  scenario: string;
  /** Draw of a control (0 for the emotion and other-emotion arms). */
  draw: number;
  /** Arm draws with equal keys steer alike at every strength and are measured once (e.g. the emotion arm of two scenarios with one target). */
  key?: string;
  /** The steering at a strength (the scenario's sign applied by the caller where it matters). */
  steering: (strength: number) => ArmSteeringData;
}

/** The measures of one arm draw at one strength, averaged over the texts. */
export interface ManipulationMeasure {
  /** Arm. */
  arm: SteeringArm;
  /** Scenario of the draw. */
  scenario: string;
  /** Draw. */
  draw: number;
  /** Strength. */
  strength: number;
  /** The block read (the last steered block). */
  block: number;
  /** ||h_steered - h_unsteered|| at `block`, last token. */
  deltaNorm: number;
  /** deltaNorm / ||h_unsteered||. */
  relativeDeltaNorm: number;
  /** KL(unsteered || steered) of the next-token distribution, nats. */
  kl: number;
}

/** A mean over scenarios with its 95% scenario-bootstrap interval. */
export interface ManipulationStat {
  /** Mean over scenarios of the per-scenario mean. */
  mean: number;
  /** 95% percentile bootstrap interval, resampling scenarios. */
  ci95: [number, number];
}

/** The manipulation check of one arm at one strength. */
export interface ManipulationCheckRow {
  /** Arm. */
  arm: SteeringArm;
  /** Strength. */
  strength: number;
  /** Scenarios averaged over. */
  scenarios: number;
  /** Arm draws measured (scenarios x draws). */
  draws: number;
  /** Change of the last steered block's state. */
  deltaNorm: ManipulationStat;
  /** The change relative to the unsteered state's norm. */
  relativeDeltaNorm: ManipulationStat;
  /** Next-token KL(unsteered || steered), nats. */
  kl: ManipulationStat;
  /** This arm's means over the emotion arm's at the same strength (absent for the emotion arm, or without it). */
  ratioToEmotion?: {
    /** mean deltaNorm / the emotion arm's. */
    deltaNorm: number;
    /** mean kl / the emotion arm's. */
    kl: number;
  };
}

/** Result of {@link manipulationCheck}. */
export interface ManipulationCheckResult {
  /** The neutral texts the arms were measured on. */
  texts: string[];
  /** The blocks read (the last steered block of the arms; one block when all arms steer the same range). */
  blocks: number[];
  /** Per arm and strength, in the order of the arms given, then strength. */
  rows: ManipulationCheckRow[];
  /** Every arm draw's measures at every strength (for finer analysis). */
  measures: ManipulationMeasure[];
}

/** Options of {@link manipulationCheck}. */
export interface ManipulationCheckOptions {
  /** Passes decoded together (default 8; at least 2: the unsteered reference and one steered pass). */
  batch?: number;
  /** CPU threads of the context. */
  threads?: number;
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /** Called after every batch with the passes done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Cancels the check. */
  signal?: AbortSignal;
}

/**
 * Neutral texts of the manipulation check by default: the prompts of the first two built-in
 * `neutral` scenarios (a forecast and a recipe), the same for every model and run.
 */
export const DEFAULT_MANIPULATION_TEXTS: readonly string[] = Object.freeze(scenariosByKind('neutral').slice(0, 2).map((s) => s.prompt));

/**
 * Measures how hard every arm draw pushes the model, at every strength, on neutral texts (see
 * the module comment): the change of the residual stream at the last steered block and the
 * next-token KL divergence, with and without the steering.
 *
 * @param model the steered model (the set's)
 * @param set the vector set the arms come from (checked against the model's width)
 * @param arms arm draws, e.g. the emotion arm and every control of every scenario
 * @param strengths strengths to measure at (positive; each arm applies its own sign)
 * @param texts neutral texts (default {@link DEFAULT_MANIPULATION_TEXTS})
 * @throws EmosteerError INVALID_ARGUMENT for no arms, strengths or texts, a batch below 2, or a set of another width
 *
 * @example
 * ```ts
 * const arms = [{ arm: 'emotion', scenario: 's', draw: 0, steering: (k) => steeringVectors(set, { emotion: 'calm', strength: k }) }];
 * const check = await manipulationCheck(model, set, arms, [0.02], DEFAULT_MANIPULATION_TEXTS);
 * console.log(check.rows[0]?.kl.mean);
 * ```
 */
export async function manipulationCheck(
  model: Model,
  set: EmotionVectorSet,
  arms: readonly ManipulationArm[],
  strengths: readonly number[],
  texts: readonly string[] = DEFAULT_MANIPULATION_TEXTS,
  options: ManipulationCheckOptions = {},
): Promise<ManipulationCheckResult> {
  if (arms.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'the manipulation check needs at least one arm');
  if (strengths.length === 0 || strengths.some((s) => !Number.isFinite(s))) throw new EmosteerError('INVALID_ARGUMENT', 'the manipulation check needs finite strengths');
  if (texts.length === 0 || texts.some((t) => typeof t !== 'string' || t.length === 0)) throw new EmosteerError('INVALID_ARGUMENT', 'the manipulation check needs non-empty neutral texts');
  if (set.nEmbd !== model.nEmbd) throw new EmosteerError('INVALID_ARGUMENT', `the set's vectors have width ${set.nEmbd}, the model's residual stream ${model.nEmbd}`);
  const width = options.batch ?? 8;
  if (!Number.isInteger(width) || width < 2) throw new EmosteerError('INVALID_ARGUMENT', `batch must be an integer of at least 2, got ${String(width)}`);

  // Steering data of every distinct (arm draw, strength), built once; draws with a shared key are measured once.
  const firstOf = new Map<string, number>();
  const source = arms.map((a, ai) => {
    if (a.key === undefined) return ai;
    if (!firstOf.has(a.key)) firstOf.set(a.key, ai);
    return firstOf.get(a.key)!;
  });
  const passes = arms.flatMap((a, ai) => (source[ai] === ai ? strengths.map((strength) => ({ ai, strength, data: a.steering(strength) })) : []));
  const blocks = [...new Set(passes.map((p) => p.data.layers[1]))].sort((a, b) => a - b);
  const longest = Math.max(...texts.map((t) => model.tokenize(t).length));
  const ctx = await model.createContext({ contextSize: width * (longest + 8), sequences: width, threads: options.threads });
  // Per pass, sums over texts.
  const sums = passes.map(() => ({ delta: 0, rel: 0, kl: 0 }));
  const total = texts.length * passes.length;
  let done = 0;
  try {
    for (const text of texts) {
      for (let start = 0; start < passes.length; start += width - 1) {
        if (options.signal?.aborted) throw new EmosteerError('ABORTED', 'the manipulation check was aborted');
        const chunk = passes.slice(start, start + width - 1);
        const out = await ctx.evaluateBatch(Array.from({ length: chunk.length + 1 }, () => text), {
          capture: { layers: blocks, pooling: 'last' },
          logits: true,
          steerings: [null, ...chunk.map((p) => ({ vectors: p.data.vectors, layers: p.data.layers }))],
          signal: options.signal,
        });
        const ref = out[0]!;
        const refLog = logSoftmax(ref.logits!);
        chunk.forEach((p, k) => {
          const r = out[k + 1]!;
          const block = p.data.layers[1];
          const h0 = ref.activations!.row(block);
          const h = r.activations!.row(block);
          let d2 = 0;
          let n2 = 0;
          for (let j = 0; j < h0.length; j++) { d2 += (h[j]! - h0[j]!) ** 2; n2 += h0[j]! ** 2; }
          const s = sums[start + k]!;
          s.delta += Math.sqrt(d2);
          s.rel += n2 > 0 ? Math.sqrt(d2 / n2) : Number.NaN;
          s.kl += klDivergence(refLog, logSoftmax(r.logits!));
        });
        done += chunk.length;
        options.onProgress?.(done, total);
      }
    }
  } finally {
    await ctx.dispose();
  }
  const passIndex = new Map(passes.map((p, i) => [`${p.ai}|${p.strength}`, i]));
  const measures: ManipulationMeasure[] = arms.flatMap((a, ai) => strengths.map((strength) => {
    const i = passIndex.get(`${source[ai]}|${strength}`)!;
    const p = passes[i]!;
    const s = sums[i]!;
    return { arm: a.arm, scenario: a.scenario, draw: a.draw, strength, block: p.data.layers[1], deltaNorm: s.delta / texts.length, relativeDeltaNorm: s.rel / texts.length, kl: s.kl / texts.length };
  }));
  return { texts: [...texts], blocks, rows: summarizeManipulation(measures, { resamples: options.resamples, seed: options.seed }), measures };
}

/**
 * Per arm and strength, the mean over scenarios of each measure (a scenario's draws averaged
 * first) with a 95% scenario-bootstrap interval, and the ratio of the arm's means to the
 * emotion arm's at the same strength. Rows follow the order in which arms first appear, then
 * ascending strength.
 */
export function summarizeManipulation(measures: readonly ManipulationMeasure[], options: { resamples?: number; seed?: number } = {}): ManipulationCheckRow[] {
  const boot = { resamples: options.resamples ?? 1000, seed: options.seed ?? 0 };
  const arms = [...new Set(measures.map((m) => m.arm))];
  const strengths = [...new Set(measures.map((m) => m.strength))].sort((a, b) => a - b);
  const rows: ManipulationCheckRow[] = [];
  for (const arm of arms) {
    for (const strength of strengths) {
      const mine = measures.filter((m) => m.arm === arm && m.strength === strength);
      if (mine.length === 0) continue;
      const ids = [...new Set(mine.map((m) => m.scenario))];
      const stat = (key: 'deltaNorm' | 'relativeDeltaNorm' | 'kl'): ManipulationStat => {
        const v = ids.map((id) => mean(mine.filter((m) => m.scenario === id).map((m) => m[key])));
        const b = bootstrapCI(v.length, (idx) => { let s = 0; for (const i of idx) s += v[i]!; return s / idx.length; }, boot);
        return { mean: b.value, ci95: b.ci95 };
      };
      rows.push({ arm, strength, scenarios: ids.length, draws: mine.length, deltaNorm: stat('deltaNorm'), relativeDeltaNorm: stat('relativeDeltaNorm'), kl: stat('kl') });
    }
  }
  for (const r of rows) {
    const e = rows.find((x) => x.arm === 'emotion' && x.strength === r.strength);
    if (r.arm !== 'emotion' && e) r.ratioToEmotion = { deltaNorm: r.deltaNorm.mean / e.deltaNorm.mean, kl: r.kl.mean / e.kl.mean };
  }
  return rows;
}

/** Natural-log softmax of logits, in double precision. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i]! - max);
  const lse = max + Math.log(s);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - lse;
  return out;
}

/** KL(p || q) in nats from log-probabilities over the same support (0 for equal rows, never negative beyond rounding). */
export function klDivergence(logP: ArrayLike<number>, logQ: ArrayLike<number>): number {
  if (logP.length !== logQ.length) throw new EmosteerError('INVALID_ARGUMENT', `distributions of ${logP.length} and ${logQ.length} entries`);
  let kl = 0;
  for (let i = 0; i < logP.length; i++) {
    const lp = logP[i]!;
    if (lp === -Infinity) continue;
    kl += Math.exp(lp) * (lp - logQ[i]!);
  }
  return Math.max(0, kl);
}
