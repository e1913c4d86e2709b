/**
 * The shell every shadowlab CLI shares: a commander program whose commands
 * report their exit code through `done`, with user mistakes (commander's
 * parse errors, UsageError, or whatever `isUsageError` accepts) turned into
 * one line on stderr and exit code 2, never a stack trace.
 */
import { Command, CommanderError } from "commander";

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
