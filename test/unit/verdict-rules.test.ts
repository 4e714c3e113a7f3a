import { describe, expect, it } from 'vitest';
import { acrossModels, allOf, bootstrapP, holm, intervalVerdict, MIN_MODELS_FOR_ACROSS_TEST } from '../../lib/study/verdict-rules.js';

describe('verdict rules', () => {
  it('an interval decides holds, does not hold and inconclusive in turn', () => {
    expect(intervalVerdict({ value: 0.2, ci95: [0.1, 0.3] }).verdict).toBe('holds');
    expect(intervalVerdict({ value: -0.2, ci95: [-0.3, -0.1] }).verdict).toBe('does not hold');
    expect(intervalVerdict({ value: 0.05, ci95: [-0.1, 0.2] }).verdict).toBe('inconclusive');
    // The equivalence band: a tight interval around 0 is "no effect", a wide one is not.
    expect(intervalVerdict({ value: 0.01, ci95: [-0.02, 0.03] }, { equivalence: 0.05 }).verdict).toBe('does not hold');
    expect(intervalVerdict({ value: 0.01, ci95: [-0.02, 0.08] }, { equivalence: 0.05 }).verdict).toBe('inconclusive');
    // The side the claim predicts, and another null.
    expect(intervalVerdict({ value: 0.2, ci95: [0.1, 0.3] }, { side: 'less' }).verdict).toBe('does not hold');
    expect(intervalVerdict({ value: 0.6, ci95: [0.55, 0.65] }, { null: 0.5 }).verdict).toBe('holds');
    expect(intervalVerdict(undefined).verdict).toBe('cannot be tested here');
    expect(intervalVerdict({ value: Number.NaN, ci95: [Number.NaN, Number.NaN] }).verdict).toBe('cannot be tested here');
    expect(intervalVerdict({ value: 0.2, ci95: [0.1, 0.3] }).reason).toMatch(/0\.200 \[0\.100, 0\.300\] lies above 0/);
  });

  it('all parts must hold; one failure fails; the rest is inconclusive', () => {
    const h = { name: 'a', verdict: 'holds' as const, reason: '' };
    const n = { name: 'b', verdict: 'does not hold' as const, reason: '' };
    const i = { name: 'c', verdict: 'inconclusive' as const, reason: '' };
    expect(allOf([h, h]).verdict).toBe('holds');
    expect(allOf([h, n]).verdict).toBe('does not hold');
    expect(allOf([h, i]).verdict).toBe('inconclusive');
    expect(allOf([i, n]).verdict).toBe('does not hold');
    expect(allOf([h, { name: 'd', verdict: 'cannot be tested here', reason: '' }]).verdict).toBe('cannot be tested here');
  });

  it('across models: a sign count, and no test below 6 models', () => {
    const a = acrossModels(['holds', 'holds', 'cannot be tested here']);
    expect(a).toMatchObject({ tested: 2, holds: 2, verdict: 'holds' });
    expect(a.sentence).toMatch(/holds in 2 of 2 models.*not testable across models below about 6 paired models/);
    expect(acrossModels(['holds', 'does not hold', 'holds']).verdict).toBe('inconclusive');
    expect(acrossModels(['does not hold', 'does not hold']).verdict).toBe('does not hold');
    expect(acrossModels(['does not hold', 'inconclusive']).verdict).toBe('inconclusive');
    expect(acrossModels([]).verdict).toBe('cannot be tested here');
    expect(acrossModels(Array(MIN_MODELS_FOR_ACROSS_TEST).fill('holds')).sentence).toMatch(/a test across models is possible with 6 models/);
  });

  it("Holm's adjustment and a bootstrap p-value", () => {
    // Classic example: p = 0.01, 0.04, 0.03 with m = 3 -> 0.03, 0.06, 0.06.
    const adj = holm([0.01, 0.04, 0.03]);
    expect(adj[0]).toBeCloseTo(0.03, 12);
    expect(adj[1]).toBeCloseTo(0.06, 12);
    expect(adj[2]).toBeCloseTo(0.06, 12);
    expect(holm([0.5, 0.9])).toEqual([1, 1]); // 2 x 0.5 = 1, then monotone
    const above = Array.from({ length: 999 }, (_, i) => 1 + i / 1000);
    expect(bootstrapP(above)).toBeCloseTo(2 / 1000, 12);
    const centred = Array.from({ length: 1000 }, (_, i) => i - 499.5);
    expect(bootstrapP(centred)).toBeGreaterThan(0.9);
  });
});
