/**
 * The guest programs the perf benchmarks run, on this machine and on QEMU.
 *
 * Each program boots in M-mode at the RAM base (where QEMU `virt` with
 * `-bios none` starts a kernel), runs its loop a given number of times, folds
 * its registers and data into a checksum, and powers off: it prints the
 * checksum and minstret on the UART, then writes "pass" to the SiFive test
 * device, which stops this machine with reason "exit" and makes QEMU exit
 * with status 0. An unexpected trap writes "fail" with code
 * mcause + 1 instead, so neither machine can spin in a handler unnoticed.
 *
 * The instruction count is linear in the iteration count (no data-dependent
 * branch anywhere), so two counts taken on this machine give every other.
 * The loops are small enough that their per-instruction cost is the
 * emulator's, not the program's. Only the paged programs use U-mode, and they
 * set up everything they need themselves (page tables, satp, a PMP entry),
 * so they run on any RV32IMA hart with Sv32.
 */
import { Assembler } from "../src/asm/index.ts";
import type { Image } from "../src/image.ts";

const RAM = 0x8000_0000;
/** Where the Sv32 programs put their page tables (physical). */
const ROOT = 0x8010_0000;
const L0 = 0x8010_1000;
/** User code and data virtual addresses. */
const USER_CODE = 0x0040_0000;
const USER_DATA = 0x0080_0000;
/** The physical pages behind USER_DATA (and the M-mode programs' data). */
const DATA = 0x8020_0000;
/** QEMU virt's 16550 transmit register and SiFive test device (hw/riscv/virt.c memmap). */
const UART = 0x1000_0000;
const TEST = 0x0010_0000;
/** SiFive test device commands: pass = 0x5555, fail = 0x3333 | code << 16. */
const TEST_PASS = 0x5555;
const TEST_FAIL = 0x3333;

/** One benchmark program: the same image runs on this machine and on QEMU. */
export interface PerfProgram {
  /** Short key for tables, JSON and test names. */
  readonly id: string;
  readonly name: string;
  /** Sv32 on (the loop runs in U-mode through page tables). */
  readonly paging: boolean;
  /** The largest iteration count build() accepts. */
  readonly maxIterations: number;
  /** The program with its loop run `iterations` times before the checksum and power-off. */
  build(iterations: number): Image;
}

/**
 * M-mode set-up every program shares: a trap vector, and PMP entry 0 over the
 * whole address space with RWX, because with PMP implemented and no entry
 * matching, every S/U access fails (privileged spec 3.7.1) as it does on QEMU.
 * Writing the PMP registers is harmless on a hart that only stores them.
 */
const MACHINE_SETUP = `
_start:
    la    t0, m_trap
    csrw  mtvec, t0
    li    t0, -1
    csrw  pmpaddr0, t0
    li    t0, 0x1f                # NAPOT, R, W, X
    csrw  pmpcfg0, t0
`;

/**
 * The M-mode trap handler: an ecall (from U or M) is the program's end with
 * its checksum in a0; anything else powers off with "fail". The end prints
 * the checksum and minstret as read on entry, as "cccccccc iiiiiiii\n"
 * (minstret is exact here and on QEMU with -icount; without -icount QEMU
 * returns host ticks, which only the checksum comparison ignores).
 */
const TRAP_AND_FINISH = `
m_trap:
    csrr  a1, minstret
    csrr  t0, mcause
    li    t1, 8                   # ecall from U
    beq   t0, t1, finish
    li    t1, 11                  # ecall from M
    beq   t0, t1, finish
    andi  t0, t0, 0xff
    addi  t0, t0, 1
    slli  t0, t0, 16
    li    t1, ${TEST_FAIL}
    or    t1, t1, t0
    li    t0, ${TEST}
    sw    t1, 0(t0)
    j     spin
finish:
    jal   ra, print_hex
    li    t1, 32                  # ' '
    sb    t1, 0(t0)
    mv    a0, a1
    jal   ra, print_hex
    li    t1, 10                  # '\\n'
    sb    t1, 0(t0)
    li    t0, ${TEST}
    li    t1, ${TEST_PASS}
    sw    t1, 0(t0)
spin:
    j     spin
# a0 as eight hex digits on the UART; leaves t0 = the UART
print_hex:
    li    t0, ${UART}
    li    t3, 8
hex_digit:                        # branch-free, so the count does not depend on the checksum
    srli  t1, a0, 28
    slli  a0, a0, 4
    sltiu t2, t1, 10
    addi  t2, t2, -1              # digit > 9: all ones, else 0
    andi  t2, t2, 39              # 'a' - 10 - '0'
    add   t1, t1, t2
    addi  t1, t1, 48              # '0'
    sb    t1, 0(t0)
    addi  t3, t3, -1
    bnez  t3, hex_digit
    ret
`;

/**
 * Folds `regs` and then `words` words at `base` into a0 (rotate and combine),
 * then ecalls. Uses s2-s6; only absolute addresses (li), so it runs as well at
 * a user virtual address as in M-mode.
 */
function checksumAndExit(regs: readonly string[], base: number, words: number): string {
  const fold = regs
    .map((r) => `slli s2, a0, 5\n srli s3, a0, 27\n or a0, s2, s3\n xor a0, a0, ${r}`)
    .join("\n");
  if (words === 0) return `${fold}\n    ecall\n`;
  return `
    ${fold}
    li    s4, ${base}
    li    s5, ${words}
sum_words:
    lw    s2, 0(s4)
    slli  s3, a0, 7
    srli  s6, a0, 25
    or    a0, s3, s6
    add   a0, a0, s2
    addi  s4, s4, 4
    addi  s5, s5, -1
    bnez  s5, sum_words
    ecall
`;
}

/** Sv32 PTE for physical address `pa` (privileged spec 4.3.1). */
const pte = (pa: number, flags: number) => (((pa >>> 12) << 10) | flags) >>> 0;
const [V, R, W, X, U, A, D] = [1, 2, 4, 8, 16, 64, 128];

/**
 * Builds Sv32 tables: user code at USER_CODE (the four pages from the label
 * `user`) and `dataPages` user data pages at USER_DATA backed by DATA, then
 * turns translation on and mrets into U-mode at USER_CODE. M-mode itself
 * stays untranslated (satp does not apply to M).
 */
function pagedBoot(dataPages: number): string {
  const codeSlot = ((USER_CODE >>> 12) & 0x3ff) * 4;
  return `
    li    t0, ${ROOT}
    li    t1, ${pte(L0, V)}
    sw    t1, ${(USER_CODE >>> 22) * 4}(t0)
    li    t1, ${pte(L0 + 0x1000, V)}
    sw    t1, ${(USER_DATA >>> 22) * 4}(t0)
    la    t2, user
    li    t3, ${L0 + codeSlot}
    li    t6, 4
map_code:
    srli  t4, t2, 12
    slli  t4, t4, 10
    ori   t4, t4, ${V | R | X | U | A}
    sw    t4, 0(t3)
    addi  t3, t3, 4
    li    t5, 4096
    add   t2, t2, t5
    addi  t6, t6, -1
    bnez  t6, map_code
    li    t3, ${L0 + 0x1000}
    li    t4, ${pte(DATA, V | R | W | U | A | D)}
    li    t5, ${1 << 10}
    li    t6, ${dataPages}
map_data:
    sw    t4, 0(t3)
    addi  t3, t3, 4
    add   t4, t4, t5
    addi  t6, t6, -1
    bnez  t6, map_data
    li    t0, ${(2 ** 31 + (ROOT >>> 12)) >>> 0}
    csrw  satp, t0
    sfence.vma zero, zero
    li    t0, ${USER_CODE}
    csrw  mepc, t0
    li    t0, ${3 << 11}
    csrc  mstatus, t0             # MPP = U
    mret
`;
}

/** A program whose body (loop + checksum) runs in M-mode without translation, or in U-mode with Sv32 on. */
function assemble(paging: boolean, body: string, dataPages = 1): Image {
  const a = new Assembler({ text: RAM });
  a.asm(MACHINE_SETUP);
  if (paging) {
    a.asm(pagedBoot(dataPages));
    a.asm(TRAP_AND_FINISH);
    a.align(4096);
    a.label("user");
    a.asm(body);
  } else {
    a.asm(body);
    a.asm(TRAP_AND_FINISH);
  }
  return a.assemble();
}

function checkIterations(iterations: number, max: number): void {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > max) {
    throw new RangeError(`iterations must be an integer in 1..${max}, got ${iterations}`);
  }
}

/**
 * \`lui\` + \`addi\` of a loop bound: always two instructions (\`li\` takes one
 * for some values), so the instruction count stays linear in the bound.
 */
function loadCount(reg: string, value: number): string {
  const v = value >>> 0;
  const hi = ((v + 0x800) >>> 12) & 0xfffff;
  const lo = (v - hi * 4096) | 0;
  return `lui   ${reg}, ${hi}\n    addi  ${reg}, ${reg}, ${(lo << 20) >> 20}`;
}

/** add/xor/shift/branch: integer work, no memory traffic; 8 instructions per iteration. */
function computeLoop(iterations: number): string {
  return `
    li    a0, 0
    li    a1, 1
    li    a2, 0x12345
    ${loadCount("s1", 0x12345 + iterations)}
compute:
    add   a0, a0, a1
    xor   a3, a0, a2
    slli  a4, a3, 3
    srli  a5, a4, 2
    sub   a1, a5, a0
    andi  a1, a1, 0xff
    addi  a2, a2, 1
    bne   a2, s1, compute
${checksumAndExit(["a1", "a2", "a3", "a4", "a5"], 0, 0)}
`;
}

/**
 * The mixed loop: mul, a load and a store into a 1 KiB array (256 words),
 * xor and shift, like the held-out loop of issue 14; 10 instructions per
 * iteration. `base` is the array's address.
 */
function mixedLoop(base: number, iterations: number): string {
  return `
    li    s0, ${base}
    li    a0, 0
    li    a1, 12345
    li    a2, 0
    ${loadCount("s1", iterations * 4)}
mixed:
    andi  t0, a2, 0x3fc
    add   t0, t0, s0
    lw    t1, 0(t0)
    mul   t2, t1, a1
    xor   a0, a0, t2
    srli  t3, a0, 7
    add   t3, t3, a2
    sw    t3, 0(t0)
    addi  a2, a2, 4
    bne   a2, s1, mixed
${checksumAndExit(["a2", "t1", "t2", "t3"], base, 256)}
`;
}

/**
 * Loads and stores one word in each of `pages` data pages in turn (7
 * instructions per page); one iteration visits every page. With more pages
 * than TLB entries every page visit misses the TLB and walks.
 */
function touchLoop(pages: number, iterations: number): string {
  return `
    li    a3, 1
    ${loadCount("s1", iterations)}
touch_pass:
    li    a0, ${USER_DATA}
    li    a1, ${pages}
touch:
    lw    a2, 0(a0)
    add   a3, a3, a2
    sw    a3, 0(a0)
    li    t0, 4096
    add   a0, a0, t0
    addi  a1, a1, -1
    bnez  a1, touch
    addi  s1, s1, -1
    bnez  s1, touch_pass
${checksumAndExit(["a3"], USER_DATA, 1)}
`;
}

function program(
  id: string,
  name: string,
  paging: boolean,
  maxIterations: number,
  body: (iterations: number) => string,
  dataPages = 1,
): PerfProgram {
  return {
    id,
    name,
    paging,
    maxIterations,
    build(iterations: number): Image {
      checkIterations(iterations, maxIterations);
      return assemble(paging, body(iterations), dataPages);
    },
  };
}

const COMPUTE_MAX = 2 ** 31;
/** The mixed loop's counter steps by 4 and ends on equality: 4 · iterations stays below 2^32. */
const MIXED_MAX = 2 ** 30 - 1;
/** Pages the TLB-miss program touches: four times the default 64-entry TLB. */
export const TOUCH_PAGES = 256;

export const computeMachineMode = program(
  "compute",
  "compute, M-mode, no paging",
  false,
  COMPUTE_MAX,
  computeLoop,
);
export const computeUserPaged = program(
  "compute-sv32",
  "compute, U-mode, Sv32",
  true,
  COMPUTE_MAX,
  computeLoop,
);
export const mixedMachineMode = program(
  "mixed",
  "mixed alu/mul/ld/st, M-mode, no paging",
  false,
  MIXED_MAX,
  (n) => mixedLoop(DATA, n),
);
export const mixedUserPaged = program(
  "mixed-sv32",
  "mixed alu/mul/ld/st, U-mode, Sv32",
  true,
  MIXED_MAX,
  (n) => mixedLoop(USER_DATA, n),
);
export const memoryTouchPaged = program(
  "tlb-miss-sv32",
  `memory touch, U-mode, Sv32, ${TOUCH_PAGES} pages (TLB misses)`,
  true,
  2 ** 31,
  (n) => touchLoop(TOUCH_PAGES, n),
  TOUCH_PAGES,
);

/** Every perf program, in the order the tables list them. */
export const PERF_PROGRAMS: readonly PerfProgram[] = [
  computeMachineMode,
  computeUserPaged,
  mixedMachineMode,
  mixedUserPaged,
  memoryTouchPaged,
];

/** One word stored into each of `pages` consecutive RAM pages from 1 MiB in, then WFI (nothing enabled: the run ends). */
export function writePages(pages: number): Image {
  const a = new Assembler({ text: RAM });
  a.label("_start");
  a.li("t0", RAM + 0x10_0000)
    .li("t1", pages)
    .li("t2", 4096);
  a.label("loop");
  a.sw("t1", 0, "t0").add("t0", "t0", "t2").addi("t1", "t1", -1).bnez("t1", "loop");
  a.wfi();
  a.label("spin").j("spin");
  return a.assemble();
}
