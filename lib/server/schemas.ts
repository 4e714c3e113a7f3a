/**
 * JSON schemas of the request bodies (validated by Fastify before a handler runs). No field a
 * client sends is ignored silently: every field is either honoured or answered with a 400 that
 * names it. Fields of the OpenAI API that this server does not honour are accepted only with
 * their neutral value ({@link UNSUPPORTED_FIELDS}: e.g. `logit_bias: {}`,
 * `tools: []`); any other unknown field is refused (`unsupported_field`, `param` = the field).
 */
import type { SamplerFields } from './sampler-fields.js';

/** A strength: a number, 'auto' (the set's calibrated strength) or { auto: factor }. */
const strength = {
  anyOf: [
    { type: 'number' },
    { const: 'auto' },
    { type: 'object', properties: { auto: { type: 'number' } }, required: ['auto'], additionalProperties: false },
  ],
} as const;

/** One component: an emotion of a loaded set or a raw vector, with its strength. */
const steeringComponent = {
  type: 'object',
  properties: {
    emotion: { type: 'string', minLength: 1, maxLength: 64 },
    set: { type: 'string', minLength: 1, maxLength: 128 },
    vector: { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 65536 },
    strength,
    layers: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 2 },
    positions: { type: 'string', enum: ['all', 'prompt', 'generated'] },
  },
  additionalProperties: false,
  required: ['strength'],
  oneOf: [{ required: ['emotion'] }, { required: ['vector'] }],
} as const;

/** What a rule applies while it is on: a component without `positions` (a rule steers generated tokens). */
const ruleComponent = {
  ...steeringComponent,
  properties: Object.fromEntries(Object.entries(steeringComponent.properties).filter(([k]) => k !== 'positions')),
} as const;

/**
 * A conditional rule (lib/server/steering-rules.ts): `then` steers while the meter's reading of
 * `when.emotion` is past the threshold (docs/server.md, "Conditional steering").
 */
const steeringRule = {
  type: 'object',
  properties: {
    when: {
      type: 'object',
      properties: {
        emotion: { type: 'string', minLength: 1, maxLength: 64 },
        above: { type: 'number' },
        below: { type: 'number' },
        release: { type: 'number' },
        block: { type: 'integer', minimum: 0 },
        set: { type: 'string', minLength: 1, maxLength: 128 },
      },
      required: ['emotion'],
      additionalProperties: false,
      oneOf: [{ required: ['above'] }, { required: ['below'] }],
    },
    then: { anyOf: [ruleComponent, { type: 'array', items: ruleComponent, minItems: 1, maxItems: 8 }] },
    for: { type: 'string', enum: ['prompt', 'reply'] },
    hold: { type: 'integer', minimum: 1, maximum: 1000000 },
  },
  required: ['when', 'then'],
  additionalProperties: false,
} as const;

/** An item of the `steering` field: a rule when it has `when`, else a component. */
const steeringItem = {
  type: 'object',
  if: { required: ['when'] },
  then: steeringRule,
  else: steeringComponent,
} as const;

const sampling = {
  max_tokens: { type: ['integer', 'null'], minimum: 1 },
  max_completion_tokens: { type: ['integer', 'null'], minimum: 1 },
  temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
  top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
  top_k: { type: ['integer', 'null'], minimum: 0 },
  min_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
  frequency_penalty: { type: ['number', 'null'], minimum: -2, maximum: 2 },
  presence_penalty: { type: ['number', 'null'], minimum: -2, maximum: 2 },
  repeat_penalty: { type: ['number', 'null'], minimum: 0 },
  seed: { type: ['integer', 'null'], minimum: 0, maximum: 4294967295 },
  stop: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 16 }, { type: 'null' }] },
  stream: { type: ['boolean', 'null'] },
  stream_options: { type: ['object', 'null'], properties: { include_usage: { type: 'boolean' } } },
  n: { type: ['integer', 'null'], minimum: 1, maximum: 16 },
  model: { type: 'string' },
  /** llama-server's extension: keep generating past end-of-generation tokens (to max_tokens). */
  ignore_eos: { type: ['boolean', 'null'] },
  /** llama-server's field: may the request reuse cached prompt rows (default true; the server's --no-prompt-cache turns the cache off). */
  cache_prompt: { type: ['boolean', 'null'] },
  /** An end-user identifier (OpenAI's abuse monitoring): accepted, nothing to do with it. */
  user: { type: ['string', 'null'] },
  steering: { type: 'array', items: steeringItem, maxItems: 16 },
  meter: { anyOf: [{ type: 'boolean' }, { type: 'string' }] },
  /** llama-server's field: a GBNF grammar the output follows (lib/server/sampler-fields.ts). */
  grammar: { type: ['string', 'null'], maxLength: 1 << 20 },
  /** OpenAI's structured output: text, any JSON object, or JSON valid against a schema. */
  response_format: {
    type: ['object', 'null'],
    properties: {
      type: { type: 'string', enum: ['text', 'json_object', 'json_schema'] },
      json_schema: {
        type: 'object',
        properties: { name: { type: 'string', maxLength: 256 }, schema: { anyOf: [{ type: 'object' }, { type: 'boolean' }] }, strict: { type: ['boolean', 'null'] } },
        additionalProperties: false,
      },
    },
    required: ['type'],
    additionalProperties: false,
  },
  /** llama-server's DRY repetition sampler (0 = off). */
  dry_multiplier: { type: ['number', 'null'], minimum: 0 },
  dry_base: { type: ['number', 'null'], minimum: 1 },
  dry_allowed_length: { type: ['integer', 'null'], minimum: 0, maximum: 1000000 },
  dry_penalty_last_n: { type: ['integer', 'null'], minimum: -1 },
  dry_sequence_breakers: { type: ['array', 'null'], items: { type: 'string', minLength: 1, maxLength: 40 }, maxItems: 64 },
} as const;

/**
 * Fields of the OpenAI API that this server does not honour, accepted only with their neutral
 * value (what leaving them out means); anything else gets a 400 `unsupported_field` naming the
 * field and saying why. Checked before the schema (lib/server/server.ts).
 */
export const UNSUPPORTED_FIELDS: Readonly<Record<string, { neutral: (v: unknown) => boolean; why: string; endpoints?: readonly ('chat' | 'completions')[] }>> = {
  logit_bias: { neutral: (v) => v === null || (isObject(v) && Object.keys(v).length === 0), why: 'token biases are not applied by this server' },
  tools: { neutral: (v) => v === null || (Array.isArray(v) && v.length === 0), why: 'tool calls are not supported' },
  tool_choice: { neutral: (v) => v === null || v === 'none', why: 'tool calls are not supported' },
  parallel_tool_calls: { neutral: (v) => v === null || typeof v === 'boolean', why: 'tool calls are not supported' },
  functions: { neutral: (v) => v === null || (Array.isArray(v) && v.length === 0), why: 'function calls are not supported' },
  function_call: { neutral: (v) => v === null || v === 'none', why: 'function calls are not supported' },
  audio: { neutral: (v) => v === null, why: 'audio output is not supported' },
  modalities: { neutral: (v) => v === null || (Array.isArray(v) && v.length === 1 && v[0] === 'text'), why: 'only text output is supported' },
  prediction: { neutral: (v) => v === null, why: 'predicted outputs are not supported' },
  reasoning_effort: { neutral: (v) => v === null, why: 'there is no reasoning budget to set' },
  web_search_options: { neutral: (v) => v === null, why: 'web search is not supported' },
  service_tier: { neutral: (v) => v === null || v === 'auto' || v === 'default', why: 'there are no service tiers' },
  store: { neutral: (v) => v === null || v === false, why: 'completions are not stored' },
  metadata: { neutral: (v) => v === null || (isObject(v) && Object.keys(v).length === 0), why: 'completions are not stored, so there is nothing to tag' },
  suffix: { neutral: (v) => v === null || v === '', why: 'insertion (text after the completion) is not supported', endpoints: ['completions'] },
  best_of: { neutral: (v) => v === null || v === 1, why: 'best_of > 1 (server-side candidates ranked by log-probability) is not supported; use n and logprobs', endpoints: ['completions'] },
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The unsupported fields as schema properties (any value: {@link UNSUPPORTED_FIELDS} decides). */
function unsupportedProperties(endpoint: 'chat' | 'completions'): Record<string, object> {
  return Object.fromEntries(Object.entries(UNSUPPORTED_FIELDS).filter(([, f]) => !f.endpoints || f.endpoints.includes(endpoint)).map(([k]) => [k, {}]));
}

/** POST /v1/chat/completions */
export const chatCompletionSchema = {
  type: 'object',
  properties: {
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: 256,
      items: {
        type: 'object',
        properties: {
          role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant'] },
          content: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', properties: { type: { const: 'text' }, text: { type: 'string' } }, required: ['type', 'text'], additionalProperties: false } }] },
        },
        required: ['role', 'content'],
        additionalProperties: false,
      },
    },
    ...sampling,
    /** Log-probability of every generated token in `choices[].logprobs.content`. */
    logprobs: { type: ['boolean', 'null'] },
    /** With logprobs: the 0..20 most probable tokens at every position. */
    top_logprobs: { type: ['integer', 'null'], minimum: 0, maximum: 20 },
    ...unsupportedProperties('chat'),
  },
  required: ['messages'],
  additionalProperties: false,
} as const;

/** POST /v1/completions */
export const completionSchema = {
  type: 'object',
  properties: {
    /** A string, token ids, or an array of either (one choice per prompt). */
    prompt: {
      anyOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, maxItems: 1 << 20 },
        { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 64 },
        { type: 'array', items: { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, maxItems: 1 << 20 }, minItems: 1, maxItems: 64 },
      ],
    },
    ...sampling,
    /** max_tokens 0 is allowed here (with echo: the prompt's log-probabilities only). */
    max_tokens: { type: ['integer', 'null'], minimum: 0 },
    /** Legacy log-probabilities: the N (0..20) most probable tokens at every position. */
    logprobs: { type: ['integer', 'null'], minimum: 0, maximum: 20 },
    /** Return the prompt before the completion, with its tokens' log-probabilities when logprobs is set. */
    echo: { type: ['boolean', 'null'] },
    ...unsupportedProperties('completions'),
  },
  required: ['prompt'],
  additionalProperties: false,
} as const;

/** POST /tokenize (the tokenizer endpoints evaluation harnesses use; llama-server and vLLM shapes). */
export const tokenizeSchema = {
  type: 'object',
  properties: {
    prompt: { type: 'string' },
    content: { type: 'string' },
    add_special_tokens: { type: 'boolean' },
    add_special: { type: 'boolean' },
    parse_special: { type: 'boolean' },
    with_pieces: { type: 'boolean' },
    model: { type: 'string' },
  },
  oneOf: [{ required: ['prompt'] }, { required: ['content'] }],
  additionalProperties: false,
} as const;

/** POST /detokenize */
export const detokenizeSchema = {
  type: 'object',
  properties: {
    tokens: { type: 'array', items: { type: 'integer', minimum: 0 }, maxItems: 1 << 20 },
    model: { type: 'string' },
  },
  required: ['tokens'],
  additionalProperties: false,
} as const;

/** POST /v1/activations */
export const activationsSchema = {
  type: 'object',
  properties: {
    input: { anyOf: [{ type: 'string', minLength: 1 }, chatCompletionSchema.properties.messages] },
    layers: { anyOf: [{ type: 'array', items: { type: 'integer' }, minItems: 1, maxItems: 512 }, { const: 'all' }] },
    pooling: { type: 'string', enum: ['last', 'mean'] },
    encoding_format: { type: 'string', enum: ['float', 'base64'] },
    model: { type: 'string' },
  },
  required: ['input'],
  additionalProperties: false,
} as const;

/** A strength over HTTP: a number, 'auto' or { auto: factor }. */
export type WireStrength = number | 'auto' | { auto: number };

/** One component of the `steering` extension field. */
export interface SteeringComponentItem {
  emotion?: string;
  set?: string;
  vector?: number[];
  strength: WireStrength;
  layers?: [number, number];
  positions?: 'all' | 'prompt' | 'generated';
}

/** A conditional rule of the `steering` extension field. */
export interface SteeringRuleItem {
  when: { emotion: string; above?: number; below?: number; release?: number; block?: number; set?: string };
  then: Omit<SteeringComponentItem, 'positions'> | Omit<SteeringComponentItem, 'positions'>[];
  for?: 'prompt' | 'reply';
  hold?: number;
}

/** One item of the `steering` extension field: a component, or a rule (it has `when`). */
export type SteeringItem = SteeringComponentItem | SteeringRuleItem;

/** The sampling fields shared by both completion endpoints (grammar, response_format and DRY: {@link SamplerFields}). */
export interface SamplingFields extends SamplerFields {
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  min_p?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  repeat_penalty?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  n?: number | null;
  model?: string;
  ignore_eos?: boolean | null;
  cache_prompt?: boolean | null;
  steering?: SteeringItem[];
  meter?: boolean | string;
}

/** The log-probability fields of either endpoint, as one number of alternatives (undefined: off). */
export interface LogProbFields {
  /** Chat: a boolean; completions: the number of alternatives. */
  logprobs?: boolean | number | null;
  /** Chat: the number of alternatives. */
  top_logprobs?: number | null;
  /** Completions: return the prompt too. */
  echo?: boolean | null;
}

/** A chat message as OpenAI clients send it. */
export interface WireMessage {
  role: 'system' | 'developer' | 'user' | 'assistant';
  content: string | { type: 'text'; text: string }[];
}

export interface ChatCompletionBody extends SamplingFields, LogProbFields { messages: WireMessage[] }
export interface CompletionBody extends SamplingFields, LogProbFields { prompt: string | string[] | number[] | number[][] }
export interface TokenizeBody { prompt?: string; content?: string; add_special_tokens?: boolean; add_special?: boolean; parse_special?: boolean; with_pieces?: boolean; model?: string }
export interface DetokenizeBody { tokens: number[]; model?: string }
export interface ActivationsBody {
  input: string | WireMessage[];
  layers?: number[] | 'all';
  pooling?: 'last' | 'mean';
  encoding_format?: 'float' | 'base64';
  model?: string;
}
