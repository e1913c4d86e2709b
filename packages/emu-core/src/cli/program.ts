/**
 * The shell every shadowlab CLI shares: a commander program whose commands
 * report their exit code through `done`, with user mistakes (commander's
 * parse errors, UsageError, or whatever `isUsageError` accepts) turned into
 * one line on stderr and exit code 2, never a stack trace.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
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
  /** What `--version` prints (default: emu-core's package version). */
  version?: string;
  /** Command lines shown under "Examples:" at the end of `--help`. */
  examples?: readonly string[];
}

/** The version in the package.json beside a module's package (`import.meta.url` of a file in its src/ or src/cli/). */
export function packageVersion(moduleUrl: string): string {
  let dir = dirname(new URL(moduleUrl).pathname);
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: string };
      if (pkg.version) return pkg.version;
    } catch {
      // not here: look one directory up
    }
  }
  return "unknown";
}

/** Appends an "Examples:" block to a command's help. */
export function withExamples(cmd: Command, examples: readonly string[]): Command {
  if (examples.length === 0) return cmd;
  return cmd.addHelpText("after", `\nExamples:\n${examples.map((e) => `  $ ${e}`).join("\n")}\n`);
}

export async function runCli(o: CliOptions): Promise<number> {
  let code = 0;
  const program = new Command(o.name)
    .description(o.description)
    .exitOverride()
    .configureOutput({ writeErr: (s) => o.err(s.trimEnd()), writeOut: (s) => o.out(s) })
    .version(o.version ?? packageVersion(import.meta.url), "-V, --version", "print the version and exit");
  withExamples(program, o.examples ?? []);
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

/** `--stats` with no file, or `-`: the counters go to stdout (and the guest's console moves to stderr). */
export function statsToStdout(stats: string | boolean | undefined): boolean {
  return stats === true || stats === "-";
}

/**
 * Checks before a run that a file can be written where the user asked (its
 * directory exists and is writable), so that a long run does not end by
 * losing its results to a typo. Throws UsageError naming the flag.
 */
export function checkWritable(path: string, flag: string): void {
  const dir = dirname(resolve(path));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new UsageError(`${flag} ${path}: directory ${dir} does not exist`);
  }
  if (!isDir) throw new UsageError(`${flag} ${path}: ${dir} is not a directory`);
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`${flag} ${path}: is a directory`);
  }
  try {
    rmSync(mkdtempSync(join(dir, `.${basename(path)}.check-`)), { recursive: true });
  } catch (e) {
    throw new UsageError(
      `${flag} ${path}: cannot write in ${dir} (${(e as NodeJS.ErrnoException).code ?? e})`,
    );
  }
}

/**
 * Writes a file whole or not at all: into a temporary file beside it, then
 * renamed over it, so that a reader never sees half a file and a failure
 * leaves what was there. Throws UsageError naming the flag.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, flag: string): void {
  const tmp = join(dirname(resolve(path)), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UsageError(`${flag} ${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
}
