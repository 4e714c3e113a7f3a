/**
 * Number formatting shared by the report sections: a dash for what cannot be shown, and three
 * significant digits without exponent notation for ordinary magnitudes.
 *
 * @module
 */

/** What a table cell shows for a missing or non-finite number. */
export const DASH = '–';

/** A finite number (a NaN saved to JSON comes back as null). */
export const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Three significant digits without exponent notation for ordinary magnitudes ({@link DASH} when not a finite number). */
export function sig(x: unknown): string {
  if (!isNum(x)) return DASH;
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  if (a < 1e-3) return x.toExponential(2);
  return x.toPrecision(3);
}
