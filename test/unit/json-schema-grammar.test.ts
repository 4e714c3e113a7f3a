// JSON schema -> GBNF (lib/runtime/json-schema-grammar.ts) without the addon: the rules it
// writes, integer ranges checked against every number they should and should not match, and
// refusals that name the keyword. That llama.cpp parses the grammars and that generated JSON
// validates is tested with the addon (test/addon/grammar.test.ts).
import { describe, expect, it } from 'vitest';
import { EmosteerError } from '../../lib/errors.js';
import { gbnfLiteral, JSON_OBJECT_GRAMMAR, jsonSchemaToGrammar, type JsonSchema } from '../../lib/runtime/json-schema-grammar.js';

/** The grammar's rules by name. */
function rules(grammar: string): Map<string, string> {
  return new Map(grammar.trim().split('\n').map((l) => { const i = l.indexOf(' ::= '); return [l.slice(0, i), l.slice(i + 5)] as [string, string]; }));
}

/** A regular expression for a rule made only of digit literals, digit classes and repetitions. */
function digitsRegex(body: string): RegExp {
  const src = body.replace(/"([-0-9]+)"/g, '$1').replace(/ /g, '');
  expect(src).toMatch(/^[-0-9[\]{}|(),]*$/); // nothing but what the conversion understands
  return new RegExp(`^(?:${src})$`);
}

/** The integer rule of a schema as a regular expression. */
function integerRegex(schema: JsonSchema): RegExp {
  const r = rules(jsonSchemaToGrammar(schema));
  return digitsRegex(r.get(r.get('root')!)!);
}

function refusal(schema: unknown): EmosteerError {
  try {
    jsonSchemaToGrammar(schema as JsonSchema);
  } catch (err) {
    expect(err).toBeInstanceOf(EmosteerError);
    expect((err as EmosteerError).code).toBe('INVALID_ARGUMENT');
    return err as EmosteerError;
  }
  throw new Error(`no error for ${JSON.stringify(schema)}`);
}

describe('jsonSchemaToGrammar', () => {
  it('integer bounds: exactly the integers in range match, for ranges across digit counts and signs', () => {
    const cases: [number | undefined, number | undefined][] = [[3, 250], [0, 9], [10, 99], [7, 7], [-15, 42], [-200, -3], [1, undefined], [undefined, -1], [995, 1004], [0, 100000]];
    for (const [min, max] of cases) {
      const re = integerRegex({ type: 'integer', ...(min !== undefined ? { minimum: min } : {}), ...(max !== undefined ? { maximum: max } : {}) });
      const lo = (min ?? -300) - 300;
      const hi = (max ?? 300) + 300;
      const wrong: number[] = [];
      for (let v = lo; v <= hi; v++) if (re.test(String(v)) !== ((min === undefined || v >= min) && (max === undefined || v <= max))) wrong.push(v);
      expect(wrong).toEqual([]);
      // never leading zeros or '-0'
      expect(re.test('007')).toBe(false);
      expect(re.test('-0')).toBe(false);
    }
    // exclusive bounds and fractional bounds
    const ex = integerRegex({ type: 'integer', exclusiveMinimum: 2, exclusiveMaximum: 5.5 });
    expect(['3', '4', '5'].every((s) => ex.test(s))).toBe(true);
    expect(['2', '6'].some((s) => ex.test(s))).toBe(false);
    expect(integerRegex({ type: 'integer', minimum: 0 }).test('9999999999999999')).toBe(true); // 16 digits
    expect(integerRegex({ type: 'integer', minimum: 0 }).test('10000000000000000')).toBe(false); // 17
  });

  it('objects: properties in order, required ones always, optional ones may be left out', () => {
    const g = jsonSchemaToGrammar({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' }, c: { type: 'boolean' } }, required: ['b'] });
    const r = rules(g);
    expect(r.get('root')).toMatch(/^s-/);
    expect([...r.values()].some((b) => b.includes('"\\"a\\"" ws ":" ws string ws'))).toBe(true);
    // the first property written is a or b (b is required, so c can never come first)
    const first0 = [...r.entries()].find(([n]) => n.endsWith('first-0'))![1];
    expect(first0.split(' | ')).toHaveLength(2);
    // b is required: after a, its comma and value follow unconditionally
    const after1 = [...r.entries()].find(([n]) => n.endsWith('after-1'))![1];
    expect(after1.startsWith('"," ws')).toBe(true);
    expect(g.split('\n').every((l) => l === '' || /^[A-Za-z0-9-]+ ::= /.test(l))).toBe(true);
  });

  it('json_object, enums, consts, arrays with bounds, anyOf, type lists and recursive $ref', () => {
    const obj = rules(JSON_OBJECT_GRAMMAR);
    expect(obj.get('root')).toBe('object');
    expect([...obj.keys()].sort()).toEqual(['array', 'boolean', 'char', 'null', 'number', 'object', 'root', 'string', 'value', 'ws']);
    const en = rules(jsonSchemaToGrammar({ enum: ['x', 2, null, { k: [1] }] }));
    expect(en.get(en.get('root')!)).toBe('"\\"x\\"" | "2" | "null" | "{\\"k\\":[1]}"');
    expect(rules(jsonSchemaToGrammar({ type: 'string', enum: ['a', 1] })).size).toBe(2); // the 1 is not a string
    expect(rules(jsonSchemaToGrammar({ const: 'a"b' })).get('root')).toBe('"\\"a\\\\\\"b\\""');
    const arr = rules(jsonSchemaToGrammar({ type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 4 }));
    expect(arr.get(arr.get('root')!)).toMatch(/^"\[" ws integer ws s-[A-Za-z0-9-]+\{1,3\} "]"$/);
    const any = rules(jsonSchemaToGrammar({ anyOf: [{ type: 'string' }, { type: 'null' }] }));
    expect(any.get(any.get('root')!)).toBe('string | null');
    expect(rules(jsonSchemaToGrammar({ type: ['string', 'null'] })).get('root')).toMatch(/^s-/);
    const tree = jsonSchemaToGrammar({ $ref: '#/$defs/node', $defs: { node: { type: 'object', properties: { kids: { type: 'array', items: { $ref: '#/$defs/node' } } } } } });
    const t = rules(tree);
    expect(t.get('root')).toBe('s-node');
    expect([...t.values()].some((b) => b.includes('s-node'))).toBe(true); // refers to itself
    expect(rules(jsonSchemaToGrammar(true)).get('root')).toBe('value');
    expect(rules(jsonSchemaToGrammar({ type: 'string', minLength: 2, maxLength: 5 })).size).toBe(3);
  });

  it('refuses keywords outside the subset by name and place, and schemas that admit nothing', () => {
    const cases: [unknown, string, string][] = [
      [{ type: 'string', pattern: '^a' }, "'pattern'", 'pattern'],
      [{ type: 'object', properties: { name: { type: 'string', format: 'email' } } }, "'format'", 'properties.name.format'],
      [{ type: 'array', items: { type: 'integer' }, uniqueItems: true }, "'uniqueItems'", 'uniqueItems'],
      [{ allOf: [{ type: 'string' }] }, "'allOf'", 'allOf'],
      [{ type: 'object', patternProperties: {} }, "'patternProperties'", 'patternProperties'],
      [{ type: 'number', multipleOf: 2 }, "'multipleOf'", 'multipleOf'],
      [{ type: 'array', prefixItems: [{ type: 'string' }] }, "'prefixItems'", 'prefixItems'],
      [{ if: { type: 'string' } }, "'if'", 'if'],
    ];
    for (const [schema, named, field] of cases) {
      const e = refusal(schema);
      expect(e.message).toContain(named);
      expect(e.message).toContain('not supported');
      expect(e.field).toBe(field);
    }
    expect(refusal({ type: 'number', maximum: 3 }).field).toBe('maximum');
    expect(refusal({ type: 'string', maxLength: 5000 }).message).toContain('maxLength');
    expect(refusal({ $ref: 'https://example.com/s.json' }).message).toContain('local references');
    expect(refusal({ $ref: '#/$defs/missing' }).message).toContain('points at nothing');
    expect(refusal({ type: 'object', properties: {}, required: ['x'], additionalProperties: false }).message).toContain("'x'");
    expect(refusal({ type: 'integer', minimum: 5, maximum: 4 }).message).toContain('bounds');
    expect(refusal({ type: 'strin' }).message).toContain("'strin'");
    expect(refusal(false).message).toContain('admits no value');
    expect(refusal({ anyOf: [{ type: 'string' }], type: 'string' }).field).toBe('type');
  });

  it('GBNF literals escape quotes, backslashes and control characters', () => {
    expect(gbnfLiteral('a"b\\c\nd\u0001é')).toBe('"a\\"b\\\\c\\nd\\x01é"');
  });
});
