/**
 * Strength calibration (`emosteer calibrate`): per emotion of a vector set, the strength an
 * application can use without guessing. For a grid of strengths it measures
 *
 * - **damage** on neutral text: the KL divergence of the steered next-token distributions from
 *   the unsteered ones and the share of unchanged top-1 predictions (lib/quality, the same
 *   measures as `emosteer quality --steering`), every strength in one pass over the text;
 * - **effect**: on neutral prompts, the judge's score for the emotion of the greedy continuation
 *   steered by the emotion minus that of the continuation steered by a random direction with
 *   the same norm at every block (the study's matched control), paired by prompt, with a 95%
 *   bootstrap interval over prompts.
 *
 * The calibrated strength is the largest of the grid whose damage stays within the bound (the
 * upper end of the KL interval at most `maxKl`, the lower end of the top-1 interval at least
 * `minSameTop1`) **and** whose effect interval lies above 0. Effects are measured from the
 * largest strength within the bound downwards, stopping at the first that passes.
 *
 * @example
 * const cal = await calibrateStrengths(model, set, { emotions: ['calm', 'angry'] });
 * await EmotionVectorSet.saveCalibration(setDir, cal);
 * await ctx.generateText(prompt, { steering: { set: await EmotionVectorSet.load(setDir), emotion: 'calm', strength: 'auto' } });
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import { bootstrapCI } from '../evaluate/statistics.js';
import { fileSha256 } from '../util/file-identity.js';
import { compareSteerings } from '../quality/compare.js';
import type { Model } from '../runtime/model.js';
import type { Steering } from '../runtime/steering.js';
import type { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { steeringVectors } from '../vectors/steering-vectors.js';
import { CALIBRATION_VERSION, type CalibratedEmotion, type CalibrationPoint, type DamageBound, type StrengthCalibration } from '../vectors/strength-calibration.js';
import { randomDirectionLike, scenarioSeed } from './controls.js';
import type { Judge } from './judges/judge.js';
import { LexiconJudge } from './judges/lexicon.js';
import { scenariosByKind } from './scenarios.js';

/** The default grid of strengths (fractions of each block's mean residual norm). */
export const DEFAULT_CALIBRATION_STRENGTHS: readonly number[] = Object.freeze([0.0025, 0.005, 0.01, 0.02, 0.04, 0.08]);

/** The default damage bound: mean KL at most 0.3 nats per token, at least 70% of top-1 predictions unchanged. */
export const DEFAULT_DAMAGE_BOUND: Readonly<DamageBound> = Object.freeze({ maxKl: 0.3, minSameTop1: 0.7 });

/** Options of {@link calibrateStrengths}. */
export interface CalibrateOptions {
  /** Emotions to calibrate (default: every emotion of the set). */
  emotions?: readonly string[];
  /** Strengths to try, positive (default {@link DEFAULT_CALIBRATION_STRENGTHS}). */
  strengths?: readonly number[];
  /** The damage bound (default {@link DEFAULT_DAMAGE_BOUND}; a partial bound keeps the other default). */
  bound?: Partial<DamageBound>;
  /** The judge of the effect (default: the built-in {@link LexiconJudge}, offline, all 20 emotions). */
  judge?: Judge;
  /** Prompts the effect is measured on (default: the 13 neutral scenarios' prompts); at least 4. */
  prompts?: readonly string[];
  /** Greedy tokens generated per prompt and arm (default 40). */
  maxTokens?: number;
  /** Neutral text the damage is measured on (default: the quality corpus). */
  text?: string;
  /** Tokens per chunk of the damage measurement (default 256). */
  contextSize?: number;
  /** Chunks of the damage measurement (default 4). */
  chunks?: number;
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** Seed of the bootstraps and of the random directions (default 0). */
  seed?: number;
  /** CPU threads. */
  threads?: number;
  /** Progress after every measurement. */
  onProgress?: (p: CalibrationProgress) => void;
  /** Cancels between measurements. */
  signal?: AbortSignal;
}

/** Progress of {@link calibrateStrengths}. */
export interface CalibrationProgress {
  /** The emotion being calibrated. */
  emotion: string;
  /** Its index among the emotions calibrated (1-based). */
  index: number;
  /** Emotions to calibrate. */
  emotions: number;
  /** What was just measured. */
  phase: 'damage' | 'effect' | 'done';
  /** The strength whose effect was measured (phase 'effect'). */
  strength?: number;
  /** Seconds since the calibration started. */
  seconds: number;
  /** The emotion's calibration (phase 'done'). */
  result?: CalibratedEmotion;
}

const NONE = 'none of the grid';

/**
 * Calibrates the strength of every emotion of `set` on `model` (the model the set was extracted
 * from). Store the result with {@link EmotionVectorSet.saveCalibration}.
 * @throws EmosteerError INVALID_ARGUMENT for bad options, UNKNOWN_EMOTION, ABORTED, and what decoding throws
 */
export async function calibrateStrengths(model: Model, set: EmotionVectorSet, options: CalibrateOptions = {}): Promise<StrengthCalibration> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const emotions = [...(options.emotions ?? set.emotions)];
  for (const e of emotions) if (!set.emotions.includes(e)) throw new EmosteerError('UNKNOWN_EMOTION', `no vector for '${e}' in this set (it has: ${set.emotions.join(', ')})`);
  if (emotions.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'no emotion to calibrate');
  const strengths = [...(options.strengths ?? DEFAULT_CALIBRATION_STRENGTHS)].sort((a, b) => a - b);
  if (strengths.length === 0 || strengths.some((s) => !(typeof s === 'number' && Number.isFinite(s) && s > 0))) throw new EmosteerError('INVALID_ARGUMENT', 'strengths must be positive finite numbers (at least one)');
  const bound: DamageBound = { ...DEFAULT_DAMAGE_BOUND, ...options.bound };
  if (!(bound.maxKl > 0) || !(bound.minSameTop1 >= 0 && bound.minSameTop1 <= 1)) throw new EmosteerError('INVALID_ARGUMENT', `the bound needs maxKl > 0 and minSameTop1 in [0, 1] (got ${JSON.stringify(bound)})`);
  const prompts = [...(options.prompts ?? scenariosByKind('neutral').map((s) => s.prompt))];
  if (prompts.length < 4 || prompts.some((p) => typeof p !== 'string' || p.length === 0)) throw new EmosteerError('INVALID_ARGUMENT', 'at least 4 non-empty prompts are needed for an interval over prompts');
  const maxTokens = options.maxTokens ?? 40;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new EmosteerError('INVALID_ARGUMENT', `maxTokens must be a positive integer (got ${maxTokens})`);
  const judge = options.judge ?? new LexiconJudge();
  const seed = options.seed ?? 0;
  const resamples = options.resamples ?? 1000;
  const threads = options.threads !== undefined ? { threads: options.threads } : {};
  const nEmbd = model.info.nEmbd;

  // One context for the effect runs: both arms of every prompt decoded together.
  const promptTokens = Math.max(...prompts.map((p) => model.tokenize(p, { addSpecial: true }).length));
  const perSeq = promptTokens + maxTokens + 8;
  const ctx = await model.createContext({ sequences: 2 * prompts.length, contextSize: 2 * prompts.length * perSeq, ...threads });
  const out: Record<string, CalibratedEmotion> = {};
  try {
    for (const [i, emotion] of emotions.entries()) {
      const progress = (phase: CalibrationProgress['phase'], strength?: number, result?: CalibratedEmotion) => options.onProgress?.({ emotion, index: i + 1, emotions: emotions.length, phase, ...(strength !== undefined ? { strength } : {}), ...(result ? { result } : {}), seconds: seconds() });
      const aborted = () => { if (options.signal?.aborted) throw new EmosteerError('ABORTED', `calibration stopped at '${emotion}'`, { cause: options.signal.reason }); };
      aborted();
      const steerings = strengths.map((strength) => ({ steering: { set, emotion, strength } as Steering, label: `${emotion} x ${strength}` }));
      const damage = await compareSteerings(model, steerings, {
        ...(options.text !== undefined ? { text: options.text } : {}),
        contextSize: options.contextSize ?? 256,
        chunks: options.chunks ?? 4,
        resamples,
        seed,
        ...threads,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const points: CalibrationPoint[] = strengths.map((strength, k) => {
        const c = damage.candidates[k]!;
        const kl = { value: c.kld.mean.value, ci95: c.kld.mean.ci95 };
        const pct = c.sameTopPercent;
        const sameTop1 = { value: pct.value / 100, ci95: [pct.ci95[0] / 100, pct.ci95[1] / 100] as [number, number] };
        return { strength, kl, sameTop1, withinBound: kl.ci95[1] <= bound.maxKl && sameTop1.ci95[0] >= bound.minSameTop1, effect: null, beatsRandom: null };
      });
      progress('damage');

      let chosen: CalibrationPoint | null = null;
      let judgeBlind = false;
      for (const p of [...points].reverse()) {
        if (!p.withinBound) continue;
        aborted();
        const { vectors, layers } = steeringVectors(set, { emotion, strength: p.strength });
        const randoms: Steering[] = prompts.map((_, j) => ({ vectors: randomDirectionLike(vectors, nEmbd, scenarioSeed(`calibrate-${j}`, seed)), layers }));
        const results = await ctx.generateBatch([...prompts, ...prompts], {
          maxTokens,
          temperature: 0,
          steerings: [...prompts.map(() => ({ set, emotion, strength: p.strength }) as Steering), ...randoms],
          ...(options.signal ? { signal: options.signal } : {}),
        });
        const diffs: number[] = [];
        for (let j = 0; j < prompts.length; j++) {
          const a = await judge.score(results[j]!.text, emotion);
          const b = await judge.score(results[prompts.length + j]!.text, emotion);
          diffs.push(a - b);
        }
        if (diffs.some((d) => !Number.isFinite(d))) {
          judgeBlind = true;
          break;
        }
        const boot = bootstrapCI(diffs.length, (idx) => { let s = 0; for (const k of idx) s += diffs[k]!; return s / idx.length; }, { resamples, seed });
        p.effect = { value: boot.value, ci95: boot.ci95, prompts: prompts.length };
        p.beatsRandom = boot.ci95[0] > 0;
        progress('effect', p.strength);
        if (p.beatsRandom) { chosen = p; break; }
      }
      const within = points.filter((p) => p.withinBound);
      const reason = judgeBlind
        ? `the judge '${judge.name}' cannot score '${emotion}'`
        : chosen
          ? `the largest strength of the grid within the bound (KL <= ${bound.maxKl}, same top-1 >= ${bound.minSameTop1}) whose effect beats the random direction (${judge.name} +${chosen.effect!.value.toFixed(3)} [${chosen.effect!.ci95[0].toFixed(3)}, ${chosen.effect!.ci95[1].toFixed(3)}])`
          : within.length === 0
            ? `${NONE} stays within the damage bound: the smallest, ${points[0]!.strength}, has KL ${points[0]!.kl.value.toFixed(3)} [${points[0]!.kl.ci95[0].toFixed(3)}, ${points[0]!.kl.ci95[1].toFixed(3)}] and same top-1 ${(points[0]!.sameTop1.value * 100).toFixed(1)}%`
            : `no strength within the damage bound (${within.map((p) => p.strength).join(', ')}) moved the judge '${judge.name}' more than the random direction with a 95% interval above 0`;
      out[emotion] = { strength: chosen ? chosen.strength : null, reason, points };
      progress('done', undefined, out[emotion]);
    }
  } finally {
    await ctx.dispose();
  }
  return {
    version: CALIBRATION_VERSION,
    createdAt: new Date().toISOString(),
    model: { sha256: await fileSha256(model.info.path).catch(() => ''), description: model.info.description },
    bound,
    judge: judge.name,
    params: {
      strengths,
      prompts: options.prompts ? prompts.length : `${prompts.length} neutral scenarios`,
      maxTokens,
      decoding: 'greedy',
      damageText: options.text !== undefined ? 'custom' : 'the quality corpus',
      contextSize: options.contextSize ?? 256,
      chunks: options.chunks ?? 4,
      resamples,
      seed,
      control: 'a random direction with the emotion steering\'s norm at every block, one per prompt',
    },
    emotions: out,
    seconds: seconds(),
  };
}
