/**
 * The geometry of a set of vectors (one per emotion, say): a two-component PCA map,
 * average-linkage clustering under cosine distance, the representational dissimilarity matrix
 * and representational similarity analysis between two sets.
 */
import { agnes, type Cluster } from 'ml-hclust';
import { PCA } from 'ml-pca';
import { dot, norm } from '../util/vec.js';
import { cosineDistance } from './distance.js';
import { checkRows, invalid } from './samples.js';
import { spearman } from './statistics.js';

/** Result of {@link pca2}. */
export interface Pca2Result {
  /** Each vector's coordinates on the first two principal components. */
  coords: [number, number][];
  /** Fraction of the total variance explained by each component, largest first (sums to 1; all 0 when the vectors are identical). */
  explained: number[];
}

/**
 * Principal component analysis of the (centred, unscaled) vectors with ml-pca, projected on the
 * first two components. Each component's sign is fixed so that the coordinate of largest
 * magnitude is positive, which makes the map reproducible. With two vectors the second
 * coordinate is 0.
 *
 * @throws EmosteerError INVALID_ARGUMENT for fewer than two vectors, ragged or non-finite rows
 */
export function pca2(vectors: Float32Array[]): Pca2Result {
  checkRows(vectors, 'vectors', 2);
  const n = vectors.length;
  const data = vectors.map((v) => Array.from(v));
  const pca = new PCA(data, { center: true, scale: false });
  const rawExplained = pca.getExplainedVariance();
  const explained = rawExplained.map((v) => (Number.isFinite(v) ? v : 0));
  const nComp = Math.min(2, rawExplained.length);
  const proj = pca.predict(data, { nComponents: nComp });
  const coords: [number, number][] = [];
  for (let i = 0; i < n; i++) coords.push([proj.get(i, 0), nComp > 1 ? proj.get(i, 1) : 0]);
  for (const c of [0, 1] as const) {
    let big = 0;
    for (const p of coords) if (Math.abs(p[c]) > Math.abs(big)) big = p[c];
    if (big < 0) for (const p of coords) p[c] = -p[c];
    for (const p of coords) if (p[c] === 0) p[c] = 0; // no -0
  }
  return { coords, explained };
}

/** One merge step of a hierarchical clustering: two clusters (by member names) and their distance. */
export interface Merge {
  /** Members of the cluster holding the earlier input, in input order. */
  a: string[];
  /** Members of the other cluster, in input order. */
  b: string[];
  /** Mean cosine distance between the members of `a` and those of `b`. */
  distance: number;
}

/**
 * Average-linkage (UPGMA) agglomerative clustering of the vectors under cosine distance
 * (ml-hclust), as the list of merges in the order they happen (non-decreasing distance). The
 * distance of a merge is the mean cosine distance between the members of the two clusters.
 * Member names within a cluster are listed in input order, and `a` is the cluster holding the
 * earlier input.
 *
 * @param names one name per vector
 * @throws EmosteerError INVALID_ARGUMENT for no vectors, ragged or non-finite rows, or a names length mismatch
 */
export function averageLinkage(vectors: Float32Array[], names: string[]): Merge[] {
  checkRows(vectors, 'vectors', 1);
  if (!Array.isArray(names) || names.length !== vectors.length) {
    throw invalid(`names must have one entry per vector (${vectors.length}), got ${Array.isArray(names) ? names.length : typeof names}`);
  }
  const n = vectors.length;
  if (n === 1) return [];
  const norms = vectors.map((v) => norm(v));
  const dm: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = cosineDistance(vectors[i] as Float32Array, vectors[j] as Float32Array, norms[i], norms[j]);
      (dm[i] as number[])[j] = v;
      (dm[j] as number[])[i] = v;
    }
  }
  const root = agnes(dm, { method: 'average', isDistanceMatrix: true });
  const internal: { node: Cluster; order: number }[] = [];
  // Post-order: children are listed before their parent, which breaks ties in height correctly.
  const visit = (node: Cluster): void => {
    if (node.isLeaf) return;
    for (const child of node.children) visit(child);
    internal.push({ node, order: internal.length });
  };
  visit(root);
  internal.sort((p, q) => p.node.height - q.node.height || p.order - q.order);
  const members = (node: Cluster): number[] => [...node.indices()].sort((a, b) => a - b);
  return internal.map(({ node }) => {
    let a = members(node.children[0] as Cluster);
    let b = members(node.children[1] as Cluster);
    if ((b[0] as number) < (a[0] as number)) [a, b] = [b, a];
    return { a: a.map((i) => names[i] as string), b: b.map((i) => names[i] as string), distance: node.height };
  });
}

/**
 * Representational dissimilarity matrix: 1 - cosine for every pair i < j, as the condensed
 * upper triangle in row order ((0,1), (0,2), ..., (0,n-1), (1,2), ...), length n (n - 1) / 2.
 *
 * @throws EmosteerError INVALID_ARGUMENT for fewer than two vectors, ragged or non-finite rows
 */
export function rdm(vectors: Float32Array[]): Float64Array {
  checkRows(vectors, 'vectors', 2);
  const n = vectors.length;
  const norms = vectors.map((v) => norm(v));
  const out = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = vectors[i] as Float32Array;
      const b = vectors[j] as Float32Array;
      const na = norms[i] as number;
      const nb = norms[j] as number;
      out[k++] = na === 0 || nb === 0 ? 1 : 1 - dot(a, b) / (na * nb);
    }
  }
  return out;
}

/**
 * Representational similarity analysis: the Spearman correlation between the RDMs
 * ({@link rdm}) of two sets of vectors describing the same items in the same order (the
 * widths of the two sets may differ). 1 for sets with the same geometry; NaN when one RDM is constant.
 *
 * @throws EmosteerError INVALID_ARGUMENT for sets of different sizes or fewer than three items
 */
export function rsaSpearman(v1: Float32Array[], v2: Float32Array[]): number {
  checkRows(v1, 'v1', 3);
  checkRows(v2, 'v2', 3);
  if (v1.length !== v2.length) throw invalid(`v1 and v2 must describe the same items: ${v1.length} vs ${v2.length} vectors`);
  return spearman(rdm(v1), rdm(v2));
}
