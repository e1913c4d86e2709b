/**
 * The official riscv-tests environments (env/p and env/v of
 * riscv-software-src/riscv-tests), rebuilt with our assembler so that
 * small test programs follow the same conventions:
 *
 * - `tohost`/`fromhost` are 64-bit words in a data area; pass writes 1 to
 *   tohost, fail writes (TESTNUM << 1) | 1; TESTNUM lives in gp (x3).
 * - RV32 writes the low word, then the high word (`sw TESTNUM, tohost` then
 *   `sw zero, tohost+4`), in a loop, as env/p's write_tohost does.
 * - env/p: a reset vector in M-mode (mhartid check, satp = 0, PMP entry 0
 *   NAPOT over everything with RWX, medeleg = mideleg = 0, mtvec =
 *   trap_vector), then mret into the test body in M, S or U; pass/fail is
 *   an ecall that the M-mode trap vector turns into a tohost write.
 * - env/v: Sv32 on, the body runs in U-mode at virtual addresses unlike its
 *   physical ones, ecalls and page faults are delegated to an S-mode handler
 *   that maps user data pages on demand and writes tohost through its own
 *   (virtual) kernel mapping.
 */
import { Assembler } from "../../src/asm/index.ts";
import type { Reg } from "../../src/asm/operands.ts";
import type { Image } from "../../src/image.ts";

export const TESTNUM: Reg = "gp";
export const RAM = 0x8000_0000;

type Op3 = (rd: string, rs1: string, rs2: string) => Assembler;
type OpImm = (rd: string, rs1: string, imm: number) => Assembler;

/** The riscv-tests test macros (isa/macros/scalar/test_macros.h) that the programs here use. */
export class TestMacros {
  constructor(readonly a: Assembler) {}

  /** TEST_CASE: run `code`, which leaves its result in x14 (a4), and compare with `expected`. */
  testCase(num: number, expected: number, code: (a: Assembler) => void): this {
    this.a.label(`test_${num}`).li(TESTNUM, num);
    code(this.a);
    this.a.li("t2", expected).bne("a4", "t2", "fail");
    return this;
  }

  /** TEST_RR_OP: a4 = op(v1, v2). */
  testRR(num: number, op: string, expected: number, v1: number, v2: number): this {
    return this.testCase(num, expected, (a) => {
      a.li("ra", v1).li("sp", v2);
      ((a as unknown as Record<string, Op3>)[op] as Op3).call(a, "a4", "ra", "sp");
    });
  }

  /** TEST_IMM_OP: a4 = op(v1, imm). */
  testImm(num: number, op: string, expected: number, v1: number, imm: number): this {
    return this.testCase(num, expected, (a) => {
      a.li("ra", v1);
      ((a as unknown as Record<string, OpImm>)[op] as OpImm).call(a, "a4", "ra", imm);
    });
  }

  /** TEST_PASSFAIL: `bne x0, TESTNUM, pass; fail: RVTEST_FAIL; pass: RVTEST_PASS`. */
  passFail(): this {
    this.a.bne("zero", TESTNUM, "pass");
    this.a.label("fail");
    rvtestFail(this.a);
    this.a.label("pass");
    rvtestPass(this.a);
    return this;
  }
}

/** RVTEST_PASS: fence; TESTNUM = 1; ecall with a7 = 93, a0 = 0. */
export function rvtestPass(a: Assembler): void {
  a.fence().li(TESTNUM, 1).li("a7", 93).li("a0", 0).ecall();
}

/** RVTEST_FAIL: TESTNUM = (TESTNUM << 1) | 1 (TESTNUM 0 would read as pass, so it spins); ecall. */
export function rvtestFail(a: Assembler): void {
  a.fence();
  a.label("fail_spin").beqz(TESTNUM, "fail_spin");
  a.slli(TESTNUM, TESTNUM, 1).ori(TESTNUM, TESTNUM, 1).li("a7", 93).mv("a0", TESTNUM).ecall();
}

/** The .tohost-like data area: two 64-bit words, 64-byte aligned. */
function tohostArea(a: Assembler): void {
  a.section(".data").align(64);
  a.label("tohost").word(0, 0);
  a.align(64);
  a.label("fromhost").word(0, 0);
  a.align(64).label("scratch").space(64);
}

/** write_tohost: low word = the value in `reg`, then high word = 0, forever. */
function writeTohost(a: Assembler, reg: Reg, label = "write_tohost"): void {
  a.label(label);
  a.la("t5", "tohost").sw(reg, 0, "t5").sw("zero", 4, "t5");
  a.j(label);
}

/**
 * HTIF console putchar for M-mode code: waits until tohost is free, then
 * writes device 1 / command 1 with the byte in a0 (low word first, as a
 * 64-bit store splits on RV32). Clobbers t0, t1, t5.
 */
export function emitHtifPutchar(a: Assembler): void {
  a.label("htif_putchar");
  a.la("t5", "tohost");
  a.label("htif_wait").lw("t0", 0, "t5").lw("t1", 4, "t5").or("t0", "t0", "t1").bnez("t0", "htif_wait");
  a.andi("a0", "a0", 0xff).sw("a0", 0, "t5").li("t1", 0x0101_0000).sw("t1", 4, "t5");
  a.ret();
}

export interface PTestOptions {
  /** Privilege of the test body (RVTEST_RV32U = U, RV32S = S, RV32M = M). */
  mode: "M" | "S" | "U";
  body: (t: TestMacros, a: Assembler) => void;
  /** Extra M-mode code run before the mret (e.g. console output); may call htif_putchar. */
  extraInit?: (a: Assembler) => void;
}

const MSTATUS_MPP = 3 << 11;
/** CSR numbers (the assembler's typed names stop short of the PMP registers). */
const PMPCFG0 = 0x3a0;
const PMPADDR0 = 0x3b0;

/** An env/p test image. */
export function buildPTest(opts: PTestOptions): Image {
  const a = new Assembler({ text: RAM });
  a.label("_start").j("reset_vector");

  // trap_vector: ecalls from U, S and M end the test with TESTNUM; anything else is other_exception.
  a.align(4).label("trap_vector");
  a.csrr("t5", "mcause");
  a.li("t6", 8).beq("t5", "t6", "write_tohost");
  a.li("t6", 9).beq("t5", "t6", "write_tohost");
  a.li("t6", 11).beq("t5", "t6", "write_tohost");
  a.label("other_exception").ori(TESTNUM, TESTNUM, 1337);
  writeTohost(a, TESTNUM);

  a.label("reset_vector");
  for (let r = 1; r < 32; r++) a.li(`x${r}` as Reg, 0); // INIT_XREG
  a.csrr("a0", "mhartid");
  a.label("hart_park").bnez("a0", "hart_park");
  // INIT_SATP
  a.la("t0", "after_satp").csrw("mtvec", "t0").csrwi("satp", 0);
  a.align(4).label("after_satp");
  // INIT_PMP: entry 0 covers all memory with RWX (NAPOT, pmpaddr0 = all ones).
  a.la("t0", "after_pmp").csrw("mtvec", "t0");
  a.li("t0", -1).csrw(PMPADDR0, "t0");
  a.li("t0", 0x18 | 0x7).csrw(PMPCFG0, "t0");
  a.align(4).label("after_pmp");
  // DELEGATE_NO_TRAPS
  a.csrwi("mie", 0).la("t0", "after_deleg").csrw("mtvec", "t0");
  a.csrwi("medeleg", 0).csrwi("mideleg", 0);
  a.align(4).label("after_deleg");
  a.li(TESTNUM, 0);
  a.la("t0", "trap_vector").csrw("mtvec", "t0");
  // CHECK_XLEN (RV32): 1 << 31 must be negative, else "pass" (skip).
  a.li("a0", 1).slli("a0", "a0", 31).bltz("a0", "xlen_ok");
  rvtestPass(a);
  a.label("xlen_ok");
  a.csrwi("mstatus", 0);
  if (opts.mode !== "U") {
    a.li("a0", opts.mode === "S" ? MSTATUS_MPP & (MSTATUS_MPP >> 1) : MSTATUS_MPP).csrs("mstatus", "a0");
  }
  if (opts.mode === "S") a.li("a0", (1 << 1) | (1 << 5)).csrs("mideleg", "a0"); // SSIP | STIP
  opts.extraInit?.(a);
  a.la("t0", "test_body").csrw("mepc", "t0").csrr("a0", "mhartid").mret();

  a.align(4).label("test_body");
  opts.body(new TestMacros(a), a);
  a.label("test_end").j("test_end");
  if (opts.extraInit) emitHtifPutchar(a);
  tohostArea(a);
  return a.assemble();
}

/** env/v layout. */
export const V = {
  /** Kernel (S-mode) view of RAM: a megapage at this VA maps PA 0x8000_0000. */
  KERNEL_OFFSET: 0xc000_0000 - RAM,
  USER_CODE: 0x0040_0000,
  USER_DATA: 0x0080_0000,
  USER_DATA_PAGES: 4,
} as const;

export interface VTestOptions {
  /** The test body, run in U-mode at V.USER_CODE (at most 2 pages; use li for data addresses). */
  body: (t: TestMacros, a: Assembler) => void;
}

const PTE_V = 1;
const PTE_R = 2;
const PTE_W = 4;
const PTE_X = 8;
const PTE_U = 16;
const PTE_A = 64;
const PTE_D = 128;

/**
 * An env/v test image. Physical layout: M boot code, S kernel and the user
 * page in .text; page tables, user data frames, kernel stack and tohost in
 * .data. The S-mode handler maps user data pages on the first access (as
 * env/v's vm.c does) and writes tohost for the user's pass/fail ecall.
 */
export function buildVTest(opts: VTestOptions): Image {
  const a = new Assembler({ text: RAM });
  const pte = (flags: number) => flags;
  // ---------------- M-mode boot (physical addresses)
  a.label("_start");
  a.csrr("a0", "mhartid");
  a.label("hart_park").bnez("a0", "hart_park");
  a.la("t0", "m_trap").csrw("mtvec", "t0");
  a.li("t0", -1).csrw(PMPADDR0, "t0");
  a.li("t0", 0x18 | 0x7).csrw(PMPCFG0, "t0");
  a.csrwi("satp", 0);
  a.li(TESTNUM, 0);
  // root[KERNEL VA >> 22] = megapage leaf for RAM (not U), RWX, A and D preset.
  a.la("s0", "pt_root");
  a.li("t0", ((RAM >>> 12) << 10) | pte(PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D));
  a.li("t1", ((RAM + V.KERNEL_OFFSET) >>> 22) * 4)
    .add("t1", "s0", "t1")
    .sw("t0", 0, "t1");
  // root[USER_CODE >> 22] -> pt_code; root[USER_DATA >> 22] -> pt_data (pointers: V only).
  a.la("t1", "pt_code").srli("t1", "t1", 12).slli("t1", "t1", 10).ori("t1", "t1", PTE_V);
  a.sw("t1", (V.USER_CODE >>> 22) * 4, "s0");
  a.la("t1", "pt_data").srli("t1", "t1", 12).slli("t1", "t1", 10).ori("t1", "t1", PTE_V);
  a.sw("t1", (V.USER_DATA >>> 22) * 4, "s0");
  // pt_code: two user pages, R X U; A left clear for the walker to set.
  a.la("t2", "pt_code").la("t1", "user_code");
  for (let i = 0; i < 2; i++) {
    a.srli("t3", "t1", 12)
      .slli("t3", "t3", 10)
      .ori("t3", "t3", PTE_V | PTE_R | PTE_X | PTE_U);
    a.sw("t3", ((V.USER_CODE >>> 12) & 0x3ff) * 4 + 4 * i, "t2");
    a.li("t4", 4096).add("t1", "t1", "t4");
  }
  // pt_data stays empty: user data pages are mapped on demand by the S handler.
  // Delegate user ecalls, page faults and the other synchronous exceptions to S.
  a.li(
    "t0",
    (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 6) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15),
  );
  a.csrw("medeleg", "t0");
  a.csrwi("mideleg", 0);
  // stvec, sscratch (kernel stack top) and mepc as kernel virtual addresses.
  a.li("t6", V.KERNEL_OFFSET);
  a.la("t0", "s_trap").add("t0", "t0", "t6").csrw("stvec", "t0");
  a.la("t0", "kstack_top").add("t0", "t0", "t6").csrw("sscratch", "t0");
  a.la("t0", "s_entry").add("t0", "t0", "t6").csrw("mepc", "t0");
  // satp: Sv32, ASID 1, root page.
  a.la("t0", "pt_root")
    .srli("t0", "t0", 12)
    .li("t1", (1 << 31) | (1 << 22))
    .or("t0", "t0", "t1");
  a.csrw("satp", "t0").sfence_vma();
  a.li("t0", MSTATUS_MPP).csrc("mstatus", "t0");
  a.li("t0", 1 << 11).csrs("mstatus", "t0"); // MPP = S
  a.mret();

  // Anything that reaches M-mode is a failure of the environment: code 1339.
  a.align(4).label("m_trap");
  a.li("t6", (1339 << 1) | 1);
  writeTohost(a, "t6", "m_write_tohost");

  // ---------------- S-mode kernel (runs at PA + KERNEL_OFFSET; la is pc-relative so it yields VAs)
  a.align(4).label("s_entry");
  a.li("t0", V.USER_CODE).csrw("sepc", "t0");
  a.li("t0", 1 << 8).csrc("sstatus", "t0"); // SPP = U
  a.sret();

  a.align(4).label("s_trap");
  a.csrrw("sp", "sscratch", "sp");
  a.addi("sp", "sp", -16).sw("t0", 0, "sp").sw("t1", 4, "sp").sw("t2", 8, "sp").sw("t3", 12, "sp");
  a.csrr("t0", "scause");
  a.li("t1", 8).beq("t0", "t1", "s_ecall");
  a.li("t1", 13).beq("t0", "t1", "s_fault");
  a.li("t1", 15).beq("t0", "t1", "s_fault");
  a.li("t1", 12).beq("t0", "t1", "s_fault");
  a.j("s_other");
  // s_fault: a user data page is mapped to its frame on first touch; other faults fail.
  a.label("s_fault");
  a.csrr("t0", "stval").li("t1", V.USER_DATA).sub("t0", "t0", "t1");
  a.li("t1", V.USER_DATA_PAGES * 4096).bgeu("t0", "t1", "s_other");
  a.srli("t0", "t0", 12); // page index
  a.la("t1", "user_frames").li("t2", V.KERNEL_OFFSET).sub("t1", "t1", "t2"); // frames' PA
  a.slli("t2", "t0", 12).add("t1", "t1", "t2");
  a.srli("t1", "t1", 12)
    .slli("t1", "t1", 10)
    .ori("t1", "t1", PTE_V | PTE_R | PTE_W | PTE_U);
  a.la("t2", "pt_data").slli("t3", "t0", 2).add("t2", "t2", "t3");
  a.addi("t2", "t2", ((V.USER_DATA >>> 12) & 0x3ff) * 4).sw("t1", 0, "t2");
  a.sfence_vma();
  a.la("t0", "demand_faults").lw("t1", 0, "t0").addi("t1", "t1", 1).sw("t1", 0, "t0");
  a.lw("t0", 0, "sp").lw("t1", 4, "sp").lw("t2", 8, "sp").lw("t3", 12, "sp").addi("sp", "sp", 16);
  a.csrrw("sp", "sscratch", "sp");
  a.sret();
  // s_ecall: the user's RVTEST_PASS/FAIL; tohost gets TESTNUM (1 or (n << 1) | 1).
  a.label("s_ecall");
  writeTohost(a, TESTNUM, "s_write_tohost");
  // s_other: an unexpected trap: 1337 | TESTNUM, as env/p's other_exception.
  a.label("s_other").ori(TESTNUM, TESTNUM, 1337);
  writeTohost(a, TESTNUM, "s_other_tohost");

  // ---------------- the user page(s)
  a.align(4096).label("user_code");
  opts.body(new TestMacros(a), a);
  a.label("user_end").j("user_end");
  a.align(4096);
  a.space(4096); // second mapped user page (room for the body to grow)

  // ---------------- data
  tohostArea(a);
  a.align(4).label("demand_faults").word(0);
  a.align(4096).label("pt_root").space(4096);
  a.label("pt_code").space(4096);
  a.label("pt_data").space(4096);
  a.label("user_frames").space(V.USER_DATA_PAGES * 4096);
  a.space(1024).label("kstack_top").space(16);
  return a.assemble();
}
