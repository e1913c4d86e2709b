/**
 * `shadowlab-hv run <image.elf> --strategy <name>`, or
 * `shadowlab-hv run --kernel <Image|vmlinux> [--initrd F] [--append ARGS] [--dtb F] --strategy <name>`
 * (the QEMU boot protocol; the hypervisor serves SBI): run a guest image under
 * the hypervisor (or, with `--strategy native`, on the bare machine for
 * comparison), print its console on stdout, then its counters on stderr
 * (`--stats FILE` writes them as JSON; `--stats -` writes the JSON on stdout
 * and moves the console to stderr). User mistakes are one line and exit
 * code 2; a run exits with the guest's code, or 124 (budget), 125 (waits
 * forever), 123 (stuck faulting), 1 (the hypervisor failed the guest).
 */
import {
  addKernelOptions,
  addMachineOptions,
  BootError,
  type BootFiles,
  bootFiles,
  bootMachine,
  checkStatsTarget,
  DEFAULT_HART,
  EXIT_BUDGET,
  EXIT_STUCK,
  EXIT_WFI,
  exitCodeOf,
  type Image,
  ImageError,
  integer,
  type KernelFlags,
  loadImage,
  loadOnto,
  Machine,
  machineConfig,
  packageVersion,
  runCli,
  type StatsSnapshot,
  statsToStdout,
  stopLine,
  UsageError,
  withExamples,
  writeStats,
} from "@shadowlab/emu-core";
import { type Command, Option } from "commander";
import type { Guest } from "./guest.ts";
import { DEFAULT_HYPERVISOR, Hypervisor } from "./monitor.ts";
import { modesOf, strategyNames } from "./paging/registry.ts";
import { EXECUTION_MODES, type ExecutionMode } from "./paging/strategy.ts";

export interface HvIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: HvIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

interface RunFlags {
  strategy: string;
  stats?: string | boolean;
  mode: string;
  /** Deprecated spelling of --stats FILE. */
  json?: string;
  maxInstructions?: number;
  guestRamMib: number;
  shadowBudgetPages?: number;
  [machineFlag: string]: unknown;
}

/** Machine RAM the hypervisor needs beyond twice the guest's (shadow tables, its own pages). */
const HV_EXTRA_MIB = 64;
/** The largest guest RAM whose machine (twice the guest plus HV_EXTRA_MIB) fits the machine's 2 GiB. */
export const MAX_GUEST_RAM_MIB = (2048 - HV_EXTRA_MIB) / 2;

/** Counters as aligned `name  value` lines, skipping zeros. */
export function counterTable(stats: StatsSnapshot): string {
  const rows: [string, number][] = [];
  const walk = (prefix: string, v: unknown) => {
    if (typeof v === "number") {
      if (v !== 0) rows.push([prefix, v]);
    } else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    }
  };
  walk("", stats);
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v.toLocaleString("en")}`).join("\n");
}

/** The ELF or the boot-protocol files the flags name. */
function guestProgram(path: string | undefined, flags: RunFlags, ramSize: number): Image | BootFiles {
  if (flags.kernel !== undefined) {
    if (path !== undefined) throw new UsageError("give either an ELF to run or --kernel, not both");
    return bootFiles(flags as KernelFlags, ramSize);
  }
  if (path === undefined) throw new UsageError("nothing to run: give an ELF or --kernel <Image|vmlinux>");
  for (const f of ["initrd", "append", "dtb", "bios"])
    if (flags[f] !== undefined) throw new UsageError(`--${f} goes with --kernel`);
  return loadImage(path);
}

function runCommand(path: string | undefined, flags: RunFlags, io: HvIo): number {
  try {
    return runProgram(path, flags, io);
  } catch (e) {
    if (e instanceof BootError) throw new UsageError(e.message);
    throw e;
  }
}

function runProgram(path: string | undefined, flags: RunFlags, io: HvIo): number {
  if (!(EXECUTION_MODES as readonly string[]).includes(flags.mode))
    throw new UsageError(`--mode must be one of: ${EXECUTION_MODES.join(", ")} (got "${flags.mode}")`);
  const mode = flags.mode as ExecutionMode;
  const names = strategyNames("any");
  if (flags.strategy !== "native" && !names.includes(flags.strategy)) {
    throw new UsageError(
      `--strategy must be native or one of: ${names.join(", ")} (got "${flags.strategy}")`,
    );
  }
  if (flags.json !== undefined) {
    if (flags.stats !== undefined)
      throw new UsageError("--json is the old name of --stats: give only --stats");
    io.err("shadowlab-hv: warning: --json is deprecated; use --stats\n");
    flags.stats = flags.json;
  }
  if (flags.strategy !== "native" && !strategyNames(mode).includes(flags.strategy))
    throw new UsageError(
      `--strategy ${flags.strategy} does not run in --mode ${mode} (it runs in: ${modesOf(flags.strategy).join(", ")})`,
    );
  const config = machineConfig(flags as never);
  checkStatsTarget(flags.stats);
  const guestRam = flags.guestRamMib * 2 ** 20;
  const native = flags.strategy === "native";
  const image = guestProgram(path, flags, native ? (config.ramSize ?? DEFAULT_HART.ramSize) : guestRam);
  const toStdout = statsToStdout(flags.stats);
  const showConsole = (text: string) => (toStdout ? io.err(text) : io.out(text));
  const errLine = { err: (line: string) => io.err(`${line}\n`) };
  let stats: StatsSnapshot;
  let code: number;
  let reason: string;
  let engine: string;
  if (flags.strategy === "native") {
    const m = new Machine(config, undefined);
    if ("kernel" in image) bootMachine(m, image);
    else loadOnto(m, image, path ?? "", errLine, "shadowlab-hv");
    const r = m.run({ maxInstructions: flags.maxInstructions });
    engine = m.hart.config.engine;
    showConsole(m.output);
    const line = stopLine("shadowlab-hv", r, m);
    if (line) io.err(`${line}\n`);
    stats = r.stats;
    reason = r.reason;
    code = exitCodeOf(r);
  } else {
    if (!("kernel" in image) && !image.symbols.supervisor_entry) {
      throw new UsageError(
        `${path}: no "supervisor_entry" symbol; the hypervisor starts guests at their S-mode entry`,
      );
    }
    const hv = new Hypervisor({
      machine: { ...config, ramSize: Math.max(config.ramSize ?? 0, guestRam * 2 + HV_EXTRA_MIB * 2 ** 20) },
      guestRamSize: guestRam,
      mode,
      ...(flags.shadowBudgetPages ? { shadowBudgetPages: flags.shadowBudgetPages } : {}),
    });
    const guest = addGuest(hv, image, flags.strategy, path ?? (flags.kernel as string));
    for (const w of guest.loadWarnings) io.err(`shadowlab-hv: warning: ${w}\n`);
    const r = hv.run({ maxInstructions: flags.maxInstructions });
    engine = hv.machine.hart.config.engine;
    const g = r.guests[0];
    showConsole(g.output);
    stats = r.stats;
    reason = g.state;
    if (g.state === "failed") io.err(`shadowlab-hv: the guest failed: ${g.error}\n`);
    if (g.state === "stuck") io.err(`shadowlab-hv: guest stuck: ${g.error}\n`);
    code = guestExitCode(g.state, g.exitCode);
  }
  const label = flags.strategy === "native" ? "native" : `${flags.strategy} (${mode} mode)`;
  io.err(`\n${label}: ${reason}, exit code ${code}\n${counterTable(stats)}\n`);
  writeStats(
    flags.stats,
    {
      strategy: flags.strategy,
      mode: flags.strategy === "native" ? "native" : mode,
      engine,
      reason,
      code,
      ...stats,
    },
    { write: io.out },
  );
  return code;
}

/** Adds the guest; an image that does not fit the guest's board is the user's mistake. */
function addGuest(hv: Hypervisor, image: Image | BootFiles, strategy: string, path: string): Guest {
  try {
    return hv.addGuest(image, strategy, path);
  } catch (e) {
    if (e instanceof ImageError) throw new UsageError(e.message);
    throw e;
  }
}

function guestExitCode(state: string, exitCode: number): number {
  if (state === "exited") return exitCode & 0xff;
  if (state === "wfi") return EXIT_WFI;
  if (state === "stuck") return EXIT_STUCK;
  return state === "failed" ? 1 : EXIT_BUDGET;
}

/** The `run` command, ready to mount under another program (the `shadowlab` CLI mounts it as `run`). */
export function hvCommands(parent: Command, io: HvIo, done: (code: number) => void): Command {
  const run = addKernelOptions(
    addMachineOptions(
      parent
        .command("run")
        .description(
          "run a guest image or --kernel under the hypervisor (or natively with --strategy native)",
        )
        .argument("[image.elf]", "a guest image with a supervisor_entry symbol")
        .requiredOption(
          "--strategy <name>",
          `native or a paging strategy: ${strategyNames("any").join(", ")}`,
        )
        .option(
          "--mode <mode>",
          "how the guest kernel runs: trap (U-mode, trap-and-emulate) or hw (VS-mode, H extension)",
          "trap",
        )
        .option(
          "--stats [file]",
          "write the counters as JSON to a file, or to stdout (`-` or no file; the console then goes to stderr)",
        )
        .addOption(new Option("--json <file>", "deprecated: --stats FILE").hideHelp())
        .option(
          "--max-instructions <n>",
          "stop after this many instructions",
          integer("--max-instructions", 1, Number.MAX_SAFE_INTEGER),
        )
        .option(
          "--shadow-budget-pages <n>",
          "machine pages the cached shadows of a guest may use before LRU reclaim",
          integer("--shadow-budget-pages", 1, 2 ** 19),
        )
        .option(
          "--guest-ram-mib <n>",
          "guest-physical RAM in MiB",
          integer("--guest-ram-mib", 1, MAX_GUEST_RAM_MIB),
          DEFAULT_HYPERVISOR.guestRamSize / 2 ** 20,
        ),
    ),
  ).action((file: string | undefined, flags: RunFlags) => done(runCommand(file, flags, io)));
  withExamples(run, [
    "shadowlab-hv run guest.elf --strategy shadow-ondemand",
    "shadowlab-hv run guest.elf --strategy native --stats native.json",
    "shadowlab-hv run --kernel Image --initrd initrd.cpio --strategy shadow-tagged --stats - > stats.json",
  ]);
  return parent;
}

export function main(argv: string[], io: HvIo = processIo): Promise<number> {
  return runCli({
    name: "shadowlab-hv",
    description: "the shadowlab hypervisor",
    argv,
    err: (line) => io.err(`${line}\n`),
    out: io.out,
    mount: (program, done) => hvCommands(program, io, done),
    version: packageVersion(import.meta.url),
    examples: [
      "shadowlab-hv run guest.elf --strategy shadow-ondemand",
      "shadowlab-hv run guest.elf --strategy native --stats -",
    ],
  });
}
