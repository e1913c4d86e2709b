/**
 * `shadowlab-workloads`: list the workloads, run one natively on emu-core, or
 * export its image as an ELF (which also boots on
 * `qemu-system-riscv32 -machine virt -bios none`).
 *
 *   shadowlab-workloads list [--json]
 *   shadowlab-workloads run <name> [--param key=value ...] [--max-instructions N] [machine flags] [--stats [file]]
 *   shadowlab-workloads export <name> [--param key=value ...] -o image.elf
 *
 * User mistakes (unknown workload or parameter, a value of the wrong type or
 * out of bounds, bad flags, an unwritable output) are one line on stderr and
 * exit code 2. `run` exits with the guest's exit code; 124 when the
 * instruction budget ran out, 125 when the guest waits for an interrupt that
 * can never come.
 */
import { writeFileSync } from "node:fs";
import {
  addMachineOptions,
  EXIT_BUDGET,
  EXIT_USAGE,
  EXIT_WFI,
  type Io,
  integer,
  machineConfig,
  processIo,
  type RunResult,
  runCli,
  type StatsSnapshot,
  UsageError,
  writeElf,
} from "@shadowlab/emu-core";
import { type Command, CommanderError } from "commander";
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

export function exitCodeOf(r: RunResult): number {
  if (r.reason === "exit") return r.exitCode & 0xff;
  return r.reason === "wfi" ? EXIT_WFI : EXIT_BUDGET;
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
  const run = runNative(w, p, {
    machine: machineConfig(flags),
    maxInstructions: flags.maxInstructions,
    onOutput: (b) => io.out(b),
  });
  const { result, checksum } = run;
  io.flush();
  const code = exitCodeOf(result);
  if (result.reason === "budget")
    io.err(`shadowlab-workloads: stopped after ${result.instructions} instructions (budget)`);
  if (result.reason === "wfi")
    io.err("shadowlab-workloads: guest waits for an interrupt that can never arrive");
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
  io.write(`\n--- ${w.name} ${paramText}: ${ended}; checksum ${sum} ${verdict}\n`);
  io.write(`${counterTable(result.stats)}\n`);
  if (checksum !== undefined && checksum !== expected)
    io.err(
      `shadowlab-workloads: ${w.name}: checksum ${sum} differs from the reference model's 0x${hex8(expected)}`,
    );
  if (flags.stats !== undefined && flags.stats !== false) {
    const stats = {
      workload: w.name,
      params: p,
      reason: result.reason,
      exitCode: result.exitCode,
      ...result.stats,
    };
    const json = `${JSON.stringify(stats, null, 2)}\n`;
    if (flags.stats === true || flags.stats === "-") io.write(json);
    else writeFileSync(flags.stats, json);
  }
  return code;
}

// ---- export -------------------------------------------------------------------------------------

function exportCommand(name: string, flags: { param?: string[]; output: string }, io: Io): number {
  const { w, p } = resolve(name, flags.param);
  const elf = writeElf(w.build(p));
  try {
    writeFileSync(flags.output, elf);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${flags.output}: cannot write (${code ?? String(e)})`);
  }
  io.err(`shadowlab-workloads: wrote ${flags.output} (${elf.length} bytes)`);
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
  parent
    .command("list")
    .description("list the workloads with their parameters, defaults and bounds")
    .option("--json", "as JSON")
    .action((flags: { json?: boolean }) => done(listCommand(flags, io)));
  addMachineOptions(
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
      .option("--stats [file]", "write every counter as JSON to a file, or to stdout"),
  ).action((name: string, flags: RunFlags) => done(runCommand(name, flags, io)));
  parent
    .command("export")
    .description("write a workload's image as an ELF (boots on qemu-system-riscv32 -machine virt -bios none)")
    .argument("<name>", "the workload")
    .option("-p, --param <key=value>", PARAM_HELP, collect)
    .requiredOption("-o, --output <file>", "the ELF to write")
    .action((name: string, flags: { param?: string[]; output: string }) =>
      done(exportCommand(name, flags, io)),
    );
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
  });
}
