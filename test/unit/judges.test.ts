import { describe, expect, it } from 'vitest';
import type { Context } from '../../lib/runtime/context.js';
import { EmosteerError } from '../../lib/errors.js';
import { CATEGORIES, EMOTIONS } from '../../lib/stimuli/emotions.js';
import { judgeSuccess, type Judge } from '../../lib/steer/judges/judge.js';
import { EMOTION_LEXICON, LexiconJudge, SEVEN_CLASSES, SEVEN_CLASS_OF, inflections, toSevenClass } from '../../lib/steer/judges/lexicon.js';
import { LlmJudge, defaultJudgePrompt, softmax, type LogProbScorer } from '../../lib/steer/judges/llm-judge.js';
import { EMOTION_VALENCE, ValenceJudge } from '../../lib/steer/judges/valence.js';

const JOYFUL = 'What a wonderful day! We laughed and danced in the sunny park, smiling and cheerful, so happy to be together.';
const SAD = 'She sobbed alone in the empty room, heartbroken. Tears ran down her face as she grieved the loss of her friend.';
const ANGRY = 'He slammed the door, shouting with rage';
const NEUTRAL_TEXT = 'The train leaves the station at noon on weekdays.';

async function expectInvalid(p: Promise<unknown> | (() => unknown)): Promise<void> {
  try {
    if (typeof p === 'function') p();
    else await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EmosteerError);
    expect((e as EmosteerError).code).toBe('INVALID_ARGUMENT');
    return;
  }
  throw new Error('expected an INVALID_ARGUMENT error');
}

describe('ValenceJudge', () => {
  const judge = new ValenceJudge();

  it('maps every category to a valence sign', () => {
    expect(Object.keys(EMOTION_VALENCE).sort()).toEqual([...CATEGORIES].sort());
    expect(EMOTION_VALENCE.happy).toBe(1);
    expect(EMOTION_VALENCE.sad).toBe(-1);
    expect(EMOTION_VALENCE.reflective).toBe(0);
  });

  it('scores a joyful text higher on happy than a sad text, and vice versa on sad', async () => {
    const joyHappy = await judge.score(JOYFUL, 'happy');
    const sadHappy = await judge.score(SAD, 'happy');
    expect(joyHappy).toBeGreaterThan(0.3);
    expect(sadHappy).toBeLessThan(-0.3);
    expect(await judge.score(SAD, 'sad')).toBeGreaterThan(await judge.score(JOYFUL, 'sad'));
    expect(judge.valence(JOYFUL)).toBeGreaterThan(0);
    expect(judge.valence(JOYFUL)).toBeLessThanOrEqual(1);
    expect(judge.valence(SAD)).toBeGreaterThanOrEqual(-1);
  });

  it('is NaN for emotions without valence and rejects unknown ones', async () => {
    expect(await judge.score(JOYFUL, 'reflective')).toBeNaN();
    expect(await judge.score(JOYFUL, 'neutral')).toBeNaN();
    await expectInvalid(judge.score(JOYFUL, 'bored'));
  });

  it('classifies positive / negative / neutral and handles empty text', async () => {
    expect((await judge.classify(JOYFUL)).label).toBe('positive');
    expect((await judge.classify(SAD)).label).toBe('negative');
    expect((await judge.classify('The box is on the table.')).label).toBe('neutral');
    expect(judge.valence('')).toBe(0);
    expect(judge.valence('...')).toBe(0);
  });

  it("'whole' mode scores the text at once", async () => {
    const whole = new ValenceJudge({ mode: 'whole' });
    expect(await whole.score(JOYFUL, 'happy')).toBeGreaterThan(0.5);
    await expectInvalid(() => new ValenceJudge({ mode: 'x' as never }));
  });
});

describe('LexiconJudge', () => {
  const judge = new LexiconJudge();

  it('has 25-60 distinct cues for each of the 20 emotions and neutral', () => {
    expect(Object.keys(EMOTION_LEXICON).sort()).toEqual([...CATEGORIES].sort());
    for (const c of CATEGORIES) {
      const cues = EMOTION_LEXICON[c]!;
      expect(cues.length, c).toBeGreaterThanOrEqual(25);
      expect(cues.length, c).toBeLessThanOrEqual(60);
      expect(new Set(cues).size, c).toBe(cues.length);
    }
    expect(judge.categories).toEqual([...CATEGORIES]);
  });

  it('inflects cues without conflating unrelated words', () => {
    expect(inflections('sob')).toEqual(expect.arrayContaining(['sobs', 'sobbed', 'sobbing']));
    expect(inflections('sob')).not.toContain('sober');
    expect(inflections('happy')).toEqual(expect.arrayContaining(['happily', 'happier', 'happiness']));
    expect(inflections('smile')).toEqual(expect.arrayContaining(['smiles', 'smiled', 'smiling']));
    expect(inflections('cry')).toEqual(expect.arrayContaining(['cries', 'cried', 'crying']));
    expect(inflections('gentle')).toContain('gently');
    expect(inflections('care')).not.toContain('car');
  });

  it('scores a joyful text higher on happy than a sad text, and vice versa', async () => {
    expect(await judge.score(JOYFUL, 'happy')).toBeGreaterThan(await judge.score(SAD, 'happy'));
    expect(await judge.score(SAD, 'sad')).toBeGreaterThan(await judge.score(JOYFUL, 'sad'));
    expect((await judge.classify(JOYFUL)).label).toBe('happy');
    expect((await judge.classify(SAD)).label).toBe('sad');
  });

  it('counts hits per 100 words, case-insensitively, on word boundaries', async () => {
    // 3 hits (slammed, shouting, rage) in 7 words
    expect(await judge.score(ANGRY, 'angry')).toBeCloseTo(300 / 7, 10);
    expect(await judge.score(ANGRY.toUpperCase(), 'angry')).toBeCloseTo(300 / 7, 10);
    // 'sadness' is an inflection of 'sad'; 'crusade' and 'sadist' are not hits
    expect(judge.hits('Sadness. crusade sadist').hits.sad).toBe(1);
    // phrase cue and prefix cue
    expect(judge.hits('I have had enough of this').hits.exasperated).toBe(1);
    expect(judge.hits('furiously').hits.angry).toBe(1);
    expect(await judge.score('', 'happy')).toBe(0);
    await expectInvalid(judge.score('x', 'bored'));
  });

  it('classifies the anger example as angry -> anger', async () => {
    const c = await judge.classify(ANGRY);
    expect(c.label).toBe('angry');
    expect(Object.keys(c.scores)).toEqual([...CATEGORIES]);
    expect(toSevenClass(c.label)).toBe('anger');
    const c7 = judge.classify7(ANGRY);
    expect(c7.label).toBe('anger');
    expect(Object.keys(c7.scores).sort()).toEqual([...SEVEN_CLASSES].sort());
    expect(c7.scores.disgust).toBe(0);
  });

  it('labels neutral text neutral (with or without neutral cues)', async () => {
    expect((await judge.classify(NEUTRAL_TEXT)).label).toBe('neutral');
    expect(judge.classify7(NEUTRAL_TEXT).label).toBe('neutral');
    const chores = 'She sorted the mail, folded the laundry and put the groceries on the kitchen shelf.';
    expect((await judge.classify(chores)).label).toBe('neutral');
    expect(await judge.score(chores, 'neutral')).toBeGreaterThan(0);
  });

  it('weights neutral cues by neutralWeight', async () => {
    const text = 'laundry laundry tears';
    expect((await judge.classify(text)).label).toBe('sad'); // 2 x 0.5 vs 1: tie goes to the earlier category
    expect(await judge.score(text, 'neutral')).toBeCloseTo(100 * 2 * 0.5 / 3, 10);
    const full = new LexiconJudge({ neutralWeight: 1 });
    expect((await full.classify(text)).label).toBe('neutral');
  });

  it('maps the 20 emotions and neutral to 7 classes', async () => {
    expect(Object.keys(SEVEN_CLASS_OF).sort()).toEqual([...CATEGORIES].sort());
    for (const e of EMOTIONS) expect(SEVEN_CLASSES).toContain(toSevenClass(e));
    expect(toSevenClass('hostile')).toBe('anger');
    expect(toSevenClass('exasperated')).toBe('anger');
    expect(toSevenClass('anxious')).toBe('fear');
    expect(toSevenClass('desperate')).toBe('fear');
    expect(toSevenClass('calm')).toBe('joy');
    expect(toSevenClass('guilty')).toBe('sadness');
    expect(toSevenClass('reflective')).toBe('neutral');
    expect(toSevenClass('neutral')).toBe('neutral');
    await expectInvalid(() => toSevenClass('bored'));
  });

  it('classify7 counts a word once per class', () => {
    // 'dread' is both an afraid and an anxious cue: one fear hit, not two
    const r = judge.classify7('dread');
    expect(r.label).toBe('fear');
    expect(r.scores.fear).toBe(100);
  });

  it('accepts a custom lexicon and rejects a bad one', async () => {
    const custom = new LexiconJudge({ lexicon: { bored: ['yawn', 'dull'], neutral: ['table'] }, sevenClassOf: { bored: 'sadness', neutral: 'neutral' } });
    expect(custom.categories).toEqual(['neutral', 'bored']);
    expect((await custom.classify('He yawned.')).label).toBe('bored');
    expect(custom.classify7('He yawned.').label).toBe('sadness');
    await expectInvalid(() => new LexiconJudge({ lexicon: { x: [] } }));
    await expectInvalid(() => new LexiconJudge({ neutralWeight: -1 }));
  });
});

/** A fixed judge for judgeSuccess. */
function fixedJudge(scores: Record<string, number>): Judge {
  return { name: 'fixed', score: async (text) => scores[text] ?? NaN };
}

describe('judgeSuccess', () => {
  const judge = fixedJudge({ steered: 0.8, baseline: 0.3, nan: NaN });

  it('succeeds toward when the score rose by more than the margin', async () => {
    const r = await judgeSuccess(judge, 'happy', 'toward', 'steered', 'baseline', 0.1);
    expect(r).toEqual({ success: true, steered: 0.8, baseline: 0.3, delta: expect.closeTo(0.5, 12) });
    expect((await judgeSuccess(judge, 'happy', 'toward', 'steered', 'baseline', 0.5)).success).toBe(false); // not strictly more
    expect((await judgeSuccess(judge, 'happy', 'toward', 'steered', 'baseline', 0.49)).success).toBe(true);
  });

  it('succeeds away when the score fell by more than the margin', async () => {
    expect((await judgeSuccess(judge, 'happy', 'away', 'steered', 'baseline', 0)).success).toBe(false);
    const r = await judgeSuccess(judge, 'happy', 'away', 'baseline', 'steered', 0.1);
    expect(r.success).toBe(true);
    expect(r.delta).toBeCloseTo(-0.5, 12);
  });

  it('is never a success on NaN', async () => {
    expect((await judgeSuccess(judge, 'happy', 'toward', 'nan', 'baseline', -10)).success).toBe(false);
    expect((await judgeSuccess(judge, 'happy', 'away', 'steered', 'nan', -10)).success).toBe(false);
    const v = await judgeSuccess(new ValenceJudge(), 'reflective', 'toward', JOYFUL, SAD, 0);
    expect(v.success).toBe(false);
    expect(v.delta).toBeNaN();
  });

  it('works with the real judges', async () => {
    expect((await judgeSuccess(new ValenceJudge(), 'happy', 'toward', JOYFUL, SAD, 0.2)).success).toBe(true);
    expect((await judgeSuccess(new LexiconJudge(), 'sad', 'away', JOYFUL, SAD, 1)).success).toBe(true);
  });

  it('rejects bad arguments', async () => {
    await expectInvalid(judgeSuccess(judge, 'happy', 'up' as never, 'steered', 'baseline', 0));
    await expectInvalid(judgeSuccess(judge, 'happy', 'toward', 'steered', 'baseline', NaN));
    await expectInvalid(judgeSuccess(judge, 'happy', 'toward', 1 as never, 'baseline', 0));
  });
});

/**
 * A fake context: the log-probability of " <label>" is `table[label]` (default -10), with the
 * label split into `tokens[label]` pieces (default 1). Records every call.
 */
function fakeContext(table: Record<string, number>, tokens: Record<string, number> = {}) {
  const calls: { prompt: string; continuation: string }[] = [];
  const ctx: LogProbScorer = {
    async logProbs(prompt: string, continuation: string) {
      calls.push({ prompt, continuation });
      const label = continuation.slice(1);
      const total = table[label] ?? -10;
      const n = tokens[label] ?? 1;
      return { total, logProbs: new Float32Array(n).fill(total / n) };
    },
  };
  return { ctx, calls };
}

describe('LlmJudge', () => {
  it('a Context is a LogProbScorer (compile-time check)', () => {
    const asScorer = (c: Context): LogProbScorer => c;
    expect(typeof asScorer).toBe('function');
  });

  it('softmax is stable and handles -Infinity', () => {
    const p = softmax([1000, 1000 + Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
    expect(softmax([0, -Infinity])).toEqual([1, 0]);
    expect(softmax([-Infinity, -Infinity]).every(Number.isNaN)).toBe(true);
  });

  it('scores labels by softmax over the total log-probability of " <label>"', async () => {
    const { ctx, calls } = fakeContext({ happy: Math.log(0.6), sad: Math.log(0.3), neutral: Math.log(0.1) });
    const judge = new LlmJudge(ctx, { labels: ['happy', 'sad', 'neutral'] });
    expect(await judge.score('I won!', 'happy')).toBeCloseTo(0.6, 12);
    expect(await judge.score('I won!', 'sad')).toBeCloseTo(0.3, 12);
    const c = await judge.classify('I won!');
    expect(c.label).toBe('happy');
    const sum = Object.values(c.scores).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 12);
    // one logProbs call per label, with " label" continuations, then everything cached
    expect(calls.map((c) => c.continuation)).toEqual([' happy', ' sad', ' neutral']);
    expect(calls[0]!.prompt).toBe(defaultJudgePrompt('I won!', ['happy', 'sad', 'neutral']));
    expect(calls[0]!.prompt.endsWith('Answer:')).toBe(true);
    expect(judge.cacheEntries).toBe(1);
    await judge.score('Another text', 'sad');
    expect(calls).toHaveLength(6);
    await judge.classify('Another text');
    expect(calls).toHaveLength(6);
  });

  it('shares one computation between concurrent calls on the same text', async () => {
    const { ctx, calls } = fakeContext({ sad: -1 });
    const judge = new LlmJudge(ctx);
    const [a, b] = await Promise.all([judge.score('x', 'sad'), judge.score('x', 'happy')]);
    expect(calls).toHaveLength(CATEGORIES.length);
    expect(a).toBeGreaterThan(b);
    expect((await judge.classify('x')).label).toBe('sad');
    expect(judge.labels).toEqual([...CATEGORIES]);
  });

  it("'mean' aggregation divides by the label's token count", async () => {
    const { ctx } = fakeContext({ enthusiastic: -4, sad: -3 }, { enthusiastic: 4, sad: 1 });
    const total = new LlmJudge(ctx, { labels: ['enthusiastic', 'sad'] });
    const mean = new LlmJudge(ctx, { labels: ['enthusiastic', 'sad'], aggregate: 'mean' });
    expect((await total.classify('t')).label).toBe('sad');
    expect((await mean.classify('t')).label).toBe('enthusiastic');
    expect(await mean.score('t', 'enthusiastic')).toBeCloseTo(Math.exp(-1) / (Math.exp(-1) + Math.exp(-3)), 12);
  });

  it('uses a custom template, truncates long texts, evicts old cache entries', async () => {
    const { ctx, calls } = fakeContext({});
    const judge = new LlmJudge(ctx, { labels: ['a', 'b'], template: (t, l) => `${t}|${l.join('/')}|Answer:`, maxChars: 5, cacheSize: 1 });
    await judge.score('abcdefgh', 'a');
    expect(calls[0]!.prompt).toBe('abcde|a/b|Answer:');
    expect(await judge.score('abcdefgh', 'a')).toBeCloseTo(0.5, 12); // equal log-probs: uniform
    await judge.score('other', 'a');
    expect(judge.cacheEntries).toBe(1);
    await judge.score('abcdefgh', 'a'); // evicted: computed again
    expect(calls).toHaveLength(6);
  });

  it('does not cache failures', async () => {
    let fail = true;
    const ctx: LogProbScorer = {
      async logProbs() {
        if (fail) throw new Error('boom');
        return { total: -1, logProbs: [-1] };
      },
    };
    const judge = new LlmJudge(ctx, { labels: ['a', 'b'] });
    await expect(judge.score('t', 'a')).rejects.toThrow('boom');
    fail = false;
    expect(await judge.score('t', 'a')).toBeCloseTo(0.5, 12);
  });

  it('rejects bad arguments', async () => {
    const { ctx } = fakeContext({});
    await expectInvalid(() => new LlmJudge({} as never));
    await expectInvalid(() => new LlmJudge(ctx, { labels: ['a'] }));
    await expectInvalid(() => new LlmJudge(ctx, { labels: ['a', 'a'] }));
    await expectInvalid(() => new LlmJudge(ctx, { maxChars: 0 }));
    await expectInvalid(new LlmJudge(ctx).score('t', 'bored'));
  });
});
