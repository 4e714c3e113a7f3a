/**
 * `emosteer run --model <gguf> --out <dir>`: the main job in one command: extract emotion
 * vectors with both methods, evaluate them across all blocks, run the steering experiment and
 * write the report — each step resumable, each step's output in <dir>.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runEvaluate } from './evaluate.js';
import { runExtract } from './extract.js';
import { resolveModel } from '../models/fetch.js';
import { defaultIo, parseCommand, reportError, type CliIo } from './io.js';
import { describeProgress } from './models.js';
import { runReport } from './report.js';
import { runSteer } from './steer.js';

/** Usage text of `emosteer run`. */
export const RUN_USAGE = `Usage: emosteer run --model <gguf> --out <dir> [options]

Extracts (generation and comprehension), evaluates, steers and reports:
  <dir>/comprehension, <dir>/generation   vector sets
  <dir>/evaluation.json                    metrics
  <dir>/steering.json                      steering experiment
  <dir>/report.html                        the report
Steps whose output exists are skipped (delete it to redo); Ctrl-C and rerun to resume.

Options:
  -m, --model <gguf|name>  model: a GGUF file or a registry name (emosteer models list),
                         fetched and checked on first use (required)
  -o, --out <dir>        run folder (required)
      --quick            a small version for a first look: 4 emotions, 2 samples, 48 tokens,
                         10 scenarios, strengths 0.01,0.03, greedy only, one random control
      --no-steer         skip the steering experiment
  -h, --help             show this help`;

/** One resumable step of the main job. */
export interface MainJobStep {
  name: string;
  /** True when the step's output exists (the step is then skipped). */
  done: () => boolean;
  run: () => Promise<number>;
}

/** Options of {@link mainJobSteps}. */
export interface MainJobOptions {
  /** The small version (4 emotions, 2 samples, 48 tokens, 10 scenarios, 2 strengths, greedy). */
  quick?: boolean;
  /** Leave out the steering experiment. */
  noSteer?: boolean;
  /** Extra arguments of `emosteer steer`. */
  steerArgs?: readonly string[];
  /** Extraction methods to run (default both). */
  methods?: readonly ('comprehension' | 'generation')[];
}

/**
 * The steps of the main job on one model into one run folder: comprehension and generation
 * extraction, evaluation, the steering experiment and the report. `emosteer run` runs them for
 * one model, `emosteer study` for each model of a study.
 */
export function mainJobSteps(model: string, out: string, options: MainJobOptions, io: CliIo): MainJobStep[] {
  const quick = options.quick ? ['--emotions', 'happy,sad,angry,calm', '--samples', '2'] : [];
  const methods = options.methods ?? ['comprehension', 'generation'];
  return [
    { name: 'comprehension extraction', done: () => existsSync(join(out, 'comprehension', 'manifest.json')), run: () => runExtract(['--model', model, '--method', 'comprehension', '--out', join(out, 'comprehension'), ...quick], io) },
    { name: 'generation extraction', done: () => existsSync(join(out, 'generation', 'manifest.json')), run: () => runExtract(['--model', model, '--method', 'generation', '--out', join(out, 'generation'), ...quick, ...(options.quick ? ['--max-tokens', '48'] : [])], io) },
  ].filter((s) => methods.some((m) => s.name.startsWith(m))).concat([
    { name: 'evaluation', done: () => evaluated(out, methods), run: () => runEvaluate([out, '--model', model], io) },
    ...(options.noSteer ? [] : [{ name: 'steering experiment', done: () => existsSync(join(out, 'steering.json')), run: () => runSteer([out, '--model', model, ...(options.quick ? ['--scenarios', '10', '--strengths', '0.01,0.03', '--sampling', 'greedy', '--random-seeds', '1'] : []), ...(options.steerArgs ?? [])], io) }]),
    { name: 'report', done: () => false, run: () => runReport([out, '--out', join(out, 'report.html')], io) },
  ]);
}

/**
 * Runs steps in order, skipping those already done.
 * @returns 0, or the exit code of the first step that failed
 */
export async function runSteps(steps: readonly MainJobStep[], io: CliIo, label = 'run'): Promise<number> {
  for (const [i, step] of steps.entries()) {
    if (step.done()) {
      io.err(`[${label}] ${i + 1}/${steps.length} ${step.name}: already done, skipped`);
      continue;
    }
    io.err(`[${label}] ${i + 1}/${steps.length} ${step.name}`);
    const started = performance.now();
    const code = await step.run();
    if (code !== 0) {
      io.err(`[${label}] ${step.name} failed (exit ${code}); fix the cause and rerun the same command to resume`);
      return code;
    }
    io.err(`[${label}] ${step.name} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return 0;
}

/** Runs `emosteer run`. */
export async function runRun(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('run', argv, { model: { type: 'string', short: 'm' }, out: { type: 'string', short: 'o' }, quick: { type: 'boolean' }, 'no-steer': { type: 'boolean' } }, RUN_USAGE, io);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.model || !values.out) {
    io.err(`emosteer run: --model and --out are required\n\n${RUN_USAGE}`);
    return 2;
  }
  const out = values.out as string;
  let model: string;
  try {
    model = await resolveModel(values.model as string, { onProgress: (p) => io.err(describeProgress(p)) });
  } catch (e) {
    return reportError('run', e, io);
  }
  const code = await runSteps(mainJobSteps(model, out, { quick: Boolean(values.quick), noSteer: Boolean(values['no-steer']) }, io), io);
  if (code !== 0) return code;
  io.err(`[run] done: open ${join(out, 'report.html')}`);
  return 0;
}

/** True when <out>/evaluation.json exists and covers every method asked for (a set extracted later makes it stale). */
function evaluated(out: string, methods: readonly string[]): boolean {
  const p = join(out, 'evaluation.json');
  if (!existsSync(p)) return false;
  try {
    const e = JSON.parse(readFileSync(p, 'utf8')) as { methods?: Record<string, unknown> };
    return methods.every((m) => e.methods?.[m] !== undefined);
  } catch {
    return false;
  }
}
