#!/usr/bin/env node
// Dose-response of a run folder's steering (docs/PREREG.md "Beyond the paper"): per judge and arm,
// the mean signed effect per strength with its scenario-bootstrap interval, primary scenarios
// (neutral + toward), greedy. Needs dist/ (npm run build:ts).
// Usage: node scripts/dose-response.mjs <run folder> [judge]
import { doseResponse } from '../dist/steer/dose-response.js';
import { readSteeringFile } from '../dist/steer/steering-file.js';

const [dir, judge] = process.argv.slice(2);
const s = await readSteeringFile(dir);
if (!s) throw new Error(`${dir} has no steering.json`);
const d = doseResponse([...s.runs, ...(s.controlRuns ?? [])]);
const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
for (const c of d.curves.filter((c) => !judge || c.judge === judge)) {
  const pts = c.points.map((p) => `${p.strength}: ${f(p.effect.value)} [${f(p.effect.ci95[0])}, ${f(p.effect.ci95[1])}]`).join('; ');
  const t = c.trend.effect;
  console.log(`| ${c.judge} | ${c.arm} | ${pts} | ${f(t.slope)} [${f(t.ci95[0])}, ${f(t.ci95[1])}], ${t.direction} |`);
}
