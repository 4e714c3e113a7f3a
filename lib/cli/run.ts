/**
 * `emosteer run --model <gguf|name> --out <dir>`: the main job in one command: extract emotion
 * vectors with both methods, evaluate them across all blocks, run the steering experiment and
 * write the report — each step resumable, each step's output in <dir>. One call of
 * {@link "emosteer/protocol"!runMainJob | runMainJob}.
 *
 * @module
 */
import { runMainJob } from '../protocol/main-job.js';
import { defaultIo, interruptSignal, parseCommand, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';
import { protocolPrinter } from './progress.js';

/** Usage text of `emosteer run`. */
export const RUN_USAGE = `Usage: emosteer run --model <gguf> --out <dir> [options]

Extracts (generation and comprehension), evaluates, steers and reports:
  <dir>/comprehension, <dir>/generation   vector sets
  <dir>/evaluation.json                    metrics
  <dir>/geometry.json                      every set's emotion dissimilarities at every block
  <dir>/steering.json                      steering experiment (steering.json.gz when large)
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

/** Runs `emosteer run`. @returns 0 ok, 1 a step failed, 2 bad arguments, 130 interrupted (resumable) */
export async function runRun(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('run', argv, { model: { type: 'string', short: 'm' }, out: { type: 'string', short: 'o' }, quick: { type: 'boolean' }, 'no-steer': { type: 'boolean' } }, RUN_USAGE, io);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.model || !values.out) {
    io.err(`emosteer run: --model and --out are required\n\n${RUN_USAGE}`);
    return 2;
  }
  const out = values.out;
  const printer = protocolPrinter(io, { steps: 'run', label: 'run', dir: out });
  const interrupt = interruptSignal('run', io);
  try {
    const model = await resolveModelArg(values.model, io);
    const job = await runMainJob(model, out, { quick: Boolean(values.quick), steer: !values['no-steer'], signal: interrupt.signal, onProgress: printer.onProgress });
    io.err(`[run] done: open ${job.report}`);
    return 0;
  } catch (e) {
    printer.stop();
    return reportError('run', e, io);
  } finally {
    interrupt.done();
  }
}
