/**
 * The manipulation check in the report: per arm and strength, how far steering moved the last
 * steered block's state and the next-token distribution on neutral text, and each control arm's
 * push as a ratio to the emotion arm's at the same strength.
 *
 * @module
 */
import type { ManipulationCheckResult, ManipulationCheckRow, ManipulationStat } from '../steer/manipulation-check.js';
import { escapeHtml } from './html-report.js';
import { DASH, isNum, sig } from './number-format.js';


/** A mean's 95% interval as "lo to hi". */
function interval(s: ManipulationStat | undefined): string {
  const ci = s?.ci95;
  return ci && isNum(ci[0]) && isNum(ci[1]) ? `${sig(ci[0])} to ${sig(ci[1])}` : DASH;
}

/** A ratio with two decimals. */
const ratio = (x: unknown): string => (isNum(x) ? x.toFixed(2) : DASH);

/** The row's ratios to the emotion arm: as saved, or from the emotion arm's row when the file lacks them. */
function ratiosOf(row: ManipulationCheckRow, rows: readonly ManipulationCheckRow[]): { deltaNorm: number; kl: number } | undefined {
  if (row.arm === 'emotion') return undefined;
  if (row.ratioToEmotion) return row.ratioToEmotion;
  const e = rows.find((x) => x.arm === 'emotion' && x.strength === row.strength);
  return e ? { deltaNorm: row.deltaNorm.mean / e.deltaNorm.mean, kl: row.kl.mean / e.kl.mean } : undefined;
}

/**
 * The manipulation check as an HTML fragment (a sub-section headed by an `<h3>`): one table row
 * per strength and arm (the emotion arm first within each strength) with the change of the last
 * steered block's state, that change relative to the state's norm, the next-token KL divergence,
 * their 95% scenario-bootstrap intervals, and each control arm's ratio to the emotion arm at the
 * same strength; one sentence under the table says how to read the ratio. Returns an empty
 * string when the check has no rows. All text is escaped.
 *
 * @param check the `manipulationCheck` of a saved steering result
 */
export function renderManipulationCheck(check: ManipulationCheckResult | undefined): string {
  const rows = check?.rows ?? [];
  if (!check || rows.length === 0) return '';
  const arms = [...new Set(rows.map((r) => r.arm))].sort((a, b) => (a === 'emotion' ? -1 : b === 'emotion' ? 1 : 0));
  const strengths = [...new Set(rows.map((r) => r.strength))].sort((a, b) => a - b);
  const blocks = check.blocks ?? [];
  const texts = check.texts?.length ?? 0;
  const parts: string[] = [];
  parts.push('<h3 id="manipulation-check">Manipulation check: do the arms push equally hard?</h3>');
  parts.push(`<p>Every arm is built to match the emotion vector's norm at each block; this measures what the push does. On ${texts} neutral text${texts === 1 ? '' : 's'}, each arm's steering at each strength against no steering, read at the text's last token: the change of the residual stream at the last steered block${blocks.length ? ` (block ${escapeHtml(blocks.join(', '))})` : ''}, ||h<sub>steered</sub> − h<sub>unsteered</sub>||, that change relative to ||h<sub>unsteered</sub>||, and the next-token KL divergence KL(unsteered || steered) in nats. Means over scenarios (a scenario's draws and texts averaged first) with 95% intervals from a bootstrap over scenarios.</p>`);
  parts.push('<table data-table="manipulation-check"><thead><tr><th>strength</th><th>arm</th><th class="num">scenarios</th><th class="num">last-block change</th><th>95% CI</th><th class="num">relative change</th><th class="num">next-token KL (nats)</th><th>95% CI</th><th class="num">change / emotion arm</th><th class="num">KL / emotion arm</th></tr></thead><tbody>');
  for (const strength of strengths) {
    for (const arm of arms) {
      const row = rows.find((r) => r.arm === arm && r.strength === strength);
      if (!row) continue;
      const rr = ratiosOf(row, rows);
      const ratioCells = row.arm === 'emotion'
        ? '<td class="num muted">reference</td><td class="num muted">reference</td>'
        : `<td class="num" data-ratio="deltaNorm">${ratio(rr?.deltaNorm)}</td><td class="num" data-ratio="kl">${ratio(rr?.kl)}</td>`;
      const rel = row.relativeDeltaNorm?.mean;
      parts.push(`<tr data-arm="${escapeHtml(row.arm)}" data-strength="${escapeHtml(row.strength)}"><td>${escapeHtml(row.strength)}</td><td>${escapeHtml(row.arm)}</td><td class="num">${escapeHtml(row.scenarios)}</td><td class="num">${sig(row.deltaNorm?.mean)}</td><td>${interval(row.deltaNorm)}</td><td class="num">${isNum(rel) ? `${(100 * rel).toFixed(1)}%` : DASH}</td><td class="num">${sig(row.kl?.mean)}</td><td>${interval(row.kl)}</td>${ratioCells}</tr>`);
    }
  }
  parts.push('</tbody></table>');
  parts.push('<p>A ratio is the control arm\'s mean over the emotion arm\'s at the same strength: near 1 the control moves the model as much as the emotion vector does, so a difference in what the judges see comes from the direction; well below 1 the control pushes less, and "the emotion arm beats this control" may only mean that a harder push moves the judge more.</p>');
  return parts.join('\n');
}
