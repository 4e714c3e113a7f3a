// Grammar-constrained sampling (GBNF through llama.cpp's grammar sampler), JSON schema output
// and the DRY repetition sampler, in process, through the request scheduler and over HTTP, on
// a synthetic model (random weights: its text is garbage, so every constraint it obeys is the
// grammar's doing, and its greedy text falls into loops that DRY has to break).
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_OBJECT_GRAMMAR, jsonSchemaToGrammar, loadModel, RequestScheduler, type Context, type Model } from '../../lib/index.js';
import { createServer, type EmosteerServer } from '../../lib/server/server.js';
import { syntheticModel } from '../helpers/models.js';

const PROMPTS = ['The weather today', 'Once', 'Hello', 'abc', 'She opened the door'];
const YES_NO = 'root ::= ("yes" | "no")';
const DIGITS = 'root ::= [1-9] [0-9]{0,7}';

/** Token n-grams that occur again after their first occurrence. */
function repeatedNgrams(tokens: readonly number[], n: number): number {
  const seen = new Set<string>();
  let repeated = 0;
  for (let i = 0; i + n <= tokens.length; i++) {
    const k = tokens.slice(i, i + n).join(',');
    if (seen.has(k)) repeated++;
    else seen.add(k);
  }
  return repeated;
}

/** A schema whose language is finite: a model must end it within a bounded number of tokens. */
const PERSON = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 8 },
    age: { type: 'integer', minimum: 0, maximum: 120 },
    mood: { enum: ['calm', 'angry', 'happy'] },
    tags: { type: 'array', items: { type: 'string', maxLength: 4 }, maxItems: 3 },
    pet: { anyOf: [{ type: 'null' }, { type: 'object', properties: { kind: { const: 'cat' }, legs: { type: 'integer', minimum: 3, maximum: 4 } }, required: ['kind'], additionalProperties: false }] },
    ok: { type: 'boolean' },
  },
  required: ['name', 'age', 'mood'],
  additionalProperties: false,
} as const;

describe('grammar-constrained sampling and DRY', () => {
  let model: Model;
  let ctx: Context;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 3, embd: 64, seed: 21 }));
    ctx = await model.createContext({ contextSize: 1024, sequences: 2, threads: 1 });
  });
  afterAll(async () => {
    await ctx?.dispose();
    model?.dispose();
  });

  it('every generated text follows the grammar, greedy and sampled, and a finished grammar ends generation', async () => {
    for (const prompt of PROMPTS) {
      const plain = await ctx.generateText(prompt, { maxTokens: 12 });
      expect(plain.text).not.toMatch(/^(yes|no)$/); // the model alone says something else
      const greedy = await ctx.generateText(prompt, { maxTokens: 12, grammar: YES_NO });
      expect(greedy.text).toMatch(/^(yes|no)$/);
      expect(greedy.stopReason).toBe('eog'); // complete: only end-of-generation is left
      for (const seed of [1, 2, 3]) {
        const sampled = await ctx.generateText(prompt, { maxTokens: 12, grammar: YES_NO, temperature: 1.2, topK: 40, topP: 0.95, seed });
        expect(sampled.text).toMatch(/^(yes|no)$/);
        const digits = await ctx.generateText(prompt, { maxTokens: 12, grammar: DIGITS, temperature: 1, seed, repeatPenalty: 1.1, dryMultiplier: 0.8 });
        expect(digits.text).toMatch(/^[1-9][0-9]{0,7}$/);
        if (digits.text.length === 8) expect(digits.stopReason).toBe('eog'); // nothing may follow
        else expect(['eog', 'maxTokens']).toContain(digits.stopReason);
      }
    }
    // unbounded: the text stays in the language and the token budget ends it
    const many = await ctx.generateText('Once', { maxTokens: 30, grammar: 'root ::= [0-9]+' });
    expect(many.text).toMatch(/^[0-9]+$/);
    // a grammar applies to the generated text only: this prompt does not match it
    expect((await ctx.generateText('no digits here:', { maxTokens: 5, grammar: 'root ::= [0-9]{3}' })).text).toMatch(/^[0-9]{3}$/);
    // greedy under a grammar is greedy over the admitted tokens: deterministic
    const a = await ctx.generateText('Hello', { maxTokens: 20, grammar: DIGITS });
    expect((await ctx.generateText('Hello', { maxTokens: 20, grammar: DIGITS })).tokens).toEqual(a.tokens);
  });

  it('with stopOnEog false a finished grammar leaves only end-of-generation tokens', async () => {
    const r = await ctx.generateText('The weather today', { maxTokens: 8, grammar: YES_NO, stopOnEog: false });
    const eog = r.tokens.findIndex((t) => model.isEndOfGeneration(t));
    expect(eog).toBeGreaterThan(0);
    expect(model.detokenize(r.tokens.slice(0, eog))).toMatch(/^(yes|no)$/);
    expect(r.tokens.slice(eog).every((t) => model.isEndOfGeneration(t))).toBe(true);
    expect(r.tokens).toHaveLength(8);
  });

  it('log-probabilities are those of the model before the grammar', async () => {
    const prompt = model.tokenize('The weather today');
    const tokens: { token: number; logProb: number; top: number[] }[] = [];
    for await (const t of ctx.generate(prompt, { maxTokens: 4, grammar: 'root ::= "zq"', logProbs: 3 })) tokens.push({ token: t.token, logProb: t.logProb!, top: t.topLogProbs!.map((x) => x.token) });
    expect(model.detokenize(tokens.map((t) => t.token))).toBe('zq');
    const ref = await ctx.logProbs(prompt, tokens.map((t) => t.token), { topLogProbs: 3 });
    tokens.forEach((t, i) => {
      expect(t.logProb).toBeCloseTo(ref.logProbs[i]!, 4);
      expect(t.top).toEqual(ref.top![i]!.map((x) => x.token)); // the model's favourites, which the grammar refused
      expect(t.top).not.toContain(t.token);
    });
  });

  it('a grammar that does not parse is INVALID_ARGUMENT (no crash); one the vocabulary cannot follow ends with INVALID_ARGUMENT', async () => {
    for (const grammar of ['root ::= (', 'start ::= "a"', 'root ::= undefined-rule', 'root ::= root "a"', 'root ::= [a-', 7 as unknown as string]) {
      await expect(ctx.generateText('x', { grammar, maxTokens: 3 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'grammar' });
    }
    // no token's text starts with NUL (llama.cpp's grammar refuses such pieces): stuck after "a"
    await expect(ctx.generateText('x', { grammar: 'root ::= "a" "\\x00"', maxTokens: 5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('admits no token') });
    // the context is fine afterwards
    expect((await ctx.generateText('x', { grammar: YES_NO })).text).toMatch(/^(yes|no)$/);
  });

  it('JSON schema output parses and validates; json_object gives objects', async () => {
    const validate = new Ajv().compile(PERSON);
    const grammar = jsonSchemaToGrammar(PERSON);
    for (let seed = 0; seed < 6; seed++) {
      const r = await ctx.generateText(PROMPTS[seed % PROMPTS.length]!, { grammar, temperature: 1, seed, maxTokens: 400 });
      expect(r.stopReason).toBe('eog'); // the schema's language is finite
      const value = JSON.parse(r.text) as unknown;
      expect(validate(value), `${r.text}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    for (let seed = 0; seed < 3; seed++) {
      const r = await ctx.generateText('Hello', { grammar: JSON_OBJECT_GRAMMAR, temperature: 0.7, seed, maxTokens: 60 });
      if (r.stopReason === 'eog') expect(JSON.parse(r.text)).toBeTypeOf('object');
      else expect(r.text.startsWith('{')).toBe(true);
    }
  });

  it('through the scheduler: grammars per request, each text as generated alone', async () => {
    const scheduler = await RequestScheduler.create(model, { parallel: 3, contextPerRequest: 256, threads: 1 });
    try {
      const grammars = [YES_NO, DIGITS, jsonSchemaToGrammar(PERSON), undefined, YES_NO];
      const reqs = PROMPTS.map((prompt, i) => ({ prompt, maxTokens: 200, temperature: 0.9, seed: 5 + i, ...(grammars[i] ? { grammar: grammars[i] } : {}) }));
      const gens = reqs.map((r) => scheduler.submit(r));
      const results = await Promise.all(gens.map((g) => g.result));
      expect(results[0]!.text).toMatch(/^(yes|no)$/);
      expect(results[1]!.text).toMatch(/^[1-9][0-9]{0,7}$/);
      expect(new Ajv().compile(PERSON)(JSON.parse(results[2]!.text))).toBe(true);
      expect(results[4]!.text).toMatch(/^(yes|no)$/);
      for (let i = 0; i < reqs.length; i++) {
        const { prompt, ...opts } = reqs[i]!;
        expect(results[i]!.tokens).toEqual((await ctx.generateText(prompt, opts)).tokens);
      }
      expect(() => scheduler.submit({ prompt: 'x', grammar: 'root ::= (' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    } finally {
      await scheduler.close();
    }
  });

  it('DRY breaks the loops of greedy text (fewer repeated n-grams); off by default, with dryPenaltyLastN 0, or when a breaker splits the loop', async () => {
    let before = 0;
    let after = 0;
    for (const prompt of ['The weather today', 'Once', 'Hello']) {
      const plain = await ctx.generateText(prompt, { maxTokens: 60 });
      const dry = await ctx.generateText(prompt, { maxTokens: 60, dryMultiplier: 0.8 });
      expect(dry.tokens).not.toEqual(plain.tokens);
      expect(repeatedNgrams(dry.tokens, 4)).toBeLessThan(repeatedNgrams(plain.tokens, 4));
      before += repeatedNgrams(plain.tokens, 4);
      after += repeatedNgrams(dry.tokens, 4);
      // the defaults spelled out are the defaults
      expect((await ctx.generateText(prompt, { maxTokens: 60, dryMultiplier: 0.8, dryBase: 1.75, dryAllowedLength: 2, dryPenaltyLastN: -1, drySequenceBreakers: ['\n', ':', '"', '*'] })).tokens).toEqual(dry.tokens);
      expect((await ctx.generateText(prompt, { maxTokens: 60, dryMultiplier: 0.8, dryPenaltyLastN: 0 })).tokens).toEqual(plain.tokens);
      expect((await ctx.generateText(prompt, { maxTokens: 60, dryMultiplier: 0 })).tokens).toEqual(plain.tokens);
    }
    expect(before).toBeGreaterThan(20);
    expect(after).toBeLessThan(before / 4);
    // 'The weather today' loops on "]i": with ']' a sequence breaker no repeat spans it
    const plain = await ctx.generateText('The weather today', { maxTokens: 60 });
    expect(plain.text).toContain(']i]i]i');
    expect((await ctx.generateText('The weather today', { maxTokens: 60, dryMultiplier: 0.8, drySequenceBreakers: [']'] })).tokens).toEqual(plain.tokens);
  });

  it('bad DRY values are refused by name', async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ dryMultiplier: -1 }, 'dryMultiplier'], [{ dryMultiplier: Number.NaN }, 'dryMultiplier'], [{ dryBase: 0.5 }, 'dryBase'],
      [{ dryAllowedLength: 1.5 }, 'dryAllowedLength'], [{ dryAllowedLength: -1 }, 'dryAllowedLength'], [{ dryPenaltyLastN: -2 }, 'dryPenaltyLastN'],
      [{ drySequenceBreakers: 'x' }, 'drySequenceBreakers'], [{ drySequenceBreakers: [''] }, 'drySequenceBreakers[0]'],
      [{ drySequenceBreakers: ['a', 5] }, 'drySequenceBreakers[1]'], [{ drySequenceBreakers: ['x'.repeat(41)] }, 'drySequenceBreakers[0]'],
      [{ drySequenceBreakers: Array.from({ length: 65 }, () => 'a') }, 'drySequenceBreakers'],
    ];
    for (const [opts, field] of bad) {
      await expect(ctx.generateText('x', { maxTokens: 2, dryMultiplier: 0.8, ...opts })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field, message: expect.stringContaining(field.replace(/\[\d+\]$/, '')) });
    }
  });
});

describe('structured output and DRY over HTTP', () => {
  let model: Model;
  let server: EmosteerServer;
  let url: string;
  let client: OpenAI;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 3, embd: 64, seed: 21 }));
    server = await createServer(model, { parallel: 2, contextPerRequest: 512, threads: 1, flashAttention: false }) /* compared with in-process runs (flash attention off) */;
    url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.close();
    model?.dispose();
  });
  const post = async (path: string, body: object) => {
    const r = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() as Record<string, any> };
  };

  it('response_format json_schema (chat, through the openai client; streamed too) and json_object (completions)', async () => {
    const validate = new Ajv().compile(PERSON);
    for (const seed of [1, 2, 3]) {
      const r = await client.chat.completions.create({
        model: 'm', messages: [{ role: 'user', content: 'Describe a person as JSON.' }], max_tokens: 400, temperature: 1, seed,
        response_format: { type: 'json_schema', json_schema: { name: 'person', schema: PERSON as unknown as Record<string, unknown>, strict: true } },
      });
      expect(r.choices[0]!.finish_reason).toBe('stop');
      const value = JSON.parse(r.choices[0]!.message.content!) as unknown;
      expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
    }
    const stream = await client.chat.completions.create({
      model: 'm', messages: [{ role: 'user', content: 'JSON please' }], max_tokens: 400, temperature: 1, seed: 9, stream: true,
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema: PERSON as unknown as Record<string, unknown> } },
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    expect(validate(JSON.parse(text))).toBe(true);
    const c = await post('/v1/completions', { prompt: 'Data:', max_tokens: 80, temperature: 0.8, seed: 4, response_format: { type: 'json_object' } });
    expect(c.status).toBe(200);
    const out = c.body.choices[0];
    if (out.finish_reason === 'stop') expect(JSON.parse(out.text)).toBeTypeOf('object');
    else expect(out.text.startsWith('{')).toBe(true);
    // json_schema without a schema: any JSON value
    const any = await post('/v1/completions', { prompt: 'Data:', max_tokens: 40, temperature: 0, response_format: { type: 'json_schema', json_schema: { name: 'x' } } });
    expect(any.status).toBe(200);
  });

  it('grammar (llama-server field) on both endpoints, with n choices', async () => {
    const c = await post('/v1/completions', { prompt: ['Once', 'Hello'], max_tokens: 10, temperature: 1, seed: 2, n: 2, grammar: YES_NO });
    expect(c.status).toBe(200);
    expect(c.body.choices).toHaveLength(4);
    for (const ch of c.body.choices) {
      expect(ch.text).toMatch(/^(yes|no)$/);
      expect(ch.finish_reason).toBe('stop');
    }
    const chat = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'Pick' }], max_tokens: 10, temperature: 0, grammar: DIGITS });
    expect(chat.body.choices[0].message.content).toMatch(/^[1-9][0-9]{0,7}$/);
    // an empty grammar and response_format text are no constraint
    const free = await post('/v1/completions', { prompt: 'Once', max_tokens: 8, temperature: 0, grammar: '', response_format: { type: 'text' } });
    const plain = await post('/v1/completions', { prompt: 'Once', max_tokens: 8, temperature: 0 });
    expect(free.body.choices[0].text).toBe(plain.body.choices[0].text);
  });

  it('DRY fields (llama-server names) change greedy text; bad values are 400s', async () => {
    const plain = await post('/v1/completions', { prompt: 'The weather today', max_tokens: 60, temperature: 0 });
    const dry = await post('/v1/completions', { prompt: 'The weather today', max_tokens: 60, temperature: 0, dry_multiplier: 0.8, dry_base: 1.75, dry_allowed_length: 2, dry_penalty_last_n: -1, dry_sequence_breakers: ['\n', ':', '"', '*'] });
    expect(dry.status).toBe(200);
    expect(dry.body.choices[0].text).not.toBe(plain.body.choices[0].text);
    const inProcess = await (async () => {
      const ctx = await model.createContext({ contextSize: 256, threads: 1 });
      try { return await ctx.generateText('The weather today', { maxTokens: 60, dryMultiplier: 0.8 }); } finally { await ctx.dispose(); }
    })();
    expect(dry.body.choices[0].text).toBe(inProcess.text);
    for (const [field, value] of [['dry_multiplier', -1], ['dry_base', 0.5], ['dry_allowed_length', 1.5], ['dry_penalty_last_n', -2], ['dry_sequence_breakers', ['']], ['dry_sequence_breakers', 'x']] as const) {
      const r = await post('/v1/completions', { prompt: 'x', max_tokens: 2, [field]: value });
      expect({ field, status: r.status }).toEqual({ field, status: 400 });
      expect(r.body.error.param).toMatch(new RegExp(`^${field}`));
    }
  });

  it('a bad grammar, an unsupported schema keyword and contradictory fields are 400s that say why', async () => {
    const chatBody = { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 };
    const g = await post('/v1/chat/completions', { ...chatBody, grammar: 'root ::= (' });
    expect(g.status).toBe(400);
    expect(g.body.error).toMatchObject({ code: 'invalid_argument', param: 'grammar' });
    expect(g.body.error.message).toContain('grammar could not be parsed');
    const schema = { type: 'object', properties: { email: { type: 'string', format: 'email' } } };
    const k = await post('/v1/chat/completions', { ...chatBody, response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } });
    expect(k.status).toBe(400);
    expect(k.body.error).toMatchObject({ code: 'invalid_json_schema', param: 'response_format.json_schema.schema.properties.email.format' });
    expect(k.body.error.message).toContain("keyword 'format'");
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', pattern: 'a+' } } } })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    const cases: [object, string][] = [
      [{ ...chatBody, grammar: YES_NO, response_format: { type: 'json_object' } }, 'grammar'],
      [{ ...chatBody, response_format: { type: 'json_schema' } }, 'response_format.json_schema'],
      [{ ...chatBody, response_format: { type: 'json_object', json_schema: { schema: {} } } }, 'response_format.json_schema'],
      [{ ...chatBody, response_format: { type: 'xml' } }, 'response_format.type'],
      [{ ...chatBody, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {}, description: 'd' } } }, 'response_format.json_schema.description'],
    ];
    for (const [body, param] of cases) {
      const r = await post('/v1/chat/completions', body);
      expect({ param, status: r.status, got: r.body.error?.param }).toEqual({ param, status: 400, got: param });
    }
    // the server is fine afterwards
    expect((await post('/v1/chat/completions', { ...chatBody, grammar: YES_NO })).body.choices[0].message.content).toMatch(/^(yes|no)$/);
  });
});
