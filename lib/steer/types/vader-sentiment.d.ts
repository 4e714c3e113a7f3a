/**
 * Minimal types of the `vader-sentiment` npm package (a JavaScript port of VADER), covering
 * the part emosteer uses. The package ships no types of its own.
 */
declare module 'vader-sentiment' {
  /** VADER's scores of one text. */
  export interface VaderPolarityScores {
    /** Share of the text's sentiment mass that is negative, 0..1. */
    neg: number;
    /** Share that is neutral, 0..1. */
    neu: number;
    /** Share that is positive, 0..1. */
    pos: number;
    /** Normalised, weighted sum of all valences, -1 (most negative) .. +1 (most positive). */
    compound: number;
  }
  /** The VADER analyser (static methods only). */
  export const SentimentIntensityAnalyzer: {
    /** Scores the valence of `text`. */
    polarity_scores(text: string): VaderPolarityScores;
  };
}
