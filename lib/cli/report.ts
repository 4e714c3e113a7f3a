/**
 * `emosteer report <run-dir> --out report.html`: one self-contained HTML file with the layer
 * curves, heatmaps, emotion maps, the method comparison, the steering section and the run
 * metadata. One call of {@link "emosteer/protocol"!reportFolder | reportFolder}.
 *
 * @module
 */
import { reportFolder } from '../protocol/steps.js';
import { defaultIo, parseCommand, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';
import { protocolPrinter } from './progress.js';

/** Usage text of `emosteer report`. */
export const REPORT_USAGE = `Usage: emosteer report <run-dir> [--out report.html] [--model <gguf|name>] [--reevaluate]

Renders <run-dir>/evaluation.json (evaluating first when it is missing) to one HTML file that
opens offline. Default output: <run-dir>/report.html. --model is the model of the sets, needed
only when evaluating first without a cached anisotropy baseline (default: the one recorded in
the set).`;

/** Runs `emosteer report`. @returns 0 ok, 1 failure, 2 bad arguments */
export async function runReport(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('report', argv, { out: { type: 'string', short: 'o' }, model: { type: 'string' }, reevaluate: { type: 'boolean' } }, REPORT_USAGE, io, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    io.err(`emosteer report: one run folder is required\n\n${REPORT_USAGE}`);
    return 2;
  }
  try {
    const model = values.model !== undefined ? await resolveModelArg(values.model, io) : undefined;
    const out = await reportFolder(positionals[0]!, {
      ...(values.out !== undefined ? { out: values.out } : {}),
      ...(model !== undefined ? { model } : {}),
      reevaluate: Boolean(values.reevaluate),
      onProgress: protocolPrinter(io).onProgress,
    });
    io.out(out);
    return 0;
  } catch (e) {
    return reportError('report', e, io);
  }
}
