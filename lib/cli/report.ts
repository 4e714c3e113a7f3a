/**
 * `emosteer report <run-dir> --out report.html`: one self-contained HTML file with the layer
 * curves, heatmaps, emotion maps, the method comparison and the run metadata.
 *
 * @module
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvaluationResult } from '../evaluate/types.js';
import { renderReport } from '../report/html-report.js';
import { renderSteeringSection, type SteeringReportData } from '../report/steering-section.js';
import { evaluateAndSave } from './evaluate.js';
import { defaultIo, parseCommand, reportError, type CliIo } from './io.js';

/** Usage text of `emosteer report`. */
export const REPORT_USAGE = `Usage: emosteer report <run-dir> [--out report.html] [--model <gguf>] [--reevaluate]

Renders <run-dir>/evaluation.json (evaluating first when it is missing) to one HTML file that
opens offline. Default output: <run-dir>/report.html.`;

/** Reads a saved evaluation when it is newer than every set in the folder. */
async function savedEvaluation(runDir: string): Promise<EvaluationResult | null> {
  try {
    const file = join(runDir, 'evaluation.json');
    const st = await stat(file);
    const result = JSON.parse(await readFile(file, 'utf8')) as EvaluationResult;
    for (const m of Object.keys(result.methods)) {
      for (const dir of [join(runDir, m), runDir]) {
        const manifest = await stat(join(dir, 'manifest.json')).catch(() => null);
        if (manifest && manifest.mtimeMs > st.mtimeMs) return null;
      }
    }
    return result;
  } catch {
    return null;
  }
}

/** Runs `emosteer report`. @returns 0 ok, 1 failure, 2 bad arguments */
export async function runReport(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('report', argv, { out: { type: 'string', short: 'o' }, model: { type: 'string' }, reevaluate: { type: 'boolean' } }, REPORT_USAGE, io, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    io.err(`emosteer report: one run folder is required\n\n${REPORT_USAGE}`);
    return 2;
  }
  const runDir = positionals[0]!;
  try {
    let result = values.reevaluate ? null : await savedEvaluation(runDir);
    if (!result) {
      io.err('[report] evaluating first (saved to evaluation.json)');
      result = await evaluateAndSave(runDir, { model: values.model as string | undefined });
    }
    let steering: SteeringReportData | null = null;
    try {
      steering = JSON.parse(await readFile(join(runDir, 'steering.json'), 'utf8')) as SteeringReportData;
    } catch {
      /* no steering run yet */
    }
    const html = await renderReport(result, steering ? { extraSections: [await renderSteeringSection(steering)] } : {});
    const out = (values.out as string | undefined) ?? join(runDir, 'report.html');
    await writeFile(out, html);
    io.out(out);
    return 0;
  } catch (e) {
    return reportError('report', e, io);
  }
}
