/**
 * The request fields of the grammar and DRY samplers -> runtime sampling options: `grammar`
 * (GBNF, llama-server's field), `response_format` (OpenAI's: `text`, `json_object`,
 * `json_schema` through {@link jsonSchemaToGrammar}) and llama-server's `dry_*` fields.
 * Called by lib/server/request.ts for every choice of a request.
 */
import { EmosteerError } from '../errors.js';
import { JSON_OBJECT_GRAMMAR, jsonSchemaToGrammar, type JsonSchema } from '../runtime/json-schema-grammar.js';
import type { SamplingOptions } from '../runtime/sampling.js';
import { HttpError } from './errors.js';

/** OpenAI's `response_format` as this server takes it. */
export interface ResponseFormat {
  /** 'text' (no constraint), 'json_object' (any JSON object) or 'json_schema' (JSON valid against `json_schema.schema`). */
  type: 'text' | 'json_object' | 'json_schema';
  /** With type 'json_schema': the schema (a subset of JSON schema, docs/server.md). */
  json_schema?: {
    /** The schema's name (OpenAI's field; not shown to the model). */
    name?: string;
    /** The schema the output must be valid against (default: any JSON value). */
    schema?: JsonSchema;
    /** OpenAI's strict flag: accepted; the schema is always enforced. */
    strict?: boolean | null;
  };
}

/** The fields read here. */
export interface SamplerFields {
  grammar?: string | null;
  response_format?: ResponseFormat | null;
  dry_multiplier?: number | null;
  dry_base?: number | null;
  dry_allowed_length?: number | null;
  dry_penalty_last_n?: number | null;
  dry_sequence_breakers?: string[] | null;
}

const bad = (message: string, param: string, code = 'invalid_request') => new HttpError(400, 'invalid_request_error', code, message, param);

/** The grammar a body asks for: `grammar`, or the one of its `response_format` (undefined: none). */
export function grammarFromBody(body: SamplerFields): string | undefined {
  const rf = body.response_format ?? undefined;
  const grammar = body.grammar ?? undefined;
  if (rf === undefined || rf.type === 'text') {
    if (rf?.json_schema !== undefined) throw bad("response_format.json_schema goes with type 'json_schema'", 'response_format.json_schema');
    return grammar === '' ? undefined : grammar;
  }
  if (grammar !== undefined && grammar !== '') throw bad(`grammar and response_format ${rf.type} cannot be combined: send one of them`, 'grammar');
  if (rf.type === 'json_object') {
    if (rf.json_schema !== undefined) throw bad("response_format.json_schema goes with type 'json_schema' (json_object is any JSON object)", 'response_format.json_schema');
    return JSON_OBJECT_GRAMMAR;
  }
  if (rf.json_schema === undefined) throw bad("response_format type 'json_schema' needs json_schema: { name, schema }", 'response_format.json_schema');
  const schema = rf.json_schema.schema ?? true;
  try {
    return jsonSchemaToGrammar(schema);
  } catch (err) {
    if (err instanceof EmosteerError && err.code === 'INVALID_ARGUMENT') {
      const param = `response_format.json_schema.schema${err.field ? `.${err.field}` : ''}`;
      throw bad(err.message, param, 'invalid_json_schema');
    }
    throw err;
  }
}

/** The grammar and DRY sampling options of a body (only those it sets). */
export function samplerOptionsFromBody(body: SamplerFields): Pick<SamplingOptions, 'grammar' | 'dryMultiplier' | 'dryBase' | 'dryAllowedLength' | 'dryPenaltyLastN' | 'drySequenceBreakers'> {
  const grammar = grammarFromBody(body);
  return {
    ...(grammar !== undefined ? { grammar } : {}),
    ...(body.dry_multiplier != null ? { dryMultiplier: body.dry_multiplier } : {}),
    ...(body.dry_base != null ? { dryBase: body.dry_base } : {}),
    ...(body.dry_allowed_length != null ? { dryAllowedLength: body.dry_allowed_length } : {}),
    ...(body.dry_penalty_last_n != null ? { dryPenaltyLastN: body.dry_penalty_last_n } : {}),
    ...(body.dry_sequence_breakers != null ? { drySequenceBreakers: body.dry_sequence_breakers } : {}),
  };
}
