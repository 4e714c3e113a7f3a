/**
 * The shape of steering.json: what a steering run of a run folder saves (the experiment's
 * {@link SteeringResult} plus the logit lens, the meter's block and the LLM judge that
 * re-judged it). It lives beside the experiment that produces it; the report and the study
 * read it from here.
 *
 * @module
 */
import type { SteeringResult } from './experiment.js';
import type { LensNull, LensResult } from './logit-lens.js';

/** The LLM judge that judged (some of) the runs of a steering.json: never the steered model. */
export interface LlmJudgeRecord {
  /** llama.cpp's description of the judge model. */
  model: string;
  /** File name of the judge GGUF. */
  file?: string;
  /** SHA-256 of the judge GGUF. */
  sha256: string;
  /** Sampling modes (by name) whose runs it judged. */
  sampling: string[];
  /** Arms whose runs it judged (absent: all). */
  arms?: string[];
  /** Strengths whose runs it judged (absent: all). */
  strengths?: number[];
}

/** What a steering run saves as `<run folder>/steering.json`. */
export interface SavedSteeringResult extends SteeringResult {
  /** The logit lens of every emotion vector of the set steered with. */
  logitLens?: LensResult[];
  /** The logit lens of random directions of the same norms: the null of the emotion vectors' non-Latin share (claim 7). */
  logitLensNull?: LensNull;
  /** Judges validated on labelled passages before they voted (docs/PREREG.md). */
  judgeValidation?: {
    /** Judge name. */
    judge: string;
    /** Macro-F1 over the classes the judge claims, with its 95% interval. */
    macroF1: {
      /** On all texts. */
      value: number;
      /** 95% bootstrap interval. */
      ci95: [number, number];
    };
    /** Chance macro-F1 level it had to clear. */
    chance: number;
    /** Whether the judge votes. */
    votes: boolean;
    /** What it was validated on. */
    data: string;
  }[];
  /** The block the emotion meter read (the runs' meter traces). */
  meterLayer?: number;
  /** The model behind the LLM judge (never the steered one) and the runs it judged. */
  llmJudge?: LlmJudgeRecord;
  /** When the set steered another file than its own (cross-precision steering): both files. */
  crossModel?: {
    /** The model file steered. */
    steered: CrossModelFile;
    /** The model file the vectors were extracted from. */
    vectorsFrom: CrossModelFile;
  };
}

/** A model file of a cross-model steering run. */
export interface CrossModelFile {
  /** Path as given. */
  path: string;
  /** sha256 of the file. */
  sha256: string;
  /** llama.cpp's one-line description (architecture, size, quantization). */
  description: string;
}
