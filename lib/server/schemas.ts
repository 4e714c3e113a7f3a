/**
 * JSON schemas of the request bodies (validated by Fastify before a handler runs). Unknown
 * fields are accepted and ignored, as OpenAI clients send fields this server does not use.
 */

const steeringItem = {
  type: 'object',
  properties: {
    emotion: { type: 'string', minLength: 1, maxLength: 64 },
    set: { type: 'string', minLength: 1, maxLength: 128 },
    vector: { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 65536 },
    strength: { type: 'number' },
    layers: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 2 },
    positions: { type: 'string', enum: ['all', 'prompt', 'generated'] },
  },
  required: ['strength'],
  oneOf: [{ required: ['emotion'] }, { required: ['vector'] }],
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
  n: { type: ['integer', 'null'], minimum: 1, maximum: 1 },
  model: { type: 'string' },
  steering: { type: 'array', items: steeringItem, maxItems: 16 },
  meter: { anyOf: [{ type: 'boolean' }, { type: 'string' }] },
} as const;

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
          content: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', properties: { type: { const: 'text' }, text: { type: 'string' } }, required: ['type', 'text'] } }] },
        },
        required: ['role', 'content'],
      },
    },
    ...sampling,
  },
  required: ['messages'],
} as const;

/** POST /v1/completions */
export const completionSchema = {
  type: 'object',
  properties: {
    prompt: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 1 }] },
    ...sampling,
  },
  required: ['prompt'],
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
} as const;

/** One item of the `steering` extension field. */
export interface SteeringItem {
  emotion?: string;
  set?: string;
  vector?: number[];
  strength: number;
  layers?: [number, number];
  positions?: 'all' | 'prompt' | 'generated';
}

/** The sampling fields shared by both completion endpoints. */
export interface SamplingFields {
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
  steering?: SteeringItem[];
  meter?: boolean | string;
}

/** A chat message as OpenAI clients send it. */
export interface WireMessage {
  role: 'system' | 'developer' | 'user' | 'assistant';
  content: string | { type: 'text'; text: string }[];
}

export interface ChatCompletionBody extends SamplingFields { messages: WireMessage[] }
export interface CompletionBody extends SamplingFields { prompt: string | string[] }
export interface ActivationsBody {
  input: string | WireMessage[];
  layers?: number[] | 'all';
  pooling?: 'last' | 'mean';
  encoding_format?: 'float' | 'base64';
  model?: string;
}
