/**
 * `emosteer study --models <names or paths> --out <dir> [--quantizations q3_k_m,q2_k]`: the
 * whole protocol on many models (and quantizations of them), then one cross-model report,
 * `study.json` and the claims table. Each model runs the main job's steps in
 * `<dir>/<model id>/` (so every step resumes), an LLM judge that is a different
 * instruction-tuned model of the study re-judges its steering runs, and a model that fails
 * gets its error in the report instead of stopping the study.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { EmosteerError } from '../errors.js';
import { EMOSTEER_VERSION } from '../extract/common.js';
import { resolveModel } from '../models/fetch.js';
import { modelCacheDir } from '../models/cache.js';
import { MODELS, type ModelEntry } from '../models/registry.js';
import { parseQuantizationType, quantizeModel } from '../models/quantize-model.js';
import { renderStudyReport } from '../report/study-report.js';
import type { SteeringReportData } from '../report/steering-section.js';
import { crossModelComparisons, quantizationCurves, readRow } from '../study/aggregate.js';
import { checkClaims } from '../study/claims.js';
import { claimsMarkdown } from '../study/claims-markdown.js';
import type { QuantizationInfo, StudyResult, StudyRow, StudyVariant } from '../study/types.js';
import { defaultIo, parseCommand, reportError, type CliIo } from './io.js';
import { describeProgress } from './models.js';
import { mainJobSteps, runSteps, type MainJobStep } from './run.js';
import { runSteer } from './steer.js';

/** Usage text of `emosteer study`. */
export const STUDY_USAGE = `Usage: emosteer study --models <a,b,..> --out <dir> [options]

Runs the protocol (both extraction methods, evaluation, steering with controls) on every model,
then writes <dir>/study.json, <dir>/report.html and <dir>/claims.md: one row per model, layer
curves on relative depth, generation vs comprehension with models as the unit, quantization
curves, and the paper's claims checked one by one. Every step resumes; rerun the same command.

Options:
      --models <a,b,..>         registry names (emosteer models list) or GGUF paths (required)
  -o, --out <dir>               study folder (required)
      --quantizations <t,..>    also re-encode every model to these types (emosteer quantize)
                                and run the protocol on each, e.g. q8_0,q3_k_m,q2_k
      --quantize-models <a,..>  quantize only these of the models (default: all)
      --llm-judge <auto|none|name|path>
                                LLM judge of the steering runs (default auto: the smallest other
                                instruction-tuned model of the study; never the steered model)
      --llm-judge-strengths <a,..>  strengths it judges (default: the middle strength of the run)
      --llm-judge-arms <a,..>   arms it judges (default emotion,random; also other-emotion)
      --quick                   the small protocol (4 emotions, 2 samples, 10 scenarios, ...)
      --methods <m,..>          extraction methods (default comprehension,generation)
      --scenarios <n>           steer with the first n usable scenarios only
      --strengths <a,..>        steering strengths (default those of emosteer steer)
      --sampling <m,..>         greedy,sampled (default both)
      --no-steer                extraction and evaluation only
      --report-only             run nothing: write study.json, the report and the claims from
                                what the model folders hold now (e.g. while a long study runs)
  -h, --help                    show this help`;

interface PlannedVariant extends StudyVariant {
  entry?: ModelEntry;
}

/** A short id for a GGUF path: its file name without extension. */
function idOf(source: string): string {
  const entry = MODELS.find((m) => m.name === source);
  return entry ? entry.name : basename(source).replace(/\.gguf$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-');
}

/** Reads the recorded seconds of each step of a model (accumulated over resumed sessions). */
async function readTimes(dir: string): Promise<Record<string, number>> {
  const p = join(dir, 'study-times.json');
  return existsSync(p) ? (JSON.parse(await readFile(p, 'utf8')) as Record<string, number>) : {};
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.partial-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/** Runs `emosteer study`. @returns 0 when every model ran, 1 when some failed (the study is still written), 2 for bad arguments */
export async function runStudy(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('study', argv, {
    models: { type: 'string' },
    out: { type: 'string', short: 'o' },
    quantizations: { type: 'string' },
    'quantize-models': { type: 'string' },
    'llm-judge': { type: 'string' },
    'llm-judge-strengths': { type: 'string' },
    'llm-judge-arms': { type: 'string' },
    quick: { type: 'boolean' },
    scenarios: { type: 'string' },
    methods: { type: 'string' },
    strengths: { type: 'string' },
    sampling: { type: 'string' },
    'no-steer': { type: 'boolean' },
    'report-only': { type: 'boolean' },
  }, STUDY_USAGE, io);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.models || !values.out) {
    io.err(`emosteer study: --models and --out are required\n\n${STUDY_USAGE}`);
    return 2;
  }
  const out = values.out as string;
  const sources = (values.models as string).split(',').map((s) => s.trim()).filter(Boolean);
  let quantizations: string[];
  try {
    quantizations = values.quantizations ? (values.quantizations as string).split(',').map((t) => parseQuantizationType(t)) : [];
  } catch (e) {
    return reportError('study', e, io);
  }
  const quantizeOnly = values['quantize-models'] ? (values['quantize-models'] as string).split(',') : undefined;
  const judgeChoice = (values['llm-judge'] as string | undefined) ?? 'auto';
  const methods = ((values.methods as string | undefined) ?? 'comprehension,generation').split(',') as ('comprehension' | 'generation')[];
  if (methods.length === 0 || methods.some((m) => m !== 'comprehension' && m !== 'generation')) {
    io.err('emosteer study: --methods takes comprehension and/or generation');
    return 2;
  }
  const steerArgs = (['scenarios', 'strengths', 'sampling'] as const).flatMap((k) => (values[k] ? [`--${k}`, values[k] as string] : []));
  if (sources.length === 0) {
    io.err('emosteer study: --models lists no model');
    return 2;
  }
  for (const s of sources) {
    if (!MODELS.some((m) => m.name === s) && !existsSync(s)) {
      io.err(`emosteer study: '${s}' is neither a registry model (${MODELS.map((m) => m.name).join(', ')}) nor a file`);
      return 2;
    }
  }
  const plan: PlannedVariant[] = [];
  for (const source of sources) {
    const entry = MODELS.find((m) => m.name === source);
    const base: PlannedVariant = { id: idOf(source), source, ...(entry ? { registryName: entry.name, entry } : {}) };
    plan.push(base);
    if (!quantizeOnly || quantizeOnly.includes(source) || quantizeOnly.includes(base.id)) {
      for (const q of quantizations) plan.push({ id: `${base.id}@${q}`, source, requantized: q, parent: base.id, ...(entry ? { registryName: entry.name, entry } : {}) });
    }
  }
  const ids = new Set<string>();
  for (const v of plan) {
    if (ids.has(v.id)) { io.err(`emosteer study: model '${v.id}' is listed twice`); return 2; }
    ids.add(v.id);
  }
  await mkdir(out, { recursive: true });
  const paths = new Map<string, string>();
  const quantInfo = new Map<string, QuantizationInfo>();
  const rows = new Map<string, StudyRow>();

  // The LLM judge of each model: a different instruction-tuned model of the study.
  const instruct = plan.filter((v) => !v.requantized && v.entry?.kind === 'instruct').sort((a, b) => a.entry!.size - b.entry!.size);
  const judgeFor = (v: PlannedVariant): string | undefined => {
    if (judgeChoice === 'none' || values['no-steer']) return undefined;
    // Never a model judging its own outputs (nor those of its own quantizations).
    if (judgeChoice !== 'auto') return judgeChoice === v.source ? undefined : judgeChoice;
    const family = v.entry?.name ?? v.id;
    return instruct.find((j) => j.id !== family && j.id !== v.parent)?.source;
  };

  const modelPath = async (v: PlannedVariant): Promise<string> => {
    const known = paths.get(v.id);
    if (known) return known;
    let p = await resolveModel(v.source, { onProgress: (e) => io.err(describeProgress(e)) });
    if (v.requantized) {
      const target = join(modelCacheDir(), 'quantized', `${basename(p).replace(/\.gguf$/i, '')}.${v.requantized}.gguf`);
      if (!existsSync(target) || !existsSync(`${target}.json`)) {
        io.err(`[study] ${v.id}: quantizing ${basename(p)} to ${v.requantized}`);
        const q = await quantizeModel(p, { type: v.requantized, out: target });
        // What the file really holds (k-quants fall back to other types on widths that are not
        // multiples of 256): the study reports it beside the type's name.
        await writeAtomic(`${target}.json`, `${JSON.stringify({ quantization: q.quantization, bitsPerWeight: q.bitsPerWeight, fallbackTensors: q.fallbackTensors, tensors: q.tensors, tensorTypes: q.tensorTypes, bytes: q.bytesOut, seconds: q.seconds }, null, 2)}\n`);
      }
      quantInfo.set(v.id, JSON.parse(await readFile(`${target}.json`, 'utf8')) as QuantizationInfo);
      await mkdir(join(out, v.id), { recursive: true });
      await writeAtomic(join(out, v.id, 'quantization.json'), await readFile(`${target}.json`, 'utf8'));
      p = target;
    }
    paths.set(v.id, p);
    return p;
  };

  // Phase 1: the protocol on every model; phase 2: the LLM judge (slow, and it needs the other
  // models), so that every model's own results come first.
  const failedIds = new Set<string>();
  for (const phase of ['protocol', 'judge'] as const) {
    for (const [vi, v] of plan.entries()) {
      if (failedIds.has(v.id)) continue;
      const dir = join(out, v.id);
      await mkdir(dir, { recursive: true });
      const label = `study ${vi + 1}/${plan.length} ${v.id}`;
      const times = await readTimes(dir);
      let step = 'model';
      let lastError = '';
      const vio: CliIo = { out: (l) => io.err(l), err: (l) => { if (/^emosteer \w/.test(l)) lastError = l; io.err(l); } };
      try {
        const path = values['report-only'] ? '' : await modelPath(v);
        let steps: MainJobStep[];
        if (values['report-only']) {
          steps = [];
        } else if (phase === 'protocol') {
          steps = mainJobSteps(path, dir, { quick: Boolean(values.quick), noSteer: Boolean(values['no-steer']), methods, steerArgs }, vio);
        } else {
          const judge = judgeFor(v);
          if (!judge) continue;
          const jv = plan.find((x) => x.source === judge && !x.requantized);
          const judgePath = jv ? await modelPath(jv) : await resolveModel(judge, { onProgress: (e) => io.err(describeProgress(e)) });
          steps = [{
            name: 'LLM judge',
            done: () => llmJudged(dir),
            run: async () => {
              const saved = JSON.parse(await readFile(join(dir, 'steering.json'), 'utf8')) as SteeringReportData;
              const strengths = (values['llm-judge-strengths'] as string | undefined) ?? String(saved.strengths[Math.floor(saved.strengths.length / 2)]);
              return runSteer([dir, '--model', path, '--rescore', '--llm-judge', judgePath, '--llm-judge-strengths', strengths, '--llm-judge-arms', (values['llm-judge-arms'] as string | undefined) ?? 'emotion,random'], vio);
            },
          }];
          if (!steps[0]!.done()) steps.push(...mainJobSteps(path, dir, {}, vio).filter((x) => x.name === 'report'));
        }
        for (const s of steps) {
          step = s.name;
          if (s.done()) continue;
          const t0 = performance.now();
          const code = await runSteps([s], vio, label);
          times[s.name] = (times[s.name] ?? 0) + (performance.now() - t0) / 1000;
          await writeFile(join(dir, 'study-times.json'), `${JSON.stringify(times, null, 2)}\n`);
          if (code !== 0) throw new EmosteerError('STUDY_STEP_FAILED', lastError || `${s.name} exited with ${code}`);
        }
        const row = await readRow(v, dir, v.entry, times);
        const qPath = join(dir, 'quantization.json');
        const qi = quantInfo.get(v.id) ?? (existsSync(qPath) ? (JSON.parse(await readFile(qPath, 'utf8')) as QuantizationInfo) : undefined);
        if (qi) row.quantization = qi;
        const errPath = join(dir, 'study-error.json');
        if (values['report-only'] && existsSync(errPath)) {
          row.error = JSON.parse(await readFile(errPath, 'utf8')) as NonNullable<StudyRow['error']>;
          failedIds.add(v.id);
        } else if (!values['report-only']) {
          await rm(errPath, { force: true });
        }
        rows.set(v.id, row);
      } catch (e) {
        failedIds.add(v.id);
        const err = e instanceof EmosteerError ? e : new EmosteerError('STUDY_STEP_FAILED', (e as Error).message ?? String(e));
        io.err(`[${label}] ${step} failed: ${err.message} — recorded in the study, going on with the next model`);
        const row = await readRow(v, dir, v.entry, times).catch((): StudyRow => ({ variant: v, methods: {}, seconds: times }));
        row.error = { step, code: err.code, message: err.message };
        // Kept in the model's folder, so that a report written later still shows it.
        await writeAtomic(join(dir, 'study-error.json'), `${JSON.stringify(row.error, null, 2)}\n`);
        rows.set(v.id, row);
      }
      await writeStudy(plan.filter((p) => rows.has(p.id)).map((p) => rows.get(p.id)!));
    }
  }
  const failed = failedIds.size;
  io.err(`[study] done: ${plan.length - failed} of ${plan.length} models; open ${join(out, 'report.html')}`);
  io.out(join(out, 'report.html'));
  return failed > 0 ? 1 : 0;

  async function writeStudy(list: StudyRow[]): Promise<void> {
    const clean = list.map((r) => ({ ...r, variant: { id: r.variant.id, source: r.variant.source, ...(r.variant.registryName ? { registryName: r.variant.registryName } : {}), ...(r.variant.requantized ? { requantized: r.variant.requantized, parent: r.variant.parent } : {}) } }));
    const comparisons = crossModelComparisons(clean);
    const result: StudyResult = {
      createdAt: new Date().toISOString(),
      emosteerVersion: EMOSTEER_VERSION,
      outDir: out,
      options: { models: sources, quantizations, quick: Boolean(values.quick), llmJudge: judgeChoice, steer: !values['no-steer'], methods, steerArgs },
      rows: clean,
      comparisons,
      quantization: await quantizationCurves(clean, (id) => join(out, id)),
      claims: checkClaims(clean, comparisons),
    };
    await writeAtomic(join(out, 'study.json'), `${JSON.stringify(result, null, 2)}\n`);
    await writeAtomic(join(out, 'claims.md'), claimsMarkdown(result));
    await writeAtomic(join(out, 'report.html'), await renderStudyReport(result));
  }
}

/** True when the steering run of a folder has been re-judged by an LLM judge. */
function llmJudged(dir: string): boolean {
  const p = join(dir, 'steering.json');
  if (!existsSync(p)) return false;
  try {
    return Boolean((JSON.parse(readFileSync(p, 'utf8')) as SteeringReportData).llmJudge);
  } catch {
    return false;
  }
}
