/**
 * `emosteer evaluate <run-dir> [--json]`: every separation metric per block and method, with
 * nulls and intervals, and the generation-vs-comprehension statistics; saved to
 * `<run-dir>/evaluation.json`. One call of {@link "emosteer/protocol"!evaluateFolder | evaluateFolder}.
 *
 * @module
 */
import { evaluationSummary } from '../evaluate/summary.js';
import { evaluateFolder } from '../protocol/steps.js';
import { defaultIo, intFlag, parseCommand, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';
import { protocolPrinter } from './progress.js';
import { evaluationLines } from './summaries.js';

/** Usage text of `emosteer evaluate`. */
export const EVALUATE_USAGE = `Usage: emosteer evaluate <run-dir> [options]

<run-dir> is a folder written by \`emosteer extract --out\`, or a folder whose subfolders are
(e.g. runs/gemma/generation and runs/gemma/comprehension). Writes <run-dir>/evaluation.json.

Options:
      --json             print the evaluation as JSON
      --model <gguf|name>  model for the anisotropy baseline (default: the one recorded in the set)
      --folds <n>        cross-validation folds (default 5)
      --resamples <n>    bootstrap resamples for accuracy intervals (default 1000)
      --seed <n>         seed of folds, bootstrap and permutations (default 0)
  -h, --help             show this help`;

/** Runs `emosteer evaluate`. @returns 0 ok, 1 failure, 2 bad arguments */
export async function runEvaluate(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('evaluate', argv, {
    json: { type: 'boolean' },
    model: { type: 'string' },
    folds: { type: 'string' },
    resamples: { type: 'string' },
    seed: { type: 'string' },
  }, EVALUATE_USAGE, io, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    io.err(`emosteer evaluate: one run folder is required\n\n${EVALUATE_USAGE}`);
    return 2;
  }
  const dir = positionals[0]!;
  const printer = protocolPrinter(io, { json: values.json });
  try {
    const folds = intFlag('folds', values.folds, { min: 2 });
    const resamples = intFlag('resamples', values.resamples, { min: 1 });
    const seed = intFlag('seed', values.seed);
    const model = values.model !== undefined ? await resolveModelArg(values.model, io) : undefined;
    const result = await evaluateFolder(dir, {
      ...(model !== undefined ? { model } : {}),
      ...(folds !== undefined ? { folds } : {}),
      ...(resamples !== undefined ? { resamples } : {}),
      ...(seed !== undefined ? { seed } : {}),
      onProgress: printer.onProgress,
    });
    if (values.json) io.out(JSON.stringify(evaluationSummary(result), null, 2));
    else for (const line of evaluationLines(result, dir)) io.out(line);
    return 0;
  } catch (e) {
    return reportError('evaluate', e, io);
  }
}
