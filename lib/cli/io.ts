/**
 * What every CLI command shares: where it prints, argument parsing that turns a bad command
 * line into a usage message and exit code 2, typed flag values, and the one way flags become
 * numbers, lists and choices (each error names the flag).
 *
 * @module
 */
import { parseArgs } from 'node:util';
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

/** One flag of a command: a string or a boolean, optionally with a short form and repeatable. */
export interface FlagSpec {
  /** Whether the flag takes a value. */
  readonly type: 'string' | 'boolean';
  /** One-letter alias. */
  readonly short?: string;
  /** Whether it may be given more than once (the values then come as an array). */
  readonly multiple?: boolean;
}

/** The parsed values of the flags `T`: each absent or of its type. */
export type FlagValues<T extends Record<string, FlagSpec>> = {
  -readonly [K in keyof T]?: T[K] extends { readonly multiple: true }
    ? (T[K] extends { readonly type: 'string' } ? string[] : boolean[])
    : T[K] extends { readonly type: 'string' } ? string : boolean;
};

/**
 * Parses `argv` strictly. Returns the parsed values, typed by `options`, or an exit code: 0
 * after printing the usage for --help, 2 after printing the error and the usage.
 */
export function parseCommand<const T extends Record<string, FlagSpec>>(
  command: string,
  argv: string[],
  options: T,
  usage: string,
  io: CliIo,
  allowPositionals = false,
): { values: FlagValues<T>; positionals: string[] } | number {
  try {
    const r = parseArgs({ args: argv, strict: true, allowPositionals, options: { ...options, help: { type: 'boolean', short: 'h' } } });
    const { help, ...values } = r.values as Record<string, unknown>;
    if (help) {
      io.out(usage);
      return 0;
    }
    return { values: values as FlagValues<T>, positionals: r.positionals };
  } catch (e) {
    io.err(`emosteer ${command}: ${(e as Error).message}\n\n${usage}`);
    return 2;
  }
}

/** Bounds of a number flag. */
export interface NumberRange {
  /** Smallest value allowed. */
  min?: number;
  /** Largest value allowed. */
  max?: number;
  /** Values must be greater than this (a float's open lower bound, e.g. 0 for "positive"). */
  above?: number;
}

function bad(flag: string, what: string, text: string): EmosteerError {
  return new EmosteerError('INVALID_ARGUMENT', `--${flag} must be ${what} (got '${text}')`);
}

function rangeText(kind: string, r: NumberRange): string {
  const parts: string[] = [];
  if (r.above !== undefined) parts.push(`> ${r.above}`);
  if (r.min !== undefined) parts.push(`>= ${r.min}`);
  if (r.max !== undefined) parts.push(`<= ${r.max}`);
  return parts.length ? `${kind} ${parts.join(' and ')}` : kind;
}

function inRange(n: number, r: NumberRange): boolean {
  return (r.min === undefined || n >= r.min) && (r.max === undefined || n <= r.max) && (r.above === undefined || n > r.above);
}

/**
 * An integer flag: undefined when absent, else its value within `range`.
 * @throws EmosteerError `INVALID_ARGUMENT` naming the flag for anything else ("--batch must be an integer >= 1 (got 'x')")
 */
export function intFlag(flag: string, text: string | undefined, range: NumberRange = {}): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  const n = Number(t);
  if (!/^[+-]?\d+$/.test(t) || !Number.isSafeInteger(n) || !inRange(n, range)) throw bad(flag, rangeText('an integer', range), text);
  return n;
}

/**
 * A number flag (decimals and exponents allowed): undefined when absent, else its finite value within `range`.
 * @throws EmosteerError `INVALID_ARGUMENT` naming the flag for anything else
 */
export function numberFlag(flag: string, text: string | undefined, range: NumberRange = {}): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  const n = Number(t);
  if (t === '' || !Number.isFinite(n) || !inRange(n, range)) throw bad(flag, rangeText('a number', range), text);
  return n;
}

/**
 * A comma-separated list flag: undefined when absent, else its trimmed, non-empty items.
 * @throws EmosteerError `INVALID_ARGUMENT` when it lists nothing
 */
export function listFlag(flag: string, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw bad(flag, 'a comma-separated list', text);
  return items;
}

/**
 * A comma-separated list of numbers, each within `range`.
 * @throws EmosteerError `INVALID_ARGUMENT` naming the flag and the item that is not one
 */
export function numberListFlag(flag: string, text: string | undefined, range: NumberRange = {}): number[] | undefined {
  const items = listFlag(flag, text);
  if (items === undefined) return undefined;
  return items.map((item) => {
    const n = Number(item);
    if (!Number.isFinite(n) || !inRange(n, range)) throw bad(flag, `a comma-separated list of ${rangeText('numbers', range)}`, text!);
    return n;
  });
}

/**
 * A flag that takes one of `choices`.
 * @throws EmosteerError `INVALID_ARGUMENT` listing the choices
 */
export function choiceFlag<C extends string>(flag: string, text: string | undefined, choices: readonly C[]): C | undefined {
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) throw bad(flag, choices.length === 2 ? `${choices[0]} or ${choices[1]}` : `one of ${choices.join(', ')}`, text);
  return text as C;
}

/**
 * A comma-separated list of `choices`.
 * @throws EmosteerError `INVALID_ARGUMENT` listing the choices
 */
export function choiceListFlag<C extends string>(flag: string, text: string | undefined, choices: readonly C[]): C[] | undefined {
  const items = listFlag(flag, text);
  if (items === undefined) return undefined;
  const wrong = items.find((i) => !(choices as readonly string[]).includes(i));
  if (wrong !== undefined) throw bad(flag, `a comma-separated list of ${choices.join(', ')}`, text!);
  return items as C[];
}

/** Prints an error with its code and returns the exit code (2 for INVALID_ARGUMENT, 130 for ABORTED, else 1). */
export function reportError(command: string, e: unknown, io: CliIo): number {
  const code = e instanceof EmosteerError ? ` [${e.code}]` : '';
  io.err(`emosteer ${command}: ${(e as Error).message}${code}`);
  if (e instanceof EmosteerError && e.code === 'ABORTED') return 130;
  return e instanceof EmosteerError && e.code === 'INVALID_ARGUMENT' ? 2 : 1;
}

/**
 * An AbortSignal that fires on the first Ctrl-C (with a message); a second Ctrl-C kills as
 * usual. Call `done()` when the command ends.
 */
export function interruptSignal(command: string, io: CliIo, what = 'stopping after the current step'): { signal: AbortSignal; done(): void } {
  const ac = new AbortController();
  const onSigint = () => { io.err(`\nemosteer ${command}: ${what} (Ctrl-C again to kill)...`); ac.abort(); process.off('SIGINT', onSigint); };
  process.on('SIGINT', onSigint);
  return { signal: ac.signal, done: () => process.off('SIGINT', onSigint) };
}
