/**
 * `emosteer info --model <gguf> [--json]`: what a GGUF model is (architecture, blocks,
 * widths, vocabulary, context, size, quantization, chat template) and what the addon was
 * built with.
 *
 * @module
 */
import { loadModel } from '../runtime/model.js';
import { versions } from '../runtime/native.js';
import { defaultIo, parseCommand, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';

/** Usage text of `emosteer info`. */
export const INFO_USAGE = `Usage: emosteer info --model <file.gguf|name> [--json] [--metadata]

Loads a GGUF model and prints its architecture, block count, widths, vocabulary, training
context, file size, quantization and chat template, plus the llama.cpp build.

Options:
  -m, --model <m>      GGUF file or registry name (emosteer models list) (required)
      --json           print JSON
      --metadata       include every GGUF metadata key (long)
  -h, --help           show this help`;

/**
 * Runs `emosteer info`.
 * @returns exit code: 0 ok, 1 the model could not be loaded, 2 bad arguments
 */
export async function runInfo(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('info', argv, { model: { type: 'string', short: 'm' }, json: { type: 'boolean' }, metadata: { type: 'boolean' } }, INFO_USAGE, io);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.model) { io.err(`emosteer info: --model is required\n\n${INFO_USAGE}`); return 2; }
  let model;
  try {
    model = await loadModel(await resolveModelArg(values.model, io));
  } catch (e) {
    return reportError('info', e, io);
  }
  try {
    const { metadata, ...info } = model.info;
    const v = versions();
    const report = {
      ...info,
      chatTemplateUsed: model.chatTemplate,
      llamaCppCommit: v.llamaCppCommit,
      devices: v.devices.map((d) => d.description || d.name),
      ...(values.metadata ? { metadata } : {}),
    };
    if (values.json) {
      io.out(JSON.stringify(report, null, 2));
    } else {
      const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
      io.out(`${info.path}`);
      io.out(`  ${info.description} (${info.name || 'unnamed'})`);
      io.out(`  arch ${info.arch}, ${info.nLayer} blocks, n_embd ${info.nEmbd}, heads ${info.nHead}/${info.nHeadKv} (q/kv)`);
      io.out(`  vocabulary ${info.nVocab}, training context ${info.nCtxTrain}, ${(info.nParams / 1e6).toFixed(1)} M parameters`);
      io.out(`  file ${mib(info.sizeBytes)}, quantization ${info.quantization}`);
      io.out(`  chat template: ${info.hasChatTemplate ? 'in the model' : model.chatTemplate ? `none in the model; using llama.cpp built-in '${model.chatTemplate}'` : 'none'}`);
      io.out(`  llama.cpp ${v.llamaCppCommit.slice(0, 12)} on ${report.devices.join(', ')}`);
      if (values.metadata) for (const [k, val] of Object.entries(metadata)) io.out(`  ${k} = ${val}`);
    }
    return 0;
  } finally {
    model.dispose();
  }
}
