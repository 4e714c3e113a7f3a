/**
 * The tables of docs/results.md, written from a study (study.json's {@link StudyResult}) and the
 * run manifests of its models, so that the document shows what the committed state says and
 * nothing typed by hand: `emosteer study --report-only --from results/study --results-md
 * docs/results.md` replaces every block between `<!-- emosteer:generated NAME -->` and
 * `<!-- /emosteer:generated NAME -->` (prose may stand around them, never inside).
 *
 * Blocks: `claims` (verdicts per model and across models), `decodability` (per model and
 * read-out), `steering` (the pre-registered endpoints, the manipulation check and the LLM
 * judge), `rsa` (representational similarity between models, methods and precisions), `runs`
 * (rules, commit and wall time of every step of every model).
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import type { Estimate } from '../evaluate/types.js';
import { RSA_PRIMARY_SET, RSA_SECONDARY_SET, type RsaSide, type RsaUnderRule, type StudyRsaComparison } from './study-rsa.js';
import type { StudyResult, StudyRow } from './types.js';

/** One step of a run. */
export interface RunStepRecord {
  /** Rules version (docs/PREREG.md) the step ran under. */
  rules: string;
  /** Code commit the step (last) ran from, when known. */
  commit?: string;
  /** ISO time the step first started. */
  startedAt: string;
  /** ISO time it finished; absent while in flight or cut. */
  finishedAt?: string;
  /** Wall seconds of the sittings that ran it, summed (a resumed step adds each sitting). */
  seconds: number;
  /** CPU threads it ran with, when given. */
  threads?: number;
  /** Free-form facts of the step (e.g. its machine), as the caller records them. */
  notes?: string[];
}

/** One model's run manifest as far as the tables need it (`run.json`, lib/protocol/run-manifest.ts). */
export interface RunSteps {
  /** Steps by name. */
  steps: Record<string, RunStepRecord>;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const f = (x: number | undefined | null, d = 3) => (x !== undefined && x !== null && Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const pv = (p: number) => (!Number.isFinite(p) ? 'n/a' : p < 0.001 ? '< 0.001' : p.toFixed(3));
const est = (e: Estimate | undefined, d = 3) => (e ? `${f(e.value, d)} [${f(e.ci95[0], d)}, ${f(e.ci95[1], d)}]` : 'n/a');

function claimsBlock(result: StudyResult): string {
  const models = result.rows.map((r) => r.variant.id);
  const lines = [
    `Rules \`${result.rules ?? 'n/a'}\` (docs/PREREG.md), ${result.rows.length} model(s): ${models.join(', ')}.`,
    '',
    `| claim | paper | ${models.map(cell).join(' | ')} | across models |`,
    `|---|---|${models.map(() => '---|').join('')}---|`,
  ];
  for (const c of result.claims) {
    const per = models.map((m) => { const v = c.perModel[m]; return v ? `**${v.verdict}**: ${cell(v.reason)}` : 'not tested'; });
    lines.push(`| ${cell(c.claim)} | ${cell(c.paper)} | ${per.join(' | ')} | **${c.verdict}** (${c.across.holds} of ${c.across.tested} hold) |`);
  }
  return lines.join('\n');
}

function decodabilityBlock(rows: readonly StudyRow[]): string {
  const out: string[] = [];
  for (const r of rows) {
    const sets = Object.entries(r.methods).filter(([, m]) => m.bestBlock);
    if (sets.length === 0) continue;
    out.push(`**${r.variant.id}** (held-out accuracy of the centred nearest centroid over ${sets[0]![1].emotions + 1} classes, chance ${f(sets[0]![1].chance)}):`, '');
    out.push('| set (read-out) | best block (depth [95% CI]) | accuracy [95% CI] | best-of-blocks null p95 (p) | uncentred best block | linear probe there |', '|---|---|---|---|---|---|');
    for (const [name, m] of sets) {
      const b = m.bestBlock!;
      out.push(`| ${cell(name)} | ${b.layer} (${f(b.depth, 2)} [${f(b.depthCi95[0], 2)}, ${f(b.depthCi95[1], 2)}]) | ${f(b.accuracy)} [${f(b.accuracyCi95[0])}, ${f(b.accuracyCi95[1])}] | ${f(b.nullP95)} (${f(b.p)}) | ${m.bestLayerUncentred ?? 'n/a'} | ${f(m.probeAccuracy.value)} |`);
    }
    const d = r.decodability;
    if (d?.primary) out.push('', `Generation minus comprehension (primary read-outs ${d.primary.a} vs ${d.primary.b}): ${est(d.primary.difference)}${d.primaryUncentred ? `; uncentred ${est(d.primaryUncentred.difference)}` : ''}.`);
    out.push('');
  }
  return out.length ? out.join('\n').trimEnd() : 'No model has the pre-registered read-outs yet.';
}

function steeringBlock(rows: readonly StudyRow[]): string {
  const out: string[] = [];
  for (const r of rows) {
    const e = r.steering?.endpoints;
    if (!e) continue;
    out.push(`**${r.variant.id}**: primary judge ${e.primaryJudge ?? 'none (no judge passed validation)'} (voting: ${e.votingJudges.join(', ') || 'none'}), primary strength ${e.primaryStrength}, ${e.primaryScenarios} neutral/toward scenarios, noise floor ${f(e.noiseFloor)}.`, '');
    out.push('| contrast (signed judge change, steered minus baseline, paired by scenario) | estimate [95% CI] | p | Holm p |', '|---|---|---|---|');
    out.push(`| emotion - random (primary) | ${est(e.effect)} | | |`);
    out.push(`| emotion - other-emotion (primary) | ${est(e.effectOther)} | | |`);
    for (const s of e.secondary) out.push(`| ${cell(s.name)} | ${est(s.estimate)} | ${pv(s.p)} | ${pv(s.pHolm)} |`);
    const man = e.manipulation ?? [];
    if (man.length) {
      const strengths = [...new Set(man.map((m) => m.strength))].sort((a, b) => a - b);
      const arms = [...new Set(man.map((m) => m.arm))].filter((a) => a !== 'emotion');
      out.push('', 'Manipulation check (last steered block\'s state change and next-token KL on neutral text; each control arm as a ratio of the emotion arm):', '');
      out.push(`| strength | emotion: change, KL | ${arms.map((a) => `${cell(a)} / emotion`).join(' | ')} |`, `|---|---|${arms.map(() => '---|').join('')}`);
      for (const k of strengths) {
        const emo = man.find((m) => m.arm === 'emotion' && m.strength === k);
        const ratios = arms.map((a) => { const x = man.find((m) => m.arm === a && m.strength === k); return x && emo ? `${f(x.lastBlockChange / emo.lastBlockChange, 2)}, ${f(x.kl / emo.kl, 2)}` : 'n/a'; });
        out.push(`| ${k} | ${emo ? `${f(emo.lastBlockChange, 1)}, ${f(emo.kl)}` : 'n/a'} | ${ratios.join(' | ')} |`);
      }
    }
    const l = r.steering?.llmPairwise;
    if (l) {
      out.push('', `LLM judge (${cell(l.judge)}, pairwise, both orders): validation ${l.validation.map((v) => `${v.data} ${f(v.accuracy.value)} [${f(v.accuracy.ci95[0])}, ${f(v.accuracy.ci95[1])}] over ${v.n} pairs`).join('; ')}; ${l.votes ? 'votes' : 'does not vote (it judges no run)'}.`);
      if (l.effects) out.push(`Effects (P(steered text chosen) - 0.5): ${Object.entries(l.effects.arms).map(([a, x]) => `${a} ${est(x)}`).join('; ')}; ${l.effects.contrasts.map((c) => `emotion - ${c.control} ${est(c.difference)}`).join('; ')}.`);
    }
    out.push('');
  }
  return out.length ? out.join('\n').trimEnd() : 'No model has pre-registered steering endpoints yet.';
}

function rsaRule(u: RsaUnderRule): string {
  const b = u.block;
  return b.rule === 'prereg' ? 'pre-registered block (each set\'s cosine-matrix block)' : b.rule === 'best-accuracy' ? 'each set\'s best-accuracy block' : b.rule === 'depth' ? `matched depth ${b.depth}` : 'the geometry of the texts each set was read from (masked word frequencies, built as the vectors are)';
}

function rsaBlock(result: StudyResult): string {
  const rsa = result.rsa;
  if (!rsa) return 'Not computed: this study.json was written before the RSA existed (rerun `emosteer study --report-only`).';
  const side = (x: RsaSide) => (x.layer < 0 ? `${cell(x.model)} (texts)` : `${cell(x.model)} (block ${x.layer}, depth ${f(x.depth, 2)})`);
  const r = (c: StudyRsaComparison) => (Number.isFinite(c.result.ci95[0]) ? `${f(c.result.r)} [${f(c.result.ci95[0])}, ${f(c.result.ci95[1])}]` : f(c.result.r));
  const table = (head: [string, string], list: readonly StudyRsaComparison[]) => [`| ${head[0]} | ${head[1]} | r [95% CI] | p | Holm p |`, '|---|---|---|---|---|', ...list.map((c) => `| ${side(c.a)} | ${side(c.b)} | ${r(c)} | ${pv(c.result.p)} | ${pv(c.pHolm)} |`)];
  const out: string[] = [`Spearman's r between the upper triangles of two 20 x 20 dissimilarity matrices (1 - cosine of the unit emotion vectors); 95% interval over ${rsa.options.resamples} emotion bootstrap resamples; one-sided p from ${rsa.options.permutations} label permutations (seed ${rsa.options.seed}); Holm within each table. Exploratory: no claim depends on it.`];
  const section = (u: RsaUnderRule, title: string) => {
    out.push('', `**${title}: ${rsaRule(u)}.**`);
    for (const fam of u.betweenModels) {
      out.push('', `Between models, \`${fam.set}\` (${fam.primary ? 'primary' : 'secondary'}): ${fam.comparisons.length ? `${fam.agreeing} of ${fam.comparisons.length} pairs with the interval above 0` : 'fewer than two models have this set'}.`);
      if (fam.comparisons.length) out.push('', ...table(['model A', 'model B'], fam.comparisons));
    }
    out.push('', `Between methods (\`${RSA_SECONDARY_SET}\` against \`${RSA_PRIMARY_SET}\`, per model): ${u.betweenMethods.length ? `${u.betweenMethods.filter((c) => c.result.ci95[0] > 0).length} of ${u.betweenMethods.length} models with the interval above 0` : 'no model has both sets'}.`);
    if (u.betweenMethods.length) out.push('', ...table(['comprehension', 'generation'], u.betweenMethods));
    if (u.againstText.length) out.push('', 'Each set against the geometry of its own texts:', '', ...table(['set (block)', 'its texts'], u.againstText));
  };
  section(rsa.prereg, 'Pre-registered');
  const [best, ...depths] = rsa.sensitivity;
  if (best) section(best, 'Sensitivity (post hoc)');
  if (rsa.text) section(rsa.text, 'Texts (post hoc)');
  if (depths.length) {
    out.push('', '**Sensitivity (post hoc): matched depths** (r, permutation p; no interval):', '', `| pair | set | ${depths.map((u) => `depth ${u.block.rule === 'depth' ? u.block.depth : ''}`).join(' | ')} |`, `|---|---|${depths.map(() => '---|').join('')}`);
    const rowsOf = (u: RsaUnderRule) => [...u.betweenModels.flatMap((fam) => fam.comparisons.map((c) => ({ key: `${c.a.model} / ${c.b.model}`, set: fam.set, c }))), ...u.betweenMethods.map((c) => ({ key: `${c.a.model}: methods`, set: `${c.a.set} / ${c.b.set}`, c })), ...u.againstText.map((c) => ({ key: `${c.a.model}: against its texts`, set: c.a.set, c }))];
    const keys = rowsOf(depths[0]!).map((x) => `${x.key}\u0000${x.set}`);
    for (const k of keys) {
      const [key, set] = k.split('\u0000') as [string, string];
      const cells = depths.map((u) => { const x = rowsOf(u).find((y) => y.key === key && y.set === set); return x ? `${f(x.c.result.r)} (p ${pv(x.c.result.p)})` : 'n/a'; });
      out.push(`| ${cell(key)} | \`${cell(set)}\` | ${cells.join(' | ')} |`);
    }
  }
  if (rsa.missingGeometry.length) out.push('', `No geometry.json (left out of the sensitivity analyses): ${rsa.missingGeometry.join(', ')}.`);
  if (rsa.quantized.length) {
    out.push('', 'Requantized variants against their shipped precision, pre-registered block (not tested):', '', '| shipped | variant | set | r [95% CI] | p |', '|---|---|---|---|---|');
    for (const c of rsa.quantized) out.push(`| ${side(c.a)} | ${side(c.b)} | \`${cell(c.a.set)}\` | ${r(c)} | ${pv(c.result.p)} |`);
  }
  return out.join('\n');
}

function runsBlock(rows: readonly StudyRow[], runs: Readonly<Record<string, RunSteps>>): string {
  const out = ['| model | step | rules | wall time | finished | commit | notes |', '|---|---|---|---|---|---|---|'];
  let total = 0;
  for (const r of rows) {
    const m = runs[r.variant.id];
    if (!m) { out.push(`| ${cell(r.variant.id)} | (no run.json: run before the manifest existed) | | | | | |`); continue; }
    for (const [step, s] of Object.entries(m.steps)) {
      total += s.seconds;
      out.push(`| ${cell(r.variant.id)} | ${cell(step)} | ${s.rules} | ${s.seconds > 0 ? `${(s.seconds / 60).toFixed(1)} min` : '-'} | ${s.finishedAt ? s.finishedAt.slice(0, 16).replace('T', ' ') : 'not yet'} | ${s.commit ? s.commit.slice(0, 10) : ''} | ${cell((s.notes ?? []).join('; '))} |`);
    }
  }
  out.push('', `Wall time recorded in the manifests: ${(total / 3600).toFixed(2)} h.`);
  return out.join('\n');
}

/** Every generated block of docs/results.md, by name. */
export function resultsBlocks(result: StudyResult, runs: Readonly<Record<string, RunSteps>> = {}): Record<string, string> {
  return { claims: claimsBlock(result), decodability: decodabilityBlock(result.rows), steering: steeringBlock(result.rows), rsa: rsaBlock(result), runs: runsBlock(result.rows, runs) };
}

const BLOCK = /<!-- emosteer:generated ([a-z-]+) -->\n[\s\S]*?<!-- \/emosteer:generated \1 -->/g;

/** The names of the generated blocks a Markdown text holds, in order. */
export function generatedBlockNames(markdown: string): string[] {
  return [...markdown.matchAll(BLOCK)].map((m) => m[1]!);
}

/** The content of each generated block of a Markdown text (what {@link replaceGeneratedBlocks} wrote). */
export function generatedBlocks(markdown: string): Record<string, string> {
  return Object.fromEntries([...markdown.matchAll(BLOCK)].map((m) => [m[1]!, m[0].slice(m[0].indexOf('\n') + 1, m[0].lastIndexOf('\n<!-- /emosteer'))]));
}

/**
 * Replaces every generated block of `markdown` by the block of that name.
 * @throws EmosteerError INVALID_ARGUMENT when the text has no generated block, or names one that `blocks` lacks
 */
export function replaceGeneratedBlocks(markdown: string, blocks: Readonly<Record<string, string>>): string {
  const names = generatedBlockNames(markdown);
  if (names.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'the Markdown has no <!-- emosteer:generated NAME --> block to fill');
  const unknown = names.filter((n) => !(n in blocks));
  if (unknown.length) throw new EmosteerError('INVALID_ARGUMENT', `unknown generated block(s) ${unknown.join(', ')}; known: ${Object.keys(blocks).join(', ')}`);
  return markdown.replace(BLOCK, (_, name: string) => `<!-- emosteer:generated ${name} -->\n${blocks[name]!}\n<!-- /emosteer:generated ${name} -->`);
}
