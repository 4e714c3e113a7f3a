#!/usr/bin/env node
// Bench part: memory bandwidth of this machine, measured now (the physical limit of token
// generation, which reads every weight once per token). Best of --reps:
// Every measured pass touches --gib GiB: half read from one buffer, half from (or to) another.
//   copy:  one thread copies a buffer into another (Buffer.copy = memcpy); reported as
//          bytes read + bytes written per second.
//   read:  --threads worker threads each compare their share of two equal buffers
//          (Buffer.equals = memcmp, SIMD, reads both and writes nothing; two
//          SharedArrayBuffers); bytes read per second. Also with one thread (read1).
//
//   node bench/parts/bandwidth.mjs [--gib 1] [--reps 5] [--threads N]
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { emit, resolveThreads } from './util.mjs';

const { values } = parseArgs({
  options: {
    gib: { type: 'string', default: '1' },
    reps: { type: 'string', default: '5' },
    threads: { type: 'string' },
  },
});
const BYTES = Math.round(Number(values.gib) * 2 ** 30 / 128) * 64; // per buffer: half of --gib
const REPS = Number(values.reps);
const threads = resolveThreads(values.threads);
const GB = 1e9;

// copy
let copyBest = 0;
{
  const src = Buffer.alloc(BYTES, 1);
  const dst = Buffer.alloc(BYTES);
  src.copy(dst); // touch every page of both
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    src.copy(dst);
    const s = (performance.now() - t0) / 1000;
    copyBest = Math.max(copyBest, (2 * BYTES) / s / GB);
  }
}

// read: workers comparing slices of two equal shared buffers
const sabA = new SharedArrayBuffer(BYTES);
const sabB = new SharedArrayBuffer(BYTES);
new Uint8Array(sabA).fill(7);
new Uint8Array(sabB).fill(7);
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { sabA, sabB, start, end } = workerData;
const a = Buffer.from(sabA, start, end - start);
const b = Buffer.from(sabB, start, end - start);
parentPort.on('message', (m) => {
  if (m === 'exit') { parentPort.close(); return; }
  const t0 = performance.now();
  const same = a.equals(b);
  parentPort.postMessage({ same, seconds: (performance.now() - t0) / 1000 });
});
parentPort.postMessage('ready');
`;

async function readBandwidth(n) {
  const lines = BYTES / 64;
  const workers = Array.from({ length: n }, (_, i) => new Worker(workerSource, {
    eval: true,
    workerData: { sabA, sabB, start: Math.floor((lines * i) / n) * 64, end: Math.floor((lines * (i + 1)) / n) * 64 },
  }));
  const next = (w) => new Promise((res, rej) => { w.once('message', res); w.once('error', rej); });
  await Promise.all(workers.map(next));
  let best = 0;
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    const out = await Promise.all(workers.map((w) => { const p = next(w); w.postMessage('go'); return p; }));
    const s = (performance.now() - t0) / 1000;
    if (!out.every((o) => o.same)) throw new Error('bandwidth workers found the buffers different');
    best = Math.max(best, (2 * BYTES) / s / GB);
  }
  for (const w of workers) w.postMessage('exit');
  return best;
}

const read1 = await readBandwidth(1);
const readN = threads > 1 ? await readBandwidth(threads) : read1;
emit({
  part: 'bandwidth',
  bytesPerPass: 2 * BYTES,
  reps: REPS,
  threads,
  gbPerSecond: { copy: copyBest, read1, read: readN },
});
