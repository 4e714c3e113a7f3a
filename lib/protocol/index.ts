/**
 * `emosteer/protocol`: the main job and the study as library calls, over run folders.
 *
 * {@link runMainJob} runs the whole protocol on one model into one run folder: extraction with
 * both methods, evaluation, the steering experiment with its control arms, the report; each
 * step is skipped when its output exists, so a call after a failure or a stop resumes.
 * {@link runStudy} runs it on many models and quantizations, adds an LLM judge from another
 * model of the study, and writes study.json, the cross-model report and the claims table.
 * The single steps are calls too ({@link extractToFolder}, {@link evaluateFolder},
 * {@link steerFolder}, {@link rescoreFolder}, {@link reportFolder}), and the run-folder
 * helpers say what a folder holds ({@link RUN_FILES}, {@link extractionDone}, ...).
 *
 * A model is given loaded (a `Model`: used, never disposed) or as a GGUF path (loaded once,
 * only when a step needs it). Nothing prints: progress comes through `onProgress`
 * ({@link ProtocolEvent}, {@link StudyEvent}); `signal` stops extraction and steering cleanly.
 * Loads the research layers (plots, NLP and statistics packages): import it where you run
 * experiments. The `emosteer run` and `emosteer study` commands are one call of these each.
 *
 * @example
 * ```ts
 * import { loadModel } from 'emosteer';
 * import { runMainJob, runStudy } from 'emosteer/protocol';
 *
 * // one model, one run folder
 * const model = await loadModel('smollm2-135m-instruct-q4_1.gguf');
 * const job = await runMainJob(model, 'runs/smollm2', { quick: true });
 * console.log(job.report);                       // runs/smollm2/report.html
 * model.dispose();
 *
 * // many models: registry names or paths
 * const { study } = await runStudy({ models: ['smollm2-135m-instruct', 'gemma-3-270m'], out: 'runs/study', quick: true });
 * for (const c of study.claims) console.log(c.id, c.verdict);
 * ```
 *
 * @module emosteer/protocol
 */
export { runMainJob, PREREG_READOUTS, PREREG_STEERING, type MainJobOptions, type MainJobResult, type MainJobSteeringOptions, type PreregOptions, type PreregJudgeSet } from './main-job.js';
export { preregJudges, probeJudgeModelFor, type PreregJudges, type JudgeValidationRecord } from './prereg-judges.js';
export { requantizedModelPath, runStudy, type RunStudyOptions, type RunStudyResult } from './study.js';
export { RunManifestFile, RUN_MANIFEST_FILE, readRunManifests, studyModelFolders, type RunManifest, type RunModel } from './run-manifest.js';
export { pairwiseJudgeFolder, type PairwiseJudgeFolderOptions } from './pairwise-judge-step.js';
export { geometryFolder, geometryDone } from './geometry-step.js';
export {
  extractToFolder,
  evaluateFolder,
  steerFolder,
  rescoreFolder,
  reportFolder,
  type ExtractToFolderOptions,
  type ExtractToFolderCommon,
  type EvaluateFolderOptions,
  type SteerFolderOptions,
  type LlmJudgeOptions,
  type RescoreFolderOptions,
  type ReportFolderOptions,
} from './steps.js';
export {
  RUN_FILES,
  STUDY_FILES,
  extractionDone,
  evaluationDone,
  steeringDone,
  llmJudgeDone,
  loadRunSet,
  recordedModelPath,
  assertSetFromModel,
  cachedAnisotropy,
  ensureAnisotropy,
  readFreshEvaluation,
  readSteering,
  writeSteering,
  type ExtractionMethod,
} from './run-folder.js';
export type { ModelSource } from './model-source.js';
export type { ProtocolEvent, StudyEvent, StepEvent, StepResult, MainJobStepName } from './events.js';
export type { SavedSteeringResult, LlmJudgeRecord, CrossModelFile } from '../steer/steering-result.js';
