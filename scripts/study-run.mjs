#!/usr/bin/env node
// One model's run of the study under docs/PREREG.md, with its state in the repo:
//
//   node scripts/study-run.mjs <registry model> [--out results/study] [--threads 1] [--commit]
//
// (needs `npm run build:ts` first: it uses dist/). The steps of runMainJob with the rules'
// read-outs, arms and judges: comprehension and generation extraction (the stories are kept in
// <out>/<model>/generation/stories.jsonl, the activations are recomputed from them), the
// evaluation, the steering experiment, the LLM judge (Qwen2.5-Coder-1.5B-Instruct, pairwise;
// never on a Qwen model), the specificity matrix and the report; then the claims of every
// model in <out> (study --report-only). Every step is skipped when its output is there, so
// rerunning resumes, on this machine or on a fresh clone (the committed texts come back as
// activations by one prefill). <out>/<model>/run.json records the model's sha256 and, per step,
// the rules version, the code commit and the wall time; another model file is refused, and so
// is finishing a step started under other rules.
//
// --commit: `git add` + `git commit` of <out>/<model> after every step and every 20 minutes
// inside a long step (stories and steering runs checkpoint as they finish), so a stop loses at
// most the work since the last commit; for the committed study (--out results/study) with the
// study's report, claims and docs/results.md rewritten from the folder first (run it from the
// repository root, after npm run build:ts). Progress goes to stderr.
import { execFileSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../dist/index.js';
import { readStories } from '../dist/extract/stories.js';
import { resolveModel } from '../dist/models/fetch.js';
import { getModelEntry, MODELS } from '../dist/models/registry.js';
import { preregJudges, probeJudgeModelFor, runMainJob, runStudy } from '../dist/protocol/index.js';
import { RunManifestFile } from '../dist/protocol/run-manifest.js';
import { storyTexts } from '../dist/steer/judges/labelled-texts.js';
import { steeringFile } from '../dist/steer/steering-file.js';
import { fileSha256 } from '../dist/util/file-identity.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string', default: 'results/study' }, threads: { type: 'string', default: '1' }, commit: { type: 'boolean', default: false } },
});
const [name] = positionals;
if (!name) throw new Error('usage: node scripts/study-run.mjs <registry model> [--out results/study] [--threads 1] [--commit]');
const threads = Number(values.threads);
const entry = getModelEntry(name);
const dir = join(values.out, name);
const log = (m) => console.error(`${new Date().toISOString()} [study-run ${name}] ${m}`);

let current = 'start';
// The committed study (results/study) and docs/results.md must agree in every commit
// (test/unit/results-markdown.test.ts): each commit of it also rewrites the study's report, its
// claims and docs/results.md from what is in the folder, as `emosteer study --report-only` does.
const committedStudy = resolve(values.out) === resolve('results/study');
const commit = (what) => {
  if (!values.commit) return;
  const paths = committedStudy ? [values.out, 'docs/results.md'] : [dir];
  try {
    if (committedStudy) {
      execFileSync(process.execPath, ['dist/cli/main.js', 'study', '--report-only', '--from', values.out, '--results-md', 'docs/results.md'], { stdio: 'ignore' });
    }
  } catch (e) {
    log(`could not rewrite the report and docs/results.md (${e.message.split('\n')[0]}); committing the run folder only`);
    paths.splice(0, paths.length, dir);
  }
  try {
    execFileSync('git', ['add', '--', ...paths], { stdio: 'ignore' });
    execFileSync('git', ['commit', '-q', '-m', `Study run ${name}: ${what}`, '--', ...paths], { stdio: 'ignore' });
    log(`committed: ${what}`);
  } catch {
    // Nothing new to commit, or the index is busy: the next commit takes it.
  }
};
const timer = values.commit ? setInterval(() => commit(`${current} in progress (checkpoint)`), 20 * 60 * 1000) : undefined;

const path = await resolveModel(name);
const manifest = await RunManifestFile.open(dir, { name, sha256: await fileSha256(path) });
const model = await loadModel(path);
let judgeModel;
let built;
// The rules (docs/PREREG.md): 128-token stories for the largest model, the only reduction allowed.
const storyTokens = entry.name === 'qwen2.5-coder-1.5b-instruct' ? 128 : undefined;
// The LLM judge never reads its own family.
const llmJudge = entry.family === 'qwen2.5-coder' ? undefined : 'qwen2.5-coder-1.5b-instruct';
// A stop (Ctrl-C, SIGTERM) ends the step in flight cleanly, so that run.json records its time.
const stop = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { log(`${sig}: stopping after the work in flight (rerun to resume)`); stop.abort(); });
try {
  await runMainJob(model, dir, {
    manifest,
    signal: stop.signal,
    prereg: {
      params: entry.params,
      threads,
      ...(storyTokens ? { storyTokens } : {}),
      ...(llmJudge ? { llmJudge } : {}),
      judges: async () => {
        judgeModel = await loadModel(await resolveModel(probeJudgeModelFor(entry.family)));
        const { stories } = await readStories(join(dir, 'generation', 'stories.jsonl'));
        built = await preregJudges(model, judgeModel, { threads, stories: storyTexts([...stories.values()]) });
        log(`judges: ${built.validation.map((v) => `${v.judge} ${v.macroF1.value.toFixed(3)} (chance ${v.chance.toFixed(3)}) ${v.votes ? 'votes' : 'does not vote'}`).join('; ')}`);
        return built;
      },
    },
    onProgress: (() => {
      let last = 0;
      return (e) => {
        if (e.type === 'step') {
          if (e.status === 'start') current = e.step;
          log(`${e.step}: ${e.status}${e.seconds ? ` in ${e.seconds.toFixed(0)} s` : ''}`);
        } else if (Date.now() - last > 60_000) {
          last = Date.now();
          const p = e.type === 'extraction' ? `${e.progress.phase ? `${e.progress.phase} ` : ''}${e.progress.done}/${e.progress.total}` : 'done' in e ? `${e.done}/${e.total}` : e.type === 'message' ? e.message : '';
          log(`${current}: ${e.type} ${p}`);
        }
      };
    })(),
    afterStep: (step, status) => { if (status === 'done') commit(`${step} done`); },
  });
} catch (err) {
  // A stop: what finished is in the folder (checkpoints); commit it and exit 130 without a trace.
  if (!stop.signal.aborted) throw err;
} finally {
  if (timer) clearInterval(timer);
  await built?.dispose();
  judgeModel?.dispose();
  model.dispose();
}
if (stop.signal.aborted) {
  commit(`${current} stopped (checkpoint; rerun to resume)`);
  process.exit(130);
}

// The claims of every model in the study folder, from what is there.
const models = readdirSync(values.out, { withFileTypes: true }).filter((d) => d.isDirectory() && MODELS.some((m) => m.name === d.name) && steeringFile(join(values.out, d.name)) !== undefined).map((d) => d.name);
const r = await runStudy({ models, out: values.out, reportOnly: true, llmJudge: 'none' });
for (const c of r.study.claims) console.log(`${c.id}: ${c.verdict} | ${Object.entries(c.perModel).map(([k, v]) => `${k}: ${v.reason}`).join('; ')}`);
commit('claims');
