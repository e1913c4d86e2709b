/**
 * `shadowlab-hv run <image.elf> --strategy <name>`, or
 * `shadowlab-hv run --kernel <Image|vmlinux> [--initrd F] [--append ARGS] [--dtb F] --strategy <name>`
 * (the QEMU boot protocol; the hypervisor serves SBI): run a guest image under
 * the hypervisor (or, with `--strategy native`, on the bare machine for
 * comparison), print its console, then its counters on stderr (`--json FILE`
 * writes them for machines). User mistakes are one line and exit code 2.
 */
import { writeFileSync } from "node:fs";
import {
  addKernelOptions,
  addMachineOptions,
  BootError,
  type BootFiles,
  bootFiles,
  bootMachine,
  DEFAULT_HART,
  EXIT_BUDGET,
  EXIT_WFI,
  type Image,
  type KernelFlags,
  loadImage,
  Machine,
  machineConfig,
  runCli,
  type StatsSnapshot,
  UsageError,
} from "@shadowlab/emu-core";
import { type Command, InvalidArgumentError } from "commander";
import { DEFAULT_HYPERVISOR, Hypervisor } from "./monitor.ts";
import { strategyNames } from "./paging/registry.ts";

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
  json?: string;
  maxInstructions?: number;
  guestRamMib: number;
  shadowBudgetPages?: number;
  [machineFlag: string]: unknown;
}

function positive(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${name} must be a positive integer (got "${text}")`);
    return n;
  };
}

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
  const names = strategyNames();
  if (flags.strategy !== "native" && !names.includes(flags.strategy)) {
    throw new UsageError(
      `--strategy must be native or one of: ${names.join(", ")} (got "${flags.strategy}")`,
    );
  }
  const config = machineConfig(flags as never);
  const guestRam = flags.guestRamMib * 2 ** 20;
  const native = flags.strategy === "native";
  const image = guestProgram(path, flags, native ? (config.ramSize ?? DEFAULT_HART.ramSize) : guestRam);
  let stats: StatsSnapshot;
  let code: number;
  let reason: string;
  if (flags.strategy === "native") {
    const m = new Machine(config, undefined);
    if ("kernel" in image) bootMachine(m, image);
    else m.load(image);
    const r = m.run({ maxInstructions: flags.maxInstructions });
    io.out(m.output);
    stats = r.stats;
    reason = r.reason;
    code = r.reason === "exit" ? r.exitCode & 0xff : r.reason === "wfi" ? EXIT_WFI : EXIT_BUDGET;
  } else {
    if (!("kernel" in image) && !image.symbols.supervisor_entry) {
      throw new UsageError(
        `${path}: no "supervisor_entry" symbol; the hypervisor starts guests at their S-mode entry`,
      );
    }
    const hv = new Hypervisor({
      machine: { ...config, ramSize: Math.max(config.ramSize ?? 0, guestRam * 2 + 64 * 2 ** 20) },
      guestRamSize: guestRam,
      ...(flags.shadowBudgetPages ? { shadowBudgetPages: flags.shadowBudgetPages } : {}),
    });
    hv.addGuest(image, flags.strategy, path ?? (flags.kernel as string));
    const r = hv.run({ maxInstructions: flags.maxInstructions });
    const g = r.guests[0];
    io.out(g.output);
    stats = r.stats;
    reason = g.state;
    if (g.state === "failed") io.err(`shadowlab-hv: the guest failed: ${g.error}\n`);
    code =
      g.state === "exited"
        ? g.exitCode & 0xff
        : g.state === "wfi"
          ? EXIT_WFI
          : g.state === "failed"
            ? 1
            : EXIT_BUDGET;
  }
  io.err(`\n${flags.strategy}: ${reason}, exit code ${code}\n${counterTable(stats)}\n`);
  if (flags.json)
    writeFileSync(
      flags.json,
      `${JSON.stringify({ strategy: flags.strategy, reason, code, ...stats }, null, 2)}\n`,
    );
  return code;
}

/** The `run` command, ready to mount under another program (the `shadowlab` CLI mounts it as `run`). */
export function hvCommands(parent: Command, io: HvIo, done: (code: number) => void): Command {
  addKernelOptions(
    addMachineOptions(
      parent
        .command("run")
        .description(
          "run a guest image or --kernel under the hypervisor (or natively with --strategy native)",
        )
        .argument("[image.elf]", "a guest image with a supervisor_entry symbol")
        .requiredOption("--strategy <name>", `native or a paging strategy: ${strategyNames().join(", ")}`)
        .option("--json <file>", "write the counters as JSON")
        .option("--max-instructions <n>", "stop after this many instructions", positive("--max-instructions"))
        .option(
          "--shadow-budget-pages <n>",
          "machine pages the cached shadows of a guest may use before LRU reclaim",
          positive("--shadow-budget-pages"),
        )
        .option(
          "--guest-ram-mib <n>",
          "guest-physical RAM in MiB",
          positive("--guest-ram-mib"),
          DEFAULT_HYPERVISOR.guestRamSize / 2 ** 20,
        ),
    ),
  ).action((file: string | undefined, flags: RunFlags) => done(runCommand(file, flags, io)));
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
  });
}
