// The server's `steering` field beyond fixed components (lib/server/steering-rules.ts): strength
// 'auto' from a set's calibration, and conditional rules decided by the emotion meter. Greedy
// HTTP completions are compared with the same steering run in process on the same model, and a
// rule's threshold is planted between two readings measured beforehand, so the test knows the
// exact token at which the rule must switch on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmotionVectorSet, loadModel, type BlockProbe, type Context, type Model, type Steering } from '../../lib/index.js';
import { createServer, type EmosteerServer } from '../../lib/server/server.js';
import { conditionalSteering } from '../../lib/steer/conditional-steering.js';
import { EmotionMeter } from '../../lib/steer/emotion-meter.js';
import { CALIBRATION_VERSION, type StrengthCalibration } from '../../lib/vectors/strength-calibration.js';
import { randomVector, syntheticModel } from '../helpers/models.js';

const EMBD = 64;
const LAYERS = 4;
const EMOTIONS = ['calm', 'angry', 'happy', 'sad'];
const N = 24;
const PROMPT = 'The storm broke the windows and';

function calibration(strengths: Record<string, number | null>): StrengthCalibration {
  return {
    version: CALIBRATION_VERSION, createdAt: new Date(0).toISOString(), model: { sha256: '', description: 'synthetic' },
    bound: { maxKl: 0.3, minSameTop1: 0.7 }, judge: 'planted', params: {}, seconds: 0,
    emotions: Object.fromEntries(Object.entries(strengths).map(([e, s]) => [e, { strength: s, reason: 'planted', points: [] }])),
  };
}

describe('emosteer serve: strength auto and conditional steering rules', () => {
  let model: Model;
  let server: EmosteerServer;
  let url: string;
  let dir: string;
  let set: EmotionVectorSet;
  let ctx: Context;
  const vector = Array.from(randomVector(EMBD, 9, 3));
  const then: Steering = { components: [{ vector, strength: 1, layers: [1, 1] }], positions: 'generated' };

  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: LAYERS, embd: EMBD, seed: 31 }));
    dir = mkdtempSync(join(tmpdir(), 'emosteer-rules-'));
    const { path, arch, description, nLayer, nEmbd, quantization, nParams } = model.info;
    const vectors = new Map(EMOTIONS.map((e, i) => [e, new Map(Array.from({ length: LAYERS }, (_, l) => [l, randomVector(EMBD, 500 + 10 * i + l, 3)] as [number, Float32Array]))]));
    const made = EmotionVectorSet.fromVectors({ method: 'synthetic', model: { path, sha256: '', arch, description, nLayer, nEmbd, quantization, nParams }, params: {} }, vectors);
    await made.save(join(dir, 'cal'));
    await made.save(join(dir, 'plain'));
    await EmotionVectorSet.saveCalibration(join(dir, 'cal'), calibration({ calm: 0.5, sad: null }));
    set = await EmotionVectorSet.load(join(dir, 'cal'));
    server = await createServer(model, { vectors: [`cal=${join(dir, 'cal')}`, `plain=${join(dir, 'plain')}`], parallel: 2, contextPerRequest: 256, threads: 2 });
    url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    ctx = await model.createContext({ contextSize: 256, threads: 2 });
  });
  afterAll(async () => {
    await ctx?.dispose();
    await server?.close();
    model?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const complete = async (extra: Record<string, unknown>) => {
    const res = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: PROMPT, max_tokens: N, temperature: 0, ignore_eos: true, ...extra }) });
    return { status: res.status, body: await res.json() as { choices: { text: string }[]; error?: { code: string; param: string | null; message: string } } };
  };
  const text = async (extra: Record<string, unknown>) => {
    const r = await complete(extra);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.choices[0]!.text;
  };
  /** The default meter of the set, recording its 'angry' readings: [prompt's last token, token 0, ...]. */
  const recording = (seen: number[]): BlockProbe => {
    const meter = new EmotionMeter(set);
    return { layer: meter.layer, read: (a: Float32Array) => { const r = meter.read(a); seen.push(r.angry!); return r; } };
  };

  it("GET /v1/steering lists the calibrated strengths; 'auto' and { auto: f } steer as the numbers they stand for", async () => {
    const list = await (await fetch(`${url}/v1/steering`)).json() as { sets: { name: string; calibrated: Record<string, number> | null }[] };
    expect(list.sets.map((s) => [s.name, s.calibrated])).toEqual([['cal', { calm: 0.5 }], ['plain', null]]);
    const auto = await text({ steering: [{ emotion: 'calm', strength: 'auto', set: 'cal' }] });
    const half = await text({ steering: [{ emotion: 'calm', strength: 0.5, set: 'cal' }] });
    const twice = await text({ steering: [{ emotion: 'calm', strength: { auto: 2 }, set: 'cal' }] });
    const one = await text({ steering: [{ emotion: 'calm', strength: 1, set: 'cal' }] });
    const plain = await text({});
    expect(auto).toBe(half);
    expect(twice).toBe(one);
    expect(one).not.toBe(plain);
    // without a calibration, for an emotion with none, for a raw vector: a 400 naming the item
    const bad = [
      [{ steering: [{ emotion: 'calm', strength: 0.1 }, { emotion: 'calm', strength: 'auto', set: 'plain' }] }, 'not_calibrated', 'steering[1]', /emosteer calibrate/],
      [{ steering: [{ emotion: 'sad', strength: 'auto', set: 'cal' }] }, 'not_calibrated', 'steering[0]', /no strength of the calibration grid passed/],
      [{ steering: [{ vector, strength: 'auto' }] }, 'invalid_request', 'steering[0]', /raw vector/],
      [{ steering: [{ emotion: 'calm', strength: { auto: 1, x: 1 }, set: 'cal' }] }, 'invalid_request', null, /must/],
    ] as const;
    for (const [body, code, param, message] of bad) {
      const r = await complete(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error!.code).toBe(code);
      if (param !== null) expect(r.body.error!.param).toBe(param);
      expect(r.body.error!.message).toMatch(message);
    }
  });

  it("a 'reply' rule switches on at the token whose reading first crosses the threshold, as in process", async () => {
    const seen: number[] = [];
    const plain = await ctx.generateText(PROMPT, { maxTokens: N, probe: recording(seen), stopOnEog: false, temperature: 0 });
    expect(await text({})).toBe(plain.text);
    let j = -1;
    for (let i = 2; i < N - 4; i++) if (seen[i]! > Math.max(...seen.slice(0, i))) { j = i; break; }
    expect(j).toBeGreaterThan(1);
    const above = (Math.max(...seen.slice(0, j)) + seen[j]!) / 2;
    const rule = { when: { emotion: 'angry', above, set: 'cal' }, then: { vector, strength: 1, layers: [1, 1] }, hold: 1000 };
    const http = await text({ steering: [rule] });
    const inProcess = await ctx.generateText(PROMPT, { maxTokens: N, probe: recording([]), stopOnEog: false, temperature: 0, steering: conditionalSteering({ when: { emotion: 'angry', above }, then, hold: 1000 }) });
    expect(http).toBe(inProcess.text);
    expect(http).not.toBe(plain.text);
    // tokens 0..j are those of the unsteered reply: the rule read them before switching on
    expect(inProcess.tokens.slice(0, j + 1)).toEqual(plain.tokens.slice(0, j + 1));
    // a threshold no reading reaches leaves the reply unsteered; with a fixed component, only it steers
    expect(await text({ steering: [{ ...rule, when: { emotion: 'angry', above: 2, set: 'cal' } }] })).toBe(plain.text);
    const fixed = { emotion: 'happy', strength: 0.5, set: 'cal' };
    expect(await text({ steering: [fixed, { ...rule, when: { emotion: 'angry', above: 2, set: 'cal' } }] })).toBe(await text({ steering: [fixed] }));
    // with meter on, the streamed readings are the meter's and the rule reads the same meter
    const metered = await complete({ steering: [rule], meter: 'cal' });
    expect(metered.status).toBe(200);
    expect(metered.body.choices[0]!.text).toBe(http);
  });

  it("a 'prompt' rule decides once from the prompt's last token", async () => {
    const seen: number[] = [];
    await ctx.generateText(PROMPT, { maxTokens: 2, probe: recording(seen), stopOnEog: false, temperature: 0 });
    const r0 = seen[0]!;
    const rule = (above: number) => ({ when: { emotion: 'angry', above, set: 'cal' }, then: [{ vector, strength: 1, layers: [1, 1] }], for: 'prompt' });
    const on = await text({ steering: [rule(r0 - 1e-3)] });
    const off = await text({ steering: [rule(r0 + 1e-3)] });
    expect(on).toBe(await text({ steering: [{ vector, strength: 1, layers: [1, 1], positions: 'generated' }] }));
    expect(off).toBe(await text({}));
    expect(on).not.toBe(off);
  });

  it('malformed rules are refused with the item named', async () => {
    const rule = { when: { emotion: 'angry', above: 0.1 }, then: { emotion: 'calm', strength: 0.1 } };
    const cases = [
      [[{ ...rule, when: { emotion: 'furious', above: 0.1 } }], 'steering[0].when.emotion'],
      [[{ ...rule, when: { emotion: 'angry', above: 0.1, block: 1 } }], 'steering[0].when', { meter: true }],
      [[{ ...rule, when: { emotion: 'angry', above: 0.1, release: 0.5 } }], 'steering[0]'],
      [[{ ...rule, then: { emotion: 'calm', strength: 0.1, layers: [0, 9] } }], 'steering[0].then'],
      [[rule, { ...rule, when: { emotion: 'angry', above: 0.1, set: 'plain' } }], 'steering[1].when'],
      [[{ ...rule, when: { emotion: 'angry', above: 0.1, below: 0 } }], null],
      [[{ ...rule, then: { emotion: 'calm', strength: 0.1, positions: 'prompt' } }], null],
    ] as const;
    for (const [steering, param, extra] of cases) {
      const r = await complete({ steering, ...(extra ?? {}) });
      expect(r.status, JSON.stringify(steering)).toBe(400);
      if (param !== null) expect(r.body.error!.param, r.body.error!.message).toBe(param);
    }
  });
});
