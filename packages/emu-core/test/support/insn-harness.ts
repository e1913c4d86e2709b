/**
 * A tiny M-mode test bench for instruction semantics: assemble a program
 * around a test body, run it on a fresh machine and hand back the machine
 * so a test can read registers, CSRs and memory.
 *
 * Layout: `_start` points mtvec at `trap_vector`, runs the body and tells
 * the SiFive test device "pass" (exit code 0). Any trap ends the run with
 * exit code TRAP_EXIT (the trap CSRs stay as the hart left them). The body
 * may use every register but t5/t6, which the epilogue and the trap vector
 * clobber.
 */
import { Assembler } from "../../src/asm/index.ts";
import type { Image } from "../../src/image.ts";
import { Machine, type MachineConfig, type RunResult } from "../../src/machine.ts";

export const RAM = 0x8000_0000;
export const TEST_DEVICE = 0x0010_0000;
/** Exit code of a run that took a trap. */
export const TRAP_EXIT = 0xee;

export interface Bench {
  m: Machine;
  r: RunResult;
  image: Image;
  /** Address of a label. */
  sym(name: string): number;
  /** A register as a signed 32-bit value. */
  reg(n: number): number;
  /** A RAM word, unsigned. */
  word(addr: number): number;
  /** A RAM byte. */
  byte(addr: number): number;
}

export interface BenchOptions {
  /** Emits .data contents (the body can `la` their labels). */
  data?: (a: Assembler) => void;
  maxInstructions?: number;
  /** Machine configuration beyond the bench's 1 MiB of RAM. */
  machine?: Partial<MachineConfig>;
}

/** Emit the SiFive test device "pass" sequence (clobbers t5, t6). */
export function pass(a: Assembler): Assembler {
  return a.li("t6", TEST_DEVICE).li("t5", 0x5555).sw("t5", 0, "t6").j(0);
}

export function assembleBench(body: (a: Assembler) => void, opts: BenchOptions = {}): Image {
  const a = new Assembler({ text: RAM });
  a.label("_start");
  a.la("t6", "trap_vector").csrw("mtvec", "t6");
  body(a);
  pass(a);
  a.align(4);
  a.label("trap_vector");
  a.li("t6", TEST_DEVICE)
    .li("t5", 0x3333 | (TRAP_EXIT << 16))
    .sw("t5", 0, "t6")
    .j(0);
  a.section(".data");
  a.label("data_start");
  opts.data?.(a);
  return a.assemble();
}

export function benchOf(
  image: Image,
  maxInstructions = 100_000,
  machine: Partial<MachineConfig> = {},
): Bench {
  const m = new Machine({ ramSize: 1 << 20, ...machine });
  m.load(image);
  const r = m.run({ maxInstructions });
  const h = m.hart;
  return {
    m,
    r,
    image,
    sym(name) {
      const v = image.symbols[name];
      if (v === undefined) throw new Error(`no symbol ${name}`);
      return v;
    },
    reg: (n) => h.x[n],
    word: (addr) => h.readPhys(addr, 4) ?? Number.NaN,
    byte: (addr) => h.readPhys(addr, 1) ?? Number.NaN,
  };
}

/** Assemble and run; fails loudly when the program neither passed nor trapped. */
export function runBench(body: (a: Assembler) => void, opts: BenchOptions = {}): Bench {
  const b = benchOf(assembleBench(body, opts), opts.maxInstructions, opts.machine);
  if (b.r.reason !== "exit") throw new Error(`program did not finish: ${b.r.reason}`);
  return b;
}

/** Signed 32-bit view of a number (for comparing with Int32Array registers). */
export const i32 = (v: number | bigint): number =>
  typeof v === "bigint" ? Number(BigInt.asIntN(32, v)) : v | 0;
