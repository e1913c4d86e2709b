/**
 * `shadowlab-workloads`: list the workloads, run one natively on emu-core, or
 * export its image as an ELF (which also boots on
 * `qemu-system-riscv32 -machine virt -bios none`).
 *
 *   shadowlab-workloads list [--json]
 *   shadowlab-workloads run <name> [--param key=value ...] [--max-instructions N] [machine flags] [--stats [file]]
 *   shadowlab-workloads export <name> [--param key=value ...] --out image.elf
 *
 * User mistakes (unknown workload or parameter, a value of the wrong type or
 * out of bounds, bad flags, an unwritable output) are one line on stderr and
 * exit code 2. `run` exits with the guest's exit code; 124 when the
 * instruction budget ran out, 125 when the guest waits for an interrupt that
 * can never come, 123 when it is stuck faulting. With `--stats -` the JSON
 * counters are alone on stdout and everything else goes to stderr.
 */
import {
  addMachineOptions,
  checkStatsTarget,
  checkWritable,
  consoleSink,
  EXIT_USAGE,
  exitCodeOf as emuExitCodeOf,
  type Io,
  integer,
  machineConfig,
  packageVersion,
  processIo,
  type RunResult,
  runCli,
  type StatsSnapshot,
  statsToStdout,
  UsageError,
  withExamples,
  writeElf,
  writeFileAtomic,
  writeStats,
} from "@shadowlab/emu-core";
import { type Command, CommanderError, Option } from "commander";
import {
  allowedRange,
  describeParams,
  getWorkload,
  parseParamArgs,
  WORKLOADS,
  WorkloadParamError,
} from "./registry.ts";
import { hex8, type Params, type Workload } from "./workloads/common.ts";
import { runNative } from "./workloads/native.ts";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function resolve(name: string, params: readonly string[] | undefined): { w: Workload; p: Params } {
  const w = getWorkload(name);
  return { w, p: parseParamArgs(w, params ?? []) };
}

// ---- list ---------------------------------------------------------------------------------------

function listCommand(flags: { json?: boolean }, io: Io): number {
  if (flags.json) {
    const all = WORKLOADS.map((w) => ({
      name: w.name,
      description: w.description,
      params: describeParams(w),
    }));
    io.write(`${JSON.stringify(all, null, 2)}\n`);
    return 0;
  }
  for (const w of WORKLOADS) {
    io.write(`${w.name}  ${w.description}\n`);
    const params = describeParams(w);
    const width = Math.max(...params.map((p) => p.name.length));
    for (const p of params) {
      io.write(
        `    ${p.name.padEnd(width)}  ${p.description} [${allowedRange(p)}; default ${String(p.default)}]\n`,
      );
    }
  }
  return 0;
}

// ---- run ----------------------------------------------------------------------------------------

interface RunFlags {
  param?: string[];
  maxInstructions?: number;
  stats?: string | boolean;
  ramMib: number;
  tlbEntries: number;
  tlbWays?: number;
  tlbReplacement: "lru" | "random";
  tlbSeed: number;
  asidTags: boolean;
  splitTlb: boolean;
  instructionsPerTick: number;
}

/** The process exit code of a run (emu-core's: the guest's own, or 124 budget, 125 wfi, 123 stuck). */
export function exitCodeOf(r: RunResult): number {
  return emuExitCodeOf(r);
}

const fmt = (n: number): string => n.toLocaleString("en-US");

/** The counters of a run as aligned `name  value` rows. */
export function counterTable(s: StatsSnapshot): string {
  const rows: [string, number][] = [
    ["instructions", s.instructions.total],
    ["  user", s.instructions.user],
    ["  supervisor", s.instructions.supervisor],
    ["  machine", s.instructions.machine],
    ["traps to S", s.traps.toS],
    ["traps to M", s.traps.toM],
  ];
  for (const [k, v] of Object.entries(s.traps.exceptions)) if (v) rows.push([`  exception ${k}`, v]);
  for (const [k, v] of Object.entries(s.traps.interrupts)) if (v) rows.push([`  interrupt ${k}`, v]);
  for (const [name, t] of Object.entries(s.tlb)) {
    rows.push([`${name} lookups`, t.lookups], [`  hits`, t.hits], [`  misses`, t.misses]);
    rows.push([`  fills`, t.fills], [`  evictions`, t.evictions]);
    rows.push([
      `  flushes (all/addr/asid/addr+asid)`,
      t.flushAll + t.flushAddr + t.flushAsid + t.flushAddrAsid,
    ]);
    rows.push([`    all`, t.flushAll], [`    addr`, t.flushAddr], [`    asid`, t.flushAsid]);
    rows.push([`    addr+asid`, t.flushAddrAsid], [`  entries flushed`, t.entriesFlushed]);
  }
  rows.push(
    ["page walks", s.walk.walks],
    ["  memory references", s.walk.memRefs],
    ["  A/D updates", s.walk.adUpdates],
    ["  faults", s.walk.faults],
  );
  for (const [k, v] of Object.entries(s.extra)) rows.push([k, v]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const vwidth = Math.max(...rows.map(([, v]) => fmt(v).length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${fmt(v).padStart(vwidth)}`).join("\n");
}

function runCommand(name: string, flags: RunFlags, io: Io): number {
  const { w, p } = resolve(name, flags.param);
  checkStatsTarget(flags.stats);
  const toStdout = statsToStdout(flags.stats);
  const sink = consoleSink(io, toStdout);
  const run = runNative(w, p, {
    machine: machineConfig(flags),
    maxInstructions: flags.maxInstructions,
    onOutput: sink.put,
  });
  const { result, checksum } = run;
  sink.end();
  const code = exitCodeOf(result);
  if (result.reason === "budget")
    io.err(`shadowlab-workloads: stopped after ${result.instructions} instructions (budget)`);
  if (result.reason === "wfi")
    io.err("shadowlab-workloads: guest waits for an interrupt that can never arrive");
  if (result.reason === "stuck") io.err("shadowlab-workloads: guest stuck faulting without progress");
  const expected = w.expected(p).checksum;
  const verdict =
    checksum === undefined
      ? "no checksum line"
      : checksum === expected
        ? "matches the reference model"
        : `MISMATCH: the reference model predicts 0x${hex8(expected)}`;
  const paramText = Object.entries(p)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ");
  const ended = result.reason === "exit" ? `exit ${result.exitCode}` : result.reason;
  const sum = checksum === undefined ? "-" : `0x${hex8(checksum)}`;
  // The summary is for people: on stderr when stdout carries the JSON counters.
  const say = (text: string) => (toStdout ? io.err(text) : io.write(`${text}\n`));
  say(`\n--- ${w.name} ${paramText}: ${ended}; checksum ${sum} ${verdict}`);
  say(counterTable(result.stats));
  if (checksum !== undefined && checksum !== expected)
    io.err(
      `shadowlab-workloads: ${w.name}: checksum ${sum} differs from the reference model's 0x${hex8(expected)}`,
    );
  const stats = {
    workload: w.name,
    params: p,
    reason: result.reason,
    exitCode: result.exitCode,
    engine: run.machine.hart.config.engine,
    ...result.stats,
  };
  writeStats(flags.stats, stats, io);
  return code;
}

// ---- export -------------------------------------------------------------------------------------

interface ExportFlags {
  param?: string[];
  out?: string;
  /** Deprecated spelling of --out. */
  output?: string;
}

function exportCommand(name: string, flags: ExportFlags, io: Io): number {
  const out = flags.out ?? flags.output;
  if (out === undefined) throw new UsageError("export needs --out <file.elf>");
  const { w, p } = resolve(name, flags.param);
  checkWritable(out, "--out");
  const elf = writeElf(w.build(p));
  writeFileAtomic(out, elf, "--out");
  io.err(`shadowlab-workloads: wrote ${out} (${elf.length} bytes)`);
  return 0;
}

// ---- mounting -----------------------------------------------------------------------------------

const PARAM_HELP = "a workload parameter (repeatable); see `list` for names, defaults and bounds";

/**
 * The commands, ready to mount under another program (the `shadowlab` CLI
 * mounts them as `workloads`). Mistakes surface as WorkloadParamError or
 * UsageError from `done`'s caller, or as commander errors: report them with
 * `reportError`.
 */
export function workloadCommands(parent: Command, io: Io, done: (code: number) => void): Command {
  const list = parent
    .command("list")
    .description("list the workloads with their parameters, defaults and bounds")
    .option("--json", "as JSON")
    .action((flags: { json?: boolean }) => done(listCommand(flags, io)));
  withExamples(list, ["shadowlab-workloads list", "shadowlab-workloads list --json > workloads.json"]);
  const run = addMachineOptions(
    parent
      .command("run")
      .description("build a workload and run it natively on emu-core; exits with the guest's exit code")
      .argument("<name>", "the workload")
      .option("-p, --param <key=value>", PARAM_HELP, collect)
      .option(
        "--max-instructions <n>",
        "stop after this many instructions",
        integer("--max-instructions", 1, Number.MAX_SAFE_INTEGER),
      )
      .option(
        "--stats [file]",
        "write every counter as JSON to a file, or to stdout (`-` or no file; everything else then goes to stderr)",
      ),
  ).action((name: string, flags: RunFlags) => done(runCommand(name, flags, io)));
  withExamples(run, [
    "shadowlab-workloads run ctxswitch",
    "shadowlab-workloads run forkwait -p children=8 --tlb-entries 16 --stats fw.json",
    "shadowlab-workloads run syscall --stats - > syscall.json",
  ]);
  const exp = parent
    .command("export")
    .description("write a workload's image as an ELF (boots on qemu-system-riscv32 -machine virt -bios none)")
    .argument("<name>", "the workload")
    .option("-p, --param <key=value>", PARAM_HELP, collect)
    .option("--out <file>", "the ELF to write")
    .addOption(new Option("-o, --output <file>", "deprecated: --out").hideHelp())
    .action((name: string, flags: ExportFlags) => done(exportCommand(name, flags, io)));
  withExamples(exp, [
    "shadowlab-workloads export forkwait -p children=32 --out fw.elf",
    "qemu-system-riscv32 -machine virt -bios none -nographic -kernel fw.elf",
  ]);
  return parent;
}

/** The exit code for an error thrown while running the commands, after reporting it; rethrows bugs. */
export function reportError(e: unknown, io: Io, prog = "shadowlab-workloads"): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
  if (e instanceof WorkloadParamError || e instanceof UsageError) {
    io.err(`${prog}: ${e.message}`);
    return EXIT_USAGE;
  }
  throw e;
}

export function main(argv: string[], io: Io = processIo()): Promise<number> {
  return runCli({
    name: "shadowlab-workloads",
    description: "the shadowlab guest workloads",
    argv,
    err: io.err,
    out: io.write,
    mount: (program, done) => workloadCommands(program, io, done),
    isUsageError: (e) => e instanceof WorkloadParamError,
    version: packageVersion(import.meta.url),
    examples: [
      "shadowlab-workloads list",
      "shadowlab-workloads run ctxswitch -p procs=4",
      "shadowlab-workloads export ctxswitch --out ctx.elf",
    ],
  });
}
