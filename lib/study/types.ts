/**
 * The shape of a study: what `emosteer study` writes as study.json and what the cross-model
 * report and the claims table are made from. Depth is block / (blocks - 1) everywhere.
 *
 * @module
 */
import type { StudyRsa } from './study-rsa.js';
import type { PairwiseEffects } from '../steer/pairwise-steering.js';
import type { BestBlock, DecodabilityPair, Estimate, EvaluationDecodability, TextBaseline } from '../evaluate/types.js';
import type { AcrossModels, Verdict } from './verdict-rules.js';
import type { QualityHeadline } from '../quality/variant.js';

/** One model (or one quantization of a model) of a study. */
export interface StudyVariant {
  /** Folder name in the study and row key, e.g. `smollm2-135m-instruct` or `smollm2-135m-instruct@q3_k_m`. */
  id: string;
  /** What was asked for: a registry name or a GGUF path. */
  source: string;
  /** The registry entry's name when the model came from the registry. */
  registryName?: string;
  /** Quantization this variant was re-encoded to with `emosteer quantize` (absent = as shipped). */
  requantized?: string;
  /** The variant this one is a quantization of (its shipped precision). */
  parent?: string;
}

/** The per-method figures of one model in the study table. */
export interface StudyMethodRow {
  /** Emotions with a vector. */
  emotions: number;
  /** Block with the lowest mean pairwise cosine (the paper's choice) and its relative depth. */
  bestLayer: number;
  /** Relative depth of bestLayer. */
  bestDepth: number;
  /** The paper's metric at that block. */
  bestCosine: number;
  /** Block with the highest held-out (nearest-centroid) accuracy and its relative depth. */
  bestLayerByAccuracy: number;
  /** Relative depth of bestLayerByAccuracy. */
  bestDepthByAccuracy: number;
  /** Held-out accuracy at that block, with its bootstrap interval, and chance. */
  heldOutAccuracy: Estimate;
  /** Linear-probe accuracy at that block, with its bootstrap interval. */
  probeAccuracy: Estimate;
  /** Chance accuracy (1 / number of classes). */
  chance: number;
  /** Interior minimum with both ends higher. */
  uShaped: boolean;
  /** Anisotropy baseline at the paper's best block, and the corrected cosine there. */
  anisotropyAtBest: number;
  /** Anisotropy-corrected cosine at the paper's best block. */
  correctedCosineAtBest: number;
  /** The best block by held-out accuracy with its permutation null and re-selecting bootstrap (prereg rules). */
  bestBlock?: BestBlock;
  /** The best block by held-out accuracy without centring (claim 4: does the block survive the anisotropic read-out?). */
  bestLayerUncentred?: number;
  /** What a bag-of-words classifier reads from the texts themselves. */
  textBaseline?: TextBaseline;
  /** Every block: relative depth, the paper's metric, held-out accuracy (for the curves). */
  curve: {
    /** Block index. */
    layer: number;
    /** Relative depth. */
    depth: number;
    /** Mean pairwise cosine of the unit emotion vectors. */
    cosine: number;
    /** Held-out nearest-centroid accuracy. */
    accuracy: number;
    /** Anisotropy baseline. */
    anisotropy: number;
  }[];
}

/** A within-model difference of best-block held-out accuracies between two sets of one model (the evaluation's {@link DecodabilityPair}). */
export type PairedDecodability = DecodabilityPair;

/** Generation against comprehension under the read-outs of docs/PREREG.md (the evaluation's {@link EvaluationDecodability}). */
export type StudyDecodability = EvaluationDecodability;

/** The pre-registered steering endpoints of one model (docs/PREREG.md), from its steering runs. */
export interface StudySteeringEndpoints {
  /** Rules version they were computed under. */
  rules: string;
  /** The primary judge, or null when no judge passed validation. */
  primaryJudge: string | null;
  /** Judges that passed validation. */
  votingJudges: string[];
  /** The primary strength. */
  primaryStrength: number;
  /** Scenarios of the primary analysis (kinds neutral and toward). */
  primaryScenarios: number;
  /** Primary: signed judge delta, emotion arm minus random arm, paired by scenario, at the primary strength. */
  effect?: Estimate;
  /** Primary too (prereg-2): signed judge delta, emotion arm minus the push-matched other-emotion arm, paired by scenario, at the primary strength. */
  effectOther?: Estimate;
  /** Median over scenarios of the judge's noise floor |score(sample 1) - score(sample 2)| of two sampled baselines. */
  noiseFloor?: number;
  /** Secondary contrasts with Holm-adjusted p-values (never decide the verdict). */
  secondary: {
    /** What is compared, e.g. 'emotion - shuffled-label (primary judge)'. */
    name: string;
    /** The estimate. */
    estimate: Estimate;
    /** Two-sided bootstrap p-value. */
    p: number;
    /** Holm-adjusted over the secondary family. */
    pHolm: number;
  }[];
  /** Claim 6: regimes over strength. */
  regimes?: {
    /** How many of the three regimes occur in the emotion arm. */
    kinds: number;
    /** Slope over strength of the repetitive + explosive share of the emotion arm. */
    slope: Estimate;
    /** That share at the highest strength minus the unsteered baselines'. */
    minusBaseline: Estimate;
    /** That share at the highest strength minus the random arm's. */
    minusRandom: Estimate;
    /** The highest strength. */
    topStrength: number;
  };
  /** Claim 7: runs flagged for another script or language, and the logit lens. */
  crossLingual?: {
    /** Flag rate, emotion arm minus random arm, over all strengths. */
    difference: Estimate;
    /** Mean non-Latin share of the tokens the emotion vectors promote. */
    lensShare: number;
    /** Permutation p of that share against random directions of the same norms. */
    lensNullP: number;
  };
  /** Manipulation check: how hard each arm pushes (means over scenarios). */
  manipulation?: {
    /** Arm. */
    arm: string;
    /** Strength. */
    strength: number;
    /** Norm of the change of the last steered block's state. */
    lastBlockChange: number;
    /** Next-token KL divergence (unsteered || steered) on neutral text. */
    kl: number;
  }[];
}

/** One validation of the LLM judge's pairwise form, as a study row keeps it. */
export interface PairwiseValidationSummary {
  /** The data: 'passages' or 'stories'. */
  data: string;
  /** Pairs compared. */
  n: number;
  /** Share of pairs the judge got right, with its 95% interval. */
  accuracy: Estimate;
  /** Whether the interval lies above 0.5. */
  votes: boolean;
}

/** Steering figures of one model. */
export interface StudySteeringRow {
  /** Extraction method of the vectors steered with. */
  method: string;
  /** Scenarios run. */
  scenarios: number;
  /** Strengths run. */
  strengths: number[];
  /** Per judge: the paper's unit (scenarios succeeded at any strength, greedy) with a Wilson interval. */
  judges: Record<
    string,
    {
      /** Scenarios succeeded. */
      successes: number;
      /** Scenarios judged. */
      trials: number;
      /** successes / trials. */
      rate: number;
      /** Wilson 95% interval of the rate. */
      ci95: [number, number];
    }
  >;
  /** Per judge and control: steered minus control at 'any' strength (points of scenarios). */
  contrasts: {
    /** Judge name. */
    judge: string;
    /** Control arm ('random' or 'other-emotion'). */
    control: string;
    /** A strength, or 'any' for the paper's unit. */
    strength: number | 'any';
    /** Success rate of the emotion arm. */
    steeredRate: number;
    /** Success rate of the control arm. */
    controlRate: number;
    /** steeredRate - controlRate. */
    difference: number;
    /** 95% scenario-bootstrap interval of the difference. */
    ci95: [number, number];
  }[];
  /** Runs per regime (emotion arm). */
  regimes: {
    /** Surgical runs. */
    surgical: number;
    /** Repetitive runs. */
    repetitive: number;
    /** Explosive runs. */
    explosive: number;
  };
  /** Share of steered runs (emotion arm) flagged as another script or language. */
  crossLingualRate: number;
  /** Number of those flagged runs. */
  crossLingualFlags: number;
  /** Steered runs (emotion arm). */
  runs: number;
  /** Mean non-Latin share of the tokens each emotion vector promotes (logit lens). */
  logitLensNonLatin: number;
  /** Cohen's kappa between each pair of judges on the same runs. */
  judgeAgreement: {
    /** The two judges. */
    judges: [string, string];
    /** Runs both judged. */
    runs: number;
    /** Cohen's kappa of their success verdicts. */
    kappa: number;
    /** 95% bootstrap interval of kappa. */
    ci95?: [number, number];
  }[];
  /** The LLM judge's model (file or registry name), when one was used. */
  llmJudge?: string;
  /** The pre-registered endpoints (absent for runs made before docs/PREREG.md). */
  endpoints?: StudySteeringEndpoints;
  /** The LLM judge's pairwise step (`llm-pairwise.json`), when it ran: its validation and, when it votes, its effects. */
  llmPairwise?: {
    /** Judge model file. */
    judge: string;
    /** Whether it passed every validation (only then does it judge runs). */
    votes: boolean;
    /** Pair accuracy per validation data set. */
    validation: PairwiseValidationSummary[];
    /** Effects per arm and the emotion arm's contrasts. */
    effects?: PairwiseEffects;
  };
}

/** What a requantized file really holds (from `emosteer quantize`). */
export interface QuantizationInfo {
  /** llama.cpp's name of the file type. */
  quantization: string;
  /** Bits per weight of the file's tensor data. */
  bitsPerWeight: number;
  /** Tensors stored in another type because their rows do not fit the target's blocks. */
  fallbackTensors: number;
  /** Tensors in the file. */
  tensors: number;
  /** Tensors and bytes per ggml type the file holds. */
  tensorTypes: Record<
    string,
    {
      /** Number of tensors of this type. */
      tensors: number;
      /** Bytes of tensor data of this type. */
      bytes: number;
    }
  >;
  /** Size of the file. */
  bytes: number;
  /** Wall time of the quantization. */
  seconds: number;
}

/** One row of the study: a model, what it is and what came out. */
export interface StudyRow {
  /** Which model (or quantization) the row is. */
  variant: StudyVariant;
  /** What the model is, when it was evaluated. */
  model?: {
    /** llama.cpp's one-line description. */
    description: string;
    /** Model family from the registry (else the architecture). */
    family: string;
    /** `general.architecture`. */
    arch: string;
    /** Parameter count from the registry (null when not from the registry). */
    params: number | null;
    /** Base or instruction-tuned model, from the registry. */
    kind: 'base' | 'instruct' | 'unknown';
    /** Quantization of the file (the requantized type for requantized variants). */
    quantization: string;
    /** Number of blocks. */
    blocks: number;
    /** Width of the residual stream. */
    embd: number;
    /** sha256 of the GGUF file. */
    sha256: string;
  };
  /** Per extraction method ('generation', 'comprehension'), its figures. */
  methods: Record<string, StudyMethodRow>;
  /** Steering figures, when the model was steered. */
  steering?: StudySteeringRow;
  /** Generation against comprehension under the pre-registered read-outs. */
  decodability?: StudyDecodability;
  /** Mean over blocks of the anisotropy baseline. */
  anisotropyMean?: number;
  /** For a requantized variant: what its file holds. */
  quantization?: QuantizationInfo;
  /** Wall time per step of this session's work (seconds), from the study log. */
  seconds: Record<string, number>;
  /** Set when the model could not be run; the study goes on with the others. */
  error?: {
    /** The step that failed (e.g. 'model', 'generation extraction', 'steering experiment'). */
    step: string;
    /** The EmosteerError code, when there was one. */
    code?: string;
    /** The error message. */
    message: string;
  };
}

/** Generation vs comprehension with models as the unit. */
export interface CrossModelComparison {
  /** The per-model figure compared ({@link StudyMethodRow.bestCosine} or the held-out accuracy value). */
  metric: 'bestCosine' | 'heldOutAccuracy';
  /** Row ids of the models that have both methods, in order. */
  models: string[];
  /** The figure of the generation method per model. */
  generation: number[];
  /** The figure of the comprehension method per model. */
  comprehension: number[];
  /** Mann-Whitney U over models (the paper's test), two-sided. */
  mannWhitneyU: number;
  /** Its p-value. */
  mannWhitneyP: number;
  /** Cohen's d (generation - comprehension) with pooled SD. */
  cohensD: number;
  /** Mean paired difference generation - comprehension with a bootstrap interval over models. */
  pairedDifference: {
    /** Mean of the per-model differences. */
    value: number;
    /** 95% bootstrap interval (resampling models). */
    ci95: [number, number];
  };
}

/** Per block, how close a quantization's vectors are to its shipped precision. */
export interface QuantizationCurve {
  /** Row id of the shipped precision. */
  parent: string;
  /** Row id of the quantized variant. */
  variant: string;
  /** The quantization type of the variant (e.g. 'q4_k_m'). */
  quantization: string;
  /** Extraction method compared. */
  method: string;
  /** Mean over emotions of the cosine between the unit vectors of both, per block. */
  cosine: {
    /** Block index. */
    layer: number;
    /** Relative depth. */
    depth: number;
    /** Mean cosine over emotions. */
    value: number;
  }[];
  /** Held-out accuracy of the variant (at its best block). */
  heldOutAccuracy: number;
  /** Steering success rate (paper's unit) of the variant per judge, when it was steered. */
  steeringSuccess?: Record<string, number>;
  /** Bits per weight of the file and tensors that fell back to another type. */
  bitsPerWeight?: number;
  /** Tensors stored in a fallback type. */
  fallbackTensors?: number;
  /**
   * How far the variant's next-token distributions are from its parent file's (mean KL
   * divergence, same top-1 %, perplexity ratio, with 95% intervals over chunks; bits per weight
   * of both files), on a few chunks of the default corpus
   * ({@link "emosteer/quality"!VARIANT_QUALITY_OPTIONS | VARIANT_QUALITY_OPTIONS}); from
   * quality.json in the variant's folder. Absent until the check has run.
   */
  quality?: QualityHeadline;
}

/** The verdict on one claim of the paper. */
export interface ClaimVerdict {
  /** Stable id of the claim. */
  id: string;
  /** The claim, in words. */
  claim: string;
  /** What the paper reports for it. */
  paper: string;
  /** Our figure per model (row id -> text). */
  ours: Record<string, string>;
  /** The verdict per model that the claim is tested on, with its reason (row id -> verdict). */
  perModel: Record<string, {
    /** The model's verdict. */
    verdict: Verdict;
    /** Why, with the numbers and the rule. */
    reason: string;
  }>;
  /** The per-model verdicts counted across models. */
  across: AcrossModels;
  /** The verdict across models ({@link AcrossModels.verdict}). */
  verdict: Verdict;
  /** The rule applied, in words, and the across-model sentence. */
  why: string;
}

/** study.json. */
export interface StudyResult {
  /** When the study was written (ISO 8601). */
  createdAt: string;
  /** emosteer's package version. */
  emosteerVersion: string;
  /** The study folder. */
  outDir: string;
  /** The options the study ran with. */
  options: Record<string, unknown>;
  /** One row per model or quantization. */
  rows: StudyRow[];
  /** Generation vs comprehension, models as the unit. */
  comparisons: CrossModelComparison[];
  /** Quantization curves against the shipped precision. */
  quantization: QuantizationCurve[];
  /** The verdict on each claim of the paper. */
  claims: ClaimVerdict[];
  /** Representational similarity of the emotion geometries (exploratory, decides no claim; absent in studies written before it). */
  rsa?: StudyRsa;
  /** The version of the pre-registered rules the claims were decided by (docs/PREREG.md). */
  rules?: string;
  /** The git commit of the code that wrote the study, when known. */
  commit?: string;
}
