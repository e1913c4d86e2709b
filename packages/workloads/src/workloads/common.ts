/**
 * What every workload is: a name, a description, a zod schema of its
 * parameters (each with a default, bounds and a description), a generator from
 * parameters to the user program (assembled at USER.text and linked with the
 * guest kernel into one image), and a TypeScript reference model that predicts
 * the exit code of every process and so the final checksum.
 *
 * User programs keep all their state in registers (syscalls preserve every
 * register but a0, and a1 for wait), so they touch no memory but what the
 * workload is about. Exit codes fold the values a program computed with
 * FNV-1a steps (acc = (acc ^ v) * 16777619), the same the reference models do.
 */
import type { Assembler, Image, Reg } from "@shadowlab/emu-core";
import { z } from "zod";
import { checksumOf, DEFAULT_KERNEL, type KernelOptions, SYS } from "../kernel/abi.ts";
import { buildGuestImage } from "../kernel/index.ts";

/** Parameter values after validation: numbers, booleans and enum strings. */
export type ParamValue = number | boolean | string;
export type Params = Record<string, ParamValue>;

/** What a workload's reference model predicts. */
export interface Expected {
  /** Exit code of every process, in pid order (pid 1 first). */
  exitCodes: number[];
  /** checksumOf(exitCodes): the value of the final `checksum=0x........` line. */
  checksum: number;
  /** Bytes the user programs write to the console (through SYS.write), before the kernel's report. */
  userOutput: string;
  /** The kernel's final report: `pid <n> exit 0x........` per process, then `checksum=0x........`. */
  reportLines: string[];
  /** Every console line the run must end with: the user output's lines, then the report. */
  consoleLines: string[];
}

/** A user program: its code (assembled at USER.text; process 1 starts at its first instruction) and optional data. */
export interface UserProgram {
  user: (a: Assembler) => void;
  userData?: (a: Assembler) => void;
}

export interface Workload<P extends Params = Params> {
  readonly name: string;
  readonly description: string;
  /** Validates raw parameters (missing ones take their defaults); unknown keys are errors. */
  readonly schema: z.ZodType<P, unknown>;
  /** The user program for these parameters. */
  program(params: P): UserProgram;
  /** The kernel options these parameters ask for (asid, quantum, fork). */
  kernelOptions(params: P): KernelOptions;
  /**
   * Why the guest would refuse a machine with `asidBits` satp.ASID bits
   * (ASIDLEN), or undefined when it runs there: with `asid` the kernel gives
   * every process slot its own ASID and stops at boot (KERNEL_ERROR.asidBits)
   * when satp cannot hold them.
   */
  refuses(params: P, machine: { asidBits: number }): string | undefined;
  /** The bootable image: kernel + user program. `kernel` overrides the options derived from params. */
  build(params: P, kernel?: Partial<KernelOptions>): Image;
  /** The reference model. */
  expected(params: P): Expected;
  /**
   * Small parameter sets (over the defaults) that together exercise the
   * workload in a few hundred thousand instructions each: for conformance
   * tests, here and in the hypervisor.
   */
  readonly small: readonly Partial<P>[];
  /**
   * The parameter sets of the default benchmark suite (`quick`): each runs at
   * least 10^6 instructions in its region of interest, with enough operations
   * there to average over, and still runs in well under a second.
   */
  readonly quick: readonly Partial<P>[];
}

/** What a workload file provides; `defineWorkload` adds the rest. */
export interface WorkloadSpec<P extends Params> {
  name: string;
  description: string;
  schema: z.ZodType<P, unknown>;
  program(params: P): UserProgram;
  small: readonly Partial<P>[];
  /** The default suite's parameter sets (default: `small`). */
  quick?: readonly Partial<P>[];
  /** Exit codes in pid order, and the console bytes the user programs write (default none). */
  model(params: P): { exitCodes: number[]; userOutput?: string };
}

export function defineWorkload<P extends Params>(spec: WorkloadSpec<P>): Workload<P> {
  const kernelOptions = (params: P): KernelOptions => ({
    ...DEFAULT_KERNEL,
    asid: params.asid === true,
    ...(typeof params.quantum === "number" ? { quantum: params.quantum } : {}),
    ...(params.fork === "cow" || params.fork === "eager" ? { fork: params.fork } : {}),
  });
  return {
    name: spec.name,
    description: spec.description,
    schema: spec.schema,
    program: spec.program,
    small: spec.small,
    quick: spec.quick ?? spec.small,
    kernelOptions,
    refuses(params, machine) {
      const k = kernelOptions(params);
      if (!k.asid || 2 ** machine.asidBits - 1 >= k.maxProcs) return undefined;
      return `asid=true needs ASIDs for ${k.maxProcs} process slots (satp.ASID of at least ${Math.ceil(Math.log2(k.maxProcs + 1))} bits); the machine implements ${machine.asidBits}`;
    },
    build(params, kernel) {
      const program = spec.program(params);
      return buildGuestImage({ kernel: { ...kernelOptions(params), ...kernel }, ...program });
    },
    expected(params) {
      const { exitCodes, userOutput = "" } = spec.model(params);
      const codes = exitCodes.map((c) => c >>> 0);
      const checksum = checksumOf(codes);
      const reportLines = reportOf(codes);
      const userLines = userOutput === "" ? [] : userOutput.replace(/\n$/, "").split("\n");
      return {
        exitCodes: codes,
        checksum,
        userOutput,
        reportLines,
        consoleLines: [...userLines, ...reportLines],
      };
    },
  };
}

export const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0");

/** The kernel's final report for these exit codes (abi.ts). */
export function reportOf(exitCodes: readonly number[]): string[] {
  return [
    ...exitCodes.map((c, i) => `pid ${i + 1} exit 0x${hex8(c)}`),
    `checksum=0x${hex8(checksumOf(exitCodes))}`,
  ];
}

// ---- parameters ---------------------------------------------------------------------------------

/** An integer parameter with bounds, a default and a description. */
export function intParam(min: number, max: number, dflt: number, description: string) {
  return z.number().int().min(min).max(max).default(dflt).describe(description);
}

/** The `asid` parameter every workload has. */
export const asidParam = () =>
  z.boolean().default(false).describe("give each process its own ASID (kernel option asid)");

/** The `quantum` parameter (timer quantum in mtime ticks). */
export const quantumParam = (dflt: number) =>
  intParam(100, 10_000_000, dflt, "timer quantum in mtime ticks (kernel option quantum)");

// ---- the arithmetic the programs and the models share ------------------------------------------

export const FNV_BASIS = 0x811c9dc5;
export const FNV_PRIME = 16777619;
export const PAGE = 4096;

/** One FNV-1a step over a 32-bit word. */
export const fnv = (acc: number, v: number): number => Math.imul((acc ^ v) >>> 0, FNV_PRIME) >>> 0;

/** The linear congruential generator of compute and preempt. */
export const LCG_A = 1103515245;
export const LCG_C = 12345;

// ---- assembler helpers --------------------------------------------------------------------------

/** Registers the helpers rely on: s11 holds FNV_PRIME for the whole program. */
export const PRIME: Reg = "s11";

/** `a7 = n; ecall` */
export function sys(a: Assembler, n: number): void {
  a.li("a7", n);
  a.ecall();
}

/** exit(reg) */
export function exitWith(a: Assembler, reg: Reg): void {
  if (reg !== "a0") a.mv("a0", reg);
  sys(a, SYS.exit);
}

/**
 * Process 1 (its pid in `pidReg`) waits for its `children` and adds each one's
 * pid and exit code to the accumulator s4 — a sum, so the order children
 * exit in does not matter — then every process exits with s4. Uses s0, t0.
 */
export function reapChildrenAndExit(a: Assembler, pidReg: Reg, children: number): void {
  a.li("t0", 1);
  a.bne(pidReg, "t0", "leave");
  a.li("s0", children);
  a.label("reap");
  a.beqz("s0", "leave");
  sys(a, SYS.wait);
  a.add("s4", "s4", "a0");
  a.add("s4", "s4", "a1");
  a.addi("s0", "s0", -1);
  a.j("reap");
  a.label("leave");
  exitWith(a, "s4");
}

/** acc = (acc ^ v) * FNV_PRIME (needs PRIME loaded). */
export function fnvStep(a: Assembler, acc: Reg, v: Reg): void {
  a.xor(acc, acc, v);
  a.mul(acc, acc, PRIME);
}

// ---- regions of interest ------------------------------------------------------------------------

/**
 * The region of interest (emu-core's roi.begin/roi.end HINTs) of every
 * workload is its steady-state loop after warm-up: the first tenth of the
 * loop's passes (rounded down) warm up the TLB, the shadows and the caches,
 * the other nine tenths are measured. The passes are the same either way, so
 * exit codes and reference models do not depend on where the marks sit.
 */
export function warmupOf(passes: number): number {
  return Math.floor(passes / 10);
}

/** Holds the operation count the end mark declares (no program uses it otherwise). */
export const OPS: Reg = "s10";

/** `OPS = count`; a register holds 32 bits, so a larger count saturates at 2^32 - 1. */
export function loadOps(a: Assembler, count: number): void {
  a.li(OPS, Math.min(count, 0xffff_ffff) | 0);
}
/** Compared with the loop counter at the end of the warm-up passes. */
const WARM_END: Reg = "s9";

/**
 * `passes` passes of `body(tag)` with s0 counting down from `passes` to 1
 * (continuously, so a body may read it), the last `passes - warmupOf(passes)`
 * of them between the ROI marks, declaring `opsPerPass` operations each. The
 * body is emitted twice (warm-up, measured): `tag` keeps its labels apart; it
 * must preserve s0, s9 and s10. With `pidReg`, only process 1 marks.
 */
export function measuredLoop(
  a: Assembler,
  label: string,
  passes: number,
  body: (tag: string) => void,
  opts: { opsPerPass?: number; pidReg?: Reg } = {},
): void {
  const warm = warmupOf(passes);
  a.li("s0", passes);
  if (warm > 0) {
    a.li(WARM_END, passes - warm);
    a.label(`${label}_warmup`);
    body("_warmup");
    a.addi("s0", "s0", -1);
    a.bne("s0", WARM_END, `${label}_warmup`);
  }
  loadOps(a, (passes - warm) * (opts.opsPerPass ?? 1));
  roiMark(a, "begin", label, opts.pidReg);
  a.label(label);
  body("");
  a.addi("s0", "s0", -1);
  a.bnez("s0", label);
  roiMark(a, "end", label, opts.pidReg);
}

/** A ROI mark (the end declaring OPS), by process 1 only when `pidReg` is given. Uses t6. */
export function roiMark(a: Assembler, kind: "begin" | "end", label: string, pidReg?: Reg): void {
  const skip = `${label}_roi_${kind}_skip`;
  if (pidReg) {
    a.li("t6", 1);
    a.bne(pidReg, "t6", skip);
  }
  if (kind === "begin") a.roiBegin();
  else a.roiEnd(OPS);
  if (pidReg) a.label(skip);
}

/** Loads FNV_PRIME into PRIME; every program starts with it. */
export function prologue(a: Assembler): void {
  a.li(PRIME, FNV_PRIME);
}

/**
 * `x = x * LCG_A + LCG_C; acc = (acc ^ (x >>> 13)) + x` with the constants in
 * ka/kc (two registers the caller loaded) and t as scratch.
 */
export function lcgStep(a: Assembler, x: Reg, acc: Reg, ka: Reg, kc: Reg, t: Reg): void {
  a.mul(x, x, ka);
  a.add(x, x, kc);
  a.srli(t, x, 13);
  a.xor(acc, acc, t);
  a.add(acc, acc, x);
}

export function lcgModel(seed: number, iterations: number): number {
  let x = seed >>> 0;
  let acc = 0;
  for (let i = 0; i < iterations; i++) {
    x = (Math.imul(x, LCG_A) + LCG_C) >>> 0;
    acc = (((acc ^ (x >>> 13)) >>> 0) + x) >>> 0;
  }
  return acc;
}
