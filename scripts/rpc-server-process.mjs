// Starts llama.cpp's RPC server (built by `npm run build:rpc-server`) on 127.0.0.1 with an
// ephemeral port, waits until it accepts connections, and stops it. Used by test/models/rpc.test.ts and
// bench/rpc-loopback.mjs. Loopback only: rpc-server has no authentication.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { RPC_SERVER_BIN } from './build-rpc-server.mjs';

/** The rpc-server binary: $EMOSTEER_RPC_SERVER, or the one `npm run build:rpc-server` builds (null if absent). */
export function rpcServerBinary() {
  const bin = process.env.EMOSTEER_RPC_SERVER || RPC_SERVER_BIN;
  return existsSync(bin) ? bin : null;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound to 0, then closed). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function accepts(port) {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

/**
 * Starts the server with `threads` CPU threads; resolves to { endpoint, port, stop(), log() }
 * once it listens (rejects after `timeoutMs` or if it exits first).
 */
export async function startRpcServer({ bin = rpcServerBinary(), threads = 2, timeoutMs = 15000 } = {}) {
  if (!bin) throw new Error('no rpc-server binary: run `npm run build:rpc-server`');
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(bin, ['-H', '127.0.0.1', '-p', String(port), '-t', String(threads)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    let exited = null;
    child.once('exit', (code, signal) => { exited = signal ?? code; });
    const deadline = Date.now() + timeoutMs;
    while (exited === null && Date.now() < deadline) {
      // rpc-server prints its banner before it binds; poll the port instead of parsing output.
      if (await accepts(port)) {
        const stop = () => new Promise((resolve) => {
          if (exited !== null) return resolve(exited);
          child.once('exit', (code, signal) => resolve(signal ?? code));
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 3000).unref();
        });
        return { endpoint: `127.0.0.1:${port}`, port, stop, log: () => output, pid: child.pid };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    if (exited === null) throw new Error(`rpc-server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${output}`);
    // exited early: most likely the port was taken between freePort() and bind; try another
    if (attempt === 2) throw new Error(`rpc-server exited (${exited}):\n${output}`);
  }
  throw new Error('unreachable');
}
