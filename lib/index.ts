/**
 * emosteer: read and steer the residual stream of GGUF language models from Node.js.
 *
 * ```ts
 * import { loadModel } from 'emosteer';
 * const model = await loadModel('model.gguf');
 * const ctx = await model.createContext();
 * const { activations } = await ctx.evaluate('Hello', { capture: { layers: 'all' } });
 * await ctx.setSteering(new Map([[6, direction]]), { scale: 4 });
 * for await (const t of ctx.generate('Once upon a time', { maxTokens: 40 })) process.stdout.write(t.text);
 * ```
 *
 * Layers are block indices 0..nLayer-1: block i's output is llama.cpp's `l_out-i`
 * (Hugging Face `hidden_states[i + 1]`, except the last block: Hugging Face's last hidden state is
 * taken after the final norm, emosteer's before it). Block 0 cannot be steered (llama.cpp limitation).
 *
 * @module
 */
export { EmosteerError, type EmosteerErrorCode } from './errors.js';
export { loadModel, Model, type LoadModelOptions, type ModelInfo, type ChatMessage, type TokenizeOptions } from './model.js';
export {
  Context,
  type ContextOptions,
  type CaptureOptions,
  type PromptInput,
  type EvaluateOptions,
  type EvaluateResult,
  type GenerateOptions,
  type GenerateBatchOptions,
  type GeneratedToken,
  type GenerationResult,
  type StopReason,
  type SteeringOptions,
  type SteeringState,
  type LogProbResult,
} from './context.js';
export { RequestScheduler, ScheduledGeneration, type SchedulerOptions, type ScheduledRequest, type ScheduledToken, type ScheduledResult, type SchedulerStats } from './scheduler.js';
export { ChatSession, type ChatSessionOptions, type ChatTurnOptions, type ChatSessionStats } from './chat-session.js';
export type { Steering, VectorSteering, EmotionSteering, SteeringPositions, SteeringSchedule, SteeringStep, SteeringOption } from './steering.js';
export { Activations, type Pooling } from './activations.js';
export { DEFAULT_SAMPLING, type SamplingOptions } from './sampling.js';
export { versions, setLogLevel, type NativeVersions, type NativeModelInfo } from './native.js';
export {
  SYNTHETIC_SHAPES,
  writeSyntheticModel,
  type SyntheticModelInfo,
  type SyntheticModelOptions,
  type SyntheticShape,
  type SyntheticWeightType,
} from './synth/synthetic-model.js';
export { readGguf, readTensorF32, type GgufFile, type GgufTensorInfo, type GgufValue } from './gguf/reader.js';
export { GgufWriter } from './gguf/writer.js';
export { extractGeneration, type GenerationOptions } from './extract/generation.js';
export { extractComprehension, type ComprehensionOptions } from './extract/comprehension.js';
export type { ExtractionProgress, CommonExtractionOptions } from './extract/common.js';
export {
  EMOTIONS,
  NEUTRAL,
  CATEGORIES,
  STIMULI_VERSION,
  defaultStimuli,
  loadStimuli,
  validateStimuli,
  findEmotionWords,
  type StimulusSet,
  type EmotionName,
} from './extract/stimuli/index.js';
export { EmotionVectorSet, type EmotionVectorSetMeta, type ModelIdentity, type SampleInfo, type Baseline } from './vectors/emotion-vector-set.js';
export { writeControlVector, readControlVector, type ControlVectorFile, type ControlVectorConvention, type WriteControlVectorOptions } from './vectors/control-vector-gguf.js';
export { cosine, meanPairwiseCosine, normalize } from './util/vec.js';
export { evaluateRun, evaluateSet, compareMethods, findSets, type EvaluateOptions as EvaluationOptions } from './evaluate/evaluate.js';
export { measureAnisotropy, type AnisotropyProfile } from './evaluate/anisotropy.js';
export { evaluationSummary } from './evaluate/summary.js';
export type { EvaluationResult, MethodEvaluation, MethodComparison, LayerMetrics, Estimate, LayerCurveShape, EmotionMap } from './evaluate/types.js';
export { renderReport, type ReportOptions } from './report/html-report.js';
export { steeringVectors, type SteeringComponent, type SteeringVectorOptions } from './steer/steering-vectors.js';
export { EmotionMeter, meterStream, type EmotionReading, type MeteredToken } from './steer/emotion-meter.js';
export { runSteeringExperiment, wilson, DEFAULT_STRENGTHS, DEFAULT_SAMPLING_MODES, type SteeringExperimentOptions, type SteeringResult, type SteeringRun, type SamplingMode, type Proportion, type JudgeSpec } from './steer/experiment.js';
export { randomDirectionLike, otherEmotionFor, controlContrasts, type SteeringArm, type ControlOptions, type ControlContrast, type ArmOutcome } from './steer/controls.js';
export { SCENARIOS, SCENARIO_SUITE_VERSION, selectScenarios, type SteeringScenario } from './steer/scenarios.js';
export { judgeSuccess, type Judge } from './steer/judges/judge.js';
export { ValenceJudge, EMOTION_VALENCE } from './steer/judges/valence.js';
export { LexiconJudge, toSevenClass } from './steer/judges/lexicon.js';
export { LlmJudge } from './steer/judges/llm-judge.js';
export { classifyRegime, DEFAULT_REGIME_THRESHOLDS, repeatedNgramRate, distinctN } from './steer/regimes.js';
export { scriptShares, detectLanguage, crossLingualFlag } from './steer/scripts.js';
export { logitLens, type LensResult, type LensToken } from './steer/logit-lens.js';
export { MODELS, getModelEntry, modelNames, type ModelEntry, type ModelPart } from './models/registry.js';
export { fetchModel, resolveModel, type FetchModelOptions, type FetchProgress } from './models/fetch.js';
export { modelCacheDir } from './models/cache.js';
export { quantizeModel, parseQuantizationType, QUANTIZATION_TYPES, QUANTIZATION_LADDER, type QuantizationType, type QuantizeModelOptions, type QuantizeProgress, type QuantizeResult } from './quantize-model.js';
export { defaultThreads } from './context.js';
export { cohensKappa, fleissKappa, type KappaResult } from './evaluate/statistics.js';
export { checkClaims } from './study/claims.js';
export { runDoctor, type DoctorReport, type DoctorCheck, type DoctorStatus, type DoctorOptions } from './doctor.js';
export { crossModelComparisons, quantizationCurves, readRow as readStudyRow } from './study/aggregate.js';
export { renderStudyReport } from './report/study-report.js';
export type { StudyResult, StudyRow, StudyVariant, StudyMethodRow, StudySteeringRow, CrossModelComparison, QuantizationCurve, QuantizationInfo, ClaimVerdict } from './study/types.js';
