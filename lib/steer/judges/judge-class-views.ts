/**
 * The judges of emosteer seen as classifiers over the classes each one claims
 * ({@link ClassView}), for {@link validateJudge}: which of our 21 categories each class stands
 * for, and which label the judge gives a text.
 *
 * @module
 */
import type { ClassView } from './judge-validation.js';
import type { LexiconJudge } from './lexicon.js';
import type { LlmJudge } from './llm-judge.js';
import type { NrcLexiconJudge } from './nrc-lexicon.js';
import type { ProbeJudge } from './probe-judge.js';
import { EMOTION_VALENCE, type ValenceJudge } from './valence.js';

/** The two polarity classes of the polarity views. */
export const POLARITY_CLASSES = ['positive', 'negative'] as const;

/**
 * Polarity of one of our categories by its valence sign ({@link EMOTION_VALENCE}): 'positive',
 * 'negative', or null for valence 0 (reflective, neutral) and unknown categories.
 */
export function polarityOf(category: string, valences: Readonly<Record<string, -1 | 0 | 1>> = EMOTION_VALENCE): 'positive' | 'negative' | null {
  const v = Object.hasOwn(valences, category) ? valences[category] : 0;
  return v === 1 ? 'positive' : v === -1 ? 'negative' : null;
}

/** The lexicon judge over all its categories (20 emotions and neutral): its top category. */
export function lexiconClassView(judge: LexiconJudge): ClassView {
  return {
    name: `${judge.name} (${judge.categories.length} categories)`,
    classes: judge.categories,
    classOf: (c) => (judge.categories.includes(c) ? c : null),
    predict: async (text) => judge.classifySync(text).label,
  };
}

/** The VADER valence judge as a polarity classifier: positive / negative, 'neutral' (inside its band) is other. */
export function valenceClassView(judge: ValenceJudge, valences: Readonly<Record<string, -1 | 0 | 1>> = EMOTION_VALENCE): ClassView {
  return {
    name: `${judge.name} (polarity)`,
    classes: POLARITY_CLASSES,
    classOf: (c) => polarityOf(c, valences),
    predict: async (text) => (await judge.classify(text)).label,
  };
}

/** The NRC judge over the NRC emotions it claims; 'none', disgust, surprise and trust are other. */
export function nrcClassView(judge: NrcLexiconJudge): ClassView {
  return {
    name: `${judge.name} (${judge.classes.length} NRC emotions)`,
    classes: judge.classes,
    classOf: (c) => (Object.hasOwn(judge.classOf, c) ? judge.classOf[c]! : null),
    predict: async (text) => judge.classifySync(text).label,
  };
}

/** The NRC judge as a polarity classifier by its positive and negative words (a tie is other). */
export function nrcPolarityClassView(judge: NrcLexiconJudge, valences: Readonly<Record<string, -1 | 0 | 1>> = EMOTION_VALENCE): ClassView {
  return {
    name: `${judge.name} (polarity)`,
    classes: POLARITY_CLASSES,
    classOf: (c) => polarityOf(c, valences),
    predict: async (text) => judge.classifyPolarity(text).label,
  };
}

/** The probe judge over its categories (by default the 20 emotions and neutral): its most probable category. */
export function probeClassView(judge: ProbeJudge): ClassView {
  return {
    name: `${judge.name} (${judge.categories.length} categories, block ${judge.block}, ${judge.pooling} pooling)`,
    classes: judge.categories,
    classOf: (c) => (judge.categories.includes(c) ? c : null),
    predict: async (text) => (await judge.classify(text)).label,
  };
}

/**
 * An LLM judge as a classifier over its labels (all of our categories by default): the most
 * probable label, calibrated when the judge calibrates.
 */
export function llmClassView(judge: LlmJudge): ClassView {
  const cal = judge.contentFreeTexts ? ', contextually calibrated' : '';
  return {
    name: `${judge.name} (${judge.labels.length} labels, ${judge.format} prompt${cal})`,
    classes: judge.labels,
    classOf: (c) => (judge.labels.includes(c) ? c : null),
    predict: async (text) => (await judge.classify(text)).label,
  };
}
