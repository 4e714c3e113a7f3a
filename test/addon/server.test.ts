import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmotionVectorSet, loadModel, type Model } from '../../lib/index.js';
import { createServer, type EmosteerServer } from '../../lib/server/server.js';
import { randomVector, syntheticModel } from '../helpers/models.js';

const EMBD = 64;
const LAYERS = 4;
const EMOTIONS = ['calm', 'angry', 'happy', 'sad', 'afraid', 'proud', 'guilty', 'hopeful'];

/** A vector set for the synthetic model: one random direction per emotion and block. */
async function writeSet(model: Model, dir: string): Promise<void> {
  const vectors = new Map(EMOTIONS.map((e, i) => [e, new Map(Array.from({ length: LAYERS }, (_, l) => [l, randomVector(EMBD, 1000 + 10 * i + l, 3)] as [number, Float32Array]))]));
  const { path, arch, description, nLayer, nEmbd, quantization, nParams } = model.info;
  const set = EmotionVectorSet.fromVectors({ method: 'synthetic', model: { path, sha256: '', arch, description, nLayer, nEmbd, quantization, nParams }, params: {} }, vectors);
  await set.save(dir);
}

describe('emosteer serve: an OpenAI-compatible server with per-request steering', () => {
  let model: Model;
  let server: EmosteerServer;
  let url: string;
  let client: OpenAI;
  let dir: string;
  let modelPath: string;
  beforeAll(async () => {
    modelPath = await syntheticModel({ layers: LAYERS, embd: EMBD, seed: 5 });
    model = await loadModel(modelPath);
    dir = mkdtempSync(join(tmpdir(), 'emosteer-serve-'));
    await writeSet(model, join(dir, 'set'));
    server = await createServer(model, { vectors: [`emo=${join(dir, 'set')}`], parallel: 4, contextPerRequest: 256, threads: 2, bodyLimit: 64 * 1024 });
    url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.close();
    model?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const chat = (content: string, extra: Record<string, unknown> = {}) =>
    client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }], max_tokens: 12, temperature: 0.8, seed: 3, ...extra } as never) as unknown as Promise<OpenAI.Chat.Completions.ChatCompletion>;

  it('answers chat completions, streamed and not, with the same text for the same seed', async () => {
    const r = await chat('Tell me about the sea.');
    expect(r.object).toBe('chat.completion');
    expect(typeof r.choices[0]!.message.content).toBe('string');
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(r.choices[0]!.finish_reason);
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Tell me about the sea.' }], max_tokens: 12, temperature: 0.8, seed: 3, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe(r.choices[0]!.message.content);
    expect(finish).toBe(r.choices[0]!.finish_reason);
    expect(usage!.completion_tokens).toBe(r.usage!.completion_tokens);
  });

  it('text completions, /v1/models and /v1/steering', async () => {
    const c = await client.completions.create({ model: 'm', prompt: 'Once upon a time', max_tokens: 8, temperature: 0, stop: ['zzzz'] });
    expect(c.object).toBe('text_completion');
    expect(c.choices[0]!.text.length).toBeGreaterThan(0);
    const models = await client.models.list();
    expect(models.data[0]!.object).toBe('model');
    const steering = await (await fetch(`${url}/v1/steering`)).json() as { sets: { name: string; emotions: string[] }[] };
    expect(steering.sets[0]!.name).toBe('emo');
    expect(steering.sets[0]!.emotions).toEqual(EMOTIONS);
  });

  it('extra_body steering changes the text; eight concurrent clients with eight steerings (and one plain) each get exactly their text run alone', async () => {
    const plain = await chat('Write a line.', { max_tokens: 16 });
    const steered = await chat('Write a line.', { max_tokens: 16, steering: [{ emotion: 'angry', strength: 2 }] });
    expect(steered.choices[0]!.message.content).not.toBe(plain.choices[0]!.message.content);
    const bodies = [...EMOTIONS.map((e, i) => ({ max_tokens: 10 + i, seed: 20 + i, steering: [{ emotion: e, strength: 1 + i / 4 }] })), { max_tokens: 14, seed: 99 }];
    const together = await Promise.all(bodies.map((b) => chat('Write a line.', b)));
    for (let i = 0; i < bodies.length; i++) {
      const alone = await chat('Write a line.', bodies[i]!);
      expect(together[i]!.choices[0]!.message.content).toBe(alone.choices[0]!.message.content);
      expect(together[i]!.usage!.completion_tokens).toBe(alone.usage!.completion_tokens);
    }
    // raw vectors and block ranges work too
    const raw = await chat('Write a line.', { max_tokens: 16, steering: [{ vector: Array.from(randomVector(EMBD, 5, 3)), strength: 1, layers: [2, 3] }] });
    expect(raw.choices[0]!.message.content).not.toBe(plain.choices[0]!.message.content);
  });

  it('meter: every streamed chunk carries the emotion reading of its token', async () => {
    // cache_prompt: false: a prompt reused from the cache gives the same tokens, but its last
    // token is decoded alone rather than inside the prompt's batch, so readings may differ in
    // the last bits; this test compares readings exactly.
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 6, temperature: 0, stream: true, meter: true, cache_prompt: false }),
    });
    const events = (await res.text()).split('\n\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)));
    const tokens = events.filter((e) => e.meter);
    const plain = await (await fetch(`${url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 6, temperature: 0, meter: true, cache_prompt: false }),
    })).json() as { usage: { completion_tokens: number }; meter: { text: string; emotions: Record<string, number> }[] };
    expect(tokens.length).toBe(plain.usage.completion_tokens);
    expect(plain.meter.length).toBe(plain.usage.completion_tokens);
    expect(tokens.length).toBeGreaterThan(0);
    for (const t of tokens) {
      expect(Object.keys(t.meter.emotions)).toEqual(EMOTIONS);
      expect(EMOTIONS).toContain(t.meter.top);
    }
    expect(tokens.map((t) => t.meter.emotions)).toEqual(plain.meter.map((m) => m.emotions));
  });

  it('POST /v1/activations returns the pooled block outputs of a prompt (base64 and JSON)', async () => {
    const ctx = await model.createContext({ contextSize: 256, threads: 2 });
    try {
      const local = await ctx.evaluate('The cat sat.', { capture: { layers: [1, 3], pooling: 'mean' } });
      const b64 = await (await fetch(`${url}/v1/activations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'The cat sat.', layers: [1, 3], pooling: 'mean', encoding_format: 'base64' }) })).json() as { data: { layer: number; embedding: string }[] };
      const json = await (await fetch(`${url}/v1/activations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'The cat sat.', layers: [1, 3], pooling: 'mean' }) })).json() as { data: { layer: number; embedding: number[] }[] };
      expect(b64.data.map((d) => d.layer)).toEqual([1, 3]);
      for (const [k, layer] of [1, 3].entries()) {
        const buf = Buffer.from(b64.data[k]!.embedding, 'base64');
        const v = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
        expect(Array.from(v)).toEqual(Array.from(local.activations!.get(layer)));
        expect(json.data[k]!.embedding).toEqual(Array.from(local.activations!.get(layer)));
      }
    } finally {
      await ctx.dispose();
    }
  });

  it('bad input gets the OpenAI error shape with a 4xx status, and the server stays up', async () => {
    const post = async (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => {
      const r = await fetch(`${url}${path}`, { method: 'POST', headers, body });
      return { status: r.status, body: await r.json() as { error: { message: string; type: string; code: string; param: string | null } } };
    };
    const msg = (extra: object) => JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4, ...extra });
    const cases: [string, string, number, string][] = [
      ['malformed JSON', '{"messages": [', 400, 'invalid_json'],
      ['missing messages', '{}', 400, 'invalid_request'],
      ['wrong type', JSON.stringify({ messages: 'hi' }), 400, 'invalid_request'],
      ['unknown emotion', msg({ steering: [{ emotion: 'bored', strength: 1 }] }), 400, 'unknown_emotion'],
      ['unknown set', msg({ steering: [{ emotion: 'calm', set: 'nope', strength: 1 }] }), 400, 'unknown_vector_set'],
      ['wrong vector width', msg({ steering: [{ vector: [1, 2, 3], strength: 1 }] }), 400, 'vector_width_mismatch'],
      ['block out of range', msg({ steering: [{ emotion: 'calm', strength: 1, layers: [1, 9] }] }), 400, 'layer_out_of_range'],
      ['block 0', msg({ steering: [{ emotion: 'calm', strength: 1, layers: [0, 2] }] }), 400, 'layer_out_of_range'],
      ['infinite strength', msg({ steering: [{ emotion: 'calm', strength: 1 }] }).replace('"strength":1', '"strength":1e999'), 400, 'invalid_request'],
      ['NaN as a string', msg({ steering: [{ emotion: 'calm', strength: 'NaN' }] }), 400, 'invalid_request'],
      ['too many tokens asked', msg({ max_tokens: 100000 }), 400, 'max_tokens_too_large'],
      ['prompt longer than the context', JSON.stringify({ messages: [{ role: 'user', content: 'word '.repeat(400) }], max_tokens: 4 }), 400, 'prompt_too_long'],
      ['body too large', JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] }), 413, 'body_too_large'],
      ['n > 16', msg({ n: 17 }), 400, 'invalid_request'],
    ];
    for (const [name, body, status, code] of cases) {
      const r = await post('/v1/chat/completions', body);
      expect({ name, status: r.status, code: r.body.error?.code }).toEqual({ name, status, code });
      expect(typeof r.body.error.message).toBe('string');
      expect(r.body.error.type).toBe('invalid_request_error');
    }
    // a runtime error about one steering item names that item
    const second = await post('/v1/chat/completions', msg({ steering: [{ emotion: 'calm', strength: 1 }, { vector: [1, 2, 3], strength: 1 }] }));
    expect(second.body.error).toMatchObject({ code: 'vector_width_mismatch', param: 'steering[1]' });
    const activ = await post('/v1/activations', JSON.stringify({ input: 'x', layers: [99] }));
    expect(activ.status).toBe(400);
    expect(activ.body.error.code).toBe('layer_out_of_range');
    const missing = await fetch(`${url}/v1/nothing`);
    expect(missing.status).toBe(404);
    // the openai client surfaces the same as typed errors
    await expect(chat('Hi', { steering: [{ emotion: 'bored', strength: 1 }] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    // still serving
    expect((await chat('Hi')).choices.length).toBe(1);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/emosteer_requests_total\{route="\/v1\/chat\/completions",status="400"\} \d+/);
    expect(metrics).toMatch(/emosteer_generated_tokens_total \d+/);
    expect(metrics).toMatch(/emosteer_queue_depth 0/);
  });

  it('with an API key, requests without the bearer key get 401; /health stays open', async () => {
    const keyed = await createServer(model, { parallel: 1, contextPerRequest: 128, threads: 2, apiKey: 'sekret' });
    const u = await keyed.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const bad = new OpenAI({ baseURL: `${u}/v1`, apiKey: 'wrong', maxRetries: 0 });
      await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
      const none = await fetch(`${u}/v1/models`);
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
      expect((await fetch(`${u}/health`)).status).toBe(200);
      const good = new OpenAI({ baseURL: `${u}/v1`, apiKey: 'sekret', maxRetries: 0 });
      expect((await good.models.list()).data.length).toBe(1);
    } finally {
      await keyed.close();
    }
  });

  it('the CLI binds 127.0.0.1, serves, and on SIGINT finishes the in-flight request and exits 0', async () => {
    const child = spawn(process.execPath, [resolve('dist/cli/main.js'), 'serve', '--model', modelPath, '--port', '0', '--threads', '1', '--parallel', '2', '--ctx-per-request', '512'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const u = await new Promise<string>((res, rej) => {
        let out = '';
        child.stdout.on('data', (d) => { out += d; const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out); if (m) res(m[1]!); });
        setTimeout(() => rej(new Error(`no listening line: ${stderr}`)), 20_000);
      });
      const c = new OpenAI({ baseURL: `${u}/v1`, apiKey: 'x', maxRetries: 0 });
      const stream = await c.completions.create({ model: 'm', prompt: 'Once', max_tokens: 150, temperature: 0, stream: true, stream_options: { include_usage: true } });
      let chunks = 0;
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const ch of stream) {
        if (chunks++ === 2) child.kill('SIGINT'); // mid-generation
        if (ch.usage) usage = ch.usage;
      }
      expect(usage!.completion_tokens).toBe(150); // the in-flight request was finished, not cut
      expect(await exited).toBe(0);
      expect(stderr).toContain('stopped');
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});

