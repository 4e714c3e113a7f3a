/**
 * The LLM judge's pairwise verdicts on a steering experiment (docs/PREREG.md, prereg-2): for
 * each chosen run, is the steered continuation more of the target emotion than the greedy
 * baseline of the same prompt? ({@link PairwiseJudge}, both orders). The effect of a run is
 * P(steered chosen) - 0.5, times -1 when the scenario steers away; arms are compared paired by
 * scenario with a scenario bootstrap.
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import { bootstrapCI } from '../evaluate/statistics.js';
import type { Estimate } from '../evaluate/types.js';
import type { SteeringRun } from './experiment.js';
import type { PairwiseJudge } from './judges/pairwise-judge.js';
import type { PairwiseValidation } from './judges/pairwise-validation.js';
import { SCENARIOS, type ScenarioKind } from './scenarios.js';
import { PRIMARY_KINDS } from './steering-effects.js';
import type { SavedSteeringResult } from './steering-result.js';

/** One pairwise verdict on one steered run. */
export interface PairwiseRunVerdict {
  /** Scenario id. */
  scenario: string;
  /** The emotion asked about (the scenario's target). */
  target: string;
  /** Whether the scenario steers toward the target or away from it. */
  direction: 'toward' | 'away';
  /** The run's arm. */
  arm: string;
  /** The run's strength. */
  strength: number;
  /** Draw of a random or shuffled-label control. */
  controlSeed?: number;
  /** P(the steered text expresses more of the target than the baseline), both orders averaged. */
  probability: number;
  /** The two orders' probabilities (steered first, steered second). */
  orders: [number, number];
}

/** Which runs are judged ({@link pairwiseRuns}). */
export interface PairwiseSelection {
  /** Strength of the runs (the primary strength). */
  strength: number;
  /** Arms judged (default emotion, random, other-emotion). */
  arms?: readonly string[];
  /** Scenario kinds judged (default the primary kinds, neutral and toward). */
  kinds?: readonly ScenarioKind[];
  /** Sampling mode of the runs (default the result's first, greedy). */
  sampling?: string;
}

/** The default arms of the LLM judge (docs/PREREG.md). */
export const PAIRWISE_ARMS: readonly string[] = Object.freeze(['emotion', 'random', 'other-emotion']);

/** A stable key of a run (scenario, arm, strength, draw). */
export function pairwiseRunKey(r: { scenario: string; arm?: string; strength: number; controlSeed?: number }): string {
  return `${r.scenario}|${r.arm ?? 'emotion'}|${r.strength}|${r.controlSeed ?? ''}`;
}

/**
 * The runs of a saved steering result the LLM judge compares with their baselines, in a stable
 * order (scenario suite order, then arm).
 * @throws EmosteerError INVALID_ARGUMENT when no run matches
 */
export function pairwiseRuns(saved: SavedSteeringResult, selection: PairwiseSelection): SteeringRun[] {
  const arms = selection.arms ?? PAIRWISE_ARMS;
  const kinds = selection.kinds ?? PRIMARY_KINDS;
  const sampling = selection.sampling ?? saved.sampling[0] ?? 'greedy';
  const kind = new Map(SCENARIOS.map((s) => [s.id, s.kind]));
  const order = new Map(SCENARIOS.map((s, i) => [s.id, i]));
  const all = [...saved.runs, ...(saved.controlRuns ?? [])];
  const out = all.filter((r) => r.sampling === sampling && r.strength === selection.strength && arms.includes(r.arm ?? 'emotion') && kinds.includes(kind.get(r.scenario)!));
  if (out.length === 0) throw new EmosteerError('INVALID_ARGUMENT', `no ${sampling} run at strength ${selection.strength} of the arms ${arms.join(', ')} on ${kinds.join('/')} scenarios`);
  return out.sort((a, b) => (order.get(a.scenario)! - order.get(b.scenario)!) || arms.indexOf(a.arm ?? 'emotion') - arms.indexOf(b.arm ?? 'emotion') || (a.controlSeed ?? 0) - (b.controlSeed ?? 0));
}

/** Asks the judge about one run: steered continuation against its greedy baseline, for the scenario's target. */
export async function judgeRunPairwise(judge: PairwiseJudge, run: SteeringRun): Promise<PairwiseRunVerdict> {
  const c = await judge.compare(run.text, run.baselineText, run.target);
  return {
    scenario: run.scenario, target: run.target, direction: run.direction, arm: run.arm ?? 'emotion', strength: run.strength,
    ...(run.controlSeed !== undefined ? { controlSeed: run.controlSeed } : {}),
    probability: c.probability, orders: c.orders,
  };
}

/** The signed effect of one verdict: P - 0.5, times -1 for `away`. */
export function pairwiseEffect(v: Pick<PairwiseRunVerdict, 'probability' | 'direction'>): number {
  return (v.direction === 'away' ? -1 : 1) * (v.probability - 0.5);
}

/** Arms' effects and the emotion arm's contrasts with each control, from the verdicts. */
export interface PairwiseEffects {
  /** Mean signed effect per arm (scenario means first), with a scenario bootstrap interval. */
  arms: Record<string, PairwiseArmEffect>;
  /** Emotion arm minus each control arm, paired by scenario. */
  contrasts: PairwiseContrast[];
}

/** One arm's mean signed pairwise effect. */
export interface PairwiseArmEffect extends Estimate {
  /** Scenarios it is the mean of. */
  scenarios: number;
}

/** The emotion arm minus one control arm, paired by scenario. */
export interface PairwiseContrast {
  /** The control arm. */
  control: string;
  /** The mean paired difference with its scenario-bootstrap interval. */
  difference: Estimate;
  /** Scenarios both arms have. */
  scenarios: number;
}

/**
 * Effects per arm and the emotion arm's paired contrasts from pairwise verdicts (several runs of
 * one arm and scenario, e.g. several draws, are averaged first: the scenario is the unit).
 */
export function pairwiseEffects(verdicts: readonly PairwiseRunVerdict[], options: { resamples?: number; seed?: number } = {}): PairwiseEffects {
  const resamples = options.resamples ?? 2000;
  const per = new Map<string, Map<string, number[]>>();
  for (const v of verdicts) {
    const arm = per.get(v.arm) ?? new Map<string, number[]>();
    per.set(v.arm, arm);
    arm.set(v.scenario, [...(arm.get(v.scenario) ?? []), pairwiseEffect(v)]);
  }
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const boot = (values: readonly number[]): Estimate => {
    if (values.length === 0) return { value: Number.NaN, ci95: [Number.NaN, Number.NaN] };
    const b = bootstrapCI(values.length, (idx) => { let s = 0; for (const i of idx) s += values[i]!; return s / idx.length; }, { resamples, seed: options.seed ?? 0 });
    return { value: b.value, ci95: [b.ci95[0], b.ci95[1]] };
  };
  const arms: PairwiseEffects['arms'] = {};
  for (const [arm, byScenario] of per) {
    const xs = [...byScenario.values()].map(mean);
    arms[arm] = { ...boot(xs), scenarios: xs.length };
  }
  const contrasts: PairwiseEffects['contrasts'] = [];
  const emo = per.get('emotion');
  if (emo) {
    for (const [arm, byScenario] of per) {
      if (arm === 'emotion') continue;
      const diffs = [...emo.keys()].filter((sc) => byScenario.has(sc)).map((sc) => mean(emo.get(sc)!) - mean(byScenario.get(sc)!));
      contrasts.push({ control: arm, difference: boot(diffs), scenarios: diffs.length });
    }
  }
  return { arms, contrasts };
}

/** File name of the LLM judge's state and result in a run folder. */
export const PAIRWISE_FILE = 'llm-pairwise.json';

/** What `<dir>/llm-pairwise.json` holds. */
export interface PairwiseJudgeRecord {
  /** File format tag. */
  format: 'emosteer-llm-pairwise';
  /** Format version. */
  version: 1;
  /** Rules version the step ran under. */
  rules: string;
  /** The judge model. */
  judge: PairwiseJudgeFile;
  /** sha256 of the steered model (from the steering result's vector set). */
  steeredSha256: string;
  /** Which runs are judged. */
  selection: PairwiseRecordSelection;
  /** Validation on passages (and stories), both orders averaged. */
  validation: Omit<PairwiseValidation, 'comparisons'>[];
  /** True when every validation passed: only then are runs judged (unless asked to judge anyway), and only then do its effects count. */
  votes: boolean;
  /** Verdicts so far, in run order. */
  verdicts: PairwiseRunVerdict[];
  /** Runs to judge in all (0 when the judge does not vote and was not asked to judge anyway). */
  total: number;
  /** Effects and contrasts (when runs were judged). */
  effects?: PairwiseEffects;
  /** True when every run is judged (or the judge does not vote). */
  complete: boolean;
  /** Seconds spent. */
  seconds: PairwiseSeconds;
}

/** The judge model of a {@link PairwiseJudgeRecord}. */
export interface PairwiseJudgeFile {
  /** File name. */
  file: string;
  /** sha256 of the file. */
  sha256: string;
}

/** The runs a {@link PairwiseJudgeRecord} judges. */
export interface PairwiseRecordSelection {
  /** Strength. */
  strength: number;
  /** Arms. */
  arms: string[];
  /** Scenario kinds. */
  kinds: string[];
}

/** Wall seconds of a {@link PairwiseJudgeRecord}'s parts. */
export interface PairwiseSeconds {
  /** Validation. */
  validation: number;
  /** Judging runs. */
  judging: number;
}
