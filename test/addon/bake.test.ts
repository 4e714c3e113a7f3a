// Baking steering into a model's weights (lib/models/bake-steering.ts): the baked model's
// block outputs equal the original model steered by the same vectors through llama.cpp's
// control vector, block by block, and its greedy text is identical; architectures without the
// exact slot are refused by name.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bakeSteering, extractComprehension, GgmlType, GgufWriter, loadModel, readGguf, steeringVectors, type Model } from '../../lib/index.js';
import { randomVector, relativeError, syntheticModel, tempPath } from '../helpers/models.js';

const EMBD = 64;
const LAYERS = 4;
const PROMPT = 'The lighthouse keeper climbed the stairs as the storm came in.';

describe('bakeSteering: a GGUF whose ffn_down bias carries the steering', () => {
  let path: string;
  let model: Model;
  const vectors = new Float32Array(LAYERS * EMBD);
  beforeAll(async () => {
    path = await syntheticModel({ layers: LAYERS, embd: EMBD, seed: 12 });
    model = await loadModel(path);
    vectors.set(randomVector(EMBD, 1, 0.8), 1 * EMBD);
    vectors.set(randomVector(EMBD, 2, 0.5), 3 * EMBD);
  });
  afterAll(() => model?.dispose());

  it('block outputs equal the control-vector run (every block, 1e-5) and greedy text is identical', async () => {
    const out = tempPath('baked.gguf');
    const r = await bakeSteering(path, out, { vectors, layers: [1, 3], description: 'two random vectors' });
    expect(r.blocks).toEqual([1, 3]);
    expect(r.addedToExisting).toEqual([]);
    const file = await readGguf(out);
    expect(file.tensors.find((t) => t.name === 'blk.1.ffn_down.bias')).toMatchObject({ type: GgmlType.F32, dims: [EMBD] });
    expect(file.tensors.find((t) => t.name === 'blk.2.ffn_down.bias')).toBeUndefined();
    expect(file.kv.get('emosteer.baked.description')?.value).toBe('two random vectors');

    const baked = await loadModel(out);
    const bctx = await baked.createContext({ contextSize: 256, threads: 2 });
    const sctx = await model.createContext({ contextSize: 256, threads: 2 });
    const pctx = await model.createContext({ contextSize: 256, threads: 2 });
    try {
      await sctx.setSteering(vectors, { layers: [1, 3] });
      const a = await sctx.evaluate(PROMPT, { capture: { layers: 'all', pooling: 'all' }, logits: true });
      const b = await bctx.evaluate(PROMPT, { capture: { layers: 'all', pooling: 'all' }, logits: true });
      const plain = await pctx.evaluate(PROMPT, { capture: { layers: 'all', pooling: 'all' }, logits: true });
      for (let l = 0; l < LAYERS; l++) expect(relativeError(a.activations!.get(l), b.activations!.get(l)), `block ${l}`).toBeLessThan(1e-5);
      expect(relativeError(a.logits!, b.logits!)).toBeLessThan(1e-5);
      // the check can fail: the steering moves the logits well beyond that tolerance
      expect(relativeError(a.logits!, plain.logits!)).toBeGreaterThan(1e-2);
      const ga = await sctx.generateText(PROMPT, { maxTokens: 16, stopOnEog: false });
      const gb = await bctx.generateText(PROMPT, { maxTokens: 16, stopOnEog: false });
      expect(gb.tokens).toEqual(ga.tokens);
    } finally {
      await bctx.dispose();
      await sctx.dispose();
      await pctx.dispose();
      baked.dispose();
    }
  });

  it('baking twice adds to the bias the first bake wrote; block 0 can be baked', async () => {
    const once = tempPath('baked-once.gguf');
    const twice = tempPath('baked-twice.gguf');
    const v0 = new Float32Array(LAYERS * EMBD);
    v0.set(randomVector(EMBD, 5, 0.3), 0);
    v0.set(randomVector(EMBD, 6, 0.3), 2 * EMBD);
    await bakeSteering(path, once, { vectors: v0, layers: [0, 2] });
    const r = await bakeSteering(once, twice, { vectors: v0, layers: [0, 2] });
    expect(r.addedToExisting).toEqual([0, 2]);
    const doubled = new Float32Array(v0).map((x) => 2 * x);
    const direct = tempPath('baked-doubled.gguf');
    await bakeSteering(path, direct, { vectors: doubled, layers: [0, 2] });
    const [m1, m2] = await Promise.all([loadModel(twice), loadModel(direct)]);
    const [c1, c2] = await Promise.all([m1.createContext({ contextSize: 128, threads: 2 }), m2.createContext({ contextSize: 128, threads: 2 })]);
    const [a, b] = [await c1.evaluate(PROMPT, { logits: true }), await c2.evaluate(PROMPT, { logits: true })];
    expect(relativeError(a.logits!, b.logits!)).toBeLessThan(1e-5);
    await c1.dispose(); await c2.dispose(); m1.dispose(); m2.dispose();
  });

  it('refuses other architectures by name, bad widths, ranges and non-finite values', async () => {
    const w = new GgufWriter();
    w.setString('general.architecture', 'gemma3');
    w.setU32('gemma3.block_count', LAYERS);
    w.setU32('gemma3.embedding_length', EMBD);
    w.addTensor('blk.0.ffn_down.weight', [EMBD, EMBD], GgmlType.F32, new Float32Array(EMBD * EMBD));
    const gemma = tempPath('fake-gemma3.gguf');
    await w.write(gemma);
    await expect(bakeSteering(gemma, tempPath('x.gguf'), { vectors, layers: [1, 3] })).rejects.toMatchObject({ code: 'ARCH_UNSUPPORTED', message: expect.stringContaining("'gemma3'") });
    await expect(bakeSteering(path, tempPath('y.gguf'), { vectors: new Float32Array(10), layers: [1, 3] })).rejects.toMatchObject({ code: 'VECTOR_WIDTH_MISMATCH' });
    await expect(bakeSteering(path, tempPath('y.gguf'), { vectors, layers: [1, LAYERS] })).rejects.toMatchObject({ code: 'LAYER_OUT_OF_RANGE' });
    const bad = new Float32Array(vectors);
    bad[EMBD + 3] = Number.NaN;
    await expect(bakeSteering(path, tempPath('y.gguf'), { vectors: bad, layers: [1, 3] })).rejects.toMatchObject({ code: 'NON_FINITE_VECTOR' });
    await expect(bakeSteering(path, path, { vectors, layers: [1, 3] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('emosteer bake (built dist/): an emotion of a saved set, the same as its norm-scaled steering; refuses a set of another model', async () => {
    const set = await extractComprehension(model, { emotions: ['happy', 'calm'], samples: 2, threads: 2 });
    const dir = tempPath('bake-set');
    await set.save(dir);
    const out = tempPath('bake-cli.gguf');
    const run = promisify(execFile);
    const r = await run(process.execPath, ['dist/cli/main.js', 'bake', '--model', path, '--set', dir, '--emotion', 'calm', '--strength', '0.3', '--out', out], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/baked into blocks 1, 2, 3/);
    const { vectors: v, layers } = steeringVectors(set, { emotion: 'calm', strength: 0.3 });
    const [baked, ref] = await Promise.all([loadModel(out), model.createContext({ contextSize: 128, threads: 2 })]);
    const bctx = await baked.createContext({ contextSize: 128, threads: 2 });
    await ref.setSteering(v, { layers });
    const [a, b] = [await ref.evaluate(PROMPT, { logits: true }), await bctx.evaluate(PROMPT, { logits: true })];
    // (W·h + b + v) + x against (W·h + b + x) + v: float sums in another order, ~1e-5 relative
    expect(relativeError(a.logits!, b.logits!)).toBeLessThan(1e-4);
    await ref.clearSteering();
    expect(relativeError(a.logits!, (await ref.evaluate(PROMPT, { logits: true })).logits!)).toBeGreaterThan(1e-2);
    await bctx.dispose(); await ref.dispose(); baked.dispose();
    const other = await syntheticModel({ layers: LAYERS, embd: EMBD, seed: 99 });
    const refused = await run(process.execPath, ['dist/cli/main.js', 'bake', '--model', other, '--set', dir, '--emotion', 'calm', '--strength', '0.3', '--out', tempPath('z.gguf')], { encoding: 'utf8' }).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(refused?.code).toBe(2); // INVALID_ARGUMENT: a usage error
    expect(refused?.stderr).toMatch(/not the model the set was extracted from/);
  });
});
