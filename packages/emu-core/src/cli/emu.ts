/**
 * `shadowlab-emu`: run or disassemble an RV32 ELF on the machine.
 *
 *   shadowlab-emu run prog.elf [--max-instructions N] [--tlb-entries N] ... [--engine jit|interp] [--stats [file]] [--trace N]
 *   shadowlab-emu run --kernel <Image|vmlinux> [--initrd F] [--append ARGS] [--dtb F] [--bios F|none]
 *   shadowlab-emu dtb [--out file] [--append ARGS] [--ram-mib N]   the generated devicetree
 *   shadowlab-emu firmware -o file [--ram-mib N]                the SBI firmware as a raw binary
 *   shadowlab-emu disasm prog.elf
 *
 * User mistakes (bad path, not an ELF, a 64-bit ELF, an image that does not
 * fit the board, bad flag values, an unwritable --stats file) are one line on
 * stderr and exit code 2. A run exits with the guest's exit code; 124 when
 * the instruction budget ran out, 125 when the guest waits for an interrupt
 * that can never come, 123 when it is stuck faulting (FAULT_LOOP_LIMIT
 * identical faults without progress).
 */
import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { BootError, type BootFiles, bootMachine } from "../boot.ts";
import { machineDtb } from "../devicetree.ts";
import { ElfError, readElf } from "../elf.ts";
import { buildFirmware } from "../firmware.ts";
import { DEFAULT_HART, ENGINES, type Engine, type HartConfig } from "../hart.ts";
import type { Image } from "../image.ts";
import { ImageError } from "../image-placement.ts";
import { Disassembler } from "../isa/disasm.ts";
import { Machine, type RunResult } from "../machine.ts";
import { EXCEPTION_NAMES } from "../stats.ts";
import { DEFAULT_TLB, type TlbConfig, validateTlbConfig } from "../tlb.ts";
import {
  checkWritable,
  EXIT_USAGE,
  type Io,
  integer,
  processIo,
  runCli,
  statsToStdout,
  UsageError,
  withExamples,
  writeFileAtomic,
} from "./program.ts";

export { EXIT_USAGE, type Io, processIo, UsageError };

export const EXIT_BUDGET = 124;
export const EXIT_WFI = 125;
/** The guest raised FAULT_LOOP_LIMIT identical faults without retiring an instruction (reason "stuck"). */
export const EXIT_STUCK = 123;

export function loadImage(path: string): Image {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === "ENOENT" ? `${path}: no such file` : `${path}: cannot read (${code ?? String(e)})`,
    );
  }
  try {
    return readElf(bytes, path);
  } catch (e) {
    if (e instanceof ElfError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * Loads an image onto a machine for a CLI: bytes that map nothing are
 * dropped with a warning line on stderr; an image that does not fit the
 * board is the user's mistake (UsageError).
 */
export function loadOnto(
  machine: Machine,
  image: Image,
  path: string,
  io: { err(line: string): void },
  prog: string,
): void {
  try {
    machine.load(image, { source: path, onWarning: (w) => io.err(`${prog}: warning: ${w}`) });
  } catch (e) {
    if (e instanceof ImageError) throw new UsageError(e.message);
    throw e;
  }
}

/** The one line a CLI prints when a run ended other than by the guest's exit, or undefined. */
export function stopLine(prog: string, r: RunResult, machine: Machine): string | undefined {
  if (r.reason === "budget") return `${prog}: stopped after ${r.instructions} instructions (budget)`;
  if (r.reason === "wfi") return `${prog}: guest waits for an interrupt that can never arrive`;
  if (r.reason === "stuck") {
    const name = (c: number) => EXCEPTION_NAMES[c] ?? `cause ${c}`;
    return `${prog}: guest stuck: ${machine.hart.faultLoop.describe(name)}`;
  }
  return undefined;
}

interface MachineFlags {
  ramMib: number;
  tlbEntries: number;
  tlbWays?: number;
  tlbReplacement: "lru" | "random";
  tlbSeed: number;
  asidTags: boolean;
  splitTlb: boolean;
  instructionsPerTick: number;
  misaligned?: HartConfig["misaligned"];
  engine?: Engine;
}

/** Flags that configure the machine, shared by every command that runs one. */
export function addMachineOptions(cmd: Command): Command {
  return cmd
    .option("--ram-mib <n>", "RAM size in MiB", integer("--ram-mib", 1, 2048), DEFAULT_HART.ramSize / 2 ** 20)
    .option(
      "--tlb-entries <n>",
      "TLB entries (power of two)",
      integer("--tlb-entries", 1, 65536),
      DEFAULT_TLB.entries,
    )
    .option(
      "--tlb-ways <n>",
      "TLB associativity (default: fully associative)",
      integer("--tlb-ways", 1, 65536),
    )
    .addOption(
      new Option("--tlb-replacement <policy>", "TLB replacement").choices(["lru", "random"]).default("lru"),
    )
    .option("--tlb-seed <n>", "seed of random replacement", integer("--tlb-seed", 0, 2 ** 32 - 1), 1)
    .option("--no-asid-tags", "TLB entries carry no ASID tag")
    .option("--split-tlb", "separate instruction and data TLBs of the given shape", false)
    .option(
      "--instructions-per-tick <n>",
      "retired instructions per mtime tick",
      integer("--instructions-per-tick", 1, 1e6),
      DEFAULT_HART.instructionsPerTick,
    )
    .addOption(
      new Option("--misaligned <how>", "misaligned loads and stores: perform them, or trap")
        .choices(["perform", "trap"])
        .default(DEFAULT_HART.misaligned),
    )
    .addOption(
      new Option(
        "--engine <engine>",
        "how guest code runs: jit (compiled blocks) or interp (the reference interpreter); counters are the same",
      )
        .choices(ENGINES)
        .default(DEFAULT_HART.engine),
    );
}

export function machineConfig(f: MachineFlags): Partial<HartConfig> {
  const tlb: TlbConfig = {
    entries: f.tlbEntries,
    ways: f.tlbWays ?? f.tlbEntries,
    replacement: f.tlbReplacement,
    asidTags: f.asidTags,
    seed: f.tlbSeed,
  };
  const problem = validateTlbConfig(tlb);
  if (problem) throw new UsageError(problem);
  return {
    ramSize: f.ramMib * 2 ** 20,
    tlb: f.splitTlb ? { itlb: tlb, dtlb: { ...tlb } } : tlb,
    instructionsPerTick: f.instructionsPerTick,
    ...(f.misaligned ? { misaligned: f.misaligned } : {}),
    ...(f.engine ? { engine: f.engine } : {}),
  };
}

interface RunFlags extends MachineFlags, KernelFlags {
  maxInstructions?: number;
  stats?: string | boolean;
  trace?: number;
}

/**
 * Where the guest's console goes: stdout, or stderr line by line when stdout
 * carries the JSON counters (never both on one stream).
 */
export function consoleSink(io: Io, toStderr: boolean): { put(byte: number): void; end(): void } {
  if (!toStderr) return { put: (b) => io.out(b), end: () => io.flush() };
  let line: number[] = [];
  const end = () => {
    if (line.length) io.err(Buffer.from(line).toString("utf8"));
    line = [];
  };
  return {
    put: (b) => {
      if (b === 10) {
        io.err(Buffer.from(line).toString("utf8"));
        line = [];
      } else line.push(b);
    },
    end,
  };
}

/** Writes the JSON counters where --stats asked: stdout, or a file written whole. */
export function writeStats(stats: string | boolean | undefined, value: unknown, io: Pick<Io, "write">): void {
  if (stats === undefined || stats === false) return;
  const json = `${JSON.stringify(value, null, 2)}\n`;
  if (statsToStdout(stats)) io.write(json);
  else writeFileAtomic(stats as string, json, "--stats");
}

/** Before a run: a --stats file must be writable where asked. */
export function checkStatsTarget(stats: string | boolean | undefined): void {
  if (typeof stats === "string" && stats !== "-") checkWritable(stats, "--stats");
}

function runCommand(path: string | undefined, flags: RunFlags, io: Io): number {
  const config = machineConfig(flags);
  checkStatsTarget(flags.stats);
  const sink = consoleSink(io, statsToStdout(flags.stats));
  const machine = new Machine(config, sink.put);
  if (flags.kernel !== undefined) {
    if (path !== undefined) throw new UsageError("give either an ELF to run or --kernel, not both");
    try {
      bootMachine(machine, bootFiles(flags, config.ramSize ?? DEFAULT_HART.ramSize));
    } catch (e) {
      if (e instanceof BootError) throw new UsageError(e.message);
      throw e;
    }
  } else {
    if (path === undefined) throw new UsageError("nothing to run: give an ELF or --kernel <Image|vmlinux>");
    for (const f of ["initrd", "append", "dtb", "bios"] as const)
      if (flags[f] !== undefined) throw new UsageError(`--${f} goes with --kernel`);
    loadOnto(machine, loadImage(path), path, io, "shadowlab-emu");
  }
  const result = machine.run({ maxInstructions: flags.maxInstructions, trace: flags.trace });
  sink.end();
  const code = exitCodeOf(result);
  const line = stopLine("shadowlab-emu", result, machine);
  if (line) io.err(line);
  if (code !== 0 && result.trace) io.err(formatTrace(result));
  writeStats(
    flags.stats,
    { reason: result.reason, exitCode: result.exitCode, engine: machine.hart.config.engine, ...result.stats },
    io,
  );
  return code;
}

/** Flags of the QEMU boot protocol. */
export interface KernelFlags {
  kernel?: string;
  initrd?: string;
  append?: string;
  dtb?: string;
  bios?: string;
}

/** Add --kernel, --initrd, --append, --dtb and --bios to a command. */
export function addKernelOptions(cmd: Command): Command {
  return cmd
    .option("--kernel <file>", "boot a kernel (RISC-V Image or ELF vmlinux) by the QEMU virt boot protocol")
    .option("--initrd <file>", "initial ramdisk, placed as QEMU places it and named in /chosen")
    .option("--append <args>", "kernel command line (/chosen/bootargs)")
    .option("--dtb <file>", "devicetree blob to use instead of the generated one")
    .option("--bios <file|none>", "M-mode firmware at the RAM base (default: shadowlab's SBI firmware)");
}

function readInput(path: string, flag: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === "ENOENT" ? `${flag} ${path}: no such file` : `${flag} ${path}: cannot read (${code})`,
    );
  }
}

/** The boot-protocol inputs named by the flags, read from disk. */
export function bootFiles(flags: KernelFlags, ramSize: number): BootFiles {
  if (flags.kernel === undefined) throw new UsageError("--kernel is required");
  let bios: BootFiles["bios"] = "default";
  if (flags.bios === "none") bios = "none";
  else if (flags.bios !== undefined) bios = readInput(flags.bios, "--bios");
  return {
    kernel: readInput(flags.kernel, "--kernel"),
    kernelName: flags.kernel,
    initrd: flags.initrd === undefined ? undefined : readInput(flags.initrd, "--initrd"),
    append: flags.append,
    dtb: flags.dtb === undefined ? undefined : readInput(flags.dtb, "--dtb"),
    bios,
    ramSize,
  };
}

/** The process exit code of a run: the guest's own, or 124 (budget), 125 (wfi), 123 (stuck). */
export function exitCodeOf(r: Pick<RunResult, "reason" | "exitCode">): number {
  if (r.reason === "exit") return r.exitCode & 0xff;
  if (r.reason === "stuck") return EXIT_STUCK;
  return r.reason === "wfi" ? EXIT_WFI : EXIT_BUDGET;
}

const PRIV_LETTER: Record<number, string> = { 0: "U", 1: "S", 3: "M" };

function formatTrace(r: RunResult): string {
  const d = new Disassembler();
  const lines = (r.trace ?? []).map((t) => {
    const pc = t.pc.toString(16).padStart(8, "0");
    const text = t.word === undefined ? "<unmapped>" : d.insn(t.word, t.pc);
    const word = t.word === undefined ? "        " : t.word.toString(16).padStart(8, "0");
    return `  ${PRIV_LETTER[t.priv]} ${pc}: ${word}  ${text}`;
  });
  return [`last ${lines.length} instructions:`, ...lines].join("\n");
}

function disasmCommand(path: string, io: Io): number {
  const image = loadImage(path);
  const bySymbol = new Map<number, string>();
  for (const [name, addr] of Object.entries(image.symbols)) if (!bySymbol.has(addr)) bySymbol.set(addr, name);
  for (const s of image.sections.filter((x) => x.flags === "rx")) {
    io.write(`\nDisassembly of section ${s.name}:\n`);
    const d = new Disassembler();
    const view = new DataView(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength);
    for (let off = 0; off + 4 <= s.bytes.length; off += 4) {
      const pc = (s.addr + off) >>> 0;
      const sym = bySymbol.get(pc);
      if (sym) io.write(`\n${pc.toString(16).padStart(8, "0")} <${sym}>:\n`);
      const w = view.getUint32(off, true);
      io.write(
        `${pc.toString(16).padStart(8)}:\t${w.toString(16).padStart(8, "0")}          \t${d.insn(w, pc)}\n`,
      );
    }
  }
  return 0;
}

/** The commands, ready to mount under another program (the `shadowlab` CLI mounts them as `emu`). */
export function emuCommands(parent: Command, io: Io, done: (code: number) => void): Command {
  const run = addKernelOptions(
    addMachineOptions(
      parent
        .command("run")
        .description("run an RV32 ELF, or boot a kernel with --kernel; exits with the guest's exit code")
        .argument("[file.elf]", "the image to run")
        .option(
          "--max-instructions <n>",
          "stop after this many instructions",
          integer("--max-instructions", 1, Number.MAX_SAFE_INTEGER),
        )
        .option(
          "--stats [file]",
          "write every counter as JSON to a file, or to stdout (`-` or no file; the console then goes to stderr)",
        )
        .option(
          "--trace <n>",
          "print the last N instructions when the run ends badly",
          integer("--trace", 1, 1e6),
        ),
    ),
  ).action((file: string | undefined, flags: RunFlags) => done(runCommand(file, flags, io)));
  withExamples(run, [
    "shadowlab-emu run prog.elf",
    "shadowlab-emu run prog.elf --stats stats.json --max-instructions 1e8",
    "shadowlab-emu run --kernel Image --initrd initrd.cpio --append console=ttyS0",
  ]);
  const firmware = parent
    .command("firmware")
    .description("write shadowlab's SBI firmware as a raw binary for the RAM base (for QEMU's -bios)")
    .option("--out <file>", "where to write it")
    .addOption(new Option("-o, --output <file>", "deprecated: --out").hideHelp())
    .option("--ram-mib <n>", "RAM size in MiB", integer("--ram-mib", 1, 2048), DEFAULT_HART.ramSize / 2 ** 20)
    .action((flags: { out?: string; output?: string; ramMib: number }) => {
      const out = flags.out ?? flags.output;
      if (out === undefined) throw new UsageError("firmware needs --out <file.bin>");
      checkWritable(out, "--out");
      const image = buildFirmware({ ramSize: flags.ramMib * 2 ** 20 });
      writeFileAtomic(out, image.sections[0].bytes, "--out");
      done(0);
    });
  withExamples(firmware, [
    "shadowlab-emu firmware --out fw.bin",
    "qemu-system-riscv32 -machine virt -bios fw.bin -kernel Image -nographic",
  ]);
  const dtb = parent
    .command("dtb")
    .description("write the machine's generated devicetree blob")
    .option("--out <file>", "where to write it (default: stdout)")
    .addOption(new Option("-o, --output <file>", "deprecated: --out").hideHelp())
    .option("--append <args>", "kernel command line (/chosen/bootargs)")
    .option("--ram-mib <n>", "RAM size in MiB", integer("--ram-mib", 1, 2048), DEFAULT_HART.ramSize / 2 ** 20)
    .action((flags: { out?: string; output?: string; append?: string; ramMib: number }) => {
      const dtb = machineDtb({ ramSize: flags.ramMib * 2 ** 20, bootargs: flags.append });
      const out = flags.out ?? flags.output;
      if (out) writeFileAtomic(out, dtb, "--out");
      else {
        for (const b of dtb) io.out(b);
        io.flush();
      }
      done(0);
    });
  withExamples(dtb, [
    "shadowlab-emu dtb --out virt.dtb",
    "shadowlab-emu dtb --append console=ttyS0 | dtc -I dtb -O dts",
  ]);
  const disasm = parent
    .command("disasm")
    .description("disassemble the executable sections of an ELF (objdump -d syntax)")
    .argument("<file.elf>", "the image")
    .action((file: string) => done(disasmCommand(file, io)));
  withExamples(disasm, ["shadowlab-emu disasm prog.elf", "shadowlab-emu disasm prog.elf | less"]);
  return parent;
}

export function main(argv: string[], io: Io = processIo()): Promise<number> {
  return runCli({
    name: "shadowlab-emu",
    description: "the shadowlab RV32 machine",
    argv,
    err: io.err,
    out: io.write,
    mount: (program, done) => emuCommands(program, io, done),
    examples: [
      "shadowlab-emu run prog.elf",
      "shadowlab-emu run prog.elf --stats - > stats.json",
      "shadowlab-emu disasm prog.elf",
    ],
  });
}
