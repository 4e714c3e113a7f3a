import { describe, expect, it } from 'vitest';
import { EmosteerError } from '../../lib/errors.js';
import { EMOTIONS, findEmotionWords } from '../../lib/stimuli/emotions.js';
import {
  SCENARIOS,
  SCENARIO_KINDS,
  SCENARIO_SUITE_VERSION,
  scenariosByKind,
  selectScenarios,
  type SteeringScenario,
} from '../../lib/steer/scenarios.js';

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function wordCount(text: string): number {
  return text.trim().split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

function ids(list: readonly SteeringScenario[]): string[] {
  return list.map((s) => s.id);
}

/** Runs `fn` and returns the EmosteerError it throws (fails the test if it throws anything else). */
function thrown(fn: () => unknown): EmosteerError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EmosteerError);
    return e as EmosteerError;
  }
  throw new Error('expected an EmosteerError, nothing was thrown');
}

describe('built-in steering scenarios', () => {
  it('has a suite version', () => {
    expect(SCENARIO_SUITE_VERSION).toBe('en-1');
  });

  it('holds at least 40 scenarios', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(40);
  });

  it('has unique kebab-case ids', () => {
    for (const s of SCENARIOS) expect(s.id, s.id).toMatch(KEBAB);
    expect(new Set(ids(SCENARIOS)).size).toBe(SCENARIOS.length);
  });

  it('has no duplicate prompts', () => {
    expect(new Set(SCENARIOS.map((s) => s.prompt)).size).toBe(SCENARIOS.length);
  });

  it('targets only built-in emotions and every one of the 20 at least once', () => {
    const targets = new Set<string>(SCENARIOS.map((s) => s.target));
    for (const s of SCENARIOS) expect(EMOTIONS as readonly string[]).toContain(s.target);
    for (const e of EMOTIONS) expect(targets.has(e), `no scenario targets ${e}`).toBe(true);
  });

  it('has at least 8 scenarios of each kind, grouped in kind order', () => {
    for (const kind of SCENARIO_KINDS) {
      expect(SCENARIOS.filter((s) => s.kind === kind).length, kind).toBeGreaterThanOrEqual(8);
    }
    const order = SCENARIOS.map((s) => SCENARIO_KINDS.indexOf(s.kind));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it("steers 'away' in at least 6 scenarios, and exactly in those of kind 'away'", () => {
    expect(SCENARIOS.filter((s) => s.direction === 'away').length).toBeGreaterThanOrEqual(6);
    expect(SCENARIOS.filter((s) => s.direction === 'toward').length).toBeGreaterThan(0);
    for (const s of SCENARIOS) expect(s.direction === 'away', s.id).toBe(s.kind === 'away');
  });

  it('has prompts of 12-45 words that end open for a continuation', () => {
    for (const s of SCENARIOS) {
      const n = wordCount(s.prompt);
      expect(n, `${s.id}: ${n} words`).toBeGreaterThanOrEqual(12);
      expect(n, `${s.id}: ${n} words`).toBeLessThanOrEqual(45);
      expect(s.prompt, s.id).toBe(s.prompt.trim());
      expect(s.prompt, s.id).not.toMatch(/\n/);
      // A finished sentence would invite the model to stop or change topic.
      expect(s.prompt, s.id).not.toMatch(/[.!?]["'”’]?$/);
    }
  });

  it('never names an emotion in a prompt', () => {
    for (const s of SCENARIOS) {
      for (const e of EMOTIONS) {
        expect(findEmotionWords(s.prompt, e), `${s.id} names ${e}`).toEqual([]);
      }
    }
  });

  it('gives every scenario a one-line note', () => {
    for (const s of SCENARIOS) {
      expect(s.note.trim().length, s.id).toBeGreaterThan(10);
      expect(s.note, s.id).not.toMatch(/\n/);
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(SCENARIOS)).toBe(true);
    for (const s of SCENARIOS) expect(Object.isFrozen(s), s.id).toBe(true);
  });
});

describe('scenariosByKind', () => {
  it('returns the scenarios of one kind in suite order, together covering the suite', () => {
    const all: SteeringScenario[] = [];
    for (const kind of SCENARIO_KINDS) {
      const some = scenariosByKind(kind);
      expect(some.length).toBeGreaterThanOrEqual(8);
      for (const s of some) expect(s.kind).toBe(kind);
      expect(ids(some)).toEqual(ids(SCENARIOS.filter((s) => s.kind === kind)));
      all.push(...some);
    }
    expect(new Set(ids(all))).toEqual(new Set(ids(SCENARIOS)));
  });

  it('rejects an unknown kind', () => {
    const e = thrown(() => scenariosByKind('sideways' as never));
    expect(e.code).toBe('INVALID_ARGUMENT');
  });
});

describe('selectScenarios', () => {
  it('returns a copy of the whole suite without options', () => {
    const all = selectScenarios();
    expect(all).toEqual([...SCENARIOS]);
    expect(all).not.toBe(SCENARIOS);
    expect(selectScenarios({})).toEqual([...SCENARIOS]);
  });

  it('filters by ids and keeps suite order', () => {
    const wanted = [SCENARIOS[30]!.id, SCENARIOS[2]!.id, SCENARIOS[17]!.id];
    expect(ids(selectScenarios({ ids: wanted }))).toEqual([SCENARIOS[2]!.id, SCENARIOS[17]!.id, SCENARIOS[30]!.id]);
    expect(ids(selectScenarios({ ids: ['weather-to-hostile', 'weather-to-hostile'] }))).toEqual(['weather-to-hostile']);
    expect(selectScenarios({ ids: [] })).toEqual([]);
  });

  it('filters by kinds and keeps suite order', () => {
    const got = selectScenarios({ kinds: ['away', 'neutral'] });
    expect(ids(got)).toEqual(ids(SCENARIOS.filter((s) => s.kind === 'away' || s.kind === 'neutral')));
    expect(got.length).toBe(scenariosByKind('away').length + scenariosByKind('neutral').length);
  });

  it('filters by target emotions and keeps suite order', () => {
    const got = selectScenarios({ emotions: ['loving', 'calm'] });
    expect(got.length).toBeGreaterThanOrEqual(2);
    for (const s of got) expect(['loving', 'calm']).toContain(s.target);
    expect(ids(got)).toEqual(ids(SCENARIOS.filter((s) => s.target === 'loving' || s.target === 'calm')));
  });

  it('applies limit after the other filters', () => {
    expect(ids(selectScenarios({ limit: 5 }))).toEqual(ids(SCENARIOS.slice(0, 5)));
    expect(selectScenarios({ limit: 0 })).toEqual([]);
    expect(selectScenarios({ limit: 10_000 }).length).toBe(SCENARIOS.length);
    const loaded = scenariosByKind('loaded');
    expect(ids(selectScenarios({ kinds: ['loaded'], limit: 3 }))).toEqual(ids(loaded.slice(0, 3)));
  });

  it('combines filters with AND', () => {
    const got = selectScenarios({ kinds: ['toward', 'away'], emotions: ['desperate'] });
    expect(got.length).toBeGreaterThanOrEqual(2);
    for (const s of got) {
      expect(['toward', 'away']).toContain(s.kind);
      expect(s.target).toBe('desperate');
    }
    expect(selectScenarios({ ids: ['weather-to-hostile'], kinds: ['away'] })).toEqual([]);
  });

  it('throws INVALID_ARGUMENT for unknown ids and names them', () => {
    const e = thrown(() => selectScenarios({ ids: ['weather-to-hostile', 'no-such-scenario'] }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('no-such-scenario');
    expect(thrown(() => selectScenarios({ ids: [42 as never] })).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => selectScenarios({ ids: 'weather-to-hostile' as never })).code).toBe('INVALID_ARGUMENT');
  });

  it('throws INVALID_ARGUMENT for unknown kinds, emotions and bad limits', () => {
    expect(thrown(() => selectScenarios({ kinds: ['sideways' as never] })).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => selectScenarios({ emotions: ['neutral'] })).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => selectScenarios({ emotions: ['Happy'] })).code).toBe('INVALID_ARGUMENT');
    for (const limit of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3' as never]) {
      expect(thrown(() => selectScenarios({ limit })).code, String(limit)).toBe('INVALID_ARGUMENT');
    }
  });
});
