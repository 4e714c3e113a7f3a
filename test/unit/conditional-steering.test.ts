// Conditional steering rules (lib/steer/conditional-steering.ts) over planted meter readings:
// when they switch on and off, hold and release, the prompt mode, and bad rules.
import { describe, expect, it } from 'vitest';
import { conditionalSteering, type ConditionalSteeringTrace } from '../../lib/steer/conditional-steering.js';
import type { Steering } from '../../lib/runtime/steering.js';

const THEN: Steering = { vectors: new Float32Array(8), layers: [1, 1] };

/** Runs a schedule over planted 'angry' readings: the prompt call, then one call per token. */
function drive(rule: Parameters<typeof conditionalSteering>[0], angry: number[]): boolean[] {
  const trace: ConditionalSteeringTrace = { on: [] };
  const s = conditionalSteering(rule, trace);
  expect(s({ index: 0, text: '' })).toBeNull(); // the prompt: nothing read yet
  const out = angry.map((a, i) => s({ index: i, text: '', reading: { angry: a, calm: 0 } }) === THEN);
  expect(trace.on).toEqual(out);
  return out;
}

describe('conditionalSteering', () => {
  it("'reply': on when the reading crosses the threshold, held for `hold` tokens, off at the first reading past `release`", () => {
    const readings = [0.1, 0.2, 0.35, 0.1, 0.1, 0.1, 0.1, 0.1, 0.4, 0.25, 0.1];
    expect(drive({ when: { emotion: 'angry', above: 0.3 }, then: THEN, hold: 3 }, readings))
      .toEqual([false, false, true, true, true, false, false, false, true, true, true, false].slice(0, readings.length));
    // with release 0.2 the 0.25 after the second crossing keeps it on past the hold
    const held = drive({ when: { emotion: 'angry', above: 0.3, release: 0.2 }, then: THEN, hold: 1 }, [0.4, 0.25, 0.25, 0.1, 0.1]);
    expect(held).toEqual([true, true, true, false, false]);
  });

  it('never fires when the reading stays below the threshold; `below` fires on low readings', () => {
    expect(drive({ when: { emotion: 'angry', above: 0.3 }, then: THEN }, [0.1, 0.29, 0.3, 0.2])).toEqual([false, false, false, false]);
    expect(drive({ when: { emotion: 'angry', below: 0 }, then: THEN, hold: 1 }, [0.1, -0.2, 0.3])).toEqual([false, true, false]);
  });

  it("'prompt': decided once from the first reading (the prompt's last token), for the whole reply", () => {
    expect(drive({ when: { emotion: 'angry', above: 0.3 }, then: THEN, for: 'prompt' }, [0.5, 0.0, 0.0])).toEqual([true, true, true]);
    expect(drive({ when: { emotion: 'angry', above: 0.3 }, then: THEN, for: 'prompt' }, [0.1, 0.9, 0.9])).toEqual([false, false, false]);
  });

  it('a reading without the emotion, a missing probe and malformed rules are typed errors', () => {
    const s = conditionalSteering({ when: { emotion: 'angry', above: 0.3 }, then: THEN });
    expect(() => s({ index: 0, text: '', reading: { calm: 1 } })).toThrow(expect.objectContaining({ code: 'UNKNOWN_EMOTION' }));
    const t = conditionalSteering({ when: { emotion: 'angry', above: 0.3 }, then: THEN });
    expect(() => t({ index: 3, text: 'abc' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const bad = (rule: object) => expect(() => conditionalSteering(rule as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    bad({ when: { emotion: 'angry' }, then: THEN });
    bad({ when: { emotion: 'angry', above: 0.3, below: 0.1 }, then: THEN });
    bad({ when: { emotion: 'angry', above: Number.NaN }, then: THEN });
    bad({ when: { emotion: 'angry', above: 0.3, release: 0.5 }, then: THEN });
    bad({ when: { emotion: 'angry', above: 0.3 }, then: THEN, hold: 0 });
    bad({ when: { emotion: 'angry', above: 0.3 }, then: THEN, for: 'always' });
    bad({ when: { emotion: 'angry', above: 0.3 }, then: { ...THEN, positions: 'prompt' } });
  });
});
