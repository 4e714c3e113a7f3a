/**
 * The main job on one model into one run folder: extraction with both methods, evaluation,
 * the steering experiment with its control arms, and the report. Each step writes its own
 * output and is skipped when that output exists, so running it again resumes; the model is
 * loaded once, and only when a step that needs it runs.
 *
 * @module
 */
import { join } from 'node:path';
import { EmosteerError } from '../errors.js';
import type { LoadModelOptions } from '../runtime/model.js';
import type { MainJobStepName, ProtocolEvent, StepEvent, StepResult } from './events.js';
import { modelHandle, type ModelHandle, type ModelSource } from './model-source.js';
import { geometryDone, geometryFolder } from './geometry-step.js';
import { evaluationDone, extractionDone, loadRunSet, readoutsDone, RUN_FILES, steeringDone, type ExtractionMethod } from './run-folder.js';
import { evaluateWith, extractWith, reportWith, specificityWith, steerWith, type ExtractToFolderOptions, type SteerFolderOptions } from './steps.js';
import type { JudgeSpec } from '../steer/experiment.js';
import type { PassageReadout } from '../extract/comprehension.js';
import type { StoryReadout } from '../extract/story-readouts.js';
import type { SavedSteeringResult } from '../steer/steering-result.js';
import { existsSync, readFileSync } from 'node:fs';
import { PAIRWISE_FILE } from '../steer/pairwise-steering.js';
import { pairwiseJudgeFolder } from './pairwise-judge-step.js';
import type { RunManifestFile } from './run-manifest.js';

/** True when the folder's LLM judge step finished (`llm-pairwise.json` complete). */
function pairwiseDone(dir: string): boolean {
  const f = join(dir, PAIRWISE_FILE);
  if (!existsSync(f)) return false;
  try { return (JSON.parse(readFileSync(f, 'utf8')) as { complete?: boolean }).complete === true; } catch { return false; }
}

/** What the main job's steering experiment may be given (the rest comes from the run folder). */
export type MainJobSteeringOptions = Pick<SteerFolderOptions, 'scenarios' | 'strengths' | 'sampling' | 'maxTokens' | 'batch' | 'steeringPath' | 'controls' | 'llmJudge'>;

/** Options of {@link runMainJob}. Every field is optional. */
export interface MainJobOptions {
  /**
   * The small version, for a first look: 4 emotions (happy, sad, angry, calm), 2 samples,
   * 48-token stories; 10 scenarios, strengths 0.01 and 0.03, greedy only, one random control.
   */
  quick?: boolean;
  /** Extraction methods to run (default both). */
  methods?: readonly ExtractionMethod[];
  /** Run the steering experiment (default true). */
  steer?: boolean;
  /** Options of the steering experiment; they override those of `quick`. */
  steering?: MainJobSteeringOptions;
  /**
   * Run under the pre-registered protocol of docs/PREREG.md: comprehension on 10 passages per
   * category read at the last token and the mean, generation read at the middle, mean, last and
   * punctuation positions of the same stories, the steering arms of the rules (one random and
   * one shuffled-label draw per scenario, another emotion, two sampled baselines for the noise
   * floor, greedy steered runs) and the specificity matrix.
   */
  prereg?: PreregOptions;
  /** How the model is loaded when it is given as a path. */
  loadOptions?: LoadModelOptions;
  /** Stops the job: extraction and steering stop cleanly (a rerun resumes), other steps are not started. */
  signal?: AbortSignal;
  /** Progress: steps starting, skipped, done or failed, and each step's own progress. */
  onProgress?: (e: ProtocolEvent) => void;
  /**
   * The run's manifest (`run.json`, {@link RunManifestFile}): every step but the report records
   * its rules, commit and wall time there, and a step started under other rules is not finished.
   */
  manifest?: RunManifestFile;
  /** Called after each step that ran or was found done (e.g. to commit the folder as steps finish). */
  afterStep?: (step: MainJobStepName, status: 'done' | 'skipped') => void | Promise<void>;
}

/** The parts of the pre-registered protocol that depend on the study around the model. */
export interface PreregOptions {
  /** Parameters of the model (the primary strength depends on its size). */
  params?: number | null;
  /** Most new tokens of a story (default 256; 128 for the largest model, the only reduction the rules allow). */
  storyTokens?: number;
  /**
   * The judges that vote (docs/PREREG.md), built once when the first step that needs them runs:
   * e.g. the NRC lexicon and a probe judge on another family's model, with their validation
   * records. The caller owns them (and frees them after the job).
   */
  judges?: () => Promise<PreregJudgeSet>;
  /** CPU threads of the runs (default: as createContext). */
  threads?: number;
  /**
   * The LLM judge of the rules (a GGUF path or registry name, never of the steered model's
   * family): validated, then asked about the primary strength's runs (`llm-pairwise.json`).
   */
  llmJudge?: string;
}

/** The judges of the rules for one model and their validation records. */
export interface PreregJudgeSet {
  /** The judges with their margins. */
  judges: JudgeSpec[];
  /** How each did on labelled texts (a judge votes only when it passed). */
  validation: NonNullable<SavedSteeringResult['judgeValidation']>;
}

/** What {@link runMainJob} did. */
export interface MainJobResult {
  /** The run folder. */
  dir: string;
  /** The report. */
  report: string;
  /** Every step in order: run now (`done`, with its wall time) or found done (`skipped`). */
  steps: {
    /** The step. */
    step: MainJobStepName;
    /** Whether it ran now or its output was there. */
    status: 'done' | 'skipped';
    /** Wall time (0 when skipped). */
    seconds: number;
  }[];
}

/** A step of the main job, resolved against a run folder. @internal */
export interface PlannedStep {
  /** Its name. */
  name: MainJobStepName;
  /** True when its output exists. */
  done(): boolean;
  /** Runs it. */
  run(): Promise<StepResult>;
}

const QUICK_EXTRACTION = { emotions: ['happy', 'sad', 'angry', 'calm'], samples: 2 } as const;
/** The quick protocol's steering: a first look, so one random control and nothing that needs another pass (no shuffled labels, no manipulation check, no noise floor). */
const QUICK_STEERING: MainJobSteeringOptions = { scenarios: 10, strengths: [0.01, 0.03], sampling: ['greedy'], controls: { randomSeeds: 1, shuffledSeeds: 0, manipulationCheck: false } };

/** The read-outs docs/PREREG.md reads besides each method's own (saved as `<set>.<read-out>`). */
export const PREREG_READOUTS: {
  /** Comprehension: the mean over the passage (besides the last token). */
  readonly comprehension: readonly PassageReadout[];
  /** Generation: the mean, last and punctuation read-outs (besides the middle token). */
  readonly generation: readonly StoryReadout[];
} = Object.freeze({ comprehension: ['mean'], generation: ['mean', 'last', 'punctuation'] });

/** The steering arms and sampling of docs/PREREG.md. */
export const PREREG_STEERING: Pick<SteerFolderOptions, 'sampling' | 'steeredSampling' | 'controls'> = Object.freeze({
  sampling: ['greedy', 'sampled'],
  steeredSampling: ['greedy'],
  controls: { randomSeeds: 1, shuffledSeeds: 1, otherEmotion: true, noiseSamples: 2 },
});

/** The steps of the main job on a run folder, in order. @internal */
export function planMainJob(handle: ModelHandle, dir: string, options: MainJobOptions = {}): PlannedStep[] {
  const methods = options.methods ?? ['comprehension', 'generation'];
  const onProgress = options.onProgress;
  const signal = options.signal;
  const quick = options.quick ? QUICK_EXTRACTION : {};
  const pre = options.prereg;
  const preExtraction = (method: ExtractionMethod) => (!pre ? {} : method === 'comprehension'
    ? { samples: 10, readouts: PREREG_READOUTS.comprehension }
    : { readouts: PREREG_READOUTS.generation, ...(pre.storyTokens ? { maxTokens: pre.storyTokens } : {}) });
  const extraction = (method: ExtractionMethod): PlannedStep => ({
    name: `${method} extraction`,
    done: () => extractionDone(dir, method) && (!pre || readoutsDone(dir, method, PREREG_READOUTS[method])),
    run: async () => ({
      set: await extractWith(handle, join(dir, RUN_FILES[method]), {
        method,
        ...quick,
        ...(options.quick && method === 'generation' ? { maxTokens: 48 } : {}),
        ...preExtraction(method),
        ...(pre?.threads !== undefined ? { threads: pre.threads } : {}),
        ...(signal ? { signal } : {}),
        ...(onProgress ? { onProgress } : {}),
      } as ExtractToFolderOptions),
    }),
  });
  const steps: PlannedStep[] = (['comprehension', 'generation'] as const).filter((m) => methods.includes(m)).map(extraction);
  steps.push({
    name: 'evaluation',
    done: () => evaluationDone(dir, methods),
    run: async () => ({ evaluation: await evaluateWith(dir, handle, onProgress ? { onProgress } : {}) }),
  });
  steps.push({ name: 'geometry', done: () => geometryDone(dir), run: async () => ({ geometry: await geometryFolder(dir) }) });
  // The judges of the rules are built once, when the first step that needs them runs.
  let built: Awaited<ReturnType<NonNullable<PreregOptions['judges']>>> | undefined;
  const judges = async () => (built ??= pre?.judges ? await pre.judges() : { judges: [], validation: [] });
  if (options.steer !== false) {
    steps.push({
      name: 'steering experiment',
      done: () => steeringDone(dir),
      run: async () => {
        const j = pre ? await judges() : undefined;
        return {
          steering: await steerWith(dir, handle, await loadRunSet(dir), {
            ...(options.quick ? QUICK_STEERING : {}),
            ...(pre ? { ...PREREG_STEERING, judges: j!.judges, judgeValidation: j!.validation, ...(pre.threads !== undefined ? { threads: pre.threads } : {}) } : {}),
            ...withoutUndefined(options.steering ?? {}),
            ...(options.loadOptions ? { loadOptions: options.loadOptions } : {}),
            ...(signal ? { signal } : {}),
            ...(onProgress ? { onProgress } : {}),
          }),
        };
      },
    });
    if (pre?.llmJudge) {
      const judgeModel = pre.llmJudge;
      steps.push({
        name: 'LLM judge',
        done: () => pairwiseDone(dir),
        run: async () => ({
          pairwise: await pairwiseJudgeFolder(dir, {
            judgeModel,
            ...(pre.threads !== undefined ? { threads: pre.threads } : {}),
            ...(options.loadOptions ? { loadOptions: options.loadOptions } : {}),
            ...(onProgress ? { onProgress: (e) => onProgress({ type: 'message', source: 'steer', message: `LLM judge ${e.phase}${e.data ? ` (${e.data})` : ''} ${e.done}/${e.total}` }) } : {}),
          }),
        }),
      });
    }
    if (pre) {
      steps.push({
        name: 'specificity',
        done: () => existsSync(join(dir, RUN_FILES.specificity)),
        run: async () => {
          const j = await judges();
          return { specificity: await specificityWith(dir, handle, await loadRunSet(dir), { judges: j.judges.map((x) => x.judge), params: pre.params ?? null, ...(pre.threads !== undefined ? { threads: pre.threads } : {}), ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) }) };
        },
      });
    }
  }
  steps.push({ name: 'report', done: () => false, run: async () => ({ report: await reportWith(dir, handle, onProgress ? { onProgress } : {}) }) });
  return steps;
}

/** A copy without the keys whose value is undefined (so that they do not override defaults). */
function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Throws `ABORTED` when the signal has fired. @internal */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new EmosteerError('ABORTED', `${what} was stopped; run it again to resume`);
}

/**
 * Runs steps in order, skipping those whose output exists, and reports each through `onProgress`.
 * @internal
 */
export async function runPlannedSteps(steps: readonly PlannedStep[], options: { signal?: AbortSignal; onProgress?: (e: ProtocolEvent) => void; manifest?: RunManifestFile; afterStep?: MainJobOptions['afterStep'] } = {}): Promise<MainJobResult['steps']> {
  const out: MainJobResult['steps'] = [];
  for (const [i, s] of steps.entries()) {
    const base = { type: 'step', step: s.name, index: i + 1, total: steps.length } as const;
    const emit = (e: Omit<StepEvent, keyof typeof base>) => options.onProgress?.({ ...base, ...e });
    if (s.done()) {
      // A step found done before the manifest knew it is recorded as finished.
      if (options.manifest && s.name !== 'report') await options.manifest.step(s.name, s.run, { isDone: () => true });
      emit({ status: 'skipped' });
      out.push({ step: s.name, status: 'skipped', seconds: 0 });
      await options.afterStep?.(s.name, 'skipped');
      continue;
    }
    throwIfAborted(options.signal, 'the main job');
    emit({ status: 'start' });
    const started = performance.now();
    let result: StepResult;
    try {
      result = options.manifest && s.name !== 'report' ? (await options.manifest.step(s.name, s.run, { isDone: () => false }))! : await s.run();
    } catch (error) {
      emit({ status: 'failed', seconds: (performance.now() - started) / 1000, error });
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    emit({ status: 'done', seconds, result });
    out.push({ step: s.name, status: 'done', seconds });
    await options.afterStep?.(s.name, 'done');
  }
  return out;
}

/**
 * The main job on one model into run folder `dir`: comprehension and generation extraction
 * (`<dir>/comprehension`, `<dir>/generation`), evaluation (`evaluation.json`), the steering
 * experiment with its control arms (`steering.json`) and the report (`report.html`). A step
 * whose output exists is skipped (delete it to redo), so calling it again after a failure or
 * a stop resumes; the report is always written again.
 *
 * @param model a loaded model (used, not disposed), or a GGUF path: loaded once, only if a
 *   step that needs it runs, and disposed at the end
 * @returns the steps and the report's path
 * @throws what the failing step threw (after a `failed` step event), `ABORTED` when `signal` fires
 *
 * @example
 * ```ts
 * import { loadModel } from 'emosteer';
 * import { runMainJob } from 'emosteer/protocol';
 * const model = await loadModel('model.gguf');
 * const { report } = await runMainJob(model, 'runs/model', {
 *   quick: true,
 *   onProgress: (e) => { if (e.type === 'step') console.error(e.step, e.status); },
 * });
 * model.dispose();
 * ```
 */
export async function runMainJob(model: ModelSource, dir: string, options: MainJobOptions = {}): Promise<MainJobResult> {
  const handle = modelHandle(model, options.loadOptions);
  try {
    return await mainJobWith(handle, dir, options);
  } finally {
    handle.dispose();
  }
}

/** {@link runMainJob} on a model handle (the caller disposes it). @internal */
export async function mainJobWith(handle: ModelHandle, dir: string, options: MainJobOptions = {}): Promise<MainJobResult> {
  const methods = options.methods ?? ['comprehension', 'generation'];
  if (methods.length === 0 || methods.some((m) => m !== 'comprehension' && m !== 'generation')) {
    throw new EmosteerError('INVALID_ARGUMENT', `methods must be comprehension and/or generation (got ${methods.join(', ') || 'none'})`);
  }
  const steps = await runPlannedSteps(planMainJob(handle, dir, options), options);
  return { dir, report: join(dir, RUN_FILES.report), steps };
}
