// Scale-out over llama.cpp's RPC backend, on loopback: a synthetic model whose layers live on a
// local `ggml-rpc-server` gives the same captures, steering (context-wide and per-sequence) and
// greedy tokens as the same model run in-process. Needs an addon with the RPC backend (the
// prebuild, or EMOSTEER_RPC=1) and `npm run build:rpc-server`; CI builds both, so under CI=1 a
// missing piece fails instead of skipping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmosteerError, loadModel, versions, type Context, type Model } from '../../lib/index.js';
// @ts-expect-error plain .mjs helper without types
import { freePort, rpcServerBinary, startRpcServer } from '../../scripts/rpc-server-process.mjs';
import { gemmaModel, randomVector, relativeError, syntheticModel } from '../helpers/models.js';

const EMBD = 64;
const LAYERS = 4;
const PROMPT = 'The lighthouse keeper climbed the stairs as the storm came in.';
/** CPU kernels on both sides, but the graph is split differently (remote layers vs local I/O). */
const TOL = 1e-5;

const bin: string | null = rpcServerBinary();
const hasRpc = versions().rpc;
const missing = !hasRpc ? 'the addon was built without the RPC backend (EMOSTEER_RPC=1 npm run build:native)'
  : !bin ? 'no rpc-server (npm run build:rpc-server)' : null;
if (missing && process.env.CI) throw new Error(`CI=1 but ${missing}`);

describe.skipIf(missing !== null)('model layers on a loopback rpc-server', () => {
  let server: { endpoint: string; stop(): Promise<unknown>; log(): string };
  let local: Model;
  let remote: Model;
  let lctx: Context;
  let rctx: Context;

  beforeAll(async () => {
    server = await startRpcServer({ threads: 1 });
    const path = await syntheticModel({ layers: LAYERS, embd: EMBD, seed: 21 });
    local = await loadModel(path);
    remote = await loadModel(path, { rpcServers: [server.endpoint] });
    lctx = await local.createContext({ contextSize: 256, sequences: 2, threads: 1 });
    rctx = await remote.createContext({ contextSize: 256, sequences: 2, threads: 1 });
  }, 60_000);
  afterAll(async () => {
    await rctx?.dispose();
    await lctx?.dispose();
    remote?.dispose();
    local?.dispose();
    await server?.stop();
  });

  it('the remote model really is on the RPC device', () => {
    expect(versions().backends).toContain('RPC');
    expect(remote.info.nLayer).toBe(LAYERS);
  });

  it('captures of every block and the logits equal the local run', async () => {
    const a = await lctx.evaluate(PROMPT, { capture: { pooling: 'all' }, logits: true });
    const b = await rctx.evaluate(PROMPT, { capture: { pooling: 'all' }, logits: true });
    expect(b.tokens).toEqual(a.tokens);
    expect(relativeError(a.logits!, b.logits!)).toBeLessThan(TOL);
    for (let l = 0; l < LAYERS; l++) expect(relativeError(a.activations!.get(l), b.activations!.get(l))).toBeLessThan(TOL);
  });

  it('context-wide steering (control vector on the remote device) equals the local run', async () => {
    const vs = Array.from({ length: LAYERS }, (_, l) => (l === 0 ? null : randomVector(EMBD, 40 + l, 0.5)));
    const plain = await lctx.evaluate(PROMPT, { logits: true });
    await lctx.setSteering(vs, { scale: 2, layers: [1, 3] });
    await rctx.setSteering(vs, { scale: 2, layers: [1, 3] });
    try {
      const a = await lctx.evaluate(PROMPT, { capture: { pooling: 'all' }, logits: true });
      const b = await rctx.evaluate(PROMPT, { capture: { pooling: 'all' }, logits: true });
      expect(relativeError(a.logits!, b.logits!)).toBeLessThan(TOL);
      for (let l = 0; l < LAYERS; l++) expect(relativeError(a.activations!.get(l), b.activations!.get(l))).toBeLessThan(TOL);
      expect(relativeError(a.logits!, plain.logits!)).toBeGreaterThan(1e-3); // the steering did something
    } finally {
      await lctx.clearSteering();
      await rctx.clearSteering();
    }
  });

  it('per-sequence steering in one batch (rows read and written over RPC) equals the local run', async () => {
    const steering = { vectors: new Map([[2, randomVector(EMBD, 7, 0.8)]]), layers: [2, 2] as [number, number] };
    const other = 'Quiet rain on the roof, tea on the stove.';
    const a = await lctx.evaluateBatch([PROMPT, other], { capture: { pooling: 'all' }, logits: true, steerings: [steering, null] });
    const b = await rctx.evaluateBatch([PROMPT, other], { capture: { pooling: 'all' }, logits: true, steerings: [steering, null] });
    for (let i = 0; i < 2; i++) {
      expect(relativeError(a[i]!.logits!, b[i]!.logits!)).toBeLessThan(TOL);
      for (let l = 0; l < LAYERS; l++) expect(relativeError(a[i]!.activations!.get(l), b[i]!.activations!.get(l))).toBeLessThan(TOL);
    }
  });

  it('greedy generation gives the same tokens, steered and not', async () => {
    const steering = { vectors: new Map([[1, randomVector(EMBD, 9, 1.5)]]) };
    for (const s of [undefined, steering]) {
      const a = await lctx.generateText('Once upon a time', { maxTokens: 24, temperature: 0, steering: s });
      const b = await rctx.generateText('Once upon a time', { maxTokens: 24, temperature: 0, steering: s });
      expect(b.tokens).toEqual(a.tokens);
    }
  });

  it('a layer split: gpuLayers 2 puts two blocks remote and the rest local, same captures', async () => {
    const split = await loadModel(await syntheticModel({ layers: LAYERS, embd: EMBD, seed: 21 }), { rpcServers: [server.endpoint], gpuLayers: 2 });
    const ctx = await split.createContext({ contextSize: 128, threads: 1 });
    try {
      const a = await lctx.evaluate(PROMPT, { capture: { pooling: 'all' }, logits: true });
      const b = await ctx.evaluate(PROMPT, { capture: { pooling: 'all' }, logits: true });
      expect(relativeError(a.logits!, b.logits!)).toBeLessThan(TOL);
      for (let l = 0; l < LAYERS; l++) expect(relativeError(a.activations!.get(l), b.activations!.get(l))).toBeLessThan(TOL);
    } finally {
      await ctx.dispose();
      split.dispose();
    }
  });

  const gemma = gemmaModel();
  it.skipIf(!gemma.path)('Gemma 3 270M (Q4_K_M) on the rpc-server is bit-identical to the local run with repack off: captures, steering, greedy tokens', async () => {
    // The server's CPU backend never repacks weights; the local default does (other kernels,
    // other rounding), so the exact comparison is against `repack: false` (bench/rpc-loopback.mjs
    // measures both).
    const lm = await loadModel(gemma.path!, { repack: false });
    const rm = await loadModel(gemma.path!, { rpcServers: [server.endpoint] });
    const lc = await lm.createContext({ contextSize: 256, threads: 1 });
    const rc = await rm.createContext({ contextSize: 256, threads: 1 });
    try {
      const a = await lc.evaluate(PROMPT, { capture: { layers: [3, 9, 17], pooling: 'all' }, logits: true });
      const b = await rc.evaluate(PROMPT, { capture: { layers: [3, 9, 17], pooling: 'all' }, logits: true });
      expect(relativeError(a.logits!, b.logits!)).toBe(0);
      for (const l of [3, 9, 17]) expect(relativeError(a.activations!.get(l), b.activations!.get(l))).toBe(0);
      const steering = { vectors: new Map([[9, randomVector(lm.nEmbd, 5, 2)]]) };
      const ga = await lc.generateText('Once upon a time', { maxTokens: 16, temperature: 0, steering });
      const gb = await rc.generateText('Once upon a time', { maxTokens: 16, temperature: 0, steering });
      expect(gb.tokens).toEqual(ga.tokens);
    } finally {
      await rc.dispose();
      await lc.dispose();
      rm.dispose();
      lm.dispose();
    }
  });

  it('bad endpoints get typed errors before ggml sees them (it would abort the process)', async () => {
    const path = await syntheticModel({ layers: 2, embd: 32, seed: 1 });
    const code = async (rpcServers: unknown) => {
      try {
        await loadModel(path, { rpcServers: rpcServers as string[] });
        return 'loaded';
      } catch (e) {
        return e instanceof EmosteerError ? e.code : String(e);
      }
    };
    expect(await code('127.0.0.1:1')).toBe('INVALID_ARGUMENT'); // not an array
    expect(await code(['localhost'])).toBe('INVALID_ARGUMENT'); // no port
    expect(await code(['[::1]:50052'])).toBe('INVALID_ARGUMENT'); // IPv6: ggml's client cannot parse it
    expect(await code(['127.0.0.1:70000'])).toBe('INVALID_ARGUMENT');
    expect(await code([server.endpoint, server.endpoint])).toBe('INVALID_ARGUMENT');
    // a port nobody listens on
    const port: number = await freePort();
    expect(await code([`127.0.0.1:${port}`])).toBe('RPC_UNREACHABLE');
    await expect(loadModel(path, { repack: 'no' as unknown as boolean })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
