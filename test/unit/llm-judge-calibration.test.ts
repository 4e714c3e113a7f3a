import { describe, expect, it } from 'vitest';
import { calibrateDistribution, CONTENT_FREE_TEXTS, judgeQuestion, LlmJudge, type JudgePrompt, type LogProbScorer } from '../../lib/steer/judges/llm-judge.js';
import { llmClassView } from '../../lib/steer/judges/judge-class-views.js';
import { validateJudge, type LabelledText } from '../../lib/steer/judges/judge-validation.js';
import { PairwiseJudge } from '../../lib/steer/judges/pairwise-judge.js';
import { pairwiseFigures, validatePairwise, validationPairs } from '../../lib/steer/judges/pairwise-validation.js';

const promptText = (p: JudgePrompt) => (typeof p === 'string' ? p : p.messages.map((m) => `${m.role}:${m.content}`).join('\n'));

/**
 * A judge model with a planted label prior: label l gets log-probability
 * prior[l] + (the text mentions l ? signal : 0). Records every prompt and continuation.
 */
function biasedScorer(prior: Record<string, number>, signal: number) {
  const calls: { prompt: JudgePrompt; continuation: string }[] = [];
  const ctx: LogProbScorer = {
    async logProbs(prompt, continuation) {
      calls.push({ prompt, continuation });
      const label = continuation.trim();
      const text = /Text: "([^"]*)"/.exec(promptText(prompt))?.[1] ?? '';
      const total = (prior[label] ?? 0) + (text.includes(label) ? signal : 0);
      return { total, logProbs: [total] };
    },
  };
  return { ctx, calls };
}

describe('LLM judge: chat format and contextual calibration', () => {
  it("'chat' sends the question as the user's message and scores the bare label; 'plain' scores ' label'", async () => {
    expect(judgeQuestion('Q?', ['a', 'b'], 'chat', '')).toEqual({ prompt: { messages: [{ role: 'user', content: 'Q?' }] }, continuations: ['a', 'b'] });
    expect(judgeQuestion('Q?', ['a'], 'chat', 'Be fair.').prompt).toEqual({ messages: [{ role: 'system', content: 'Be fair.' }, { role: 'user', content: 'Q?' }] });
    expect(judgeQuestion('Q?', ['a', 'b'], 'plain')).toEqual({ prompt: 'Q?', continuations: [' a', ' b'] });
    const { ctx, calls } = biasedScorer({}, 1);
    const judge = new LlmJudge(ctx, { labels: ['joy', 'fear'], format: 'chat' });
    await judge.classify('some joy');
    expect(calls.map((c) => c.continuation)).toEqual(['joy', 'fear']);
    expect(typeof calls[0]!.prompt).toBe('object');
    expect(judge.format).toBe('chat');
  });

  it('a planted prior for one label wins every raw vote; calibration removes it and recovers the text', async () => {
    // 'fear' gets +3 whatever the text; a mention of a label adds +2.
    const { ctx } = biasedScorer({ fear: 3 }, 2);
    const labels = ['joy', 'fear', 'anger'];
    const raw = new LlmJudge(ctx, { labels });
    const cal = new LlmJudge(ctx, { labels, calibration: true });
    const texts = ['pure joy here', 'such anger', 'fear itself'];
    expect(await Promise.all(texts.map(async (t) => (await raw.classify(t)).label))).toEqual(['fear', 'fear', 'fear']);
    expect(await Promise.all(texts.map(async (t) => (await cal.classify(t)).label))).toEqual(['joy', 'anger', 'fear']);
    const d = await cal.distribution('pure joy here');
    expect(d.raw.fear).toBeGreaterThan(d.raw.joy!);
    expect(Object.values(d.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const cf = await cal.contentFreeDistribution();
    expect(cf!.fear).toBeGreaterThan(0.8);
    expect(await raw.contentFreeDistribution()).toBeNull();
    expect(cal.contentFreeTexts).toEqual(CONTENT_FREE_TEXTS);
  });

  it('calibrateDistribution divides by the content-free prior and renormalises', () => {
    const p = calibrateDistribution([0.6, 0.3, 0.1], [0.6, 0.2, 0.2]);
    expect(p[0]).toBeCloseTo(1 / 3.0, 12);
    expect(p[1]).toBeCloseTo(1.5 / 3.0, 12);
    expect(() => calibrateDistribution([0.5, 0.5], [1])).toThrow(/one content-free probability per label/);
  });

  it('rejects bad options', () => {
    const { ctx } = biasedScorer({}, 1);
    expect(() => new LlmJudge(ctx, { format: 'xml' as never })).toThrow(/format/);
    expect(() => new LlmJudge(ctx, { calibration: [] })).toThrow(/calibration/);
  });

  it('validates through validateJudge: calibration turns a judge that does not vote into one that does', async () => {
    const labels = ['joy', 'fear', 'anger', 'neutral'];
    const texts: LabelledText[] = labels.flatMap((c) => [0, 1, 2, 3, 4].map((i) => ({ text: `story ${i} of ${c}`, category: c, source: 'planted' })));
    const { ctx } = biasedScorer({ fear: 4 }, 2);
    const raw = await validateJudge(llmClassView(new LlmJudge(ctx, { labels })), texts, { resamples: 300 });
    const cal = await validateJudge(llmClassView(new LlmJudge(ctx, { labels, calibration: true })), texts, { resamples: 300 });
    expect(raw.votes).toBe(false);
    expect(cal.votes).toBe(true);
    expect(cal.macroF1.value).toBeCloseTo(1, 6);
  });
});

/**
 * A pairwise judge model: it prefers the text that mentions the emotion by `signal` nats and
 * answers "1" with `firstBias` extra nats whatever the texts.
 */
function pairScorer(signal: number, firstBias: number): LogProbScorer {
  return {
    async logProbs(prompt, continuation) {
      const q = promptText(prompt);
      const emotion = /expresses more (\w+)\?/.exec(q)![1]!;
      const one = /Text 1: "([^"]*)"/.exec(q)![1]!;
      const two = /Text 2: "([^"]*)"/.exec(q)![1]!;
      const c = continuation.trim();
      const own = c === 'Text 1' ? one : two;
      const total = (own.includes(emotion) ? signal : 0) + (c === 'Text 1' ? firstBias : 0);
      return { total, logProbs: [total] };
    },
  };
}

describe('PairwiseJudge', () => {
  it('asks in both orders, so a planted position bias cancels', async () => {
    const judge = new PairwiseJudge(pairScorer(2, 3));
    const c = await judge.compare('a text of joy', 'a plain text', 'joy');
    // Each order alone is dominated by the bias for "1"...
    expect(c.orders[0]).toBeGreaterThan(0.99);
    expect(c.orders[1]).toBeLessThan(0.5);
    // ...their mean favours the joyful text, and the bias shows.
    expect(c.probability).toBeGreaterThan(0.5);
    expect(c.positionBias).toBeGreaterThan(0.3);
    const flipped = await judge.compare('a plain text', 'a text of joy', 'joy');
    expect(flipped.probability).toBeCloseTo(1 - c.probability, 12);
    const blind = await new PairwiseJudge(pairScorer(0, 3)).compare('a text of joy', 'a plain text', 'joy');
    expect(blind.probability).toBeCloseTo(0.5, 12);
  });

  it('rejects bad input', async () => {
    const judge = new PairwiseJudge(pairScorer(1, 0));
    await expect(judge.compare('a', 1 as never, 'joy')).rejects.toThrow(/two strings/);
    await expect(judge.compare('a', 'b', ' ')).rejects.toThrow(/emotion/);
    expect(() => new PairwiseJudge({} as never)).toThrow(/logProbs/);
    expect(() => new PairwiseJudge(pairScorer(1, 0), { answers: ['A', 'A'] })).toThrow(/answers/);
  });
});

describe('pairwise validation', () => {
  const texts: LabelledText[] = ['joy', 'fear', 'anger', 'neutral'].flatMap((c) => [0, 1, 2].map((i) => ({ text: `passage ${i} about ${c}`, category: c, source: 'planted' })));

  it('builds stratified pairs: every emotion asked about, never neutral, never a text against its own class', () => {
    const pairs = validationPairs(texts, { perEmotion: 2 });
    expect(pairs).toHaveLength(6);
    expect(new Set(pairs.map((p) => p.emotion))).toEqual(new Set(['joy', 'fear', 'anger']));
    for (const p of pairs) {
      expect(p.target.category).toBe(p.emotion);
      expect(p.other.category).not.toBe(p.emotion);
    }
    expect(() => validationPairs(texts.filter((t) => t.category === 'joy'))).toThrow(/2 categories/);
  });

  it('a judge that sees the emotion votes; a blind one with a position bias does not', async () => {
    const pairs = validationPairs(texts, { perEmotion: 3 });
    const seeing = await validatePairwise(new PairwiseJudge(pairScorer(2, 3)), pairs, { resamples: 300 });
    expect(seeing.accuracy.value).toBe(1);
    expect(seeing.votes).toBe(true);
    expect(seeing.orderDisagreement).toBe(1); // each order alone always said "1"
    const blind = await validatePairwise(new PairwiseJudge(pairScorer(0, 3)), pairs, { resamples: 300 });
    expect(blind.accuracy.value).toBe(0);
    expect(blind.votes).toBe(false);
    expect(() => pairwiseFigures('x', pairs, [], {})).toThrow(/comparisons/);
  });
});
