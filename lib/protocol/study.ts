/**
 * A study: the main job on many models (registry names or GGUF paths) and quantizations of
 * them, each in `<out>/<model id>/` (every step resumes; a quantization is also compared with
 * its parent file on a few chunks of text, kept as quality.json), an LLM judge that is another
 * instruction-tuned model of the study re-judging each model's steering runs, then one
 * cross-model report, study.json and the claims table. Each model file is loaded once per
 * call, and only when one of its steps must run; a model that fails gets its error in its row
 * and the study goes on.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { EmosteerError } from '../errors.js';
import { EMOSTEER_VERSION } from '../extract/common.js';
import { modelCacheDir } from '../models/cache.js';
import { resolveModel, type FetchProgress } from '../models/fetch.js';
import { MODELS, type ModelEntry } from '../models/registry.js';
import { parseQuantizationType, quantizeModel } from '../models/quantize-model.js';
import { compareQuality } from '../quality/compare.js';
import { readVariantQuality, VARIANT_QUALITY_FILE, VARIANT_QUALITY_OPTIONS } from '../quality/variant.js';
import { renderStudyReport } from '../report/study-report.js';
import type { LoadModelOptions } from '../runtime/model.js';
import type { SteeringArm } from '../steer/controls.js';
import { crossModelComparisons, quantizationCurves, readRow } from '../study/aggregate.js';
import { claimsMarkdown } from '../study/claims-markdown.js';
import { studyRsa } from '../study/study-rsa.js';
import { checkClaims, RULES_VERSION } from '../study/claims.js';
import { codeCommit } from '../util/code-commit.js';
import type { QuantizationInfo, StudyResult, StudyRow, StudyVariant } from '../study/types.js';
import type { MainJobStepName, ProtocolEvent, StepResult, StudyEvent } from './events.js';
import { planMainJob, throwIfAborted, type MainJobSteeringOptions, type PreregOptions } from './main-job.js';
import { preregJudges, probeJudgeModelFor, type PreregJudges } from './prereg-judges.js';
import { storyTexts } from '../steer/judges/labelled-texts.js';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { modelHandle, type ModelHandle } from './model-source.js';
import { llmJudgeDone, readSteering, RUN_FILES, STUDY_FILES, writeAtomic, type ExtractionMethod } from './run-folder.js';
import { reportWith, rescoreFolder } from './steps.js';

/** Options of {@link runStudy}. */
export interface RunStudyOptions {
  /** The models: registry names (fetched and checked on first use) or GGUF paths. */
  models: readonly string[];
  /** The study folder: one run folder per model and quantization, study.json, report.html, claims.md. */
  out: string;
  /** Also re-encode every model to these types (`q8_0`, `q3_k_m`, ...; llama.cpp's quantizer) and run the protocol on each. */
  quantizations?: readonly string[];
  /** Quantize only these of the models (by source or id; default all). */
  quantizeModels?: readonly string[];
  /**
   * The LLM judge of the steering runs: `auto` (default: the smallest other instruction-tuned
   * registry model of the study), `none`, or a registry name or GGUF path. A model never judges
   * its own runs (nor those of its quantizations).
   */
  llmJudge?: string;
  /** Strengths the LLM judge judges (default: the middle strength of each run). */
  llmJudgeStrengths?: readonly number[];
  /** Arms the LLM judge judges (default emotion and random). */
  llmJudgeArms?: readonly SteeringArm[];
  /** The small protocol of {@link MainJobOptions.quick}. */
  quick?: boolean;
  /**
   * Run every model under docs/PREREG.md ({@link MainJobOptions.prereg}): the read-outs, arms,
   * judges (NRC lexicon, a probe judge on another family's registry model) and the
   * specificity matrix of the rules (default: true unless `quick`).
   */
  prereg?: boolean;
  /** Extraction methods (default both). */
  methods?: readonly ExtractionMethod[];
  /** Run the steering experiment (default true); without it there is no LLM judge either. */
  steer?: boolean;
  /** Scenarios, strengths and sampling modes of the steering experiment (they override `quick`'s). */
  steering?: Pick<MainJobSteeringOptions, 'scenarios' | 'strengths' | 'sampling'>;
  /**
   * Run nothing: write study.json, the report and the claims from what the model folders hold
   * now (e.g. while a long study runs elsewhere).
   */
  reportOnly?: boolean;
  /** How the model files are loaded. */
  loadOptions?: LoadModelOptions;
  /** Stops the study at the current step (every finished step stays; a rerun resumes). */
  signal?: AbortSignal;
  /** Progress: each model's steps and their own progress, fetches, quantizations, failures. */
  onProgress?: (e: StudyEvent) => void;
}

/** What {@link runStudy} wrote. */
export interface RunStudyResult {
  /** The study, as written to study.json. */
  study: StudyResult;
  /** Ids of the variants that failed (each row carries its error). */
  failed: string[];
  /** The cross-model report. */
  report: string;
}

interface PlannedVariant extends StudyVariant {
  entry?: ModelEntry;
}

/** A step of one model in the study: a step of the main job, or the LLM judge. */
interface StudyStep {
  name: MainJobStepName | 'LLM judge';
  done(): boolean;
  run(): Promise<StepResult>;
}

/** A short id for a source: the registry name, or the file name without extension. */
function idOf(source: string): string {
  const entry = MODELS.find((m) => m.name === source);
  return entry ? entry.name : basename(source).replace(/\.gguf$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-');
}

/** Reads the recorded seconds of each step of a model (accumulated over resumed sessions). */
async function readTimes(dir: string): Promise<Record<string, number>> {
  const p = join(dir, STUDY_FILES.times);
  return existsSync(p) ? (JSON.parse(await readFile(p, 'utf8')) as Record<string, number>) : {};
}

/** The command-line form of the steering options, as study.json has always recorded them. */
function steerArgsOf(s: RunStudyOptions['steering']): string[] {
  const out: string[] = [];
  if (s?.scenarios !== undefined) out.push('--scenarios', typeof s.scenarios === 'number' ? String(s.scenarios) : s.scenarios.join(','));
  if (s?.strengths !== undefined) out.push('--strengths', s.strengths.join(','));
  if (s?.sampling !== undefined) out.push('--sampling', s.sampling.join(','));
  return out;
}

/** An error of a step, as the study records it (the step's own code in the message). */
function stepError(e: unknown): EmosteerError {
  if (e instanceof EmosteerError) return new EmosteerError('STUDY_STEP_FAILED', `${e.message} [${e.code}]`, { cause: e });
  return new EmosteerError('STUDY_STEP_FAILED', (e as Error)?.message ?? String(e), { cause: e });
}

/**
 * Where a study keeps the requantized file of `shipped` (a model file) at `quantization`: the
 * model cache's `quantized/` folder, `<name>.<type>.gguf`, with its quantization record beside it
 * (`.json`). The quantization ladder's cross-precision steering (scripts/ladder-cross.mjs) finds
 * the rungs there.
 */
export function requantizedModelPath(shipped: string, quantization: string): string {
  return join(modelCacheDir(), 'quantized', `${basename(shipped).replace(/\.gguf$/i, '')}.${quantization}.gguf`);
}

/**
 * Runs a study: the main job on every model and quantization, the LLM judge, then
 * `<out>/study.json` ({@link "emosteer/study"!StudyResult | StudyResult}), `<out>/report.html`
 * and `<out>/claims.md`, written again after every model so that they always show what is done.
 *
 * @returns the study, the failed variants and the report's path
 * @throws EmosteerError `INVALID_ARGUMENT` for an unknown model, a bad quantization type or
 *   method, or a model listed twice (before anything runs); `ABORTED` when `signal` fires.
 *   A model that fails does not throw: its row carries the error.
 *
 * @example
 * ```ts
 * import { runStudy } from 'emosteer/protocol';
 * const { study, failed } = await runStudy({
 *   models: ['smollm2-135m-instruct', 'gemma-3-270m'],
 *   out: 'runs/study',
 *   quick: true,
 *   onProgress: (e) => { if (e.type === 'model' && e.event.type === 'step') console.error(e.model, e.event.step, e.event.status); },
 * });
 * for (const c of study.claims) console.log(c.id, c.verdict);
 * ```
 */
export async function runStudy(options: RunStudyOptions): Promise<RunStudyResult> {
  const { out, signal } = options;
  const emit = (e: StudyEvent) => options.onProgress?.(e);
  const sources = options.models.map((s) => s.trim()).filter(Boolean);
  if (sources.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'a study needs at least one model');
  const quantizations = (options.quantizations ?? []).map((t) => parseQuantizationType(t));
  const methods = options.methods ?? ['comprehension', 'generation'];
  if (methods.length === 0 || methods.some((m) => m !== 'comprehension' && m !== 'generation')) {
    throw new EmosteerError('INVALID_ARGUMENT', `methods must be comprehension and/or generation (got ${methods.join(', ') || 'none'})`);
  }
  const judgeChoice = options.llmJudge ?? 'auto';
  const steer = options.steer !== false;
  for (const s of sources) {
    if (!MODELS.some((m) => m.name === s) && !existsSync(s)) {
      throw new EmosteerError('INVALID_ARGUMENT', `'${s}' is neither a registry model (${MODELS.map((m) => m.name).join(', ')}) nor a file`);
    }
  }
  const plan: PlannedVariant[] = [];
  for (const source of sources) {
    const entry = MODELS.find((m) => m.name === source);
    const base: PlannedVariant = { id: idOf(source), source, ...(entry ? { registryName: entry.name, entry } : {}) };
    plan.push(base);
    const only = options.quantizeModels;
    if (!only || only.includes(source) || only.includes(base.id)) {
      for (const q of quantizations) plan.push({ id: `${base.id}@${q}`, source, requantized: q, parent: base.id, ...(entry ? { registryName: entry.name, entry } : {}) });
    }
  }
  const ids = new Set<string>();
  for (const v of plan) {
    if (ids.has(v.id)) throw new EmosteerError('INVALID_ARGUMENT', `model '${v.id}' is listed twice`);
    ids.add(v.id);
  }
  await mkdir(out, { recursive: true });

  const paths = new Map<string, string>();
  const handles = new Map<string, ModelHandle>();
  const quantInfo = new Map<string, QuantizationInfo>();
  const rows = new Map<string, StudyRow>();
  const onFetch = { onProgress: (progress: FetchProgress) => emit({ type: 'fetch', progress }) };

  // The LLM judge of each model: a different instruction-tuned model of the study.
  const instruct = plan.filter((v) => !v.requantized && v.entry?.kind === 'instruct').sort((a, b) => a.entry!.size - b.entry!.size);
  const judgeFor = (v: PlannedVariant): string | undefined => {
    if (judgeChoice === 'none' || !steer) return undefined;
    // Never a model judging its own outputs (nor those of its own quantizations).
    if (judgeChoice !== 'auto') return judgeChoice === v.source ? undefined : judgeChoice;
    const family = v.entry?.name ?? v.id;
    return instruct.find((j) => j.id !== family && j.id !== v.parent)?.source;
  };
  // Judges still to do: their models stay loaded after their own main job, so that each
  // model file is loaded once.
  const judgesNeeded = new Set(options.reportOnly ? [] : plan.filter((v) => !llmJudgeDone(join(out, v.id))).map(judgeFor).filter((j): j is string => j !== undefined));

  const modelPath = async (v: PlannedVariant): Promise<string> => {
    const known = paths.get(v.id);
    if (known) return known;
    let p = await resolveModel(v.source, onFetch);
    if (v.requantized) {
      const target = requantizedModelPath(p, v.requantized);
      if (!existsSync(target) || !existsSync(`${target}.json`)) {
        emit({ type: 'quantize', model: v.id, from: p, quantization: v.requantized });
        const q = await quantizeModel(p, { type: v.requantized, out: target, ...(signal ? { signal } : {}) });
        // What the file really holds (k-quants fall back to other types on widths that are not
        // multiples of 256): the study reports it beside the type's name.
        await writeAtomic(`${target}.json`, `${JSON.stringify({ quantization: q.quantization, bitsPerWeight: q.bitsPerWeight, fallbackTensors: q.fallbackTensors, tensors: q.tensors, tensorTypes: q.tensorTypes, bytes: q.bytesOut, seconds: q.seconds }, null, 2)}\n`);
      }
      quantInfo.set(v.id, JSON.parse(await readFile(`${target}.json`, 'utf8')) as QuantizationInfo);
      await mkdir(join(out, v.id), { recursive: true });
      await writeAtomic(join(out, v.id, STUDY_FILES.quantization), await readFile(`${target}.json`, 'utf8'));
      p = target;
    }
    paths.set(v.id, p);
    return p;
  };
  const handleOf = async (v: PlannedVariant): Promise<ModelHandle> => {
    let h = handles.get(v.id);
    if (!h) {
      h = modelHandle(await modelPath(v), options.loadOptions);
      handles.set(v.id, h);
    }
    return h;
  };
  const externalJudges = new Map<string, ModelHandle>();
  const judgeHandle = async (judge: string): Promise<ModelHandle> => {
    const jv = plan.find((x) => x.source === judge && !x.requantized);
    if (jv) return handleOf(jv);
    let h = externalJudges.get(judge);
    if (!h) {
      h = modelHandle(await resolveModel(judge, onFetch), options.loadOptions);
      externalJudges.set(judge, h);
    }
    return h;
  };

  /**
   * A requantized variant against its parent file (KL divergence, top-1 agreement, perplexity
   * ratio on a few chunks of the default corpus: VARIANT_QUALITY_OPTIONS), written once to
   * quality.json in its folder: reruns and --report-only read it.
   */
  const checkQuality = async (v: PlannedVariant, dir: string, times: Record<string, number>): Promise<void> => {
    const parent = plan.find((x) => x.id === v.parent);
    if (!parent || (await readVariantQuality(dir))) return;
    const t0 = performance.now();
    try {
      const report = await compareQuality(await (await handleOf(parent)).get(), [await (await handleOf(v)).get()], { ...VARIANT_QUALITY_OPTIONS, ...(signal ? { signal } : {}) });
      await writeAtomic(join(dir, VARIANT_QUALITY_FILE), `${JSON.stringify(report, null, 2)}\n`);
    } catch (e) {
      if (e instanceof EmosteerError && e.code === 'ABORTED') throw e;
      throw stepError(e);
    } finally {
      times.quality = (times.quality ?? 0) + (performance.now() - t0) / 1000;
      await writeFile(join(dir, STUDY_FILES.times), `${JSON.stringify(times, null, 2)}\n`);
    }
  };
  /** Whether a variant of this model (that has not failed) still has to be compared with it. */
  const qualityPending = (id: string): boolean =>
    !options.reportOnly && plan.some((x) => x.parent === id && !failedIds.has(x.id) && !existsSync(join(out, x.id, VARIANT_QUALITY_FILE)));

  let study: StudyResult | undefined;
  const writeStudy = async (list: StudyRow[]): Promise<void> => {
    const clean = list.map((r) => ({ ...r, variant: { id: r.variant.id, source: r.variant.source, ...(r.variant.registryName ? { registryName: r.variant.registryName } : {}), ...(r.variant.requantized ? { requantized: r.variant.requantized, parent: r.variant.parent } : {}) } }));
    const comparisons = crossModelComparisons(clean);
    const result: StudyResult = {
      createdAt: new Date().toISOString(),
      emosteerVersion: EMOSTEER_VERSION,
      outDir: out,
      options: { models: sources, quantizations, quick: Boolean(options.quick), llmJudge: judgeChoice, steer, methods, steerArgs: steerArgsOf(options.steering) },
      rows: clean,
      comparisons,
      quantization: await quantizationCurves(clean, (id) => join(out, id)),
      claims: checkClaims(clean, comparisons),
      rsa: await studyRsa(clean, (id) => join(out, id)),
      rules: RULES_VERSION,
      ...(codeCommit() ? { commit: codeCommit() } : {}),
    };
    await writeAtomic(join(out, STUDY_FILES.study), `${JSON.stringify(result, null, 2)}\n`);
    await writeAtomic(join(out, STUDY_FILES.claims), claimsMarkdown(result));
    await writeAtomic(join(out, STUDY_FILES.report), await renderStudyReport(result));
    study = result;
  };

  // Phase 1: the protocol on every model; phase 2: the LLM judge (slow, and it needs the other
  // models), so that every model's own results come first.
  const failedIds = new Set<string>();
  /** The rules' judges built for the model in progress (freed when its steps are over). */
  const builtJudges: PreregJudges[] = [];
  try {
    for (const phase of ['protocol', 'judge'] as const) {
      for (const [vi, v] of plan.entries()) {
        if (failedIds.has(v.id)) continue;
        throwIfAborted(signal, 'the study');
        const dir = join(out, v.id);
        await mkdir(dir, { recursive: true });
        const forward = (event: ProtocolEvent) => emit({ type: 'model', model: v.id, index: vi + 1, total: plan.length, phase, event });
        const times = await readTimes(dir);
        let step = 'model';
        try {
          let steps: StudyStep[] = [];
          if (options.reportOnly) {
            steps = [];
          } else if (phase === 'protocol') {
            const handle = await handleOf(v);
            const params = v.entry?.params ?? null;
            const prereg: PreregOptions | undefined = (options.prereg ?? !options.quick)
              ? {
                  params,
                  ...(params !== null && params >= 1e9 ? { storyTokens: 128 } : {}),
                  judges: async () => {
                    const family = v.entry?.family ?? (await handle.get()).info.arch;
                    const judgeModel = await (await judgeHandle(probeJudgeModelFor(family))).get();
                    const stories = existsSync(join(dir, RUN_FILES.generation, RUN_FILES.manifest)) ? storyTexts((await EmotionVectorSet.load(join(dir, RUN_FILES.generation), { activations: false })).meta) : undefined;
                    const built = await preregJudges(await handle.get(), judgeModel, stories ? { stories } : {});
                    builtJudges.push(built);
                    return built;
                  },
                }
              : undefined;
            steps = planMainJob(handle, dir, { quick: Boolean(options.quick), steer, methods, ...(prereg ? { prereg } : {}), ...(options.steering ? { steering: options.steering } : {}), ...(signal ? { signal } : {}), onProgress: forward });
          } else {
            const judge = judgeFor(v);
            if (!judge) continue;
            if (!llmJudgeDone(dir)) {
              const own = await handleOf(v);
              steps = [
                {
                  name: 'LLM judge',
                  done: () => llmJudgeDone(dir),
                  run: async (): Promise<StepResult> => {
                    const saved = await readSteering(dir);
                    if (!saved) throw new EmosteerError('FILE_NOT_FOUND', `${join(dir, RUN_FILES.steering)} does not exist`);
                    const judgeModel = await (await judgeHandle(judge)).get();
                    const strengths = options.llmJudgeStrengths ?? [saved.strengths[Math.floor(saved.strengths.length / 2)]!];
                    return { steering: await rescoreFolder(dir, { llmJudge: { model: judgeModel, strengths, arms: options.llmJudgeArms ?? ['emotion', 'random'] }, onProgress: forward }) };
                  },
                },
                { name: 'report', done: () => false, run: async () => ({ report: await reportWith(dir, own, { onProgress: forward }) }) },
              ];
            }
          }
          for (const [si, s] of steps.entries()) {
            step = s.name;
            const base = { type: 'step', step: s.name, index: si + 1, total: steps.length } as const;
            if (s.done()) {
              forward({ ...base, status: 'skipped' });
              continue;
            }
            throwIfAborted(signal, 'the study');
            forward({ ...base, status: 'start' });
            const t0 = performance.now();
            let result: StepResult | undefined;
            let error: unknown;
            try {
              result = await s.run();
            } catch (e) {
              error = e;
            }
            const seconds = (performance.now() - t0) / 1000;
            times[s.name] = (times[s.name] ?? 0) + seconds;
            await writeFile(join(dir, STUDY_FILES.times), `${JSON.stringify(times, null, 2)}\n`);
            if (error !== undefined) {
              forward({ ...base, status: 'failed', seconds, error });
              if (error instanceof EmosteerError && error.code === 'ABORTED') throw error;
              throw stepError(error);
            }
            forward({ ...base, status: 'done', seconds, ...(result ? { result } : {}) });
          }
          if (phase === 'protocol' && !options.reportOnly && v.requantized) {
            step = 'quality';
            await checkQuality(v, dir, times);
          }
          const row = await readRow(v, dir, v.entry, times);
          const qPath = join(dir, STUDY_FILES.quantization);
          const qi = quantInfo.get(v.id) ?? (existsSync(qPath) ? (JSON.parse(await readFile(qPath, 'utf8')) as QuantizationInfo) : undefined);
          if (qi) row.quantization = qi;
          const errPath = join(dir, STUDY_FILES.error);
          if (options.reportOnly && existsSync(errPath)) {
            row.error = JSON.parse(await readFile(errPath, 'utf8')) as NonNullable<StudyRow['error']>;
            failedIds.add(v.id);
          } else if (!options.reportOnly) {
            await rm(errPath, { force: true });
          }
          rows.set(v.id, row);
        } catch (e) {
          if (e instanceof EmosteerError && e.code === 'ABORTED') throw e;
          failedIds.add(v.id);
          const err = e instanceof EmosteerError ? e : new EmosteerError('STUDY_STEP_FAILED', (e as Error)?.message ?? String(e), { cause: e });
          emit({ type: 'model-failed', model: v.id, index: vi + 1, total: plan.length, step, error: err });
          const row = await readRow(v, dir, v.entry, times).catch((): StudyRow => ({ variant: v, methods: {}, seconds: times }));
          row.error = { step, code: err.code, message: err.message };
          // Kept in the model's folder, so that a report written later still shows it.
          await writeAtomic(join(dir, STUDY_FILES.error), `${JSON.stringify(row.error, null, 2)}\n`);
          rows.set(v.id, row);
        } finally {
          for (const b of builtJudges.splice(0)) await b.dispose();
          // A model no judge still needs is freed as soon as its main job is over, and as soon as
          // its quantizations have been compared with it (they come right after it in the plan).
          if (phase === 'protocol') {
            for (const x of [v, ...plan.filter((p) => p.id === v.parent)]) {
              if (x.requantized || (!judgesNeeded.has(x.source) && !qualityPending(x.id))) handles.get(x.id)?.dispose();
            }
          }
        }
        await writeStudy(plan.filter((p) => rows.has(p.id)).map((p) => rows.get(p.id)!));
      }
    }
  } finally {
    for (const h of [...handles.values(), ...externalJudges.values()]) h.dispose();
  }
  return { study: study!, failed: [...failedIds], report: join(out, STUDY_FILES.report) };
}
