/**
 * The OpenAI error shape (`{ error: { message, type, code, param } }`) and the HTTP status of
 * every error the server can meet: schema and JSON errors from Fastify, emosteer's typed
 * errors, and anything else (500, message kept generic).
 */
import { EmosteerError, type EmosteerErrorCode } from '../errors.js';

/** The body of an error response. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

/** An error with its HTTP status, thrown by route handlers. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly type: string, readonly code: string, message: string, readonly param: string | null = null) {
    super(message);
  }
}

const STATUS: Partial<Record<EmosteerErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  VECTOR_WIDTH_MISMATCH: 400,
  LAYER_OUT_OF_RANGE: 400,
  NON_FINITE_VECTOR: 400,
  PROMPT_TOO_LONG: 400,
  NO_CHAT_TEMPLATE: 400,
  CHAT_TEMPLATE_UNSUPPORTED: 400,
  CAPTURE_DISABLED: 400,
  UNKNOWN_EMOTION: 400,
  NOT_CALIBRATED: 400,
  VOCAB_MISMATCH: 400,
  QUEUE_FULL: 429,
  ABORTED: 499,
  DISPOSED: 503,
};

/** The part of an ajv validation error read here. */
interface AjvError {
  keyword?: string;
  instancePath?: string;
  params?: { additionalProperty?: unknown };
}

/** '/messages/0/content' -> 'messages[0].content' */
function fieldPath(instancePath: string): string {
  return instancePath.split('/').filter(Boolean).map((seg, i) => (/^\d+$/.test(seg) ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join('');
}

/** Status and body for any thrown value. */
export function toHttpError(err: unknown): { status: number; body: OpenAiErrorBody } {
  if (err instanceof HttpError) {
    return { status: err.status, body: { error: { message: err.message, type: err.type, code: err.code, param: err.param } } };
  }
  if (err instanceof EmosteerError) {
    const status = STATUS[err.code] ?? 500;
    const type = status === 429 ? 'rate_limit_error' : status < 500 ? 'invalid_request_error' : 'server_error';
    // A runtime steering component i is the request's steering item i (lib/server/request.ts).
    const param = err.field?.replace(/^components\[/, 'steering[') ?? null;
    return { status, body: { error: { message: err.message, type, code: err.code.toLowerCase(), param } } };
  }
  const e = err as { statusCode?: number; code?: string; message?: string; validation?: unknown; validationContext?: string };
  const first = Array.isArray(e?.validation) ? (e.validation[0] as AjvError | undefined) : undefined;
  if (first) {
    const path = fieldPath(first.instancePath ?? '');
    if (first.keyword === 'additionalProperties' && typeof first.params?.additionalProperty === 'string') {
      const field = path ? `${path}.${first.params.additionalProperty}` : first.params.additionalProperty;
      return { status: 400, body: { error: { message: `unsupported field '${field}': this server does not use it, and ignoring it silently could change what you get; leave it out (docs/server.md lists the fields)`, type: 'invalid_request_error', code: 'unsupported_field', param: field } } };
    }
    return { status: 400, body: { error: { message: e.message ?? 'bad request', type: 'invalid_request_error', code: 'invalid_request', param: path || null } } };
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // Fastify: schema validation, malformed JSON, body too large, unsupported media type
    const code = e.validation ? 'invalid_request' : e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'body_too_large' : e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'invalid_json' : (e.code ?? 'invalid_request').toLowerCase();
    return { status: e.statusCode, body: { error: { message: e.message ?? 'bad request', type: 'invalid_request_error', code, param: null } } };
  }
  return { status: 500, body: { error: { message: 'internal server error', type: 'server_error', code: 'internal_error', param: null } } };
}
