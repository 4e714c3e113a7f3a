/**
 * Continuous steering effects (study v2): how far each judge's score moved, per arm and
 * strength, against the judge's own noise, instead of whether it crossed a margin.
 *
 * - **Signed delta** of a run for a judge: (steered score - greedy baseline score) x (+1 for a
 *   scenario that steers toward its target, -1 for one that steers away), so positive is
 *   always the intended way ({@link signedDelta}).
 * - **Noise floor** of a judge on a scenario: |score(sampled baseline 1) - score(sampled
 *   baseline 2)|, two unsteered samples of the same prompt with different seeds: how much the
 *   judge moves when nothing was steered ({@link noiseFloor}; with more than two samples, the
 *   mean absolute difference over pairs).
 * - **Arm effect**: per judge, arm, strength and scenario group, the mean over scenarios of the
 *   per-scenario mean signed delta (draws of a control averaged within their scenario first),
 *   with a 95% bootstrap interval that resamples scenarios ({@link steeringEffects}).
 * - **Contrast**: emotion minus each control, paired by scenario, with a paired scenario
 *   bootstrap.
 * Everything is given twice: over all runs, and over surgical runs only (leaving out runs in
 * repetitive collapse or explosive, whose judge moves say little about the emotion). The
 * primary analysis is on scenarios of kind `neutral` and `toward` ({@link PRIMARY_KINDS});
 * `loaded` and `away` scenarios are reported apart, because washing out a prompt's emotion
 * moves a judge the "right" way for them without adding anything.
 *
 * @module
 */
import { bootstrapCI, mean, quantile } from '../evaluate/statistics.js';
import type { ScenarioKind } from './scenarios.js';
import type { SteeringArm } from './controls.js';
import type { Regime } from './regimes.js';

/** The scenario kinds of the primary analysis. */
export const PRIMARY_KINDS: readonly ScenarioKind[] = ['neutral', 'toward'];

/** Which scenarios an effect is computed over: the primary kinds together, or one of the others apart. */
export type ScenarioGroup = 'primary' | 'loaded' | 'away';

/** The groups effects are reported for, primary first. */
export const SCENARIO_GROUPS: readonly ScenarioGroup[] = ['primary', 'loaded', 'away'];

/** The group of a scenario kind: 'primary' for {@link PRIMARY_KINDS}, else the kind itself. */
export function scenarioGroup(kind: ScenarioKind): ScenarioGroup {
  return PRIMARY_KINDS.includes(kind) ? 'primary' : (kind as ScenarioGroup);
}

/** Which runs an effect counts: all of them, or the surgical ones only. */
export type RunFilter = 'all' | 'surgical';

/** What a run must carry for the continuous effects (a {@link "emosteer/steer"!SteeringRun | SteeringRun} has all of it). */
export interface EffectRun {
  /** Scenario id. */
  scenario: string;
  /** Steered toward or away from the target. */
  direction: 'toward' | 'away';
  /** Arm (absent = 'emotion', as in files written before controls existed). */
  arm?: SteeringArm;
  /** Strength of the run. */
  strength: number;
  /** Sampling mode (by name). */
  sampling: string;
  /** Draw of a control (absent = 0). */
  controlSeed?: number;
  /** Regime of the continuation. */
  regime: Regime;
  /** Verdict of each judge that judged the run: `delta` is steered minus baseline score. */
  judges: Record<string, {
    /** Steered minus baseline score. */
    delta: number;
  } | undefined>;
}

/**
 * The judge's move on a run, positive in the intended direction: steered minus baseline score,
 * negated for a scenario that steers away; NaN when the judge did not judge the run or could
 * not say.
 */
export function signedDelta(run: Pick<EffectRun, 'direction' | 'judges'>, judge: string): number {
  const d = run.judges[judge]?.delta;
  if (d === undefined || !Number.isFinite(d)) return Number.NaN;
  return run.direction === 'away' ? -d : d;
}

/** The judge scores of a scenario's sampled unsteered baselines. */
export interface NoiseScores {
  /** Scenario id. */
  scenario: string;
  /** Per judge, its score of each sampled baseline (in seed order). */
  scores: Record<string, readonly number[]>;
}

/** A judge's noise floor: its move between sampled unsteered baselines, per scenario and over scenarios. */
export interface NoiseFloor {
  /** Judge name. */
  judge: string;
  /** Scenarios with at least two finite scores. */
  scenarios: number;
  /** Noise per scenario id: |s1 - s2| (mean absolute pairwise difference for more samples). */
  perScenario: Record<string, number>;
  /** Mean over scenarios (NaN when none). */
  mean: number;
  /** Median over scenarios (NaN when none). */
  median: number;
  /** 90th percentile over scenarios (NaN when none). */
  q90: number;
  /** Largest over scenarios (NaN when none). */
  max: number;
}

/**
 * Every judge's noise floor from the scores of the sampled unsteered baselines: per scenario
 * |score(sample 1) - score(sample 2)| (the mean absolute difference over all pairs when there
 * are more samples; NaN scores left out, a scenario with fewer than two finite scores skipped),
 * and its distribution over scenarios.
 */
export function noiseFloor(baselines: readonly NoiseScores[], judges: readonly string[]): NoiseFloor[] {
  return judges.map((judge) => {
    const perScenario: Record<string, number> = {};
    for (const b of baselines) {
      const s = (b.scores[judge] ?? []).filter((x) => Number.isFinite(x));
      if (s.length < 2) continue;
      let sum = 0;
      let n = 0;
      for (let i = 0; i < s.length; i++) for (let j = i + 1; j < s.length; j++) { sum += Math.abs(s[i]! - s[j]!); n++; }
      perScenario[b.scenario] = sum / n;
    }
    const v = Object.values(perScenario);
    const stat = (f: (x: number[]) => number) => (v.length ? f(v) : Number.NaN);
    return { judge, scenarios: v.length, perScenario, mean: stat(mean), median: stat((x) => quantile(x, 0.5)), q90: stat((x) => quantile(x, 0.9)), max: stat((x) => Math.max(...x)) };
  });
}

/** The mean signed delta of an arm at a strength over a scenario group. */
export interface ArmEffect {
  /** Judge name. */
  judge: string;
  /** Arm. */
  arm: SteeringArm;
  /** Strength. */
  strength: number;
  /** Scenario group ('primary' = neutral + toward). */
  group: ScenarioGroup;
  /** Runs counted: all, or surgical only. */
  runs: RunFilter;
  /** Scenarios with at least one counted run with a finite signed delta. */
  scenarios: number;
  /** Mean over those scenarios of the per-scenario mean signed delta. */
  meanDelta: number;
  /** 95% percentile bootstrap interval of `meanDelta`, resampling scenarios. */
  ci95: [number, number];
  /**
   * Share of the scenarios (of those with a known noise floor) whose mean signed delta exceeds
   * the judge's noise floor on that scenario; absent without noise floors.
   */
  aboveNoise?: number;
}

/** Emotion minus a control arm, paired by scenario. */
export interface EffectContrast {
  /** Judge name. */
  judge: string;
  /** The control compared with the emotion arm. */
  control: Exclude<SteeringArm, 'emotion'>;
  /** Strength. */
  strength: number;
  /** Scenario group. */
  group: ScenarioGroup;
  /** Runs counted: all, or surgical only (a scenario counts where both arms have a counted run). */
  runs: RunFilter;
  /** Scenarios with both arms. */
  scenarios: number;
  /** Mean signed delta of the emotion arm over those scenarios. */
  emotion: number;
  /** Mean signed delta of the control over those scenarios. */
  controlDelta: number;
  /** emotion - control, with a 95% paired bootstrap interval (scenarios resampled, both arms together). */
  difference: {
    /** Mean over scenarios of (emotion - control). */
    value: number;
    /** 95% percentile interval. */
    ci95: [number, number];
  };
}

/** The continuous effects of a steering experiment. */
export interface SteeringEffects {
  /** The sampling mode whose runs were counted. */
  sampling: string;
  /** Per judge, arm, strength, group and run filter. */
  effects: ArmEffect[];
  /** Emotion minus every control, per judge, strength, group and run filter. */
  contrasts: EffectContrast[];
  /** The judges' noise floors, when sampled baselines were scored. */
  noiseFloor?: NoiseFloor[];
}

/** Options of {@link steeringEffects}. */
export interface SteeringEffectsOptions {
  /** The sampling mode whose runs count (default 'greedy'). */
  sampling?: string;
  /** The noise floors ({@link noiseFloor}); gives `aboveNoise` and is returned with the effects. */
  noiseFloor?: readonly NoiseFloor[];
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
}

const meanAt = (v: readonly number[], idx: Int32Array) => {
  let s = 0;
  for (const i of idx) s += v[i]!;
  return s / idx.length;
};

/**
 * Mean signed judge deltas per judge, arm, strength, scenario group and run filter, each with a
 * scenario-bootstrap interval, and emotion minus every control with a paired scenario
 * bootstrap. Runs of scenarios missing from `kinds` are left out.
 *
 * @param runs every run of the experiment, emotion and control arms
 * @param kinds the kind of every scenario, by id
 * @param judges the judges to report
 *
 * @example
 * ```ts
 * const kinds = Object.fromEntries(SCENARIOS.map((s) => [s.id, s.kind]));
 * const fx = steeringEffects([...result.runs, ...(result.controlRuns ?? [])], kinds, ['lexicon']);
 * fx.contrasts.filter((c) => c.group === 'primary' && c.runs === 'surgical');
 * ```
 */
export function steeringEffects(runs: readonly EffectRun[], kinds: Readonly<Record<string, ScenarioKind>>, judges: readonly string[], options: SteeringEffectsOptions = {}): SteeringEffects {
  const sampling = options.sampling ?? 'greedy';
  const boot = { resamples: options.resamples ?? 1000, seed: options.seed ?? 0 };
  const mine = runs.filter((r) => r.sampling === sampling && kinds[r.scenario] !== undefined);
  const arms = [...new Set(mine.map((r) => r.arm ?? 'emotion'))];
  const strengths = [...new Set(mine.map((r) => r.strength))].sort((a, b) => a - b);
  const effects: ArmEffect[] = [];
  const contrasts: EffectContrast[] = [];
  for (const judge of judges) {
    const noise = options.noiseFloor?.find((n) => n.judge === judge)?.perScenario;
    for (const group of SCENARIO_GROUPS) {
      for (const filter of ['all', 'surgical'] as const) {
        const counted = mine.filter((r) => scenarioGroup(kinds[r.scenario]!) === group && (filter === 'all' || r.regime === 'surgical'));
        for (const strength of strengths) {
          const perArm = new Map<SteeringArm, Map<string, number>>();
          for (const arm of arms) perArm.set(arm, perScenarioMeans(counted.filter((r) => (r.arm ?? 'emotion') === arm && r.strength === strength), judge));
          for (const arm of arms) {
            const m = perArm.get(arm)!;
            if (m.size === 0) continue;
            const ids = [...m.keys()];
            const v = ids.map((id) => m.get(id)!);
            const b = bootstrapCI(v.length, (idx) => meanAt(v, idx), boot);
            const known = noise ? ids.filter((id) => noise[id] !== undefined) : [];
            effects.push({
              judge, arm, strength, group, runs: filter, scenarios: v.length, meanDelta: b.value, ci95: b.ci95,
              ...(noise ? { aboveNoise: known.length ? known.filter((id) => m.get(id)! > noise[id]!).length / known.length : Number.NaN } : {}),
            });
          }
          const emotion = perArm.get('emotion');
          if (!emotion || emotion.size === 0) continue;
          for (const control of arms) {
            if (control === 'emotion') continue;
            const c = perArm.get(control)!;
            const both = [...emotion.keys()].filter((id) => c.has(id));
            if (both.length === 0) continue;
            const x = both.map((id) => emotion.get(id)!);
            const y = both.map((id) => c.get(id)!);
            const d = both.map((_, i) => x[i]! - y[i]!);
            const b = bootstrapCI(d.length, (idx) => meanAt(d, idx), boot);
            contrasts.push({ judge, control, strength, group, runs: filter, scenarios: both.length, emotion: mean(x), controlDelta: mean(y), difference: { value: b.value, ci95: b.ci95 } });
          }
        }
      }
    }
  }
  return { sampling, effects, contrasts, ...(options.noiseFloor ? { noiseFloor: [...options.noiseFloor] } : {}) };
}

/** Per scenario, the mean signed delta of the runs given (NaN deltas left out; scenarios with none skipped). */
function perScenarioMeans(runs: readonly EffectRun[], judge: string): Map<string, number> {
  const acc = new Map<string, [number, number]>();
  for (const r of runs) {
    const d = signedDelta(r, judge);
    if (Number.isNaN(d)) continue;
    const a = acc.get(r.scenario) ?? [0, 0];
    acc.set(r.scenario, [a[0] + d, a[1] + 1]);
  }
  return new Map([...acc].map(([id, [s, n]]) => [id, s / n]));
}
