import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Context, type Model } from '../../lib/index.js';
import { randomVector, syntheticModel } from '../helpers/models.js';

const run = promisify(execFile);
const EMBD = 64;
const PROMPT = 'A calm sea under a grey sky, and a boat drifting slowly home.';

describe('the context between tokens: steering changes, dispose, dropped iterators, chat sessions', () => {
  let path: string;
  let model: Model;
  let ctx: Context;
  beforeAll(async () => {
    path = await syntheticModel({ layers: 4, embd: EMBD, seed: 5 });
    model = await loadModel(path);
    ctx = await model.createContext({ contextSize: 1024, sequences: 2, threads: 2 });
  });
  afterAll(async () => {
    await ctx?.dispose();
    model?.dispose();
  });

  it('setSteering inside for await takes effect at the next token (no deadlock)', async () => {
    const base = await ctx.generateText(PROMPT, { maxTokens: 12, temperature: 0 });
    const v = randomVector(EMBD, 77, 4);
    const tokens: number[] = [];
    for await (const t of ctx.generate(PROMPT, { maxTokens: 12, temperature: 0 })) {
      tokens.push(t.token);
      if (t.index === 3) await ctx.setSteering(new Map([[2, v]]));
    }
    await ctx.clearSteering();
    // token 3 is decoded with the new steering, so token 4 is the first that can differ
    expect(tokens.slice(0, 4)).toEqual(base.tokens.slice(0, 4));
    expect(tokens).not.toEqual(base.tokens);
    // the context still works afterwards, unsteered
    expect((await ctx.generateText(PROMPT, { maxTokens: 12, temperature: 0 })).tokens).toEqual(base.tokens);
  });

  it('other calls run while a generation is suspended between tokens', async () => {
    const gen = ctx.generate(PROMPT, { maxTokens: 8, temperature: 0, sequence: 0 });
    await gen.next();
    const other = await ctx.evaluate('The storm broke the windows.', { sequence: 1, logits: true });
    expect(other.logits!.length).toBe(model.info.nVocab);
    let n = 1;
    for (;;) { const r = await gen.next(); if (r.done) break; n++; }
    expect(n).toBe(8);
  });

  it('two generations on the same sequence queue and each equals its run alone', async () => {
    const a = ctx.generateText(PROMPT, { maxTokens: 10, temperature: 0.7, seed: 1 });
    const b = ctx.generateText('Once upon a time', { maxTokens: 10, temperature: 0.7, seed: 2 });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.tokens).toEqual((await ctx.generateText(PROMPT, { maxTokens: 10, temperature: 0.7, seed: 1 })).tokens);
    expect(rb.tokens).toEqual((await ctx.generateText('Once upon a time', { maxTokens: 10, temperature: 0.7, seed: 2 })).tokens);
  });

  it('dispose while a generation is suspended ends it with DISPOSED and resolves', async () => {
    const c = await model.createContext({ contextSize: 256, threads: 2 });
    const seen: number[] = [];
    const consume = (async () => {
      for await (const t of c.generate(PROMPT, { maxTokens: 50, temperature: 0 })) {
        seen.push(t.index);
        if (t.index === 2) await c.dispose();
      }
    })();
    await expect(consume).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(c.disposed).toBe(true);
    await expect(c.evaluate(PROMPT)).rejects.toMatchObject({ code: 'DISPOSED' });
  });

  it('dispose while a step runs aborts it: the generation ends with DISPOSED, dispose resolves', async () => {
    const c = await model.createContext({ contextSize: 2048, batchSize: 64, threads: 1 });
    const long = Array.from({ length: 1900 }, (_, i) => 1 + (i % 200));
    const p = c.generateText(long, { maxTokens: 100 });
    await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await c.dispose();
    const waited = performance.now() - t0;
    await expect(p).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(waited).toBeLessThan(5000);
  });

  it('an iterator dropped without return() releases its sequence once collected (child process, --expose-gc)', async () => {
    const script = `
      const { loadModel } = await import(${JSON.stringify(resolve('dist/index.js'))});
      const model = await loadModel(process.env.MODEL);
      const ctx = await model.createContext({ contextSize: 512, sequences: 2, threads: 1 });
      await (async () => {
        const it = ctx.generate('A calm sea', { maxTokens: 100 });
        await it.next(); await it.next();
      })();                                     // dropped while suspended, never returned
      await ctx.setSteering(new Map([[1, new Float32Array(${EMBD}).fill(0.01)]]));  // the context is free
      await ctx.clearSteering();
      await ctx.evaluate('other', { sequence: 1 }); // other sequences are free
      let done = false;
      const p = ctx.generateText('A calm sea', { maxTokens: 4 }).then((r) => { done = true; return r; });
      for (let i = 0; i < 50 && !done; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      const r = await Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error('sequence 0 never released')), 5000))]);
      console.log(JSON.stringify({ tokens: r.tokens.length }));
      await ctx.dispose(); model.dispose();
    `;
    const { stdout } = await run(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { env: { ...process.env, MODEL: path }, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ tokens: 4 });
  });

  it('a chat session reuses its KV cache over 5 turns and its first turn equals a plain generation', async () => {
    const c = await model.createContext({ contextSize: 2048, threads: 2 });
    try {
      const chat = c.chat({ system: 'You are a helpful assistant.' });
      const first = await chat.send('Tell me about the sea.', { maxTokens: 16, temperature: 0 });
      const plain = await c.generateText({ messages: [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: 'Tell me about the sea.' }] }, { maxTokens: 16, temperature: 0 });
      expect(first.tokens).toEqual(plain.tokens);
      const v = randomVector(EMBD, 5, 2);
      for (const [i, q] of ['And the sky?', 'Why?', 'Say more.', 'Thanks.'].entries()) {
        await chat.send(q, { maxTokens: 16, temperature: 0, ...(i === 2 ? { steering: { vectors: new Map([[2, v]]) } } : {}) });
      }
      const s = chat.stats;
      expect(s.turns).toBe(5);
      expect(chat.messages.length).toBe(11);
      expect(s.reusedTokens).toBeGreaterThan(0);
      expect(s.decodedPromptTokens).toBeLessThan(s.promptTokens / 2);
      expect(s.decodedPromptTokens + s.reusedTokens).toBe(s.promptTokens);
      // the cache really holds the conversation: the next turn continues it like a fresh decode
      const cached = await chat.send('Last one.', { maxTokens: 8, temperature: 0 });
      const fresh = await c.generateText({ messages: chat.messages.slice(0, -2).concat([{ role: 'user', content: 'Last one.' }]) }, { maxTokens: 8, temperature: 0, sequence: 0 });
      expect(cached.promptTokens).toBe(fresh.promptTokens);
    } finally {
      await c.dispose();
    }
  });
});
