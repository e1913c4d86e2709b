/**
 * Guests for the checkpoint tests, written with the assembler.
 *
 * `busyGuest` exercises every kind of state a checkpoint must carry: U-mode
 * under Sv32 with page-table entries whose A and D bits the walker sets, a
 * data working set larger than a small TLB (evictions, random replacement),
 * loads, stores and AMOs, LR/SC, machine timer interrupts taken by an M-mode
 * handler that reprograms the CLINT, UART output, and an exit through the
 * SiFive test device.
 *
 * `pageWriter` writes one word to each of `pages` distinct RAM pages in
 * M-mode (no translation, so nothing else is written) and stops in WFI.
 */
import { Assembler } from "../../src/asm/index.ts";
import type { Image } from "../../src/image.ts";

const ROOT = 0x8010_0000;
const L0_CODE = 0x8010_1000;
const L0_DATA = 0x8010_2000;
const DATA_PA = 0x8020_0000;
const TICKS = 0x8030_0000;
const USER_CODE = 0x0040_0000;
const USER_DATA = 0x0080_0000;
const UART = 0x1000_0000;
const TEST_DEV = 0x0010_0000;
const MTIMECMP = 0x0200_4000;

const V = 1;
const R = 2;
const W = 4;
const X = 8;
const U = 16;
const pte = (pa: number, flags: number) => (((pa >>> 12) << 10) | flags) >>> 0;

/** `rounds` passes over `pages` data pages; a timer interrupt every `period` ticks. */
export function busyGuest(pages: number, rounds: number, period = 37): Image {
  const a = new Assembler({ text: 0x8000_0000 });
  a.label("_start");
  a.li("t0", ROOT);
  a.li("t1", pte(L0_CODE, V)).sw("t1", (USER_CODE >>> 22) * 4, "t0");
  a.li("t1", pte(L0_DATA, V)).sw("t1", (USER_DATA >>> 22) * 4, "t0");
  // Device megapages (A and D clear: the walker sets them).
  a.li("t1", pte(UART, V | R | W | U)).sw("t1", (UART >>> 22) * 4, "t0");
  a.li("t1", pte(0, V | R | W | U)).sw("t1", (TEST_DEV >>> 22) * 4, "t0");
  // Four code pages of the user section.
  a.la("t2", "user").li("t3", L0_CODE);
  for (let i = 0; i < 4; i++) {
    a.srli("t4", "t2", 12)
      .slli("t4", "t4", 10)
      .ori("t4", "t4", V | R | X | U);
    a.sw("t4", ((USER_CODE >>> 12) & 0x3ff) * 4 + i * 4, "t3");
    a.li("t5", 4096).add("t2", "t2", "t5");
  }
  // Data pages without A/D.
  a.li("t3", L0_DATA)
    .li("t4", pte(DATA_PA, V | R | W | U))
    .li("t5", 1 << 10)
    .li("t6", pages);
  a.label("map");
  a.sw("t4", 0, "t3").addi("t3", "t3", 4).add("t4", "t4", "t5").addi("t6", "t6", -1).bnez("t6", "map");
  a.li("t0", (1 << 31) | (ROOT >>> 12))
    .csrw("satp", "t0")
    .sfence_vma();
  // Timer: handler at mtvec, MTIE on, first deadline `period` ticks away.
  a.la("t0", "handler").csrw("mtvec", "t0");
  a.li("t0", 1 << 7).csrw("mie", "t0");
  a.li("t0", MTIMECMP).li("t1", period).sw("t1", 0, "t0").sw("zero", 4, "t0");
  a.li("t0", USER_CODE).csrw("mepc", "t0");
  a.li("t0", 3 << 11).csrc("mstatus", "t0");
  a.mret();
  // M-mode timer handler: count the tick in RAM, push the deadline, return.
  a.label("handler");
  a.li("s10", TICKS).lw("s11", 0, "s10").addi("s11", "s11", 1).sw("s11", 0, "s10");
  a.li("s10", MTIMECMP).lw("s11", 0, "s10").addi("s11", "s11", period).sw("s11", 0, "s10");
  a.mret();
  a.align(4096);
  a.label("user");
  a.li("s0", rounds);
  a.label("outer");
  a.li("a0", USER_DATA).li("a1", pages);
  a.label("touch");
  a.lw("a2", 0, "a0").add("a3", "a3", "a2").addi("a3", "a3", 3).sw("a3", 4, "a0");
  a.amoadd_w("a4", "a3", "a0").xor("a3", "a3", "a4");
  a.addi("a5", "a0", 8).lr_w("a6", "a5").add("a6", "a6", "s0").sc_w("a7", "a6", "a5");
  a.li("t0", 4096).add("a0", "a0", "t0").addi("a1", "a1", -1).bnez("a1", "touch");
  a.li("t0", UART).add("t1", "a3", "s0").andi("t1", "t1", 15).addi("t1", "t1", 0x61).sb("t1", 0, "t0");
  a.addi("s0", "s0", -1).bnez("s0", "outer");
  a.li("t0", 10).li("t1", UART).sb("t0", 0, "t1");
  a.li("t0", TEST_DEV).li("t1", 0x5555).sw("t1", 0, "t0");
  a.label("spin").j("spin");
  return a.assemble();
}

/** One store into each of `pages` pages starting 1 MiB into RAM, then WFI with no interrupt enabled. */
export function pageWriter(pages: number, stride = 4096): Image {
  const a = new Assembler({ text: 0x8000_0000 });
  a.label("_start");
  a.li("t0", 0x8010_0000).li("t1", pages).li("t2", stride);
  a.label("loop");
  a.sw("t1", 0, "t0").add("t0", "t0", "t2").addi("t1", "t1", -1).bnez("t1", "loop");
  a.wfi();
  a.label("spin").j("spin");
  return a.assemble();
}

/** Prints `text` through the HTIF console (tohost, low half then high half) and exits through HTIF with `code` (a pending low half in between). */
export function htifGuest(text: string, code: number): Image {
  const a = new Assembler({ text: 0x8000_0000 });
  a.label("_start");
  a.la("t0", "tohost");
  for (const ch of text) {
    a.li("t1", ch.charCodeAt(0)).sw("t1", 0, "t0");
    a.li("t1", 0x0101_0000).sw("t1", 4, "t0");
  }
  // Exit as riscv-tests' write_tohost loop does: the low half alone, written twice.
  a.li("t1", (code << 1) | 1)
    .sw("t1", 0, "t0")
    .sw("t1", 0, "t0");
  a.label("spin").j("spin");
  a.section(".data").align(8).label("tohost").word(0, 0);
  return a.assemble();
}
