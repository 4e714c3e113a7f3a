/**
 * `emosteer bake --model <gguf|name> --set <dir> --emotion <e> --strength <s> --out <file.gguf>`:
 * writes a copy of the model whose weights carry the steering (lib/models/bake-steering.ts),
 * for runtimes that cannot load control vectors. Exact for the `llama` architecture; others
 * are refused by name.
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import { bakeSteering } from '../models/bake-steering.js';
import { assertSetFromModel } from '../protocol/run-folder.js';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { steeringVectors } from '../vectors/steering-vectors.js';
import { defaultIo, numberFlag, parseCommand, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';

/** Usage text of `emosteer bake`. */
export const BAKE_USAGE = `Usage: emosteer bake --model <gguf|name> --set <dir> --emotion <name> --strength <s> --out <file.gguf> [options]

Writes a copy of the model whose per-block ffn_down bias carries the emotion's steering, so that
any runtime (Ollama, node-llama-cpp, llama.cpp without --control-vector) generates steered text.
The same as the control vector (tested block by block) for the llama architecture (SmolLM2 and
other Llama-family models); other architectures are refused.

Options:
  -m, --model <gguf|name> the model the set was extracted from (required)
      --set <dir>         a saved emotion vector set (required)
      --emotion <name>    emotion to steer toward (required)
      --strength <s>      fraction of each block's mean residual norm (the paper's scaling; negative steers away) (required)
      --raw               raw vectors x strength instead (sets without residual norms)
      --layers <a-b>      only blocks a..b (default: the set's blocks from 1 up)
  -o, --out <file>        output GGUF (required)
  -h, --help              show this help`;

/** Runs `emosteer bake`. @returns 0 ok, 1 failure, 2 bad arguments */
export async function runBake(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('bake', argv, {
    model: { type: 'string', short: 'm' },
    set: { type: 'string' },
    emotion: { type: 'string' },
    strength: { type: 'string' },
    raw: { type: 'boolean' },
    layers: { type: 'string' },
    out: { type: 'string', short: 'o' },
  }, BAKE_USAGE, io);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.model || !values.set || !values.emotion || values.strength === undefined || !values.out) {
    io.err(`emosteer bake: --model, --set, --emotion, --strength and --out are required\n\n${BAKE_USAGE}`);
    return 2;
  }
  try {
    const strength = numberFlag('strength', values.strength)!;
    let layers: [number, number] | undefined;
    if (values.layers !== undefined) {
      const m = /^(\d+)-(\d+)$/.exec(values.layers);
      if (!m) throw new EmosteerError('INVALID_ARGUMENT', `--layers must look like 3-12 (got '${values.layers}')`);
      layers = [Number(m[1]), Number(m[2])];
    }
    const model = await resolveModelArg(values.model, io);
    const set = await EmotionVectorSet.load(values.set, { activations: false });
    if (set.meta.model.sha256) await assertSetFromModel(set, model);
    const built = steeringVectors(set, { emotion: values.emotion, strength }, { scaling: values.raw ? 'raw' : 'norm', ...(layers ? { layers } : {}) });
    const description = `${values.emotion} x ${strength} (${values.raw ? 'raw' : 'x mean residual norm'}), blocks ${built.layers[0]}-${built.layers[1]}, set ${set.meta.method}`;
    const r = await bakeSteering(model, values.out, { ...built, description });
    io.out(`wrote ${r.path} (${(r.bytes / 1024 / 1024).toFixed(1)} MiB): '${values.emotion}' at strength ${strength} baked into blocks ${r.blocks.join(', ')}`);
    return 0;
  } catch (e) {
    return reportError('bake', e, io);
  }
}
