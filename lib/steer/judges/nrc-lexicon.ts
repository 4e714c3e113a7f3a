/**
 * A judge built on the NRC Emotion Lexicon: words associated with Plutchik's eight basic
 * emotions (anger, anticipation, disgust, fear, joy, sadness, surprise, trust) and with
 * positive / negative polarity, annotated by crowd workers (Mohammad and Turney, 2013). Unlike
 * emosteer's own lexicon ({@link LexiconJudge}), nobody here chose its words, so it does not
 * count the very words a vector was built to promote.
 *
 * The lexicon's licence is research-only: the data is fetched at run time
 * ({@link NrcLexiconJudge.load}, lib/steer/judges/nrc-data.ts), never bundled.
 *
 * **Matching.** The text is split into words (letters and marks, inner apostrophes kept,
 * lower-cased, a possessive 's dropped). A word counts for the NRC classes of its lexicon
 * entry. A word with no entry is tried, in this order, without the regular English endings
 * -ies/-ied (-> y), -es, -s, -ed, -d, -ing, -ing + e, a doubled consonant before -ed/-ing
 * (hugged -> hug), -ily (-> y) and -ly; the first stem of at least 3 letters that has an entry
 * is used (so scared -> scare, cried -> cry, smiled -> smile, worries -> worry). This is cheap
 * and can conflate a few unrelated words (a stem that is a word of its own); pass
 * `inflections: false` for exact matches only. Negation is not handled.
 *
 * **From our 20 emotions to NRC's 8** ({@link NRC_CLASS_OF}): each of our emotions maps to
 * one NRC emotion or to none. Several of ours share one NRC class (happy, proud, enthusiastic,
 * loving, blissful and grateful are all `joy`), so this judge cannot tell them apart; calm,
 * reflective and neutral map to none (NRC has no low-arousal pleasant or contemplative class,
 * and "positive" would not single calm out from the pleasant emotions), and the judge answers
 * NaN for them. The classes it claims in a validation are the NRC emotions some category maps
 * to ({@link NRC_CLAIMED_CLASSES}): anger, anticipation, fear, joy and sadness.
 *
 * @module
 */
import { EmosteerError } from '../../errors.js';
import { CATEGORIES } from '../../stimuli/emotions.js';
import type { Judge, JudgeClassification } from './judge.js';
import type { LexiconJudge } from './lexicon.js';
import { loadNrcLexicon, NRC_EMOTIONS, NRC_POLARITIES, parseNrcLexicon, type NrcAffect, type NrcEmotion, type NrcFetchOptions, type NrcLexicon, type NrcPolarity } from './nrc-data.js';

/**
 * The NRC emotion each of our 20 emotions (and 'neutral') maps to, or null for none. Choices:
 * - joy: happy, proud, enthusiastic, loving, blissful, grateful (pleasant, active or warm
 *   states; NRC's own entries for "pride", "love", "bliss", "gratitude" are joy).
 * - anticipation: hopeful (looking forward to a good outcome: NRC's anticipation, which is
 *   closer than joy; "hope" is anticipation and joy in NRC).
 * - sadness: sad, gloomy, brooding, guilty (inward, low, negative; NRC's "guilt" is sadness
 *   and disgust, "gloom" sadness).
 * - fear: afraid, nervous, anxious, desperate (desperation is fear of an outcome plus urgency,
 *   as in the lexicon judge's `SEVEN_CLASS_OF`).
 * - anger: angry, hostile, exasperated (directed displeasure).
 * - none: calm, reflective, neutral (no NRC class fits; see the module comment).
 * - disgust, surprise and trust have no member: an NRC answer of one of them is a miss for
 *   every category.
 */
export const NRC_CLASS_OF: Readonly<Record<string, NrcEmotion | null>> = Object.freeze({
  happy: 'joy',
  sad: 'sadness',
  calm: null,
  desperate: 'fear',
  afraid: 'fear',
  angry: 'anger',
  proud: 'joy',
  guilty: 'sadness',
  nervous: 'fear',
  hopeful: 'anticipation',
  brooding: 'sadness',
  gloomy: 'sadness',
  reflective: null,
  enthusiastic: 'joy',
  hostile: 'anger',
  loving: 'joy',
  exasperated: 'anger',
  blissful: 'joy',
  anxious: 'fear',
  grateful: 'joy',
  neutral: null,
});

/** The NRC emotions that some category maps to in {@link NRC_CLASS_OF}: the classes the NRC judge claims. */
export const NRC_CLAIMED_CLASSES: readonly NrcEmotion[] = Object.freeze(NRC_EMOTIONS.filter((e) => Object.values(NRC_CLASS_OF).includes(e)));

/** Label of {@link NrcLexiconJudge.classify} for a text with no NRC emotion word. */
export const NRC_NONE = 'none';

/** Options of {@link NrcLexiconJudge}. */
export interface NrcLexiconJudgeOptions {
  /** Try regular-inflection stems for words with no entry (default true; see the module comment). */
  inflections?: boolean;
  /** Map from our categories to NRC emotions instead of {@link NRC_CLASS_OF} (for custom emotions). */
  classOf?: Readonly<Record<string, NrcEmotion | null>>;
  /** Judge name in reports (default 'nrc-lexicon'). */
  name?: string;
}

/** What {@link NrcLexiconJudge.counts} found in a text. */
export interface NrcCounts {
  /** Words in the text. */
  words: number;
  /** Words associated with each NRC emotion and polarity. */
  hits: Record<NrcAffect, number>;
  /** Words that matched an entry (after inflection handling), in text order. */
  matched: string[];
}

/** Splits text into lower-case words (letters/marks, inner apostrophes kept, possessive 's dropped). */
function words(text: string): string[] {
  const out: string[] = [];
  for (const m of text.replace(/\u2019/g, "'").matchAll(/[\p{L}\p{M}]+(?:'[\p{L}\p{M}]+)*/gu)) out.push(m[0].toLowerCase().replace(/'s$/, ''));
  return out;
}

const isConsonant = (ch: string | undefined): boolean => ch !== undefined && /[b-df-hj-np-tv-z]/.test(ch);

/**
 * Candidate stems of an inflected word, in the order they are tried (see the module comment).
 * Stems shorter than 3 letters are left out.
 */
export function nrcStems(word: string): string[] {
  const out: string[] = [];
  const add = (s: string) => { if (s.length >= 3 && s !== word && !out.includes(s)) out.push(s); };
  const undouble = (s: string) => { if (s.length >= 4 && s.at(-1) === s.at(-2) && isConsonant(s.at(-1))) add(s.slice(0, -1)); };
  if (word.endsWith('ies') || word.endsWith('ied')) add(`${word.slice(0, -3)}y`);
  if (word.endsWith('es')) add(word.slice(0, -2));
  if (word.endsWith('s') && !word.endsWith('ss')) add(word.slice(0, -1));
  if (word.endsWith('ed')) {
    const s = word.slice(0, -2);
    add(s);
    add(`${s}e`);
    undouble(s);
  }
  if (word.endsWith('ing')) {
    const s = word.slice(0, -3);
    add(s);
    add(`${s}e`);
    undouble(s);
  }
  if (word.endsWith('ily')) add(`${word.slice(0, -3)}y`);
  if (word.endsWith('ly')) add(word.slice(0, -2));
  return out;
}

/**
 * NRC Emotion Lexicon judge. `score(text, emotion)` = words associated with the NRC emotion
 * that `emotion` maps to ({@link NRC_CLASS_OF}), per 100 words; NaN for calm, reflective and
 * neutral. `classify` returns the NRC emotion with most words ({@link NRC_NONE} when there is
 * none; ties go to the NRC class with fewer words in the lexicon, the more specific evidence).
 *
 * @example
 * const judge = await NrcLexiconJudge.load();          // fetches the lexicon on first use
 * await judge.score('She trembled in terror.', 'afraid'); // fear words per 100 words
 * (await judge.classify('She trembled in terror.')).label; // 'fear'
 */
export class NrcLexiconJudge implements Judge {
  /** Judge name in reports. */
  readonly name: string;
  /** The categories for which {@link score} is a number (mapped to an NRC emotion). */
  readonly claims: readonly string[];
  /** The NRC emotions its classification claims (some category maps to them). */
  readonly classes: readonly NrcEmotion[];
  /** Our category -> NRC emotion (or null) in use. */
  readonly classOf: Readonly<Record<string, NrcEmotion | null>>;
  readonly #lexicon: NrcLexicon;
  readonly #inflections: boolean;
  /** NRC emotions ordered for tie-breaking: fewer lexicon words first. */
  readonly #tieOrder: readonly NrcEmotion[];

  /**
   * @param lexicon the lexicon ({@link loadNrcLexicon}), or a word -> associations object (parsed with {@link parseNrcLexicon})
   * @param options inflection handling, category map, name
   * @throws EmosteerError INVALID_ARGUMENT for an empty or malformed lexicon or a map to an unknown NRC emotion
   */
  constructor(lexicon: NrcLexicon | Record<string, readonly string[]>, options: NrcLexiconJudgeOptions = {}) {
    this.#lexicon = lexicon instanceof Map ? lexicon : parseNrcLexicon(lexicon as Record<string, unknown>);
    if (this.#lexicon.size === 0) throw new EmosteerError('INVALID_ARGUMENT', 'the NRC lexicon is empty');
    this.#inflections = options.inflections ?? true;
    this.classOf = options.classOf ?? NRC_CLASS_OF;
    for (const [c, e] of Object.entries(this.classOf)) {
      if (e !== null && !(NRC_EMOTIONS as readonly string[]).includes(e)) throw new EmosteerError('INVALID_ARGUMENT', `category '${c}' maps to '${String(e)}', which is not an NRC emotion (${NRC_EMOTIONS.join(', ')})`);
    }
    this.name = options.name ?? 'nrc-lexicon';
    this.claims = Object.freeze(Object.keys(this.classOf).filter((c) => this.classOf[c] !== null));
    this.classes = Object.freeze(NRC_EMOTIONS.filter((e) => Object.values(this.classOf).includes(e)));
    const size = Object.fromEntries(NRC_EMOTIONS.map((e) => [e, 0])) as Record<NrcEmotion, number>;
    for (const list of this.#lexicon.values()) for (const a of list) if (a in size) size[a as NrcEmotion]++;
    this.#tieOrder = Object.freeze([...NRC_EMOTIONS].sort((a, b) => size[a] - size[b] || a.localeCompare(b)));
  }

  /**
   * Fetches the lexicon (from the dataset cache when it is there; see {@link fetchNrcLexicon})
   * and makes a judge of it.
   * @throws what {@link loadNrcLexicon} throws
   */
  static async load(options: NrcLexiconJudgeOptions & NrcFetchOptions = {}): Promise<NrcLexiconJudge> {
    return new NrcLexiconJudge(await loadNrcLexicon(options), options);
  }

  /** The associations of one word (after inflection handling), or undefined. */
  lookup(word: string): readonly NrcAffect[] | undefined {
    const w = word.toLowerCase();
    const exact = this.#lexicon.get(w);
    if (exact || !this.#inflections) return exact;
    for (const s of nrcStems(w)) {
      const hit = this.#lexicon.get(s);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Words of `text` associated with each NRC emotion and polarity, and the word count. */
  counts(text: string): NrcCounts {
    if (typeof text !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'the NRC judge needs a string');
    const ws = words(text);
    const hits = Object.fromEntries([...NRC_EMOTIONS, ...NRC_POLARITIES].map((a) => [a, 0])) as Record<NrcAffect, number>;
    const matched: string[] = [];
    for (const w of ws) {
      const list = this.lookup(w);
      if (!list) continue;
      matched.push(w);
      for (const a of list) hits[a]++;
    }
    return { words: ws.length, hits, matched };
  }

  /**
   * Words of the NRC emotion that `emotion` maps to, per 100 words of `text` (0 for a text
   * without words); NaN when `emotion` maps to none (calm, reflective, neutral).
   * @throws EmosteerError INVALID_ARGUMENT for a category the map does not have
   */
  async score(text: string, emotion: string): Promise<number> {
    if (!Object.hasOwn(this.classOf, emotion)) {
      throw new EmosteerError('INVALID_ARGUMENT', `the NRC judge has no mapping for '${emotion}'; known: ${Object.keys(this.classOf).join(', ') || CATEGORIES.join(', ')}`);
    }
    const target = this.classOf[emotion]!;
    const c = this.counts(text);
    if (target === null) return NaN;
    return c.words === 0 ? 0 : (100 * c.hits[target]) / c.words;
  }

  /** Synchronous {@link classify}. */
  classifySync(text: string): JudgeClassification<NrcEmotion | typeof NRC_NONE> {
    const c = this.counts(text);
    const scores = {} as Record<NrcEmotion | typeof NRC_NONE, number>;
    for (const e of NRC_EMOTIONS) scores[e] = c.words === 0 ? 0 : (100 * c.hits[e]) / c.words;
    scores[NRC_NONE] = 0;
    let label: NrcEmotion | typeof NRC_NONE = NRC_NONE;
    let best = 0;
    for (const e of this.#tieOrder) if (c.hits[e] > best) { best = c.hits[e]; label = e; }
    return { label, scores };
  }

  /**
   * The NRC emotion with most words in `text` (per 100 words in `scores`), {@link NRC_NONE}
   * when no emotion word occurs. Ties go to the class with fewer lexicon words.
   */
  async classify(text: string): Promise<JudgeClassification> {
    return this.classifySync(text);
  }

  /**
   * Polarity by the NRC positive and negative words: 'positive' or 'negative' by the larger
   * count, 'neutral' on a tie (including no polarity word). Scores are per 100 words.
   */
  classifyPolarity(text: string): JudgeClassification<NrcPolarity | 'neutral'> {
    const c = this.counts(text);
    const per = (n: number) => (c.words === 0 ? 0 : (100 * n) / c.words);
    const pos = c.hits.positive;
    const neg = c.hits.negative;
    const label = pos > neg ? 'positive' : neg > pos ? 'negative' : 'neutral';
    return { label, scores: { positive: per(pos), negative: per(neg), neutral: 0 } };
  }
}
