/**
 * The emotion categories of the paper and the English word forms that name them.
 *
 * A passage meant to *show* an emotion must not contain any of that emotion's word forms:
 * otherwise a "comprehension" vector partly measures the presence of a word, not a state.
 * {@link findEmotionWords} finds such forms; the test suite uses it on every built-in passage
 * and {@link validateStimuli} uses it to warn about user passages.
 *
 * @module
 */

/**
 * The 20 emotions of the paper, in the paper's order.
 */
export const EMOTIONS = [
  'happy',
  'sad',
  'calm',
  'desperate',
  'afraid',
  'angry',
  'proud',
  'guilty',
  'nervous',
  'hopeful',
  'brooding',
  'gloomy',
  'reflective',
  'enthusiastic',
  'hostile',
  'loving',
  'exasperated',
  'blissful',
  'anxious',
  'grateful',
] as const;

/** One of the 20 built-in emotions. */
export type EmotionName = (typeof EMOTIONS)[number];

/** The name of the neutral baseline category. */
export const NEUTRAL = 'neutral' as const;

/** The 20 emotions followed by the neutral baseline: the 21 categories of the paper. */
export const CATEGORIES = [...EMOTIONS, NEUTRAL] as const;

/** One of the 21 built-in categories (an emotion or `'neutral'`). */
export type CategoryName = (typeof CATEGORIES)[number];

/**
 * For each built-in emotion, the English words that name it: the word itself, its
 * inflections, derivations and obvious negations. A passage that shows an emotion must
 * contain none of its own forms (and preferably none of any other emotion's).
 */
export const EMOTION_WORD_FORMS: Record<EmotionName, string[]> = {
  happy: ['happy', 'happier', 'happiest', 'happily', 'happiness', 'unhappy', 'unhappier', 'unhappily', 'unhappiness'],
  sad: ['sad', 'sadder', 'saddest', 'sadly', 'sadness', 'sadden', 'saddened', 'saddening', 'saddens'],
  calm: ['calm', 'calmer', 'calmest', 'calmly', 'calmness', 'calmed', 'calming', 'calms', 'becalmed'],
  desperate: ['desperate', 'desperately', 'desperation'],
  afraid: ['afraid', 'fear', 'fears', 'feared', 'fearing', 'fearful', 'fearfully', 'fearfulness', 'fearless', 'unafraid'],
  angry: ['angry', 'angrier', 'angriest', 'angrily', 'anger', 'angered', 'angering', 'angers'],
  proud: ['proud', 'prouder', 'proudest', 'proudly', 'pride', 'prided', 'prideful'],
  guilty: ['guilty', 'guiltier', 'guiltiest', 'guiltily', 'guilt', 'guiltless'],
  nervous: ['nervous', 'nervously', 'nervousness', 'nerves'],
  hopeful: ['hopeful', 'hopefully', 'hopefulness', 'hope', 'hoped', 'hopes', 'hoping'],
  brooding: ['brooding', 'broodingly', 'brood', 'brooded', 'broods', 'broody'],
  gloomy: ['gloomy', 'gloomier', 'gloomiest', 'gloomily', 'gloom'],
  reflective: ['reflective', 'reflectively', 'reflect', 'reflected', 'reflecting', 'reflects', 'reflection', 'reflections'],
  enthusiastic: ['enthusiastic', 'enthusiastically', 'enthusiasm', 'enthusiasms', 'enthuse', 'enthused', 'enthusing'],
  hostile: ['hostile', 'hostilely', 'hostility', 'hostilities'],
  loving: ['loving', 'lovingly', 'love', 'loved', 'loves', 'unloved', 'unloving'],
  exasperated: ['exasperated', 'exasperatedly', 'exasperating', 'exasperatingly', 'exasperation', 'exasperate', 'exasperates'],
  blissful: ['blissful', 'blissfully', 'blissfulness', 'bliss'],
  anxious: ['anxious', 'anxiously', 'anxiousness', 'anxiety', 'anxieties'],
  grateful: ['grateful', 'gratefully', 'gratefulness', 'gratitude', 'ungrateful'],
};

const patternCache = new Map<string, RegExp>();

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function patternFor(emotion: EmotionName): RegExp {
  let re = patternCache.get(emotion);
  if (!re) {
    // Longest forms first so that "happiness" is reported whole, not as "happi...".
    const forms = [...EMOTION_WORD_FORMS[emotion]].sort((a, b) => b.length - a.length).map(escapeRegExp);
    // Whole words: no letter, digit or underscore on either side (Unicode-aware).
    re = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${forms.join('|')})(?![\\p{L}\\p{N}_])`, 'giu');
    patternCache.set(emotion, re);
  }
  re.lastIndex = 0;
  return re;
}

/** Whether `name` is one of the 20 built-in emotions. */
export function isEmotionName(name: string): name is EmotionName {
  return Object.prototype.hasOwnProperty.call(EMOTION_WORD_FORMS, name);
}

/**
 * Finds the words in `text` that name `emotion`: whole-word, case-insensitive matches of its
 * {@link EMOTION_WORD_FORMS}, in order of appearance, as written in the text.
 *
 * Returns an empty array for an emotion that is not one of the built-in 20 (custom emotions
 * have no known word forms).
 *
 * @example
 * findEmotionWords('She felt happiness.', 'happy'); // ['happiness']
 * findEmotionWords('Fear gripped him.', 'afraid');  // ['Fear']
 */
export function findEmotionWords(text: string, emotion: string): string[] {
  if (typeof text !== 'string' || !isEmotionName(emotion)) return [];
  const re = patternFor(emotion);
  const found: string[] = [];
  for (const m of text.matchAll(re)) found.push(m[0]);
  return found;
}
