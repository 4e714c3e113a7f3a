/**
 * Dose-response curves of steering, with the controls beside the emotion arm.
 *
 * From the runs of a steering experiment, per judge, arm and strength: the success rate and the
 * mean signed effect (judge delta, steered minus baseline, times +1 for a scenario steered
 * toward its emotion and -1 for one steered away), each with a 95% bootstrap interval that
 * resamples whole scenarios (the runs of one scenario are not independent: its seeds, its
 * strengths). Per judge and arm, a monotone-trend test: the least-squares slope of the
 * per-scenario effect (and success) on strength, with a scenario-bootstrap interval, and the
 * Spearman correlation of strength with the per-scenario effect. Per control arm, the emotion
 * arm minus the control at each strength and the difference of their slopes, paired on the
 * scenarios both arms ran.
 *
 * The unit of every statistic is the scenario: a scenario's runs at one strength (several
 * random seeds, say) are first averaged into one value. By default only the primary scenarios
 * enter (kinds `neutral` and `toward`: on `away` and `loaded` ones, washing out the prompt's
 * emotion already moves a judge the "right" way) and one sampling mode (greedy), the one the
 * controls ran under.
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import { bootstrapCI, spearman } from '../evaluate/statistics.js';
import { SCENARIOS } from './scenarios.js';

/**
 * What the dose-response needs of a run: the fields of a steering experiment's run
 * (`SteeringRun` of experiment.ts), with the arm as any string so that new control arms need no change here.
 */
export interface DoseRun {
  /** Scenario id. */
  scenario: string;
  /** Whether the scenario steered toward its emotion or away from it (sign of the effect). */
  direction: 'toward' | 'away';
  /** The arm ('emotion' when absent, as in files written before controls existed). */
  arm?: string;
  /** Steering strength (fraction of each block's mean residual norm). */
  strength: number;
  /** Sampling mode (by name). */
  sampling: string;
  /** Regime of the run ('surgical', 'repetitive', 'explosive'). */
  regime: string;
  /** Per judge name, its verdict: the score change (steered - baseline) and the success flag. */
  judges: Record<string, {
    /** steered - baseline on the judge's scale (NaN when it could not say). */
    delta: number;
    /** Whether the judge saw the intended move beyond its margin. */
    success: boolean;
  }>;
}

/** Options of {@link doseResponse}. */
export interface DoseResponseOptions {
  /** Sampling mode whose runs are used (default 'greedy' when present, else the first run's mode). */
  sampling?: string;
  /** Scenario kinds used (default ['neutral', 'toward']); 'all' keeps every run, known kind or not. */
  kinds?: readonly string[] | 'all';
  /** The kind of a scenario id (default: from the built-in {@link SCENARIOS}; undefined = unknown). */
  kindOf?: (scenario: string) => string | undefined;
  /**
   * 'all' (default): every run; an explosive run is never a success, its effect counts.
   * 'surgical': only surgical runs, for the analysis "without non-surgical runs".
   */
  regimes?: 'all' | 'surgical';
  /** The arm the controls are compared with (default 'emotion'). */
  reference?: string;
  /** Bootstrap resamples of every interval (default 1000). */
  resamples?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
}

/** A mean over scenarios with its scenario-bootstrap 95% interval. */
export interface DoseEstimate {
  /** The mean over scenarios (NaN when none). */
  value: number;
  /** 95% percentile interval, resampling scenarios ([NaN, NaN] when none). */
  ci95: [number, number];
  /** Scenarios the mean is over. */
  scenarios: number;
}

/** One strength of one arm's curve. */
export interface DosePoint {
  /** Steering strength. */
  strength: number;
  /** Runs at this strength (before averaging per scenario). */
  runs: number;
  /** Share of successes (judge success and not explosive), per scenario, then averaged. */
  success: DoseEstimate;
  /** Mean signed judge delta (+ toward the scenario's intent), per scenario, then averaged; NaN deltas left out. */
  effect: DoseEstimate;
}

/** A monotone-trend test of one arm: slope of a per-scenario quantity on strength. */
export interface DoseTrend {
  /** Least-squares slope over every (scenario, strength) point, per unit of strength (NaN with fewer than 2 strengths). */
  slope: number;
  /** 95% interval of the slope from resampling whole scenarios. */
  ci95: [number, number];
  /** Spearman correlation of strength with the per-scenario value over the same points (NaN when undefined). */
  spearman: number;
  /** (scenario, strength) points. */
  points: number;
  /** Scenarios. */
  scenarios: number;
  /** 'rising' / 'falling' when the interval excludes 0 on that side, else 'inconclusive'. */
  direction: 'rising' | 'falling' | 'inconclusive';
}

/** One arm's dose-response curve under one judge. */
export interface DoseCurve {
  /** Judge name. */
  judge: string;
  /** Arm. */
  arm: string;
  /** One point per strength the arm ran, ascending. */
  points: DosePoint[];
  /** Trend tests of the effect and of the success rate. */
  trend: {
    /** Slope of the signed effect. */
    effect: DoseTrend;
    /** Slope of the success rate. */
    success: DoseTrend;
  };
}

/** The reference arm minus one control arm, paired on the scenarios both ran. */
export interface DoseContrast {
  /** Judge name. */
  judge: string;
  /** The reference arm (the emotion arm by default). */
  reference: string;
  /** The control arm. */
  control: string;
  /** Per strength both arms ran: reference minus control. */
  perStrength: {
    /** Strength. */
    strength: number;
    /** Difference of the success rates. */
    success: DoseEstimate;
    /** Difference of the mean signed effects. */
    effect: DoseEstimate;
  }[];
  /** Reference slope minus control slope (does the reference rise faster with strength?). */
  slope: {
    /** Difference of the effect slopes. */
    effect: DoseEstimate;
    /** Difference of the success slopes. */
    success: DoseEstimate;
  };
}

/** Outcome of {@link doseResponse}: curves and contrasts, ready for a report or a plot. */
export interface DoseResponse {
  /** Sampling mode used. */
  sampling: string;
  /** Scenario kinds used. */
  kinds: string[] | 'all';
  /** Which regimes were kept. */
  regimes: 'all' | 'surgical';
  /** The reference arm. */
  reference: string;
  /** Strengths seen, ascending. */
  strengths: number[];
  /** Arms seen (the reference first). */
  arms: string[];
  /** Judges seen. */
  judges: string[];
  /** Scenarios used. */
  scenarios: number;
  /** Runs used. */
  runs: number;
  /** Runs left out, by reason. */
  excluded: {
    /** Why. */
    reason: string;
    /** How many. */
    runs: number;
  }[];
  /** One curve per judge and arm. */
  curves: DoseCurve[];
  /** One contrast per judge and control arm. */
  contrasts: DoseContrast[];
  /** Bootstrap resamples. */
  resamples: number;
  /** Bootstrap seed. */
  seed: number;
}

/** Per-scenario values of one (judge, arm): scenario -> strength -> what its runs gave. */
type ScenarioCells = Map<string, Map<number, { success: number[]; effect: number[] }>>;

const meanOf = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

function invalid(message: string): EmosteerError {
  return new EmosteerError('INVALID_ARGUMENT', message);
}

/** Per scenario, per strength: one success rate and one mean effect (NaN when no finite delta). */
function scenarioValues(cells: ScenarioCells): Map<string, Map<number, { success: number; effect: number }>> {
  const out = new Map<string, Map<number, { success: number; effect: number }>>();
  for (const [sc, byStrength] of cells) {
    const m = new Map<number, { success: number; effect: number }>();
    for (const [s, v] of byStrength) m.set(s, { success: meanOf(v.success), effect: meanOf(v.effect) });
    out.set(sc, m);
  }
  return out;
}

type Values = ReturnType<typeof scenarioValues>;
type Quantity = 'success' | 'effect';

/** Mean over scenarios of one quantity at one strength, with a scenario bootstrap. */
function estimateAt(values: Values, strength: number, q: Quantity, boot: { resamples: number; seed: number }): DoseEstimate {
  const xs = [...values.values()].map((m) => m.get(strength)?.[q]).filter((v): v is number => v !== undefined && Number.isFinite(v));
  return meanEstimate(xs, boot);
}

function meanEstimate(xs: readonly number[], boot: { resamples: number; seed: number }): DoseEstimate {
  if (xs.length === 0) return { value: NaN, ci95: [NaN, NaN], scenarios: 0 };
  const r = bootstrapCI(xs.length, (idx) => { let s = 0; for (const i of idx) s += xs[i]!; return s / idx.length; }, boot);
  return { value: r.value, ci95: r.ci95, scenarios: xs.length };
}

/** The (strength, value) points of each scenario, finite values only. */
function pointsOf(values: Values, q: Quantity, scenarios: readonly string[]): [number, number][][] {
  return scenarios.map((sc) => [...(values.get(sc) ?? new Map()).entries()]
    .filter(([, v]) => Number.isFinite(v[q]))
    .map(([s, v]): [number, number] => [s, v[q]]));
}

/** Least-squares slope of y on x over the points of the scenarios in idx (NaN with fewer than 2 distinct x). */
function slopeOf(points: [number, number][][], idx: ArrayLike<number>): number {
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let k = 0; k < idx.length; k++) for (const [x, y] of points[idx[k]!]!) { n++; sx += x; sy += y; }
  if (n < 2) return NaN;
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (let k = 0; k < idx.length; k++) for (const [x, y] of points[idx[k]!]!) { sxy += (x - mx) * (y - my); sxx += (x - mx) ** 2; }
  return sxx > 0 ? sxy / sxx : NaN;
}

function trendOf(values: Values, q: Quantity, boot: { resamples: number; seed: number }): DoseTrend {
  const scenarios = [...values.keys()];
  const points = pointsOf(values, q, scenarios).filter((p) => p.length > 0);
  const flat = points.flat();
  if (points.length === 0 || new Set(flat.map(([x]) => x)).size < 2) {
    return { slope: NaN, ci95: [NaN, NaN], spearman: NaN, points: flat.length, scenarios: points.length, direction: 'inconclusive' };
  }
  const r = bootstrapCI(points.length, (idx) => slopeOf(points, idx), boot);
  const rho = spearman(flat.map(([x]) => x), flat.map(([, y]) => y));
  return { slope: r.value, ci95: r.ci95, spearman: rho, points: flat.length, scenarios: points.length, direction: directionOf(r.ci95) };
}

function directionOf(ci: [number, number]): DoseTrend['direction'] {
  if (ci[0] > 0) return 'rising';
  if (ci[1] < 0) return 'falling';
  return 'inconclusive';
}

/** Reference minus control at a strength, paired on scenarios with both values. */
function pairedAt(ref: Values, ctl: Values, strength: number, q: Quantity, boot: { resamples: number; seed: number }): DoseEstimate {
  const diffs: number[] = [];
  for (const [sc, m] of ref) {
    const a = m.get(strength)?.[q];
    const b = ctl.get(sc)?.get(strength)?.[q];
    if (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b)) diffs.push(a - b);
  }
  return meanEstimate(diffs, boot);
}

/** Reference slope minus control slope, resampling the scenarios both arms ran. */
function pairedSlope(ref: Values, ctl: Values, q: Quantity, boot: { resamples: number; seed: number }): DoseEstimate {
  const both = [...ref.keys()].filter((sc) => ctl.has(sc));
  const a = pointsOf(ref, q, both);
  const b = pointsOf(ctl, q, both);
  const keep = both.map((_, i) => i).filter((i) => a[i]!.length > 0 && b[i]!.length > 0);
  const pa = keep.map((i) => a[i]!);
  const pb = keep.map((i) => b[i]!);
  if (keep.length === 0) return { value: NaN, ci95: [NaN, NaN], scenarios: 0 };
  const r = bootstrapCI(keep.length, (idx) => slopeOf(pa, idx) - slopeOf(pb, idx), boot);
  return { value: r.value, ci95: r.ci95, scenarios: keep.length };
}

const builtInKind = (() => {
  const kinds = new Map(SCENARIOS.map((s) => [s.id, s.kind as string]));
  return (id: string) => kinds.get(id);
})();

/**
 * Dose-response curves per judge and arm, with scenario-bootstrap intervals, monotone-trend
 * tests, and the reference (emotion) arm against each control arm. Pure and deterministic.
 *
 * @example
 * ```ts
 * const result = await runSteeringExperiment(model, set, options);
 * const dr = doseResponse([...result.runs, ...(result.controlRuns ?? [])]);
 * for (const c of dr.curves) console.log(c.judge, c.arm, c.trend.effect.slope, c.trend.effect.ci95);
 * ```
 * @throws EmosteerError INVALID_ARGUMENT for a run without scenario, strength or judges, or bad options
 */
export function doseResponse(runs: readonly DoseRun[], options: DoseResponseOptions = {}): DoseResponse {
  if (!Array.isArray(runs)) throw invalid('doseResponse needs an array of runs');
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(resamples) || resamples < 1) throw invalid(`resamples must be a positive integer, got ${String(options.resamples)}`);
  if (!Number.isFinite(seed)) throw invalid(`seed must be a finite number, got ${String(options.seed)}`);
  const regimes = options.regimes ?? 'all';
  if (regimes !== 'all' && regimes !== 'surgical') throw invalid(`regimes must be 'all' or 'surgical', got ${String(regimes)}`);
  const kinds = options.kinds === 'all' ? 'all' : [...(options.kinds ?? ['neutral', 'toward'])];
  const kindOf = options.kindOf ?? builtInKind;
  const reference = options.reference ?? 'emotion';
  runs.forEach((r, i) => {
    if (!r || typeof r.scenario !== 'string' || !Number.isFinite(r.strength) || typeof r.judges !== 'object' || r.judges === null) {
      throw invalid(`runs[${i}] needs a scenario id, a finite strength and a judges record`);
    }
    if (r.direction !== 'toward' && r.direction !== 'away') throw invalid(`runs[${i}].direction must be 'toward' or 'away'`);
  });
  const sampling = options.sampling ?? (runs.some((r) => r.sampling === 'greedy') ? 'greedy' : runs[0]?.sampling ?? 'greedy');

  const excludedCounts = new Map<string, number>();
  const exclude = (reason: string) => excludedCounts.set(reason, (excludedCounts.get(reason) ?? 0) + 1);
  const used: DoseRun[] = [];
  for (const r of runs) {
    if (r.sampling !== sampling) { exclude(`sampling mode other than '${sampling}'`); continue; }
    if (kinds !== 'all') {
      const k = kindOf(r.scenario);
      if (k === undefined) { exclude('scenario of unknown kind'); continue; }
      if (!kinds.includes(k)) { exclude(`scenario kind '${k}'`); continue; }
    }
    if (regimes === 'surgical' && r.regime !== 'surgical') { exclude(`regime '${r.regime}'`); continue; }
    used.push(r);
  }

  const armOf = (r: DoseRun) => r.arm ?? 'emotion';
  const seenArms = [...new Set(used.map(armOf))];
  const arms = seenArms.includes(reference) ? [reference, ...seenArms.filter((a) => a !== reference)] : seenArms;
  const judges = [...new Set(used.flatMap((r) => Object.keys(r.judges)))];
  const strengths = [...new Set(used.map((r) => r.strength))].sort((a, b) => a - b);
  const boot = { resamples, seed };

  // judge -> arm -> scenario -> strength -> what the runs gave
  const cells = new Map<string, Map<string, ScenarioCells>>();
  const runCount = new Map<string, number>();
  for (const r of used) {
    const sign = r.direction === 'away' ? -1 : 1;
    const arm = armOf(r);
    for (const [judge, v] of Object.entries(r.judges)) {
      if (!v) continue;
      const byArm = cells.get(judge) ?? new Map<string, ScenarioCells>();
      cells.set(judge, byArm);
      const bySc = byArm.get(arm) ?? new Map();
      byArm.set(arm, bySc);
      const byS = bySc.get(r.scenario) ?? new Map();
      bySc.set(r.scenario, byS);
      const cell = byS.get(r.strength) ?? { success: [], effect: [] };
      byS.set(r.strength, cell);
      cell.success.push(r.regime !== 'explosive' && v.success ? 1 : 0);
      if (Number.isFinite(v.delta)) cell.effect.push(v.delta * sign);
      const key = `${judge}|${arm}|${r.strength}`;
      runCount.set(key, (runCount.get(key) ?? 0) + 1);
    }
  }

  const curves: DoseCurve[] = [];
  const contrasts: DoseContrast[] = [];
  for (const judge of judges) {
    const byArm = cells.get(judge)!;
    const values = new Map([...byArm].map(([arm, c]) => [arm, scenarioValues(c)]));
    for (const arm of arms) {
      const v = values.get(arm);
      if (!v) continue;
      const points = strengths
        .filter((s) => runCount.has(`${judge}|${arm}|${s}`))
        .map((strength): DosePoint => ({
          strength,
          runs: runCount.get(`${judge}|${arm}|${strength}`)!,
          success: estimateAt(v, strength, 'success', boot),
          effect: estimateAt(v, strength, 'effect', boot),
        }));
      curves.push({ judge, arm, points, trend: { effect: trendOf(v, 'effect', boot), success: trendOf(v, 'success', boot) } });
    }
    const ref = values.get(reference);
    if (!ref) continue;
    for (const control of arms) {
      const ctl = values.get(control);
      if (control === reference || !ctl) continue;
      const perStrength = strengths
        .filter((s) => runCount.has(`${judge}|${reference}|${s}`) && runCount.has(`${judge}|${control}|${s}`))
        .map((strength) => ({ strength, success: pairedAt(ref, ctl, strength, 'success', boot), effect: pairedAt(ref, ctl, strength, 'effect', boot) }));
      contrasts.push({ judge, reference, control, perStrength, slope: { effect: pairedSlope(ref, ctl, 'effect', boot), success: pairedSlope(ref, ctl, 'success', boot) } });
    }
  }

  return {
    sampling,
    kinds,
    regimes,
    reference,
    strengths,
    arms,
    judges,
    scenarios: new Set(used.map((r) => r.scenario)).size,
    runs: used.length,
    excluded: [...excludedCounts].map(([reason, n]) => ({ reason, runs: n })),
    curves,
    contrasts,
    resamples,
    seed,
  };
}
