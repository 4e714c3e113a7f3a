import { describe, expect, it } from 'vitest';
import { EmosteerError } from '../../lib/errors.js';
import {
  CJK_SCRIPTS,
  COMMON_LANGUAGES,
  SCRIPT_NAMES,
  crossLingualFlag,
  detectLanguage,
  scriptCounts,
  scriptShares,
} from '../../lib/steer/scripts.js';

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

const EN_BASELINE =
  'He sat at the kitchen table and went through the letters one by one, sorting the bills from the adverts and putting the important ones aside for later.';
const EN_STEERED_ZH =
  'He searched the drawers again and again, 找了 摸索, pulling out papers and throwing them on the floor, hoping to find anything that could still save him.';
const EN_STEERED =
  'He tore through the drawers, pulling out papers and throwing them on the floor, hoping to find anything at all that could still save him from ruin.';

describe('scriptShares', () => {
  it('counts letters per script in mixed Latin / Chinese / Cyrillic text', () => {
    // letters: abcd (4 Latin), 找了 (2 Han), При (3 Cyrillic); digits, spaces and punctuation ignored
    const s = scriptShares('abcd, 找了! При 123 ...');
    expect(s.total).toBe(9);
    expect(s.Latin).toBeCloseTo(4 / 9, 12);
    expect(s.Han).toBeCloseTo(2 / 9, 12);
    expect(s.Cyrillic).toBeCloseTo(3 / 9, 12);
    expect(s.CJK).toBeCloseTo(2 / 9, 12);
    expect(s.Greek).toBe(0);
    const sum = SCRIPT_NAMES.reduce((a, k) => a + s[k], 0);
    expect(sum).toBeCloseTo(1, 12);
  });

  it('reports the CJK family in total and separately', () => {
    const c = scriptCounts('漢字 ひらがな カタカナ 한국어');
    expect(c.Han).toBe(2);
    expect(c.Hiragana).toBe(4);
    expect(c.Katakana).toBe(4);
    expect(c.Hangul).toBe(3);
    expect(c.CJK).toBe(13);
    expect(CJK_SCRIPTS.reduce((a, k) => a + c[k], 0)).toBe(c.CJK);
    expect(scriptShares('漢字 ひらがな カタカナ 한국어').CJK).toBe(1);
  });

  it('knows the other scripts, and Other for the rest', () => {
    const c = scriptCounts('αβγ مرحبا नमस्ते שלום สวัสดี Ԥ ሰላም');
    expect(c.Greek).toBe(3);
    expect(c.Arabic).toBe(5);
    expect(c.Devanagari).toBe(6); // letters and vowel signs (marks) of the Devanagari script
    expect(c.Hebrew).toBe(4);
    expect(c.Thai).toBe(6);
    expect(c.Other).toBe(3); // Ethiopic
    expect(c.Cyrillic).toBe(1);
  });

  it('ignores inherited combining marks and Common characters', () => {
    const decomposed = 'cafe\u0301'; // e + combining acute: Script=Inherited
    expect(scriptCounts(decomposed).total).toBe(4);
    expect(scriptShares('123 !?').total).toBe(0);
    expect(scriptShares('').Latin).toBe(0);
  });
});

describe('detectLanguage', () => {
  it('detects English and German on long sentences', () => {
    expect(detectLanguage('The quick brown fox jumps over the lazy dog and then runs away into the forest to hide.')).toBe('eng');
    expect(detectLanguage('Sie ging langsam zum Fenster und schaute hinaus in den Regen, und fragte sich, ob er jemals wieder nach Hause kommen würde.')).toBe('deu');
    expect(detectLanguage('Он медленно подошёл к окну и посмотрел на дождь за стеклом.')).toBe('rus');
    expect(detectLanguage('他走进房间，看了看窗外的雨，心里想着明天要做的事情。')).toBe('cmn');
  });

  it("answers 'und' for short text", () => {
    expect(detectLanguage('hi')).toBe('und');
    expect(detectLanguage('The quick brown fox', { minLength: 50 })).toBe('und');
  });

  it('restricts candidates to common languages unless told otherwise', () => {
    expect(COMMON_LANGUAGES).toContain('eng');
    expect(COMMON_LANGUAGES).not.toContain('sco');
    // franc with all languages reads this English sentence as Scots
    const s = 'The quick brown fox jumps over the lazy dog and then runs away into the forest to hide.';
    expect(detectLanguage(s, { only: 'all' })).toBe('sco');
    expect(detectLanguage(s, { only: ['eng', 'deu'] })).toBe('eng');
    expectInvalid(() => detectLanguage(s, { only: [] }));
    expectInvalid(() => detectLanguage(s, { minLength: 0 }));
  });
});

describe('crossLingualFlag', () => {
  it("flags the paper's example: Chinese tokens in a steered English output", () => {
    const r = crossLingualFlag(EN_STEERED_ZH, EN_BASELINE);
    expect(r.flagged).toBe(true);
    expect(r.newScripts).toEqual(['Han']);
    expect(r.languageChanged).toBe(false); // still English overall
    expect(r.steeredLanguage).toBe('eng');
    expect(r.baselineLanguage).toBe('eng');
    expect(r.reason).toMatch(/Han 4 letters/);
  });

  it('does not flag an all-English pair', () => {
    const r = crossLingualFlag(EN_STEERED, EN_BASELINE);
    expect(r.flagged).toBe(false);
    expect(r.newScripts).toEqual([]);
    expect(r.languageChanged).toBe(false);
    expect(r.reason).toMatch(/no new script/);
  });

  it('does not flag a script the baseline already used', () => {
    const baseline = `${EN_BASELINE} 找了 摸索`;
    expect(crossLingualFlag(EN_STEERED_ZH, baseline).newScripts).toEqual([]);
  });

  it('uses share and letter-count thresholds', () => {
    const oneLetter = `${EN_STEERED} π`;
    expect(crossLingualFlag(oneLetter, EN_BASELINE).flagged).toBe(false); // 1 Greek letter: too few
    expect(crossLingualFlag(EN_STEERED_ZH, EN_BASELINE, { minLetters: 0 }).flagged).toBe(false); // 4 of ~120 letters < 5%
    expect(crossLingualFlag(EN_STEERED_ZH, EN_BASELINE, { minLetters: 0, minShare: 0.02 }).flagged).toBe(true);
    expect(crossLingualFlag(EN_STEERED_ZH, EN_BASELINE, { minLetters: 5 }).flagged).toBe(false);
  });

  it('flags a change of language away from English', () => {
    const german = 'Er durchsuchte die Schubladen immer wieder, zog Papiere heraus und warf sie auf den Boden, in der Hoffnung, etwas zu finden.';
    const r = crossLingualFlag(german, EN_BASELINE);
    expect(r.flagged).toBe(true);
    expect(r.languageChanged).toBe(true);
    expect(r.newScripts).toEqual([]);
    expect(r.reason).toMatch(/eng -> deu/);
    // a short baseline stands for the expected language (English)
    expect(crossLingualFlag(german, 'He sat down.').languageChanged).toBe(true);
    // a steered text too short to detect never counts as a language change
    expect(crossLingualFlag('Er suchte.', EN_BASELINE).languageChanged).toBe(false);
  });

  it('flags a switch to Russian by script and language', () => {
    const russian = 'Он снова и снова обыскивал ящики, вытаскивая бумаги и бросая их на пол, надеясь найти хоть что-нибудь, что могло бы его спасти.';
    const r = crossLingualFlag(russian, EN_BASELINE);
    expect(r.flagged).toBe(true);
    expect(r.newScripts).toEqual(['Cyrillic']);
    expect(r.languageChanged).toBe(true);
    expect(r.steeredLanguage).toBe('rus');
  });

  it('rejects bad arguments', () => {
    expectInvalid(() => crossLingualFlag(1 as never, ''));
    expectInvalid(() => crossLingualFlag('', '', { minShare: 2 }));
    expectInvalid(() => crossLingualFlag('', '', { minLetters: -1 }));
    expectInvalid(() => crossLingualFlag('', '', { minLanguageLength: 0 }));
  });
});
