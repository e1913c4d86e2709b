/**
 * Guests for the engine differential test: each stresses what a block
 * translator could get wrong — code rewritten while (or right before) it
 * runs, traps and interrupts in the middle of straight-line code, misaligned
 * accesses, region-of-interest marks — and leaves what it saw in registers,
 * RAM and the console, where the test compares it.
 */
import { Assembler, encode } from "../../src/asm/index.ts";
import { writeElf } from "../../src/elf.ts";
import type { Image } from "../../src/image.ts";
import type { Machine } from "../../src/machine.ts";
import { xorshift32 } from "../../src/xorshift.ts";
import { A, bootStub, D, PAGE, PageTables, R, U, V, W, X } from "./mmu-harness.ts";

const UART = 0x1000_0000;
const TEST_DEVICE = 0x0010_0000;
const MTIMECMP = 0x0200_4000;
const MTIME = 0x0200_bff8;
const PMPCFG0 = 0x3a0;
const PMPADDR0 = 0x3b0;

/** `puthex`: a0 as eight hex digits and a newline on the UART (clobbers t0-t2, a0, a1). */
function emitPutHex(a: Assembler): void {
  a.label("puthex");
  a.li("t0", UART).li("a1", 8);
  a.label("puthex_digit");
  a.srli("t1", "a0", 28).slli("a0", "a0", 4).li("t2", 10);
  a.blt("t1", "t2", "puthex_dec");
  a.addi("t1", "t1", 0x61 - 10 - 0x30);
  a.label("puthex_dec");
  a.addi("t1", "t1", 0x30).sb("t1", 0, "t0");
  a.addi("a1", "a1", -1).bnez("a1", "puthex_digit");
  a.li("t1", 10).sb("t1", 0, "t0");
  a.ret();
}

function emitPowerOff(a: Assembler): void {
  a.li("t0", TEST_DEVICE).li("t1", 0x5555).sw("t1", 0, "t0");
  a.label("spin").j("spin");
}

/**
 * Self-modifying code in M-mode, translation off: an instruction of a loop
 * that has already run `iterations / 2` times is rewritten by a store inside
 * the loop (then fence.i), the instruction right after a store is rewritten
 * by that store (no fence.i: the hart sees its own stores in program order),
 * and a loop is rewritten on every pass. Prints the accumulator.
 */
export function smcGuest(iterations: number): Image {
  const a = new Assembler({ text: 0x8000_0000 });
  a.label("_start");
  a.li("s0", 0).li("s1", iterations).la("s2", "patch");
  a.li("s3", encode("addi", ["s0", "s0", 3]));
  a.li("s4", iterations >> 1);
  a.label("loop");
  a.label("patch").addi("s0", "s0", 1);
  a.xor("s5", "s5", "s0").slli("s6", "s0", 3).add("s5", "s5", "s6");
  a.addi("s1", "s1", -1);
  a.bne("s1", "s4", "skip");
  a.sw("s3", 0, "s2").fence_i();
  a.label("skip");
  a.bnez("s1", "loop");
  // The store rewrites the very next instruction.
  a.la("t1", "next").li("t2", encode("addi", ["s0", "s0", 100]));
  a.sw("t2", 0, "t1");
  a.label("next").addi("s0", "s0", 7);
  // Every pass rewrites its own body's immediate: addi s0, s0, k with k = the pass number.
  a.li("s1", 64)
    .la("s2", "rewritten")
    .li("s7", encode("addi", ["s0", "s0", 0]));
  a.label("loop2");
  a.slli("t1", "s1", 20).or("t1", "t1", "s7").sw("t1", 0, "s2");
  a.label("rewritten").addi("s0", "s0", 0);
  a.addi("s1", "s1", -1).bnez("s1", "loop2");
  // And a rewritten branch: the loop's exit test turns into a jump out after 10 passes.
  a.li("s1", 0)
    .la("s2", "exit_test")
    .li("s8", encode("jal", ["zero", 8]));
  a.label("loop3");
  a.addi("s1", "s1", 1).addi("s0", "s0", 5);
  a.li("t1", 10).bne("s1", "t1", "keep");
  a.sw("s8", 0, "s2");
  a.label("keep");
  a.label("exit_test").j("loop3");
  a.nop();
  a.mv("a0", "s0").call("puthex");
  a.mv("a0", "s5").call("puthex");
  emitPowerOff(a);
  emitPutHex(a);
  return a.assemble();
}

/**
 * Traps and interrupts in every privilege: M waits in WFI for five timer
 * deadlines (mie.MTIE set, mstatus.MIE clear: WFI wakes without a trap),
 * then enters S, which enters U. U runs `rounds` passes of ecall and ebreak
 * (delegated to S), an illegal instruction, a load from no device, a CSR
 * access U may not make (all to M), and misaligned loads and stores (one
 * across a page), while the machine timer interrupts it every few dozen
 * ticks (the M handler sums the interrupted pcs). The final ecall with a7 = 1
 * has S print the counts and power off.
 */
export function trapGuest(rounds: number): Image {
  const a = new Assembler({ text: 0x8000_0000 });
  a.label("_start");
  a.li("t0", -1).csrw(PMPADDR0, "t0").li("t0", 0x1f).csrw(PMPCFG0, "t0");
  a.la("t0", "mtrap").csrw("mtvec", "t0");
  a.la("t0", "strap").csrw("stvec", "t0");
  a.li("t0", (1 << 3) | (1 << 8)).csrw("medeleg", "t0");
  a.li("t0", 1 << 7).csrw("mie", "t0");
  a.li("s5", 5);
  a.label("wfi_loop");
  a.li("t0", MTIME).lw("t1", 0, "t0").addi("t1", "t1", 17);
  a.li("t0", MTIMECMP).sw("t1", 0, "t0").sw("zero", 4, "t0");
  a.wfi();
  a.addi("s5", "s5", -1).bnez("s5", "wfi_loop");
  // First deadline for the run in S and U.
  a.li("t0", MTIME).lw("t1", 0, "t0").addi("t1", "t1", 23);
  a.li("t0", MTIMECMP).sw("t1", 0, "t0");
  a.la("t0", "sbody").csrw("mepc", "t0");
  a.li("t0", 3 << 11)
    .csrc("mstatus", "t0")
    .li("t0", 1 << 11)
    .csrs("mstatus", "t0");
  a.mret();

  // M handler: exceptions counted by cause and skipped; timer interrupts summed and re-armed.
  a.align(4).label("mtrap");
  a.csrr("t5", "mcause").bltz("t5", "mirq");
  a.la("t6", "mcounts").slli("t5", "t5", 2).add("t6", "t6", "t5");
  a.lw("t5", 0, "t6").addi("t5", "t5", 1).sw("t5", 0, "t6");
  a.csrr("t5", "mepc").addi("t5", "t5", 4).csrw("mepc", "t5");
  a.mret();
  a.label("mirq");
  a.la("t6", "ticks").lw("t5", 0, "t6").addi("t5", "t5", 1).sw("t5", 0, "t6");
  a.csrr("t5", "mepc").addi("t6", "t6", 4).amoadd_w("zero", "t5", "t6");
  a.li("t6", MTIMECMP).lw("t5", 0, "t6").addi("t5", "t5", 29).sw("t5", 0, "t6");
  a.mret();

  // S handler: ecall and ebreak from U counted in s0 and skipped; ecall with a7 = 1 ends the run.
  a.align(4).label("strap");
  a.li("t0", 1).beq("a7", "t0", "finish");
  a.csrr("t0", "scause").add("s0", "s0", "t0");
  a.csrr("t0", "sepc").addi("t0", "t0", 4).csrw("sepc", "t0");
  a.sret();
  a.label("finish");
  a.mv("a0", "s0").call("puthex");
  a.la("s6", "mcounts")
    .lw("a0", 4 * 2, "s6")
    .call("puthex");
  a.lw("a0", 4 * 4, "s6").call("puthex");
  a.lw("a0", 4 * 5, "s6").call("puthex");
  a.lw("a0", 4 * 6, "s6").call("puthex");
  a.la("s6", "ticks").lw("a0", 0, "s6").call("puthex");
  a.lw("a0", 4, "s6").call("puthex");
  emitPowerOff(a);

  a.label("sbody");
  a.la("t0", "ubody").csrw("sepc", "t0");
  a.li("t0", 1 << 8).csrc("sstatus", "t0");
  a.sret();

  a.label("ubody");
  a.li("s0", 0).li("s1", rounds).li("a7", 0).la("s2", "buffer").addi("s4", "s2", 2047);
  a.label("uloop");
  a.ecall().ebreak();
  a.word(0); // illegal
  a.lw("t3", 0, "zero"); // no device at 0: load access fault
  a.csrr("t3", "mstatus"); // illegal from U
  a.lw("t3", 1, "s2").add("s3", "s3", "t3");
  a.sh("s3", 3, "s2").lhu("t4", 5, "s2").xor("s3", "s3", "t4");
  a.sw("s3", 2047, "s4").lw("t4", 2047, "s4").add("s3", "s3", "t4"); // buffer + 4094: across a page
  a.addi("s1", "s1", -1).bnez("s1", "uloop");
  a.li("a7", 1).ecall();
  emitPutHex(a);

  a.section(".data").align(4096);
  a.label("mcounts").word(...new Array(16).fill(0));
  a.label("ticks").word(0, 0);
  a.align(4096)
    .label("buffer")
    .word(...new Array(2048).fill(0x5a5a_1234));
  return a.assemble();
}

/**
 * `regions` regions of interest, each a loop of `10 * (i + 1)` passes with a
 * load and a store, its end mark carrying the pass count.
 */
export function roiGuest(regions: number): Image {
  const a = new Assembler({ text: 0x8000_0000 });
  a.label("_start");
  a.la("s2", "data").li("s3", 0);
  for (let i = 0; i < regions; i++) {
    a.li("a0", 0).li("s1", 10 * (i + 1));
    a.roiBegin();
    a.label(`region${i}`);
    a.lw("t0", 0, "s2").add("t0", "t0", "s1").sw("t0", 0, "s2").addi("a0", "a0", 1);
    a.addi("s1", "s1", -1).bnez("s1", `region${i}`);
    a.roiEnd("a0");
    a.add("s3", "s3", "a0");
  }
  a.mv("a0", "s3").call("puthex");
  emitPowerOff(a);
  emitPutHex(a);
  a.section(".data").align(4).label("data").word(0);
  return a.assemble();
}

const DANCE_TABLES = 0x8010_0000;
const DANCE_CODE_VA = 0x0040_0000;
const DANCE_CODE_PA = 0x8020_0000;
/** A writable alias of the code page. */
const DANCE_ALIAS_VA = 0x0050_0000;
const DANCE_DATA_VA = 0x0080_0000;
const DANCE_DATA_PA = 0x8030_0000;
const DANCE_PAGES = 6;

/**
 * Prepare `m` for a U-mode Sv32 guest whose loads and stores hop among six
 * data pages in a seeded order while its fetches stay on one code page: with
 * a TLB of a few entries, code and data entries keep taking the MRU position
 * from each other, so the fetch, load and store memos' recency updates
 * decide every later eviction. Halfway, the loop rewrites one of its own
 * instructions through a writable alias of the code page (then fence.i).
 * Ends with ecall (the boot stub powers off).
 */
export function prepareMemoDance(m: Machine, seed: number, passes: number): void {
  const pt = new PageTables(m.hart, DANCE_TABLES);
  pt.map(DANCE_CODE_VA, DANCE_CODE_PA, V | R | X | U | A);
  pt.map(DANCE_ALIAS_VA, DANCE_CODE_PA, V | R | W | U | A | D);
  for (let i = 0; i < DANCE_PAGES; i++) {
    // Every other page starts clean, so its first store walks again to set D.
    pt.map(DANCE_DATA_VA + i * PAGE, DANCE_DATA_PA + i * PAGE, V | R | W | U | A | (i % 2 ? 0 : D));
  }
  let s = seed >>> 0 || 1;
  const rnd = (n: number) => {
    s = xorshift32(s);
    return s % n;
  };
  const a = new Assembler({ text: DANCE_CODE_VA });
  a.li("s1", passes)
    .li("s3", passes >> 1)
    .li("s4", encode("addi", ["s2", "s2", 5]));
  a.label("pass");
  for (let i = 0; i < 40; i++) {
    const page = rnd(DANCE_PAGES);
    a.lui("t0", (DANCE_DATA_VA >>> 12) + page);
    const off = rnd(512) * 4;
    if (rnd(3) === 0) a.sw("s1", off, "t0");
    else a.lw("t1", off, "t0").add("s5", "s5", "t1");
  }
  a.label("patch").addi("s2", "s2", 1);
  a.addi("s1", "s1", -1);
  a.bne("s1", "s3", "same");
  a.li("t2", DANCE_ALIAS_VA)
    .la("t3", "patch")
    .li("t4", DANCE_CODE_VA)
    .sub("t3", "t3", "t4")
    .add("t2", "t2", "t3");
  a.sw("s4", 0, "t2").fence_i();
  a.label("same");
  a.beqz("s1", "done");
  a.j("pass");
  a.label("done").ecall();
  const image = a.assemble();
  for (const sec of image.sections) m.hart.loadBytes(DANCE_CODE_PA + (sec.addr - DANCE_CODE_VA), sec.bytes);
  bootStub(m, { satp: pt.satp(1), entry: DANCE_CODE_VA });
}

const TSELECT = 0x7a0;
const TDATA1 = 0x7a1;
const TDATA2 = 0x7a2;
const MCONTROL = 2 << 28;
const MCONTROL_U = 1 << 3;
const MCONTROL_EXECUTE = 1 << 2;
const MCONTROL_LOAD = 1 << 0;

/**
 * Sdtrig triggers armed on a loop that has already run many times: U-mode
 * runs `passes` passes (translation off) and calls M with ecall every eighth;
 * from the middle on, each call arms an execute trigger on an instruction in
 * the loop and a load trigger on the word the loop reads. A breakpoint
 * disarms the trigger that fired (by its mtval) and retries the instruction.
 * s5 counts execute hits, s6 load hits; both are printed at the end.
 */
export function triggerGuest(passes: number): Image {
  const a = new Assembler({ text: 0x8000_0000 });
  a.label("_start");
  a.li("t0", -1).csrw(PMPADDR0, "t0").li("t0", 0x1f).csrw(PMPCFG0, "t0");
  a.la("t0", "mtrap").csrw("mtvec", "t0");
  a.la("t0", "ucode").csrw("mepc", "t0");
  a.li("t0", 3 << 11).csrc("mstatus", "t0");
  a.mret();

  a.align(4).label("mtrap");
  a.csrr("t5", "mcause").li("t6", 3).beq("t5", "t6", "breakpoint");
  a.li("t6", 1).beq("a7", "t6", "finish");
  a.li("t6", passes >> 1).bgeu("s1", "t6", "return");
  a.li("t5", 0).csrw(TSELECT, "t5").la("t5", "hot").csrw(TDATA2, "t5");
  a.li("t5", MCONTROL | MCONTROL_U | MCONTROL_EXECUTE).csrw(TDATA1, "t5");
  a.li("t5", 1).csrw(TSELECT, "t5").la("t5", "word").csrw(TDATA2, "t5");
  a.li("t5", MCONTROL | MCONTROL_U | MCONTROL_LOAD).csrw(TDATA1, "t5");
  a.label("return");
  a.csrr("t5", "mepc").addi("t5", "t5", 4).csrw("mepc", "t5");
  a.mret();
  a.label("breakpoint");
  a.csrr("t5", "mtval").la("t6", "hot").bne("t5", "t6", "load_hit");
  a.addi("s5", "s5", 1).li("t5", 0).csrw(TSELECT, "t5");
  a.j("disarm");
  a.label("load_hit");
  a.addi("s6", "s6", 1).li("t5", 1).csrw(TSELECT, "t5");
  a.label("disarm");
  a.li("t5", MCONTROL).csrw(TDATA1, "t5");
  a.mret();
  a.label("finish");
  a.mv("a0", "s5").call("puthex");
  a.mv("a0", "s6").call("puthex");
  a.mv("a0", "s4").call("puthex");
  emitPowerOff(a);
  emitPutHex(a);

  a.label("ucode");
  a.li("s1", passes).li("a7", 0).la("s3", "word");
  a.label("pass");
  a.addi("s1", "s1", -1);
  a.label("hot").add("s2", "s2", "s1");
  a.lw("t3", 0, "s3").add("s4", "s4", "t3").xor("s4", "s4", "s2");
  a.andi("t0", "s1", 7).bnez("t0", "skip");
  a.ecall();
  a.label("skip");
  a.bnez("s1", "pass");
  a.li("a7", 1).ecall();
  a.section(".data").align(4).label("word").word(0x1234_5679);
  return a.assemble();
}

/**
 * An S-mode kernel for the QEMU boot protocol under our SBI firmware: it
 * arms the SBI timer, counts `ticks` supervisor timer interrupts (each
 * re-arming it through the firmware) while spinning, prints through the
 * legacy console call and powers off with SRST.
 */
export function sbiTimerKernel(ticks: number): Uint8Array {
  const a = new Assembler({ text: 0x8040_0000 });
  a.asm(`
_start:
    la    t0, s_trap
    csrw  stvec, t0
    li    t0, 32
    csrs  sie, t0
    csrsi sstatus, 2
    rdtime a0
    addi  a0, a0, 50
    li    a1, 0
    li    a6, 0
    li    a7, 0x54494d45
    ecall
    li    s1, 0
    li    s2, 0
spin:
    addi  s1, s1, 1
    li    t1, ${ticks}
    blt   s2, t1, spin
    li    a0, 111
    li    a7, 1
    ecall
    li    a0, 107
    li    a7, 1
    ecall
    li    a0, 0
    li    a1, 0
    li    a6, 0
    li    a7, 0x53525354
    ecall
hang:
    j     hang
s_trap:
    addi  s2, s2, 1
    rdtime a0
    addi  a0, a0, 37
    li    a1, 0
    li    a6, 0
    li    a7, 0x54494d45
    ecall
    sret
`);
  return writeElf(a.assemble());
}
