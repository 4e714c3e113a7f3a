/**
 * The steps of the protocol, each over one run folder: extract a set into it, evaluate it,
 * run the steering experiment (or re-judge saved runs), write its report. Each reads what the
 * folder holds, writes its own file and reports progress through `onProgress`; the CLI
 * commands `extract`, `evaluate`, `steer` and `report` are one call of these each, and the
 * main job runs them in order.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { renderSpecificitySection } from '../report/specificity-section.js';
import { basename, join } from 'node:path';
import { EmosteerError } from '../errors.js';
import { evaluateRun, findSets, type EvaluateOptions } from '../evaluate/evaluate.js';
import type { EvaluationResult } from '../evaluate/types.js';
import { fileSha256, type ExtractionProgress } from '../extract/common.js';
import { extractComprehensionReadouts, type ComprehensionOptions, type PassageReadout } from '../extract/comprehension.js';
import { extractGenerationReadouts, type GenerationOptions } from '../extract/generation.js';
import type { StoryReadout } from '../extract/story-readouts.js';
import { renderReport } from '../report/html-report.js';
import { renderSteeringSection } from '../report/steering-section.js';
import type { Context } from '../runtime/context.js';
import type { LoadModelOptions } from '../runtime/model.js';
import type { ControlOptions, SteeringArm } from '../steer/controls.js';
import { EmotionMeter } from '../steer/emotion-meter.js';
import { DEFAULT_SAMPLING_MODES, DEFAULT_STRENGTHS, rescoreRuns, runSteeringExperiment, summarize, type JudgeSpec } from '../steer/experiment.js';
import { LexiconJudge } from '../steer/judges/lexicon.js';
import { LlmJudge } from '../steer/judges/llm-judge.js';
import { ValenceJudge } from '../steer/judges/valence.js';
import { logitLens, logitLensNull } from '../steer/logit-lens.js';
import { SCENARIOS, selectScenarios } from '../steer/scenarios.js';
import { runSpecificity, type SpecificityRunResult } from '../steer/specificity.js';
import type { Judge } from '../steer/judges/judge.js';
import { primaryStrength } from '../study/steering-endpoints.js';
import type { LlmJudgeRecord, SavedSteeringResult } from '../steer/steering-result.js';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import type { ProtocolEvent } from './events.js';
import { modelHandle, type ModelHandle, type ModelSource } from './model-source.js';
import { assertSetFromModel, cachedAnisotropy, writeAtomic, ensureAnisotropy, loadRunSet, readFreshEvaluation, readSteering, recordedModelPath, RUN_FILES, writeSteering } from './run-folder.js';

/** What {@link extractToFolder} takes besides the method's own options. */
export interface ExtractToFolderCommon {
  /** How the model is loaded when it is given as a path. */
  loadOptions?: LoadModelOptions;
  /** Progress (`type: 'extraction'`). */
  onProgress?: (e: ProtocolEvent) => void;
}

/** Options of {@link extractToFolder}: the method and that method's extraction options (the checkpoint is the folder itself). */
export type ExtractToFolderOptions =
  | ({
      /** Generation-based extraction (stories the model writes). */
      method: 'generation';
      /**
       * Other read-outs of the same stories, each saved as its own set in `<dir>.<read-out>`
       * (e.g. `generation.mean`) from the same prefill pass; the set at `position` (default the
       * paper's middle token) is saved in `dir`.
       */
      readouts?: readonly StoryReadout[];
    } & ExtractToFolderCommon & Omit<GenerationOptions, 'checkpointDir' | 'onProgress'>)
  | ({
      /** Comprehension-based extraction (passages the model reads). */
      method: 'comprehension';
      /** Other read-outs of the same pass, each saved in `<dir>.<read-out>` (e.g. `comprehension.mean`). */
      readouts?: readonly PassageReadout[];
    } & ExtractToFolderCommon & Omit<ComprehensionOptions, 'checkpointDir' | 'onProgress'>);

/** The folder of a read-out variant of the set in `dir`: `<dir>.<read-out>`. */
export function readoutFolder(dir: string, readout: string): string {
  return `${dir.replace(/[\\/]+$/, '')}.${readout}`;
}

/**
 * Extracts an emotion vector set into `dir` (the set's own folder, e.g. `runs/x/generation`):
 * finished samples go to `<dir>/checkpoint.jsonl` as they complete, so a run stopped with
 * `signal` resumes where it was; the saved set replaces the checkpoint.
 *
 * @returns the saved set
 * @throws EmosteerError `ABORTED` when `signal` fires (the checkpoint stays), and what the extraction throws
 */
export async function extractToFolder(model: ModelSource, dir: string, options: ExtractToFolderOptions): Promise<EmotionVectorSet> {
  const handle = modelHandle(model, options.loadOptions);
  try {
    return await extractWith(handle, dir, options);
  } finally {
    handle.dispose();
  }
}

/** {@link extractToFolder} on a model handle. @internal */
export async function extractWith(handle: ModelHandle, dir: string, options: ExtractToFolderOptions): Promise<EmotionVectorSet> {
  const { method, loadOptions: _load, onProgress, readouts: extra, ...rest } = options;
  const common = { ...rest, checkpointDir: dir, onProgress: onProgress ? (progress: ExtractionProgress) => onProgress({ type: 'extraction', progress }) : undefined };
  const model = await handle.get();
  let primary: EmotionVectorSet;
  let others: [string, EmotionVectorSet][];
  if (method === 'generation') {
    const position: StoryReadout = (rest as GenerationOptions).position ?? 'middle';
    const sets = await extractGenerationReadouts(model, { ...(common as GenerationOptions), readouts: [position, ...(extra ?? []) as StoryReadout[]] });
    primary = sets.get(position)!;
    others = [...sets].filter(([r]) => r !== position);
  } else {
    const position: PassageReadout = (rest as ComprehensionOptions).position ?? 'last';
    const sets = await extractComprehensionReadouts(model, { ...(common as ComprehensionOptions), readouts: [position, ...(extra ?? []) as PassageReadout[]] });
    primary = sets.get(position)!;
    others = [...sets].filter(([r]) => r !== position);
  }
  for (const [r, set] of others) await set.save(readoutFolder(dir, r));
  // The primary set last: its manifest is what marks the extraction done.
  await primary.save(dir);
  await rm(join(dir, RUN_FILES.extractionCheckpoint), { force: true });
  return primary;
}

/** Options of {@link evaluateFolder}. */
export interface EvaluateFolderOptions extends Omit<EvaluateOptions, 'model' | 'onProgress'> {
  /**
   * The model of the sets, for the anisotropy baseline when `<dir>/anisotropy.json` holds none
   * for it (default: the file recorded in the sets). A path is loaded only then.
   */
  model?: ModelSource;
  /** How the model is loaded when it is given as a path. */
  loadOptions?: LoadModelOptions;
  /** Progress messages (`type: 'message'`, source `evaluate`). */
  onProgress?: (e: ProtocolEvent) => void;
}

/**
 * Evaluates every set of a run folder ({@link "emosteer/evaluate"!evaluateRun | evaluateRun})
 * and saves the result as `<dir>/evaluation.json`.
 */
export async function evaluateFolder(dir: string, options: EvaluateFolderOptions = {}): Promise<EvaluationResult> {
  const handle = options.model === undefined ? undefined : modelHandle(options.model, options.loadOptions);
  try {
    return await evaluateWith(dir, handle, options);
  } finally {
    handle?.dispose();
  }
}

/** {@link evaluateFolder} on a model handle (loaded only when the anisotropy baseline is not cached). @internal */
export async function evaluateWith(dir: string, handle: ModelHandle | undefined, options: EvaluateFolderOptions = {}): Promise<EvaluationResult> {
  const { model: _model, loadOptions: _load, onProgress, ...rest } = options;
  const message = (m: string) => onProgress?.({ type: 'message', source: 'evaluate', message: m });
  if (handle) {
    const set = await EmotionVectorSet.load([...(await findSets(dir)).values()][0]!, { activations: false });
    if (!(await cachedAnisotropy(dir, set.meta.model.sha256))) {
      await assertSetFromModel(set, handle.path);
      message('measuring the anisotropy baseline');
      await ensureAnisotropy(dir, await handle.get());
    }
  }
  const result = await evaluateRun(dir, { ...rest, ...(handle ? { model: handle.path } : {}), onProgress: message });
  await writeFile(join(dir, RUN_FILES.evaluation), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** The LLM judge of a steering run: another model, never the steered one. */
export interface LlmJudgeOptions {
  /** The judge model (a path is loaded, with a 2048-token context, and disposed after). */
  model: ModelSource;
  /** Strengths whose runs it judges (default all; it is slow: 21 passes per text). */
  strengths?: readonly number[];
  /** Sampling modes whose runs it judges (default `['greedy']`). */
  sampling?: readonly string[];
  /** Arms whose runs it judges (default all: emotion, random, other-emotion). */
  arms?: readonly SteeringArm[];
}

/** Options of {@link steerFolder}. Every field is optional. */
export interface SteerFolderOptions {
  /** The steered model (default: the file recorded in the set, which must still be there). Checked against the set's sha256 (unless `crossModel`). */
  model?: ModelSource;
  /** Which set of the folder steers (default comprehension when there is one, else the first). */
  method?: string;
  /** The first n scenarios whose target the set has a vector for, or a list of scenario ids (default: every usable one). */
  scenarios?: number | readonly string[];
  /** Strengths (default {@link "emosteer/steer"!DEFAULT_STRENGTHS | DEFAULT_STRENGTHS}); positive, the scenario gives the direction. */
  strengths?: readonly number[];
  /** Sampling modes by name: `greedy` and/or `sampled` (default both). */
  sampling?: readonly string[];
  /** New tokens per continuation (default 48). */
  maxTokens?: number;
  /** Continuations decoded together (default 8). */
  batch?: number;
  /** How steering shares a batch (default per-sequence; see {@link "emosteer/steer"!SteeringExperimentOptions | SteeringExperimentOptions}). */
  steeringPath?: 'per-sequence' | 'context-wide';
  /**
   * Control arms: random directions of the same per-block norm (`randomSeeds`, default 2),
   * another emotion's vector (`otherEmotion`, default true), under these sampling modes
   * (default: the first mode); `false`: none.
   */
  controls?: false | Pick<ControlOptions, 'randomSeeds' | 'randomConstruction' | 'randomPerBlockSeeds' | 'shuffledSeeds' | 'otherEmotion' | 'sampling' | 'noiseSamples' | 'manipulationCheck'>;
  /** Sampling modes the steered runs use (default: the first mode; the others then only draw the noise floor's baselines). */
  steeredSampling?: readonly string[];
  /** More judges beside VADER and the lexicon (e.g. the NRC lexicon, a cross-model probe judge), each validated by the caller. */
  judges?: readonly JudgeSpec[];
  /** Validation records of those judges, saved with the runs (docs/PREREG.md: a judge votes only when it passed). */
  judgeValidation?: SavedSteeringResult['judgeValidation'];
  /** Random directions of the logit lens's null (claim 7; default 100, 0 = none). */
  lensNullDirections?: number;
  /** CPU threads of the experiment's contexts. */
  threads?: number;
  /** Adds a zero-shot LLM judge on another model. */
  llmJudge?: LlmJudgeOptions;
  /** How models given as paths are loaded. */
  loadOptions?: LoadModelOptions;
  /** Stops the experiment; finished continuations stay in steering.partial.jsonl and a rerun resumes from them. */
  signal?: AbortSignal;
  /** Progress (`type: 'steering'`). */
  onProgress?: (e: ProtocolEvent) => void;
  /**
   * Folder that receives steering.json and its checkpoint (default: the run folder). Give one
   * per experiment when several steer with one folder's set (e.g. one set steering several
   * quantizations of its model).
   */
  out?: string;
  /**
   * Let the set steer another model file than the one it was extracted from (default false:
   * the file's sha256 must match): one of the same architecture, block count and width, such
   * as another quantization of the same weights (cross-precision steering). The saved result
   * then records both files under `crossModel`.
   */
  crossModel?: boolean;
}

/** The default judges and their margins: VADER's neutral band, and half a lexicon hit per 100 words. */
function defaultJudges(): JudgeSpec[] {
  return [
    { judge: new ValenceJudge(), margin: 0.05 },
    { judge: new LexiconJudge(), margin: 0.5 },
  ];
}

/** An LLM judge, once its model is known not to be the steered one. */
interface PreparedJudge {
  handle: ModelHandle;
  record: Omit<LlmJudgeRecord, 'model'>;
  applies: NonNullable<JudgeSpec['applies']>;
}

/** Checks an LLM judge against the steered model's sha256 before anything is loaded. */
async function prepareJudge(options: LlmJudgeOptions, steeredSha256: string, loadOptions: LoadModelOptions | undefined): Promise<PreparedJudge> {
  const handle = modelHandle(options.model, loadOptions);
  if (!existsSync(handle.path)) throw new EmosteerError('FILE_NOT_FOUND', `LLM judge ${handle.path}: no such file`);
  const sha256 = await fileSha256(handle.path);
  if (sha256 === steeredSha256) {
    throw new EmosteerError('INVALID_ARGUMENT', 'the LLM judge is the steered model itself: a model never judges its own outputs; pass a different GGUF');
  }
  const strengths = options.strengths ? [...options.strengths] : undefined;
  const sampling = [...(options.sampling ?? ['greedy'])];
  const arms: string[] = [...(options.arms ?? ['emotion', 'random', 'other-emotion'])];
  return {
    handle,
    record: { file: basename(handle.path), sha256, sampling, arms, ...(strengths ? { strengths } : {}) },
    applies: (r) => sampling.includes(r.sampling) && arms.includes(r.arm) && (!strengths || strengths.includes(r.strength)),
  };
}

/** Adds the prepared LLM judge to `judges`; returns its record and context (to dispose). */
async function addJudge(judge: PreparedJudge, judges: JudgeSpec[]): Promise<{ record: LlmJudgeRecord; ctx: Context }> {
  const model = await judge.handle.get();
  const ctx = await model.createContext({ contextSize: 2048 });
  judges.push({ judge: new LlmJudge(ctx), margin: 0.02, applies: judge.applies });
  return { record: { model: model.info.description, ...judge.record }, ctx };
}

/**
 * The steering experiment on a run folder: the scenarios x strengths x sampling modes with
 * their control arms, judged (VADER valence, the emotion lexicon, optionally an LLM judge),
 * with the emotion meter's traces and the logit lens of every vector; saved as
 * `<dir>/steering.json`. Finished continuations go to `<dir>/steering.partial.jsonl` as they
 * complete: a rerun after a stop resumes from them.
 *
 * @throws EmosteerError `INVALID_ARGUMENT` for options out of range or a model the set was not
 *   extracted from, `FILE_NOT_FOUND` when no model is given and the set's is not at its
 *   recorded path, `ABORTED` when `signal` fires
 */
export async function steerFolder(dir: string, options: SteerFolderOptions = {}): Promise<SavedSteeringResult> {
  const set = await loadRunSet(dir, options.method);
  const handle = modelHandle(options.model ?? recordedModelPath(set), options.loadOptions);
  try {
    return await steerWith(dir, handle, set, options);
  } finally {
    handle.dispose();
  }
}

/** {@link steerFolder} with the set loaded and a model handle. @internal */
export async function steerWith(dir: string, handle: ModelHandle, set: EmotionVectorSet, options: SteerFolderOptions = {}): Promise<SavedSteeringResult> {
  if (options.crossModel) {
    if (!existsSync(handle.path)) throw new EmosteerError('FILE_NOT_FOUND', `${handle.path}: no such model file`);
  } else {
    await assertSetFromModel(set, handle.path);
  }
  const outDir = options.out ?? dir;
  if (options.crossModel && options.llmJudge) throw new EmosteerError('INVALID_ARGUMENT', 'crossModel runs take no LLM judge (its never-the-steered-model check knows only the set\'s model)');
  // Every option is checked before anything is loaded.
  const usable = SCENARIOS.filter((x) => set.emotions.includes(x.target));
  const sc = options.scenarios;
  if (typeof sc === 'number' && !(Number.isInteger(sc) && sc >= 0)) throw new EmosteerError('INVALID_ARGUMENT', `scenarios must be a non-negative integer or a list of ids (got ${sc})`);
  const scenarios = sc === undefined ? usable : typeof sc === 'number' ? usable.slice(0, sc) : selectScenarios({ ids: [...sc] });
  if (scenarios.length === 0) throw new EmosteerError('INVALID_ARGUMENT', `no scenario targets an emotion of this set (${set.emotions.join(', ')})`);
  const strengths = [...(options.strengths ?? DEFAULT_STRENGTHS)];
  if (strengths.length === 0 || strengths.some((x) => !(x > 0))) throw new EmosteerError('INVALID_ARGUMENT', 'strengths must be positive numbers (direction comes from the scenario)');
  const modeNames = options.sampling ?? DEFAULT_SAMPLING_MODES.map((m) => m.name);
  const unknownMode = modeNames.find((n) => !DEFAULT_SAMPLING_MODES.some((m) => m.name === n));
  const sampling = DEFAULT_SAMPLING_MODES.filter((m) => modeNames.includes(m.name));
  if (sampling.length === 0 || unknownMode !== undefined) throw new EmosteerError('INVALID_ARGUMENT', `sampling must list greedy and/or sampled${unknownMode !== undefined ? ` (got '${unknownMode}')` : ''}`);
  const controls = options.controls === false ? false : {
    ...options.controls,
    randomSeeds: options.controls?.randomSeeds ?? 2,
    otherEmotion: options.controls?.otherEmotion ?? true,
    sampling: [...(options.controls?.sampling ?? [sampling[0]!.name])],
  };
  if (controls && (!Number.isInteger(controls.randomSeeds) || controls.randomSeeds < 0)) throw new EmosteerError('INVALID_ARGUMENT', 'controls.randomSeeds must be a non-negative integer');
  const lensNullDirections = options.lensNullDirections ?? 100;
  if (!Number.isInteger(lensNullDirections) || lensNullDirections < 0) throw new EmosteerError('INVALID_ARGUMENT', 'lensNullDirections must be a non-negative integer');
  const batch = options.batch ?? 8;
  if (!Number.isInteger(batch) || batch < 1) throw new EmosteerError('INVALID_ARGUMENT', 'batch must be a positive integer');
  const judges = [...defaultJudges(), ...(options.judges ?? [])];
  const prepared = options.llmJudge ? await prepareJudge(options.llmJudge, set.meta.model.sha256, options.loadOptions) : undefined;

  const model = await handle.get();
  let crossModel: SavedSteeringResult['crossModel'];
  if (options.crossModel) {
    const m = model.info;
    const v = set.meta.model;
    if (m.arch !== v.arch || m.nLayer !== v.nLayer || m.nEmbd !== v.nEmbd) {
      throw new EmosteerError('INVALID_ARGUMENT', `crossModel: ${handle.path} (${m.arch}, ${m.nLayer} blocks x ${m.nEmbd}) is not shaped like the set's model (${v.arch}, ${v.nLayer} x ${v.nEmbd})`);
    }
    crossModel = { steered: { path: handle.path, sha256: await fileSha256(handle.path), description: m.description }, vectorsFrom: { path: v.path, sha256: v.sha256, description: v.description } };
  }
  await mkdir(outDir, { recursive: true });
  let judge: { record: LlmJudgeRecord; ctx: Context } | undefined;
  try {
    if (prepared) judge = await addJudge(prepared, judges);
    const meter = new EmotionMeter(set);
    const result = await runSteeringExperiment(model, set, {
      scenarios,
      strengths,
      sampling,
      maxTokens: options.maxTokens ?? 48,
      judges,
      meter,
      batch,
      ...(options.steeringPath !== undefined ? { steeringPath: options.steeringPath } : {}),
      controls,
      ...(options.steeredSampling ? { steeredSampling: options.steeredSampling } : {}),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      checkpoint: join(outDir, RUN_FILES.steeringCheckpoint),
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (done, total, scenario) => options.onProgress?.({ type: 'steering', done, total, scenario }),
    });
    const lensCtx = await model.createContext({ contextSize: 256 });
    let lens;
    let lensNull;
    try {
      lens = await logitLens(lensCtx, set);
      if (lensNullDirections > 0) lensNull = await logitLensNull(lensCtx, set, lens, { directions: lensNullDirections });
    } finally {
      await lensCtx.dispose();
    }
    const data: SavedSteeringResult = {
      ...result,
      logitLens: lens,
      ...(lensNull ? { logitLensNull: lensNull } : {}),
      ...(options.judgeValidation ? { judgeValidation: options.judgeValidation } : {}),
      meterLayer: meter.layer,
      ...(judge ? { llmJudge: judge.record } : {}),
      ...(crossModel ? { crossModel } : {}),
    };
    await writeSteering(outDir, data);
    return data;
  } finally {
    await judge?.ctx.dispose();
    prepared?.handle.dispose();
  }
}

/** Options of {@link rescoreFolder}. */
export interface RescoreFolderOptions {
  /**
   * The steered model, when it should be checked against the run's set (sha256; it is not
   * loaded: re-judging generates nothing).
   */
  model?: string;
  /** Adds a zero-shot LLM judge on another model to the saved runs. */
  llmJudge?: LlmJudgeOptions;
  /** More judges beside VADER and the lexicon (as {@link SteerFolderOptions.judges}). */
  judges?: readonly JudgeSpec[];
  /** Validation records of those judges (replaces the saved ones when given). */
  judgeValidation?: SavedSteeringResult['judgeValidation'];
  /** How the LLM judge's model is loaded when it is given as a path. */
  loadOptions?: LoadModelOptions;
  /** Progress (`type: 'rescore'`). */
  onProgress?: (e: ProtocolEvent) => void;
}

/**
 * Re-judges the saved runs of `<dir>/steering.json` without generating (judges, regimes,
 * cross-lingual flags, success rates and contrasts recomputed by this version's rules), with
 * the default judges and optionally an LLM judge, and saves it again. The steered model is not
 * loaded.
 *
 * @throws EmosteerError `FILE_NOT_FOUND` when there is no steering.json, `INVALID_ARGUMENT`
 *   when the LLM judge is the steered model or `model` is not the set's
 */
export async function rescoreFolder(dir: string, options: RescoreFolderOptions = {}): Promise<SavedSteeringResult> {
  const saved = await readSteering(dir);
  if (!saved) throw new EmosteerError('FILE_NOT_FOUND', `${join(dir, RUN_FILES.steering)} does not exist: run the steering experiment first`);
  const needSet = options.model !== undefined || options.llmJudge !== undefined;
  const set = needSet ? await loadRunSet(dir, saved.method, { activations: false }) : undefined;
  if (options.model !== undefined) await assertSetFromModel(set!, options.model);
  const judges = [...defaultJudges(), ...(options.judges ?? [])];
  const prepared = options.llmJudge ? await prepareJudge(options.llmJudge, set!.meta.model.sha256, options.loadOptions) : undefined;
  let judge: { record: LlmJudgeRecord; ctx: Context } | undefined;
  try {
    if (prepared) judge = await addJudge(prepared, judges);
    const all = saved.runs.length + (saved.controlRuns ?? []).length + (saved.noiseRuns ?? []).length;
    let judged = 0;
    const onRun = () => { judged++; options.onProgress?.({ type: 'rescore', done: judged, total: all }); };
    const runs = await rescoreRuns(saved.runs, judges, onRun);
    const scenarioIds = [...new Set(runs.map((r) => r.scenario))];
    const controlRuns = await rescoreRuns(saved.controlRuns ?? [], judges, onRun);
    const noiseRuns = saved.noiseRuns ? await rescoreRuns(saved.noiseRuns, judges, onRun) : undefined;
    const rescored = summarize({ info: { description: saved.model } }, { meta: { method: saved.method } }, SCENARIOS.filter((x) => scenarioIds.includes(x.id)), saved.strengths, DEFAULT_SAMPLING_MODES.filter((m) => saved.sampling.includes(m.name)), runs, judges.map((j) => j.judge.name), { controlRuns, ...(saved.controls ? { controls: saved.controls } : {}), ...(noiseRuns ? { noiseRuns } : {}) });
    // What the runs' texts do not decide is kept as it was measured.
    const kept = { crossBlockCosine: saved.crossBlockCosine, manipulationCheck: saved.manipulationCheck, logitLensNull: saved.logitLensNull, judgeValidation: options.judgeValidation ?? saved.judgeValidation };
    const data: SavedSteeringResult = { ...rescored, ...Object.fromEntries(Object.entries(kept).filter(([, v]) => v !== undefined)), logitLens: saved.logitLens, meterLayer: saved.meterLayer, ...(judge ? { llmJudge: judge.record } : {}) };
    await writeSteering(dir, data);
    return data;
  } finally {
    await judge?.ctx.dispose();
    prepared?.handle.dispose();
  }
}

/** Options of {@link specificityWith}. */
export interface SpecificityFolderOptions {
  /** Judges that score every emotion (the primary judge of docs/PREREG.md first). */
  judges: readonly Judge[];
  /** Parameters of the model (chooses the primary strength, {@link "emosteer/study"!primaryStrength | primaryStrength}); or give `strength`. */
  params?: number | null;
  /** Strength of every steering (default: the primary strength of the rules). */
  strength?: number;
  /** CPU threads. */
  threads?: number;
  /** Stops the run; finished continuations stay in specificity.partial.jsonl. */
  signal?: AbortSignal;
  /** Progress (`type: 'steering'`, one event per continuation). */
  onProgress?: (e: ProtocolEvent) => void;
}

/**
 * The specificity matrix of a run folder (docs/PREREG.md): steer toward every emotion of the set
 * on the neutral scenarios at the primary strength and judge every emotion; saved as
 * `<dir>/specificity.json` (finished continuations in specificity.partial.jsonl while it runs).
 * @internal
 */
export async function specificityWith(dir: string, handle: ModelHandle, set: EmotionVectorSet, options: SpecificityFolderOptions): Promise<SpecificityRunResult> {
  await assertSetFromModel(set, handle.path);
  const model = await handle.get();
  const strength = options.strength ?? primaryStrength(options.params ?? null, DEFAULT_STRENGTHS);
  const result = await runSpecificity(model, set, {
    strength,
    judges: options.judges,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    checkpoint: join(dir, RUN_FILES.specificityCheckpoint),
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (done, total, scenario) => options.onProgress?.({ type: 'steering', done, total, scenario }),
  });
  await writeAtomic(join(dir, RUN_FILES.specificity), `${JSON.stringify(result)}\n`);
  await rm(join(dir, RUN_FILES.specificityCheckpoint), { force: true });
  return result;
}

/** Options of {@link reportFolder}. */
export interface ReportFolderOptions {
  /** Where to write the report (default `<dir>/report.html`). */
  out?: string;
  /** Evaluate again even when evaluation.json is newer than every set. */
  reevaluate?: boolean;
  /** The model of the sets, used only when the folder must be evaluated first and its anisotropy baseline is not cached. */
  model?: ModelSource;
  /** How the model is loaded when it is given as a path. */
  loadOptions?: LoadModelOptions;
  /** Progress messages (source `report` and `evaluate`). */
  onProgress?: (e: ProtocolEvent) => void;
}

/**
 * Writes the report of a run folder: one HTML file that opens offline, from evaluation.json
 * (evaluating first, and saving it, when it is missing or older than a set), steering.json and
 * specificity.json when there are.
 *
 * @returns the path of the report
 */
export async function reportFolder(dir: string, options: ReportFolderOptions = {}): Promise<string> {
  const handle = options.model === undefined ? undefined : modelHandle(options.model, options.loadOptions);
  try {
    return await reportWith(dir, handle, options);
  } finally {
    handle?.dispose();
  }
}

/** {@link reportFolder} on a model handle. @internal */
export async function reportWith(dir: string, handle: ModelHandle | undefined, options: ReportFolderOptions = {}): Promise<string> {
  let result = options.reevaluate ? null : await readFreshEvaluation(dir);
  if (!result) {
    options.onProgress?.({ type: 'message', source: 'report', message: 'evaluating first (saved to evaluation.json)' });
    result = await evaluateWith(dir, handle, { ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  }
  let steering: SavedSteeringResult | undefined;
  try {
    steering = await readSteering(dir);
  } catch {
    /* an unreadable steering.json: the report is written without it, as when there is none */
  }
  let specificity: SpecificityRunResult | undefined;
  try {
    specificity = JSON.parse(await readFile(join(dir, RUN_FILES.specificity), 'utf8')) as SpecificityRunResult;
  } catch {
    // No (or an unreadable) specificity.json: the report is written without the section.
  }
  const extraSections = [...(steering ? [await renderSteeringSection(steering)] : []), ...(specificity ? [renderSpecificitySection(specificity)] : [])];
  const html = await renderReport(result, extraSections.length ? { extraSections } : {});
  const out = options.out ?? join(dir, RUN_FILES.report);
  await writeFile(out, html);
  return out;
}

