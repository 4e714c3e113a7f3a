/**
 * The bad-input corpus: every case feeds one surface of emosteer (API, CLI, file formats, HTTP
 * server) something wrong and names the typed failure it must produce. A case runs in its own
 * child process (scripts/bad-input-corpus.mjs); the runner asserts the result, that the child
 * ended without a signal, that no fixture file changed and that no output was left half-written.
 *
 * A case is `{ id, surface, what, expect, setup?, api? | cli? | http?, outputs? }`:
 * - `expect`: `{ code, message? }` (API: the EmosteerError code, and a part of its message), `{ exit, code?, stderr? }` (CLI: exit code,
 *   `[CODE]` in stderr, or a regex for usage errors), `{ status, error? }` (HTTP: status and the
 *   OpenAI-shaped `error.code`), `{ status, ok: true }` for inputs that must be accepted.
 * - `setup(fx, dir, lib)` runs in the runner before the child starts and writes the case's bad
 *   files into `dir` (its own folder).
 * - `api(lib, fx, dir)` runs in the child against dist/ and must throw.
 * - `cli(fx, dir)` returns the argv of `emosteer`.
 * - `http` is `{ method, path, headers?, body? }` or `{ custom: async (port, helpers) => result }`.
 * - `outputs(fx, dir)`: paths the case may write; they must be absent afterwards or complete.
 *
 * `fx` holds the shared fixtures the runner writes once: `model` (synthetic llama, 4 blocks x 64),
 * `nochat` (no chat template), `narrow` (4 blocks x 32), `set` (a vector set of `model`), `narrowSet`,
 * `cv` (a control-vector GGUF of `model`), `root`.
 *
 * @module
 */
import { copyFileSync, cpSync, mkdirSync, readFileSync, truncateSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { ggufFields, writeField } from '../fuzz/gguf-mutate.mjs';

const W = 64; // width of fx.model
const vec = (n, x = 0.5) => new Float32Array(n).fill(x);

/** Copies `src` to `dir/name`, applies `edit(buffer)` and returns the path. */
function mutate(src, dir, name, edit) {
  const out = join(dir, name);
  const buf = Buffer.from(readFileSync(src));
  const res = edit(buf) ?? buf;
  writeFileSync(out, res);
  return out;
}

/** Writes at byte `at` of a copy. */
function patchAt(src, dir, name, at, bytes) {
  const out = join(dir, name);
  copyFileSync(src, out);
  const fd = openSync(out, 'r+');
  writeSync(fd, bytes, 0, bytes.length, at);
  closeSync(fd);
  return out;
}

const i64 = (v) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(v)); return b; };
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };

/** A copy of the model with the header field `pick(fields)` set to `value`. */
function withField(src, dir, name, pick, value) {
  const b = Buffer.from(readFileSync(src));
  const f = pick(ggufFields(b).fields);
  if (typeof value === 'function') value(b, f); else writeField(b, f.at, f.size, value);
  writeFileSync(join(dir, name), b);
}

/** A copy of a vector set with its manifest edited by `edit(manifest)`. */
function editedSet(fx, dir, edit) {
  const out = join(dir, 'set');
  cpSync(fx.set, out, { recursive: true });
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  const r = edit(m, out);
  writeFileSync(join(out, 'manifest.json'), typeof r === 'string' ? r : JSON.stringify(r === undefined ? m : r));
  return out;
}

/** A fresh context of fx.model in the child. */
async function ctxOf(lib, path, options = {}) {
  const model = await lib.loadModel(path);
  const ctx = await model.createContext({ contextSize: 128, threads: 1, ...options });
  return { model, ctx };
}

async function drain(iter) {
  for await (const _ of iter) { /* consume */ }
}

const chat = (extra = {}) => JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, ...extra });
const jsonHeaders = { 'content-type': 'application/json' };

/** Every case of the corpus. */
export const CASES = [
  // ---------------------------------------------------------------- API: loadModel
  { id: 'api-load-missing', surface: 'api', what: 'loadModel of a path that does not exist', expect: { code: 'FILE_NOT_FOUND' },
    api: (lib) => lib.loadModel('/no/such/dir/model.gguf') },
  { id: 'api-load-empty-path', surface: 'api', what: "loadModel('')", expect: { code: 'INVALID_ARGUMENT' },
    api: (lib) => lib.loadModel('') },
  { id: 'api-load-number-path', surface: 'api', what: 'loadModel(42)', expect: { code: 'INVALID_ARGUMENT' },
    api: (lib) => lib.loadModel(42) },
  { id: 'api-load-directory', surface: 'api', what: 'loadModel of a directory', expect: { code: 'FILE_NOT_FOUND' },
    api: (lib, fx, dir) => lib.loadModel(dir) },
  { id: 'api-load-gpu-layers-float', surface: 'api', what: 'loadModel gpuLayers: 1.5', expect: { code: 'INVALID_ARGUMENT' },
    api: (lib, fx) => lib.loadModel(fx.model, { gpuLayers: 1.5 }) },
  { id: 'api-load-gpu-layers-string', surface: 'api', what: "loadModel gpuLayers: 'lots'", expect: { code: 'INVALID_ARGUMENT' },
    api: (lib, fx) => lib.loadModel(fx.model, { gpuLayers: 'lots' }) },

  // ---------------------------------------------------------------- API: createContext
  { id: 'api-ctx-size-negative', surface: 'api', what: 'createContext contextSize: -1', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await lib.loadModel(fx.model)).createContext({ contextSize: -1 }) },
  { id: 'api-ctx-size-float', surface: 'api', what: 'createContext contextSize: 100.5', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await lib.loadModel(fx.model)).createContext({ contextSize: 100.5 }) },
  { id: 'api-ctx-threads-zero', surface: 'api', what: 'createContext threads: 0', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await lib.loadModel(fx.model)).createContext({ threads: 0 }) },
  { id: 'api-ctx-sequences-zero', surface: 'api', what: 'createContext sequences: 0', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await lib.loadModel(fx.model)).createContext({ sequences: 0 }) },
  { id: 'api-ctx-batch-string', surface: 'api', what: "createContext batchSize: 'big'", expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await lib.loadModel(fx.model)).createContext({ batchSize: 'big' }) },
  { id: 'api-ctx-after-dispose', surface: 'api', what: 'createContext on a disposed model', expect: { code: 'DISPOSED' },
    api: async (lib, fx) => { const m = await lib.loadModel(fx.model); m.dispose(); await m.createContext(); } },

  // ---------------------------------------------------------------- API: evaluate and capture options
  { id: 'api-eval-token-too-big', surface: 'api', what: 'evaluate token id 999999', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate([999_999]) },
  { id: 'api-eval-token-negative', surface: 'api', what: 'evaluate token id -1', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate([1, -1]) },
  { id: 'api-eval-null', surface: 'api', what: 'evaluate(null)', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate(null) },
  { id: 'api-eval-too-long', surface: 'api', what: 'evaluate a prompt longer than the context', expect: { code: 'PROMPT_TOO_LONG' },
    api: async (lib, fx) => { const { ctx } = await ctxOf(lib, fx.model); await ctx.evaluate('y'.repeat(ctx.options.contextSize + 1)); } },
  { id: 'api-capture-layer-99', surface: 'api', what: 'capture layers [99] on a 4-block model', expect: { code: 'LAYER_OUT_OF_RANGE' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { capture: { layers: [99] } }) },
  { id: 'api-capture-layer-negative', surface: 'api', what: 'capture layers [-1]', expect: { code: 'LAYER_OUT_OF_RANGE' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { capture: { layers: [-1] } }) },
  { id: 'api-capture-layer-float', surface: 'api', what: 'capture layers [1.5]', expect: { code: 'LAYER_OUT_OF_RANGE' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { capture: { layers: [1.5] } }) },
  { id: 'api-capture-pooling-unknown', surface: 'api', what: "capture pooling 'median'", expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { capture: { pooling: 'median' } }) },
  { id: 'api-capture-pooling-index', surface: 'api', what: 'capture pooling { index: 50 } past the prompt', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { capture: { pooling: { index: 50 } } }) },
  { id: 'api-capture-tensor-missing', surface: 'api', what: "capture tensor 'attn_post_norm' (not in llama graphs)", expect: { code: 'ARCH_NO_LAYER_HOOKS' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { capture: { tensor: 'attn_post_norm' } }) },
  { id: 'api-capture-disabled', surface: 'api', what: 'capture on a context with activationHooks: false', expect: { code: 'CAPTURE_DISABLED' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model, { activationHooks: false })).ctx.evaluate('hi', { capture: {} }) },
  { id: 'api-eval-sequence-out', surface: 'api', what: 'evaluate sequence 5 on a 1-sequence context', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { sequence: 5 }) },
  { id: 'api-eval-aborted', surface: 'api', what: 'evaluate with an aborted signal', expect: { code: 'ABORTED' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { signal: AbortSignal.abort() }) },
  { id: 'api-eval-disposed', surface: 'api', what: 'evaluate after ctx.dispose()', expect: { code: 'DISPOSED' },
    api: async (lib, fx) => { const { ctx } = await ctxOf(lib, fx.model); await ctx.dispose(); await ctx.evaluate('hi'); } },
  { id: 'api-eval-messages-no-template', surface: 'api', what: 'evaluate { messages } on a model without a chat template', expect: { code: 'NO_CHAT_TEMPLATE' },
    api: async (lib, fx) => (await ctxOf(lib, fx.nochat)).ctx.evaluate({ messages: [{ role: 'user', content: 'x' }] }) },

  // ---------------------------------------------------------------- API: generate and sampling options
  { id: 'api-gen-max-tokens-negative', surface: 'api', what: 'generate maxTokens: -1', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => drain((await ctxOf(lib, fx.model)).ctx.generate('hi', { maxTokens: -1 })) },
  { id: 'api-gen-temperature-nan', surface: 'api', what: 'generate temperature: NaN', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => drain((await ctxOf(lib, fx.model)).ctx.generate('hi', { maxTokens: 2, temperature: Number.NaN })) },
  { id: 'api-gen-temperature-negative', surface: 'api', what: 'generate temperature: -1', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => drain((await ctxOf(lib, fx.model)).ctx.generate('hi', { maxTokens: 2, temperature: -1 })) },
  { id: 'api-gen-top-p', surface: 'api', what: 'generate topP: 2', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => drain((await ctxOf(lib, fx.model)).ctx.generate('hi', { maxTokens: 2, topP: 2 })) },
  { id: 'api-gen-top-k', surface: 'api', what: 'generate topK: -5', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => drain((await ctxOf(lib, fx.model)).ctx.generate('hi', { maxTokens: 2, topK: -5 })) },
  { id: 'api-gen-seed-string', surface: 'api', what: "generate seed: 'x'", expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => drain((await ctxOf(lib, fx.model)).ctx.generate('hi', { maxTokens: 2, seed: 'x' })) },
  { id: 'api-gen-repeat-penalty-inf', surface: 'api', what: 'generate repeatPenalty: Infinity', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => drain((await ctxOf(lib, fx.model)).ctx.generate('hi', { maxTokens: 2, repeatPenalty: Infinity })) },
  { id: 'api-gen-stop-string', surface: 'api', what: "generate stop: 'abc' (not a list)", expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => drain((await ctxOf(lib, fx.model)).ctx.generate('hi', { maxTokens: 2, stop: 'abc' })) },
  { id: 'api-gen-capture-layer', surface: 'api', what: 'generate capture layers [7]', expect: { code: 'LAYER_OUT_OF_RANGE' },
    api: async (lib, fx) => drain((await ctxOf(lib, fx.model)).ctx.generate('hi', { maxTokens: 2, capture: { layers: [7] } })) },

  // ---------------------------------------------------------------- API: setSteering
  { id: 'api-steer-width', surface: 'api', what: 'setSteering a 63-wide vector on a 64-wide model', expect: { code: 'VECTOR_WIDTH_MISMATCH' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.setSteering(new Map([[1, vec(W - 1)]])) },
  { id: 'api-steer-nan', surface: 'api', what: 'setSteering a NaN vector', expect: { code: 'NON_FINITE_VECTOR' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.setSteering(new Map([[1, vec(W, Number.NaN)]])) },
  { id: 'api-steer-block-0', surface: 'api', what: 'setSteering at block 0', expect: { code: 'LAYER_OUT_OF_RANGE' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.setSteering(new Map([[0, vec(W)]])) },
  { id: 'api-steer-block-9', surface: 'api', what: 'setSteering at block 9 of 4', expect: { code: 'LAYER_OUT_OF_RANGE' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.setSteering(new Map([[9, vec(W)]])) },
  { id: 'api-steer-scale-nan', surface: 'api', what: 'setSteering scale: NaN', expect: { code: 'NON_FINITE_VECTOR' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.setSteering(new Map([[1, vec(W)]]), { scale: Number.NaN }) },
  { id: 'api-steer-layers-reversed', surface: 'api', what: 'setSteering layers: [3, 1]', expect: { code: 'LAYER_OUT_OF_RANGE' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.setSteering(new Map([[1, vec(W)]]), { layers: [3, 1] }) },
  { id: 'api-steer-string', surface: 'api', what: "setSteering('nonsense')", expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.setSteering('nonsense') },
  { id: 'api-steer-flat-wrong-size', surface: 'api', what: 'setSteering a flat array of the wrong size', expect: { code: 'VECTOR_WIDTH_MISMATCH' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.setSteering(new Float32Array(W * 4 + 1)) },

  // ---------------------------------------------------------------- API: per-call steering option
  { id: 'api-call-steer-width', surface: 'api', what: 'evaluate steering: a 32-wide vector on a 64-wide model', expect: { code: 'VECTOR_WIDTH_MISMATCH' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { steering: { vectors: new Map([[1, vec(32)]]) } }) },
  { id: 'api-call-steer-nan', surface: 'api', what: 'evaluate steering: an Infinity vector', expect: { code: 'NON_FINITE_VECTOR' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { steering: { vectors: new Map([[1, vec(W, Infinity)]]) } }) },
  { id: 'api-call-steer-block-0', surface: 'api', what: 'evaluate steering at block 0', expect: { code: 'LAYER_OUT_OF_RANGE' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { steering: { vectors: new Map([[0, vec(W)]]) } }) },
  { id: 'api-call-steer-positions', surface: 'api', what: "generate steering positions: 'middle'", expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => drain((await ctxOf(lib, fx.model)).ctx.generate('hi', { maxTokens: 2, steering: { vectors: new Map([[1, vec(W)]]), positions: 'middle' } })) },
  { id: 'api-call-steer-empty', surface: 'api', what: 'evaluate steering: {} (neither vectors nor set)', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { steering: {} }) },
  { id: 'api-call-steer-scale-inf', surface: 'api', what: 'evaluate steering scale: Infinity', expect: { code: 'NON_FINITE_VECTOR' },
    api: async (lib, fx) => (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { steering: { vectors: new Map([[1, vec(W)]]), scale: Infinity } }) },
  { id: 'api-call-steer-unknown-emotion', surface: 'api', what: "evaluate steering { set, emotion: 'bored' } (not in the set)", expect: { code: 'UNKNOWN_EMOTION' },
    api: async (lib, fx) => { const set = await lib.EmotionVectorSet.load(fx.set); return (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { steering: { set, emotion: 'bored', strength: 2 } }); } },
  { id: 'api-call-steer-other-model-set', surface: 'api', what: 'evaluate steering with a set of a 32-wide model', expect: { code: 'VECTOR_WIDTH_MISMATCH' },
    api: async (lib, fx) => { const set = await lib.EmotionVectorSet.load(fx.narrowSet); return (await ctxOf(lib, fx.model)).ctx.evaluate('hi', { steering: { set, emotion: 'calm', strength: 2 } }); } },
  { id: 'api-call-steer-schedule-bad', surface: 'api', what: 'generate steering schedule returning a 3-wide vector', expect: { code: 'VECTOR_WIDTH_MISMATCH' },
    api: async (lib, fx) => drain((await ctxOf(lib, fx.model)).ctx.generate('hi', { maxTokens: 3, steering: () => ({ vectors: new Map([[1, vec(3)]]) }) })) },

  // ---------------------------------------------------------------- API: model methods
  { id: 'api-chat-no-template', surface: 'api', what: 'applyChatTemplate on a model without a template', expect: { code: 'NO_CHAT_TEMPLATE' },
    api: async (lib, fx) => (await lib.loadModel(fx.nochat)).applyChatTemplate([{ role: 'user', content: 'x' }]) },
  { id: 'api-chat-bad-template', surface: 'api', what: 'applyChatTemplate with an unknown Jinja template', expect: { code: 'CHAT_TEMPLATE_UNSUPPORTED' },
    api: async (lib, fx) => (await lib.loadModel(fx.nochat)).applyChatTemplate([{ role: 'user', content: 'x' }], { template: '{% for m in nonsense %}' }) },
  { id: 'api-token-to-piece-negative', surface: 'api', what: 'tokenToPiece(-5)', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await lib.loadModel(fx.model)).tokenToPiece(-5) },
  { id: 'api-tokenize-number', surface: 'api', what: 'tokenize(123)', expect: { code: 'INVALID_ARGUMENT' },
    api: async (lib, fx) => (await lib.loadModel(fx.model)).tokenize(123) },
  { id: 'api-tokenize-disposed', surface: 'api', what: 'tokenize after model.dispose()', expect: { code: 'DISPOSED' },
    api: async (lib, fx) => { const m = await lib.loadModel(fx.model); m.dispose(); m.tokenize('x'); } },

  // ---------------------------------------------------------------- files: model GGUF
  { id: 'file-model-empty', surface: 'file', what: 'model GGUF: empty file', expect: { code: 'NOT_GGUF' },
    setup: (fx, dir) => writeFileSync(join(dir, 'm.gguf'), ''), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-garbage', surface: 'file', what: 'model GGUF: 4 KiB of random bytes', expect: { code: 'NOT_GGUF' },
    setup: (fx, dir) => writeFileSync(join(dir, 'm.gguf'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff))),
    api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-wrong-magic', surface: 'file', what: "model GGUF: magic 'GGUG'", expect: { code: 'NOT_GGUF' },
    setup: (fx, dir) => patchAt(fx.model, dir, 'm.gguf', 0, Buffer.from('GGUG')), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-byteswapped', surface: 'file', what: "model GGUF: byte-swapped magic 'FUGG'", expect: { code: 'NOT_GGUF' },
    setup: (fx, dir) => patchAt(fx.model, dir, 'm.gguf', 0, Buffer.from('FUGG')), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-html', surface: 'file', what: 'model GGUF: an HTML error page', expect: { code: 'NOT_GGUF' },
    setup: (fx, dir) => writeFileSync(join(dir, 'm.gguf'), '<!DOCTYPE html><html><body>404</body></html>'), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-lfs-pointer', surface: 'file', what: 'model GGUF: a Git LFS pointer', expect: { code: 'NOT_GGUF' },
    setup: (fx, dir) => writeFileSync(join(dir, 'm.gguf'), 'version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n'), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-magic-only', surface: 'file', what: "model GGUF: 'GGU' (3 bytes)", expect: { code: 'GGUF_TRUNCATED' },
    setup: (fx, dir) => writeFileSync(join(dir, 'm.gguf'), 'GGU'), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-cut-header', surface: 'file', what: 'model GGUF: cut at 200 bytes (inside the metadata)', expect: { code: 'GGUF_TRUNCATED' },
    setup: (fx, dir) => { copyFileSync(fx.model, join(dir, 'm.gguf')); truncateSync(join(dir, 'm.gguf'), 200); }, api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-cut-data', surface: 'file', what: 'model GGUF: last 1000 bytes of tensor data missing', expect: { code: 'GGUF_TRUNCATED' },
    setup: (fx, dir) => mutate(fx.model, dir, 'm.gguf', (b) => b.subarray(0, b.length - 1000)), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-version-99', surface: 'file', what: 'model GGUF: version 99', expect: { code: 'GGUF_CORRUPT' },
    setup: (fx, dir) => patchAt(fx.model, dir, 'm.gguf', 4, u32(99)), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-version-bigendian', surface: 'file', what: 'model GGUF: version field 0x03000000 (big-endian writer)', expect: { code: 'GGUF_CORRUPT' },
    setup: (fx, dir) => patchAt(fx.model, dir, 'm.gguf', 4, u32(0x03000000)), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-tensor-count-huge', surface: 'file', what: 'model GGUF: tensor count 2^40', expect: { code: 'GGUF_CORRUPT' },
    setup: (fx, dir) => patchAt(fx.model, dir, 'm.gguf', 8, i64(1n << 40n)), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-kv-count-negative', surface: 'file', what: 'model GGUF: metadata count -1', expect: { code: 'GGUF_CORRUPT' },
    setup: (fx, dir) => patchAt(fx.model, dir, 'm.gguf', 16, i64(-1)), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-key-length-huge', surface: 'file', what: 'model GGUF: first key length 2^62', expect: { code: 'GGUF_CORRUPT' },
    setup: (fx, dir) => patchAt(fx.model, dir, 'm.gguf', 24, i64(1n << 62n)), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-key-length-past-end', surface: 'file', what: 'model GGUF: first key length 2^29 (past the end)', expect: { code: 'GGUF_TRUNCATED' },
    setup: (fx, dir) => patchAt(fx.model, dir, 'm.gguf', 24, i64(1n << 29n)), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-value-type', surface: 'file', what: 'model GGUF: first value type 99', expect: { code: 'GGUF_CORRUPT' },
    setup: (fx, dir) => { const b = readFileSync(fx.model); const keyLen = Number(b.readBigUInt64LE(24)); patchAt(fx.model, dir, 'm.gguf', 32 + keyLen, u32(99)); },
    api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-unknown-arch', surface: 'file', what: 'model GGUF: well-formed, unknown architecture', expect: { code: 'MODEL_LOAD_FAILED' },
    setup: async (fx, dir, lib) => { const w = new lib.GgufWriter(); w.setString('general.architecture', 'no-such-arch'); await w.write(join(dir, 'm.gguf')); },
    api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-no-tensors', surface: 'file', what: 'model GGUF: llama architecture without tensors', expect: { code: 'MODEL_LOAD_FAILED' },
    setup: async (fx, dir, lib) => { const w = new lib.GgufWriter(); w.setString('general.architecture', 'llama'); await w.write(join(dir, 'm.gguf')); },
    api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-control-vector', surface: 'file', what: 'model GGUF: a control-vector file given as the model', expect: { code: 'MODEL_LOAD_FAILED' },
    api: (lib, fx) => lib.loadModel(fx.cv) },

  { id: 'file-model-block-count-0', surface: 'file', what: 'model GGUF: llama.block_count 0 (llama.cpp used to abort)', expect: { code: 'GGUF_CORRUPT', message: 'block_count' },
    setup: (fx, dir) => withField(fx.model, dir, 'm.gguf', (fs) => fs.find((f) => f.kind === 'value' && f.key === 'llama.block_count'), 0), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-eps-nan', surface: 'file', what: 'model GGUF: a NaN norm epsilon (llama.cpp used to abort at the first decode)', expect: { code: 'GGUF_CORRUPT', message: 'epsilon' },
    setup: (fx, dir) => withField(fx.model, dir, 'm.gguf', (fs) => fs.find((f) => f.kind === 'value' && f.key === 'llama.attention.layer_norm_rms_epsilon'), (b, f) => b.writeFloatLE(Number.NaN, f.at)),
    api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-int-weight', surface: 'file', what: 'model GGUF: an F32 weight retyped I32 (llama.cpp used to crash in the first matmul)', expect: { code: 'GGUF_CORRUPT', message: 'cannot compute with' },
    setup: (fx, dir) => withField(fx.model, dir, 'm.gguf', (fs) => fs.filter((f) => f.kind === 'ggmlType').at(-1), 26), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },
  { id: 'file-model-kv-heads', surface: 'file', what: 'model GGUF: head_count_kv 2^29 (llama.cpp used to abort in a reshape)', expect: { code: 'GGUF_CORRUPT', message: 'head_count_kv' },
    setup: (fx, dir) => withField(fx.model, dir, 'm.gguf', (fs) => fs.find((f) => f.kind === 'value' && f.key === 'llama.attention.head_count_kv'), 2 ** 29), api: (lib, fx, dir) => lib.loadModel(join(dir, 'm.gguf')) },

  // ---------------------------------------------------------------- files: control-vector GGUF
  { id: 'file-cv-is-model', surface: 'file', what: 'readControlVector of a model GGUF', expect: { code: 'INVALID_ARGUMENT' },
    api: (lib, fx) => lib.readControlVector(fx.model) },
  { id: 'file-cv-truncated', surface: 'file', what: 'readControlVector of a cut control-vector file', expect: { code: 'GGUF_TRUNCATED' },
    setup: (fx, dir) => mutate(fx.cv, dir, 'cv.gguf', (b) => b.subarray(0, b.length - 16)), api: (lib, fx, dir) => lib.readControlVector(join(dir, 'cv.gguf')) },
  { id: 'file-cv-no-directions', surface: 'file', what: 'readControlVector of a control-vector file with no direction.N', expect: { code: 'INVALID_ARGUMENT' },
    setup: async (fx, dir, lib) => { const w = new lib.GgufWriter(); w.setString('general.architecture', 'controlvector'); await w.write(join(dir, 'cv.gguf')); },
    api: (lib, fx, dir) => lib.readControlVector(join(dir, 'cv.gguf')) },

  // ---------------------------------------------------------------- files: vector sets
  { id: 'file-set-missing', surface: 'file', what: 'EmotionVectorSet.load of an empty folder', expect: { code: 'FILE_NOT_FOUND' },
    api: (lib, fx, dir) => lib.EmotionVectorSet.load(dir) },
  { id: 'file-set-sha256', surface: 'file', what: 'vector set: vectors file changed (sha256 differs)', expect: { code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, (m, out) => { const f = join(out, m.arrays.vectors.file); const b = readFileSync(f); b[0] ^= 1; writeFileSync(f, b); }),
    api: (lib, fx, dir) => lib.EmotionVectorSet.load(join(dir, 'set')) },
  { id: 'file-set-missing-array', surface: 'file', what: 'vector set: an array file missing', expect: { code: 'FILE_NOT_FOUND' },
    setup: (fx, dir) => editedSet(fx, dir, (m) => { m.arrays.unit.file = 'gone.f32'; }),
    api: (lib, fx, dir) => lib.EmotionVectorSet.load(join(dir, 'set')) },
  { id: 'file-set-manifest-json', surface: 'file', what: 'vector set: manifest.json is not JSON', expect: { code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, () => '{"format": "emosteer-vectors", '),
    api: (lib, fx, dir) => lib.EmotionVectorSet.load(join(dir, 'set')) },
  { id: 'file-set-manifest-null', surface: 'file', what: 'vector set: manifest.json is null', expect: { code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, () => 'null'),
    api: (lib, fx, dir) => lib.EmotionVectorSet.load(join(dir, 'set')) },
  { id: 'file-set-format', surface: 'file', what: 'vector set: manifest format edited', expect: { code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, (m) => { m.format = 'something-else'; }),
    api: (lib, fx, dir) => lib.EmotionVectorSet.load(join(dir, 'set')) },
  { id: 'file-set-format-version', surface: 'file', what: 'vector set: formatVersion 99', expect: { code: 'INVALID_ARGUMENT' },
    setup: (fx, dir) => editedSet(fx, dir, (m) => { m.formatVersion = 99; }),
    api: (lib, fx, dir) => lib.EmotionVectorSet.load(join(dir, 'set')) },
  { id: 'file-set-no-arrays', surface: 'file', what: 'vector set: manifest without arrays', expect: { code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, (m) => { delete m.arrays; }),
    api: (lib, fx, dir) => lib.EmotionVectorSet.load(join(dir, 'set')) },
  { id: 'file-set-no-layers', surface: 'file', what: 'vector set: manifest without layers', expect: { code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, (m) => { delete m.layers; }),
    api: (lib, fx, dir) => lib.EmotionVectorSet.load(join(dir, 'set')) },
  { id: 'file-set-nembd', surface: 'file', what: 'vector set: manifest nEmbd edited (64 -> 65)', expect: { code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, (m) => { m.nEmbd = 65; }),
    api: (lib, fx, dir) => lib.EmotionVectorSet.load(join(dir, 'set')) },
  { id: 'file-set-shape', surface: 'file', what: 'vector set: manifest shape edited (file size differs)', expect: { code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, (m) => { m.arrays.vectors.shape = m.arrays.vectors.shape.map((x, i) => (i === 0 ? x + 1 : x)); }),
    api: (lib, fx, dir) => lib.EmotionVectorSet.load(join(dir, 'set')) },
  { id: 'file-set-shape-string', surface: 'file', what: "vector set: manifest shape 'big'", expect: { code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, (m) => { m.arrays.vectors.shape = 'big'; }),
    api: (lib, fx, dir) => lib.EmotionVectorSet.load(join(dir, 'set')) },
  { id: 'file-set-path-escape', surface: 'file', what: "vector set: array file '../../x' (outside the folder)", expect: { code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, (m) => { m.arrays.vectors.file = '../../model.gguf'; }),
    api: (lib, fx, dir) => lib.EmotionVectorSet.load(join(dir, 'set')) },

  // ---------------------------------------------------------------- files: stimuli
  { id: 'file-stimuli-json', surface: 'file', what: 'stimuli .json that is not JSON', expect: { code: 'INVALID_ARGUMENT' },
    setup: (fx, dir) => writeFileSync(join(dir, 's.json'), '{"stories": [1, 2'), api: (lib, fx, dir) => lib.loadStimuli(join(dir, 's.json')) },
  { id: 'file-stimuli-jsonl', surface: 'file', what: 'stimuli .jsonl with a broken line', expect: { code: 'INVALID_ARGUMENT' },
    setup: (fx, dir) => writeFileSync(join(dir, 's.jsonl'), '{"emotion": "happy", "text": "a"}\n{"emotion": \n'), api: (lib, fx, dir) => lib.loadStimuli(join(dir, 's.jsonl')) },
  { id: 'file-stimuli-empty', surface: 'file', what: 'stimuli file that is empty', expect: { code: 'INVALID_ARGUMENT' },
    setup: (fx, dir) => writeFileSync(join(dir, 's.json'), '  \n'), api: (lib, fx, dir) => lib.loadStimuli(join(dir, 's.json')) },
  { id: 'file-stimuli-wrong-types', surface: 'file', what: 'stimuli .json with a number for the emotions', expect: { code: 'INVALID_ARGUMENT' },
    setup: (fx, dir) => writeFileSync(join(dir, 's.json'), '{"emotions": 5}'), api: (lib, fx, dir) => lib.loadStimuli(join(dir, 's.json')) },
  { id: 'file-stimuli-missing', surface: 'file', what: 'stimuli file that does not exist', expect: { code: 'FILE_NOT_FOUND' },
    api: (lib, fx, dir) => lib.loadStimuli(join(dir, 'nope.json')) },

  // ---------------------------------------------------------------- CLI
  { id: 'cli-no-command', surface: 'cli', what: 'emosteer (no command)', expect: { exit: 2, stdout: 'Usage' }, cli: () => [] },
  { id: 'cli-unknown-command', surface: 'cli', what: 'emosteer frobnicate', expect: { exit: 2, stderr: "unknown command 'frobnicate'" }, cli: () => ['frobnicate'] },
  { id: 'cli-info-no-model', surface: 'cli', what: 'info without --model', expect: { exit: 2, stderr: '--model is required' }, cli: () => ['info'] },
  { id: 'cli-info-unknown-flag', surface: 'cli', what: 'info --bogus', expect: { exit: 2, stderr: "Unknown option '--bogus'" }, cli: (fx) => ['info', '--model', fx.model, '--bogus'] },
  { id: 'cli-info-missing-file', surface: 'cli', what: 'info --model of a missing file', expect: { exit: 1, code: 'FILE_NOT_FOUND' }, cli: (fx, dir) => ['info', '--model', join(dir, 'none.gguf')] },
  { id: 'cli-info-garbage', surface: 'cli', what: 'info --model of a text file', expect: { exit: 1, code: 'NOT_GGUF' },
    setup: (fx, dir) => writeFileSync(join(dir, 'x.gguf'), 'hello world, not a model\n'), cli: (fx, dir) => ['info', '--model', join(dir, 'x.gguf')] },
  { id: 'cli-info-truncated', surface: 'cli', what: 'info --model of a cut model', expect: { exit: 1, code: 'GGUF_TRUNCATED' },
    setup: (fx, dir) => { copyFileSync(fx.model, join(dir, 'm.gguf')); truncateSync(join(dir, 'm.gguf'), 300); }, cli: (fx, dir) => ['info', '--model', join(dir, 'm.gguf')] },
  { id: 'cli-synth-no-out', surface: 'cli', what: 'synth without --out', expect: { exit: 2, stderr: '--out' }, cli: () => ['synth'] },
  { id: 'cli-synth-bad-layers', surface: 'cli', what: 'synth --layers abc', expect: { exit: 2, stderr: 'layers' },
    cli: (fx, dir) => ['synth', '--out', join(dir, 'o.gguf'), '--layers', 'abc'], outputs: (fx, dir) => [join(dir, 'o.gguf')] },
  { id: 'cli-synth-bad-type', surface: 'cli', what: 'synth --type q9_9', expect: { exit: 2, stderr: 'type' },
    cli: (fx, dir) => ['synth', '--out', join(dir, 'o.gguf'), '--type', 'q9_9'], outputs: (fx, dir) => [join(dir, 'o.gguf')] },
  { id: 'cli-extract-no-method', surface: 'cli', what: 'extract without --method', expect: { exit: 2, stderr: 'method' },
    cli: (fx, dir) => ['extract', '--model', fx.model, '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-extract-bad-method', surface: 'cli', what: 'extract --method telepathy', expect: { exit: 2, stderr: 'method' },
    cli: (fx, dir) => ['extract', '--model', fx.model, '--method', 'telepathy', '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-extract-bad-samples', surface: 'cli', what: 'extract --samples -3', expect: { exit: 2, stderr: 'samples' },
    cli: (fx, dir) => ['extract', '--model', fx.model, '--method', 'comprehension', '--samples', '-3', '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-extract-truncated-model', surface: 'cli', what: 'extract --model of a cut model', expect: { exit: 1, code: 'GGUF_TRUNCATED' },
    setup: (fx, dir) => mutate(fx.model, dir, 'm.gguf', (b) => b.subarray(0, b.length - 64)),
    cli: (fx, dir) => ['extract', '--model', join(dir, 'm.gguf'), '--method', 'comprehension', '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-extract-bad-stimuli', surface: 'cli', what: 'extract --stimuli of a broken JSON file', expect: { exit: 2, code: 'INVALID_ARGUMENT' },
    setup: (fx, dir) => writeFileSync(join(dir, 's.json'), '{"emotions": ['),
    cli: (fx, dir) => ['extract', '--model', fx.model, '--method', 'comprehension', '--stimuli', join(dir, 's.json'), '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-extract-bad-stimuli-jsonl', surface: 'cli', what: 'extract --stimuli of a JSONL file with an unknown key', expect: { exit: 2, code: 'INVALID_ARGUMENT' },
    setup: (fx, dir) => writeFileSync(join(dir, 's.jsonl'), '{"emotion": "happy", "text": "x", "colour": 3}\n'),
    cli: (fx, dir) => ['extract', '--model', fx.model, '--method', 'comprehension', '--stimuli', join(dir, 's.jsonl'), '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-extract-missing-stimuli', surface: 'cli', what: 'extract --stimuli of a missing file', expect: { exit: 1, code: 'FILE_NOT_FOUND' },
    cli: (fx, dir) => ['extract', '--model', fx.model, '--method', 'comprehension', '--stimuli', join(dir, 'none.json'), '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-export-no-args', surface: 'cli', what: 'export-gguf without a set folder', expect: { exit: 2, stderr: 'Usage' }, cli: () => ['export-gguf'] },
  { id: 'cli-export-corrupt-set', surface: 'cli', what: 'export-gguf of a set whose sha256 differs', expect: { exit: 1, code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, (m, out) => { const f = join(out, m.arrays.unit.file); const b = readFileSync(f); b[5] ^= 0x40; writeFileSync(f, b); }),
    cli: (fx, dir) => ['export-gguf', join(dir, 'set'), '--emotion', 'calm', '--out', join(dir, 'o.gguf')], outputs: (fx, dir) => [join(dir, 'o.gguf')] },
  { id: 'cli-export-unknown-emotion', surface: 'cli', what: 'export-gguf --emotion bored (not in the set)', expect: { exit: 2, code: 'INVALID_ARGUMENT' },
    cli: (fx, dir) => ['export-gguf', fx.set, '--emotion', 'bored', '--out', join(dir, 'o.gguf')], outputs: (fx, dir) => [join(dir, 'o.gguf')] },
  { id: 'cli-export-bad-layers', surface: 'cli', what: 'export-gguf --layers x-y', expect: { exit: 2, code: 'INVALID_ARGUMENT' },
    cli: (fx, dir) => ['export-gguf', fx.set, '--emotion', 'calm', '--layers', 'x-y', '--out', join(dir, 'o.gguf')], outputs: (fx, dir) => [join(dir, 'o.gguf')] },
  { id: 'cli-export-bad-strength', surface: 'cli', what: 'export-gguf --strength lots', expect: { exit: 2, code: 'INVALID_ARGUMENT' },
    cli: (fx, dir) => ['export-gguf', fx.set, '--emotion', 'calm', '--scale', 'lots', '--out', join(dir, 'o.gguf')], outputs: (fx, dir) => [join(dir, 'o.gguf')] },
  { id: 'cli-import-not-cv', surface: 'cli', what: 'import-gguf of a model GGUF', expect: { exit: 2, code: 'INVALID_ARGUMENT' },
    cli: (fx, dir) => ['import-gguf', fx.model, '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-import-garbage', surface: 'cli', what: 'import-gguf of a text file', expect: { exit: 1, code: 'NOT_GGUF' },
    setup: (fx, dir) => writeFileSync(join(dir, 'cv.gguf'), 'direction.1 = 0.5\n'),
    cli: (fx, dir) => ['import-gguf', join(dir, 'cv.gguf'), '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-import-truncated', surface: 'cli', what: 'import-gguf of a cut control-vector file', expect: { exit: 1, code: 'GGUF_TRUNCATED' },
    setup: (fx, dir) => mutate(fx.cv, dir, 'cv.gguf', (b) => b.subarray(0, Math.floor(b.length / 2))),
    cli: (fx, dir) => ['import-gguf', join(dir, 'cv.gguf'), '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-import-bad-convention', surface: 'cli', what: 'import-gguf --convention sideways', expect: { exit: 2, stderr: 'convention' },
    cli: (fx, dir) => ['import-gguf', fx.cv, '--convention', 'sideways', '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-import-no-out', surface: 'cli', what: 'import-gguf without --out', expect: { exit: 2, stderr: 'Usage' }, cli: (fx) => ['import-gguf', fx.cv] },
  { id: 'cli-evaluate-missing-dir', surface: 'cli', what: 'evaluate of a missing run folder', expect: { exit: 1, code: 'FILE_NOT_FOUND' }, cli: (fx, dir) => ['evaluate', join(dir, 'none')] },
  { id: 'cli-evaluate-empty-dir', surface: 'cli', what: 'evaluate of an empty folder', expect: { exit: 2, code: 'INVALID_ARGUMENT' },
    setup: (fx, dir) => mkdirSync(join(dir, 'run')), cli: (fx, dir) => ['evaluate', join(dir, 'run')] },
  { id: 'cli-evaluate-corrupt-set', surface: 'cli', what: 'evaluate of a run whose set has a wrong sha256', expect: { exit: 1, code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, (m, out) => { const f = join(out, m.arrays.means.file); const b = readFileSync(f); b[1] ^= 1; writeFileSync(f, b); }),
    cli: (fx, dir) => ['evaluate', join(dir, 'set')] },
  { id: 'cli-evaluate-edited-manifest', surface: 'cli', what: 'evaluate of a run whose manifest lost its arrays', expect: { exit: 1, code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, (m) => { m.arrays = 7; }), cli: (fx, dir) => ['evaluate', join(dir, 'set')] },
  { id: 'cli-evaluate-bad-folds', surface: 'cli', what: 'evaluate --folds zero', expect: { exit: 2, code: 'INVALID_ARGUMENT' },
    setup: (fx, dir) => editedSet(fx, dir, () => undefined), cli: (fx, dir) => ['evaluate', join(dir, 'set'), '--folds', 'zero'],
    outputs: (fx, dir) => [join(dir, 'set', 'anisotropy.json')] },
  { id: 'cli-steer-missing-dir', surface: 'cli', what: 'steer of a missing run folder', expect: { exit: 1, code: 'FILE_NOT_FOUND' }, cli: (fx, dir) => ['steer', join(dir, 'none')] },
  { id: 'cli-steer-model-moved', surface: 'cli', what: 'steer of a set whose model is not at its recorded path', expect: { exit: 1, code: 'FILE_NOT_FOUND' },
    setup: (fx, dir) => editedSet(fx, dir, (m) => { m.model.path = join(dir, 'moved.gguf'); }), cli: (fx, dir) => ['steer', join(dir, 'set')] },
  { id: 'cli-steer-bad-strengths', surface: 'cli', what: 'steer --strengths -1', expect: { exit: 2, code: 'INVALID_ARGUMENT' },
    cli: (fx) => ['steer', fx.set, '--model', fx.model, '--strengths=-1'] },
  { id: 'cli-steer-unknown-flag', surface: 'cli', what: 'steer --strenghts 2 (typo)', expect: { exit: 2, stderr: 'Unknown option' }, cli: (fx) => ['steer', fx.set, '--strenghts', '2'] },
  { id: 'cli-report-no-dir', surface: 'cli', what: 'report without a run folder', expect: { exit: 2, stderr: 'Usage' }, cli: () => ['report'] },
  { id: 'cli-report-missing-dir', surface: 'cli', what: 'report of a missing run folder', expect: { exit: 1, code: 'FILE_NOT_FOUND' },
    cli: (fx, dir) => ['report', join(dir, 'none'), '--out', join(dir, 'r.html')], outputs: (fx, dir) => [join(dir, 'r.html')] },
  { id: 'cli-bench-garbage-model', surface: 'cli', what: 'bench --model of a text file', expect: { exit: 1, code: 'NOT_GGUF' },
    setup: (fx, dir) => writeFileSync(join(dir, 'x.gguf'), 'not a model'), cli: (fx, dir) => ['bench', '--model', join(dir, 'x.gguf'), '--parts', 'core', '--rounds', '1', '--reps', '1'] },
  { id: 'cli-study-no-models', surface: 'cli', what: 'study without --models', expect: { exit: 2, stderr: '--models' }, cli: (fx, dir) => ['study', '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-study-unknown-model', surface: 'cli', what: 'study --models of neither a registry name nor a file', expect: { exit: 2, stderr: 'neither a registry model' },
    cli: (fx, dir) => ['study', '--models', 'no-such-model', '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-study-bad-methods', surface: 'cli', what: 'study --methods telepathy', expect: { exit: 2, stderr: '--methods' },
    cli: (fx, dir) => ['study', '--models', fx.model, '--methods', 'telepathy', '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-study-bad-quantization', surface: 'cli', what: 'study --quantizations q9_9', expect: { exit: 2, code: 'INVALID_ARGUMENT' },
    cli: (fx, dir) => ['study', '--models', fx.model, '--quantizations', 'q9_9', '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-study-twice', surface: 'cli', what: 'study --models listing one model twice', expect: { exit: 2, stderr: 'listed twice' },
    cli: (fx, dir) => ['study', '--models', `${fx.model},${fx.model}`, '--out', join(dir, 'out')], outputs: (fx, dir) => [join(dir, 'out')] },
  { id: 'cli-models-unknown', surface: 'cli', what: 'models fetch of an unknown name', expect: { exit: 2, stderr: 'no-such-model' }, cli: () => ['models', 'fetch', 'no-such-model'] },
  { id: 'cli-models-bad-sub', surface: 'cli', what: 'models frobnicate', expect: { exit: 2 }, cli: () => ['models', 'frobnicate'] },
  { id: 'cli-serve-no-model', surface: 'cli', what: 'serve without --model', expect: { exit: 2, code: 'INVALID_ARGUMENT' }, cli: () => ['serve'] },
  { id: 'cli-serve-bad-port', surface: 'cli', what: 'serve --port 99999', expect: { exit: 2, code: 'INVALID_ARGUMENT' }, cli: (fx) => ['serve', '--model', fx.model, '--port', '99999'] },
  { id: 'cli-serve-bad-parallel', surface: 'cli', what: 'serve --parallel zero', expect: { exit: 2, code: 'INVALID_ARGUMENT' }, cli: (fx) => ['serve', '--model', fx.model, '--parallel', 'zero'] },
  { id: 'cli-serve-garbage-model', surface: 'cli', what: 'serve --model of a text file', expect: { exit: 1, code: 'NOT_GGUF' },
    setup: (fx, dir) => writeFileSync(join(dir, 'x.gguf'), 'not a model'), cli: (fx, dir) => ['serve', '--model', join(dir, 'x.gguf'), '--port', '0'] },
  { id: 'cli-serve-corrupt-vectors', surface: 'cli', what: 'serve --vectors of a set with a wrong sha256', expect: { exit: 1, code: 'VECTOR_SET_CORRUPT' },
    setup: (fx, dir) => editedSet(fx, dir, (m, out) => { const f = join(out, m.arrays.vectors.file); const b = readFileSync(f); b[9] ^= 2; writeFileSync(f, b); }),
    cli: (fx, dir) => ['serve', '--model', fx.model, '--vectors', join(dir, 'set'), '--port', '0', '--threads', '1'] },
  { id: 'cli-doctor-no-model', surface: 'cli', what: 'doctor without --model', expect: { exit: 2, stderr: '--model is required' }, cli: () => ['doctor'] },
  { id: 'cli-doctor-garbage', surface: 'cli', what: 'doctor --model of a text file', expect: { exit: 1, code: 'NOT_GGUF' },
    setup: (fx, dir) => writeFileSync(join(dir, 'x.gguf'), 'not a model'), cli: (fx, dir) => ['doctor', '--model', join(dir, 'x.gguf')] },
  { id: 'cli-doctor-bad-layer', surface: 'cli', what: 'doctor --layer x', expect: { exit: 2, code: 'INVALID_ARGUMENT' }, cli: (fx) => ['doctor', '--model', fx.model, '--layer', 'x'] },
  { id: 'cli-doctor-layer-0', surface: 'cli', what: 'doctor --layer 0 (block 0 cannot be steered: a failed check)', expect: { exit: 1, stderr: '' },
    cli: (fx) => ['doctor', '--model', fx.model, '--layer', '0'] },
  { id: 'cli-quantize-no-type', surface: 'cli', what: 'quantize without --type', expect: { exit: 2 },
    cli: (fx, dir) => ['quantize', fx.model, '--out', join(dir, 'q.gguf')], outputs: (fx, dir) => [join(dir, 'q.gguf')] },
  { id: 'cli-quantize-bad-type', surface: 'cli', what: 'quantize --type q9_9', expect: { exit: 2, code: 'INVALID_ARGUMENT' },
    cli: (fx, dir) => ['quantize', fx.model, '--type', 'q9_9', '--out', join(dir, 'q.gguf')], outputs: (fx, dir) => [join(dir, 'q.gguf')] },
  { id: 'cli-quantize-garbage', surface: 'cli', what: 'quantize of a text file', expect: { exit: 1, code: 'NOT_GGUF' },
    setup: (fx, dir) => writeFileSync(join(dir, 'x.gguf'), 'not a model'),
    cli: (fx, dir) => ['quantize', join(dir, 'x.gguf'), '--type', 'q8_0', '--out', join(dir, 'q.gguf')], outputs: (fx, dir) => [join(dir, 'q.gguf')] },
  { id: 'cli-run-no-out', surface: 'cli', what: 'run without --out', expect: { exit: 2 }, cli: (fx) => ['run', '--model', fx.model] },
  { id: 'cli-run-missing-model', surface: 'cli', what: 'run --model of a missing file (a path: FILE_NOT_FOUND, as for every command)', expect: { exit: 1, code: 'FILE_NOT_FOUND' },
    cli: (fx, dir) => ['run', '--model', join(dir, 'none.gguf'), '--out', join(dir, 'out'), '--quick'], outputs: (fx, dir) => [join(dir, 'out')] },

  // ---------------------------------------------------------------- HTTP server
  { id: 'http-malformed-json', surface: 'http', what: 'POST /v1/chat/completions with a cut JSON body', expect: { status: 400, error: 'invalid_json' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: '{"messages": [{"role": "user", "content": "hi"' } },
  { id: 'http-empty-body', surface: 'http', what: 'POST /v1/chat/completions with an empty JSON body', expect: { status: 400, error: 'invalid_json' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: '' } },
  { id: 'http-body-array', surface: 'http', what: 'POST /v1/chat/completions with a JSON array', expect: { status: 400, error: 'invalid_request' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: '[1, 2, 3]' } },
  { id: 'http-messages-string', surface: 'http', what: 'messages: "hi" (not a list)', expect: { status: 400, error: 'invalid_request' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: JSON.stringify({ messages: 'hi' }) } },
  { id: 'http-messages-empty', surface: 'http', what: 'messages: []', expect: { status: 400, error: 'invalid_request' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: JSON.stringify({ messages: [] }) } },
  { id: 'http-role-unknown', surface: 'http', what: "a message with role 'wizard'", expect: { status: 400, error: 'invalid_request' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: JSON.stringify({ messages: [{ role: 'wizard', content: 'x' }] }) } },
  { id: 'http-max-tokens-string', surface: 'http', what: 'max_tokens: "5"', expect: { status: 400, error: 'invalid_request' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: chat({ max_tokens: '5' }) } },
  { id: 'http-max-tokens-zero', surface: 'http', what: 'max_tokens: 0', expect: { status: 400, error: 'invalid_request' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: chat({ max_tokens: 0 }) } },
  { id: 'http-temperature', surface: 'http', what: 'temperature: -1', expect: { status: 400, error: 'invalid_request' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: chat({ temperature: -1 }) } },
  { id: 'http-n-17', surface: 'http', what: 'n: 17 (16 choices at most)', expect: { status: 400, error: 'invalid_request' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: chat({ n: 17 }) } },
  { id: 'http-unknown-field', surface: 'http', what: 'an unknown top-level field (refused by name: no field is ignored silently)', expect: { status: 400, error: 'unsupported_field' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: chat({ frobnicate: { deep: [1, 2] } }) } },
  { id: 'http-huge-body', surface: 'http', what: 'a 2 MiB body (over the 64 KiB limit)', expect: { status: 413, error: 'body_too_large' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: chat({ pad: 'x'.repeat(2 * 1024 * 1024) }) } },
  { id: 'http-content-type', surface: 'http', what: 'Content-Type text/plain (parsed as a string, fails the schema)', expect: { status: 400, error: 'invalid_request' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'text/plain' }, body: chat() } },
  { id: 'http-invalid-utf8', surface: 'http', what: 'a body with invalid UTF-8 inside a string', expect: { status: 200, ok: true },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: Buffer.concat([Buffer.from('{"messages":[{"role":"user","content":"a'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}],"max_tokens":2}')]) } },
  { id: 'http-deep-nesting', surface: 'http', what: 'JSON nested 5,000 deep', expect: { status: 400 },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: `{"messages":[{"role":"user","content":"x"}],"x":${'['.repeat(5000)}${']'.repeat(5000)}}` } },
  { id: 'http-steering-unknown-emotion', surface: 'http', what: "steering emotion 'bored' (not in the set)", expect: { status: 400 },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: chat({ steering: [{ emotion: 'bored', strength: 2 }] }) } },
  { id: 'http-steering-width', surface: 'http', what: 'steering vector of 3 values on a 64-wide model', expect: { status: 400, error: 'vector_width_mismatch' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: chat({ steering: [{ vector: [1, 2, 3], strength: 1 }] }) } },
  { id: 'http-steering-layers', surface: 'http', what: 'steering layers [0, 99]', expect: { status: 400 },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: chat({ steering: [{ emotion: 'calm', strength: 2, layers: [0, 99] }] }) } },
  { id: 'http-steering-no-strength', surface: 'http', what: 'steering item without strength', expect: { status: 400, error: 'invalid_request' },
    http: { method: 'POST', path: '/v1/chat/completions', headers: jsonHeaders, body: chat({ steering: [{ emotion: 'calm' }] }) } },
  { id: 'http-prompt-too-long', surface: 'http', what: 'a prompt longer than the context per request', expect: { status: 400, error: 'prompt_too_long' },
    http: { method: 'POST', path: '/v1/completions', headers: jsonHeaders, body: JSON.stringify({ prompt: 'y'.repeat(2000), max_tokens: 2 }) } },
  { id: 'http-completion-prompt-number', surface: 'http', what: 'completions prompt: 42', expect: { status: 400, error: 'invalid_request' },
    http: { method: 'POST', path: '/v1/completions', headers: jsonHeaders, body: JSON.stringify({ prompt: 42 }) } },
  { id: 'http-activations-layers', surface: 'http', what: 'activations layers [99]', expect: { status: 400 },
    http: { method: 'POST', path: '/v1/activations', headers: jsonHeaders, body: JSON.stringify({ input: 'hi', layers: [99] }) } },
  { id: 'http-unknown-route', surface: 'http', what: 'POST /v1/engines', expect: { status: 404, error: 'not_found' },
    http: { method: 'POST', path: '/v1/engines', headers: jsonHeaders, body: '{}' } },
  { id: 'http-wrong-method', surface: 'http', what: 'GET /v1/chat/completions', expect: { status: 404, error: 'not_found' },
    http: { method: 'GET', path: '/v1/chat/completions' } },
  { id: 'http-slow-client', surface: 'http', what: 'a client sends half its body and stalls: others are served meanwhile, the server keeps going after it hangs up', expect: { status: 200, ok: true },
    http: { custom: 'slow-client' } },
];
