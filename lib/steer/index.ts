/**
 * `emosteer/steer`: steering experiments, and what judges their outcome.
 *
 * {@link runSteeringExperiment} steers scenarios at several strengths and sampling modes, with
 * control arms (random directions of the same norm, another emotion's vector); judges (VADER
 * valence, the emotion lexicon, a zero-shot LLM judge) score the texts; regimes (surgical,
 * repetitive collapse, explosive) and script/language checks classify them; the logit lens
 * shows which tokens each vector promotes. Loads vader-sentiment, franc and @stdlib: import it
 * only where you run experiments. Steering a context itself ({@link emosteer!Context.setSteering | Context.setSteering},
 * {@link emosteer!steeringVectors | steeringVectors}) and the emotion meter are in the root entry point.
 *
 * @example
 * ```ts
 * import { EmotionVectorSet, loadModel } from 'emosteer';
 * import { LexiconJudge, runSteeringExperiment, selectScenarios } from 'emosteer/steer';
 * const model = await loadModel('model.gguf');
 * const set = await EmotionVectorSet.load('runs/gemma/generation');
 * const result = await runSteeringExperiment(model, set, {
 *   scenarios: selectScenarios({ emotions: ['calm'], limit: 4 }),
 *   strengths: [0.02],
 *   judges: [{ judge: new LexiconJudge(), margin: 0.5 }],
 * });
 * console.log(result.runs.length, 'continuations');
 * ```
 *
 * @module emosteer/steer
 */
export { runSteeringExperiment, wilson, DEFAULT_STRENGTHS, DEFAULT_SAMPLING_MODES, type SteeringExperimentOptions, type SteeringResult, type SteeringRun, type SamplingMode, type Proportion, type JudgeSpec } from './experiment.js';
export type { SavedSteeringResult, LlmJudgeRecord } from './steering-result.js';
export { randomDirectionLike, otherEmotionFor, controlContrasts, type SteeringArm, type ControlOptions, type ControlContrast, type ArmOutcome } from './controls.js';
export { SCENARIOS, SCENARIO_SUITE_VERSION, SCENARIO_KINDS, selectScenarios, type SteeringScenario, type ScenarioKind, type SelectScenariosOptions } from './scenarios.js';
export { judgeSuccess, type Judge, type JudgeClassification, type JudgeSuccessResult, type SteerDirection } from './judges/judge.js';
export { ValenceJudge, EMOTION_VALENCE, VADER_NEUTRAL_BAND, type ValenceJudgeOptions } from './judges/valence.js';
export { LexiconJudge, toSevenClass, SEVEN_CLASSES, SEVEN_CLASS_OF, EMOTION_LEXICON, type SevenClass, type LexiconJudgeOptions } from './judges/lexicon.js';
export { LlmJudge, type LlmJudgeOptions, type LogProbScorer, type ContinuationLogProbs, type LabelDistribution } from './judges/llm-judge.js';
export { classifyRegime, DEFAULT_REGIME_THRESHOLDS, repeatedNgramRate, distinctN, wordTokens, nonWordRate, isGarbageChunk, type Regime, type RegimeMetrics, type RegimeThresholds } from './regimes.js';
export {
  scriptShares,
  detectLanguage,
  crossLingualFlag,
  SCRIPT_NAMES,
  COMMON_LANGUAGES,
  type ScriptName,
  type ScriptShares,
  type DetectLanguageOptions,
  type CrossLingualOptions,
  type CrossLingualResult,
} from './scripts.js';
export { logitLens, type LensResult, type LensToken } from './logit-lens.js';
