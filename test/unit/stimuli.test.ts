import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmosteerError } from '../../lib/errors.js';
import {
  CATEGORIES,
  COMPREHENSION_PASSAGES,
  EMOTIONS,
  EMOTION_WORD_FORMS,
  GENERATION_TEMPLATES,
  NEUTRAL,
  NEUTRAL_FACTS,
  NEUTRAL_PROMPTS,
  STIMULI_VERSION,
  defaultStimuli,
  findEmotionWords,
  generationPrompt,
  loadStimuli,
  neutralPrompt,
  validateStimuli,
} from '../../lib/stimuli/index.js';

const PAPER_ORDER = [
  'happy', 'sad', 'calm', 'desperate', 'afraid', 'angry', 'proud', 'guilty', 'nervous', 'hopeful',
  'brooding', 'gloomy', 'reflective', 'enthusiastic', 'hostile', 'loving', 'exasperated', 'blissful',
  'anxious', 'grateful',
];

/** Sentence ends: terminal punctuation (plus closing quotes) before a capital, a quote or the end. */
function sentenceCount(text: string): number {
  return (text.match(/[.!?]+["”’)]*(?=\s+["“A-Z0-9]|\s*$)/g) ?? []).length;
}

/** Drops quoted speech, where characters may say "I" or "you". */
function narration(text: string): string {
  return text.replace(/"[^"]*"/g, ' ').replace(/“[^”]*”/g, ' ');
}

const FIRST_SECOND_PERSON = /\b(?:I|[Mm]e|[Mm]y|[Mm]ine|[Mm]yself|[Ww]e|[Uu]s|[Oo]ur|[Oo]urs|[Oo]urselves|[Yy]ou|[Yy]our|[Yy]ours|[Yy]ourself|[Yy]ourselves)\b/;

describe('emotion categories', () => {
  it('has the 20 emotions of the paper in order, then neutral', () => {
    expect([...EMOTIONS]).toEqual(PAPER_ORDER);
    expect(NEUTRAL).toBe('neutral');
    expect([...CATEGORIES]).toEqual([...PAPER_ORDER, 'neutral']);
    for (const e of EMOTIONS) expect(EMOTION_WORD_FORMS[e]).toContain(e);
  });

  it('findEmotionWords catches names, inflections and derivations, whole words only', () => {
    expect(findEmotionWords('She felt happiness.', 'happy')).toEqual(['happiness']);
    expect(findEmotionWords('Fear gripped him', 'afraid')).toEqual(['Fear']);
    expect(findEmotionWords('He was ANGRY, and his anger grew.', 'angry')).toEqual(['ANGRY', 'anger']);
    expect(findEmotionWords('The lake was calm; she calmly waited.', 'calm')).toEqual(['calm', 'calmly']);
    expect(findEmotionWords("Love's labour, lovingly done.", 'loving')).toEqual(['Love', 'lovingly']);
    expect(findEmotionWords('A well-loved book.', 'loving')).toEqual(['loved']);
    // Substrings of other words do not count.
    expect(findEmotionWords('The saddle was sadly worn.', 'sad')).toEqual(['sadly']);
    expect(findEmotionWords('The glover measured her hand.', 'loving')).toEqual([]);
    expect(findEmotionWords('Nothing to see here.', 'happy')).toEqual([]);
    // Custom emotions have no known forms.
    expect(findEmotionWords('jealous and jealousy', 'jealous')).toEqual([]);
  });
});

describe('generation prompts', () => {
  it('has 10 templates, each with {emotion} and an instruction not to name it', () => {
    expect(GENERATION_TEMPLATES).toHaveLength(10);
    for (const t of GENERATION_TEMPLATES) {
      expect(t).toContain('{emotion}');
      expect(t).toMatch(/\b(?:do not|don't|never) name the emotion\b/i);
      expect(t).toMatch(/three to five paragraphs/);
    }
    // The five kinds of the paper, in order.
    expect(GENERATION_TEMPLATES[0]).toMatch(/short story/);
    expect(GENERATION_TEMPLATES[1]).toMatch(/internal monologue/);
    expect(GENERATION_TEMPLATES[2]).toMatch(/overwhelmed/);
    expect(GENERATION_TEMPLATES[3]).toMatch(/vivid moment/);
    expect(GENERATION_TEMPLATES[4]).toMatch(/^Show, don't tell/);
    // Then a second wording of each kind, in the same order.
    expect(GENERATION_TEMPLATES[5]).toMatch(/short story/);
    expect(GENERATION_TEMPLATES[6]).toMatch(/thoughts/);
    expect(GENERATION_TEMPLATES[7]).toMatch(/floods/);
    expect(GENERATION_TEMPLATES[8]).toMatch(/one brief moment/);
    expect(GENERATION_TEMPLATES[9]).toMatch(/^Show, don't tell/);
    expect(new Set(GENERATION_TEMPLATES).size).toBe(10);
  });

  it('has at least 12 distinct neutral prompts about everyday chores', () => {
    expect(NEUTRAL_PROMPTS.length).toBeGreaterThanOrEqual(12);
    expect(new Set(NEUTRAL_PROMPTS).size).toBe(NEUTRAL_PROMPTS.length);
    for (const p of NEUTRAL_PROMPTS) {
      expect(p).not.toContain('{emotion}');
      expect(p).toMatch(/without any particular emotion/);
      for (const e of EMOTIONS) expect(findEmotionWords(p, e)).toEqual([]);
    }
    const all = NEUTRAL_PROMPTS.join(' ');
    for (const chore of ['mail', 'laundry', 'bus stop', 'plants', 'grocery list', 'dishes']) expect(all).toContain(chore);
  });

  it('rotates through the templates and fills {emotion}', () => {
    for (let i = 0; i < 12; i++) {
      const p = generationPrompt('afraid', i);
      expect(p).toBe(GENERATION_TEMPLATES[i % 10]!.replaceAll('{emotion}', 'afraid'));
      expect(p).not.toContain('{emotion}');
      expect(p).toContain('afraid');
    }
    expect(generationPrompt('sad', 12)).toBe(generationPrompt('sad', 2));
    expect(generationPrompt('sad', 7)).not.toBe(generationPrompt('sad', 2));
    expect(generationPrompt('froh', 1, ['A {emotion}', 'B {emotion} {emotion}'])).toBe('B froh froh');
    expect(neutralPrompt(0)).toBe(NEUTRAL_PROMPTS[0]);
    expect(neutralPrompt(NEUTRAL_PROMPTS.length + 3)).toBe(NEUTRAL_PROMPTS[3]);
    expect(neutralPrompt(4, ['x', 'y'])).toBe('x');
  });

  it('rejects bad rotation arguments', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => generationPrompt('sad', bad)).toThrowError(EmosteerError);
      expect(() => neutralPrompt(bad)).toThrowError(/non-negative integer/);
    }
    expect(() => generationPrompt('', 0)).toThrowError(/emotion/);
    expect(() => generationPrompt('sad', 0, [])).toThrowError(/no generation templates/);
    expect(() => neutralPrompt(0, [])).toThrowError(/no neutral prompts/);
  });
});

describe('comprehension passages', () => {
  const entries = CATEGORIES.map((c) => [c, COMPREHENSION_PASSAGES[c]] as const);

  it('has at least 12 passages for every emotion and for neutral', () => {
    expect(Object.keys(COMPREHENSION_PASSAGES).sort()).toEqual([...CATEGORIES].sort());
    for (const [, list] of entries) expect(list.length).toBeGreaterThanOrEqual(12);
  });

  it('never names its own emotion', () => {
    for (const e of EMOTIONS) {
      for (const p of COMPREHENSION_PASSAGES[e]) expect(findEmotionWords(p, e), `${e}: ${p}`).toEqual([]);
    }
  });

  it('names none of the other emotions either, and neutral passages name none', () => {
    for (const [c, list] of entries) {
      for (const p of list) {
        const named = EMOTIONS.flatMap((e) => findEmotionWords(p, e));
        expect(named, `${c}: ${p}`).toEqual([]);
      }
    }
  });

  it('has 2-3 sentences and fewer than 60 words per passage', () => {
    for (const [c, list] of entries) {
      for (const p of list) {
        const n = sentenceCount(p);
        expect(n, `${c}: ${p}`).toBeGreaterThanOrEqual(2);
        expect(n, `${c}: ${p}`).toBeLessThanOrEqual(3);
        expect(p.split(/\s+/).length, `${c}: ${p}`).toBeLessThan(60);
        expect(p).toBe(p.trim());
      }
    }
  });

  it('is narrated in the third person (no I, me, we, you outside quotes)', () => {
    for (const [c, list] of entries) {
      for (const p of list) expect(narration(p), `${c}: ${p}`).not.toMatch(FIRST_SECOND_PERSON);
    }
  });

  it('has no duplicate passages and no repeated openings', () => {
    const all = entries.flatMap(([, list]) => list);
    expect(new Set(all).size).toBe(all.length);
    const openings = all.map((p) => p.split(/\s+/).slice(0, 6).join(' ').toLowerCase());
    expect(new Set(openings).size).toBe(openings.length);
  });

  it('the sentence counter and the person check behave as intended', () => {
    expect(sentenceCount('She left. He stayed.')).toBe(2);
    expect(sentenceCount('"Where is it?" she asked. Nobody knew.')).toBe(2);
    expect(sentenceCount('He waited. "Now!" The door opened.')).toBe(3);
    expect(sentenceCount('It cost 3.5 dollars. Fine.')).toBe(2);
    expect(narration('I walked home. Then I slept.')).toMatch(FIRST_SECOND_PERSON);
    expect(narration('"You did this," she said.')).not.toMatch(FIRST_SECOND_PERSON);
    expect(narration('She thanked them.')).not.toMatch(FIRST_SECOND_PERSON);
  });
});

describe('anisotropy facts', () => {
  it('has at least 24 distinct short neutral sentences', () => {
    expect(NEUTRAL_FACTS.length).toBeGreaterThanOrEqual(24);
    expect(new Set(NEUTRAL_FACTS).size).toBe(NEUTRAL_FACTS.length);
    for (const f of NEUTRAL_FACTS) {
      expect(f).toMatch(/^[A-Z].*\.$/);
      expect(sentenceCount(f)).toBe(1);
      expect(f.split(/\s+/).length).toBeLessThanOrEqual(15);
      for (const e of EMOTIONS) expect(findEmotionWords(f, e)).toEqual([]);
    }
  });
});

describe('defaultStimuli and validateStimuli', () => {
  it('gives the built-in set as a fresh copy', () => {
    const s = defaultStimuli();
    expect(s.version).toBe(STIMULI_VERSION);
    expect(STIMULI_VERSION).toBe('en-2');
    expect(s.language).toBe('en');
    expect(s.emotions).toEqual(PAPER_ORDER);
    expect(s.generationTemplates).toEqual([...GENERATION_TEMPLATES]);
    expect(s.neutralPrompts).toEqual([...NEUTRAL_PROMPTS]);
    expect(Object.keys(s.passages)).toEqual([...CATEGORIES]);
    expect(s.passages.happy).toEqual(COMPREHENSION_PASSAGES.happy);
    s.passages.happy!.push('changed');
    s.emotions.pop();
    expect(defaultStimuli().passages.happy).toHaveLength(COMPREHENSION_PASSAGES.happy.length);
    expect(defaultStimuli().emotions).toHaveLength(20);
  });

  it('finds nothing to warn about in the built-in set', () => {
    expect(validateStimuli(defaultStimuli())).toEqual([]);
  });

  it('warns about passages that name emotions, gaps and duplicates', () => {
    const s = defaultStimuli();
    s.passages.happy![0] = 'She felt happiness all day. It was good.';
    s.passages.sad![1] = 'Fear gripped him. He ran.';
    s.passages.neutral![2] = 'He folded the towels with love. Then he left.';
    s.passages.calm = ['One. Two.'];
    s.passages.proud![3] = s.passages.proud![2]!;
    s.generationTemplates.push('A story without a placeholder.');
    const w = validateStimuli(s);
    expect(w).toContain('passages["happy"][0] names its own emotion ("happiness")');
    expect(w).toContain('passages["sad"][1] names another emotion, "afraid" ("Fear")');
    expect(w).toContain('passages["neutral"][2] is neutral but names "loving" ("love")');
    expect(w.some((x) => /only 1 for "calm"/.test(x))).toBe(true);
    expect(w).toContain('passages["proud"][3] repeats passages["proud"][2]');
    expect(w).toContain('generationTemplates[10] does not contain {emotion}');
  });

  it('looks for a custom emotion by its own name in any language', () => {
    const w = validateStimuli({
      version: 'x',
      language: 'de',
      emotions: ['froh', 'traurig'],
      generationTemplates: [],
      neutralPrompts: [],
      passages: { froh: ['Sie war froh. Er lachte.', 'Ein.', 'Zwei.'], traurig: ['A.', 'B.', 'C.'], neutral: ['D.', 'E.', 'F.'] },
    });
    expect(w).toEqual(['passages["froh"][0] names its own emotion ("froh")']);
  });
});

describe('loadStimuli', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emosteer-stimuli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let counter = 0;
  const write = (content: string, ext = '.json') => {
    const p = join(dir, `s${counter++}${ext}`);
    writeFileSync(p, content);
    return p;
  };
  const json = (obj: unknown) => write(JSON.stringify(obj, null, 2));
  const jsonl = (rows: unknown[]) => write(rows.map((r) => JSON.stringify(r)).join('\n') + '\n', '.jsonl');
  const fails = async (p: Promise<unknown>, code: string, message: RegExp) => {
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmosteerError);
    expect((err as EmosteerError).code).toBe(code);
    expect((err as EmosteerError).message).toMatch(message);
  };

  const GERMAN = {
    language: 'de',
    emotions: ['froh', 'traurig'],
    generationTemplates: ['Schreibe eine kurze Geschichte über eine Figur, die {emotion} ist. Nenne das Gefühl nicht.'],
    neutralPrompts: ['Schreibe eine kurze Geschichte über jemanden, der Wäsche faltet.'],
    passages: {
      froh: ['Lena tanzte durch die Küche. Sie summte ein Lied.', 'Der alte Fischer pfiff bei der Arbeit. Er winkte jedem zu.'],
      traurig: ['Paul saß allein am Fenster. Der Tee war längst kalt.', 'Das Mädchen starrte auf das leere Glas. Sie aß nichts.'],
      neutral: ['Anna sortierte die Post. Dann legte sie die Rechnungen auf den Tisch.', 'Der Mann wartete an der Haltestelle. Der Bus kam pünktlich.'],
    },
  };

  it('round-trips a German JSON file', async () => {
    const p = json(GERMAN);
    const s = await loadStimuli(p);
    const { readFileSync } = await import('node:fs');
    const sha = createHash('sha256').update(readFileSync(p)).digest('hex');
    expect(s).toEqual({ ...GERMAN, version: `custom:${sha.slice(0, 12)}` });
    expect(s.version).toMatch(/^custom:[0-9a-f]{12}$/);
    expect(validateStimuli(s).filter((w) => !/recommended/.test(w))).toEqual([]);
    expect(generationPrompt(s.emotions[0]!, 0, s.generationTemplates)).toContain('die froh ist');
  });

  it('keeps a version the JSON gives, and reads other extensions by content', async () => {
    const s = await loadStimuli(json({ ...GERMAN, version: 'de-7' }));
    expect(s.version).toBe('de-7');
    const t = await loadStimuli(write(JSON.stringify(GERMAN), '.txt'));
    expect(t.emotions).toEqual(['froh', 'traurig']);
    const u = await loadStimuli(write('{"emotion": "froh", "passage": "Eins. Zwei."}\n{"emotion": "neutral", "passage": "Drei. Vier."}\n', ''));
    expect(u.passages).toEqual({ froh: ['Eins. Zwei.'], neutral: ['Drei. Vier.'] });
  });

  it('round-trips a German JSONL file with passages and prompts', async () => {
    const rows: unknown[] = [{ language: 'de' }];
    for (const e of ['froh', 'traurig', 'neutral'] as const) for (const passage of GERMAN.passages[e]) rows.push({ emotion: e, passage });
    rows.push({ emotion: 'froh', prompt: GERMAN.generationTemplates[0] });
    rows.push({ emotion: 'traurig', prompt: GERMAN.generationTemplates[0] });
    rows.push({ emotion: 'neutral', prompt: GERMAN.neutralPrompts[0] });
    const s = await loadStimuli(jsonl(rows));
    expect(s.language).toBe('de');
    expect(s.emotions).toEqual(['froh', 'traurig']);
    expect(s.passages).toEqual(GERMAN.passages);
    expect(s.generationTemplates).toEqual(GERMAN.generationTemplates);
    expect(s.neutralPrompts).toEqual(GERMAN.neutralPrompts);
    expect(s.version).toMatch(/^custom:[0-9a-f]{12}$/);
  });

  it('completes a file with the default emotions from the built-in set', async () => {
    const empty = await loadStimuli(json({}));
    expect({ ...empty, version: STIMULI_VERSION }).toEqual(defaultStimuli());
    expect(empty.version).toMatch(/^custom:/);

    const passages: Record<string, string[]> = {};
    for (const c of CATEGORIES) passages[c] = [`Ein Text für ${c}. Noch ein Satz.`];
    const s = await loadStimuli(json({ passages }));
    expect(s.language).toBe('und');
    expect(s.passages).toEqual(passages);
    expect(s.generationTemplates).toEqual([...GENERATION_TEMPLATES]);
    expect(s.neutralPrompts).toEqual([...NEUTRAL_PROMPTS]);

    const t = await loadStimuli(jsonl([{ emotion: 'neutral', prompt: 'Beschreibe, wie jemand Geschirr spült.' }, ...EMOTIONS.map((e) => ({ emotion: e, prompt: 'Eine Geschichte: {emotion}.' }))]));
    expect(t.emotions).toEqual(PAPER_ORDER);
    expect(t.generationTemplates).toEqual(['Eine Geschichte: {emotion}.']);
    expect(t.passages).toEqual(defaultStimuli().passages);
  });

  it('lets a custom list serve one method only', async () => {
    const s = await loadStimuli(json({ emotions: ['froh', 'traurig'], passages: GERMAN.passages }));
    expect(s.generationTemplates).toEqual([]);
    expect(s.neutralPrompts).toEqual([]);
    const t = await loadStimuli(json({ emotions: ['froh'], generationTemplates: GERMAN.generationTemplates, neutralPrompts: GERMAN.neutralPrompts }));
    expect(t.passages).toEqual({});
  });

  it('FILE_NOT_FOUND for a missing file or a folder', async () => {
    await fails(loadStimuli(join(dir, 'nope.json')), 'FILE_NOT_FOUND', /nope\.json/);
    await fails(loadStimuli(dir), 'FILE_NOT_FOUND', /cannot be read/);
    await fails(loadStimuli(''), 'INVALID_ARGUMENT', /path/);
  });

  it('rejects malformed JSON files, naming the key at fault', async () => {
    const bad: [unknown, RegExp][] = [
      [[1, 2], /top level must be an object/],
      [{ emotionz: [] }, /unknown key "emotionz"/],
      [{ version: '' }, /version must be a non-empty string/],
      [{ language: 3 }, /language must be a non-empty string/],
      [{ emotions: 'froh' }, /emotions must be an array/],
      [{ emotions: [] }, /emotions is empty/],
      [{ emotions: ['froh', 'froh'], passages: {} }, /emotions\[1\] \("froh"\) is listed twice/],
      [{ emotions: ['froh', 'neutral'] }, /emotions\[1\] is "neutral"/],
      [{ emotions: ['froh', ' traurig'] }, /emotions\[1\].*whitespace/],
      [{ emotions: ['froh', 7] }, /emotions\[1\] must be a non-empty string/],
      [{ generationTemplates: ['Ohne Platzhalter.'] }, /generationTemplates\[0\] does not contain \{emotion\}/],
      [{ generationTemplates: [] }, /generationTemplates is empty/],
      [{ neutralPrompts: ['ok', ''] }, /neutralPrompts\[1\] must be a non-empty string/],
      [{ neutralPrompts: ['Über {emotion}.'] }, /neutralPrompts\[0\] contains \{emotion\}/],
      [{ passages: [] }, /passages must be an object/],
      [{ passages: { happy: 'x' } }, /passages\["happy"\] must be an array/],
      [{ emotions: ['froh'], passages: { froh: ['a'] } }, /no entry for "neutral"/],
      [{ emotions: ['froh', 'traurig'], passages: { froh: ['a'], neutral: ['b'] } }, /no entry for "traurig"/],
      [{ emotions: ['froh'], passages: { froh: ['a'], neutral: ['b'], wut: ['c'] } }, /key "wut"/],
      [{ passages: { happy: ['a'] } }, /no entry for "sad"/],
      [{ emotions: ['froh'] }, /must give passages, or generationTemplates/],
      [{ emotions: ['froh'], generationTemplates: ['{emotion}'] }, /neutralPrompts are not/],
      [{ emotions: ['froh'], neutralPrompts: ['x'], passages: { froh: ['a'], neutral: ['b'] } }, /generationTemplates are not/],
    ];
    for (const [doc, message] of bad) await fails(loadStimuli(json(doc)), 'INVALID_ARGUMENT', message);
    await fails(loadStimuli(write('{"emotions": [')), 'INVALID_ARGUMENT', /not valid JSON/);
    await fails(loadStimuli(write('   \n')), 'INVALID_ARGUMENT', /empty/);
  });

  it('rejects malformed JSONL files, naming the line at fault', async () => {
    const ok = { emotion: 'froh', passage: 'Eins. Zwei.' };
    const bad: [string, RegExp][] = [
      [`${JSON.stringify(ok)}\n{"emotion": "froh", "passage": }\n`, /line 2 is not valid JSON/],
      [`${JSON.stringify(ok)}\n\n[1]\n`, /line 3 must be a JSON object/],
      [`{"passage": "x"}\n`, /line 1 has no "emotion" key/],
      [`${JSON.stringify(ok)}\n{"emotion": "froh", "passage": "x", "note": 1}\n`, /line 2: unknown key "note"/],
      [`{"emotion": "froh"}\n`, /line 1 must have exactly one of "passage" and "prompt", it has neither/],
      [`{"emotion": "froh", "passage": "x", "prompt": "{emotion}"}\n`, /line 1 .* it has both/],
      [`{"emotion": "", "passage": "x"}\n`, /line 1: "emotion" must be a non-empty string/],
      [`{"emotion": "froh", "passage": ""}\n`, /line 1: "passage" must be a non-empty string/],
      [`{"emotion": "froh", "prompt": 5}\n`, /line 1: "prompt" must be a non-empty string/],
      [`{"emotion": "froh", "prompt": "Eine Geschichte."}\n`, /line 1: the prompt for "froh" does not contain \{emotion\}/],
      [`{"language": "de"}\n{"language": "fr"}\n`, /line 2: "language" is given a second time/],
      [`{"emotion": "neutral", "passage": "x"}\n`, /no line names an emotion/],
      [`${JSON.stringify(ok)}\n`, /no entry for "neutral"/],
      [`${JSON.stringify(ok)}\n{"emotion": "neutral", "passage": "n"}\n{"emotion": "traurig", "prompt": "{emotion}"}\n`, /no entry for "traurig"/],
      [`${JSON.stringify(ok)}\n{"emotion": "neutral", "passage": "n"}\n{"emotion": "froh", "prompt": "{emotion}"}\n`, /neutralPrompts are not/],
      [`${JSON.stringify(ok)}\n{"emotion": "neutral", "passage": "n"}\n{"emotion": "neutral", "prompt": "Über {emotion}"}\n`, /line 3: the neutral prompt contains \{emotion\}/],
    ];
    for (const [content, message] of bad) await fails(loadStimuli(write(content, '.jsonl')), 'INVALID_ARGUMENT', message);
  });
});
