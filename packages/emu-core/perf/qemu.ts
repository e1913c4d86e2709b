/**
 * QEMU's speed on the perf programs' ELF files, start-up subtracted.
 *
 * QEMU runs the image as `qemu-system-riscv32 -machine virt -bios none
 * -kernel X.elf` with the CPU cut down to this machine's ISA (RV32IMA +
 * Zicsr/Zifencei, Sv32): no C, F, D, H, bit-manipulation or Zihintpause.
 * A run is timed from spawn to exit, so it includes QEMU's start-up; running
 * two sizes of the same loop and dividing the difference in instructions by
 * the difference in time cancels it. Instruction counts come from this
 * machine (run-to-exit.ts), which runs the same image.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeElf } from "../src/elf.ts";
import type { PerfProgram } from "./programs.ts";
import { type GuestEnd, instructionCount, parseEnd, runToExit } from "./run-to-exit.ts";

export const QEMU = "qemu-system-riscv32";
/** QEMU 7.2's rv32 CPU without the extensions it adds by default: the ISA this machine implements. */
export const QEMU_CPU =
  "rv32,c=false,f=false,d=false,h=false,zba=false,zbb=false,zbc=false,zbs=false,Zihintpause=false";

/** The first line of `qemu-system-riscv32 --version`, or undefined when QEMU is not installed. */
export function qemuVersion(): string | undefined {
  const r = spawnSync(QEMU, ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split("\n")[0].trim();
}

/** A QEMU run that did not end in the program's power-off with its end line. */
export class QemuRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QemuRunError";
  }
}

export interface QemuRunOptions {
  /** Extra arguments before -kernel (e.g. -icount for exact minstret). */
  extraArgs?: readonly string[];
  /** Guards against a hang only. */
  timeoutMs?: number;
}

/** Runs an ELF on QEMU to its power-off; the wall time includes start-up. */
export function runOnQemu(elfPath: string, opts: QemuRunOptions = {}): GuestEnd & { seconds: number } {
  const args = [
    ...["-machine", "virt", "-cpu", QEMU_CPU, "-nographic", "-bios", "none"],
    ...(opts.extraArgs ?? []),
    ...["-kernel", elfPath],
  ];
  const t0 = performance.now();
  const r = spawnSync(QEMU, args, {
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 300_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const seconds = (performance.now() - t0) / 1000;
  const name = elfPath.split(/[\\/]/).pop();
  if (r.error) throw new QemuRunError(`${QEMU} on ${name}: ${r.error.message}`);
  if (r.status !== 0) {
    const why = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    const stderr = r.stderr.trim().split("\n")[0] ?? "";
    throw new QemuRunError(
      `${QEMU} on ${name}: ${why} instead of the program's power-off (0) ${stderr}`.trim(),
    );
  }
  const end = parseEnd(r.stdout);
  if (!end)
    throw new QemuRunError(
      `${QEMU} on ${name}: no end line in its console output ${JSON.stringify(r.stdout)}`,
    );
  return { ...end, seconds };
}

export interface QemuSize {
  iterations: number;
  instructions: number;
  /** Best (shortest) wall time of the runs, start-up included. */
  seconds: number;
}

export interface QemuFigure {
  id: string;
  mips: number;
  /** Counted on this machine (instructionCount). */
  instructionsPerIteration: number;
  small: QemuSize;
  big: QemuSize;
  runs: number;
}

export interface QemuMeasureOptions {
  /** Runs per size; the best of them counts. */
  runs: number;
  /** The two sizes must differ by at least this much wall time. */
  minDeltaSeconds: number;
  /** Guest instructions in the small size. */
  smallInstructions: number;
}

/**
 * QEMU MIPS of `program`: (instructions(big) - instructions(small)) /
 * (t(big) - t(small)), best of `runs` for each size. The small image's count
 * and checksum are checked against this machine running the same image; the
 * big size grows until it takes minDeltaSeconds longer than the small one.
 */
export function measureQemu(program: PerfProgram, opts: QemuMeasureOptions): QemuFigure {
  const { base, perIteration } = instructionCount(program);
  const count = (n: number) => base + perIteration * n;
  const dir = mkdtempSync(join(tmpdir(), "shadowlab-perf-qemu-"));
  try {
    const elf = (n: number) => {
      const path = join(dir, `${program.id}-${n}.elf`);
      writeFileSync(path, writeElf(program.build(n)));
      return path;
    };
    const smallN = Math.max(1, Math.ceil(opts.smallInstructions / perIteration));
    const ours = runToExit(program, smallN);
    if (ours.instructions !== count(smallN)) {
      throw new QemuRunError(
        `${program.id}: this machine ran ${ours.instructions} instructions, expected ${count(smallN)}`,
      );
    }
    const smallElf = elf(smallN);
    const timeSmall = () => {
      const q = runOnQemu(smallElf);
      if (q.checksum !== ours.checksum) {
        throw new QemuRunError(
          `${program.id}: QEMU's checksum ${q.checksum} differs from this machine's ${ours.checksum}`,
        );
      }
      return q.seconds;
    };
    // Find a big size that takes minDeltaSeconds longer, with single runs.
    let small = timeSmall();
    let bigN = Math.min(program.maxIterations, smallN * 64);
    let delta = runOnQemu(elf(bigN)).seconds - small;
    while (delta < opts.minDeltaSeconds && bigN < program.maxIterations) {
      // At most 8x a step: one run disturbed by load must not make the big size huge.
      const grow = Math.min(8, Math.max(2, (1.3 * opts.minDeltaSeconds) / Math.max(delta, 0.01)));
      bigN = Math.min(program.maxIterations, Math.ceil(bigN * grow));
      delta = runOnQemu(elf(bigN)).seconds - small;
    }
    // Then the best of `runs` of each, small and big alternating, so a change of load affects both.
    const bigElf = elf(bigN);
    let big = Number.POSITIVE_INFINITY;
    for (let i = 0; i < opts.runs; i++) {
      small = Math.min(small, timeSmall());
      big = Math.min(big, runOnQemu(bigElf).seconds);
    }
    const mips = (count(bigN) - count(smallN)) / (big - small) / 1e6;
    if (!(mips > 0) || !Number.isFinite(mips)) {
      throw new QemuRunError(`${program.id}: QEMU took no longer for ${bigN} iterations than for ${smallN}`);
    }
    return {
      id: program.id,
      mips,
      instructionsPerIteration: perIteration,
      small: { iterations: smallN, instructions: count(smallN), seconds: small },
      big: { iterations: bigN, instructions: count(bigN), seconds: big },
      runs: opts.runs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
