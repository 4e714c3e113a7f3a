#!/usr/bin/env node
// `npm run model:gemma`: Gemma 3 270M (Q4_K_M, the *base* google/gemma-3-270m) from the
// model registry, cached in $EMOSTEER_CACHE_DIR/models or ~/.cache/emosteer/models; prints
// the absolute path as the last line of stdout. Same as `emosteer models fetch gemma-3-270m`.
import { fetchModelMain } from './fetch-model.mjs';

fetchModelMain(['gemma-3-270m', ...process.argv.slice(2)]).then((code) => { process.exitCode = code; });
