// Fetches the model entry in <entry.json> from a local wheel folder into <cache dir>, printing
// every progress event as a JSON line; the faults test kills it with SIGKILL mid-way.
import { readFileSync } from 'node:fs';
import { fetchModel } from '../../dist/index.js';

const [entryFile, cacheDir, wheels, tmpDir] = process.argv.slice(2);
const entry = JSON.parse(readFileSync(entryFile, 'utf8'));
const path = await fetchModel(entry, { cacheDir, findLinks: wheels, noIndex: true, tmpDir, onProgress: (p) => process.stdout.write(`${JSON.stringify(p)}\n`) });
process.stdout.write(`PATH ${path}\n`);
