/**
 * Prompts for generation-based extraction: ten story templates, one per story, for each
 * emotion (our own wording of the five kinds the paper describes: a short story, an internal
 * monologue, a scene of being overwhelmed, one vivid moment, "show, don't tell", each kind in
 * two wordings, so that the paper's ten stories per emotion come from ten distinct prompts)
 * and neutral prompts about everyday chores for the baseline.
 *
 * @module
 */
import { EmosteerError } from '../errors.js';

/** The placeholder that {@link generationPrompt} replaces with the emotion name. */
export const EMOTION_PLACEHOLDER = '{emotion}';

/**
 * Ten story templates, each containing `{emotion}` and each telling the model not to name
 * the emotion directly: the paper's five kinds (indices 0-4), then a second wording of each
 * kind in the same order (5-9).
 */
export const GENERATION_TEMPLATES: readonly string[] = [
  'Write a short story of three to five paragraphs about a character who is feeling {emotion}. ' +
    "Let the reader sense the feeling through the character's thoughts, actions and dealings with other people. " +
    'Do not name the emotion directly.',
  'Write the internal monologue of a character who is feeling {emotion}, in three to five paragraphs. ' +
    'Let the feeling come through in the way the thoughts move and in what they keep returning to. ' +
    'Do not name the emotion directly, and do not use the word {emotion} or any form of it.',
  'Write a scene of three to five paragraphs in which a character is completely overwhelmed by feeling {emotion}. ' +
    'Describe what happens in their body, in their mind and around them as the feeling takes over. ' +
    'Do not name the emotion directly.',
  'In three to five paragraphs, describe a single vivid moment in which a character feels intensely {emotion}. ' +
    'Dwell on concrete sensory details, small gestures and what the character notices. ' +
    'Do not name the emotion directly.',
  "Show, don't tell: write a short story of three to five paragraphs about a character who is {emotion}. " +
    'Reveal the feeling only through behaviour, body language, dialogue and choices, so that a reader could guess it. ' +
    'Do not name the emotion directly.',
  // A second wording of each of the five kinds, in the same order, so that ten stories per
  // emotion are ten different prompts: under greedy decoding a repeated prompt repeats its
  // story token for token, which wastes the generation and counts one story twice.
  'Tell a short story of three to five paragraphs about someone who feels {emotion} on an ordinary day. ' +
    'Let what they think, what they do and how they treat the people around them carry the feeling. ' +
    'Do not name the emotion directly.',
  'In three to five paragraphs, write the thoughts running through the head of a character who feels {emotion}, in the first person. ' +
    'Let the feeling show in how the thoughts circle, jump and come back. ' +
    'Do not name the emotion directly, and do not use the word {emotion} or any form of it.',
  'Write a scene of three to five paragraphs in which feeling {emotion} slowly floods a character until it is all they can feel. ' +
    'Describe their breathing, their hands, their thoughts and the room around them as it happens. ' +
    'Do not name the emotion directly.',
  'In three to five paragraphs, capture one brief moment, a few seconds long, in which a character is filled with feeling {emotion}. ' +
    'Stay with what they see, hear and touch, and with the smallest movements they make. ' +
    'Do not name the emotion directly.',
  "Show, don't tell, in three to five paragraphs: a character who is {emotion} goes through an afternoon. " +
    'Let only their actions, their posture, what they say and what they decide reveal the feeling to the reader. ' +
    'Do not name the emotion directly.',
];

/**
 * Neutral prompts for the baseline: short stories about everyday chores with no particular
 * emotion, of the same length and form as the templates.
 */
export const NEUTRAL_PROMPTS: readonly string[] = [
  'Write a short story of three to five paragraphs about a person sorting the morning mail into piles. ' +
    'Describe the ordinary steps plainly, without any particular emotion.',
  'Write a short story of three to five paragraphs about a person folding a basket of clean laundry. ' +
    'Describe the ordinary steps plainly, without any particular emotion.',
  'Write a short story of three to five paragraphs about a person waiting at a bus stop on a weekday morning. ' +
    'Describe what happens plainly, without any particular emotion.',
  'Write a short story of three to five paragraphs about a person watering the plants in an apartment. ' +
    'Describe the ordinary steps plainly, without any particular emotion.',
  'Write a short story of three to five paragraphs about a person writing a grocery list before going shopping. ' +
    'Describe the ordinary steps plainly, without any particular emotion.',
  'Write a short story of three to five paragraphs about a person washing the dishes after dinner. ' +
    'Describe the ordinary steps plainly, without any particular emotion.',
  'Write a short story of three to five paragraphs about a person taking out the recycling and the trash. ' +
    'Describe the ordinary steps plainly, without any particular emotion.',
  'Write a short story of three to five paragraphs about a person vacuuming the living room carpet. ' +
    'Describe the ordinary steps plainly, without any particular emotion.',
  'Write a short story of three to five paragraphs about a person filling the car with fuel at a petrol station. ' +
    'Describe what happens plainly, without any particular emotion.',
  'Write a short story of three to five paragraphs about a person ironing shirts for the coming week. ' +
    'Describe the ordinary steps plainly, without any particular emotion.',
  'Write a short story of three to five paragraphs about a person returning books to a public library. ' +
    'Describe what happens plainly, without any particular emotion.',
  'Write a short story of three to five paragraphs about a person restocking shelves in a small shop. ' +
    'Describe the ordinary steps plainly, without any particular emotion.',
  'Write a short story of three to five paragraphs about a person making a pot of rice for lunch. ' +
    'Describe the ordinary steps plainly, without any particular emotion.',
  'Write a short story of three to five paragraphs about a person changing the sheets on a bed. ' +
    'Describe the ordinary steps plainly, without any particular emotion.',
];

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new EmosteerError('INVALID_ARGUMENT', `index must be a non-negative integer, got ${String(index)}`);
  }
}

/**
 * The generation prompt for story `index` of `emotion`: template `index mod n` (of
 * `templates`, by default the ten {@link GENERATION_TEMPLATES}) with every `{emotion}`
 * replaced by the emotion name.
 *
 * @param emotion emotion name as it should appear in the prompt (e.g. `'afraid'`)
 * @param index story number, 0-based
 * @param templates templates to rotate through; each should contain `{emotion}`
 * @throws EmosteerError INVALID_ARGUMENT for an empty emotion, a negative or fractional index,
 *   or an empty template list
 */
export function generationPrompt(emotion: string, index: number, templates: readonly string[] = GENERATION_TEMPLATES): string {
  if (typeof emotion !== 'string' || emotion.trim() === '') {
    throw new EmosteerError('INVALID_ARGUMENT', 'emotion must be a non-empty string');
  }
  checkIndex(index);
  if (templates.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'no generation templates to choose from');
  return templates[index % templates.length]!.replaceAll(EMOTION_PLACEHOLDER, emotion);
}

/**
 * The neutral prompt for neutral story `index`: `prompts[index mod n]` (by default
 * {@link NEUTRAL_PROMPTS}).
 *
 * @throws EmosteerError INVALID_ARGUMENT for a negative or fractional index or an empty list
 */
export function neutralPrompt(index: number, prompts: readonly string[] = NEUTRAL_PROMPTS): string {
  checkIndex(index);
  if (prompts.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'no neutral prompts to choose from');
  return prompts[index % prompts.length]!;
}
