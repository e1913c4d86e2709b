/**
 * `shadowlab`: one CLI gathering every package's commands.
 *
 *   shadowlab emu run|disasm ...          the machine (emu-core)
 *   shadowlab workloads list|run|export   the guest workloads
 *   shadowlab run <image> --strategy ...  a guest under the hypervisor
 *   shadowlab bench list|cells|run|recost|merge|profiles
 *   shadowlab report <dir>                charts and the HTML report (@shadowlab/report)
 *
 * User mistakes are one message on stderr and exit code 2; `bench run` exits
 * 1 when any cell failed.
 */
import { ENGINES, type Engine, emuCommands, UsageError } from "@shadowlab/emu-core";
import { hvCommands } from "@shadowlab/hypervisor";
import { WorkloadParamError, workloadCommands } from "@shadowlab/workloads";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { CLASS_DESCRIPTIONS, EVENT_CLASSES, PROFILES, profileNames } from "./cost.ts";
import { VERSION, withExamples } from "./help.ts";
import type { ProgressMode } from "./progress.ts";
import { ResultsReadError } from "./results.ts";
import {
  BenchUsageError,
  type Isolation,
  mergeResults,
  recostResults,
  runSuite,
  selectCells,
} from "./runner.ts";
import { SelectionError } from "./select.ts";
import { type Suite, SuiteError, validateSuite } from "./suite.ts";
import { BUILTIN_SUITES, loadSuite, SuiteNotFound } from "./suites.ts";

export const EXIT_USAGE = 2;

export interface CliIo {
  /** Normal output (stdout). */
  write(text: string): void;
  /** Messages and progress (stderr). */
  err(text: string): void;
}

const processIo: CliIo = {
  write: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

function positiveInt(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\s*\d+(e\d+)?\s*$/i.test(text) || !Number.isSafeInteger(n) || n < 1)
      throw new InvalidArgumentError(`${name} must be a positive integer (got "${text}")`);
    return n;
  };
}

/** The byte-level Io the emu and workloads commands write through. */
function byteIo(io: CliIo) {
  let buf: number[] = [];
  const flush = () => {
    if (buf.length) io.write(Buffer.from(buf).toString("utf8"));
    buf = [];
  };
  return {
    out: (b: number) => {
      buf.push(b);
      if (b === 10 || buf.length >= 4096) flush();
    },
    flush,
    write: (t: string) => {
      flush();
      io.write(t);
    },
    err: (l: string) => {
      flush();
      io.err(`${l}\n`);
    },
  };
}

/** `--engine jit,interp`: the engines every cell runs on, instead of the suite's. */
function engineList(text: string): Engine[] {
  const names = text
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(ENGINES as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0)
    throw new InvalidArgumentError(
      `--engine must be one engine or a comma-separated list of them: ${ENGINES.join(", ")} (got "${text}")`,
    );
  return ENGINES.filter((e) => names.includes(e));
}

/** The suite with the engines --engine asked for, or as it is. */
const withEngines = (suite: Suite, engines: Engine[] | undefined): Suite =>
  engines ? { ...suite, engines } : suite;

/** Repeated --filter flags are joined: every clause of every flag must match. */
const collectFilter = (value: string, previous?: string): string =>
  previous ? `${previous},${value}` : value;

interface RunFlags {
  jobs?: number;
  isolation?: Isolation;
  profile?: string;
  filter?: string;
  shard?: string;
  out?: string;
  resume?: boolean;
  force?: boolean;
  again?: boolean;
  retryFailed?: boolean;
  repetitions?: number;
  maxInstructions?: number;
  progress?: ProgressMode;
  engine?: Engine[];
}

export function benchCommands(parent: Command, io: CliIo, done: (code: number) => void): Command {
  parent
    .command("list")
    .description("the built-in suites with their cell counts")
    .option("--json", "as JSON")
    .action((flags: { json?: boolean }) => {
      const rows = [...BUILTIN_SUITES.entries()].map(([name, make]) => {
        const suite = validateSuite(make(), `suite "${name}"`);
        const cells = selectCells(suite).all.length;
        return { name, cells, strategies: suite.strategies.length, description: suite.description };
      });
      if (flags.json) io.write(`${JSON.stringify(rows, null, 2)}\n`);
      else {
        const w = Math.max(...rows.map((r) => r.name.length));
        io.write(`${"suite".padEnd(w)}  ${"cells".padStart(6)}  description\n`);
        for (const r of rows)
          io.write(`${r.name.padEnd(w)}  ${String(r.cells).padStart(6)}  ${r.description}\n`);
        io.write(
          "\nRun one with `shadowlab bench run <suite>`; a suite may also be a .json file or a suite module.\n",
        );
      }
      done(0);
    });

  parent
    .command("cells")
    .description("the cells of a suite (after --filter and --shard), one id per line")
    .argument("<suite>", "a built-in suite name, or a .json / .ts suite file")
    .option("--filter <clauses>", "key=pattern[,key=pattern...] (repeatable: all must match)", collectFilter)
    .option("--shard <k/n>", "the k-th of n slices")
    .option("--engine <list>", `engines instead of the suite's: ${ENGINES.join(", ")} or both`, engineList)
    .action(async (ref: string, flags: { filter?: string; shard?: string; engine?: Engine[] }) => {
      const suite = withEngines(await loadSuite(ref), flags.engine);
      const { selected } = selectCells(suite, flags.filter, flags.shard);
      for (const c of selected) io.write(`${c.index}\t${c.id}\n`);
      done(0);
    });

  parent
    .command("run")
    .description("run a suite into results/<suite>/ (results.csv + results.json, written cell by cell)")
    .argument("<suite>", "a built-in suite name (see `bench list`), or a .json / .ts suite file")
    .option("-j, --jobs <n>", "parallel workers (default: one per core)", positiveInt("--jobs"))
    .addOption(
      new Option("--isolation <kind>", "workers as child processes or as worker threads of this process")
        .choices(["process", "thread"])
        .default("process"),
    )
    .option("--profile <name>", `cost profile (${profileNames().join(", ")}; default: the suite's)`)
    .option(
      "--filter <clauses>",
      "run a slice: key=pattern[,key=pattern...], e.g. workload=ctxswitch,strategy=shadow-* (repeatable: all must match)",
      collectFilter,
    )
    .option("--shard <k/n>", "run the k-th of n deterministic slices (for Slurm arrays and CI matrices)")
    .option(
      "--out <dir>",
      "results directory (default results/<suite>, results/<suite>/shard-k-of-n with --shard)",
    )
    .option("--resume", "keep the cells already in the results directory and run the rest")
    .option("--force", "discard results already in the directory and run everything")
    .option("--retry-failed", "with --resume: run failed cells again")
    .option("--again", "with --resume: when every cell is already done, measure the whole suite again")
    .option("--repetitions <n>", "timed samples per cell (overrides the suite)", positiveInt("--repetitions"))
    .option(
      "--engine <list>",
      `engines every cell runs on, e.g. interp or jit,interp (overrides the suite's; default jit): ${ENGINES.join(", ")}`,
      engineList,
    )
    .option(
      "--max-instructions <n>",
      "instruction budget per run (overrides the suite)",
      positiveInt("--max-instructions"),
    )
    .addOption(
      new Option(
        "--progress <mode>",
        "progress display (default: bar on a terminal, lines otherwise)",
      ).choices(["bar", "lines", "none"]),
    )
    .action(async (ref: string, flags: RunFlags) => {
      if (flags.resume && flags.force)
        throw new BenchUsageError("--resume and --force contradict each other");
      if (flags.profile && !PROFILES.has(flags.profile))
        throw new BenchUsageError(
          `unknown cost profile "${flags.profile}" (profiles: ${profileNames().join(", ")})`,
        );
      let suite = withEngines(await loadSuite(ref), flags.engine);
      if (flags.repetitions) suite = { ...suite, repetitions: flags.repetitions };
      if (flags.maxInstructions) suite = { ...suite, maxInstructions: flags.maxInstructions };
      const summary = await runSuite({
        suite,
        out: flags.out,
        jobs: flags.jobs,
        isolation: flags.isolation,
        filter: flags.filter,
        shard: flags.shard,
        profile: flags.profile,
        resume: flags.resume,
        force: flags.force,
        retryFailed: flags.retryFailed,
        again: flags.again,
        progress: flags.progress,
        log: io.err,
      });
      done(summary.exitCode);
    });

  parent
    .command("recost")
    .description(
      "reprice stored results with another cost profile (no re-run: cycles come from the counters)",
    )
    .argument("<dir>", "a results directory")
    .requiredOption("--profile <name>", `cost profile: ${profileNames().join(", ")}`)
    .option("--out <dir>", "write there instead of rewriting <dir>")
    .action((dir: string, flags: { profile: string; out?: string }) => {
      if (!PROFILES.has(flags.profile))
        throw new BenchUsageError(
          `unknown cost profile "${flags.profile}" (profiles: ${profileNames().join(", ")})`,
        );
      const r = recostResults(dir, flags.profile, flags.out);
      io.err(`recosted ${r.rows} cells with profile ${flags.profile} -> ${r.outDir}\n`);
      done(0);
    });

  parent
    .command("merge")
    .description("join the results of several directories (shards of one suite) into one")
    .argument("<dirs...>", "results directories")
    .requiredOption("--out <dir>", "the merged results directory")
    .option("--profile <name>", "price the merged rows with this profile (default: the first directory's)")
    .action((dirs: string[], flags: { out: string; profile?: string }) => {
      const r = mergeResults(dirs, flags.out, flags.profile);
      io.err(
        `merged ${dirs.length} directories: ${r.rows} cells -> ${r.outDir}${r.complete ? " (complete)" : ` (${r.missing} cells of the suite still missing)`}\n`,
      );
      done(0);
    });

  parent
    .command("profiles")
    .description("the cost profiles and their cycles per event class")
    .option("--json", "as JSON")
    .action((flags: { json?: boolean }) => {
      const all = [...PROFILES.values()];
      if (flags.json) io.write(`${JSON.stringify(all, null, 2)}\n`);
      else {
        const w = Math.max(...EVENT_CLASSES.map((c) => c.length));
        io.write(`${"class".padEnd(w)}  ${all.map((p) => p.name.padStart(12)).join("  ")}  what it counts\n`);
        for (const c of EVENT_CLASSES)
          io.write(
            `${c.padEnd(w)}  ${all.map((p) => p.cycles[c].toLocaleString("en").padStart(12)).join("  ")}  ${CLASS_DESCRIPTIONS[c]}\n`,
          );
        for (const p of all) io.write(`\n${p.name}: ${p.description}`);
        io.write("\n(sources of every value: packages/bench/src/cost.ts)\n");
      }
      done(0);
    });
  for (const c of parent.commands) {
    const examples = BENCH_EXAMPLES[c.name()];
    if (examples) withExamples(c, examples);
  }
  return parent;
}

const BENCH_EXAMPLES: Record<string, [string, string][]> = {
  list: [
    ["shadowlab bench list", "the built-in suites and their cell counts"],
    ["shadowlab bench list --json", "the same as JSON"],
  ],
  cells: [
    ["shadowlab bench cells quick", "every cell id of the quick suite"],
    ["shadowlab bench cells full --filter workload=ctxswitch --shard 1/4", "one shard of a slice"],
  ],
  run: [
    ["shadowlab bench run quick", "the default suite into results/quick"],
    ["shadowlab bench run full --filter 'strategy=shadow-*' --jobs 4", "a slice on four workers"],
    [
      "shadowlab bench run quick --engine jit,interp --out results/quick-engines",
      "every cell on both engines (ids of interp cells end in ~interp)",
    ],
    [
      "shadowlab bench run my-suite.json --out results/mine --resume",
      "finish an interrupted run of your own suite",
    ],
  ],
  recost: [
    [
      "shadowlab bench recost results/quick --profile vtx-2006 --out results/quick-2006",
      "reprice into a new directory",
    ],
    ["shadowlab bench recost results/nano --profile recent-core", "reprice in place"],
  ],
  merge: [
    ["shadowlab bench merge results/full/shard-*-of-8 --out results/full", "join eight shards"],
    ["shadowlab bench merge a b --out ab --profile vtx-2006", "join and reprice"],
  ],
  profiles: [
    ["shadowlab bench profiles", "cycles per event class of every profile"],
    ["shadowlab bench profiles --json", "the same as JSON"],
  ],
};

type ReportModule = typeof import("@shadowlab/report");

const REPORT_DESCRIPTION = "charts (Vega-Lite, SVG, PNG) and an offline HTML report from stored results";

/**
 * The whole CLI. `report` is the report package's own command builder; it is
 * passed in loaded only when needed (its renderers take half a second to
 * import), otherwise a stand-in with the same name and description keeps it
 * in the help.
 */
export function buildProgram(io: CliIo, done: (code: number) => void, report?: ReportModule): Command {
  const program = new Command("shadowlab")
    .description("a laboratory for memory virtualization: machine, workloads, hypervisor, experiment suites")
    .version(VERSION, "--version", "print the version")
    .exitOverride()
    .configureOutput({ writeErr: (s) => io.err(s), writeOut: (s) => io.write(s) });
  withExamples(program, [
    ["shadowlab bench run quick", "the default suite into results/quick"],
    ["shadowlab report results/quick", "its charts and report.html"],
    ["shadowlab run guest.elf --strategy shadow-ondemand", "a guest under the hypervisor"],
  ]);
  const bio = byteIo(io);
  const emu = program.command("emu").description("the RV32 machine: run or disassemble an ELF");
  emuCommands(emu, bio, done);
  const wl = program
    .command("workloads")
    .description("the guest workloads: list, run natively, export as ELF");
  workloadCommands(wl, bio, done);
  hvCommands(program, { out: io.write, err: io.err }, done);
  const bench = withExamples(
    program.command("bench").description("experiment suites, cost models and results"),
    [
      ["shadowlab bench list", "the built-in suites"],
      ["shadowlab bench run nano --jobs 2", "a suite into results/nano"],
      ["shadowlab bench run --help", "every option of a run"],
    ],
  );
  benchCommands(bench, io, done);
  const rep = program.command("report").description(REPORT_DESCRIPTION);
  if (report) report.reportCommands(rep, { err: (l) => io.err(`${l}\n`), write: io.write }, done);
  for (const c of program.commands) {
    c.exitOverride();
    c.configureOutput({ writeErr: (s) => io.err(s), writeOut: (s) => io.write(s) });
  }
  return program;
}

const USER_ERRORS = [
  UsageError,
  WorkloadParamError,
  SuiteError,
  SuiteNotFound,
  SelectionError,
  BenchUsageError,
  ResultsReadError,
] as const;

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let code = 0;
  const first = argv.find((a) => !a.startsWith("-"));
  const needReport = first === "report" || (first === "help" && argv.includes("report"));
  const report = needReport ? await import("@shadowlab/report") : undefined;
  const program = buildProgram(
    io,
    (c) => {
      code = c;
    },
    report,
  );
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    if (USER_ERRORS.some((k) => e instanceof k)) {
      io.err(`shadowlab: ${(e as Error).message}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof RangeError) {
      io.err(`shadowlab: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
  return code;
}
