// The bag-of-words baseline (study v2, issue 19): do the words of the stimuli alone tell the
// classes apart? Planted vocabularies are found, random texts stay at chance, and the mask of
// emotion words removes what a story gives away by naming its emotion.
import { describe, expect, it } from 'vitest';
import { bagOfWordsAccuracy, emotionWordMask, textFeatures } from '../../lib/evaluate/bag-of-words.js';
import { kFoldIndices } from '../../lib/evaluate/folds.js';
import { seededRandom } from '../../lib/evaluate/statistics.js';

const COMMON = 'the a and of to in was she he it that on with as for his her at by from they'.split(' ');

/** `perClass` texts per class of `words` common words, plus `planted` words drawn from the class's own list. */
function corpus(classes: number, perClass: number, opts: { words: number; planted: number; seed: number; extra?: (c: number, i: number) => string }) {
  const r = seededRandom(opts.seed);
  const own = Array.from({ length: classes }, (_, c) => Array.from({ length: 6 }, (_, k) => `cue${c}x${k}`));
  const texts: string[] = [];
  const labels: number[] = [];
  for (let i = 0; i < classes * perClass; i++) {
    const c = i % classes;
    const w = Array.from({ length: opts.words }, () => COMMON[Math.floor(r() * COMMON.length)]!);
    for (let k = 0; k < opts.planted; k++) w.splice(Math.floor(r() * w.length), 0, own[c]![Math.floor(r() * 6)]!);
    texts.push(`${w.join(' ')}${opts.extra ? ` ${opts.extra(c, i)}` : ''}.`);
    labels.push(c);
  }
  return { texts, labels };
}

describe('textFeatures', () => {
  it('lowercase words, inner apostrophes kept, masked words dropped and never bridged by a bigram', () => {
    expect(textFeatures("She didn't smile. HAPPY days!").features).toEqual(['she', "didn't", 'smile', 'happy', 'days']);
    const f = textFeatures('She was happy today', { bigrams: true, mask: new Set(['happy']) });
    expect(f.features).toEqual(['she', 'was', 'she was', 'today']);
    expect(f.masked).toBe(1);
  });

  it('the emotion mask holds every form of the built-in emotions and the names of others', () => {
    const mask = emotionWordMask(['happy', 'afraid', 'wistful']);
    for (const w of ['happy', 'happiness', 'unhappily', 'fear', 'afraid', 'fearful', 'wistful']) expect(mask).toContain(w);
    expect(mask).not.toContain('sad');
  });
});

describe('bagOfWordsAccuracy', () => {
  it('planted class vocabulary: high held-out accuracy', () => {
    const { texts, labels } = corpus(5, 20, { words: 40, planted: 3, seed: 1 });
    const folds = kFoldIndices(labels, 5, 0);
    const r = bagOfWordsAccuracy(texts, labels, folds);
    expect(r.accuracy).toBeGreaterThan(0.9);
    expect(r.correct).toHaveLength(100);
    expect(r.masked).toBe(0);
    // bigrams of random common words are ~400 noise features: naive Bayes loses some, far above chance still
    expect(bagOfWordsAccuracy(texts, labels, folds, { bigrams: true }).accuracy).toBeGreaterThan(0.6);
  });

  it('random texts: accuracy near chance', () => {
    const { texts, labels } = corpus(5, 40, { words: 40, planted: 0, seed: 2 });
    const folds = kFoldIndices(labels, 5, 0);
    // 200 predictions at chance 0.2: sd 0.028
    expect(bagOfWordsAccuracy(texts, labels, folds).accuracy).toBeLessThan(0.32);
    expect(bagOfWordsAccuracy(texts, labels, folds, { bigrams: true }).accuracy).toBeLessThan(0.32);
  });

  it('stories that name their emotion: high unmasked, chance once the emotion words are masked', () => {
    const emotions = ['happy', 'sad', 'afraid', 'calm'];
    const forms: Record<string, string[]> = { happy: ['happy', 'happiness', 'Happily'], sad: ['sad', 'sadness', 'Sadly'], afraid: ['afraid', 'fear', 'Fearful'], calm: ['calm', 'calmly', 'calmness'] };
    const { texts, labels } = corpus(4, 25, { words: 30, planted: 0, seed: 3, extra: (c, i) => `${forms[emotions[c]!]![i % 3]!} and ${forms[emotions[c]!]![(i + 1) % 3]!}` });
    const folds = kFoldIndices(labels, 5, 0);
    const plain = bagOfWordsAccuracy(texts, labels, folds);
    const masked = bagOfWordsAccuracy(texts, labels, folds, { mask: emotionWordMask(emotions) });
    expect(plain.accuracy).toBeGreaterThan(0.9);
    expect(masked.accuracy).toBeLessThan(0.4);
    expect(masked.masked).toBe(200);
  });

  it('rejects bad input', () => {
    expect(() => bagOfWordsAccuracy(['a'], [0], [[0], []])).toThrow(/two strings/);
    expect(() => bagOfWordsAccuracy(['a', 'b'], [0, 1], [[0], [1]], { alpha: 0 })).toThrow(/alpha/);
    expect(() => bagOfWordsAccuracy(['a', 'b'], [0], [[0], [1]])).toThrow(/labels/);
  });
});
