/**
 * `emosteer export-gguf <dir> --emotion <name> --out <file.gguf>`: writes one emotion of a
 * saved vector set as a llama.cpp control-vector GGUF (`--control-vector` loads it and applies
 * direction.N at block N, the same block emosteer steers).
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { writeControlVector } from '../vectors/control-vector-gguf.js';
import { defaultIo, numberFlag, parseCommand, reportError, type CliIo } from './io.js';

/** Usage text of `emosteer export-gguf`. */
export const EXPORT_USAGE = `Usage: emosteer export-gguf <set-dir> --emotion <name> --out <file.gguf> [options]

Writes an emotion's vectors (blocks 1..nLayer-1; block 0 cannot be applied by llama.cpp) as a
llama.cpp control-vector file. Default: unit vectors scaled by --strength x the layer's mean
residual norm (the paper's scaling), or by --scale alone.

Options:
      --emotion <name>   emotion to export (required)
  -o, --out <file>       output GGUF (required)
      --strength <s>     unit x s x mean residual norm of each block (default 1, needs a set with samples)
      --scale <s>        unit x s (instead of --strength)
      --raw              raw (un-normalized) vectors x --scale
      --layers <a-b>     only blocks a..b (default 1..nLayer-1)
  -h, --help             show this help`;

/** Runs `emosteer export-gguf`. @returns 0 ok, 1 failure, 2 bad arguments */
export async function runExportGguf(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('export-gguf', argv, {
    emotion: { type: 'string' },
    out: { type: 'string', short: 'o' },
    strength: { type: 'string' },
    scale: { type: 'string' },
    raw: { type: 'boolean' },
    layers: { type: 'string' },
  }, EXPORT_USAGE, io, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || !values.emotion || !values.out) {
    io.err(`emosteer export-gguf: a set folder, --emotion and --out are required\n\n${EXPORT_USAGE}`);
    return 2;
  }
  try {
    const set = await EmotionVectorSet.load(positionals[0]!, { activations: false });
    const nLayer = set.meta.model.nLayer;
    let [lo, hi] = [1, nLayer - 1];
    if (values.layers) {
      const m = /^(\d+)-(\d+)$/.exec(values.layers);
      if (!m) throw new EmosteerError('INVALID_ARGUMENT', '--layers must look like 3-12');
      [lo, hi] = [Number(m[1]), Number(m[2])];
    }
    if (values.strength !== undefined && (values.scale !== undefined || values.raw)) throw new EmosteerError('INVALID_ARGUMENT', '--strength scales unit vectors by the residual norm: use it alone, or --scale (with --raw or not)');
    const useStrength = values.scale === undefined && !values.raw;
    const factor = (useStrength ? numberFlag('strength', values.strength) : numberFlag('scale', values.scale)) ?? 1;
    if (useStrength && set.meta.residualNorms.length !== set.layers.length) {
      throw new EmosteerError('INVALID_ARGUMENT', 'this set has no residual norms (imported?): use --scale or --raw');
    }
    const vectors = new Map<number, Float32Array>();
    set.layers.forEach((layer, li) => {
      if (layer < Math.max(1, lo) || layer > hi) return;
      const v = set.vector(values.emotion!, layer, { unit: !values.raw });
      const k = useStrength ? factor * set.meta.residualNorms[li]! : factor;
      vectors.set(layer, v.map((x) => x * k));
    });
    await writeControlVector(values.out, vectors, {
      modelHint: set.meta.model.arch,
      nLayer,
      metadata: { emotion: values.emotion, method: set.meta.method, scaling: useStrength ? `strength ${factor} x residual norm` : values.raw ? `raw x ${factor}` : `unit x ${factor}`, model_sha256: set.meta.model.sha256 },
    });
    io.out(`wrote ${vectors.size} blocks of '${values.emotion}' to ${values.out} (direction.N = block N; llama.cpp: --control-vector ${values.out})`);
    return 0;
  } catch (e) {
    return reportError('export-gguf', e, io);
  }
}
