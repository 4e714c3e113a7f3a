/**
 * What every CLI command shares: where it prints, and argument parsing that turns a bad
 * command line into a usage message and exit code 2.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EmosteerError } from '../errors.js';

/** Where a command prints; defaults to process.stdout / process.stderr. */
export interface CliIo {
  /** Prints one line of normal output. */
  out(line: string): void;
  /** Prints one line of diagnostics. */
  err(line: string): void;
}

/** The process's stdout/stderr. */
export const defaultIo: CliIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

/**
 * Parses `argv` strictly. Returns the parsed values, or an exit code: 0 after printing the
 * usage for --help, 2 after printing the error and the usage.
 */
export function parseCommand<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: T,
  usage: string,
  io: CliIo,
  allowPositionals = false,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } | number {
  try {
    const r = parseArgs({ args: argv, strict: true, allowPositionals, options: { ...options, help: { type: 'boolean', short: 'h' } } });
    const values = r.values as Record<string, string | boolean | undefined>;
    if (values.help) {
      io.out(usage);
      return 0;
    }
    return { values, positionals: r.positionals };
  } catch (e) {
    io.err(`emosteer ${command}: ${(e as Error).message}\n\n${usage}`);
    return 2;
  }
}

/** Prints an error with its code and returns the exit code (2 for INVALID_ARGUMENT, else 1). */
export function reportError(command: string, e: unknown, io: CliIo): number {
  const code = e instanceof EmosteerError ? ` [${e.code}]` : '';
  io.err(`emosteer ${command}: ${(e as Error).message}${code}`);
  return e instanceof EmosteerError && e.code === 'INVALID_ARGUMENT' ? 2 : 1;
}
