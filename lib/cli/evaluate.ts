/**
 * `emosteer evaluate <run-dir> [--json]`: every separation metric per block and method, with
 * nulls and intervals, and the generation-vs-comprehension statistics; saved to
 * `<run-dir>/evaluation.json`.
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluateRun } from '../evaluate/evaluate.js';
import { evaluationSummary } from '../evaluate/summary.js';
import type { EvaluationResult } from '../evaluate/types.js';
import { defaultIo, parseCommand, reportError, type CliIo } from './io.js';

/** Usage text of `emosteer evaluate`. */
export const EVALUATE_USAGE = `Usage: emosteer evaluate <run-dir> [options]

<run-dir> is a folder written by \`emosteer extract --out\`, or a folder whose subfolders are
(e.g. runs/gemma/generation and runs/gemma/comprehension). Writes <run-dir>/evaluation.json.

Options:
      --json             print the evaluation as JSON
      --model <gguf>     model for the anisotropy baseline (default: the one recorded in the set)
      --folds <n>        cross-validation folds (default 5)
      --resamples <n>    bootstrap resamples for accuracy intervals (default 1000)
      --seed <n>         seed of folds, bootstrap and permutations (default 0)
  -h, --help             show this help`;

/** Runs an evaluation and saves it next to the sets. */
export async function evaluateAndSave(runDir: string, options: Parameters<typeof evaluateRun>[1] = {}): Promise<EvaluationResult> {
  const result = await evaluateRun(runDir, options);
  await writeFile(join(runDir, 'evaluation.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

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
  const num = (k: string) => (values[k] === undefined ? undefined : Number(values[k]));
  try {
    let last = 0;
    const result = await evaluateAndSave(positionals[0]!, {
      model: values.model as string | undefined,
      folds: num('folds'),
      resamples: num('resamples'),
      seed: num('seed'),
      onProgress: (m) => { if (!values.json && performance.now() - last > 2000) { last = performance.now(); io.err(`[evaluate] ${m}`); } },
    });
    if (values.json) {
      io.out(JSON.stringify(evaluationSummary(result), null, 2));
      return 0;
    }
    for (const [name, m] of Object.entries(result.methods)) {
      io.out(`\n${name} (${m.model.description}, ${m.nSamples} samples, ${m.folds}-fold)`);
      io.out('block depth  meanCos  aniso  corrCos  accuracy [95% CI]      probe  chance  null95  silhouette  fisher');
      for (const l of m.layers) {
        io.out(`${String(l.layer).padStart(5)} ${l.depth.toFixed(2).padStart(5)} ${l.meanPairwiseCosine.toFixed(3).padStart(8)} ${l.anisotropy.toFixed(3).padStart(6)} ${l.correctedCosine.toFixed(3).padStart(8)}  ${l.heldOutAccuracy.value.toFixed(3)} [${l.heldOutAccuracy.ci95.map((x) => x.toFixed(3)).join(', ')}]  ${l.probeAccuracy.value.toFixed(3)}  ${l.chance.toFixed(3)}  ${l.shuffledAccuracy.p95.toFixed(3)}  ${l.silhouette.value.toFixed(3).padStart(10)}  ${l.fisherRatio.value.toFixed(3)}`);
      }
      io.out(`best block by mean cosine: ${m.bestLayer} (depth ${m.bestDepth.toFixed(2)}), by held-out accuracy: ${m.bestLayerByAccuracy}; U-shaped: ${m.shape.uShaped}`);
    }
    if (result.comparison) {
      const c = result.comparison;
      io.out(`\ngeneration vs comprehension over blocks: Mann-Whitney U = ${c.mannWhitneyU}, p = ${c.mannWhitneyP.toPrecision(3)}${c.exact ? ' (exact)' : ''}, Cohen's d = ${c.cohensD.toFixed(2)}, Cliff's delta = ${c.cliffsDelta.toFixed(2)}`);
    }
    io.out(`\nsaved ${join(positionals[0]!, 'evaluation.json')}`);
    return 0;
  } catch (e) {
    return reportError('evaluate', e, io);
  }
}
