/**
 * The relative depth of a block, block / (blocks − 1): 0 at the first block, 1 at the last, so
 * that models of different sizes share one axis. Used by the plots and the HTML report.
 */

/** Relative depth of block `layer` in a model of `nLayer` blocks: layer / (nLayer − 1); 0 for a one-block model. */
export function depthOf(layer: number, nLayer: number): number {
  return nLayer > 1 ? layer / (nLayer - 1) : 0;
}

/** A depth as a whole percentage ("42%"); an en dash for a missing (non-finite) depth. */
export function fmtDepth(d: number): string {
  return Number.isFinite(d) ? `${Math.round(d * 100)}%` : '–';
}
