#!/usr/bin/env node
// Validates the LLM judge of docs/PREREG.md (issue 19, item 6) before it may vote:
//
//   node scripts/llm-judge-validation.mjs [--judge-model qwen2.5-coder-1.5b-instruct]
//       [--stories results/study/smollm2-135m-instruct/generation/stories.jsonl]
//       [--per-class 2] [--pairs-per-emotion 2] [--threads 1] [--out bench/results/llm-judge-validation.json]
//
// (needs `npm run build:ts` first: it uses dist/). The judge model is asked through its own
// chat template, in two ways:
//   classification  "which one of the 21 labels?", every label scored by log-probability, raw
//                   and with contextual calibration (the mean label distribution of the
//                   content-free texts "N/A", "" and "[MASK]" divides every distribution);
//                   validated like every judge (lib/steer/judges/judge-validation.ts: confusion
//                   matrix, macro-F1 with a bootstrap interval, votes when its lower bound
//                   clears the permutation chance level);
//   pairwise        "which of two texts expresses more X?", asked in both orders
//                   (lib/steer/judges/pairwise-judge.ts), on pairs of a text of X and a text of
//                   another category; votes when the interval of its pair accuracy lies above 0.5.
// Each on a stratified subsample (the first --per-class texts of each of the 21 categories; the
// first --pairs-per-emotion texts of each of the 20 emotions) of the labelled passages and of
// one model's generated stories (labelled by their prompt). A judge never reads its own family:
// stories of a Qwen model are refused. The JSON is rewritten after every step, so a stop loses
// at most the step in flight (rerun to start over; the steps take minutes each on 2 cores).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`${new Date().toISOString()} [llm-judge-validation] ${msg}\n`);
const { values } = parseArgs({
  options: {
    'judge-model': { type: 'string', default: 'qwen2.5-coder-1.5b-instruct' },
    stories: { type: 'string', default: 'results/study/smollm2-135m-instruct/generation/stories.jsonl' },
    'per-class': { type: 'string', default: '2' },
    'pairs-per-emotion': { type: 'string', default: '2' },
    threads: { type: 'string', default: '1' },
    resamples: { type: 'string', default: '2000' },
    out: { type: 'string', default: 'bench/results/llm-judge-validation.json' },
  },
});
const int = (k) => { const n = Number(values[k]); if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} must be a positive integer`); return n; };
const perClass = int('per-class');
const perEmotion = int('pairs-per-emotion');
const threads = int('threads');
const resamples = int('resamples');

const lib = await import(join(root, 'dist', 'index.js'));
const steer = await import(join(root, 'dist', 'steer', 'index.js'));
const { readStories } = await import(join(root, 'dist', 'extract', 'stories.js'));
const { resolveModel } = await import(join(root, 'dist', 'models', 'fetch.js'));
const { getModelEntry, MODELS } = await import(join(root, 'dist', 'models', 'registry.js'));

const judgeEntry = getModelEntry(values['judge-model']);
const { header, stories: storyMap } = await readStories(resolve(values.stories));
const storiesEntry = MODELS.find((m) => m.sha256 === header.model);
if (!storiesEntry) throw new Error(`${values.stories}: its model (sha256 ${header.model}) is not a registry model, so its family is unknown`);
if (storiesEntry.family === judgeEntry.family) throw new Error(`the judge (${judgeEntry.name}) is of the stories' model family (${storiesEntry.family}): a judge never reads its own family`);

/** The first `k` texts of every category, in category order. */
const stratified = (texts, k) => {
  const seen = new Map();
  return texts.filter((t) => { const n = seen.get(t.category) ?? 0; seen.set(t.category, n + 1); return n < k; });
};
const passages = stratified(steer.passageTexts(), perClass);
const allStories = steer.storyTexts([...storyMap.values()].sort((a, b) => a.key.localeCompare(b.key, 'en', { numeric: true })));
const stories = stratified(allStories, perClass);
const pairPassages = steer.passageTexts(undefined, perEmotion);
const pairStories = stratified(allStories, perEmotion);

const t0 = performance.now();
const model = await lib.loadModel(await resolveModel(judgeEntry.name));
const ctx = await model.createContext({ contextSize: 2048, threads });
const name = `llm-${judgeEntry.name}`;
const judge = new steer.LlmJudge(ctx, { format: 'chat', calibration: true, name, cacheSize: 10000 });
const pairwise = new steer.PairwiseJudge(ctx, { name: `${name}-pairwise` });
const rawView = {
  name: `${name} (21 labels, chat prompt, raw)`,
  classes: judge.labels,
  classOf: (c) => (judge.labels.includes(c) ? c : null),
  predict: async (text) => { const d = await judge.distribution(text); return Object.entries(d.raw).reduce((b, e) => (e[1] > b[1] ? e : b))[0]; },
};
const calView = steer.llmClassView(judge);

const out = {
  command: `node scripts/llm-judge-validation.mjs --judge-model ${judgeEntry.name} --stories ${values.stories} --per-class ${perClass} --pairs-per-emotion ${perEmotion} --threads ${threads}`,
  judgeModel: { name: judgeEntry.name, file: judgeEntry.file, sha256: judgeEntry.sha256 },
  stories: { path: values.stories, model: storiesEntry.name, texts: allStories.length },
  prompt: { format: 'chat', system: steer.JUDGE_SYSTEM_MESSAGE, classification: steer.chatJudgePrompt('<text>', ['<labels>']), pairwise: steer.defaultPairwisePrompt('<first>', '<second>', '<emotion>') },
  contentFree: null,
  classification: [],
  pairwise: [],
  seconds: {},
};
const save = () => { mkdirSync(dirname(values.out), { recursive: true }); writeFileSync(values.out, `${JSON.stringify(out, null, 1)}\n`); };
const brief = (r, data) => ({ judge: r.judge, data, n: r.n, classes: r.classes, macroF1: r.macroF1, accuracy: r.accuracy, chance: r.chance, otherRate: r.otherRate, votes: r.votes, rule: r.rule, confusion: r.confusion, perClass: r.perClass });

let t = performance.now();
out.contentFree = await judge.contentFreeDistribution();
out.seconds.calibration = (performance.now() - t) / 1000;
log(`content-free distribution in ${out.seconds.calibration.toFixed(0)} s; top ${Object.entries(out.contentFree).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
save();
for (const [data, texts] of [['passages', passages], ['stories', stories]]) {
  t = performance.now();
  let done = 0;
  // One pass fills the judge's cache; both views read it.
  for (const x of texts) { await judge.distribution(x.text); if (++done % 10 === 0) log(`${data} classification ${done}/${texts.length}`); }
  for (const view of [rawView, calView]) {
    const r = await steer.validateJudge(view, texts.map((x) => ({ ...x, source: data })), { resamples });
    out.classification.push(brief(r, data));
    log(`${view.name} on ${data}: macro-F1 ${r.macroF1.value.toFixed(3)} [${r.macroF1.ci95.map((v) => v.toFixed(3)).join(', ')}] (chance ${r.chance.macroF1.toFixed(3)}), accuracy ${r.accuracy.value.toFixed(3)}, votes ${r.votes}`);
  }
  out.seconds[`classification ${data}`] = (performance.now() - t) / 1000;
  save();
}
for (const [data, texts] of [['passages', pairPassages], ['stories', pairStories]]) {
  t = performance.now();
  const pairs = steer.validationPairs(texts.map((x) => ({ ...x, source: data })), { perEmotion });
  const r = await steer.validatePairwise(pairwise, pairs, { data, resamples, onProgress: (d, n) => d % 10 === 0 && log(`${data} pairs ${d}/${n}`) });
  out.pairwise.push(r);
  out.seconds[`pairwise ${data}`] = (performance.now() - t) / 1000;
  log(`${r.judge} on ${data}: accuracy ${r.accuracy.value.toFixed(3)} [${r.accuracy.ci95.map((v) => v.toFixed(3)).join(', ')}] over ${r.n} pairs, position bias ${r.positionBias.toFixed(3)}, votes ${r.votes}`);
  save();
}
out.seconds.total = (performance.now() - t0) / 1000;
save();
ctx.dispose?.();
log(`done in ${out.seconds.total.toFixed(0)} s -> ${values.out}`);
