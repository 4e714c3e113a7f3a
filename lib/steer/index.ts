/**
 * `emosteer/steer`: steering experiments, and what judges their outcome.
 *
 * {@link runSteeringExperiment} steers scenarios at several strengths and sampling modes, with
 * control arms that push as hard (one random direction per scenario at every block,
 * shuffled-label vectors, another emotion's vector; {@link manipulationCheck} measures how
 * hard), sampled unsteered baselines for the judges' noise floor and continuous effects
 * ({@link steeringEffects}); judges (VADER valence, the emotion lexicon, a zero-shot LLM
 * judge) score the texts; regimes (surgical,
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
export { runSteeringExperiment, wilson, noiseScores, DEFAULT_STRENGTHS, DEFAULT_SAMPLING_MODES, type SteeringExperimentOptions, type SteeringResult, type SteeringRun, type SamplingMode, type Proportion, type JudgeSpec } from './experiment.js';
export type { SavedSteeringResult, LlmJudgeRecord, CrossModelFile } from './steering-result.js';
export { steeringFile, parseSteeringFile, readSteeringFile, readSteeringFileSync, encodeSteering, STEERING_FILES, STEERING_GZIP_ABOVE, type EncodedSteering } from './steering-file.js';
export { randomDirectionLike, sameDirectionLike, rotatedLike, shuffledLabelSet, scenarioSeed, armDraws, crossBlockCosine, otherEmotionFor, controlContrasts, CONTROL_ARMS, RANDOM_CONSTRUCTIONS, type SteeringArm, type RandomConstruction, type ArmDraw, type ArmDrawOptions, type CrossBlockCosine, type ControlOptions, type ControlContrast, type ArmOutcome } from './controls.js';
export { manipulationCheck, summarizeManipulation, logSoftmax, klDivergence, DEFAULT_MANIPULATION_TEXTS, type ManipulationArm, type ArmSteeringData, type ManipulationMeasure, type ManipulationStat, type ManipulationCheckRow, type ManipulationCheckResult, type ManipulationCheckOptions } from './manipulation-check.js';
export { steeringEffects, noiseFloor, signedDelta, scenarioGroup, PRIMARY_KINDS, SCENARIO_GROUPS, type ScenarioGroup, type RunFilter, type EffectRun, type NoiseScores, type NoiseFloor, type ArmEffect, type EffectContrast, type SteeringEffects, type SteeringEffectsOptions } from './steering-effects.js';
export { calibrateStrengths, DEFAULT_CALIBRATION_STRENGTHS, DEFAULT_DAMAGE_BOUND, type CalibrateOptions, type CalibrationProgress } from './calibrate.js';
export { SCENARIOS, SCENARIO_SUITE_VERSION, SCENARIO_KINDS, selectScenarios, type SteeringScenario, type ScenarioKind, type SelectScenariosOptions } from './scenarios.js';
export { judgeSuccess, type Judge, type JudgeClassification, type JudgeSuccessResult, type SteerDirection } from './judges/judge.js';
export { ValenceJudge, EMOTION_VALENCE, VADER_NEUTRAL_BAND, type ValenceJudgeOptions } from './judges/valence.js';
export { LexiconJudge, toSevenClass, SEVEN_CLASSES, SEVEN_CLASS_OF, EMOTION_LEXICON, type SevenClass, type LexiconJudgeOptions } from './judges/lexicon.js';
export { LlmJudge, chatJudgePrompt, JUDGE_SYSTEM_MESSAGE, CONTENT_FREE_TEXTS, calibrateDistribution, judgeQuestion, type LlmJudgeOptions, type LogProbScorer, type ContinuationLogProbs, type LabelDistribution, type JudgePrompt, type JudgeFormat, type JudgeMessages, type JudgeQuestion } from './judges/llm-judge.js';
export { PairwiseJudge, defaultPairwisePrompt, type PairwiseJudgeOptions, type PairwiseComparison } from './judges/pairwise-judge.js';
export { validationPairs, validatePairwise, pairwiseFigures, PAIRWISE_VOTE_RULE, type ValidationPair, type ValidationPairOptions, type PairwiseValidation, type PairCount, type PairOutcome } from './judges/pairwise-validation.js';
export { pairwiseRuns, judgeRunPairwise, pairwiseEffect, pairwiseEffects, pairwiseRunKey, PAIRWISE_ARMS, PAIRWISE_FILE, type PairwiseRunVerdict, type PairwiseSelection, type PairwiseEffects, type PairwiseJudgeRecord, type PairwiseArmEffect, type PairwiseContrast, type PairwiseJudgeFile, type PairwiseRecordSelection, type PairwiseSeconds } from './pairwise-steering.js';
export { NrcLexiconJudge, NRC_CLASS_OF, NRC_CLAIMED_CLASSES, NRC_NONE, nrcStems, type NrcLexiconJudgeOptions, type NrcCounts } from './judges/nrc-lexicon.js';
export { fetchNrcLexicon, loadNrcLexicon, parseNrcLexicon, datasetCacheDir, NRC_LEXICON_SOURCE, NRC_EMOTIONS, NRC_POLARITIES, type NrcEmotion, type NrcPolarity, type NrcAffect, type NrcLexicon, type NrcFetchOptions } from './judges/nrc-data.js';
export { ProbeJudge, crossValidateProbeJudge, assertDifferentFamily, archFamily, judgeModelIdentity, defaultProbeBlock, type ProbeJudgeOptions, type ProbePooling, type JudgeModelIdentity, type ModelLike, type ProbeCrossValidation } from './judges/probe-judge.js';
export { validateJudge, validatePredictions, OTHER_LABEL, VOTE_RULE, type ClassView, type LabelledText, type ValidationOptions, type JudgeValidation, type JudgeValidationReport, type ClassFigures, type Interval } from './judges/judge-validation.js';
export { lexiconClassView, valenceClassView, nrcClassView, nrcPolarityClassView, probeClassView, llmClassView, polarityOf, POLARITY_CLASSES } from './judges/judge-class-views.js';
export { passageTexts, storyTexts } from './judges/labelled-texts.js';
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
export { logitLens, logitLensNull, nonLatinShare, type LensResult, type LensToken, type LensNull } from './logit-lens.js';
export { specificityFromScores, runSpecificity, type SpecificityScores, type SpecificityOptions, type SpecificityMatrix, type SpecificityDiagonal, type SpecificityRunOptions, type SpecificityRunResult, type SpecificityText } from './specificity.js';
export { doseResponse, type DoseRun, type DoseResponseOptions, type DoseResponse, type DoseCurve, type DosePoint, type DoseTrend, type DoseEstimate, type DoseContrast } from './dose-response.js';
