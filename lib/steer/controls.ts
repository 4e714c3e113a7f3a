/**
 * Control arms of the steering experiment, and the statistics that compare against them.
 *
 * A scenario "succeeding" when some strength moves a judge says little by itself: any push on
 * the residual stream changes the text, and a judge may read any change as a move. Two
 * controls make the claim falsifiable:
 * - **random**: a random direction with exactly the per-block norm of the emotion steering
 *   (the same strength x mean residual norm), one direction per seed, the same for every
 *   scenario (so all scenarios of one seed share one batched decode);
 * - **other-emotion**: another emotion's vector with the paper's scaling, judged for the
 *   scenario's own target (a vector that is specific to its emotion should not move a judge
 *   of a different emotion as often).
 * The contrast "steered minus control" is estimated per strength with a bootstrap that
 * resamples whole scenarios (runs of one scenario are not independent), both arms taken over
 * the sampling modes the control ran under.
 *
 * @module
 */
import { bootstrapCI, seededRandom } from '../evaluate/statistics.js';

/** Which steering a run used: the target's own vector or one of the controls. */
export type SteeringArm = 'emotion' | 'random' | 'other-emotion';

/** Options of the control arms. */
export interface ControlOptions {
  /** Random directions (seeds 0..n-1) per strength and sampling mode (default 2; 0 = none). */
  randomSeeds?: number;
  /** Steer with another emotion's vector too (default true). */
  otherEmotion?: boolean;
  /** Sampling modes (by name) the controls run under (default: the first mode only, greedy by default). */
  sampling?: readonly string[];
}

/**
 * Steering data with the same per-block norms as `like` (nLayer x nEmbd, row i = block i) but a
 * random direction per block: a standard normal draw from a generator seeded with `seed` (the same for a seed on every machine),
 * normalised, scaled to that block's norm. Rows that are zero stay zero.
 */
export function randomDirectionLike(like: Float32Array, nEmbd: number, seed: number): Float32Array {
  const rand = seededRandom(0x5eed0000 + seed);
  const gauss = () => {
    // Box-Muller; 1 - u keeps the logarithm finite.
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const out = new Float32Array(like.length);
  const rows = like.length / nEmbd;
  for (let r = 0; r < rows; r++) {
    let target = 0;
    for (let j = 0; j < nEmbd; j++) target += like[r * nEmbd + j]! ** 2;
    // Draw every row, used or not, so a row's direction does not depend on which rows are steered.
    const g = new Float64Array(nEmbd);
    let n2 = 0;
    for (let j = 0; j < nEmbd; j++) { g[j] = gauss(); n2 += g[j]! ** 2; }
    if (target === 0) continue;
    const k = Math.sqrt(target / n2);
    for (let j = 0; j < nEmbd; j++) out[r * nEmbd + j] = g[j]! * k;
  }
  return out;
}

/**
 * The "other emotion" of a scenario's control arm: a deterministic choice among the set's
 * emotions other than the target, spread over the list so controls do not all use one
 * emotion (the emotion `offset` places after the target, skipping the target).
 */
export function otherEmotionFor(target: string, emotions: readonly string[], offset: number): string | undefined {
  const others = emotions.filter((e) => e !== target);
  if (others.length === 0) return undefined;
  const i = emotions.indexOf(target);
  return others[((i < 0 ? 0 : i) + offset) % others.length];
}

/** Steered minus control success, with a scenario bootstrap. */
export interface ControlContrast {
  /** Name of the judge whose verdicts are compared. */
  judge: string;
  /** The control arm compared with the emotion arm. */
  control: Exclude<SteeringArm, 'emotion'>;
  /** A strength, or 'any' for the paper's unit (success at any strength, first sampling mode). */
  strength: number | 'any';
  /** Scenarios that have both arms at this strength. */
  scenarios: number;
  /** Mean success of the emotion arm over those scenarios. */
  steeredRate: number;
  /** Mean success of the control arm (averaged over its seeds). */
  controlRate: number;
  /** steered - control, with a 95% percentile interval from resampling whole scenarios. */
  difference: {
    /** steeredRate - controlRate. */
    value: number;
    /** 95% percentile bootstrap interval of the difference. */
    ci95: [number, number];
  };
}

/** One success indicator of a run, as the contrast needs it. */
export interface ArmOutcome {
  /** Scenario id. */
  scenario: string;
  /** Which vector steered the run. */
  arm: SteeringArm;
  /** Steering strength of the run. */
  strength: number;
  /** Sampling mode (by name) of the run. */
  sampling: string;
  /** Seed of a random control (0 for the other arms). */
  seed: number;
  /** Whether the run counts as a success for the judge: moved the intended way by more than the margin, and not explosive. */
  success: boolean;
}

/**
 * Per-scenario success of an arm at a strength ('any' = the share of seeds, per scenario, for
 * which some strength succeeded under `firstMode`), averaged over sampling modes and seeds.
 */
function scenarioRates(outcomes: readonly ArmOutcome[], arm: SteeringArm, strength: number | 'any', firstMode: string): Map<string, number> {
  const rates = new Map<string, number>();
  const mine = outcomes.filter((o) => o.arm === arm && (strength === 'any' ? o.sampling === firstMode : o.strength === strength));
  const byScenario = new Map<string, ArmOutcome[]>();
  for (const o of mine) byScenario.set(o.scenario, [...(byScenario.get(o.scenario) ?? []), o]);
  for (const [sc, list] of byScenario) {
    if (strength === 'any') {
      const seeds = [...new Set(list.map((o) => o.seed))];
      rates.set(sc, seeds.filter((s) => list.some((o) => o.seed === s && o.success)).length / seeds.length);
    } else {
      rates.set(sc, list.filter((o) => o.success).length / list.length);
    }
  }
  return rates;
}

/**
 * Steered minus control per judge, control arm and strength (and 'any'), each with a bootstrap
 * interval over scenarios (1000 resamples, seeded).
 *
 * @param outcomes per judge, every run's success indicator (emotion and control arms)
 */
export function controlContrasts(outcomes: Record<string, readonly ArmOutcome[]>, strengths: readonly number[], firstMode: string, options: { resamples?: number; seed?: number } = {}): ControlContrast[] {
  const out: ControlContrast[] = [];
  for (const [judge, list] of Object.entries(outcomes)) {
    for (const control of ['random', 'other-emotion'] as const) {
      if (!list.some((o) => o.arm === control)) continue;
      // Both arms over the sampling modes the control ran under (greedy only by default), so
      // that the steered rate is not averaged over modes the control never saw.
      const modes = new Set(list.filter((o) => o.arm === control).map((o) => o.sampling));
      const same = list.filter((o) => modes.has(o.sampling));
      for (const strength of [...strengths, 'any' as const]) {
        const a = scenarioRates(same, 'emotion', strength, firstMode);
        const b = scenarioRates(same, control, strength, firstMode);
        const both = [...a.keys()].filter((k) => b.has(k));
        if (both.length === 0) continue;
        const x = both.map((k) => a.get(k)!);
        const y = both.map((k) => b.get(k)!);
        const meanAt = (v: number[], idx: Int32Array) => { let s = 0; for (const i of idx) s += v[i]!; return s / idx.length; };
        const boot = bootstrapCI(both.length, (idx) => meanAt(x, idx) - meanAt(y, idx), { resamples: options.resamples ?? 1000, seed: options.seed ?? 0 });
        const all = Int32Array.from(both.keys());
        out.push({ judge, control, strength, scenarios: both.length, steeredRate: meanAt(x, all), controlRate: meanAt(y, all), difference: { value: boot.value, ci95: boot.ci95 } });
      }
    }
  }
  return out;
}
