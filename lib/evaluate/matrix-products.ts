/**
 * Row-major Float64Array matrix products for the linear probe's hot loops, written for V8:
 * operands are read contiguously and four rows share each load, which gives four independent
 * accumulators (about twice as fast as one dot product at a time).
 */

/** sum_{q < len} a[ao + q] * b[bo + q] */
function dotAt(a: Float64Array, ao: number, b: Float64Array, bo: number, len: number): number {
  let s = 0;
  for (let q = 0; q < len; q++) s += (a[ao + q] as number) * (b[bo + q] as number);
  return s;
}

/**
 * out[i nb + j] = sum_k A[i len + k] * B[j len + k] for i < na, j < nb: the product A B^T of two
 * row-major matrices with rows of length len. Four rows of A share each load of B, which gives
 * four independent accumulators (about twice as fast in V8 as one dot product at a time).
 */
export function multiplyABt(A: Float64Array, na: number, len: number, B: Float64Array, nb: number, out: Float64Array): void {
  let i = 0;
  for (; i + 3 < na; i += 4) {
    const a0 = i * len;
    const a1 = a0 + len;
    const a2 = a1 + len;
    const a3 = a2 + len;
    for (let j = 0; j < nb; j++) {
      const bo = j * len;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < len; k++) {
        const w = B[bo + k] as number;
        s0 += (A[a0 + k] as number) * w;
        s1 += (A[a1 + k] as number) * w;
        s2 += (A[a2 + k] as number) * w;
        s3 += (A[a3 + k] as number) * w;
      }
      out[i * nb + j] = s0;
      out[(i + 1) * nb + j] = s1;
      out[(i + 2) * nb + j] = s2;
      out[(i + 3) * nb + j] = s3;
    }
  }
  for (; i < na; i++) {
    for (let j = 0; j < nb; j++) out[i * nb + j] = dotAt(A, i * len, B, j * len, len);
  }
}

/**
 * grad[c r + q] += sum_a R[a C + c] * FT[q m + a] for every class c < C and direction q < r,
 * with FT the transpose of F (r x m). R is first transposed into RT (the first C x m values of
 * `scratch`) so that both operands are read contiguously; the product FT RT^T (r x C, computed
 * by {@link multiplyABt} into the next r x C values of `scratch`) is then added to grad.
 *
 * @param scratch at least C m + r C values, overwritten
 */
export function accumulateClassGradient(
  R: Float64Array,
  FT: Float64Array,
  m: number,
  r: number,
  C: number,
  grad: Float64Array,
  scratch: Float64Array,
): void {
  const RT = scratch.subarray(0, C * m);
  const product = scratch.subarray(C * m, C * m + r * C);
  for (let a = 0; a < m; a++) {
    for (let c = 0; c < C; c++) RT[c * m + a] = R[a * C + c] as number;
  }
  multiplyABt(FT, r, m, RT, C, product);
  for (let q = 0; q < r; q++) {
    for (let c = 0; c < C; c++) {
      const go = c * r + q;
      grad[go] = (grad[go] as number) + (product[q * C + c] as number);
    }
  }
}
