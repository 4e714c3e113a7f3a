/**
 * The shape of a study: what `emosteer study` writes as study.json and what the cross-model
 * report and the claims table are made from. Depth is block / (blocks - 1) everywhere.
 *
 * @module
 */
import type { Estimate } from '../evaluate/types.js';

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
  bestDepth: number;
  /** The paper's metric at that block. */
  bestCosine: number;
  /** Block with the highest held-out (nearest-centroid) accuracy and its relative depth. */
  bestLayerByAccuracy: number;
  bestDepthByAccuracy: number;
  /** Held-out accuracy at that block, with its bootstrap interval, and chance. */
  heldOutAccuracy: Estimate;
  probeAccuracy: Estimate;
  chance: number;
  /** Interior minimum with both ends higher. */
  uShaped: boolean;
  /** Anisotropy baseline at the paper's best block, and the corrected cosine there. */
  anisotropyAtBest: number;
  correctedCosineAtBest: number;
  /** Every block: relative depth, the paper's metric, held-out accuracy (for the curves). */
  curve: { layer: number; depth: number; cosine: number; accuracy: number; anisotropy: number }[];
}

/** Steering figures of one model. */
export interface StudySteeringRow {
  method: string;
  scenarios: number;
  strengths: number[];
  /** Per judge: the paper's unit (scenarios succeeded at any strength, greedy) with a Wilson interval. */
  judges: Record<string, { successes: number; trials: number; rate: number; ci95: [number, number] }>;
  /** Per judge and control: steered minus control at 'any' strength (points of scenarios). */
  contrasts: { judge: string; control: string; strength: number | 'any'; steeredRate: number; controlRate: number; difference: number; ci95: [number, number] }[];
  regimes: { surgical: number; repetitive: number; explosive: number };
  /** Share of steered runs (emotion arm) flagged as another script or language. */
  crossLingualRate: number;
  crossLingualFlags: number;
  runs: number;
  /** Mean non-Latin share of the tokens each emotion vector promotes (logit lens). */
  logitLensNonLatin: number;
  judgeAgreement: { judges: [string, string]; runs: number; kappa: number; ci95?: [number, number] }[];
  llmJudge?: string;
}

/** What a requantized file really holds (from `emosteer quantize`). */
export interface QuantizationInfo {
  /** llama.cpp's name of the file type. */
  quantization: string;
  bitsPerWeight: number;
  /** Tensors stored in another type because their rows do not fit the target's blocks. */
  fallbackTensors: number;
  tensors: number;
  tensorTypes: Record<string, { tensors: number; bytes: number }>;
  bytes: number;
  seconds: number;
}

/** One row of the study: a model, what it is and what came out. */
export interface StudyRow {
  variant: StudyVariant;
  model?: {
    description: string;
    family: string;
    arch: string;
    params: number | null;
    kind: 'base' | 'instruct' | 'unknown';
    quantization: string;
    blocks: number;
    embd: number;
    sha256: string;
  };
  methods: Record<string, StudyMethodRow>;
  steering?: StudySteeringRow;
  /** Mean over blocks of the anisotropy baseline. */
  anisotropyMean?: number;
  /** For a requantized variant: what its file holds. */
  quantization?: QuantizationInfo;
  /** Wall time per step of this session's work (seconds), from the study log. */
  seconds: Record<string, number>;
  /** Set when the model could not be run; the study goes on with the others. */
  error?: { step: string; code?: string; message: string };
}

/** Generation vs comprehension with models as the unit. */
export interface CrossModelComparison {
  metric: 'bestCosine' | 'heldOutAccuracy';
  models: string[];
  generation: number[];
  comprehension: number[];
  /** Mann-Whitney U over models (the paper's test), two-sided. */
  mannWhitneyU: number;
  mannWhitneyP: number;
  cohensD: number;
  /** Mean paired difference generation - comprehension with a bootstrap interval over models. */
  pairedDifference: { value: number; ci95: [number, number] };
}

/** Per block, how close a quantization's vectors are to its shipped precision. */
export interface QuantizationCurve {
  parent: string;
  variant: string;
  quantization: string;
  method: string;
  /** Mean over emotions of the cosine between the unit vectors of both, per block. */
  cosine: { layer: number; depth: number; value: number }[];
  heldOutAccuracy: number;
  steeringSuccess?: Record<string, number>;
  /** Bits per weight of the file and tensors that fell back to another type. */
  bitsPerWeight?: number;
  fallbackTensors?: number;
}

/** The verdict on one claim of the paper. */
export interface ClaimVerdict {
  id: string;
  claim: string;
  paper: string;
  /** Our figure per model (row id -> text). */
  ours: Record<string, string>;
  verdict: 'holds' | 'does not hold' | 'partly holds' | 'cannot be tested here';
  why: string;
}

/** study.json. */
export interface StudyResult {
  createdAt: string;
  emosteerVersion: string;
  outDir: string;
  options: Record<string, unknown>;
  rows: StudyRow[];
  comparisons: CrossModelComparison[];
  quantization: QuantizationCurve[];
  claims: ClaimVerdict[];
}
