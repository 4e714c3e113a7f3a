// Context shift for chat requests: a conversation too long for the per-request context loses
// its oldest messages (system messages and the last one kept) instead of failing, says how many,
// and the sampler's penalties still see the whole conversation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, RequestScheduler, type ChatMessage, type Model } from '../../lib/index.js';
import { createServer } from '../../lib/server/server.js';
import { syntheticModel } from '../helpers/models.js';

const PER_REQUEST = 160;

describe('RequestScheduler context shift', () => {
  let model: Model;
  let shifting: RequestScheduler;
  let plain: RequestScheduler;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 14 }));
    shifting = await RequestScheduler.create(model, { parallel: 1, contextPerRequest: PER_REQUEST, threads: 1, contextShift: true });
    plain = await RequestScheduler.create(model, { parallel: 1, contextPerRequest: PER_REQUEST, threads: 1 });
  });
  afterAll(async () => {
    await shifting?.close();
    await plain?.close();
    model?.dispose();
  });

  const conversation: ChatMessage[] = [
    { role: 'system', content: 'Be brief.' },
    ...Array.from({ length: 6 }, (_, i) => [
      { role: 'user', content: `Question number ${i}: what do you think about the weather today?` },
      { role: 'assistant', content: `Answer ${i}: it is fine, thank you for asking.` },
    ]).flat(),
    { role: 'user', content: 'And tomorrow?' },
  ];
  const greedy = { maxTokens: 12, temperature: 0, stopOnEog: false } as const;

  it('drops the oldest turns until the prompt fits, keeps the system message and the last one, and gives the text of the shortened conversation', async () => {
    expect(() => plain.submit({ prompt: { messages: conversation }, ...greedy })).toThrowError(expect.objectContaining({ code: 'PROMPT_TOO_LONG' }));
    const gen = shifting.submit({ prompt: { messages: conversation }, ...greedy });
    const dropped = gen.droppedMessages;
    expect(dropped).toBeGreaterThan(0);
    const r = await gen.result;
    expect(r.droppedMessages).toBe(dropped);
    expect(r.promptTokens + greedy.maxTokens).toBeLessThanOrEqual(PER_REQUEST);
    const shortened = [conversation[0]!, ...conversation.slice(1 + dropped)];
    // One message fewer dropped would not have fitted.
    const oneMore = [conversation[0]!, ...conversation.slice(dropped)];
    expect(() => plain.submit({ prompt: { messages: oneMore }, ...greedy })).toThrowError(expect.objectContaining({ code: 'PROMPT_TOO_LONG' }));
    const same = await plain.submit({ prompt: { messages: shortened }, ...greedy }).result;
    expect(r.tokens).toEqual(same.tokens);
    expect(same.droppedMessages).toBe(0);
  });

  it('the repetition penalties see the dropped turns: the same as a run whose sampler history is the whole conversation', async () => {
    const penalties = { ...greedy, repeatPenalty: 1.5, frequencyPenalty: 0.8 };
    const gen = shifting.submit({ prompt: { messages: conversation }, ...penalties });
    const r = await gen.result;
    const ctx = await model.createContext({ contextSize: PER_REQUEST, threads: 1 });
    try {
      const whole = ctx.tokenizePrompt({ messages: conversation });
      const run = ctx.createRun({ messages: [conversation[0]!, ...conversation.slice(1 + gen.droppedMessages)] }, penalties);
      run.setSamplerHistory(whole);
      while (!run.done) await ctx.step([run]);
      expect(r.tokens).toEqual(run.tokens);
    } finally {
      await ctx.dispose();
    }
  });

  it('text prompts, and conversations whose kept messages alone do not fit, still fail with PROMPT_TOO_LONG', () => {
    expect(() => shifting.submit({ prompt: 'word '.repeat(200), ...greedy })).toThrowError(expect.objectContaining({ code: 'PROMPT_TOO_LONG' }));
    const huge: ChatMessage[] = [{ role: 'system', content: 'rule '.repeat(100) }, { role: 'user', content: 'old' }, { role: 'user', content: 'hi '.repeat(60) }];
    expect(() => shifting.submit({ prompt: { messages: huge }, ...greedy })).toThrowError(expect.objectContaining({ code: 'PROMPT_TOO_LONG' }));
  });

  it('emosteer serve --context-shift: the response says how many messages were dropped', async () => {
    const server = await createServer(model, { parallel: 1, contextPerRequest: PER_REQUEST, threads: 1, contextShift: true });
    try {
      const res = await server.app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { messages: conversation, max_tokens: 12, temperature: 0 } });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { dropped_messages: number; choices: unknown[] };
      expect(body.dropped_messages).toBeGreaterThan(0);
      expect(res.headers['x-emosteer-dropped-messages']).toBe(String(body.dropped_messages));
      const stream = await server.app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { messages: conversation, max_tokens: 4, temperature: 0, stream: true } });
      expect(stream.headers['x-emosteer-dropped-messages']).toBe(String(body.dropped_messages));
      const fits = await server.app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { messages: conversation.slice(-1), max_tokens: 4, temperature: 0 } });
      expect(fits.headers['x-emosteer-dropped-messages']).toBeUndefined();
      expect((fits.json() as Record<string, unknown>).dropped_messages).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
