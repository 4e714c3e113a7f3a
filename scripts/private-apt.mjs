// Debian packages fetched and unpacked privately, never installed: `apt-get download` against a
// sources list of our own (another suite of the Debian archive this system's apt already uses,
// signed by the system's keyring), then
// `dpkg -x` into a folder. Used for newer Vulkan headers (scripts/vulkan-sdk.mjs) and a newer
// lavapipe for the device-path tests (scripts/lavapipe.mjs). Needs apt-get and dpkg.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Whether apt-get and dpkg are on PATH. */
export function hasApt() {
  return ['apt-get', 'dpkg'].every((cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0);
}

/**
 * The Debian archive this system's apt is configured with (the first `.../debian` URI of
 * /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list), or null.
 */
export function systemDebianArchive() {
  const texts = [];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) for (const f of readdirSync(dir).filter((n) => /\.(sources|list)$/.test(n))) texts.push(readFileSync(join(dir, f), 'utf8'));
  if (existsSync('/etc/apt/sources.list')) texts.push(readFileSync('/etc/apt/sources.list', 'utf8'));
  for (const t of texts) {
    for (const m of t.matchAll(/^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)/gm)) {
      for (const uri of m[1].split(/\s+/)) if (/^https?:\/\/.+\/debian\/?$/.test(uri)) return uri.replace(/\/$/, '');
    }
  }
  return null;
}

/**
 * Downloads `packages` from Debian suite `suite` (e.g. 'trixie', 'bookworm-backports') and
 * unpacks each into `root`; `work` holds the apt state and the .deb files while it runs (removed
 * after). Returns the names of the unpacked .deb files.
 * @param {{ suite: string, packages: string[], root: string, work: string }} options
 */
export function fetchDebs({ suite, packages, root, work }) {
  if (!hasApt()) throw new Error(`fetching ${packages.join(', ')} needs apt-get and dpkg (a Debian or Ubuntu system)`);
  const archive = systemDebianArchive();
  if (!archive) throw new Error(`fetching ${packages.join(', ')} needs a Debian archive in this system's apt sources (/etc/apt/sources.list.d)`);
  const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  const apt = join(work, 'apt');
  const debs = join(work, 'debs');
  rmSync(work, { recursive: true, force: true });
  for (const d of [join(apt, 'lists', 'partial'), join(apt, 'cache', 'archives', 'partial'), debs, root]) mkdirSync(d, { recursive: true });
  const keyring = ['/usr/share/keyrings/debian-archive-keyring.gpg'].find(existsSync);
  const signed = keyring ? ` [signed-by=${keyring}]` : ' [trusted=yes]';
  writeFileSync(join(apt, 'sources.list'), `deb${signed} ${archive} ${suite} main\n`);
  const opts = [
    '-o', `Dir::Etc::SourceList=${join(apt, 'sources.list')}`, '-o', 'Dir::Etc::SourceParts=/nonexistent',
    '-o', `Dir::State::Lists=${join(apt, 'lists')}`, '-o', `Dir::Cache=${join(apt, 'cache')}`,
    '-o', 'Dir::State::Status=/dev/null', '-o', `APT::Architecture=${arch}`, '-o', 'APT::Sandbox::User=root',
  ];
  const run = (cmd, args, cwd) => {
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.filter((a) => !a.startsWith('Dir::') && !a.startsWith('APT::') && a !== '-o').join(' ')} failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
  };
  try {
    run('apt-get', [...opts, '-qq', 'update']);
    run('apt-get', [...opts, '-qq', 'download', ...packages], debs);
    const files = readdirSync(debs).filter((n) => n.endsWith('.deb'));
    for (const f of files) run('dpkg', ['-x', join(debs, f), root]);
    return files;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
