/**
 * A text-only baseline: how well the words of the stimuli alone tell the classes apart. A
 * multinomial naive Bayes classifier (Laplace smoothing) on lowercase word counts, cross-validated
 * with the same folds as the classifiers of the activations. When the states decode no emotion
 * but the words do, the model does not encode what its text carries; when the words carry none
 * either, the stories simply show no emotion.
 *
 * Generated stories sometimes name the emotion of their prompt; `mask` removes such words before
 * counting, so that the masked accuracy measures what the text carries beyond the name.
 */
import { EMOTION_WORD_FORMS, isEmotionName } from '../stimuli/index.js';
import { checkFolds, encodeLabels, invalid } from './samples.js';

/** Options of {@link bagOfWordsAccuracy}. */
export interface BagOfWordsOptions {
  /** Count word bigrams too (default false). A bigram never spans a masked word. */
  bigrams?: boolean;
  /** Words removed before counting (compared lowercase, whole words), e.g. {@link emotionWordMask}. */
  mask?: readonly string[];
  /** Additive (Laplace) smoothing of the word counts (default 1). */
  alpha?: number;
}

/** Result of {@link bagOfWordsAccuracy}. */
export interface BagOfWordsResult {
  /** Mean of `correct`. */
  accuracy: number;
  /** 1 where the held-out prediction was right, 0 where wrong. */
  correct: Uint8Array;
  /** Word occurrences removed by the mask, over all texts. */
  masked: number;
}

const WORD = /[\p{L}\p{N}]+(?:['\u2019][\p{L}\p{N}]+)*/gu;

/** Features of one text ({@link textFeatures}). */
export interface TextFeatures {
  /** Unigrams (and bigrams when asked), in order of appearance. */
  features: string[];
  /** Words the mask removed. */
  masked: number;
}

/** Options of {@link textFeatures}. */
export interface TextFeatureOptions {
  /** Add the bigrams of adjacent words. */
  bigrams?: boolean;
  /** Lowercase words to drop. */
  mask?: ReadonlySet<string>;
}

/**
 * The features of a text: lowercase word unigrams (letters and digits, inner apostrophes kept),
 * masked words dropped, and with `bigrams` the pairs of adjacent words (`a b`) that no masked
 * word separates.
 * @returns the features and how many words the mask removed
 */
export function textFeatures(text: string, options: TextFeatureOptions = {}): TextFeatures {
  const features: string[] = [];
  let masked = 0;
  let prev: string | null = null;
  for (const m of text.toLowerCase().replaceAll('\u2019', "'").matchAll(WORD)) {
    const w = m[0];
    if (options.mask?.has(w)) {
      masked++;
      prev = null;
      continue;
    }
    features.push(w);
    if (options.bigrams && prev !== null) features.push(`${prev} ${w}`);
    prev = w;
  }
  return { features, masked };
}

/**
 * The words that name the given emotions: every form in EMOTION_WORD_FORMS for the 20
 * built-in emotions (happy, happier, happiness, unhappy, ...), the name itself for others,
 * lowercase.
 */
export function emotionWordMask(emotions: readonly string[]): string[] {
  const out = new Set<string>();
  for (const e of emotions) {
    out.add(e.toLowerCase());
    if (isEmotionName(e)) for (const w of EMOTION_WORD_FORMS[e]) out.add(w.toLowerCase());
  }
  return [...out];
}

/**
 * Cross-validated multinomial naive Bayes on bag-of-words counts: for each fold, the vocabulary
 * is the features of the training texts; log P(c) from the training class frequencies and
 * log P(w | c) = log((n_wc + alpha) / (n_c + alpha |V|)); a held-out text goes to the class
 * with the highest log P(c) + sum_w count_w log P(w | c) over its features in V (ties to the
 * smaller label; a class absent from the training split is never predicted).
 *
 * @param texts one text per sample (the generated story, or the passage read)
 * @param labels one label per sample
 * @param folds a partition of 0..n-1 (the same folds as the activation classifiers)
 * @throws EmosteerError INVALID_ARGUMENT for texts that are not strings, mismatched labels, bad folds, alpha <= 0
 */
export function bagOfWordsAccuracy(texts: readonly string[], labels: ArrayLike<number>, folds: number[][], options: BagOfWordsOptions = {}): BagOfWordsResult {
  if (!Array.isArray(texts) || texts.length < 2) throw invalid('texts must be an array of at least two strings');
  texts.forEach((t, i) => {
    if (typeof t !== 'string') throw invalid(`texts[${i}] is ${typeof t}, not a string`);
  });
  const alpha = options.alpha ?? 1;
  if (typeof alpha !== 'number' || !(alpha > 0) || !Number.isFinite(alpha)) throw invalid(`alpha must be a positive number, got ${String(alpha)}`);
  const n = texts.length;
  const enc = encodeLabels(labels, n);
  const foldOf = checkFolds(folds, n);
  const C = enc.classes.length;
  const mask = new Set((options.mask ?? []).map((w) => w.toLowerCase()));
  // Features as integer ids over all texts; per text, the (id, count) pairs.
  const ids = new Map<string, number>();
  let masked = 0;
  const docs = texts.map((t) => {
    const f = textFeatures(t, { bigrams: options.bigrams, mask });
    masked += f.masked;
    const counts = new Map<number, number>();
    for (const w of f.features) {
      let id = ids.get(w);
      if (id === undefined) ids.set(w, (id = ids.size));
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return { ids: Int32Array.from(counts.keys()), counts: Float64Array.from(counts.values()) };
  });
  const V = ids.size;
  const correct = new Uint8Array(n);
  const wc = new Float64Array(C * V);
  const inVocab = new Uint8Array(V);
  const classTotal = new Float64Array(C);
  const classDocs = new Float64Array(C);
  const logDenom = new Float64Array(C);
  for (let f = 0; f < folds.length; f++) {
    wc.fill(0);
    inVocab.fill(0);
    classTotal.fill(0);
    classDocs.fill(0);
    let nTrain = 0;
    for (let i = 0; i < n; i++) {
      if (foldOf[i] === f) continue;
      const c = enc.y[i] as number;
      const d = docs[i]!;
      classDocs[c] = (classDocs[c] as number) + 1;
      nTrain++;
      for (let a = 0; a < d.ids.length; a++) {
        const id = d.ids[a] as number;
        const k = d.counts[a] as number;
        wc[c * V + id] = (wc[c * V + id] as number) + k;
        classTotal[c] = (classTotal[c] as number) + k;
        inVocab[id] = 1;
      }
    }
    let vocab = 0;
    for (let id = 0; id < V; id++) vocab += inVocab[id] as number;
    for (let c = 0; c < C; c++) logDenom[c] = Math.log((classTotal[c] as number) + alpha * vocab);
    for (let i = 0; i < n; i++) {
      if (foldOf[i] !== f) continue;
      const d = docs[i]!;
      let best = -1;
      let bestScore = -Infinity;
      for (let c = 0; c < C; c++) {
        if (classDocs[c] === 0) continue;
        let s = Math.log((classDocs[c] as number) / nTrain);
        const ld = logDenom[c] as number;
        for (let a = 0; a < d.ids.length; a++) {
          const id = d.ids[a] as number;
          if (!inVocab[id]) continue;
          s += (d.counts[a] as number) * (Math.log((wc[c * V + id] as number) + alpha) - ld);
        }
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
      correct[i] = best === enc.y[i] ? 1 : 0;
    }
  }
  let s = 0;
  for (const c of correct) s += c;
  return { accuracy: s / n, correct, masked };
}
