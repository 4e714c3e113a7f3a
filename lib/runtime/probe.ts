/**
 * BlockProbe: a read-out of one block's output at every generated token, computed from the
 * activations the decode captures anyway (no second pass). The runtime knows probes only by
 * this interface; the emotion meter (lib/steer/emotion-meter.ts) is one.
 */

/** Reads one block's output at each generated token. */
export interface BlockProbe<R = unknown> {
  /** The block read (0..nLayer-1). */
  readonly layer: number;
  /** The reading of one token's output of {@link layer} (nEmbd floats; the array is not kept). */
  read(activation: Float32Array): R;
}
