/**
 * The shell every shadowlab CLI shares: a commander program whose commands
 * report their exit code through `done`, with user mistakes (commander's
 * parse errors, UsageError, or whatever `isUsageError` accepts) turned into
 * one line on stderr and exit code 2, never a stack trace.
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";

export const EXIT_USAGE = 2;

/** A mistake of the user's: reported as one line, exit code 2. */
export class UsageError extends Error {}

export interface CliOptions {
  name: string;
  description: string;
  argv: string[];
  /** Write one line (no newline at the end) to stderr. */
  err(line: string): void;
  /** Write text to stdout. */
  out(text: string): void;
  /** Register the commands on the program; each action calls done(exitCode). */
  mount(program: Command, done: (code: number) => void): void;
  /** Further error classes that are the user's mistake (e.g. a parameter error). */
  isUsageError?(e: unknown): boolean;
}

export async function runCli(o: CliOptions): Promise<number> {
  let code = 0;
  const program = new Command(o.name)
    .description(o.description)
    .exitOverride()
    .configureOutput({ writeErr: (s) => o.err(s.trimEnd()), writeOut: (s) => o.out(s) });
  o.mount(program, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(o.argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    if (e instanceof UsageError || o.isUsageError?.(e)) {
      o.err(`${o.name}: ${(e as Error).message}`);
      return EXIT_USAGE;
    }
    throw e;
  }
  return code;
}

/** Where a CLI writes: replaceable in tests. */
export interface Io {
  /** A byte of guest console output. */
  out(byte: number): void;
  flush(): void;
  write(text: string): void;
  err(line: string): void;
}

/** Standard output and error; guest output is flushed by line; a closed stdout (`... | head`) ends the output quietly. */
export function processIo(): Io {
  let buf: number[] = [];
  let closed = false;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    closed = true;
  });
  const put = (data: string | Buffer) => {
    if (!closed) process.stdout.write(data);
  };
  const flush = () => {
    if (buf.length) put(Buffer.from(buf));
    buf = [];
  };
  return {
    out: (b) => {
      buf.push(b);
      if (b === 10 || buf.length >= 4096) flush();
    },
    flush,
    write: (t) => {
      flush();
      put(t);
    },
    err: (l) => {
      flush();
      process.stderr.write(`${l}\n`);
    },
  };
}

/** A commander parser for an integer flag in [min, max] (decimal, 0x hex or 1e6 forms), with an error naming the flag. */
export function integer(name: string, min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\s*(0x[0-9a-f]+|\d+(e\d+)?)\s*$/i.test(text) || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max} (got "${text}")`);
    }
    return n;
  };
}
