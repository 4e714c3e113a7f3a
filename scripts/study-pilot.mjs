#!/usr/bin/env node
// The pilot of docs/PREREG.md on one registry model, in the order it ran (every step is skipped
// when its output exists, so rerunning it resumes):
//   1. the stories (results/study/<model>/generation/stories.jsonl, committed as they finish);
//   2. both extractions with the rules' read-outs (one prefill over the committed stories);
//   3. the steering experiment with the rules' arms and the default judges;
//   4. the evaluation of every set; the judges of the rules (a probe judge on another family's
//      model, the NRC lexicon), validated, re-judging the saved runs (judges read text only, so
//      this equals judging while generating); the specificity matrix; the claims (--report-only).
// `emosteer study --models <model> --out <folder> --llm-judge none` runs the same protocol in
// one go; this script keeps the cheap judges' steps apart so that the steering could start
// before the judges' code was ready. Needs dist/ (npm run build:ts).
// Usage: node scripts/study-pilot.mjs <registry model> <study folder> [threads]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmotionVectorSet, loadModel } from '../dist/index.js';
import { storyTexts } from '../dist/steer/judges/labelled-texts.js';
import { resolveModel } from '../dist/models/fetch.js';
import { getModelEntry } from '../dist/models/registry.js';
import { evaluateFolder, extractToFolder, PREREG_READOUTS, PREREG_STEERING, rescoreFolder, runStudy, steerFolder } from '../dist/protocol/index.js';
import { preregJudges, probeJudgeModelFor } from '../dist/protocol/prereg-judges.js';
import { modelHandle } from '../dist/protocol/model-source.js';
import { loadRunSet } from '../dist/protocol/run-folder.js';
import { specificityWith } from '../dist/protocol/steps.js';

const [name, studyDir, threadsArg] = process.argv.slice(2);
const threads = Number(threadsArg ?? 1);
const dir = join(studyDir, name);
const entry = getModelEntry(name);
const log = (m) => console.error(`${new Date().toISOString()} ${m}`);
const t = () => performance.now();

let t0 = t();
const path = await resolveModel(name);
if (!existsSync(join(dir, 'generation', 'manifest.json')) || !existsSync(join(dir, 'comprehension', 'manifest.json'))) {
  await extractToFolder(path, join(dir, 'comprehension'), { method: 'comprehension', samples: 10, readouts: PREREG_READOUTS.comprehension, threads });
  log(`comprehension ${((t() - t0) / 1000).toFixed(0)} s`);
  t0 = t();
  await extractToFolder(path, join(dir, 'generation'), { method: 'generation', readouts: PREREG_READOUTS.generation, threads, onProgress: (e) => e.type === 'extraction' && e.progress.done % 20 === 0 && log(`stories ${e.progress.done}/${e.progress.total}`) });
  log(`generation ${((t() - t0) / 1000).toFixed(0)} s`);
}
if (!existsSync(join(dir, 'steering.json'))) {
  t0 = t();
  await steerFolder(dir, { model: path, ...PREREG_STEERING, threads, onProgress: (e) => e.type === 'steering' && e.done % 50 === 0 && log(`steering ${e.done}/${e.total}`) });
  log(`steering ${((t() - t0) / 1000).toFixed(0)} s`);
}
const model = await loadModel(path);
const judgeName = probeJudgeModelFor(entry.family);
const judgeModel = await loadModel(await resolveModel(judgeName));
t0 = t();
const stories = storyTexts((await EmotionVectorSet.load(join(dir, 'generation'), { activations: false })).meta);
const built = await preregJudges(model, judgeModel, { threads, stories });
log(`judges built and validated in ${((t() - t0) / 1000).toFixed(0)} s: ${JSON.stringify(built.validation.map((v) => [v.judge, v.macroF1.value.toFixed(3), v.chance.toFixed(3), v.votes]))}`);
try {
  const saved = JSON.parse(readFileSync(join(dir, 'steering.json'), 'utf8'));
  if (!built.judges.every((j) => saved.judges[j.judge.name])) {
    t0 = t();
    await rescoreFolder(dir, { judges: built.judges, judgeValidation: built.validation, onProgress: (e) => e.type === 'rescore' && e.done % 200 === 0 && log(`rescore ${e.done}/${e.total}`) });
    log(`rescored in ${((t() - t0) / 1000).toFixed(0)} s`);
  }
  if (!existsSync(join(dir, 'specificity.json'))) {
    t0 = t();
    const handle = modelHandle(model);
    await specificityWith(dir, handle, await loadRunSet(dir), { judges: built.judges.map((j) => j.judge), params: entry.params, threads, onProgress: (e) => e.done % 40 === 0 && log(`specificity ${e.done}/${e.total}`) });
    log(`specificity in ${((t() - t0) / 1000).toFixed(0)} s`);
  }
} finally {
  await built.dispose();
  judgeModel.dispose();
  model.dispose();
}
t0 = t();
if (!existsSync(join(dir, 'evaluation.json'))) {
  await evaluateFolder(dir, { onProgress: (e) => e.type === 'message' && log(`evaluate: ${e.message}`) });
  log(`evaluation ${((t() - t0) / 1000).toFixed(0)} s`);
}

const r = await runStudy({ models: [name], out: studyDir, reportOnly: true, llmJudge: 'none' });
for (const c of r.study.claims) console.log(`${c.id}: ${c.verdict} | ${Object.entries(c.perModel).map(([k, v]) => `${k}: ${v.reason}`).join('; ')}`);
