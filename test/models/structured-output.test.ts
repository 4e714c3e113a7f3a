// Structured output on real weights: SmolLM2-135M-Instruct answers in JSON valid against a
// schema, in process (jsonSchemaToGrammar) and over HTTP (response_format json_schema), with a
// 49k-token BPE vocabulary whose tokens span several JSON characters.
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSchemaToGrammar, loadModel, type Context, type Model } from '../../lib/index.js';
import { createServer, type EmosteerServer } from '../../lib/server/server.js';
import { smollm2Model } from '../helpers/models.js';

const smol = smollm2Model();
if (!smol.path) console.warn(`[structured-output.test] skipped: ${smol.reason}`);

const CITY = {
  type: 'object',
  properties: {
    city: { type: 'string', minLength: 1, maxLength: 40 },
    country: { type: 'string', minLength: 1, maxLength: 40 },
    population: { type: 'integer', minimum: 0 },
    capital: { type: 'boolean' },
    languages: { type: 'array', items: { type: 'string', maxLength: 20 }, maxItems: 4 },
  },
  required: ['city', 'country', 'population', 'capital'],
  additionalProperties: false,
} as const;
const QUESTION = 'Describe Paris as JSON with the fields city, country, population, capital (true or false) and languages.';

describe.skipIf(!smol.path)('structured output on SmolLM2-135M-Instruct (real weights)', () => {
  let model: Model;
  let ctx: Context;
  beforeAll(async () => {
    model = await loadModel(smol.path!);
    ctx = await model.createContext({ contextSize: 1024, threads: 1 });
  });
  afterAll(async () => {
    await ctx?.dispose();
    model?.dispose();
  });

  it('in process: the answer parses and validates against the schema, greedy and sampled', async () => {
    const validate = new Ajv().compile(CITY);
    const grammar = jsonSchemaToGrammar(CITY);
    const prompt = { messages: [{ role: 'user' as const, content: QUESTION }] };
    const free = await ctx.generateText(prompt, { maxTokens: 60 });
    for (const opts of [{}, { temperature: 0.8, seed: 1 }, { temperature: 0.8, seed: 2 }]) {
      const t0 = performance.now();
      const r = await ctx.generateText(prompt, { grammar, maxTokens: 200, ...opts });
      const ms = performance.now() - t0;
      console.log(`[structured-output] ${JSON.stringify(opts)}: ${r.tokens.length} tokens in ${ms.toFixed(0)} ms: ${r.text}`);
      expect(r.stopReason).toBe('eog');
      const value = JSON.parse(r.text) as unknown;
      expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
    }
    console.log(`[structured-output] without the grammar: ${JSON.stringify(free.text)}`);
  });

  it('over HTTP: response_format json_schema through the openai client', async () => {
    const server: EmosteerServer = await createServer(model, { parallel: 1, contextPerRequest: 1024, threads: 1 });
    try {
      const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const r = await client.chat.completions.create({
        model: 'm', messages: [{ role: 'user', content: QUESTION }], max_tokens: 200, temperature: 0,
        response_format: { type: 'json_schema', json_schema: { name: 'city', strict: true, schema: CITY as unknown as Record<string, unknown> } },
      });
      expect(r.choices[0]!.finish_reason).toBe('stop');
      expect(new Ajv().compile(CITY)(JSON.parse(r.choices[0]!.message.content!))).toBe(true);
    } finally {
      await server.close();
    }
  });
});
