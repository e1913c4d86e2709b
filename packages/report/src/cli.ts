/**
 * `shadowlab report <dir>` (and the `shadowlab-report` bin): charts and the
 * HTML report from stored results. <dir> is one suite's results
 * (results/quick) or a directory of them (results/), each reported in turn.
 *
 * Exit codes: 0 report written; 1 the results could not be read (the message
 * says which file and what is wrong); 2 a mistake on the command line.
 */
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { pathToFileURL } from "node:url";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { buildReport } from "./report.ts";
import { ResultsError, suiteDirs } from "./results.ts";

export const EXIT_RESULTS = 1;
export const EXIT_USAGE = 2;

/** Where the commands write (any of the shadowlab CLIs' io objects fits). */
export interface ReportIo {
  /** One line to stderr (no newline at the end). */
  err(line: string): void;
  /** Text to stdout. */
  write?(text: string): void;
  out?(text: string): void;
}

export function processIo(): ReportIo {
  return {
    err: (l) => process.stderr.write(`${l}\n`),
    write: (t) => process.stdout.write(t),
  };
}

interface Flags {
  out?: string;
  svg: boolean;
  png: boolean;
  scale: number;
  quiet?: boolean;
}

function scaleArg(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0.25 || n > 8)
    throw new InvalidArgumentError(`--scale must be a number from 0.25 to 8 (got "${text}")`);
  return n;
}

const show = (p: string) => {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") ? r : p;
};
const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

export async function reportCommand(dir: string, flags: Flags, io: ReportIo): Promise<number> {
  const write = (t: string) => (io.write ?? io.out ?? ((x: string) => process.stdout.write(x)))(t);
  if (!existsSync(dir)) {
    io.err(
      `shadowlab report: ${dir}: no such directory (run \`shadowlab bench run <suite>\` first; results go to results/<suite>)`,
    );
    return EXIT_USAGE;
  }
  const dirs = suiteDirs(dir);
  if (dirs.length === 0) {
    io.err(`shadowlab report: ${dir}: no results.json or results.csv here or in its subdirectories`);
    return EXIT_RESULTS;
  }
  if (flags.out && dirs.length > 1) {
    io.err(`shadowlab report: --out needs a single suite's directory (${dir} holds ${dirs.length})`);
    return EXIT_USAGE;
  }
  let code = 0;
  for (const d of dirs) {
    try {
      const s = await buildReport(d, {
        outDir: flags.out,
        svg: flags.svg,
        png: flags.png,
        pngScale: flags.scale,
        log: flags.quiet ? undefined : (l) => write(`${l}\n`),
      });
      for (const w of s.warnings) io.err(`shadowlab report: warning: ${w}`);
      if (!flags.quiet)
        write(
          `${s.suite}: ${s.cells} cells${s.failed ? ` (${s.failed} failed, called out in the report)` : ""}, ${s.charts.length} charts -> ${show(s.html)} (${kib(s.htmlBytes)})\n`,
        );
    } catch (e) {
      if (!(e instanceof ResultsError)) throw e;
      io.err(`shadowlab report: ${e.message}`);
      code = EXIT_RESULTS;
    }
  }
  return code;
}

/**
 * Makes `parent` the report command: `<dir>` and the options. The `shadowlab`
 * CLI mounts it as `report` (`reportCommands(program.command("report"), io, done)`);
 * the `shadowlab-report` bin mounts it on its own program.
 */
export function reportCommands(parent: Command, io: ReportIo, done: (code: number) => void): Command {
  if (!parent.description())
    parent.description("charts (Vega-Lite, SVG, PNG) and an offline HTML report from stored results");
  return parent
    .argument("<dir>", "a suite's results directory (results/quick), or a directory of them (results)")
    .option("--out <dir>", "write report.html and charts/ here instead of beside the results")
    .option("--no-svg", "do not write .svg charts")
    .option("--no-png", "do not write .png charts")
    .option("--scale <n>", "PNG size as a multiple of the SVG's", scaleArg, 2)
    .option("-q, --quiet", "print only warnings and errors")
    .addHelpText("after", EXAMPLES)
    .action(async (dir: string, flags: Flags) => done(await reportCommand(dir, flags, io)));
}

const EXAMPLES = `
Examples:
  $ shadowlab report results/quick                       # charts/ and report.html beside the results
  $ shadowlab report results                             # every suite under results/
  $ shadowlab report results/nano --out /tmp/nano --no-png # elsewhere, without PNGs
`;

/** The report package's version (the \`shadowlab-report\` bin's). */
const VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export async function main(argv: string[], io: ReportIo = processIo()): Promise<number> {
  let code = 0;
  const program = new Command("shadowlab-report")
    .version(VERSION, "--version", "print the version")
    .exitOverride()
    .configureOutput({ writeErr: (s) => io.err(s.trimEnd()), writeOut: (s) => (io.write ?? io.out)?.(s) });
  reportCommands(program, io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    throw e;
  }
  return code;
}

// `tsx src/cli.ts <dir>` (the package's `report` script).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
