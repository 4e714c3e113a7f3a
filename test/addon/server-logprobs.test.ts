// Log-probabilities in `emosteer serve` (OpenAI shapes), computed natively per token, checked
// against the same numbers in process; echo of the prompt; prompt arrays, token-id prompts and
// n; the tokenizer endpoints; and a 400 naming the field for every field the server does not honour.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Context, type Model } from '../../lib/index.js';
import { UNSUPPORTED_FIELDS } from '../../lib/server/schemas.js';
import { createServer, type EmosteerServer } from '../../lib/server/server.js';
import { syntheticModel } from '../helpers/models.js';

interface ChatLp { token: string; logprob: number; bytes: number[]; top_logprobs: { token: string; logprob: number; bytes: number[] }[] }
interface LegacyLp { tokens: string[]; token_logprobs: (number | null)[]; top_logprobs: (Record<string, number> | null)[]; text_offset: number[] }

function logSoftmax(logits: Float32Array): Float64Array {
  let mx = -Infinity;
  for (const v of logits) mx = Math.max(mx, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - mx);
  const lse = mx + Math.log(sum);
  return Float64Array.from(logits, (v) => v - lse);
}

describe('log-probabilities: runtime and emosteer serve', () => {
  let model: Model;
  let ctx: Context;
  let server: EmosteerServer;
  let url: string;
  let client: OpenAI;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 5 }));
    ctx = await model.createContext({ contextSize: 256, threads: 1 });
    // Floats are compared bit for bit with in-process runs: the prompt cache would reuse rows
    // computed in another batch shape (last-bit differences, docs/server.md), so it is off here.
    server = await createServer(model, { parallel: 4, contextPerRequest: 256, threads: 1, promptCache: false, flashAttention: false }) /* compared with in-process runs (flash attention off) */;
    url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.dispose();
    model?.dispose();
  });

  const post = async (path: string, body: object) => {
    const r = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() as Record<string, any> };
  };

  it('generation with logProbs: each token carries its log-probability and the top k, as full logits give them', async () => {
    const prompt = model.tokenize('The sea was calm and');
    const r = await ctx.generateText(prompt, { maxTokens: 6, temperature: 0, logProbs: 3 });
    const seen: number[] = [...prompt];
    const tokens: { logProb?: number; topLogProbs?: { token: number; logProb: number }[]; token: number }[] = [];
    for await (const t of ctx.generate(prompt, { maxTokens: 6, temperature: 0, logProbs: 3 })) tokens.push(t);
    expect(tokens.map((t) => t.token)).toEqual(r.tokens);
    for (const t of tokens) {
      const lp = logSoftmax((await ctx.evaluate(Int32Array.from(seen), { logits: true })).logits!);
      expect(t.logProb!).toBeCloseTo(lp[t.token]!, 4);
      expect(t.topLogProbs).toHaveLength(3);
      const order = [...lp.keys()].sort((a, b) => lp[b]! - lp[a]!);
      expect(t.topLogProbs!.map((e) => e.token)).toEqual(order.slice(0, 3));
      t.topLogProbs!.forEach((e) => expect(e.logProb).toBeCloseTo(lp[e.token]!, 4));
      // greedy: the token is the most probable one, with the very same number
      expect(t.token).toBe(t.topLogProbs![0]!.token);
      expect(t.logProb).toBe(t.topLogProbs![0]!.logProb);
      seen.push(t.token);
    }
    // tokens emitted after they are fed back (capture) carry the same numbers
    const captured: typeof tokens = [];
    for await (const t of ctx.generate(prompt, { maxTokens: 6, temperature: 0, logProbs: 3, capture: { layers: [1] } })) captured.push(t);
    expect(captured.map((t) => [t.token, t.logProb])).toEqual(tokens.map((t) => [t.token, t.logProb]));
    // logProbs 0: the token's own only
    const zero = await ctx.generateText(prompt, { maxTokens: 2, temperature: 0, logProbs: 0 });
    expect(zero.tokens).toEqual(r.tokens.slice(0, 2));
    await expect(ctx.generateText(prompt, { logProbs: 101 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('chat: logprobs and top_logprobs fill choices[].logprobs.content, streamed and not, equal to the in-process numbers', async () => {
    const messages = [{ role: 'user' as const, content: 'Tell me about the sea.' }];
    const r = await client.chat.completions.create({ model: 'm', messages, max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 2 });
    const content = r.choices[0]!.logprobs!.content! as unknown as ChatLp[];
    expect(content).toHaveLength(r.usage!.completion_tokens);
    const local = [];
    for await (const t of ctx.generate({ messages }, { maxTokens: 8, temperature: 0, logProbs: 2 })) local.push(t);
    expect(content.map((c) => c.logprob)).toEqual(local.map((t) => t.logProb));
    content.forEach((c, i) => {
      expect(c.bytes).toEqual(Array.from(model.tokenToPiece(local[i]!.token)));
      expect(c.top_logprobs).toHaveLength(2);
      expect(c.top_logprobs[0]!.logprob).toBe(c.logprob); // greedy
      expect(c.top_logprobs[0]!.bytes).toEqual(c.bytes);
      expect(c.top_logprobs[1]!.logprob).toBeLessThanOrEqual(c.logprob);
    });
    const stream = await client.chat.completions.create({ model: 'm', messages, max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 2, stream: true });
    const streamed: ChatLp[] = [];
    for await (const c of stream) for (const e of (c.choices[0]?.logprobs?.content ?? []) as unknown as ChatLp[]) streamed.push(e);
    expect(streamed).toEqual(content);
    // logprobs without top_logprobs: empty alternatives; none asked: null
    const plain = await post('/v1/chat/completions', { messages, max_tokens: 3, temperature: 0, logprobs: true });
    expect((plain.body.choices[0].logprobs.content as ChatLp[]).every((c) => c.top_logprobs.length === 0)).toBe(true);
    expect((await post('/v1/chat/completions', { messages, max_tokens: 3 })).body.choices[0].logprobs).toBeNull();
    const bad = await post('/v1/chat/completions', { messages, max_tokens: 3, top_logprobs: 2 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('top_logprobs');
    expect((await post('/v1/chat/completions', { messages, logprobs: true, top_logprobs: 21 })).status).toBe(400);
  });

  it('completions: legacy logprobs; echo returns the prompt with its tokens\' log-probabilities (max_tokens 0 allowed)', async () => {
    const prompt = 'Once upon a time there was';
    const gen = await post('/v1/completions', { prompt, max_tokens: 5, temperature: 0, logprobs: 3 });
    const lp = gen.body.choices[0].logprobs as LegacyLp;
    expect(lp.tokens).toHaveLength(5);
    expect(lp.token_logprobs.every((v) => typeof v === 'number' && v <= 0)).toBe(true);
    expect(lp.top_logprobs.every((t) => Object.keys(t!).length >= 1 && Object.keys(t!).length <= 3)).toBe(true);
    expect(lp.text_offset[0]).toBe(0);
    // each token's own string (a lone byte of a UTF-8 character reads U+FFFD); the text is the
    // same except for the U+FFFD of a character the generation stopped inside
    const joined = lp.tokens.join('');
    expect([joined, joined.replace(/\uFFFD$/, '')]).toContain(gen.body.choices[0].text);
    lp.text_offset.forEach((o, i) => { if (i > 0) expect(o).toBe(lp.text_offset[i - 1]! + lp.tokens[i - 1]!.length); });

    // echo, no generation: the prompt's tokens, the first without a log-probability
    const ids = model.tokenize(prompt, { addSpecial: true });
    const echo = await post('/v1/completions', { prompt, max_tokens: 0, echo: true, logprobs: 2 });
    expect(echo.status).toBe(200);
    const e = echo.body.choices[0];
    expect(e.text).toBe(prompt);
    expect(e.finish_reason).toBe('length');
    expect(e.logprobs.tokens).toHaveLength(ids.length);
    expect(e.logprobs.token_logprobs[0]).toBeNull();
    expect(e.logprobs.top_logprobs[0]).toBeNull();
    const inproc = await ctx.logProbs(ids.subarray(0, 1), ids.subarray(1), { topLogProbs: 2 });
    expect(e.logprobs.token_logprobs.slice(1)).toEqual(Array.from(inproc.logProbs));
    // the greedy check evaluation harnesses make: token logprob == max of the alternatives where the token is the top one
    inproc.top!.forEach((top, j) => {
      expect(Math.max(...Object.values(e.logprobs.top_logprobs[j + 1] as Record<string, number>))).toBe(top[0]!.logProb);
    });
    // echo with generation: the prompt, then the completion, in one logprobs list
    const both = await post('/v1/completions', { prompt, max_tokens: 5, temperature: 0, echo: true, logprobs: 3 });
    const b = both.body.choices[0];
    expect(b.text).toBe(prompt + gen.body.choices[0].text);
    expect(b.logprobs.tokens).toHaveLength(ids.length + 5);
    expect(b.logprobs.token_logprobs.slice(ids.length)).toEqual(lp.token_logprobs);
    expect(b.logprobs.text_offset[ids.length]).toBe(prompt.length);
    // streamed: the echo first, then one chunk per token
    const res = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt, max_tokens: 5, temperature: 0, echo: true, logprobs: 3, stream: true }) });
    const events = (await res.text()).split('\n\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)));
    const text = events.map((ev) => ev.choices[0]?.text ?? '').join('');
    // the streamed chunks join to the non-streamed text (an unfinished UTF-8 character at the
    // end is in neither)
    expect(text).toBe(b.text);
    expect(text.length).toBeGreaterThan(prompt.length);
    const streamedLps = events.flatMap((ev) => ev.choices[0]?.logprobs?.token_logprobs ?? []);
    expect(streamedLps).toEqual(b.logprobs.token_logprobs);
    // steering applies to the echoed prompt's scores too
    const steered = await post('/v1/completions', { prompt, max_tokens: 0, echo: true, logprobs: 1, steering: [{ vector: Array.from({ length: 64 }, (_, i) => Math.cos(i)), strength: 3, layers: [1, 2] }] });
    expect(steered.body.choices[0].logprobs.token_logprobs).not.toEqual(e.logprobs.token_logprobs);
  });

  it('completions: token-id prompts, prompt arrays and n > 1 give one choice each', async () => {
    const ids = Array.from(model.tokenize('Dear diary,', { addSpecial: true }));
    const single = await post('/v1/completions', { prompt: 'Dear diary,', max_tokens: 6, temperature: 0 });
    const byIds = await post('/v1/completions', { prompt: ids, max_tokens: 6, temperature: 0 });
    expect(byIds.body.choices[0].text).toBe(single.body.choices[0].text);
    const other = await post('/v1/completions', { prompt: 'The weather', max_tokens: 6, temperature: 0 });
    const many = await post('/v1/completions', { prompt: [ids, Array.from(model.tokenize('The weather', { addSpecial: true }))], max_tokens: 6, temperature: 0 });
    expect(many.body.choices.map((c: { index: number }) => c.index)).toEqual([0, 1]);
    expect(many.body.choices.map((c: { text: string }) => c.text)).toEqual([single.body.choices[0].text, other.body.choices[0].text]);
    const strings = await post('/v1/completions', { prompt: ['Dear diary,', 'The weather'], max_tokens: 6, temperature: 0 });
    expect(strings.body.choices.map((c: { text: string }) => c.text)).toEqual([single.body.choices[0].text, other.body.choices[0].text]);
    // n: choice j uses seed + j, so it equals a single request with that seed
    const n = await post('/v1/completions', { prompt: 'Dear diary,', max_tokens: 8, temperature: 1.2, seed: 11, n: 3 });
    expect(n.body.choices).toHaveLength(3);
    for (let j = 0; j < 3; j++) {
      const alone = await post('/v1/completions', { prompt: 'Dear diary,', max_tokens: 8, temperature: 1.2, seed: 11 + j });
      expect(n.body.choices[j].text).toBe(alone.body.choices[0].text);
    }
    const chatN = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4, temperature: 1, seed: 2, n: 2 });
    expect(chatN.choices.map((c) => c.index)).toEqual([0, 1]);
    const oob = await post('/v1/completions', { prompt: [model.info.nVocab + 5], max_tokens: 2 });
    expect(oob.status).toBe(400);
    expect(oob.body.error.param).toBe('prompt');
  });

  it('the tokenizer endpoints (vLLM / llama-server shapes) use the model\'s tokenizer', async () => {
    const info = await (await fetch(`${url}/tokenizer_info`)).json() as Record<string, unknown>;
    expect(info).toMatchObject({ vocab_size: model.info.nVocab, add_bos_token: model.info.addBos });
    expect(typeof info.eos_token).toBe('string');
    const t = await post('/tokenize', { prompt: 'Hello world', add_special_tokens: false });
    expect(t.body.tokens).toEqual(Array.from(model.tokenize('Hello world', { addSpecial: false })));
    const withBos = await post('/tokenize', { prompt: 'Hello world' });
    expect(withBos.body.tokens).toEqual(Array.from(model.tokenize('Hello world', { addSpecial: true })));
    const eos = await post('/tokenize', { prompt: info.eos_token as string, add_special_tokens: false });
    expect(eos.body.tokens).toEqual([model.info.eos]);
    const d = await post('/detokenize', { tokens: t.body.tokens });
    expect(d.body.prompt).toBe('Hello world');
  });

  it('every field the server does not honour gets a 400 naming it; neutral values pass', async () => {
    const chatBody = { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 };
    const notNeutral: Record<string, unknown> = {
      logit_bias: { 5: 10 }, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'auto',
      parallel_tool_calls: 'yes', functions: [{ name: 'f' }], function_call: 'auto', audio: { voice: 'x' }, modalities: ['text', 'audio'], prediction: { type: 'content', content: 'x' },
      reasoning_effort: 'high', web_search_options: {}, service_tier: 'flex', store: true, metadata: { a: 'b' }, suffix: 'end', best_of: 3,
    };
    expect(Object.keys(notNeutral).sort()).toEqual(Object.keys(UNSUPPORTED_FIELDS).sort()); // every listed field is tested
    for (const [field, value] of Object.entries(notNeutral)) {
      const completionsOnly = UNSUPPORTED_FIELDS[field]!.endpoints?.includes('completions') && !UNSUPPORTED_FIELDS[field]!.endpoints?.includes('chat');
      const r = completionsOnly
        ? await post('/v1/completions', { prompt: 'Hi', max_tokens: 2, [field]: value })
        : await post('/v1/chat/completions', { ...chatBody, [field]: value });
      expect({ field, status: r.status, code: r.body.error?.code, param: r.body.error?.param }).toEqual({ field, status: 400, code: 'unsupported_field', param: field });
      expect(r.body.error.message).toContain(field);
    }
    // the same fields with their neutral values are accepted
    const neutral = await post('/v1/chat/completions', { ...chatBody, logit_bias: {}, response_format: { type: 'text' }, tools: [], tool_choice: 'none', store: false, user: 'u1', service_tier: 'auto', modalities: ['text'] });
    expect(neutral.status).toBe(200);
    expect((await post('/v1/completions', { prompt: 'Hi', max_tokens: 2, suffix: null, best_of: 1 })).status).toBe(200);
    // unknown fields, anywhere, are refused by name
    const cases: [string, object, string][] = [
      ['/v1/chat/completions', { ...chatBody, frobnicate: 1 }, 'frobnicate'],
      ['/v1/chat/completions', { messages: [{ role: 'user', content: 'Hi', name: 'bob' }] }, 'messages[0].name'],
      ['/v1/chat/completions', { ...chatBody, echo: true }, 'echo'],
      ['/v1/chat/completions', { ...chatBody, steering: [{ vector: [1], strength: 1, scale: 2 }] }, 'steering[0].scale'],
      ['/v1/completions', { prompt: 'Hi', top_logprobs: 2 }, 'top_logprobs'],
      ['/v1/activations', { input: 'Hi', dimensions: 8 }, 'dimensions'],
    ];
    for (const [path, body, param] of cases) {
      const r = await post(path, body);
      expect({ path, param, status: r.status, code: r.body.error?.code, got: r.body.error?.param }).toEqual({ path, param, status: 400, code: 'unsupported_field', got: param });
    }
    // llama-server's ignore_eos is honoured: max_tokens tokens, always
    const long = await post('/v1/completions', { prompt: 'Hi', max_tokens: 40, temperature: 0, ignore_eos: true });
    expect(long.body.usage.completion_tokens).toBe(40);
    const tooMany = await post('/v1/chat/completions', { ...chatBody, n: 17 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.param).toBe('n');
    // the openai client surfaces them as BadRequestError
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], logit_bias: { '5': 10 } })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});
