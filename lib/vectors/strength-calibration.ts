/**
 * Calibrated strengths: what `emosteer calibrate` (lib/steer/calibrate.ts) stores in a vector
 * set's manifest (the versioned field `calibration`; sets without it still load), and how a
 * strength given as `'auto'` or as a fraction of the calibrated one (`{ auto: 0.5 }`) becomes a
 * number. Resolution happens where a set's emotion becomes steering data
 * ({@link steeringVectors}), so `'auto'` means the same in process, in the scheduler and over
 * HTTP.
 *
 * @module
 */
import { EmosteerError } from '../errors.js';

/** Version of the `calibration` field this library writes and reads. */
export const CALIBRATION_VERSION = 1;

/**
 * A strength: a number (a fraction of the block's mean residual norm with 'norm' scaling),
 * `'auto'` (the set's calibrated strength for that emotion) or `{ auto: f }` (f times it;
 * negative f steers away).
 */
export type Strength = number | 'auto' | AutoFraction;

/** A strength given as a fraction of the calibrated one. */
export interface AutoFraction {
  /** The factor the calibrated strength is multiplied by (negative steers away). */
  auto: number;
}

/** A figure with its 95% interval. */
export interface IntervalEstimate {
  /** The figure. */
  value: number;
  /** Its 95% interval. */
  ci95: [number, number];
}

/** The damage bound a calibrated strength stays under. */
export interface DamageBound {
  /** Largest mean KL divergence (nats per token) of the steered next-token distributions from the unsteered ones; the upper end of its 95% interval must stay at or below it. */
  maxKl: number;
  /** Smallest share (0..1) of tokens whose most probable next token is the unsteered one; the lower end of its 95% interval must stay at or above it. */
  minSameTop1: number;
}

/** What one strength of the grid measured for one emotion. */
export interface CalibrationPoint {
  /** The strength tried. */
  strength: number;
  /** Mean KL divergence from the unsteered run on the neutral text, with its 95% interval. */
  kl: IntervalEstimate;
  /** Share of same top-1 predictions (0..1), with its 95% interval. */
  sameTop1: IntervalEstimate;
  /** Whether the damage stays within the bound. */
  withinBound: boolean;
  /**
   * Mean paired difference of the judge's score for the emotion, emotion-steered minus
   * random-direction-steered (same norm per block, same prompt, greedy), with its 95% bootstrap
   * interval over prompts; null when not measured (the damage was out of bounds, or a larger
   * strength had already passed).
   */
  effect: (IntervalEstimate & {
    /** Prompts the differences were paired over. */
    prompts: number;
  }) | null;
  /** Whether the effect's interval lies above 0. */
  beatsRandom: boolean | null;
}

/** One emotion's calibration. */
export interface CalibratedEmotion {
  /** The strength to use: the largest of the grid within the bound whose effect beats random; null when none did. */
  strength: number | null;
  /** Why the strength is null, or how it was chosen. */
  reason: string;
  /** Every strength measured, ascending. */
  points: CalibrationPoint[];
}

/** The `calibration` field of a vector set's manifest. */
export interface StrengthCalibration {
  /** {@link CALIBRATION_VERSION} when written. */
  version: number;
  /** When it was made (ISO 8601). */
  createdAt: string;
  /** The model file it was measured on. */
  model: {
    /** sha256 of the GGUF file ('' when unknown). */
    sha256: string;
    /** llama.cpp's one-line description. */
    description: string;
  };
  /** The damage bound. */
  bound: DamageBound;
  /** The judge of the effect (its name). */
  judge: string;
  /** How it was measured (grid, prompts, tokens, text, seed). */
  params: Record<string, unknown>;
  /** Per emotion. */
  emotions: Record<string, CalibratedEmotion>;
  /** Wall time of the calibration. */
  seconds: number;
}

/** What a set needs to resolve strengths (an EmotionVectorSet satisfies it). */
export interface CalibratedSetLike {
  /** The set's metadata (its optional `calibration`). */
  readonly meta: {
    /** The set's calibration, when it has one. */
    readonly calibration?: StrengthCalibration;
  };
}

const HOW = 'run `npx emosteer calibrate <set-dir> --model <model>` (or calibrateStrengths in code) to calibrate it';

/**
 * The number a strength stands for with this set.
 * @throws EmosteerError NOT_CALIBRATED for 'auto' on a set without calibration (or without a
 *   calibrated strength for the emotion); INVALID_ARGUMENT for a malformed strength
 */
export function resolveStrength(set: CalibratedSetLike, emotion: string, strength: Strength): number {
  if (typeof strength === 'number') return strength;
  let factor: number;
  if (strength === 'auto') factor = 1;
  else if (typeof strength === 'object' && strength !== null && typeof (strength as { auto?: unknown }).auto === 'number' && Object.keys(strength).length === 1) factor = strength.auto;
  else throw new EmosteerError('INVALID_ARGUMENT', `strength must be a number, 'auto' or { auto: factor } (got ${JSON.stringify(strength)})`);
  if (!Number.isFinite(factor)) throw new EmosteerError('NON_FINITE_VECTOR', `the factor of the calibrated strength for '${emotion}' is not finite`);
  const cal = set.meta.calibration;
  if (cal === undefined || cal === null) throw new EmosteerError('NOT_CALIBRATED', `strength 'auto' for '${emotion}': this vector set has no calibrated strengths; ${HOW}`);
  if (cal.version !== CALIBRATION_VERSION) throw new EmosteerError('NOT_CALIBRATED', `strength 'auto' for '${emotion}': the set's calibration has version ${String(cal.version)}, this library reads version ${CALIBRATION_VERSION}; calibrate it again`);
  const e = cal.emotions[emotion];
  if (!e) throw new EmosteerError('NOT_CALIBRATED', `strength 'auto': '${emotion}' was not calibrated (calibrated: ${Object.keys(cal.emotions).join(', ') || 'none'}); ${HOW} --emotions ${emotion}`);
  if (e.strength === null) throw new EmosteerError('NOT_CALIBRATED', `strength 'auto' for '${emotion}': no strength of the calibration grid passed (${e.reason}); give a number instead`);
  return e.strength * factor;
}

/** The calibrated strength of every emotion that has one (for listings such as GET /v1/steering). */
export function calibratedStrengths(set: CalibratedSetLike): Record<string, number> | null {
  const cal = set.meta.calibration;
  if (!cal || cal.version !== CALIBRATION_VERSION) return null;
  const out: Record<string, number> = {};
  for (const [e, c] of Object.entries(cal.emotions)) if (c.strength !== null) out[e] = c.strength;
  return out;
}

/**
 * Checks the shape of a manifest's `calibration` field (undefined is fine: old sets). A field
 * of another version is kept as it is (resolving 'auto' then says to calibrate again).
 * @returns a message naming what is wrong, or null
 */
export function calibrationProblem(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return "'calibration' is not an object";
  const c = value as Record<string, unknown>;
  if (typeof c.version !== 'number') return "'calibration.version' is not a number";
  if (c.version !== CALIBRATION_VERSION) return null;
  if (typeof c.emotions !== 'object' || c.emotions === null || Array.isArray(c.emotions)) return "'calibration.emotions' is not an object";
  for (const [e, v] of Object.entries(c.emotions as Record<string, unknown>)) {
    const s = (v as { strength?: unknown } | null)?.strength;
    if (!(s === null || (typeof s === 'number' && Number.isFinite(s)))) return `'calibration.emotions.${e}.strength' is neither a finite number nor null`;
  }
  return null;
}
