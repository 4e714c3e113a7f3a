#!/usr/bin/env node
// Fetches a model of emosteer's registry (lib/models/registry.ts) into the model cache and
// prints its absolute path as the last line of stdout; progress goes to stderr:
//   node scripts/fetch-model.mjs <name> [--find-links <dir> --no-index]
// The one fetcher is the compiled registry in dist/ (`emosteer models fetch`); this script
// only lets `npm run model:<name>` work before the package is linked.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = new URL('../dist/cli/models.js', import.meta.url);

/** Runs `emosteer models fetch <argv...>`; resolves to the exit code. */
export async function fetchModelMain(argv) {
  if (!existsSync(fileURLToPath(dist))) {
    console.error('[emosteer] dist/ is not built: run `npm run build:ts` (npm install does it), then try again');
    return 1;
  }
  const { runModels } = await import(dist.href);
  return runModels(['fetch', ...argv]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  fetchModelMain(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
