/**
 * `emosteer import-gguf <file.gguf> --out <dir>`: reads a llama.cpp control-vector GGUF (from
 * emosteer, llama.cpp's cvector-generator or repeng) into an emosteer vector set.
 *
 * @module
 */
import { basename } from 'node:path';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { readControlVector, type ControlVectorConvention } from '../vectors/control-vector-gguf.js';
import { defaultIo, parseCommand, reportError, type CliIo } from './io.js';

/** Usage text of `emosteer import-gguf`. */
export const IMPORT_USAGE = `Usage: emosteer import-gguf <file.gguf> --out <dir> [options]

Imports a llama.cpp control-vector file as an emosteer vector set (one emotion).

Options:
  -o, --out <dir>          output folder (required)
      --emotion <name>     name to give the vector (default: from the file, else its file name)
      --convention <c>     block (emosteer, repeng; default) | cvector-generator (llama.cpp's tool
                           reads l_out-i and writes direction.{i+1}: the set's blocks are shifted
                           back by one so that block numbers say where the direction was read)
  -h, --help               show this help`;

/** Runs `emosteer import-gguf`. @returns 0 ok, 1 failure, 2 bad arguments */
export async function runImportGguf(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCommand('import-gguf', argv, {
    out: { type: 'string', short: 'o' },
    emotion: { type: 'string' },
    convention: { type: 'string' },
  }, IMPORT_USAGE, io, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || !values.out) {
    io.err(`emosteer import-gguf: a GGUF file and --out are required\n\n${IMPORT_USAGE}`);
    return 2;
  }
  const convention = (values.convention ?? 'block') as ControlVectorConvention;
  if (convention !== 'block' && convention !== 'cvector-generator') {
    io.err('emosteer import-gguf: --convention must be block or cvector-generator');
    return 2;
  }
  try {
    const file = positionals[0]!;
    const cv = await readControlVector(file, { convention });
    const name = values.emotion ?? basename(file).replace(/\.gguf$/i, '');
    const set = EmotionVectorSet.fromVectors(
      {
        method: 'imported',
        model: { path: '', sha256: '', arch: cv.modelHint, description: `control vector from ${basename(file)}`, nLayer: cv.layerCount + 1, nEmbd: cv.nEmbd, quantization: '', nParams: 0 },
        params: { source: file, convention: cv.convention, modelHint: cv.modelHint, layerCount: cv.layerCount },
      },
      new Map([[name, cv.readFrom]]),
    );
    await set.save(values.out);
    io.out(`imported '${name}' (${cv.readFrom.size} blocks, n_embd ${cv.nEmbd}, convention ${cv.convention}) into ${values.out}`);
    return 0;
  } catch (e) {
    return reportError('import-gguf', e, io);
  }
}
