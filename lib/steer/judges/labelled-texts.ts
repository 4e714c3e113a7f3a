/**
 * Texts with known labels for validating judges ({@link validateJudge}): the comprehension
 * passages (written to show one category each) and the stories of a generation vector set
 * (labelled by the emotion their prompt asked for).
 *
 * @module
 */
import { EmosteerError } from '../../errors.js';
import { CATEGORIES } from '../../stimuli/emotions.js';
import { COMPREHENSION_PASSAGES } from '../../stimuli/passages.en.js';
import type { EmotionVectorSet, EmotionVectorSetMeta } from '../../vectors/emotion-vector-set.js';
import type { LabelledText } from './judge-validation.js';

/**
 * The labelled passages, category by category ({@link CATEGORIES} order first, then any other
 * category): the first `perCategory` passages of each (default: as many as the smallest
 * category has, as comprehension extraction takes them). By default the 252 built-in
 * comprehension passages, 12 for each of the 20 emotions and neutral.
 * @throws EmosteerError INVALID_ARGUMENT for a category without passages or a bad `perCategory`
 */
export function passageTexts(passages: Readonly<Record<string, readonly string[]>> = COMPREHENSION_PASSAGES, perCategory?: number): LabelledText[] {
  const keys = Object.keys(passages);
  const order = [...(CATEGORIES as readonly string[]).filter((c) => keys.includes(c)), ...keys.filter((c) => !(CATEGORIES as readonly string[]).includes(c))];
  for (const c of order) {
    if (!Array.isArray(passages[c]) || passages[c]!.length === 0) throw new EmosteerError('INVALID_ARGUMENT', `category '${c}' has no passages`);
  }
  const n = perCategory ?? Math.min(...order.map((c) => passages[c]!.length));
  if (!Number.isInteger(n) || n < 1) throw new EmosteerError('INVALID_ARGUMENT', `perCategory must be a positive integer (got ${String(perCategory)})`);
  return order.flatMap((category) => passages[category]!.slice(0, n).map((text) => ({ text, category, source: 'passages' })));
}

/**
 * Generated texts labelled by their prompt's category: the samples of a generation vector set
 * (`meta.samples[i].text` and `.category`; neutral prompts give 'neutral'), or a list of
 * stories (e.g. the values of `readStories(file).stories` of a stories file). Entries without
 * text (e.g. a comprehension set's samples) are left out.
 * @throws EmosteerError INVALID_ARGUMENT when there is no generated text
 */
export function storyTexts(source: EmotionVectorSet | EmotionVectorSetMeta | readonly { category: string; text?: string }[]): LabelledText[] {
  const samples: readonly { category: string; text?: string }[] = Array.isArray(source) ? source : 'meta' in source ? source.meta.samples : (source as EmotionVectorSetMeta).samples;
  const out = samples
    .filter((s) => typeof s.text === 'string' && s.text.trim() !== '')
    .map((s) => ({ text: s.text!, category: s.category, source: 'stories' }));
  if (out.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'no generated text to validate on (only a generation set or a stories file has stories)');
  return out;
}
