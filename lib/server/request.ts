/**
 * One request body -> runtime options, in one place (llama-server's `params_from_json` is the
 * model): sampling fields with the OpenAI defaults, `max_tokens` against the request's KV
 * budget, `stop`, the `steering` extension (components and conditional rules:
 * lib/server/steering-rules.ts; an error about an item is reported with `param: 'steering[i]'`),
 * and `meter`. Every check of a steering's values (widths, block ranges, finiteness, emotions
 * of the set) is the runtime's (lib/runtime/steering.ts).
 */
import { randomInt } from 'node:crypto';
import type { ScheduledRequest } from '../runtime/scheduler.js';
import type { ComponentSteering } from '../runtime/steering.js';
import type { EmotionMeter } from '../steer/emotion-meter.js';
import { HttpError } from './errors.js';
import type { LoadedVectorSets } from './loaded-vector-sets.js';
import { samplerOptionsFromBody } from './sampler-fields.js';
import type { LogProbFields, SamplingFields } from './schemas.js';
import { steeringFromItems } from './steering-rules.js';

/** What a body needs besides itself. */
export interface RequestLimits {
  /** The loaded vector sets (emotion steering and the meter). */
  sets: LoadedVectorSets;
  /** Tokens of KV cache a request may hold. */
  contextPerRequest: number;
  /** max_tokens when the body gives none. */
  defaultMaxTokens: number;
}


/**
 * How many alternatives per token a body's log-probability fields ask for (undefined: none).
 * Chat: `logprobs: true` and `top_logprobs` (which needs `logprobs: true`, as in OpenAI's API);
 * completions: `logprobs: N`.
 */
export function logProbsFromBody(body: LogProbFields, chat: boolean): number | undefined {
  if (chat) {
    if (body.top_logprobs !== undefined && body.top_logprobs !== null && body.logprobs !== true) {
      throw new HttpError(400, 'invalid_request_error', 'invalid_request', 'top_logprobs needs logprobs: true', 'top_logprobs');
    }
    return body.logprobs === true ? (body.top_logprobs ?? 0) : undefined;
  }
  return typeof body.logprobs === 'number' ? body.logprobs : undefined;
}

/** The scheduler request of a completion body, and the meter it asked for. */
export function requestFromBody(body: SamplingFields & LogProbFields, prompt: ScheduledRequest['prompt'], signal: AbortSignal, limits: RequestLimits, chat = true): { req: ScheduledRequest; meter: EmotionMeter | undefined; steering: ComponentSteering | undefined } {
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? limits.defaultMaxTokens;
  if (maxTokens >= limits.contextPerRequest) {
    throw new HttpError(400, 'invalid_request_error', 'max_tokens_too_large', `max_tokens ${maxTokens} does not fit in the ${limits.contextPerRequest} tokens a request may hold`, 'max_tokens');
  }
  const stop = body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  const metered = body.meter === undefined || body.meter === false ? undefined : limits.sets.find(typeof body.meter === 'string' ? body.meter : undefined, 'meter');
  const meter = metered?.meter;
  const steered = steeringFromItems(body.steering, limits.sets, metered);
  const steering = steered?.promptSteering;
  const probe = meter ?? steered?.probe;
  const req: ScheduledRequest = {
    prompt,
    maxTokens,
    stop,
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    topK: body.top_k ?? 0,
    minP: body.min_p ?? 0,
    frequencyPenalty: body.frequency_penalty ?? 0,
    presencePenalty: body.presence_penalty ?? 0,
    repeatPenalty: body.repeat_penalty ?? 1,
    ...samplerOptionsFromBody(body), // grammar / response_format and DRY
    seed: body.seed ?? randomInt(0, 2 ** 31),
    stopOnEog: body.ignore_eos !== true,
    ...(body.cache_prompt === false ? { cachePrompt: false } : {}),
    signal,
    ...(steered?.steering ? { steering: steered.steering } : {}),
    ...(probe ? { probe } : {}),
  };
  const logProbs = logProbsFromBody(body, chat);
  if (logProbs !== undefined) req.logProbs = logProbs;
  return { req, meter, steering };
}
