/** `--version` and the examples every command's `--help` ends with. */
import { readFileSync } from "node:fs";
import type { Command } from "commander";

/** The bench package's version (the `shadowlab` CLI's). */
export const VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** Appends an "Examples:" block (command lines with a comment each) to a command's help. */
export function withExamples(cmd: Command, examples: readonly [string, string][]): Command {
  const w = Math.max(...examples.map(([line]) => line.length));
  const text = examples.map(([line, why]) => `  $ ${line.padEnd(w)}  # ${why}`).join("\n");
  return cmd.addHelpText("after", `\nExamples:\n${text}\n`);
}
