/**
 * emosteer: read and steer the residual stream of GGUF language models from Node.js.
 *
 * This is the root entry point, `emosteer`: models, contexts, activation capture, steering,
 * sampling, chat sessions, the request scheduler, emotion-vector extraction and its stimuli,
 * vector sets and their files (emosteer's own format and llama.cpp's control-vector GGUF), the
 * GGUF reader and writer, synthetic models, the model registry and its fetch/cache, quantization,
 * `doctor`, errors and versions. It loads none of the plotting, NLP or statistics libraries: the
 * research layers that need them are their own entry points, imported only by those who use them:
 *
 * | entry | contents |
 * | --- | --- |
 * | `emosteer/evaluate` | separation metrics, anisotropy, statistics, layer curves |
 * | `emosteer/steer` | steering experiments, judges, regimes, controls, scenarios, logit lens |
 * | `emosteer/report` | the HTML reports with their plots |
 * | `emosteer/study` | many models x quantizations: aggregation and the paper's claims |
 *
 * Their main functions: {@link "emosteer/evaluate"!evaluateRun | evaluateRun},
 * {@link "emosteer/steer"!runSteeringExperiment | runSteeringExperiment},
 * {@link "emosteer/report"!renderReport | renderReport}, {@link "emosteer/study"!checkClaims | checkClaims}.
 *
 * @example
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
 * @module emosteer
 */
export { EmosteerError, type EmosteerErrorCode } from './errors.js';
export { loadModel, Model, type LoadModelOptions, type ModelInfo, type ChatMessage, type TokenizeOptions } from './runtime/model.js';
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
  type LogProbsOptions,
  type TokenLogProb,
} from './runtime/context.js';
export { NextTokenDistributions, type DistributionComparison } from './runtime/distributions.js';
export { RequestScheduler, ScheduledGeneration, type SchedulerOptions, type ScheduledRequest, type ScheduledToken, type ScheduledResult, type SchedulerStats } from './runtime/scheduler.js';
export { ChatSession, type ChatSessionOptions, type ChatTurnOptions, type ChatSessionStats } from './runtime/chat-session.js';
export type { Steering, VectorSteering, EmotionSteering, ComponentSteering, VectorComponent, SetEmotionComponent, SteeringPositions, SteeringSchedule, SteeringStep, SteeringOption } from './runtime/steering.js';
export { SequenceRun } from './runtime/sequence-run.js';
export type { BlockProbe } from './runtime/probe.js';
export { Activations, type Pooling } from './runtime/activations.js';
export { DEFAULT_SAMPLING, type SamplingOptions } from './runtime/sampling.js';
export { jsonSchemaToGrammar, JSON_OBJECT_GRAMMAR, type JsonSchema } from './runtime/json-schema-grammar.js';
export { versions, setLogLevel, type NativeVersions, type NativeModelInfo } from './runtime/native.js';
export { type BackendSelection, type BackendCandidate, type GpuBackend, type GpuRequest, type ProbeResult } from './runtime/backend-select.js';
export {
  SYNTHETIC_SHAPES,
  CHATML_TEMPLATE,
  writeSyntheticModel,
  type SyntheticModelInfo,
  type SyntheticModelOptions,
  type SyntheticShape,
  type SyntheticWeightType,
} from './synth/synthetic-model.js';
export { readGguf, readTensorF32, type GgufFile, type GgufTensorInfo, type GgufValue } from './gguf/reader.js';
export {
  GgmlType,
  GgufValueType,
  type GgufItemType,
  type GgufNumberType,
  type GgufBigIntType,
  type GgufNumberValue,
  type GgufBigIntValue,
  type GgufBoolValue,
  type GgufStringValue,
  type GgufArrayValue,
  type GgufArrayItems,
} from './gguf/types.js';
export { GgufWriter, type TensorData, type TensorSource, type PendingTensor, type GgufWriteResult } from './gguf/writer.js';
export { extractGeneration, extractGenerationReadouts, STORIES_FILE, type GenerationOptions } from './extract/generation.js';
export { extractComprehension, extractComprehensionReadouts, PASSAGE_READOUTS, type ComprehensionOptions, type PassageReadout } from './extract/comprehension.js';
export { generateStories, readStories, storyParams, type Story, type StoryParams, type StoryOptions, type StoryRun, type StoriesHeader, type StoriesFile } from './extract/stories.js';
export { readStoryActivations, storyPositions, STORY_READOUTS, type StoryReadout, type StoryReadoutOptions, type StoryPositions, type StoryActivations } from './extract/story-readouts.js';
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
  EMOTION_WORD_FORMS,
  type StimulusSet,
  type EmotionName,
} from './stimuli/index.js';
export { EmotionVectorSet, type EmotionVectorSetMeta, type ModelIdentity, type SampleInfo, type Baseline } from './vectors/emotion-vector-set.js';
export { writeControlVector, readControlVector, type ControlVectorFile, type ControlVectorConvention, type WriteControlVectorOptions } from './vectors/control-vector-gguf.js';
export { cosine, meanPairwiseCosine, normalize } from './util/vec.js';
export { steeringVectors, type SteeringComponent, type SteeringVectorOptions } from './vectors/steering-vectors.js';
export { resolveStrength, calibratedStrengths, CALIBRATION_VERSION, type Strength, type AutoFraction, type IntervalEstimate, type StrengthCalibration, type CalibratedEmotion, type CalibrationPoint, type DamageBound, type CalibratedSetLike } from './vectors/strength-calibration.js';
export { EmotionMeter, meterStream, type EmotionReading, type MeteredToken } from './steer/emotion-meter.js';
export { conditionalSteering, type ConditionalSteeringRule, type SteeringCondition, type ConditionalSteeringTrace } from './steer/conditional-steering.js';
export { MODELS, getModelEntry, modelNames, type ModelEntry, type ModelPart } from './models/registry.js';
export { fetchModel, resolveModel, type FetchModelOptions, type FetchProgress } from './models/fetch.js';
export { modelCacheDir } from './models/cache.js';
export { quantizeModel, parseQuantizationType, QUANTIZATION_TYPES, QUANTIZATION_LADDER, type QuantizationType, type QuantizeModelOptions, type QuantizeProgress, type QuantizeResult } from './models/quantize-model.js';
export { bakeSteering, BAKEABLE_ARCHITECTURES, type BakeSteering, type BakeResult } from './models/bake-steering.js';
export { defaultThreads } from './runtime/context.js';
export { runDoctor, type DoctorReport, type DoctorCheck, type DoctorStatus, type DoctorOptions } from './runtime/doctor.js';
