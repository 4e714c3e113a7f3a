/**
 * Resumable batching: the batches an uninterrupted run makes (`items` in order, `size` at a
 * time) that still have work. A resumed run redoes a partly finished batch whole instead of
 * regrouping what is left, so that every item is decoded in the same batch as without the
 * interruption: llama.cpp's kernels depend on the batch's token count, and regrouped reruns
 * differed from the uninterrupted run (extraction vectors by up to 1.7e-5; on quantized models,
 * whole greedy continuations). Callers skip the items of a batch that were already finished
 * when they record results.
 * @internal
 */
export function pendingBatches<T>(items: readonly T[], size: number, finished: (item: T) => boolean): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let k = 0; k < items.length; k += size) {
    const chunk = items.slice(k, k + size);
    if (chunk.some((item) => !finished(item))) out.push(chunk);
  }
  return out;
}
