/**
 * Cross-validation folds: a seeded, stratified k-fold split of labelled samples, such that
 * every training split holds every class.
 */
import { encodeLabels, invalid, shuffle } from './samples.js';
import { seededRandom } from './statistics.js';

/**
 * The number of folds {@link kFoldIndices} actually makes: min(k, size of the smallest class),
 * so that every fold holds at least one sample of every class.
 * @throws EmosteerError INVALID_ARGUMENT when k < 2 or the smallest class has fewer than two samples
 */
export function effectiveFoldCount(labels: ArrayLike<number>, k: number): number {
  if (!Number.isInteger(k) || k < 2) throw invalid(`k must be an integer >= 2, got ${String(k)}`);
  const { counts, classes } = encodeLabels(labels);
  const smallest = Math.min(...counts);
  if (smallest < 2) {
    const c = classes[counts.indexOf(smallest)];
    throw invalid(`class ${String(c)} has a single sample; cross-validation needs at least two per class`);
  }
  return Math.min(k, smallest);
}

/**
 * Stratified k-fold split. The samples of each class are shuffled (seeded) and dealt round
 * robin over the folds, the dealing position carrying over from one class to the next so that
 * fold sizes differ by at most one. When a class has fewer than k samples, only
 * {@link effectiveFoldCount}(labels, k) folds are made; then every fold holds at least one
 * sample of every class, and so every training split (all folds but one) does too.
 *
 * @returns folds of sample indices (each ascending); together they hold every index exactly once
 * @throws EmosteerError INVALID_ARGUMENT when k < 2 or a class has fewer than two samples
 */
export function kFoldIndices(labels: ArrayLike<number>, k: number, seed: number): number[][] {
  const kEff = effectiveFoldCount(labels, k);
  const { y, classes } = encodeLabels(labels);
  const rand = seededRandom(seed);
  const folds: number[][] = Array.from({ length: kEff }, () => []);
  let pos = 0;
  for (let c = 0; c < classes.length; c++) {
    const members: number[] = [];
    for (let i = 0; i < y.length; i++) if (y[i] === c) members.push(i);
    shuffle(members, rand);
    for (const i of members) {
      (folds[pos % kEff] as number[]).push(i);
      pos++;
    }
  }
  for (const f of folds) f.sort((a, b) => a - b);
  return folds;
}
