/**
 * The `rpcServers` option of loadModel: llama.cpp `rpc-server` endpoints ('host:port') whose
 * devices hold some or all of the model's layers (docs/scale-out.md). Checked here before the
 * addon sees them, because ggml's RPC client aborts the whole process when an endpoint does not
 * parse or does not accept a connection.
 * @internal
 */
import { connect } from 'node:net';
import { EmosteerError } from '../errors.js';

/** How long one endpoint may take to accept a TCP connection (ms). */
const CONNECT_TIMEOUT_MS = 5000;

/** Parses and checks 'host:port' (IPv4 address or host name; ggml's client takes no IPv6). @internal */
export function parseRpcEndpoint(endpoint: unknown): { host: string; port: number } {
  if (typeof endpoint !== 'string') throw new EmosteerError('INVALID_ARGUMENT', `rpcServers entries must be strings 'host:port', got ${typeof endpoint}`);
  const m = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(endpoint);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new EmosteerError('INVALID_ARGUMENT', `rpcServers entry '${endpoint}' is not 'host:port' (e.g. '192.168.1.20:50052'; IPv6 addresses are not supported by llama.cpp's RPC client)`);
  }
  return { host: m[1], port };
}

function probe(endpoint: string, timeoutMs: number): Promise<void> {
  const { host, port } = parseRpcEndpoint(endpoint);
  return new Promise((resolvePromise, reject) => {
    const socket = connect({ host, port });
    const fail = (why: string) => {
      socket.destroy();
      reject(new EmosteerError('RPC_UNREACHABLE', `the RPC server ${endpoint} ${why}; start it there with ` +
        "`ggml-rpc-server -H <address> -p <port>` (npm run build:rpc-server) and check the address"));
    };
    socket.setTimeout(timeoutMs, () => fail(`did not accept a connection within ${timeoutMs} ms`));
    socket.once('error', (e: NodeJS.ErrnoException) => fail(`refused the connection (${e.code ?? e.message})`));
    socket.once('connect', () => {
      socket.end();
      socket.destroy();
      resolvePromise();
    });
  });
}

/**
 * Validates the list (non-empty strings 'host:port', no duplicates, at most 16 as ggml allows)
 * and checks that each endpoint accepts a TCP connection. @internal
 */
export async function checkRpcServers(servers: unknown, timeoutMs = CONNECT_TIMEOUT_MS): Promise<string[]> {
  if (!Array.isArray(servers)) throw new EmosteerError('INVALID_ARGUMENT', "rpcServers must be an array of 'host:port' strings");
  if (servers.length > 16) throw new EmosteerError('INVALID_ARGUMENT', `rpcServers holds ${servers.length} endpoints; llama.cpp's RPC backend takes at most 16`);
  const list = servers.map((s) => { parseRpcEndpoint(s); return s as string; });
  const dup = list.find((s, i) => list.indexOf(s) !== i);
  if (dup) throw new EmosteerError('INVALID_ARGUMENT', `rpcServers lists ${dup} twice`);
  await Promise.all(list.map((s) => probe(s, timeoutMs)));
  return list;
}
