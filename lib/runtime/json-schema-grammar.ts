/**
 * JSON schema -> GBNF grammar (llama.cpp's grammar format), for JSON output that follows a
 * schema: `grammar: jsonSchemaToGrammar(schema)` in a generation call, `response_format` over
 * HTTP. llama.cpp's own converter is C++ in its `common` library, which the addon does not
 * link; this is a separate implementation of a documented subset that refuses every keyword
 * outside it (INVALID_ARGUMENT naming the keyword and where it is) instead of ignoring it.
 *
 * Supported: `type` (one or a list), `enum`, `const`, `properties`, `required`,
 * `additionalProperties`, `items`, `minItems`, `maxItems`, `minLength`, `maxLength`,
 * `minimum` / `maximum` / `exclusiveMinimum` / `exclusiveMaximum` on integers (`minimum: 0`
 * only on numbers), `anyOf`, `oneOf`, local `$ref` (`#/...`, recursion included) with `$defs` /
 * `definitions`, and the annotations (`title`, `description`, `default`, `examples`, ...).
 *
 * What the grammar generates is always valid against the schema, but not every valid document
 * can be generated:
 * - properties come in the order of `properties`; optional ones may be left out; properties not
 *   listed are never generated (an object schema without `properties` allows any keys, with
 *   values of `additionalProperties` when that is a schema);
 * - `oneOf` is treated as `anyOf` (when branches overlap, a value may match more than one);
 * - numbers have at most 16 integer digits, 16 decimals and a 3-digit exponent; whitespace
 *   between tokens is at most one space or a newline and 20 spaces or tabs (so that a model
 *   cannot fill its budget with whitespace); the document has no leading or trailing
 *   whitespace.
 */
import { EmosteerError } from '../errors.js';

/** A JSON schema: an object of keywords, or `true` (anything) / `false` (nothing). */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

/** Keywords that only describe (never constrain) and are accepted anywhere. */
const ANNOTATIONS = new Set(['title', 'description', '$schema', '$id', '$comment', 'examples', 'default', 'deprecated', 'readOnly', 'writeOnly']);
/** Every keyword the converter honours (besides the annotations). */
const KEYWORDS = new Set([
  'type', 'enum', 'const', 'anyOf', 'oneOf', '$ref', '$defs', 'definitions',
  'properties', 'required', 'additionalProperties',
  'items', 'minItems', 'maxItems',
  'minLength', 'maxLength',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
]);
const SUPPORTED_LIST = 'type, enum, const, properties, required, additionalProperties, items, minItems, maxItems, minLength, maxLength, integer minimum/maximum/exclusiveMinimum/exclusiveMaximum, anyOf, oneOf, local $ref with $defs';
const TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);
/** Largest minItems/maxItems/minLength/maxLength honoured (llama.cpp's grammar parser limits repetitions). */
const MAX_REPEAT = 1000;
const MAX_DEPTH = 64;
/** Integers have at most 16 digits. */
const INT_LIMIT = 10n ** 16n - 1n;

/** The fixed rules, added to a grammar when used. */
const BASE_RULES: Readonly<Record<string, string>> = {
  ws: '| " " | "\\n" [ \\t]{0,20}',
  // A Unicode scalar value other than '"', '\' and the controls (no surrogates and nothing above
  // U+10FFFF, which llama.cpp's UTF-8 decoder would let byte tokens spell), or an escape.
  char: '[\\x20-\\x21\\x23-\\x5B\\x5D-\\uD7FF\\uE000-\\U0010FFFF] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4})',
  string: '"\\"" char* "\\""',
  number: '"-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?',
  'number-nonneg': '("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?',
  integer: '"-"? ("0" | [1-9] [0-9]{0,15})',
  boolean: '"true" | "false"',
  null: '"null"',
  value: 'object | array | string | number | boolean | null',
  object: '"{" ws ( string ws ":" ws value ws ( "," ws string ws ":" ws value ws )* )? "}"',
  array: '"[" ws ( value ws ( "," ws value ws )* )? "]"',
};
/** Which fixed rules each fixed rule uses. */
const BASE_DEPS: Readonly<Record<string, readonly string[]>> = {
  string: ['char'],
  value: ['object', 'array', 'string', 'number', 'boolean', 'null'],
  object: ['ws', 'string', 'value'],
  array: ['ws', 'value'],
};

/** A GBNF string literal of `s`. @internal */
export function gbnfLiteral(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** The JSON type of a value, as JSON schema names it ('integer' for whole numbers). */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Whether a value is of one of the schema types (an integer is also a number). */
function ofTypes(v: unknown, types: readonly string[] | undefined): boolean {
  if (!types) return true;
  const t = jsonType(v);
  return types.includes(t) || (t === 'integer' && types.includes('number')) || (t === 'number' && types.includes('integer') && Number.isInteger(v));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Alternatives (GBNF sequences) matching the decimal strings lo..hi, both of one length. */
function digitRange(lo: string, hi: string): string[] {
  const n = lo.length;
  if (lo === hi) return [gbnfLiteral(lo)];
  const rest = n > 1 ? (n === 2 ? ' [0-9]' : ` [0-9]{${n - 1}}`) : '';
  if (/^0*$/.test(lo.slice(1)) && /^9*$/.test(hi.slice(1))) return [`[${lo[0]}-${hi[0]}]${rest}`];
  if (lo[0] === hi[0]) return digitRange(lo.slice(1), hi.slice(1)).map((a) => `"${lo[0]}" ${a}`);
  const out = digitRange(lo.slice(1), '9'.repeat(n - 1)).map((a) => `"${lo[0]}" ${a}`);
  const a = Number(lo[0]) + 1;
  const b = Number(hi[0]) - 1;
  if (a <= b) out.push(`[${a}-${b}]${rest}`);
  out.push(...digitRange('0'.repeat(n - 1), hi.slice(1)).map((x) => `"${hi[0]}" ${x}`));
  return out;
}

/** Alternatives matching the non-negative integers lo..hi written without leading zeros. */
function naturalRange(lo: bigint, hi: bigint): string[] {
  const out: string[] = [];
  for (let d = lo.toString().length; d <= hi.toString().length; d++) {
    const first = d === 1 ? 0n : 10n ** BigInt(d - 1);
    const last = 10n ** BigInt(d) - 1n;
    const a = lo > first ? lo : first;
    const b = hi < last ? hi : last;
    if (a <= b) out.push(...digitRange(a.toString(), b.toString()));
  }
  return out;
}

/** Builds one grammar: named rules, deduplicated by body. */
class GrammarBuilder {
  readonly #rules = new Map<string, string>();
  readonly #byBody = new Map<string, string>();
  readonly #refs = new Map<string, string>();
  readonly #root: Record<string, unknown> | boolean;

  constructor(root: JsonSchema) {
    this.#root = root as Record<string, unknown> | boolean;
  }

  /** The grammar text, `root ::= ...` first. */
  build(): string {
    const top = this.visit(this.#root, '', 0);
    const lines = [`root ::= ${top}`];
    for (const [name, body] of this.#rules) lines.push(`${name} ::= ${body}`);
    return `${lines.join('\n')}\n`;
  }

  #fail(path: string, message: string): never {
    throw new EmosteerError('INVALID_ARGUMENT', `JSON schema${path ? ` at ${path}` : ''}: ${message}`, { field: path });
  }

  /** A fixed rule (and the fixed rules it uses), by name. */
  #base(name: string): string {
    if (!this.#rules.has(name)) {
      this.#rules.set(name, BASE_RULES[name]!);
      for (const d of BASE_DEPS[name] ?? []) this.#base(d);
    }
    return name;
  }

  /** A rule with this body (an existing one when the body was seen), named after `hint`. */
  #rule(hint: string, body: string): string {
    const known = this.#byBody.get(body);
    if (known) return known;
    const name = this.#name(hint);
    this.#rules.set(name, body);
    this.#byBody.set(body, name);
    return name;
  }

  /** A fresh rule name from a hint (GBNF names are letters, digits and '-'). */
  #name(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'r';
    let name = `s-${base}`;
    for (let i = 2; this.#rules.has(name); i++) name = `s-${base}-${i}`;
    this.#rules.set(name, ''); // reserved until its body is set
    return name;
  }

  /** The GBNF expression of a (sub)schema. */
  visit(schema: unknown, path: string, depth: number): string {
    if (depth > MAX_DEPTH) this.#fail(path, `nested deeper than ${MAX_DEPTH} levels`);
    if (schema === true) return this.#base('value');
    if (schema === false) this.#fail(path, 'the schema false admits no value');
    if (!isPlainObject(schema)) this.#fail(path, `a schema must be an object or a boolean (got ${jsonType(schema)})`);
    const at = (k: string) => (path ? `${path}.${k}` : k);
    for (const k of Object.keys(schema)) {
      if (!KEYWORDS.has(k) && !ANNOTATIONS.has(k)) {
        throw new EmosteerError('INVALID_ARGUMENT', `JSON schema keyword '${k}'${path ? ` at ${path}` : ''} is not supported: emosteer turns a subset of JSON schema into a grammar (${SUPPORTED_LIST}; docs/server.md); remove the keyword or express it with those`, { field: at(k) });
      }
    }
    const constraints = Object.keys(schema).filter((k) => !ANNOTATIONS.has(k) && k !== '$defs' && k !== 'definitions');

    if ('$ref' in schema) {
      const other = constraints.find((k) => k !== '$ref');
      if (other) this.#fail(at(other), `'${other}' next to '$ref' is not supported (it would have to hold together with the referenced schema); put it in the referenced schema`);
      return this.#ref(schema.$ref, at('$ref'), depth);
    }
    for (const comb of ['anyOf', 'oneOf'] as const) {
      if (!(comb in schema)) continue;
      const other = constraints.find((k) => k !== comb);
      if (other) this.#fail(at(other), `'${other}' next to '${comb}' is not supported (it would have to hold together with every branch); move it into each branch`);
      const branches = schema[comb];
      if (!Array.isArray(branches) || branches.length === 0) this.#fail(at(comb), `${comb} must be a non-empty array of schemas`);
      const alts = branches.map((b, i) => this.visit(b, `${at(comb)}[${i}]`, depth + 1));
      return this.#rule(path || comb, [...new Set(alts)].join(' | '));
    }

    let types: string[] | undefined;
    if ('type' in schema) {
      const t: unknown = schema.type;
      const list: unknown[] = Array.isArray(t) ? t : [t];
      if (list.length === 0 || !list.every((x): x is string => typeof x === 'string')) this.#fail(at('type'), 'type must be a type name or a non-empty array of them');
      types = list as string[];
      const unknown = types.find((x) => !TYPES.has(x));
      if (unknown !== undefined) this.#fail(at('type'), `unknown type '${unknown}' (one of ${[...TYPES].join(', ')})`);
    }
    if ('const' in schema) {
      if ('enum' in schema) this.#fail(at('const'), "'const' and 'enum' together are not supported; use one of them");
      if (!ofTypes(schema.const, types)) this.#fail(at('const'), `the const value is not of type ${types!.join(' or ')}`);
      return gbnfLiteral(JSON.stringify(schema.const));
    }
    if ('enum' in schema) {
      const values = schema.enum;
      if (!Array.isArray(values) || values.length === 0) this.#fail(at('enum'), 'enum must be a non-empty array');
      const kept = values.filter((v) => ofTypes(v, types));
      if (kept.length === 0) this.#fail(at('enum'), `no enum value is of type ${types!.join(' or ')}`);
      return this.#rule(path || 'enum', [...new Set(kept.map((v) => gbnfLiteral(JSON.stringify(v))))].join(' | '));
    }
    if (!types) {
      // No type: the keywords of one kind say which; none at all means any value.
      const has = (ks: string[]) => ks.some((k) => k in schema);
      const kinds = [
        has(['properties', 'required', 'additionalProperties']) ? 'object' : null,
        has(['items', 'minItems', 'maxItems']) ? 'array' : null,
        has(['minLength', 'maxLength']) ? 'string' : null,
        has(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']) ? 'number' : null,
      ].filter((k): k is string => k !== null);
      if (kinds.length === 0) return this.#base('value');
      if (kinds.length > 1) this.#fail(path, `keywords of several types (${kinds.join(', ')}) without 'type': give 'type'`);
      types = kinds;
    }
    const alts = [...new Set(types.map((t) => this.#typed(t, schema, path, depth)))];
    return alts.length === 1 ? alts[0]! : this.#rule(path || 'root', alts.join(' | '));
  }

  /** The expression of one type of a schema (the keywords of that type apply). */
  #typed(type: string, s: Record<string, unknown>, path: string, depth: number): string {
    const at = (k: string) => (path ? `${path}.${k}` : k);
    switch (type) {
      case 'null':
      case 'boolean':
        return this.#base(type);
      case 'string': {
        const [min, max] = this.#counts(s, 'minLength', 'maxLength', path);
        if (min === 0 && max === undefined) return this.#base('string');
        this.#base('char');
        return this.#rule(`${path}-string`, `"\\"" ${repeat('char', min, max)} "\\""`);
      }
      case 'number': {
        const bounds = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'].filter((k) => k in s);
        if (bounds.length === 0) return this.#base('number');
        if (bounds.length === 1 && bounds[0] === 'minimum' && s.minimum === 0) return this.#base('number-nonneg');
        return this.#fail(at(bounds[0]!), "bounds on numbers are not supported, except minimum: 0 (bounds on integers are: use type 'integer')");
      }
      case 'integer':
        return this.#integer(s, path);
      case 'array': {
        const [min, max] = this.#counts(s, 'minItems', 'maxItems', path);
        const item = 'items' in s ? this.visit(s.items, at('items'), depth + 1) : this.#base('value');
        this.#base('ws');
        if (max === 0) return this.#rule(`${path}-array`, '"[" ws "]"');
        const next = this.#rule(`${path}-item`, `"," ws ${item} ws`);
        const body = min === 0
          ? `"[" ws ( ${item} ws ${repeat(next, 0, max === undefined ? undefined : max - 1)} )? "]"`
          : `"[" ws ${item} ws ${repeat(next, min - 1, max === undefined ? undefined : max - 1)} "]"`;
        return this.#rule(`${path}-array`, body.replace(/ {2,}/g, ' '));
      }
      case 'object':
        return this.#object(s, path, depth);
      default:
        return this.#fail(at('type'), `unknown type '${type}'`);
    }
  }

  /** minX/maxX of a schema as integers (max undefined: none). */
  #counts(s: Record<string, unknown>, minKey: string, maxKey: string, path: string): [number, number | undefined] {
    const at = (k: string) => (path ? `${path}.${k}` : k);
    const read = (k: string): number | undefined => {
      if (!(k in s)) return undefined;
      const v = s[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.#fail(at(k), `${k} must be a non-negative integer`);
      if (v > MAX_REPEAT) this.#fail(at(k), `${k} above ${MAX_REPEAT} is not supported (llama.cpp's grammars repeat an item at most about 2000 times)`);
      return v;
    };
    const min = read(minKey) ?? 0;
    const max = read(maxKey);
    if (max !== undefined && max < min) this.#fail(at(maxKey), `${maxKey} is below ${minKey}`);
    return [min, max];
  }

  /** An integer, within its bounds. */
  #integer(s: Record<string, unknown>, path: string): string {
    const at = (k: string) => (path ? `${path}.${k}` : k);
    const num = (k: string): number | undefined => {
      if (!(k in s)) return undefined;
      const v = s[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) this.#fail(at(k), `${k} must be a finite number`);
      return v;
    };
    const min = num('minimum');
    const max = num('maximum');
    const xmin = num('exclusiveMinimum');
    const xmax = num('exclusiveMaximum');
    if (min === undefined && max === undefined && xmin === undefined && xmax === undefined) return this.#base('integer');
    const big = (v: number) => BigInt(v);
    let lo = -INT_LIMIT;
    let hi = INT_LIMIT;
    if (min !== undefined) lo = bigMax(lo, big(Math.ceil(min)));
    if (xmin !== undefined) lo = bigMax(lo, big(Math.floor(xmin)) + 1n);
    if (max !== undefined) hi = bigMin(hi, big(Math.floor(max)));
    if (xmax !== undefined) hi = bigMin(hi, big(Math.ceil(xmax)) - 1n);
    if (lo > hi) this.#fail(path, `no integer of at most 16 digits lies within the bounds`);
    const alts: string[] = [];
    if (hi >= 0n) alts.push(...naturalRange(lo > 0n ? lo : 0n, hi));
    if (lo < 0n) {
      const neg = naturalRange(hi < 0n ? -hi : 1n, -lo);
      alts.push(neg.length === 1 ? `"-" ${neg[0]}` : `"-" (${neg.join(' | ')})`);
    }
    return this.#rule(`${path}-int`, alts.join(' | '));
  }

  /** An object: listed properties in order (required ones always), or a map of any keys. */
  #object(s: Record<string, unknown>, path: string, depth: number): string {
    const at = (k: string) => (path ? `${path}.${k}` : k);
    const props = s.properties ?? {};
    if (!isPlainObject(props)) this.#fail(at('properties'), 'properties must be an object of schemas');
    const required = s.required ?? [];
    if (!Array.isArray(required) || required.some((r) => typeof r !== 'string') || new Set(required).size !== required.length) {
      this.#fail(at('required'), 'required must be an array of distinct property names');
    }
    const additional = s.additionalProperties;
    if (additional !== undefined && typeof additional !== 'boolean' && !isPlainObject(additional)) this.#fail(at('additionalProperties'), 'additionalProperties must be a boolean or a schema');
    this.#base('ws');
    const entries: { key: string; schema: unknown; path: string; required: boolean }[] = Object.keys(props).map((k) => ({
      key: k, schema: props[k], path: `${at('properties')}.${k}`, required: (required as string[]).includes(k),
    }));
    for (const r of required as string[]) {
      if (r in props) continue;
      if (additional === false) this.#fail(at('required'), `required property '${r}' is not in properties and additionalProperties is false: no object satisfies that`);
      entries.push({ key: r, schema: additional ?? true, path: at('additionalProperties'), required: true });
    }
    if (entries.length === 0) {
      if (additional === false) return this.#rule(`${path}-object`, '"{" ws "}"');
      const value = additional === undefined || additional === true ? this.#base('value') : this.visit(additional, at('additionalProperties'), depth + 1);
      if (value === 'value') return this.#base('object');
      this.#base('string');
      const kv = this.#rule(`${path}-kv`, `string ws ":" ws ${value} ws`);
      return this.#rule(`${path}-object`, `"{" ws ( ${kv} ( "," ws ${kv} )* )? "}"`);
    }
    // after[i]: properties i.. once one has been written (each with its comma);
    // first[i]: properties i.. when none has been written yet.
    const kvs = entries.map((e) => this.#rule(`${path}-${e.key}-kv`, `${gbnfLiteral(JSON.stringify(e.key))} ws ":" ws ${this.visit(e.schema, e.path, depth + 1)} ws`));
    const n = entries.length;
    const after: string[] = new Array<string>(n + 1).fill('');
    const first: string[] = new Array<string>(n + 1).fill('');
    for (let i = n - 1; i >= 0; i--) {
      const tail = after[i + 1] ? ` ${after[i + 1]}` : '';
      const item = `"," ws ${kvs[i]}`;
      const afterBody = entries[i]!.required ? `${item}${tail}` : `( ${item} )?${tail}`;
      after[i] = this.#rule(`${path}-after-${i}`, afterBody);
      const firstBody = entries[i]!.required ? `${kvs[i]}${tail}` : first[i + 1] ? `${kvs[i]}${tail} | ${first[i + 1]}` : `( ${kvs[i]}${tail} )?`;
      first[i] = this.#rule(`${path}-first-${i}`, firstBody);
    }
    return this.#rule(`${path}-object`, `"{" ws ${first[0]} "}"`);
  }

  /** The rule of a local reference (`#`, `#/$defs/Name`, any JSON pointer into the root). */
  #ref(ref: unknown, path: string, depth: number): string {
    if (typeof ref !== 'string' || !ref.startsWith('#')) this.#fail(path, `only local references ('#/...') are supported (got ${JSON.stringify(ref)})`);
    const known = this.#refs.get(ref);
    if (known) return known;
    let target: unknown = this.#root;
    let pointer = '';
    try {
      pointer = decodeURIComponent(ref.slice(1));
    } catch {
      this.#fail(path, `'${ref}' is not a valid URI fragment`);
    }
    if (pointer !== '') {
      if (!pointer.startsWith('/')) this.#fail(path, `'${ref}' is not a JSON pointer ('#/$defs/Name'); anchors are not supported`);
      for (const raw of pointer.slice(1).split('/')) {
        const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
        if (isPlainObject(target) && part in target) target = target[part];
        else if (Array.isArray(target) && /^\d+$/.test(part) && Number(part) < target.length) target = target[Number(part)];
        else this.#fail(path, `'${ref}' points at nothing in the schema`);
      }
    }
    const name = this.#name(pointer.split('/').pop() || 'root-ref');
    this.#refs.set(ref, name);
    const body = this.visit(target, `${ref}`, depth + 1);
    this.#rules.set(name, body);
    return name;
  }
}

function bigMax(a: bigint, b: bigint): bigint { return a > b ? a : b; }
function bigMin(a: bigint, b: bigint): bigint { return a < b ? a : b; }

/** `x{min,max}` in GBNF (max undefined: unbounded). */
function repeat(x: string, min: number, max: number | undefined): string {
  if (max === undefined) return min === 0 ? `${x}*` : min === 1 ? `${x}+` : `${x}{${min},}`;
  if (max === 0) return '';
  if (min === max) return min === 1 ? x : `${x}{${min}}`;
  if (min === 0 && max === 1) return `${x}?`;
  return `${x}{${min},${max}}`;
}

/**
 * A GBNF grammar (start rule `root`) whose language is JSON documents valid against `schema`,
 * for the `grammar` sampling option (see the module comment for the subset of JSON schema
 * supported and the shape of what is generated).
 * @example
 * const grammar = jsonSchemaToGrammar({ type: 'object', properties: { mood: { enum: ['happy', 'sad'] } }, required: ['mood'] });
 * const r = await ctx.generateText(prompt, { grammar, maxTokens: 64 });
 * JSON.parse(r.text); // { mood: 'happy' } or { mood: 'sad' }
 * @throws EmosteerError INVALID_ARGUMENT (a keyword outside the subset, naming it and where it is, in `field`; a malformed or unsatisfiable schema)
 */
export function jsonSchemaToGrammar(schema: JsonSchema): string {
  return new GrammarBuilder(schema).build();
}

/** The grammar of any JSON object (`response_format: { type: 'json_object' }`). */
export const JSON_OBJECT_GRAMMAR: string = jsonSchemaToGrammar({ type: 'object' });
