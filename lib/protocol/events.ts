/**
 * What the protocol calls report while they work, through their `onProgress` option: the
 * library never prints; the CLI turns these events into progress bars and log lines.
 *
 * @module
 */
import type { PairwiseJudgeRecord } from '../steer/pairwise-steering.js';
import type { EmosteerError } from '../errors.js';
import type { GeometryFile } from '../evaluate/block-geometry.js';
import type { EvaluationResult } from '../evaluate/types.js';
import type { ExtractionProgress } from '../extract/common.js';
import type { FetchProgress } from '../models/fetch.js';
import type { SpecificityRunResult } from '../steer/specificity.js';
import type { SavedSteeringResult } from '../steer/steering-result.js';
import type { EmotionVectorSet } from '../vectors/emotion-vector-set.js';

/** The steps of the main job, in order (`'LLM judge'`: the pairwise judge of the rules, or a study's judge phase). */
export type MainJobStepName = 'comprehension extraction' | 'generation extraction' | 'evaluation' | 'geometry' | 'steering experiment' | 'LLM judge' | 'specificity' | 'report';

/** What a finished step produced (one field, by step). */
export interface StepResult {
  /** An extraction step: the saved set. */
  set?: EmotionVectorSet;
  /** The evaluation step: what was saved as evaluation.json. */
  evaluation?: EvaluationResult;
  /** The geometry step: what was saved as geometry.json. */
  geometry?: GeometryFile;
  /** The steering experiment or the LLM judge: what was saved as steering.json. */
  steering?: SavedSteeringResult;
  /** The specificity matrix: what was saved as specificity.json. */
  specificity?: SpecificityRunResult;
  /** The LLM judge step: what was saved as llm-pairwise.json. */
  pairwise?: PairwiseJudgeRecord;
  /** The report step: the path of the report. */
  report?: string;
}

/** A step of the main job (or of a study's judge phase) starts, is skipped, ends or fails. */
export interface StepEvent {
  /** Discriminant. */
  type: 'step';
  /** The step. */
  step: MainJobStepName | 'LLM judge';
  /** 1-based position of the step among `total`. */
  index: number;
  /** Steps of this call. */
  total: number;
  /** `skipped`: its output exists (the run resumes); `failed`: the call throws `error` next. */
  status: 'start' | 'skipped' | 'done' | 'failed';
  /** Wall time of the step (`done`, `failed`). */
  seconds?: number;
  /** What the step produced (`done`). */
  result?: StepResult;
  /** Why it failed (`failed`). */
  error?: unknown;
}

/** Progress of a protocol call. */
export type ProtocolEvent =
  | StepEvent
  | {
      /** Discriminant. */
      type: 'extraction';
      /** The extraction's own progress (samples, tokens/s, ETA). */
      progress: ExtractionProgress;
    }
  | {
      /** Discriminant. */
      type: 'steering';
      /** Continuations finished (baselines and controls included; restored ones too). */
      done: number;
      /** Continuations in all. */
      total: number;
      /** Scenario of the latest one. */
      scenario: string;
    }
  | {
      /** Discriminant. */
      type: 'rescore';
      /** Saved runs re-judged so far. */
      done: number;
      /** Saved runs in all. */
      total: number;
    }
  | {
      /** Discriminant. */
      type: 'message';
      /** The part of the protocol speaking. */
      source: 'evaluate' | 'report' | 'steer';
      /** What it is doing, in words. */
      message: string;
    };

/** Progress of {@link "emosteer/protocol"!runStudy | runStudy}. */
export type StudyEvent =
  | {
      /** Discriminant: an event of one model's main job or LLM judge. */
      type: 'model';
      /** The variant's id (its folder in the study). */
      model: string;
      /** 1-based position of the variant in the study. */
      index: number;
      /** Variants in the study. */
      total: number;
      /** The phase: the main job, or the LLM judge re-judging its steering runs. */
      phase: 'protocol' | 'judge';
      /** The event. */
      event: ProtocolEvent;
    }
  | {
      /** Discriminant: a registry model is found in the cache or fetched. */
      type: 'fetch';
      /** The fetcher's event. */
      progress: FetchProgress;
    }
  | {
      /** Discriminant: a variant's file is being made with llama.cpp's quantizer. */
      type: 'quantize';
      /** The variant's id. */
      model: string;
      /** The file quantized. */
      from: string;
      /** The target type. */
      quantization: string;
    }
  | {
      /** Discriminant: a variant failed; the error is recorded in its row and the study goes on. */
      type: 'model-failed';
      /** The variant's id. */
      model: string;
      /** 1-based position of the variant in the study. */
      index: number;
      /** Variants in the study. */
      total: number;
      /** The step that failed. */
      step: string;
      /** The error recorded. */
      error: EmosteerError;
    };
