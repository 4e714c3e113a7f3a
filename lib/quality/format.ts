/**
 * The terminal table of a {@link QualityReport}.
 */
import type { QualityReport } from './compare.js';
import type { Estimate } from './summary.js';

function fmt(v: number, digits: number): string {
  if (!Number.isFinite(v)) return String(v);
  return v.toFixed(digits);
}

function withCi(e: Estimate, digits: number): string {
  return `${fmt(e.value, digits)} [${fmt(e.ci95[0], digits)}, ${fmt(e.ci95[1], digits)}]`;
}

/** Decimals that show a small positive number (KL divergences range from 1e-5 to 1): 3 to 6. */
export function kldDigits(v: number): number {
  if (!(v > 0)) return 4;
  return Math.min(6, Math.max(3, 2 - Math.floor(Math.log10(v))));
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n');
}

/**
 * A report as text: a header line on the text and method, then one table of every model's
 * file, speed and perplexity, and one of every candidate's distance to the reference (KL
 * divergence in nats, delta-p and top-1 agreement in %), with 95% intervals in brackets.
 */
export function formatQualityTable(r: QualityReport): string {
  const lines: string[] = [];
  lines.push(`text: ${r.text.name} (${r.text.tokens} tokens), ${r.chunks} chunks of ${r.contextSize}, the second half of each scored (${r.scoredPerChunk} per chunk, ${r.scoredTokens} in all, as llama-perplexity)`);
  lines.push(`intervals: 95% bootstrap over chunks (${r.intervals.resamples} resamples)`);
  lines.push('');
  const all = [r.reference, ...r.candidates];
  const head = ['model', 'type', 'MiB', 'bits/weight', 'pp t/s', 'tg t/s', 'perplexity'];
  lines.push(table([
    head,
    ...all.map((m, i) => [
      `${i === 0 ? '* ' : '  '}${m.label}${m.steering ? ` (${m.steering})` : ''}`,
      m.quantization,
      fmt(m.file.fileBytes / 1024 / 1024, 1),
      fmt(m.file.bitsPerWeight, 2),
      m.speed ? fmt(m.speed.ppTokensPerSecond, 1) : '-',
      m.speed ? fmt(m.speed.tgTokensPerSecond, 1) : '-',
      withCi(m.perplexity, 3),
    ]),
  ]));
  lines.push('(* reference)');
  if (r.candidates.length > 0) {
    lines.push('');
    const d = Math.max(...r.candidates.map((c) => kldDigits(c.kld.mean.value)));
    lines.push(table([
      ['candidate vs reference', 'PPL ratio', 'KLD mean', 'KLD median', 'KLD p99', 'KLD p99.9', 'KLD max', 'RMS Δp %', 'same top-1 %'],
      ...r.candidates.map((c) => [
        c.label + (c.steering ? ` (${c.steering})` : ''),
        withCi(c.perplexityRatio, 4),
        withCi(c.kld.mean, d),
        fmt(c.kld.median.value, d),
        fmt(c.kld.p99.value, d),
        fmt(c.kld.p999.value, d),
        fmt(c.kld.max, d),
        withCi({ value: 100 * c.rmsDeltaP.value, ci95: [100 * c.rmsDeltaP.ci95[0], 100 * c.rmsDeltaP.ci95[1]] }, 3),
        withCi(c.sameTopPercent, 2),
      ]),
    ]));
    lines.push('KLD = KL(reference || candidate) in nats per token over the full vocabulary; RMS Δp of the next token\'s probability (llama-perplexity\'s definition).');
  }
  return lines.join('\n');
}
