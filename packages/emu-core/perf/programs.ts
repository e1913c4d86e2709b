/**
 * The guest programs the perf benchmarks run. Each boots in M-mode at the
 * RAM base and loops forever, so a benchmark can run any number of
 * instructions; the loops are small enough that their per-instruction cost is
 * the interpreter's, not the program's.
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

/** add/xor/shift/branch loop: integer work, no memory traffic. */
function computeLoop(a: Assembler): void {
  a.li("a0", 0).li("a1", 1).li("a2", 0x12345);
  a.label("loop");
  a.add("a0", "a0", "a1").xor("a3", "a0", "a2").slli("a4", "a3", 3).srli("a5", "a4", 2);
  a.sub("a1", "a5", "a0").andi("a1", "a1", 0xff).addi("a2", "a2", 1).j("loop");
}

/** Compute loop in M-mode, no translation. */
export function computeMachineMode(): Image {
  const a = new Assembler({ text: RAM });
  a.label("_start");
  computeLoop(a);
  return a.assemble();
}

/**
 * Builds Sv32 tables: a megapage identity map of RAM for the M-mode boot
 * code (not U), user code at USER_CODE and `dataPages` user data pages at
 * USER_DATA, then mrets into U-mode at the user entry.
 */
function pagedBoot(a: Assembler, dataPages: number): void {
  const pte = (pa: number, flags: number) => ((pa >>> 12) << 10) | flags;
  const V = 1;
  const R = 2;
  const W = 4;
  const X = 8;
  const U = 16;
  const A = 64;
  const D = 128;
  a.label("_start");
  // root[USER_CODE >> 22] -> L0 (code and data share one 4 MiB region below 8 MiB? keep them separate)
  a.li("t0", ROOT);
  a.li("t1", pte(L0, V));
  a.sw("t1", (USER_CODE >>> 22) * 4, "t0");
  a.li("t1", pte(L0 + 0x1000, V));
  a.sw("t1", (USER_DATA >>> 22) * 4, "t0");
  // user code page(s): map 4 pages of the image's user section
  a.la("t2", "user");
  a.li("t3", L0);
  for (let i = 0; i < 4; i++) {
    a.srli("t4", "t2", 12)
      .slli("t4", "t4", 10)
      .ori("t4", "t4", V | R | X | U | A);
    a.sw("t4", ((USER_CODE >>> 12) & 0x3ff) * 4 + i * 4, "t3");
    a.li("t5", 4096).add("t2", "t2", "t5");
  }
  // data pages: physical 0x8020_0000 + i * 4 KiB
  a.li("t3", L0 + 0x1000);
  a.li("t4", pte(0x8020_0000, V | R | W | U | A | D));
  a.li("t5", 1 << 10);
  a.li("t6", dataPages);
  a.label("map_data");
  a.sw("t4", 0, "t3").addi("t3", "t3", 4).add("t4", "t4", "t5").addi("t6", "t6", -1).bnez("t6", "map_data");
  a.li("t0", (1 << 31) | (ROOT >>> 12));
  a.csrw("satp", "t0");
  a.sfence_vma("zero", "zero");
  a.li("t0", USER_CODE).csrw("mepc", "t0");
  a.li("t0", 3 << 11).csrc("mstatus", "t0"); // MPP = U
  a.mret();
  a.align(4096);
  a.label("user");
}

/**
 * The mixed loop: mul, a load and a store into a 1 KiB array (256 words), xor
 * and shift, like the held-out loop of issue 14. `base` is the array's address.
 */
function mixedLoop(a: Assembler, base: number): void {
  a.li("s0", base).li("a0", 0).li("a1", 12345).li("a2", 0);
  a.label("mixed");
  a.andi("t0", "a2", 0x3fc).add("t0", "t0", "s0");
  a.lw("t1", 0, "t0").mul("t2", "t1", "a1").xor("a0", "a0", "t2").srli("t3", "a0", 7);
  a.add("t3", "t3", "a2").sw("t3", 0, "t0").addi("a2", "a2", 4).j("mixed");
}

/** Mixed ALU/mul/load/store loop in M-mode, no translation. */
export function mixedMachineMode(): Image {
  const a = new Assembler({ text: RAM });
  a.label("_start");
  mixedLoop(a, RAM + 0x20_0000);
  return a.assemble();
}

/** The same mixed loop in U-mode with Sv32 on: fetches, loads and stores all count as TLB lookups. */
export function mixedUserPaged(): Image {
  const a = new Assembler({ text: RAM });
  pagedBoot(a, 1);
  mixedLoop(a, USER_DATA);
  return a.assemble();
}

/** Compute loop in U-mode with Sv32 on: every fetch goes through the TLB. */
export function computeUserPaged(): Image {
  const a = new Assembler({ text: RAM });
  pagedBoot(a, 1);
  computeLoop(a);
  return a.assemble();
}

/**
 * U-mode loop that loads one word from each of `pages` data pages in turn,
 * so with pages > TLB entries every load misses the TLB and walks.
 */
export function memoryTouchPaged(pages: number): Image {
  const a = new Assembler({ text: RAM });
  pagedBoot(a, pages);
  a.label("outer");
  a.li("a0", USER_DATA).li("a1", pages);
  a.label("touch");
  a.lw("a2", 0, "a0").add("a3", "a3", "a2").sw("a3", 4, "a0");
  a.li("t0", 4096).add("a0", "a0", "t0").addi("a1", "a1", -1).bnez("a1", "touch");
  a.j("outer");
  return a.assemble();
}

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
