/**
 * `emosteer synth`: writes a random llama-architecture GGUF model for tests and benchmarks.
 *
 * @module
 */

import { parseArgs } from 'node:util';
import { defaultIo, intFlag, type CliIo } from './io.js';
import { EmosteerError } from '../errors.js';
import {
  SYNTHETIC_SHAPES,
  SYNTHETIC_WEIGHT_TYPES,
  writeSyntheticModel,
  type SyntheticModelOptions,
  type SyntheticWeightType,
} from '../synth/synthetic-model.js';

/** Where {@link runSynth} prints (the shared CLI sink). */
export type SynthIo = CliIo;

/** Usage text of `emosteer synth`. */
export const SYNTH_USAGE = `Usage: emosteer synth --out <file.gguf> [options]

Writes a random llama-architecture GGUF model that llama.cpp can load.

Options:
  -o, --out <file>      output path (required)
      --layers <n>      transformer blocks, 1..32 (default 2)
      --embd <n>        embedding width, multiple of 32 up to 4096 (default 64)
      --heads <n>       attention heads (default: head size 16 if embd <= 128, else 64)
      --kv-heads <n>    key/value heads, must divide heads (default: heads)
      --ff <n>          feed-forward width, multiple of 32 (default 2*embd)
      --ctx <n>         training context length (default 512)
      --seed <n>        PRNG seed, 0..4294967295 (default 0)
      --type <t>        weight type: ${SYNTHETIC_WEIGHT_TYPES.join(' | ')} (default f32)
      --name <s>        general.name (default emosteer-synthetic)
      --vocab <n>       pad the vocabulary with unused tokens to n entries (real-size embeddings)
      --tied            no output.weight: the output reuses the token embedding
      --share-blocks    every block stores block 0's weights (fast to write; for benchmarks)
      --shape <name>    a real model's shape (${Object.keys(SYNTHETIC_SHAPES).join(' | ')}): sets
                        layers, embd, heads, kv-heads, ff, vocab and tied; flags given win
      --no-chat         write no chat template and no ChatML tokens
      --json            print the result as JSON
  -h, --help            show this help`;

class UsageError extends Error {}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/**
 * Runs `emosteer synth`.
 *
 * @param argv the arguments after `synth` (a leading `synth` is tolerated)
 * @param io output sinks (default: process stdout/stderr)
 * @returns exit code: 0 on success, 2 for bad arguments, 1 when writing failed
 * @example
 * process.exitCode = await runSynth(['--out', 'tiny.gguf', '--layers', '4']);
 */
export async function runSynth(argv: string[], io: SynthIo = defaultIo): Promise<number> {
  const args = argv[0] === 'synth' ? argv.slice(1) : argv;
  let options: SyntheticModelOptions;
  let json = false;
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: 'string', short: 'o' },
        layers: { type: 'string' },
        embd: { type: 'string' },
        heads: { type: 'string' },
        'kv-heads': { type: 'string' },
        ff: { type: 'string' },
        ctx: { type: 'string' },
        seed: { type: 'string' },
        type: { type: 'string' },
        name: { type: 'string' },
        'no-chat': { type: 'boolean' },
        vocab: { type: 'string' },
        tied: { type: 'boolean' },
        'share-blocks': { type: 'boolean' },
        shape: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(SYNTH_USAGE);
      return 0;
    }
    if (values.out === undefined || values.out.length === 0) throw new UsageError('--out <file.gguf> is required');
    const type = values.type?.toLowerCase();
    if (type !== undefined && !SYNTHETIC_WEIGHT_TYPES.includes(type as SyntheticWeightType)) {
      throw new UsageError(`--type must be one of ${SYNTHETIC_WEIGHT_TYPES.join(', ')}, got '${values.type}'`);
    }
    options = { out: values.out };
    if (values.shape !== undefined) {
      const shape = SYNTHETIC_SHAPES[values.shape as keyof typeof SYNTHETIC_SHAPES];
      if (!shape) throw new UsageError(`--shape must be one of ${Object.keys(SYNTHETIC_SHAPES).join(', ')}, got '${values.shape}'`);
      options = { ...options, ...shape };
    }
    // Ranges beyond "non-negative" are checked by writeSyntheticModel, with its own messages.
    const ints = {
      layers: intFlag('layers', values.layers, { min: 0 }),
      embd: intFlag('embd', values.embd, { min: 0 }),
      heads: intFlag('heads', values.heads, { min: 0 }),
      kvHeads: intFlag('kv-heads', values['kv-heads'], { min: 0 }),
      ff: intFlag('ff', values.ff, { min: 0 }),
      ctx: intFlag('ctx', values.ctx, { min: 0 }),
      seed: intFlag('seed', values.seed, { min: 0 }),
      vocabSize: intFlag('vocab', values.vocab, { min: 0 }),
    } satisfies Partial<Record<keyof SyntheticModelOptions, number | undefined>>;
    for (const [key, v] of Object.entries(ints)) if (v !== undefined) options = { ...options, [key]: v };
    if (type !== undefined) options.type = type as SyntheticWeightType;
    if (values.name !== undefined) options.name = values.name;
    if (values['no-chat']) options.chatTemplate = false;
    if (values.tied) options.tiedEmbeddings = true;
    if (values['share-blocks']) options.shareBlockWeights = true;
    json = values.json === true;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    io.err(`emosteer synth: ${msg}`);
    io.err("Run 'emosteer synth --help' for usage.");
    return 2;
  }

  try {
    const started = Date.now();
    const info = await writeSyntheticModel(options);
    if (json) {
      io.out(JSON.stringify(info));
    } else {
      io.out(
        `wrote ${info.path}: llama, ${info.layers} layers, embd ${info.embd}, ${info.heads} heads ` +
          `(${info.kvHeads} kv), ff ${info.ff}, vocab ${info.vocabSize}${info.tiedEmbeddings ? ' (tied)' : ''}, ${info.type}, ${formatBytes(info.bytes)}, ` +
          `seed ${info.seed}, sha256 ${info.sha256?.slice(0, 16) ?? '-'}… in ${((Date.now() - started) / 1000).toFixed(2)} s`,
      );
    }
    return 0;
  } catch (err) {
    if (err instanceof EmosteerError && err.code === 'INVALID_ARGUMENT') {
      io.err(`emosteer synth: ${err.message.replace(/^writeSyntheticModel: /, '')}`);
      io.err("Run 'emosteer synth --help' for usage.");
      return 2;
    }
    const msg = err instanceof Error ? err.message : String(err);
    io.err(`emosteer synth: failed to write ${options.out}: ${msg}`);
    return 1;
  }
}
