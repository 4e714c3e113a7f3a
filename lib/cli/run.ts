/**
 * `emosteer run --model <gguf> --out <dir>`: the main job in one command: extract emotion
 * vectors with both methods, evaluate them across all blocks, run the steering experiment and
 * write the report — each step resumable, each step's output in <dir>.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runEvaluate } from './evaluate.js';
import { runExtract } from './extract.js';
import { defaultIo, parseCommand, type CliIo } from './io.js';
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
  -m, --model <gguf>     model (required)
  -o, --out <dir>        run folder (required)
      --quick            a small version for a first look: 4 emotions, 2 samples, 48 tokens,
                         10 scenarios, strengths 0.01,0.03, greedy only
      --no-steer         skip the steering experiment
  -h, --help             show this help`;

/** Runs `emosteer run`. */
export async function runRun(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('run', argv, { model: { type: 'string', short: 'm' }, out: { type: 'string', short: 'o' }, quick: { type: 'boolean' }, 'no-steer': { type: 'boolean' } }, RUN_USAGE, io);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.model || !values.out) {
    io.err(`emosteer run: --model and --out are required\n\n${RUN_USAGE}`);
    return 2;
  }
  const model = values.model as string;
  const out = values.out as string;
  const quick = values.quick ? ['--emotions', 'happy,sad,angry,calm', '--samples', '2'] : [];
  const steps: { name: string; done: () => boolean; run: () => Promise<number> }[] = [
    { name: 'comprehension extraction', done: () => existsSync(join(out, 'comprehension', 'manifest.json')), run: () => runExtract(['--model', model, '--method', 'comprehension', '--out', join(out, 'comprehension'), ...quick], io) },
    { name: 'generation extraction', done: () => existsSync(join(out, 'generation', 'manifest.json')), run: () => runExtract(['--model', model, '--method', 'generation', '--out', join(out, 'generation'), ...quick, ...(values.quick ? ['--max-tokens', '48'] : [])], io) },
    { name: 'evaluation', done: () => existsSync(join(out, 'evaluation.json')), run: () => runEvaluate([out, '--model', model], io) },
    ...(values['no-steer'] ? [] : [{ name: 'steering experiment', done: () => existsSync(join(out, 'steering.json')), run: () => runSteer([out, '--model', model, ...(values.quick ? ['--scenarios', '10', '--strengths', '0.01,0.03', '--sampling', 'greedy'] : [])], io) }]),
    { name: 'report', done: () => false, run: () => runReport([out, '--out', join(out, 'report.html')], io) },
  ];
  for (const [i, step] of steps.entries()) {
    if (step.done()) {
      io.err(`[run] ${i + 1}/${steps.length} ${step.name}: already done, skipped`);
      continue;
    }
    io.err(`[run] ${i + 1}/${steps.length} ${step.name}`);
    const code = await step.run();
    if (code !== 0) {
      io.err(`[run] ${step.name} failed (exit ${code}); fix the cause and rerun the same command to resume`);
      return code;
    }
  }
  io.err(`[run] done: open ${join(out, 'report.html')}`);
  return 0;
}
