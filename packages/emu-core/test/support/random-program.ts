/**
 * Random RV32IM bare-metal programs in GNU assembler syntax, for comparing
 * the machine with QEMU's `virt` board on images that GNU ld links the
 * usual way (`gcc -nostdlib -nostartfiles -Wl,-Ttext=0x80000000`, whose
 * first PT_LOAD holds the ELF headers one page below RAM).
 *
 * A program sets every register it uses from the seed, runs straight-line
 * arithmetic, multiplies and divides (edge operands included), aligned and
 * misaligned loads and stores into a .data buffer and forward branches,
 * then folds the registers and the buffer into a checksum, prints it as
 * eight hex digits and a newline on the NS16550A UART at 0x1000_0000, and
 * powers off through the SiFive test device at 0x0010_0000 (0x5555).
 * Deterministic: the same seed gives the same text.
 */

import { xorshift32 } from "../../src/xorshift.ts";

/** xorshift32: a small, seedable generator (Marsaglia 2003). */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    this.s = xorshift32(this.s);
    return this.s;
  }
  below(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)];
  }
}

/** Registers the random body may write: everything but zero, ra, sp, gp, tp and s0 (the buffer base). */
const REGS = [
  "t0", "t1", "t2", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
  "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
] as const; // biome-ignore format: one register list

const RR = ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and"] as const;
const MD = ["mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"] as const;
const RI = ["addi", "slti", "sltiu", "xori", "ori", "andi"] as const;
const SH = ["slli", "srli", "srai"] as const;
const BR = ["beq", "bne", "blt", "bge", "bltu", "bgeu"] as const;
const LOADS: ReadonlyArray<[string, number]> = [
  ["lb", 1],
  ["lbu", 1],
  ["lh", 2],
  ["lhu", 2],
  ["lw", 4],
];
const STORES: ReadonlyArray<[string, number]> = [
  ["sb", 1],
  ["sh", 2],
  ["sw", 4],
];
/** Operands that exercise the corners of M (overflow, division by zero, sign). */
const EDGES = [0, 1, -1, 0x7fffffff, -0x80000000, 2, -2, 0x10000];
const BUFFER_BYTES = 256;

const hex = (v: number) => `0x${(v >>> 0).toString(16)}`;

function immediate(rng: Rng): number {
  return rng.below(4096) - 2048;
}

function instruction(rng: Rng, out: string[], misaligned: boolean): void {
  const rd = rng.pick(REGS);
  const rs1 = rng.pick(REGS);
  const rs2 = rng.pick(REGS);
  const kind = rng.below(100);
  if (kind < 30) out.push(`  ${rng.pick(RR)} ${rd}, ${rs1}, ${rs2}`);
  else if (kind < 45) out.push(`  ${rng.pick(MD)} ${rd}, ${rs1}, ${rs2}`);
  else if (kind < 60) out.push(`  ${rng.pick(RI)} ${rd}, ${rs1}, ${immediate(rng)}`);
  else if (kind < 67) out.push(`  ${rng.pick(SH)} ${rd}, ${rs1}, ${rng.below(32)}`);
  else if (kind < 70) out.push(`  lui ${rd}, ${rng.below(1 << 20)}`);
  else if (kind < 73) out.push(`  li ${rd}, ${rng.pick(EDGES)}`);
  else if (kind < 85) {
    const [op, width] = rng.pick(LOADS);
    out.push(`  ${op} ${rd}, ${offset(rng, width, misaligned)}(s0)`);
  } else if (kind < 95) {
    const [op, width] = rng.pick(STORES);
    out.push(`  ${op} ${rs2}, ${offset(rng, width, misaligned)}(s0)`);
  } else {
    // A forward branch over one to three instructions.
    const label = `skip_${out.length}`;
    out.push(`  ${rng.pick(BR)} ${rs1}, ${rs2}, ${label}`);
    for (let i = rng.below(3) + 1; i > 0; i--) out.push(`  ${rng.pick(RR)} ${rd}, ${rs1}, ${rs2}`);
    out.push(`${label}:`);
  }
}

/** An offset into the buffer: aligned for the width, or anywhere when misaligned accesses are wanted. */
function offset(rng: Rng, width: number, misaligned: boolean): number {
  const off = rng.below(BUFFER_BYTES - 4);
  return misaligned && rng.below(4) === 0 ? off : off & ~(width - 1);
}

/** The shared tail: fold registers and buffer into a0, print it in hex, power off. */
function epilogue(): string[] {
  // t0 and t1 are the rotation's temporaries: fold them in first.
  const rest = REGS.filter((r) => r !== "a0" && r !== "t0" && r !== "t1");
  const fold = rest.flatMap((r) => [
    "  slli t0, a0, 5",
    "  srli t1, a0, 27",
    "  or a0, t0, t1",
    `  xor a0, a0, ${r}`,
  ]);
  return [
    "  # checksum: rotate-xor every register, then every buffer word",
    "  xor a0, a0, t0",
    "  add a0, a0, t1",
    ...fold,
    "  la t2, buffer",
    `  li t3, ${BUFFER_BYTES / 4}`,
    "1:",
    "  lw t1, 0(t2)",
    "  slli t0, a0, 7",
    "  srli t4, a0, 25",
    "  or a0, t0, t4",
    "  add a0, a0, t1",
    "  addi t2, t2, 4",
    "  addi t3, t3, -1",
    "  bnez t3, 1b",
    "  # print a0 as eight hex digits and a newline",
    "  li t0, 0x10000000",
    "  li t3, 8",
    "2:",
    "  srli t1, a0, 28",
    "  slli a0, a0, 4",
    "  li t2, 10",
    "  blt t1, t2, 3f",
    "  addi t1, t1, 'a' - 10 - '0'",
    "3:",
    "  addi t1, t1, '0'",
    "  sb t1, 0(t0)",
    "  addi t3, t3, -1",
    "  bnez t3, 2b",
    "  li t1, '\\n'",
    "  sb t1, 0(t0)",
    "  # power off: SiFive test device, pass",
    "  li t0, 0x100000",
    "  li t1, 0x5555",
    "  sw t1, 0(t0)",
    "4:",
    "  j 4b",
  ];
}

export interface RandomProgramOptions {
  /** Random instructions in the body (default 200). */
  length?: number;
  /** Include misaligned loads and stores (default true). */
  misaligned?: boolean;
}

/** A random program's assembly source for a seed. */
export function randomProgram(seed: number, opts: RandomProgramOptions = {}): string {
  const rng = new Rng(seed);
  const body: string[] = [];
  const n = opts.length ?? 200;
  while (body.length < n) instruction(rng, body, opts.misaligned ?? true);
  const init = REGS.map((r) => `  li ${r}, ${hex(rng.below(4) === 0 ? rng.pick(EDGES) : rng.next())}`);
  const data = Array.from({ length: BUFFER_BYTES / 4 }, () => `  .word ${hex(rng.next())}`);
  return [
    `# random RV32IM program, seed ${seed}`,
    "  .text",
    "  .globl _start",
    "_start:",
    "  la s0, buffer",
    ...init,
    ...body,
    ...epilogue(),
    "  .data",
    "  .balign 4",
    "buffer:",
    ...data,
    "",
  ].join("\n");
}

/**
 * A loop benchmark: nested loops of multiplies, divides and memory traffic
 * over a .bss array, about a million instructions, printing its checksum
 * the same way.
 */
export function loopBenchmark(): string {
  return [
    "# loop benchmark: nested loops over a .bss array",
    "  .text",
    "  .globl _start",
    "_start:",
    "  la s0, table",
    "  li a0, 0",
    "  li s1, 0", // i
    "  li s2, 200",
    "outer:",
    "  li s3, 0", // j
    "inner:",
    "  mul t0, s1, s3",
    "  addi t1, s3, 7",
    "  remu t2, t0, t1",
    "  andi t3, s3, 63",
    "  slli t3, t3, 2",
    "  add t3, t3, s0",
    "  lw t4, 0(t3)",
    "  add t4, t4, t2",
    "  xor t4, t4, s1",
    "  sw t4, 0(t3)",
    "  add a0, a0, t4",
    "  addi s3, s3, 1",
    "  blt s3, s2, inner",
    "  addi s1, s1, 1",
    "  blt s1, s2, outer",
    "  la t2, table",
    "  li t3, 64",
    "1:",
    "  lw t1, 0(t2)",
    "  add a0, a0, t1",
    "  addi t2, t2, 4",
    "  addi t3, t3, -1",
    "  bnez t3, 1b",
    ...epilogue().slice(epilogue().indexOf("  # print a0 as eight hex digits and a newline")),
    "  .bss",
    "  .balign 4",
    "table:",
    "  .space 256",
    "",
  ].join("\n");
}
