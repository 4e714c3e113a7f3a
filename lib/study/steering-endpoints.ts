/**
 * The pre-registered steering endpoints of one model (docs/PREREG.md, claims 5-7), computed
 * from its saved steering runs: the primary judge's effects (emotion minus random and emotion
 * minus other-emotion, paired by scenario, primary scenarios, primary strength) against the
 * judge's noise floor, the secondary
 * contrasts with Holm-adjusted p-values, the regime shares over strength against baselines and
 * the random arm, and the cross-lingual flag rate against the random arm with the logit lens's
 * null. Every interval resamples scenarios.
 *
 * @module
 */
import { bootstrapCI } from '../evaluate/statistics.js';
import type { Estimate } from '../evaluate/types.js';
import type { SteeringRun } from '../steer/experiment.js';
import { classifyRegime, distinctN, nonWordRate, repeatedNgramRate, wordTokens } from '../steer/regimes.js';
import { SCENARIOS } from '../steer/scenarios.js';
import type { PairwiseEffects } from '../steer/pairwise-steering.js';
import type { SavedSteeringResult } from '../steer/steering-result.js';
import type { StudySteeringEndpoints } from './types.js';
import { holm, RULES_VERSION } from './verdict-rules.js';

/** The primary judges in order of preference (docs/PREREG.md): the cross-model probe judge, then the NRC lexicon. */
export const PRIMARY_JUDGE_PREFERENCE: readonly RegExp[] = [/^probe/, /^nrc/];

/** The primary strength of a model of `params` parameters (docs/PREREG.md). */
export function primaryStrength(params: number | null | undefined, strengths: readonly number[]): number {
  const want = params !== null && params !== undefined && params >= 1e9 ? 0.01 : 0.02;
  return strengths.includes(want) ? want : strengths.reduce((b, s) => (Math.abs(s - want) < Math.abs(b - want) ? s : b), strengths[0] ?? want);
}

/** Two-sided p of an estimate from its 95% interval, by the normal approximation (the interval's half-width is 1.96 standard errors). */
export function pFromInterval(e: Estimate): number {
  const se = (e.ci95[1] - e.ci95[0]) / (2 * 1.959963984540054);
  if (!Number.isFinite(e.value) || !Number.isFinite(se)) return Number.NaN;
  // A degenerate interval: every resample gave the same value.
  if (se === 0) return e.value === 0 ? 1 : 0;
  const z = Math.abs(e.value / se);
  // Two-sided normal tail, Abramowitz-Stegun 7.1.26 for erfc.
  const t = 1 / (1 + 0.3275911 * (z / Math.SQRT2));
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-((z / Math.SQRT2) ** 2));
  return Math.min(1, erfc);
}

const KIND = new Map(SCENARIOS.map((s) => [s.id, s.kind]));
const meanOf = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** Paired mean of a per-scenario statistic with a scenario bootstrap. */
function scenarioMean(values: readonly number[], resamples = 2000): Estimate {
  if (values.length === 0) return { value: Number.NaN, ci95: [Number.NaN, Number.NaN] };
  const b = bootstrapCI(values.length, (idx) => { let s = 0; for (const i of idx) s += values[i]!; return s / idx.length; }, { resamples, seed: 0 });
  return { value: b.value, ci95: [b.ci95[0], b.ci95[1]] };
}

/** The regime of an unsteered baseline text, measured like a steered run against itself. */
export function baselineRegime(text: string): SteeringRun['regime'] {
  const words = wordTokens(text);
  return classifyRegime({ perplexityRatio: 1, repeatedTrigramRate: repeatedNgramRate(words, 3), distinct2: distinctN(words, 2), length: words.length, baselineLength: words.length, nonWordRate: nonWordRate(text) });
}

/** The LLM judge's pairwise effects as {@link steeringEndpoints} takes them. */
export interface PairwiseEndpointInput {
  /** Name in the contrasts' labels. */
  name: string;
  /** Whether the judge passed its validation (only then are its contrasts added). */
  votes: boolean;
  /** Its effects and contrasts, when it judged runs. */
  effects?: PairwiseEffects;
}

/** Options of {@link steeringEndpoints}. */
export interface SteeringEndpointOptions {
  /** Parameters of the model (chooses the primary strength). */
  params?: number | null;
  /** Judges that passed validation (default: every judge the runs carry). */
  votingJudges?: readonly string[];
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** The LLM judge's pairwise effects (`<run>/llm-pairwise.json`), added to the secondary contrasts when it votes. */
  pairwise?: PairwiseEndpointInput;
}

/**
 * The endpoints of docs/PREREG.md from a saved steering result; undefined parts where the runs
 * lack what they need (e.g. no random arm).
 */
export function steeringEndpoints(s: SavedSteeringResult, options: SteeringEndpointOptions = {}): StudySteeringEndpoints {
  const resamples = options.resamples ?? 2000;
  const judges = Object.keys(s.judges);
  const voting = (options.votingJudges ?? judges).filter((j) => judges.includes(j));
  const primary = PRIMARY_JUDGE_PREFERENCE.map((re) => voting.find((j) => re.test(j))).find((j) => j !== undefined) ?? null;
  const strength = primaryStrength(options.params, s.strengths);
  const contrasts = s.effects?.contrasts ?? [];
  const contrast = (judge: string, control: string, group = 'primary', runs = 'all', at = strength) => contrasts.find((c) => c.judge === judge && c.control === control && c.group === group && c.runs === runs && c.strength === at);
  const est = (c: ReturnType<typeof contrast>): Estimate | undefined => (c ? { value: c.difference.value, ci95: [c.difference.ci95[0], c.difference.ci95[1]] } : undefined);
  const out: StudySteeringEndpoints = {
    rules: RULES_VERSION,
    primaryJudge: primary,
    votingJudges: voting,
    primaryStrength: strength,
    primaryScenarios: new Set(s.runs.filter((r) => ['neutral', 'toward'].includes(KIND.get(r.scenario) ?? '')).map((r) => r.scenario)).size,
    secondary: [],
  };
  if (primary) {
    const e = est(contrast(primary, 'random'));
    if (e) out.effect = e;
    const o = est(contrast(primary, 'other-emotion'));
    if (o) out.effectOther = o;
    const floor = s.effects?.noiseFloor?.find((n) => n.judge === primary);
    if (floor && Number.isFinite(floor.median)) out.noiseFloor = floor.median;
    const family: { name: string; estimate: Estimate }[] = [];
    const addEstimate = (name: string, x: Estimate | undefined) => { if (x && Number.isFinite(x.ci95[0])) family.push({ name, estimate: x }); };
    const add = (name: string, c: ReturnType<typeof contrast>) => addEstimate(name, est(c));
    add(`emotion - shuffled-label (${primary})`, contrast(primary, 'shuffled-label'));
    add(`emotion - random, surgical runs only (${primary})`, contrast(primary, 'random', 'primary', 'surgical'));
    add(`emotion - random, away scenarios (${primary})`, contrast(primary, 'random', 'away'));
    add(`emotion - random, loaded scenarios (${primary})`, contrast(primary, 'random', 'loaded'));
    for (const j of judges.filter((x) => x !== primary)) add(`emotion - random (${j}${voting.includes(j) ? '' : ', does not vote'})`, contrast(j, 'random'));
    const pw = options.pairwise;
    if (pw?.votes && pw.effects) for (const c of pw.effects.contrasts) addEstimate(`emotion - ${c.control} (${pw.name}, pairwise)`, c.difference);
    const adjusted = holm(family.map((x) => pFromInterval(x.estimate)));
    out.secondary = family.map((x, i) => ({ ...x, p: pFromInterval(x.estimate), pHolm: adjusted[i]! }));
  }

  // Claim 6: repetitive + explosive share of the emotion arm over strength (greedy runs).
  const greedy = (r: SteeringRun) => r.sampling === (s.sampling[0] ?? 'greedy');
  const emo = s.runs.filter((r) => (r.arm ?? 'emotion') === 'emotion' && greedy(r));
  const rnd = (s.controlRuns ?? []).filter((r) => r.arm === 'random' && greedy(r));
  const broken = (r: { regime: string }) => (r.regime === 'repetitive' || r.regime === 'explosive' ? 1 : 0);
  const scen = [...new Set(emo.map((r) => r.scenario))];
  if (scen.length > 1 && s.strengths.length > 1) {
    const top = Math.max(...s.strengths);
    const share = (runs: readonly SteeringRun[], sc: string, k: number) => { const x = runs.filter((r) => r.scenario === sc && r.strength === k); return x.length ? meanOf(x.map(broken)) : Number.NaN; };
    const xs = s.strengths;
    const xm = meanOf(xs);
    const slopes = scen.map((sc) => {
      const ys = xs.map((k) => share(emo, sc, k));
      if (ys.some((y) => !Number.isFinite(y))) return Number.NaN;
      const ym = meanOf(ys);
      let num = 0; let den = 0;
      xs.forEach((x, i) => { num += (x - xm) * (ys[i]! - ym); den += (x - xm) ** 2; });
      return num / den;
    }).filter(Number.isFinite);
    const baseRegime = new Map(scen.map((sc) => [sc, emo.find((r) => r.scenario === sc)!.baselineText]));
    const minusBase = scen.map((sc) => share(emo, sc, top) - broken({ regime: baselineRegime(baseRegime.get(sc)!) })).filter(Number.isFinite);
    const minusRandom = scen.map((sc) => share(emo, sc, top) - share(rnd, sc, top)).filter(Number.isFinite);
    const kinds = new Set(emo.map((r) => r.regime)).size;
    out.regimes = { kinds, slope: scenarioMean(slopes, resamples), minusBaseline: scenarioMean(minusBase, resamples), minusRandom: scenarioMean(minusRandom, resamples), topStrength: top };
  }

  // Claim 7: flag rate, emotion minus random over all strengths, paired by scenario.
  if (rnd.length > 0) {
    const rate = (runs: readonly SteeringRun[], sc: string) => { const x = runs.filter((r) => r.scenario === sc); return x.length ? meanOf(x.map((r) => (r.crossLingual.flagged ? 1 : 0))) : Number.NaN; };
    const diff = scen.map((sc) => rate(emo, sc) - rate(rnd, sc)).filter(Number.isFinite);
    const lens = s.logitLensNull;
    out.crossLingual = { difference: scenarioMean(diff, resamples), lensShare: lens?.observed ?? Number.NaN, lensNullP: lens?.p ?? Number.NaN };
  }
  if (s.manipulationCheck) {
    out.manipulation = s.manipulationCheck.rows.map((r) => ({ arm: r.arm, strength: r.strength, lastBlockChange: r.deltaNorm.mean, kl: r.kl.mean }));
  }
  return out;
}
