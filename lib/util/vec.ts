/** Small dense-vector helpers used in hot loops (hand-written: tiny and allocation-aware). */

/** Dot product. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Euclidean norm. */
export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** Cosine similarity (0 when either vector is zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const d = norm(a) * norm(b);
  return d === 0 ? 0 : dot(a, b) / d;
}

/** A unit-length copy (a zero vector stays zero). */
export function normalize(a: ArrayLike<number>): Float32Array {
  const n = norm(a);
  const out = new Float32Array(a.length);
  if (n > 0) for (let i = 0; i < a.length; i++) out[i] = a[i]! / n;
  return out;
}

/** Element-wise mean of equally long vectors, accumulated in double precision. */
export function meanOf(vectors: readonly ArrayLike<number>[], width: number): Float32Array {
  const acc = new Float64Array(width);
  for (const v of vectors) for (let i = 0; i < width; i++) acc[i]! += v[i]!;
  const out = new Float32Array(width);
  if (vectors.length > 0) for (let i = 0; i < width; i++) out[i] = acc[i]! / vectors.length;
  return out;
}

/** a - b. */
export function sub(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! - b[i]!;
  return out;
}

/** Mean pairwise cosine similarity of a list of vectors (the paper's separation metric). */
export function meanPairwiseCosine(vectors: readonly ArrayLike<number>[]): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < vectors.length; i++) {
    for (let j = i + 1; j < vectors.length; j++) {
      s += cosine(vectors[i]!, vectors[j]!);
      n++;
    }
  }
  return n === 0 ? Number.NaN : s / n;
}

/** max |a - reference| / max |reference| (the absolute difference when the reference is zero). */
export function relativeError(a: ArrayLike<number>, reference: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < reference.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - reference[i]!));
    den = Math.max(den, Math.abs(reference[i]!));
  }
  return den === 0 ? num : num / den;
}
