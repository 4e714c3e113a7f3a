/**
 * The steering experiment: for each scenario, an unsteered continuation and steered ones at
 * several strengths (paper scaling: unit x strength x mean residual norm, every steerable
 * block), under greedy decoding by default; each judged by external judges, placed in a regime
 * (surgical / repetitive collapse / explosive) and checked for other scripts and languages;
 * with control arms that push as hard (lib/steer/controls.ts), a manipulation check that
 * measures how hard every arm pushes (lib/steer/manipulation-check.ts), sampled unsteered
 * baselines that measure each judge's noise floor, and continuous effects (signed judge
 * deltas, lib/steer/steering-effects.ts).
 */
import { setParamsHash } from '../vectors/emotion-vector-set.js';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EmosteerError } from '../errors.js';
import { cohensKappa } from '../evaluate/statistics.js';
import type { Context } from '../runtime/context.js';
import type { Model } from '../runtime/model.js';
import { pendingBatches } from '../util/batches.js';
import type { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { judgeSuccess, type Judge, type JudgeSuccessResult } from './judges/judge.js';
import { classifyRegime, distinctN, nonWordRate, repeatedNgramRate, wordTokens } from './regimes.js';
import { SCENARIOS, type SteeringScenario } from './scenarios.js';
import { crossLingualFlag, scriptShares } from './scripts.js';
import type { EmotionMeter } from './emotion-meter.js';
import { armDraws, CONTROL_ARMS, controlContrasts, crossBlockCosine, RANDOM_CONSTRUCTIONS, type ArmOutcome, type ControlContrast, type ControlOptions, type CrossBlockCosine, type RandomConstruction, type SteeringArm } from './controls.js';
import { DEFAULT_MANIPULATION_TEXTS, manipulationCheck, type ManipulationCheckResult } from './manipulation-check.js';
import { noiseFloor, steeringEffects, type SteeringEffects } from './steering-effects.js';

/** The paper's strengths for ~124M-1B models, and ours by default. */
export const DEFAULT_STRENGTHS: readonly number[] = [0.005, 0.01, 0.02, 0.03, 0.05];

/** A decoding mode of the experiment. */
export interface SamplingMode {
  /** Name used in results and reports (e.g. 'greedy'). */
  name: string;
  /** Sampling temperature (0 = greedy). */
  temperature: number;
  /** Sampling seed (every continuation of the mode uses it). */
  seed: number;
}

/**
 * Greedy, and seeded sampling at temperature 0.8: the decoding modes an experiment knows.
 * Steered runs use the first only unless `steeredSampling` says otherwise; the sampled mode
 * draws the noise-floor baselines.
 */
export const DEFAULT_SAMPLING_MODES: readonly SamplingMode[] = [
  { name: 'greedy', temperature: 0, seed: 0 },
  { name: 'sampled', temperature: 0.8, seed: 1 },
];

/** Options of {@link runSteeringExperiment}. */
export interface SteeringExperimentOptions {
  /** Scenarios to steer (default: the whole built-in suite, {@link SCENARIOS}). */
  scenarios?: readonly SteeringScenario[];
  /** Strengths, as fractions of each block's mean residual norm (default {@link DEFAULT_STRENGTHS}). */
  strengths?: readonly number[];
  /**
   * Decoding modes the experiment may use (default {@link DEFAULT_SAMPLING_MODES}): steered runs
   * run under `steeredSampling`, and the noise floor's baselines under the first mode with a
   * temperature above 0 (`controls.noiseSampling`).
   */
  sampling?: readonly SamplingMode[];
  /**
   * Modes (by name) the steered runs of the emotion arm run under (default: the first mode of
   * `sampling` only, greedy by default). Study v2 dropped the sampled emotion arm from the
   * default: it had no sampled control (the controls run under `controls.sampling`, the first
   * mode by default) and took about 22% of the steering time; sampled decoding now only draws
   * the noise floor's unsteered baselines. Name more modes to steer under them too (give the
   * controls the same modes for a contrast under each).
   */
  steeredSampling?: readonly string[];
  /** New tokens per continuation (default 48). */
  maxTokens?: number;
  /**
   * Judges; a judge's margin is the minimum move of its score that counts as success. A judge
   * with `applies` judges only the runs it accepts (e.g. an LLM judge, costly, on a subset);
   * its rates are then over those runs.
   */
  judges: readonly JudgeSpec[];
  /** Steered block range (default: every steerable block of the set). */
  layers?: [number, number];
  /** CPU threads of the experiment's contexts (default: as createContext). */
  threads?: number;
  /** When given, every continuation also records the meter's reading of the target emotion per token (no extra pass). */
  meter?: EmotionMeter;
  /**
   * Control arms, each norm-matched to the emotion steering at every block (default: 2 random
   * directions per scenario, 2 shuffled-label vectors per scenario when the set holds its
   * per-sample activations, and another emotion's vector, at every strength, under the first
   * sampling mode; see {@link armDraws}), the judges' noise floor (2 sampled unsteered
   * baselines per scenario under the first mode with a temperature, when there is one) and the
   * manipulation check of every arm (on by default); `false` = none of these.
   */
  controls?: ControlOptions | false;
  /**
   * Continuations decoded together (default 8). With the default `steeringPath`, any runs of
   * one sampling mode share a batch, each with its own steering, so batches stay full even
   * where only one scenario steers with a given vector. Unsteered baselines run first (every
   * steered run is judged against its baseline).
   */
  batch?: number;
  /**
   * How runs with different steering share a batch: 'per-sequence' (default; any runs of one
   * sampling mode, each with its own steering applied by the eval callback) or 'context-wide'
   * (only runs that steer with the same vector, through llama.cpp's control vector, set once
   * per group: the faster path on GPUs, where every steered block observed by the callback
   * costs a synchronisation). On exact (F32) models both give identical continuations
   * (tested); on quantized ones a batch of another composition rounds differently, and some
   * greedy continuations diverge (bench/steer-batching.mjs counts them).
   */
  steeringPath?: 'per-sequence' | 'context-wide';
  /**
   * JSONL file to which every finished continuation is appended as it completes; a rerun with
   * the same file and parameters skips those and gives the same result as an uninterrupted run.
   */
  checkpoint?: string;
  /** Called after every continuation (baselines included) with the count done, the total and the scenario id. */
  onProgress?: (done: number, total: number, scenario: string) => void;
  /** Cancels the experiment (finished continuations stay in the checkpoint). */
  signal?: AbortSignal;
}

/** A judge of the experiment, its margin, and optionally which runs it judges. */
export interface JudgeSpec {
  /** The judge. */
  judge: Judge;
  /** Least move of the judge's score (steered - baseline, in the intended direction) that counts as success. */
  margin: number;
  /** Which runs the judge judges (default: all). */
  applies?: (run: {
    /** Strength of the run. */
    strength: number;
    /** Sampling mode (by name) of the run. */
    sampling: string;
    /** Arm of the run ('unsteered' for a noise-floor run). */
    arm: SteeringArm | 'unsteered';
  }) => boolean;
}

/** One steered continuation and everything measured on it. */
export interface SteeringRun {
  /** Scenario id. */
  scenario: string;
  /** The emotion the scenario is about: judges score this one, whatever the arm steered with. */
  target: string;
  /** Whether the scenario steers toward the target or away from it. */
  direction: 'toward' | 'away';
  /**
   * 'emotion' (the target's own vector; absent in files written before controls existed), a
   * control, or 'unsteered' (a noise-floor run: a second unsteered sample, judged against the
   * baseline like a steered run).
   */
  arm?: SteeringArm | 'unsteered';
  /** The emotion whose vector was added (other-emotion arm). */
  steerEmotion?: string;
  /** Draw of a random or shuffled-label control (its seed comes from the scenario and the draw), or index of the noise sample (unsteered). */
  controlSeed?: number;
  /** Steering strength (fraction of each block's mean residual norm). */
  strength: number;
  /** Sampling mode (by name). */
  sampling: string;
  /** The steered continuation. */
  text: string;
  /** The unsteered continuation of the same prompt and sampling mode. */
  baselineText: string;
  /** Verdict of each judge that judged this run, by judge name. */
  judges: Record<string, JudgeSuccessResult>;
  /** Perplexity of the steered continuation / that of the baseline, both under the unsteered model. */
  perplexityRatio: number;
  /** Share of repeated word trigrams in the continuation ({@link repeatedNgramRate}). */
  repeatedTrigramRate: number;
  /** Distinct word bigrams / bigrams ({@link distinctN}). */
  distinct2: number;
  /** Words in the continuation. */
  length: number;
  /** Where the run falls ({@link classifyRegime}). */
  regime: 'surgical' | 'repetitive' | 'explosive';
  /** Share of the continuation's letters per script ({@link ScriptShares}). */
  scripts: Record<string, number>;
  /** Whether steering moved the text to another script or language than the baseline's ({@link crossLingualFlag}). */
  crossLingual: {
    /** True when the run is flagged. */
    flagged: boolean;
    /** Why it was flagged or not, in words. */
    reason: string;
  };
  /** Meter reading of the target emotion per generated token (steered, and unsteered baseline). */
  meterTrace?: {
    /** Reading per token of the steered continuation. */
    steered: number[];
    /** Reading per token of the baseline. */
    baseline: number[];
    /** The block the meter read. */
    layer: number;
  };
}

/** Binomial proportion with a Wilson 95% interval. */
export interface Proportion {
  /** Successes counted. */
  successes: number;
  /** Trials counted. */
  trials: number;
  /** successes / trials (NaN when there were no trials). */
  successRate: number;
  /** Wilson score 95% interval ({@link wilson}). */
  ci95: [number, number];
}

/** The experiment's outcome. */
export interface SteeringResult {
  /** llama.cpp's description of the model steered. */
  model: string;
  /** Extraction method of the vector set used. */
  method: string;
  /** Strengths run. */
  strengths: number[];
  /** Sampling modes of the steered runs, by name (the first is the one per-scenario success and controls use). */
  sampling: string[];
  /** Number of scenarios run. */
  scenarios: number;
  /** Every continuation steered with the target's own vector. */
  runs: SteeringRun[];
  /** Per judge: success over every (scenario, strength, sampling) run, and per scenario (success at any non-explosive strength under greedy decoding, the paper's unit). */
  judges: Record<
    string,
    {
      /** Over runs. */
      perRun: Proportion;
      /** Over scenarios. */
      perScenario: Proportion;
    }
  >;
  /** Runs per regime. */
  regimes: {
    /** Runs in the surgical regime. */
    surgical: number;
    /** Runs in repetitive collapse. */
    repetitive: number;
    /** Explosive runs. */
    explosive: number;
  };
  /** Regime counts per (target emotion, strength). */
  regimeMap: {
    /** Target emotion. */
    emotion: string;
    /** Strength. */
    strength: number;
    /** Surgical runs. */
    surgical: number;
    /** Repetitive runs. */
    repetitive: number;
    /** Explosive runs. */
    explosive: number;
  }[];
  /** The runs flagged for another script or language. */
  crossLingualFlags: {
    /** Scenario id. */
    scenario: string;
    /** Strength of the run. */
    strength: number;
    /** Sampling mode of the run. */
    sampling: string;
    /** Why it was flagged. */
    reason: string;
  }[];
  /** Continuations of the control arms (judged for the scenario's target like `runs`). */
  controlRuns?: SteeringRun[];
  /** What the control arms were. */
  controls?: {
    /** Random directions per scenario (before study v2: per strength and mode, shared by every scenario). */
    randomSeeds: number;
    /** How they were made (absent in files written before study v2: a direction drawn anew per block, shared by every scenario). */
    randomConstruction?: RandomConstruction;
    /** Draws per scenario of the 'random-per-block' arm (absent: none). */
    randomPerBlockSeeds?: number;
    /** Shuffled-label vectors per scenario (absent: none). */
    shuffledSeeds?: number;
    /** Whether another emotion's vector was a control. */
    otherEmotion: boolean;
    /** Sampling modes (by name) the controls ran under. */
    sampling: string[];
    /** Sampled unsteered baselines per scenario for the judges' noise floor (absent: none). */
    noiseSamples?: number;
    /** The sampling mode they were drawn under. */
    noiseSampling?: string;
    /** Whether the manipulation check ran. */
    manipulationCheck?: boolean;
  };
  /**
   * Cross-block cosine of the set's emotion vectors over the steered blocks ({@link crossBlockCosine}):
   * how alike an emotion's pushes at successive blocks are, the reason the random arm is one
   * direction at every block.
   */
  crossBlockCosine?: CrossBlockCosine;
  /** How hard every arm pushed, per arm and strength ({@link "emosteer/steer"!manipulationCheck | manipulationCheck}). */
  manipulationCheck?: ManipulationCheckResult;
  /**
   * Continuous effects ({@link "emosteer/steer"!steeringEffects | steeringEffects}): the mean signed judge delta per
   * judge, arm, strength and scenario group (primary = neutral + toward), emotion minus every
   * control with paired scenario-bootstrap intervals, with and without non-surgical runs, and
   * the judges' noise floors from the sampled baselines.
   */
  effects?: SteeringEffects;
  /**
   * Noise-floor runs (arm 'unsteered'): the second (and further) sampled unsteered baselines of
   * each scenario's prompt under `controls.noiseSampling`, each judged against the first (the
   * mode's baseline) as a steered run is, so `judges[name].baseline` and `.steered` are the
   * judge's scores of two unsteered samples and |`.delta`| is its noise floor on the scenario.
   */
  noiseRuns?: SteeringRun[];
  /**
   * Per judge, the share of noise-floor runs it calls a success (moved the intended way by more
   * than its margin between two unsteered samples): its false-positive rate under resampling.
   */
  noiseSuccess?: Record<string, Proportion>;
  /** Success per judge, arm and strength, over scenarios x sampling modes (x seeds). */
  byStrength?: {
    /** Judge name. */
    judge: string;
    /** Arm. */
    arm: SteeringArm;
    /** Strength. */
    strength: number;
    /** Successes over the arm's runs at this strength. */
    proportion: Proportion;
  }[];
  /** Steered minus control per judge and strength, with scenario-bootstrap intervals. */
  contrasts?: ControlContrast[];
  /** Cohen's kappa between each pair of judges on their success verdicts for the same runs (all arms). */
  judgeAgreement?: {
    /** The two judges compared. */
    judges: [string, string];
    /** Runs both judged. */
    runs: number;
    /** Cohen's kappa of their success verdicts. */
    kappa: number;
    /** Share of runs on which they agree. */
    observed: number;
    /** 95% bootstrap interval of kappa. */
    ci95?: [number, number];
  }[];
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

/** One continuation to generate: a scenario under one sampling mode and one arm (or the baseline). */
interface Job {
  key: string;
  scenario: SteeringScenario;
  mode: SamplingMode;
  arm: SteeringArm | 'baseline' | 'unsteered';
  strength: number;
  seed: number;
  steerEmotion?: string;
  /** Runs of one group are decoded in batches together: baselines, then steered runs, per sampling mode. */
  group: string;
  steering?: () => { vectors: Float32Array; layers: [number, number] };
}

/** What the checkpoint keeps of an unsteered continuation. */
interface BaselineRecord {
  key: string;
  baseline: { text: string; tokens: number[]; perplexity: number; trace: number[] };
}

function runKey(sc: string, mode: string, arm: string, strength: number, seed: number): string {
  return `${sc}|${mode}|${arm}|${strength}|${seed}`;
}

/** Seed offset of the noise-floor samples (sample k of a mode uses mode.seed + offset + k). */
const NOISE_SEED_OFFSET = 1000;

/** The control arms an experiment runs, with defaults filled in and checked. */
interface ResolvedControls {
  randomSeeds: number;
  randomConstruction: RandomConstruction;
  randomPerBlockSeeds: number;
  shuffledSeeds: number;
  otherEmotion: boolean;
  sampling: string[];
  noiseSamples: number;
  noiseSampling: string | undefined;
  /** Neutral texts of the manipulation check, or undefined for none. */
  manipulationTexts: readonly string[] | undefined;
  /** What the result records of them. */
  record: NonNullable<SteeringResult['controls']>;
}

function resolveControls(options: ControlOptions | false | undefined, set: EmotionVectorSet, modes: readonly SamplingMode[], steered: readonly string[]): ResolvedControls {
  const nonNegInt = (name: string, x: number) => {
    if (!Number.isInteger(x) || x < 0) throw new EmosteerError('INVALID_ARGUMENT', `controls.${name} must be a non-negative integer, got ${String(x)}`);
    return x;
  };
  if (options === false) {
    return { randomSeeds: 0, randomConstruction: 'same-direction', randomPerBlockSeeds: 0, shuffledSeeds: 0, otherEmotion: false, sampling: [], noiseSamples: 0, noiseSampling: undefined, manipulationTexts: undefined, record: { randomSeeds: 0, otherEmotion: false, sampling: [] } };
  }
  const o = options ?? {};
  const randomSeeds = nonNegInt('randomSeeds', o.randomSeeds ?? 2);
  const randomConstruction = o.randomConstruction ?? 'same-direction';
  if (!RANDOM_CONSTRUCTIONS.includes(randomConstruction)) throw new EmosteerError('INVALID_ARGUMENT', `controls.randomConstruction must be one of ${RANDOM_CONSTRUCTIONS.join(', ')}, got ${String(randomConstruction)}`);
  const randomPerBlockSeeds = nonNegInt('randomPerBlockSeeds', o.randomPerBlockSeeds ?? 0);
  const canShuffle = set.hasActivations && set.meta.samples.length > 0;
  const shuffledSeeds = nonNegInt('shuffledSeeds', o.shuffledSeeds ?? (canShuffle ? 2 : 0));
  if (shuffledSeeds > 0 && !canShuffle) {
    throw new EmosteerError('INVALID_ARGUMENT', 'shuffled-label controls need the per-sample activations of the set (it was imported or loaded with { activations: false }): set shuffledSeeds to 0');
  }
  const sampling = [...(o.sampling ?? [steered[0]!])];
  const unknown = sampling.find((m) => !modes.some((x) => x.name === m));
  if (unknown !== undefined) throw new EmosteerError('INVALID_ARGUMENT', `controls.sampling names '${unknown}', which is not a sampling mode of the experiment (${modes.map((m) => m.name).join(', ')})`);
  const unsteered = sampling.find((m) => !steered.includes(m));
  if (unsteered !== undefined) throw new EmosteerError('INVALID_ARGUMENT', `controls.sampling names '${unsteered}', under which the emotion arm does not run (steeredSampling: ${steered.join(', ')}): a control needs the emotion arm beside it`);
  const sampled = o.noiseSampling !== undefined ? modes.find((m) => m.name === o.noiseSampling) : modes.find((m) => m.temperature > 0);
  if (o.noiseSampling !== undefined && (!sampled || !(sampled.temperature > 0))) {
    throw new EmosteerError('INVALID_ARGUMENT', `controls.noiseSampling must name a sampling mode of the experiment with a temperature above 0 (got '${o.noiseSampling}')`);
  }
  const noiseSamples = nonNegInt('noiseSamples', o.noiseSamples ?? (sampled ? 2 : 0));
  if (noiseSamples === 1) throw new EmosteerError('INVALID_ARGUMENT', 'controls.noiseSamples is 0 or at least 2: a noise floor compares two sampled baselines of one prompt');
  if (noiseSamples > 0 && !sampled) {
    throw new EmosteerError('INVALID_ARGUMENT', 'the noise floor needs a sampling mode with a temperature above 0 (two greedy continuations of one prompt are the same text): add one or set noiseSamples to 0');
  }
  const noiseSampling = noiseSamples > 0 ? sampled!.name : undefined;
  const check = o.manipulationCheck ?? true;
  if (typeof check !== 'boolean' && (typeof check !== 'object' || check === null)) throw new EmosteerError('INVALID_ARGUMENT', 'controls.manipulationCheck must be true, false or { texts }');
  const manipulationTexts = check === false ? undefined : [...((check === true ? undefined : check.texts) ?? DEFAULT_MANIPULATION_TEXTS)];
  if (manipulationTexts && (manipulationTexts.length === 0 || manipulationTexts.some((t) => typeof t !== 'string' || t.length === 0))) {
    throw new EmosteerError('INVALID_ARGUMENT', 'controls.manipulationCheck.texts must be non-empty texts');
  }
  const otherEmotion = o.otherEmotion ?? true;
  return {
    randomSeeds,
    randomConstruction,
    randomPerBlockSeeds,
    shuffledSeeds,
    otherEmotion,
    sampling,
    noiseSamples,
    noiseSampling,
    manipulationTexts,
    record: {
      randomSeeds,
      randomConstruction,
      ...(randomPerBlockSeeds ? { randomPerBlockSeeds } : {}),
      shuffledSeeds,
      otherEmotion,
      sampling,
      noiseSamples,
      ...(noiseSampling ? { noiseSampling } : {}),
      manipulationCheck: manipulationTexts !== undefined,
    },
  };
}

/** Appends finished continuations to a JSONL file and restores them on a rerun. */
class RunCheckpoint {
  readonly runs = new Map<string, SteeringRun>();
  readonly baselines = new Map<string, BaselineRecord['baseline']>();
  /** The manipulation check, once done (one record; a rerun with other texts redoes it). */
  manipulation: ManipulationCheckResult | undefined;
  private constructor(private readonly file: string | undefined) {}

  static async open(file: string | undefined, header: Record<string, unknown>): Promise<RunCheckpoint> {
    const cp = new RunCheckpoint(file);
    if (!file) return cp;
    const want = JSON.stringify(header);
    if (existsSync(file)) {
      const lines = (await readFile(file, 'utf8')).split('\n');
      if (lines[0] !== want) {
        throw new EmosteerError('INVALID_ARGUMENT', `${file} is the checkpoint of a steering run with other parameters; delete it to start over`);
      }
      // A line cut by a kill is the last one and does not parse: it is simply redone.
      for (const line of lines.slice(1)) {
        if (!line.trim()) continue;
        let rec: { key: string; run?: SteeringRun; baseline?: BaselineRecord['baseline']; manipulation?: ManipulationCheckResult };
        try { rec = JSON.parse(line); } catch { continue; }
        // JSON writes NaN (no perplexity: an empty continuation) as null; read it back as NaN.
        if (rec.run) cp.runs.set(rec.key, { ...rec.run, perplexityRatio: rec.run.perplexityRatio ?? Number.NaN });
        else if (rec.baseline) cp.baselines.set(rec.key, { ...rec.baseline, perplexity: rec.baseline.perplexity ?? Number.NaN });
        else if (rec.manipulation) cp.manipulation = rec.manipulation;
      }
      const body = lines.slice(1).filter((l) => { try { JSON.parse(l); return true; } catch { return false; } });
      await writeFile(file, `${[want, ...body].join('\n')}\n`);
    } else {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, `${want}\n`);
    }
    return cp;
  }

  async addRun(key: string, run: SteeringRun): Promise<void> {
    this.runs.set(key, run);
    if (this.file) await appendFile(this.file, `${JSON.stringify({ key, run })}\n`);
  }

  async addBaseline(key: string, baseline: BaselineRecord['baseline']): Promise<void> {
    this.baselines.set(key, baseline);
    if (this.file) await appendFile(this.file, `${JSON.stringify({ key, baseline })}\n`);
  }

  async addManipulation(manipulation: ManipulationCheckResult): Promise<void> {
    this.manipulation = manipulation;
    if (this.file) await appendFile(this.file, `${JSON.stringify({ key: 'manipulation-check', manipulation })}\n`);
  }
}

/**
 * Runs the scenario suite on a model with a vector set of that model: every scenario
 * unsteered and steered at every strength under every sampling mode, plus the control arms,
 * continuations that steer alike decoded together in batches.
 *
 * @example
 * ```ts
 * import { EmotionVectorSet, loadModel } from 'emosteer';
 * import { LexiconJudge, ValenceJudge, runSteeringExperiment, selectScenarios } from 'emosteer/steer';
 * const model = await loadModel('gemma-3-270m-q4_k_m.gguf');
 * const set = await EmotionVectorSet.load('runs/gemma/generation');
 * const result = await runSteeringExperiment(model, set, {
 *   scenarios: selectScenarios({ limit: 10 }),
 *   strengths: [0.01, 0.03],
 *   judges: [{ judge: new ValenceJudge(), margin: 0.05 }, { judge: new LexiconJudge(), margin: 0.5 }],
 *   checkpoint: 'runs/gemma/steering.jsonl',
 * });
 * console.log(result.judges['lexicon']?.perScenario);
 * ```
 */
export async function runSteeringExperiment(model: Model, set: EmotionVectorSet, options: SteeringExperimentOptions): Promise<SteeringResult> {
  const scenarios = options.scenarios ?? SCENARIOS;
  const strengths = [...(options.strengths ?? DEFAULT_STRENGTHS)];
  const modes = options.sampling ?? DEFAULT_SAMPLING_MODES;
  const maxTokens = options.maxTokens ?? 48;
  const batch = options.batch ?? 8;
  if (!Number.isInteger(batch) || batch < 1) throw new EmosteerError('INVALID_ARGUMENT', `batch must be a positive integer, got ${String(batch)}`);
  if (modes.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'the steering experiment needs at least one sampling mode');
  for (const s of scenarios) {
    if (!set.emotions.includes(s.target)) throw new EmosteerError('INVALID_ARGUMENT', `scenario ${s.id} targets '${s.target}', which the set has no vector for`);
  }
  const steeredNames = [...(options.steeredSampling ?? [modes[0]!.name])];
  const unknownSteered = steeredNames.find((n) => !modes.some((m) => m.name === n));
  if (steeredNames.length === 0 || unknownSteered !== undefined) {
    throw new EmosteerError('INVALID_ARGUMENT', `steeredSampling must name sampling modes of the experiment (${modes.map((m) => m.name).join(', ')})${unknownSteered !== undefined ? `, got '${unknownSteered}'` : ''}`);
  }
  const steeredModes = modes.filter((m) => steeredNames.includes(m.name));
  const controls = resolveControls(options.controls, set, modes, steeredModes.map((m) => m.name));
  const path = options.steeringPath ?? 'per-sequence';
  if (path !== 'per-sequence' && path !== 'context-wide') throw new EmosteerError('INVALID_ARGUMENT', `steeringPath must be 'per-sequence' or 'context-wide', got ${String(path)}`);
  const perSeq = path === 'per-sequence';
  /** The batch group of a steered run: its sampling mode, or (context-wide) also its vector. */
  const steeredGroup = (vectorKey: string, mode: string) => (perSeq ? `steered|${mode}` : `${vectorKey}|${mode}`);
  const draws = armDraws(set, scenarios, {
    randomSeeds: controls.randomSeeds,
    randomConstruction: controls.randomConstruction,
    randomPerBlockSeeds: controls.randomPerBlockSeeds,
    shuffledSeeds: controls.shuffledSeeds,
    otherEmotion: controls.otherEmotion,
    ...(options.layers ? { layers: options.layers } : {}),
  });

  const jobs: Job[] = [];
  for (const sc of scenarios) {
    const mine = draws.filter((d) => d.scenario === sc.id);
    for (const mode of modes) {
      const steered = steeredNames.includes(mode.name);
      // A mode's baseline where something is judged against it: its steered runs, or the noise floor's samples.
      if (!steered && mode.name !== controls.noiseSampling) continue;
      jobs.push({ key: runKey(sc.id, mode.name, 'baseline', 0, 0), scenario: sc, mode, arm: 'baseline', strength: 0, seed: 0, group: `baseline|${mode.name}` });
      const controlled = controls.sampling.includes(mode.name);
      for (const strength of steered ? strengths : []) {
        for (const d of mine) {
          if (d.arm !== 'emotion' && !controlled) continue;
          jobs.push({
            key: runKey(sc.id, mode.name, d.arm, strength, d.draw),
            scenario: sc,
            mode,
            arm: d.arm,
            strength,
            seed: d.draw,
            ...(d.arm === 'other-emotion' ? { steerEmotion: d.steerEmotion! } : {}),
            group: steeredGroup(`${d.key}:${strength}`, mode.name),
            steering: () => d.steering(strength),
          });
        }
      }
      if (mode.name === controls.noiseSampling) {
        // Further sampled baselines of the same prompt, with other seeds: the judges' noise floor.
        for (let k = 0; k < controls.noiseSamples - 1; k++) {
          jobs.push({ key: runKey(sc.id, mode.name, 'unsteered', 0, k), scenario: sc, mode, arm: 'unsteered', strength: 0, seed: k, group: steeredGroup('unsteered', mode.name) });
        }
      }
    }
  }

  const header = {
    version: 2,
    // The set by what made it (model file, method, parameters), not by when: a set extracted again
    // from the committed stories on another machine resumes the same checkpoint.
    set: { sha256: set.meta.model.sha256, method: set.meta.method, params: setParamsHash(set) },
    maxTokens,
    layers: options.layers ?? null,
    judges: options.judges.map((j) => [j.judge.name, j.margin]),
    meter: options.meter?.layer ?? null,
    randomConstruction: controls.randomConstruction,
    noiseSampling: controls.noiseSampling ?? null,
  };
  const checkpoint = await RunCheckpoint.open(options.checkpoint, header);
  const meter = options.meter;
  const total = jobs.length;
  const isDone = (j: Job) => (j.arm === 'baseline' ? checkpoint.baselines.has(j.key) : checkpoint.runs.has(j.key));
  let done = jobs.filter(isDone).length;
  // Baselines first (every steered run is judged against one); then one group after another.
  // Groups, batch width and batch boundaries come from all jobs, not from what is left, and a
  // partly finished batch is redone whole (pendingBatches), so that a resumed experiment decodes
  // every continuation in the same batch as an uninterrupted one.
  const groups = new Map<string, Job[]>();
  for (const j of [...jobs.filter((x) => x.arm === 'baseline'), ...jobs.filter((x) => x.arm !== 'baseline')]) groups.set(j.group, [...(groups.get(j.group) ?? []), j]);

  const width = Math.min(batch, Math.max(1, ...[...groups.values()].map((g) => g.length)));
  const longest = Math.max(8, ...scenarios.map((sc) => model.tokenize(sc.prompt).length));
  const steerCtx = await model.createContext({ contextSize: width * (longest + maxTokens + 8), sequences: width, threads: options.threads });
  const scorer = await model.createContext({ contextSize: longest + maxTokens + 8, threads: options.threads });
  try {
    for (const list of groups.values()) {
      const chunks = pendingBatches(list, width, isDone);
      if (chunks.length === 0) continue;
      const first = list[0]!;
      if (!perSeq) {
        const sv = first.steering?.();
        if (sv) await steerCtx.setSteering(sv.vectors, { layers: sv.layers });
        else await steerCtx.clearSteering();
      }
      for (const chunk of chunks) {
        if (options.signal?.aborted) throw new EmosteerError('ABORTED', `the steering experiment was aborted after ${done} of ${total} continuations; rerun with the same checkpoint to resume`);
        const outs = await steerCtx.generateBatch(chunk.map((j) => j.scenario.prompt), {
          ...(perSeq ? {
            steerings: chunk.map((j) => {
              const sv = j.steering?.();
              return sv ? { vectors: sv.vectors, layers: sv.layers } : null;
            }),
          } : {}),
          maxTokens,
          temperature: first.mode.temperature,
          // A noise-floor sample needs another seed than its baseline's.
          seeds: chunk.map((j) => (j.arm === 'unsteered' ? j.mode.seed + NOISE_SEED_OFFSET + j.seed : j.mode.seed)),
          signal: options.signal,
          ...(meter ? { capture: { layers: [meter.layer] } } : {}),
        });
        for (const [i, job] of chunk.entries()) {
          if (isDone(job)) continue; // redone with its batch; the checkpoint already holds it
          const out = outs[i]!;
          const sc = job.scenario;
          const trace = meter ? (out.tokenActivations ?? []).map((a) => meter.read(a.get(meter.layer))[sc.target]!) : [];
          const ppl = await perplexity(scorer, sc.prompt, out.tokens);
          if (job.arm === 'baseline') {
            await checkpoint.addBaseline(job.key, { text: out.text, tokens: out.tokens, perplexity: ppl, trace });
          } else {
            const base = checkpoint.baselines.get(runKey(sc.id, job.mode.name, 'baseline', 0, 0))!;
            await checkpoint.addRun(job.key, await measureRun(job, out.text, ppl, trace, base, options.judges, meter?.layer));
          }
          options.onProgress?.(++done, total, sc.id);
        }
      }
    }
  } finally {
    await steerCtx.dispose();
    await scorer.dispose();
  }
  // How hard every arm draw pushes (the very steerings the runs used), on neutral texts; saved
  // in the checkpoint as one record, so a resumed experiment does not measure again.
  const texts = controls.manipulationTexts;
  if (texts && (!checkpoint.manipulation || JSON.stringify(checkpoint.manipulation.texts) !== JSON.stringify(texts))) {
    if (options.signal?.aborted) throw new EmosteerError('ABORTED', 'the steering experiment was aborted before its manipulation check; rerun with the same checkpoint to resume');
    const arms = draws.map((d) => ({ arm: d.arm, scenario: d.scenario, draw: d.draw, key: d.key, steering: d.steering }));
    await checkpoint.addManipulation(await manipulationCheck(model, set, arms, strengths, texts, { batch: Math.max(2, batch), threads: options.threads, ...(options.signal ? { signal: options.signal } : {}) }));
  }
  const ordered = (arm: SteeringArm | 'unsteered') => jobs.filter((j) => j.arm === arm).map((j) => checkpoint.runs.get(j.key)!);
  const controlRuns = CONTROL_ARMS.flatMap((arm) => ordered(arm));
  const summary = summarize(model, set, scenarios, strengths, steeredModes, ordered('emotion'), options.judges.map((j) => j.judge.name), {
    controlRuns,
    controls: controls.record,
    noiseRuns: ordered('unsteered'),
  });
  return {
    ...summary,
    crossBlockCosine: crossBlockCosine(set, options.layers ? { layers: options.layers } : {}),
    ...(texts && checkpoint.manipulation ? { manipulationCheck: checkpoint.manipulation } : {}),
  };
}

/**
 * The perplexity ratio as the regime sees it: a continuation with no tokens (an end-of-text
 * token first, which sampling can draw) has no perplexity, and neither has the ratio against
 * such a baseline (NaN, saved as null); the regime then rests on the other metrics (a
 * continuation that collapsed in length is still explosive).
 */
function knownRatio(x: number | null): number {
  return typeof x === 'number' && !Number.isNaN(x) ? x : 1;
}

/** Judges one continuation against its baseline and measures its regime and scripts. */
async function measureRun(job: Job, text: string, ppl: number, trace: number[], base: BaselineRecord['baseline'], judges: readonly JudgeSpec[], meterLayer: number | undefined): Promise<SteeringRun> {
  const sc = job.scenario;
  const words = wordTokens(text);
  const metrics = {
    perplexityRatio: ppl / base.perplexity,
    repeatedTrigramRate: repeatedNgramRate(words, 3),
    distinct2: distinctN(words, 2),
    length: words.length,
    baselineLength: wordTokens(base.text).length,
    nonWordRate: nonWordRate(text),
  };
  const judged: SteeringRun['judges'] = {};
  for (const { judge, margin, applies } of judges) {
    if (applies && !applies({ strength: job.strength, sampling: job.mode.name, arm: job.arm as SteeringArm | 'unsteered' })) continue;
    judged[judge.name] = await judgeSuccess(judge, sc.target, sc.direction, text, base.text, margin);
  }
  const cl = crossLingualFlag(text, base.text);
  return {
    scenario: sc.id,
    target: sc.target,
    direction: sc.direction,
    arm: job.arm as SteeringArm | 'unsteered',
    ...(job.steerEmotion ? { steerEmotion: job.steerEmotion } : {}),
    ...(job.arm === 'random' || job.arm === 'random-per-block' || job.arm === 'shuffled-label' || job.arm === 'unsteered' ? { controlSeed: job.seed } : {}),
    strength: job.strength,
    sampling: job.mode.name,
    text,
    baselineText: base.text,
    judges: judged,
    perplexityRatio: metrics.perplexityRatio,
    repeatedTrigramRate: metrics.repeatedTrigramRate,
    distinct2: metrics.distinct2,
    length: metrics.length,
    regime: classifyRegime({ ...metrics, perplexityRatio: knownRatio(metrics.perplexityRatio) }),
    scripts: scriptShares(text) as unknown as Record<string, number>,
    crossLingual: { flagged: cl.flagged, reason: cl.reason },
    ...(meterLayer !== undefined ? { meterTrace: { steered: trace, baseline: base.trace, layer: meterLayer } } : {}),
  };
}

/**
 * Re-derives every judgement of saved runs from their texts and metrics (judges, regime,
 * cross-lingual flag), e.g. after a threshold changed, without generating again.
 */
export async function rescoreRuns(runs: SteeringRun[], judges: readonly JudgeSpec[], onProgress?: (done: number, total: number) => void): Promise<SteeringRun[]> {
  const out: SteeringRun[] = [];
  for (const r of runs) {
    const judged: SteeringRun['judges'] = {};
    for (const { judge, margin, applies } of judges) {
      if (applies && !applies({ strength: r.strength, sampling: r.sampling, arm: r.arm ?? 'emotion' })) continue;
      judged[judge.name] = await judgeSuccess(judge, r.target, r.direction, r.text, r.baselineText, margin);
    }
    onProgress?.(out.length + 1, runs.length);
    const cl = crossLingualFlag(r.text, r.baselineText);
    const regime = classifyRegime({
      perplexityRatio: knownRatio(r.perplexityRatio),
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
export function summarize(
  model: { info: { description: string } },
  set: { meta: { method: string } },
  scenarios: readonly SteeringScenario[],
  strengths: number[],
  modes: readonly SamplingMode[],
  runs: SteeringRun[],
  judgeNames: string[],
  extra: { controlRuns?: SteeringRun[]; controls?: SteeringResult['controls']; noiseRuns?: SteeringRun[] } = {},
): SteeringResult {
  const judges: SteeringResult['judges'] = {};
  for (const name of judgeNames) {
    // A judge that saw only some runs (an LLM judge run on a subset) is counted over those.
    const seen = runs.filter((r) => r.judges[name] !== undefined);
    const ok = seen.filter((r) => succeeded(r, name));
    const judged = scenarios.filter((sc) => seen.some((r) => r.scenario === sc.id && r.sampling === modes[0]!.name));
    const perScenario = judged.filter((sc) => seen.some((r) => r.scenario === sc.id && r.sampling === modes[0]!.name && succeeded(r, name)));
    judges[name] = { perRun: proportion(ok.length, seen.length), perScenario: proportion(perScenario.length, judged.length) };
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
    ...controlSummary(runs, extra.controlRuns ?? [], strengths, modes, judgeNames, extra.controls),
    ...(extra.noiseRuns ? { noiseRuns: extra.noiseRuns, noiseSuccess: noiseSuccess(extra.noiseRuns, judgeNames) } : {}),
    effects: steeringEffects([...runs, ...(extra.controlRuns ?? [])].filter((r) => r.arm !== 'unsteered') as (SteeringRun & { arm?: SteeringArm })[], Object.fromEntries(scenarios.map((sc) => [sc.id, sc.kind])), judgeNames, {
      sampling: modes[0]!.name,
      ...(extra.noiseRuns?.length ? { noiseFloor: noiseFloor(noiseScores(extra.noiseRuns), judgeNames) } : {}),
    }),
  };
}

/** Per judge, the share of noise-floor runs (two unsteered samples) it calls a success: its false-positive rate. */
function noiseSuccess(noiseRuns: readonly SteeringRun[], judgeNames: readonly string[]): Record<string, Proportion> {
  return Object.fromEntries(judgeNames.map((name) => {
    const seen = noiseRuns.filter((r) => r.judges[name] !== undefined);
    return [name, proportion(seen.filter((r) => succeeded(r, name)).length, seen.length)];
  }));
}

/**
 * The judges' scores of each scenario's unsteered samples under the noise-floor mode, from the
 * noise-floor runs: the baseline's score first, then each second sample's, in seed order (the
 * input of a noise floor computed from scores, e.g. steering-effects' `noiseFloor`).
 */
export function noiseScores(noiseRuns: readonly SteeringRun[]): {
  /** Scenario id. */
  scenario: string;
  /** Per judge, its score of each unsteered sample, the baseline first. */
  scores: Record<string, number[]>;
}[] {
  const out = new Map<string, Record<string, number[]>>();
  const sorted = [...noiseRuns].sort((a, b) => (a.controlSeed ?? 0) - (b.controlSeed ?? 0));
  for (const r of sorted) {
    let rec = out.get(r.scenario);
    if (!rec) out.set(r.scenario, (rec = {}));
    for (const [judge, v] of Object.entries(r.judges)) {
      const list = rec[judge] ?? (rec[judge] = [v.baseline]);
      list.push(v.steered);
    }
  }
  return [...out].map(([scenario, scores]) => ({ scenario, scores }));
}

/** A run's success for a judge: the judge moved the right way and the text is not explosive. */
function succeeded(r: SteeringRun, judge: string): boolean {
  return r.regime !== 'explosive' && (r.judges[judge]?.success ?? false);
}

function controlSummary(runs: SteeringRun[], controlRuns: SteeringRun[], strengths: number[], modes: readonly SamplingMode[], judgeNames: string[], controls: SteeringResult['controls']): Partial<SteeringResult> {
  // Noise-floor runs are not an arm of these tables: they get their own row (noiseSuccess).
  const all = [...runs, ...controlRuns].map((r) => ({ ...r, arm: (r.arm ?? 'emotion') as SteeringArm }));
  const arms = [...new Set(all.map((r) => r.arm))];
  const byStrength = judgeNames.flatMap((judge) => arms.flatMap((arm) => strengths.map((strength) => {
    const rs = all.filter((r) => r.arm === arm && r.strength === strength && r.judges[judge] !== undefined);
    return { judge, arm, strength, proportion: proportion(rs.filter((r) => succeeded(r, judge)).length, rs.length) };
  }))).filter((x) => x.proportion.trials > 0);
  const outcomes = Object.fromEntries(judgeNames.map((judge) => [judge, all.filter((r) => r.judges[judge] !== undefined).map((r): ArmOutcome => ({ scenario: r.scenario, arm: r.arm!, strength: r.strength, sampling: r.sampling, seed: r.controlSeed ?? 0, success: succeeded(r, judge) }))]));
  const judgeAgreement: NonNullable<SteeringResult['judgeAgreement']> = [];
  for (let i = 0; i < judgeNames.length; i++) {
    for (let j = i + 1; j < judgeNames.length; j++) {
      const [a, b] = [judgeNames[i]!, judgeNames[j]!];
      const both = all.filter((r) => r.judges[a] !== undefined && r.judges[b] !== undefined);
      if (both.length < 2) continue;
      const k = cohensKappa(both.map((r) => succeeded(r, a)), both.map((r) => succeeded(r, b)), { resamples: 1000, seed: 0 });
      judgeAgreement.push({ judges: [a, b], runs: both.length, kappa: k.kappa, observed: k.observed, ci95: k.ci95 });
    }
  }
  return {
    judgeAgreement,
    controlRuns,
    ...(controls ? { controls } : {}),
    byStrength,
    contrasts: controlRuns.length ? controlContrasts(outcomes, strengths, modes[0]!.name) : [],
  };
}
