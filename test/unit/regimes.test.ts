import { describe, expect, it } from 'vitest';
import { EmosteerError } from '../../lib/errors.js';
import {
  DEFAULT_REGIME_THRESHOLDS,
  classifyRegime,
  distinctN,
  isGarbageChunk,
  measureText,
  nonWordRate,
  repeatedNgramRate,
  wordTokens,
  type RegimeMetrics,
} from '../../lib/steer/regimes.js';

function expectInvalid(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EmosteerError);
    expect((e as EmosteerError).code).toBe('INVALID_ARGUMENT');
    return;
  }
  throw new Error('expected an INVALID_ARGUMENT error');
}

describe('n-gram metrics', () => {
  it('repeatedNgramRate on hand-counted examples', () => {
    // trigrams: abc bca cab abc bca -> 5, the last two were seen before -> 2/5
    expect(repeatedNgramRate(['a', 'b', 'c', 'a', 'b', 'c', 'a'], 3)).toBeCloseTo(2 / 5, 12);
    // bigrams of a b a b: ab ba ab -> 1 of 3 repeats
    expect(repeatedNgramRate(['a', 'b', 'a', 'b'], 2)).toBeCloseTo(1 / 3, 12);
    // unigrams: x x x x -> 3 of 4 repeat
    expect(repeatedNgramRate(['x', 'x', 'x', 'x'], 1)).toBe(0.75);
    // all distinct
    expect(repeatedNgramRate(['the', 'cat', 'sat', 'on', 'a', 'mat'])).toBe(0);
    // token ids work too; default n = 3
    expect(repeatedNgramRate([1, 2, 3, 1, 2, 3])).toBeCloseTo(1 / 4, 12);
    // shorter than n
    expect(repeatedNgramRate(['a', 'b'], 3)).toBe(0);
    expect(repeatedNgramRate([], 3)).toBe(0);
  });

  it('keeps n-grams apart exactly (no separator collisions)', () => {
    expect(repeatedNgramRate(['a b', 'c', 'a', 'b c'], 2)).toBe(0);
    expect(repeatedNgramRate([1, 11, 1, 1, 1], 2)).toBeCloseTo(1 / 4, 12); // (1,11) (11,1) (1,1) (1,1)
  });

  it('distinctN on hand-counted examples', () => {
    // bigrams: ab bc ca ab bc ca -> 3 distinct of 6
    expect(distinctN(['a', 'b', 'c', 'a', 'b', 'c', 'a'], 2)).toBe(0.5);
    // unigrams: 2 distinct of 4
    expect(distinctN(['x', 'y', 'x', 'y'], 1)).toBe(0.5);
    expect(distinctN(['a', 'b', 'c'], 2)).toBe(1);
    expect(distinctN(['a'], 2)).toBe(1);
    // distinct-n = 1 - repeated rate (same counting)
    const t = 'to be or not to be that is the question to be or not'.split(' ');
    expect(distinctN(t, 3)).toBeCloseTo(1 - repeatedNgramRate(t, 3), 12);
  });

  it('rejects a bad n', () => {
    expectInvalid(() => repeatedNgramRate(['a'], 0));
    expectInvalid(() => distinctN(['a'], 1.5));
    expectInvalid(() => distinctN('abc' as never, 1));
  });
});

describe('wordTokens', () => {
  it('splits on punctuation and whitespace, lower-cases, keeps contractions', () => {
    expect(wordTokens("Don't stop! The well-known cat, 42 times.")).toEqual(["don't", 'stop', 'the', 'well-known', 'cat', '42', 'times']);
    expect(wordTokens('  ...  ')).toEqual([]);
    expect(wordTokens('Straße café')).toEqual(['straße', 'café']);
  });

  it('makes each Han / Kana character a word of its own', () => {
    expect(wordTokens('I was 找了摸索 desperate')).toEqual(['i', 'was', '找', '了', '摸', '索', 'desperate']);
    expect(wordTokens('ひらがなカタカナ')).toHaveLength(8);
    expect(wordTokens('안녕하세요 세계')).toEqual(['안녕하세요', '세계']);
  });
});

describe('nonWordRate', () => {
  it('flags crude garbage, not words, numbers, URLs or separators', () => {
    for (const ok of ['hello', 'Hello,', "don't", '42', '3.14', 'https://example.com/a/b', '----', '...', 'HTTPS', 'rhythm', '找了摸索', 'GPU的性能', 'COVID-19']) {
      expect(isGarbageChunk(ok), ok).toBe(false);
    }
    for (const bad of ['#$%&@', 'aaaah', 'qwrtp', 'a1b2c3', 'pрivет', 'x\uFFFDy', 'abcdefghijklmnopqrstuvwxyzabcdefg']) {
      expect(isGarbageChunk(bad), bad).toBe(true);
    }
    expect(nonWordRate('hello world #$%&@ qwrtp')).toBe(0.5);
    expect(nonWordRate('')).toBe(0);
  });
});

describe('measureText', () => {
  it('measures a loop and a normal sentence', () => {
    const loop = measureText('I am sad. I am sad. I am sad. I am sad. I am sad.');
    expect(loop.length).toBe(15);
    // trigrams: 13; distinct: "i am sad", "am sad i", "sad i am" -> 10 repeats
    expect(loop.repeatedTrigramRate).toBeCloseTo(10 / 13, 12);
    // bigrams: 14; distinct: "i am", "am sad", "sad i" -> 3/14
    expect(loop.distinct2).toBeCloseTo(3 / 14, 12);
    expect(loop.nonWordRate).toBe(0);
    const normal = measureText('She walked to the market, bought fresh bread, and came home before the rain started.');
    expect(normal.repeatedTrigramRate).toBe(0);
    expect(normal.distinct2).toBe(1);
  });
});

describe('classifyRegime', () => {
  const base: RegimeMetrics = { perplexityRatio: 1.2, repeatedTrigramRate: 0.02, distinct2: 0.95, length: 120, baselineLength: 128 };

  it('documents its defaults', () => {
    expect(DEFAULT_REGIME_THRESHOLDS).toEqual({
      maxPerplexityRatio: 20,
      maxNonWordRate: 0.5,
      minLengthRatio: 0.2,
      maxRepeatedTrigramRate: 0.35,
      minDistinct2: 0.4,
      minLength: 8,
    });
    expect(Object.isFrozen(DEFAULT_REGIME_THRESHOLDS)).toBe(true);
  });

  it('reaches each regime', () => {
    expect(classifyRegime(base)).toBe('surgical');
    expect(classifyRegime({ ...base, repeatedTrigramRate: 0.8, distinct2: 0.2, perplexityRatio: 0.3 })).toBe('repetitive');
    expect(classifyRegime({ ...base, perplexityRatio: 25 })).toBe('explosive');
    expect(classifyRegime({ ...base, perplexityRatio: Infinity })).toBe('explosive');
    expect(classifyRegime({ ...base, nonWordRate: 0.7 })).toBe('explosive');
    expect(classifyRegime({ ...base, length: 10 })).toBe('explosive'); // collapsed to < 20% of 128
  });

  it('explosive wins over repetitive', () => {
    expect(classifyRegime({ ...base, perplexityRatio: 30, repeatedTrigramRate: 0.9, distinct2: 0.1 })).toBe('explosive');
  });

  it('treats thresholds as strict', () => {
    expect(classifyRegime({ ...base, perplexityRatio: 20 })).toBe('surgical');
    expect(classifyRegime({ ...base, perplexityRatio: 20.0001 })).toBe('explosive');
    expect(classifyRegime({ ...base, repeatedTrigramRate: 0.35 })).toBe('surgical');
    expect(classifyRegime({ ...base, repeatedTrigramRate: 0.3501 })).toBe('repetitive');
    expect(classifyRegime({ ...base, distinct2: 0.4 })).toBe('surgical');
    expect(classifyRegime({ ...base, distinct2: 0.3999 })).toBe('repetitive');
    expect(classifyRegime({ ...base, nonWordRate: 0.5 })).toBe('surgical');
    expect(classifyRegime({ ...base, nonWordRate: 0.51 })).toBe('explosive');
    // length: 0.2 x 100 = 20
    expect(classifyRegime({ ...base, length: 20, baselineLength: 100 })).toBe('surgical');
    expect(classifyRegime({ ...base, length: 19, baselineLength: 100 })).toBe('explosive');
  });

  it('skips repetition and collapse checks on very short texts', () => {
    // 5 words cannot show a loop; a 5-word baseline cannot show a collapse
    expect(classifyRegime({ ...base, length: 5, baselineLength: 5, repeatedTrigramRate: 1, distinct2: 0.25 })).toBe('surgical');
    expect(classifyRegime({ ...base, length: 8, baselineLength: 8, repeatedTrigramRate: 1, distinct2: 0.25 })).toBe('repetitive');
    expect(classifyRegime({ ...base, length: 1, baselineLength: 7 })).toBe('surgical');
  });

  it('takes partial custom thresholds', () => {
    expect(classifyRegime({ ...base, perplexityRatio: 3 }, { maxPerplexityRatio: 2 })).toBe('explosive');
    expect(classifyRegime({ ...base, length: 1 }, { minLengthRatio: 0 })).toBe('surgical');
    expect(classifyRegime({ ...base, distinct2: 0.5 }, { minDistinct2: 0.6 })).toBe('repetitive');
  });

  it('rejects invalid metrics and thresholds', () => {
    expectInvalid(() => classifyRegime({ ...base, perplexityRatio: NaN }));
    expectInvalid(() => classifyRegime({ ...base, perplexityRatio: -1 }));
    expectInvalid(() => classifyRegime({ ...base, repeatedTrigramRate: 1.5 }));
    expectInvalid(() => classifyRegime({ ...base, distinct2: Infinity }));
    expectInvalid(() => classifyRegime({ ...base, length: NaN }));
    expectInvalid(() => classifyRegime({ ...base, nonWordRate: 2 }));
    expectInvalid(() => classifyRegime({ ...base }, { maxPerplexityRatio: NaN }));
    expectInvalid(() => classifyRegime(null as never));
  });

  it('classifies measured texts end to end', () => {
    const loop = measureText('I am sad. I am sad. I am sad. I am sad. I am sad.');
    expect(classifyRegime({ ...loop, perplexityRatio: 0.4, baselineLength: 16 })).toBe('repetitive');
    const garbage = measureText('#$%&@ qwrtp zzzzz a1b2c3 !!!!?? pрivет xkcdq');
    expect(classifyRegime({ ...garbage, perplexityRatio: 1, baselineLength: 7 })).toBe('explosive');
  });
});
