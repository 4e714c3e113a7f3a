#!/usr/bin/env node
// Validates emosteer's judges before they vote (issue 19, item 6):
//
//   node scripts/judge-validation.mjs [--judges vader,lexicon,nrc,probe-gemma,probe-smollm2]
//       [--stories <generation set folder | stories.jsonl>] [--out <file.json>] [--resamples N] [--threads N]
//       [--probe-block two-thirds|cv|<n>] [--probe-pooling mean|last] [--folds N] [--seed N]
//
// (needs `npm run build:ts` first: it uses dist/). For every judge and data set it prints or
// writes the confusion matrix over the classes the judge claims, macro-F1 and accuracy with
// percentile-bootstrap 95% intervals over texts, their chance levels and whether the judge
// votes (lib/steer/judges/judge-validation.ts: the lower bound of macro-F1's interval above
// its permutation chance level).
//
// Data sets:
//   passages   the 252 labelled comprehension passages (12 per category, 21 categories). The
//              probe judges are trained on them, so they are validated by grouped k-fold
//              cross-validation over passages (crossValidateProbeJudge), never on a passage
//              their probe has seen.
//   stories    with --stories: the generated texts of a generation vector set folder, or of a
//              stories file (results/.../stories.jsonl, lib/extract/stories.ts), each labelled
//              by its prompt's category. A probe judge whose model is of the stories' model
//              family is left out (a judge never reads its own family); the others are
//              validated as trained and again re-centred on the stories (ProbeJudge.recentre:
//              the stories' mean state, labels unused, replaces the passages' mean).
//   sentences  the UCI Sentiment Labelled Sentences (3000 reviews, positive / negative) that
//              scripts/judge-check.mjs fetches and pins; polarity judges only (VADER, NRC
//              positive / negative).
//
// Judges: vader (ValenceJudge as positive / negative), lexicon (LexiconJudge, 21 categories),
// nrc (NrcLexiconJudge over the NRC emotions it claims) and nrc-polarity, probe-gemma and
// probe-smollm2 (ProbeJudge on Gemma 3 270M / SmolLM2-135M-Instruct, fetched from the model
// registry when not cached). Progress goes to stderr; the JSON result to --out or stdout.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`[judge-validation] ${msg}\n`);
const ALL_JUDGES = ['vader', 'lexicon', 'nrc', 'nrc-polarity', 'probe-gemma', 'probe-smollm2'];
const PROBE_MODELS = { 'probe-gemma': 'gemma-3-270m', 'probe-smollm2': 'smollm2-135m-instruct' };

async function loadEmosteer() {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build:ts` first');
  const core = await import(join(root, 'dist', 'index.js'));
  const steer = await import(join(root, 'dist', 'steer', 'index.js'));
  return { ...core, ...steer };
}

const round = (x, d = 4) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

/** A validation result rounded for the JSON file. */
function summarise(judge, dataset, v, extra = {}) {
  return {
    judge,
    dataset,
    ...extra,
    n: v.n,
    classes: v.classes,
    excluded: v.excluded ?? {},
    macroF1: round(v.macroF1.value),
    macroF1Ci95: v.macroF1.ci95.map((x) => round(x)),
    accuracy: round(v.accuracy.value),
    accuracyCi95: v.accuracy.ci95.map((x) => round(x)),
    chance: { macroF1: round(v.chance.macroF1), accuracy: round(v.chance.accuracy), uniform: round(v.chance.uniform) },
    otherRate: round(v.otherRate),
    votes: v.votes,
    perClass: Object.fromEntries(Object.entries(v.perClass).map(([c, f]) => [c, { support: f.support, predicted: f.predicted, precision: round(f.precision, 3), recall: round(f.recall, 3), f1: round(f.f1, 3) }])),
    confusion: v.confusion,
  };
}

function line(r) {
  return `${r.judge} on ${r.dataset}: n=${r.n}, macro-F1 ${r.macroF1} [${r.macroF1Ci95.join(', ')}] (chance ${r.chance.macroF1}), accuracy ${r.accuracy} [${r.accuracyCi95.join(', ')}] (chance ${r.chance.accuracy}), votes ${r.votes}`;
}

/** The UCI sentences through scripts/judge-check.mjs's pinned loader: { text, gold: 'positive' | 'negative' }[]. */
async function sentences() {
  const check = await import(join(root, 'scripts', 'judge-check.mjs'));
  const { buf, path } = check.tarball();
  log(`sentences: ${path} (sha256 ok)`);
  const sets = check.loadDataset(buf);
  return Object.values(sets).flat();
}

async function main() {
  const { values } = parseArgs({
    options: {
      judges: { type: 'string' },
      stories: { type: 'string' },
      out: { type: 'string' },
      resamples: { type: 'string' },
      threads: { type: 'string' },
      'probe-block': { type: 'string' },
      'probe-pooling': { type: 'string' },
      folds: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`usage: node scripts/judge-validation.mjs [--judges ${ALL_JUDGES.join(',')}] [--stories DIR] [--out FILE] [--resamples N] [--threads N] [--probe-block two-thirds|cv|N] [--probe-pooling mean|last] [--folds N] [--seed N]\n`);
    return;
  }
  const judges = (values.judges ?? ALL_JUDGES.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const j of judges) if (!ALL_JUDGES.includes(j)) throw new Error(`unknown judge '${j}'; known: ${ALL_JUDGES.join(', ')}`);
  const resamples = Number(values.resamples ?? 1000);
  const seed = Number(values.seed ?? 0);
  const folds = Number(values.folds ?? 5);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  const block = values['probe-block'] === undefined ? 'two-thirds' : /^\d+$/.test(values['probe-block']) ? Number(values['probe-block']) : values['probe-block'];
  const pooling = values['probe-pooling'] ?? 'mean';
  const vopts = { resamples, permutations: resamples, seed };
  const t0 = performance.now();
  const lib = await loadEmosteer();

  const passages = lib.passageTexts();
  let stories = null;
  let storiesModel = null;
  if (values.stories) {
    const src = resolve(values.stories);
    if (statSync(src).isDirectory()) {
      const set = await lib.EmotionVectorSet.load(src);
      stories = lib.storyTexts(set);
      storiesModel = { arch: set.meta.model.arch, path: set.meta.model.path, description: set.meta.model.description };
    } else {
      // a stories file of the protocol (lib/extract/stories.ts): its header names the model by sha256
      const { readStories } = await import(join(root, 'dist', 'extract', 'stories.js'));
      const { header, stories: map } = await readStories(src);
      stories = lib.storyTexts([...map.values()]);
      const entry = lib.MODELS.find((m) => m.sha256 === header.model);
      if (!entry) throw new Error(`${values.stories}: its model (sha256 ${header.model}) is not a registry model, so its family is unknown`);
      storiesModel = { arch: entry.arch, family: entry.family, path: entry.file, description: entry.description, sha256: createHash('sha256').update(readFileSync(src)).digest('hex') };
    }
    log(`stories: ${stories.length} texts by ${storiesModel.description} (${storiesModel.arch}) from ${values.stories}`);
  }
  const needsSentences = judges.some((j) => j === 'vader' || j === 'nrc-polarity');
  const polaritySentences = needsSentences ? await sentences() : [];

  const results = [];
  const skipped = [];
  const push = (r) => {
    results.push(r);
    log(line(r));
  };
  const onViews = async (name, view, extra = {}) => {
    push(summarise(name, 'passages', await lib.validateJudge(view, passages, vopts), extra));
    if (stories) push(summarise(name, 'stories', await lib.validateJudge(view, stories, vopts), extra));
  };
  const onSentences = async (name, predict) => {
    const gold = polaritySentences.map((s) => s.gold);
    const pred = [];
    for (const s of polaritySentences) pred.push(await predict(s.text));
    push(summarise(name, 'sentences', lib.validatePredictions(lib.POLARITY_CLASSES, gold, pred, vopts)));
  };

  let nrc = null;
  for (const j of judges) {
    log(`judge ${j}`);
    if (j === 'vader') {
      const judge = new lib.ValenceJudge();
      await onViews('valence-vader (polarity)', lib.valenceClassView(judge));
      await onSentences('valence-vader (polarity)', async (t) => (await judge.classify(t)).label);
    } else if (j === 'lexicon') {
      await onViews('lexicon (21 categories)', lib.lexiconClassView(new lib.LexiconJudge()));
    } else if (j === 'nrc' || j === 'nrc-polarity') {
      nrc ??= await lib.NrcLexiconJudge.load();
      if (j === 'nrc') await onViews(`nrc-lexicon (${nrc.classes.length} NRC emotions)`, lib.nrcClassView(nrc));
      else {
        await onViews('nrc-lexicon (polarity)', lib.nrcPolarityClassView(nrc));
        await onSentences('nrc-lexicon (polarity)', async (t) => nrc.classifyPolarity(t).label);
      }
    } else {
      const path = await lib.fetchModel(PROBE_MODELS[j]);
      const model = await lib.loadModel(path);
      try {
        const options = { block, pooling, folds, seed, threads };
        log(`${j}: cross-validating over the passages (${folds} folds, block ${block}, ${pooling} pooling)`);
        const cv = await lib.crossValidateProbeJudge(model, options);
        const blocks = [...new Set(cv.blocks)];
        const name = `${j} (21 categories)`;
        const extra = { judgeModel: cv.identity.description, arch: cv.identity.arch, block: blocks.length === 1 ? blocks[0] : cv.blocks, pooling, validation: `grouped ${cv.folds.length}-fold cross-validation over passages` };
        push(summarise(name, 'passages', lib.validatePredictions(lib.CATEGORIES, cv.gold, cv.predicted, vopts), extra));
        if (stories) {
          try {
            lib.assertDifferentFamily(storiesModel, model);
          } catch (e) {
            skipped.push({ judge: name, dataset: 'stories', reason: e.message });
            log(`${j} on stories skipped: ${e.message}`);
            continue;
          }
          const judge = await lib.ProbeJudge.create(model, options);
          try {
            const base = { ...extra, block: judge.block, validation: 'probe trained on all 252 passages, applied to the stories' };
            push(summarise(name, 'stories', await lib.validateJudge(lib.probeClassView(judge), stories, vopts), base));
            // the same judge re-centred on the stories' own mean state (their labels unused)
            await judge.recentre(stories.map((t) => t.text));
            push(summarise(`${j} (21 categories, re-centred)`, 'stories', await lib.validateJudge(lib.probeClassView(judge), stories, vopts), { ...base, recentred: `on the mean state of the ${stories.length} stories` }));
          } finally {
            await judge.dispose();
          }
        }
      } finally {
        model.dispose();
      }
    }
  }
  const command = `node scripts/judge-validation.mjs ${process.argv.slice(2).join(' ')}`.trim();
  const out = {
    command,
    rule: lib.VOTE_RULE,
    statistics: `percentile bootstrap over texts, ${resamples} resamples, seed ${seed}; macro-F1 chance: mean over ${resamples} permutations`,
    data: {
      passages: `${passages.length} built-in comprehension passages (stimuli ${lib.STIMULI_VERSION ?? 'en'})`,
      stories: stories ? { path: values.stories, ...(storiesModel.sha256 ? { sha256: storiesModel.sha256 } : {}), texts: stories.length, model: storiesModel.description, arch: storiesModel.arch } : null,
      sentences: needsSentences ? `${polaritySentences.length} UCI Sentiment Labelled Sentences (see scripts/judge-check.mjs)` : null,
      nrc: nrc ? { source: `${lib.NRC_LEXICON_SOURCE.package}==${lib.NRC_LEXICON_SOURCE.version} ${lib.NRC_LEXICON_SOURCE.path}`, sha256: lib.NRC_LEXICON_SOURCE.sha256 } : null,
    },
    results,
    skipped,
    seconds: round((performance.now() - t0) / 1000, 1),
  };
  // arrays of numbers (matrix rows, intervals) on one line each
  const text = `${JSON.stringify(out, null, 2).replace(/\[\s+(-?[\d.e+-]+(?:,\s+-?[\d.e+-]+)*)\s+\]/g, (_, inner) => `[${inner.split(/,\s+/).join(', ')}]`)}\n`;
  if (values.out) {
    mkdirSync(dirname(resolve(values.out)), { recursive: true });
    writeFileSync(values.out, text);
    log(`wrote ${values.out}`);
  } else {
    process.stdout.write(text);
  }
}

main().catch((err) => {
  process.stderr.write(`judge-validation: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
