/**
 * Synchronous exceptions (privileged spec 1.12, 3.1.15-3.1.16, 3.3, 4.3):
 * every cause the hart raises, with the epc and tval the spec requires,
 * delivered to M or, through medeleg, to S but never below the current mode.
 */
import { describe, expect, it } from "vitest";
import type { Assembler } from "../src/asm/index.ts";
import { CAUSE } from "../src/csr.ts";
import {
  csrWord,
  enter,
  exit,
  type Guest,
  MODE,
  mppOf,
  PageTables,
  PTE_A,
  PTE_D,
  PTE_R,
  PTE_U,
  PTE_V,
  PTE_W,
  PTE_X,
  RAM,
  REG,
  runGuest,
  WORD,
} from "./support/priv-harness.ts";

const DATA = 0x8020_0000;
const NOTHING = 0x2000_0000; // no RAM, no device
const TSR = 1 << 22;
const TW = 1 << 21;
const TVM = 1 << 20;
// The assembler refuses misaligned targets, so these are written out: offset 6 (imm[4:1] / imm[10:1] = 3).
const JAL_RA_6 = (3 << 21) | (1 << 7) | 0x6f;
const JAL_ZERO_6 = (3 << 21) | 0x6f;
const BEQ_ZERO_ZERO_6 = (3 << 8) | 0x63;
const BNE_ZERO_ZERO_6 = (1 << 12) | (3 << 8) | 0x63;

/**
 * Run `emit` in `mode` (after an M prelude that sets `mstatusBits` and
 * `mideleg`), expecting exactly one trap at label `insn`.
 */
function faultIn(
  mode: 0 | 1 | 3,
  emit: (a: Assembler) => void,
  opts: { mstatus?: number; mideleg?: number; setup?: (a: Assembler) => void } = {},
): Guest {
  return runGuest((a) => {
    if (opts.mstatus) a.li("t0", opts.mstatus).csrs("mstatus", "t0");
    if (opts.mideleg) a.li("t0", opts.mideleg).csrw("mideleg", "t0");
    opts.setup?.(a);
    enter(a, mode, "lower");
    a.label("lower");
    a.li("a0", 0x77);
    a.label("insn");
    emit(a);
  });
}

function expectOneTrap(g: Guest, cause: number, tval: number, from: number): void {
  expect(g.log).toEqual([
    expect.objectContaining({ to: "M", interrupt: false, cause, epc: g.sym("insn"), tval }),
  ]);
  expect(mppOf(g.log[0].status)).toBe(from);
}

describe("instruction-address-misaligned", () => {
  it("a jal to a 2-aligned target faults at the jal, with the target in mtval, and does not link", () => {
    const g = runGuest((a) => {
      a.li("ra", 0x1234);
      a.label("jump").word(JAL_RA_6);
    });
    expect(g.log).toEqual([
      expect.objectContaining({
        to: "M",
        cause: CAUSE.MISALIGNED_FETCH,
        epc: g.sym("jump"),
        tval: g.sym("jump") + 6,
      }),
    ]);
    expect(g.reg(REG.ra)).toBe(0x1234);
  });

  it("a jalr to target+2 faults with the target in mtval; jalr clears bit 0 so target+1 does not", () => {
    const g = runGuest((a) => {
      a.la("t0", "target").addi("t1", "t0", 2).addi("t2", "t0", 1);
      a.li("a1", 0);
      a.label("jump").jalr("ra", 0, "t1"); // faults; the handler resumes after it
      a.jalr("ra", 0, "t2"); // lands on target
      a.li("a1", 99); // skipped
      a.label("target").addi("a1", "a1", 1);
    });
    expect(g.log).toEqual([
      expect.objectContaining({
        cause: CAUSE.MISALIGNED_FETCH,
        epc: g.sym("jump"),
        tval: g.sym("target") + 2,
      }),
    ]);
    expect(g.reg(REG.a1)).toBe(1);
  });

  it("a taken branch to a misaligned target faults at the branch; a branch not taken does not", () => {
    const g = runGuest((a) => {
      a.word(BNE_ZERO_ZERO_6); // not taken: no exception
      a.label("branch").word(BEQ_ZERO_ZERO_6);
    });
    expect(g.log).toEqual([
      expect.objectContaining({
        cause: CAUSE.MISALIGNED_FETCH,
        epc: g.sym("branch"),
        tval: g.sym("branch") + 6,
      }),
    ]);
  });
});

describe("instruction access fault", () => {
  it.each([
    ["an address nothing decodes", NOTHING],
    ["a device (devices are not executable)", 0x0200_0000],
    ["the byte after RAM", RAM + 8 * 1024 * 1024],
  ])("jumping to %s faults at the target, after the jump retired and linked", (_what, target) => {
    const g = runGuest((a) => {
      a.la("s10", "resume").li("t0", target);
      a.label("jump").jalr("ra", 0, "t0");
      a.label("resume");
    });
    expect(g.log).toEqual([
      expect.objectContaining({ to: "M", cause: CAUSE.FETCH_ACCESS, epc: target, tval: target }),
    ]);
    expect(g.reg(REG.ra)).toBe(g.sym("resume"));
  });
});

describe("illegal instruction", () => {
  it.each([
    ["all-zero word", 0x0000_0000],
    ["all-ones word", 0xffff_ffff],
    ["add with a reserved funct7", 0xfe00_0033],
  ])("an undecodable %s puts its bits in mtval", (_name, word) => {
    const g = faultIn(MODE.M, (a) => a.word(word));
    expectOneTrap(g, CAUSE.ILLEGAL_INSTRUCTION, word, MODE.M);
  });

  it("reading a CSR that does not exist is illegal and leaves rd unchanged", () => {
    const g = faultIn(MODE.M, (a) => a.csrr("a0", 0x7c0));
    expectOneTrap(g, CAUSE.ILLEGAL_INSTRUCTION, csrWord(2, REG.a0, 0x7c0, 0), MODE.M);
    expect(g.reg(REG.a0)).toBe(0x77);
  });

  it.each([
    ["csrw mhartid, t0", (a: Assembler) => a.csrw("mhartid", "t0"), csrWord(1, 0, 0xf14, REG.t0)],
    ["csrs cycle, t0", (a: Assembler) => a.csrs("cycle", "t0"), csrWord(2, 0, 0xc00, REG.t0)],
    [
      "csrrci a0, mvendorid, 1",
      (a: Assembler) => a.csrrci("a0", "mvendorid", 1),
      csrWord(7, REG.a0, 0xf11, 1),
    ],
  ])("writing a read-only CSR (%s) is illegal, even in M", (_name, emit, word) => {
    const g = faultIn(MODE.M, emit);
    expectOneTrap(g, CAUSE.ILLEGAL_INSTRUCTION, word, MODE.M);
    expect(g.reg(REG.a0)).toBe(0x77);
  });

  it("reading a read-only CSR with csrrs/csrrsi and a zero source is not a write", () => {
    const g = faultIn(MODE.M, (a) => a.li("a0", 5).csrrs("a0", "mhartid", "zero").csrrsi("a1", "cycle", 0));
    expect(g.log).toEqual([]);
    expect(g.reg(REG.a0)).toBe(0);
    expect(g.reg(REG.a1)).toBeGreaterThan(0);
  });

  it.each([
    ["S reads mstatus", MODE.S, (a: Assembler) => a.csrr("a0", "mstatus"), csrWord(2, REG.a0, 0x300, 0)],
    ["S writes mscratch", MODE.S, (a: Assembler) => a.csrw("mscratch", "a0"), csrWord(1, 0, 0x340, REG.a0)],
    ["U reads sstatus", MODE.U, (a: Assembler) => a.csrr("a0", "sstatus"), csrWord(2, REG.a0, 0x100, 0)],
    ["U reads mepc", MODE.U, (a: Assembler) => a.csrr("a0", "mepc"), csrWord(2, REG.a0, 0x341, 0)],
    ["U writes sscratch", MODE.U, (a: Assembler) => a.csrw("sscratch", "a0"), csrWord(1, 0, 0x140, REG.a0)],
  ])("a more privileged CSR is illegal: %s", (_name, mode, emit, word) => {
    const g = faultIn(mode as 0 | 1, emit);
    expectOneTrap(g, CAUSE.ILLEGAL_INSTRUCTION, word, mode);
    expect(g.reg(REG.a0)).toBe(0x77);
  });

  it.each([
    ["mret in S", MODE.S, "mret", WORD.mret, 0],
    ["mret in U", MODE.U, "mret", WORD.mret, 0],
    ["sret in U", MODE.U, "sret", WORD.sret, 0],
    ["sret in S with TSR", MODE.S, "sret", WORD.sret, TSR],
    ["wfi in U", MODE.U, "wfi", WORD.wfi, 0],
    ["wfi in S with TW", MODE.S, "wfi", WORD.wfi, TW],
    ["sfence.vma in U", MODE.U, "sfence.vma", WORD.sfenceAll, 0],
    ["sfence.vma in S with TVM", MODE.S, "sfence.vma", WORD.sfenceAll, TVM],
    ["csrr satp in S with TVM", MODE.S, "csrr a0, satp", csrWord(2, REG.a0, 0x180, 0), TVM],
    ["csrw satp in S with TVM", MODE.S, "csrw satp, zero", csrWord(1, 0, 0x180, 0), TVM],
  ])("%s is illegal", (_name, mode, text, word, mstatus) => {
    const g = faultIn(mode as 0 | 1, (a) => a.insn(text), { mstatus });
    expectOneTrap(g, CAUSE.ILLEGAL_INSTRUCTION, word, mode);
  });

  it("the same instructions are legal in S without TSR, TW and TVM", () => {
    // mideleg.SSIP pending and enabled lets wfi return at once without a trap (SIE = 0 in S).
    const g = faultIn(
      MODE.S,
      (a) => {
        a.csrr("a0", "satp").csrw("satp", "zero").sfence_vma();
        a.wfi();
        a.la("t0", "after")
          .csrw("sepc", "t0")
          .li("t0", 1 << 8)
          .csrs("sstatus", "t0")
          .sret();
        a.li("a1", 1); // skipped by sret
        a.label("after");
      },
      {
        mideleg: 1 << 1,
        setup: (a) =>
          a
            .li("t0", 1 << 1)
            .csrs("mie", "t0")
            .csrs("mip", "t0"),
      },
    );
    expect(g.log).toEqual([]);
    expect(g.reg(REG.a1)).toBe(0);
    expect(g.m.hart.instretByPriv[MODE.S]).toBeGreaterThan(0);
  });
});

/** The machine of these tests with misaligned loads and stores trapping (the default performs them). */
const TRAP_MISALIGNED = { ramSize: 8 * 1024 * 1024, misaligned: "trap" } as const;

describe("breakpoint, misaligned and access faults", () => {
  it("ebreak raises a breakpoint with its own pc in mtval, from M and from U", () => {
    for (const mode of [MODE.M, MODE.U] as const) {
      const g = faultIn(mode, (a) => a.ebreak());
      expectOneTrap(g, CAUSE.BREAKPOINT, g.sym("insn"), mode);
    }
  });

  it.each([
    ["lw at +2", (a: Assembler) => a.lw("a0", 2, "t0"), CAUSE.MISALIGNED_LOAD, 2],
    ["lh at +1", (a: Assembler) => a.lh("a0", 1, "t0"), CAUSE.MISALIGNED_LOAD, 1],
    ["lhu at +3", (a: Assembler) => a.lhu("a0", 3, "t0"), CAUSE.MISALIGNED_LOAD, 3],
    [
      "lr.w at +2",
      (a: Assembler) => a.addi("t1", "t0", 2).label("insn2").lr_w("a0", "t1"),
      CAUSE.MISALIGNED_LOAD,
      2,
    ],
    ["sw at +1", (a: Assembler) => a.sw("t1", 1, "t0"), CAUSE.MISALIGNED_STORE, 1],
    ["sh at +3", (a: Assembler) => a.sh("t1", 3, "t0"), CAUSE.MISALIGNED_STORE, 3],
    [
      "amoadd.w at +2",
      (a: Assembler) => a.addi("t2", "t0", 2).label("insn2").amoadd_w("a0", "t1", "t2"),
      CAUSE.MISALIGNED_STORE,
      2,
    ],
  ])("a misaligned %s faults with the address in mtval and touches nothing", (_n, emit, cause, off) => {
    const g = runGuest(
      (a) => {
        a.li("t0", DATA).li("t1", -1).li("a0", 0x77);
        a.label("insn");
        emit(a);
      },
      { config: TRAP_MISALIGNED },
    );
    const at = g.image.symbols.insn2 ?? g.sym("insn");
    expect(g.log).toEqual([expect.objectContaining({ to: "M", cause, epc: at, tval: DATA + off })]);
    expect(g.reg(REG.a0)).toBe(0x77);
    expect(g.m.hart.readPhys(DATA, 4)).toBe(0);
    expect(g.m.hart.readPhys(DATA + 4, 4)).toBe(0);
  });

  it("byte accesses are never misaligned", () => {
    const g = runGuest((a) => a.li("t0", DATA).li("t1", 0xab).sb("t1", 3, "t0").lbu("a0", 3, "t0"));
    expect(g.log).toEqual([]);
    expect(g.reg(REG.a0)).toBe(0xab);
  });

  it.each([
    ["lw", (a: Assembler) => a.lw("a0", 4, "t0"), CAUSE.LOAD_ACCESS, NOTHING + 4],
    ["lbu", (a: Assembler) => a.lbu("a0", 1, "t0"), CAUSE.LOAD_ACCESS, NOTHING + 1],
    ["sw", (a: Assembler) => a.sw("a0", 8, "t0"), CAUSE.STORE_ACCESS, NOTHING + 8],
    ["sb", (a: Assembler) => a.sb("a0", 0, "zero"), CAUSE.STORE_ACCESS, 0],
    [
      "lr.w on a device",
      (a: Assembler) => a.li("t1", 0x0200_0000).label("insn2").lr_w("a0", "t1"),
      CAUSE.LOAD_ACCESS,
      0x0200_0000,
    ],
    [
      "amoswap.w on a device",
      (a: Assembler) => a.li("t1", 0x0200_4000).label("insn2").amoswap_w("a0", "a0", "t1"),
      CAUSE.STORE_ACCESS,
      0x0200_4000,
    ],
  ])(
    "%s where nothing can serve it is an access fault with the address in mtval",
    (_n, emit, cause, tval) => {
      const g = runGuest((a) => {
        a.li("t0", NOTHING).li("a0", 0x77);
        a.label("insn");
        emit(a);
      });
      const at = g.image.symbols.insn2 ?? g.sym("insn");
      expect(g.log).toEqual([expect.objectContaining({ to: "M", cause, epc: at, tval })]);
      expect(g.reg(REG.a0)).toBe(0x77);
    },
  );
});

describe("environment calls", () => {
  it("ecall from U, S and M gives causes 8, 9 and 11 with mtval 0 (even after a trap that set mtval)", () => {
    const g = runGuest((a) => {
      a.label("m_break").ebreak();
      a.label("m_call").ecall();
      enter(a, MODE.S, "smode");
      a.label("smode");
      a.label("s_break").ebreak();
      a.label("s_call").ecall();
      a.la("t0", "umode")
        .csrw("sepc", "t0")
        .li("t0", 1 << 8)
        .csrc("sstatus", "t0")
        .sret();
      a.label("umode");
      a.label("u_break").ebreak();
      a.label("u_call").ecall();
    });
    const rec = (cause: number, at: string, tval: number, from: number) => ({
      cause,
      at: g.sym(at),
      tval,
      from,
    });
    const seen = g.log.map((l) => ({ cause: l.cause, at: l.epc, tval: l.tval, from: mppOf(l.status) }));
    expect(seen).toEqual([
      rec(CAUSE.BREAKPOINT, "m_break", g.sym("m_break"), MODE.M),
      rec(CAUSE.ECALL_M, "m_call", 0, MODE.M),
      rec(CAUSE.BREAKPOINT, "s_break", g.sym("s_break"), MODE.S),
      rec(CAUSE.ECALL_S, "s_call", 0, MODE.S),
      rec(CAUSE.BREAKPOINT, "u_break", g.sym("u_break"), MODE.U),
      rec(CAUSE.ECALL_U, "u_call", 0, MODE.U),
    ]);
    expect(g.r.stats.traps.exceptions).toMatchObject({ breakpoint: 3, ecall_u: 2, ecall_s: 1, ecall_m: 1 });
  });
});

describe("delegation with medeleg", () => {
  it("medeleg[11] (ecall from M) is read-only zero; the other defined causes are delegable", () => {
    const g = runGuest((a) => a.li("t0", -1).csrw("medeleg", "t0").csrr("a0", "medeleg"));
    const defined = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15].reduce((m, c) => m | (1 << c), 0);
    expect(g.reg(REG.a0) & (1 << 11)).toBe(0);
    expect(g.reg(REG.a0) & defined).toBe(defined);
  });

  it("a delegated exception from U goes to stvec with scause/sepc/stval and SPP = U; M's CSRs are untouched", () => {
    const g = runGuest(
      (a) => {
        a.li("t0", (1 << CAUSE.BREAKPOINT) | (1 << CAUSE.MISALIGNED_LOAD)).csrw("medeleg", "t0");
        a.li("t0", 0x1111).csrw("mtval", "t0");
        enter(a, MODE.U, "umode");
        a.label("umode");
        a.label("brk").ebreak();
        a.li("t0", DATA + 2);
        a.label("ld").lw("a0", 0, "t0");
        a.label("ill").csrr("a0", "mstatus"); // not delegated
      },
      { config: TRAP_MISALIGNED },
    );
    expect(g.log.map((l) => [l.to, l.cause, l.epc, l.tval])).toEqual([
      ["S", CAUSE.BREAKPOINT, g.sym("brk"), g.sym("brk")],
      ["S", CAUSE.MISALIGNED_LOAD, g.sym("ld"), DATA + 2],
      ["M", CAUSE.ILLEGAL_INSTRUCTION, g.sym("ill"), csrWord(2, REG.a0, 0x300, 0)],
    ]);
    expect(g.log[0].status & (1 << 8)).toBe(0); // SPP = U
    expect(mppOf(g.log[2].status)).toBe(MODE.U); // the S handler returned to U before the third trap
    expect(g.r.stats.traps).toMatchObject({ toS: 2 });
  });

  it("a delegated exception from S stays in S with SPP = S", () => {
    const g = faultIn(MODE.S, (a) => a.ebreak(), { setup: (a) => a.li("t0", 1 << 3).csrw("medeleg", "t0") });
    expect(g.log).toEqual([
      expect.objectContaining({ to: "S", cause: CAUSE.BREAKPOINT, epc: g.sym("insn"), tval: g.sym("insn") }),
    ]);
    expect(g.log[0].status & (1 << 8)).not.toBe(0);
    expect(g.m.hart.scause).toBe(CAUSE.BREAKPOINT);
  });

  it("an exception in M stays in M even when delegated", () => {
    const g = runGuest(
      (a) => {
        a.li("t0", -1).csrw("medeleg", "t0");
        a.label("brk").ebreak();
        a.li("t0", DATA + 1);
        a.label("ld").lw("a0", 0, "t0");
        a.label("ill").word(0);
      },
      { config: TRAP_MISALIGNED },
    );
    expect(g.log.map((l) => [l.to, l.cause, l.epc])).toEqual([
      ["M", CAUSE.BREAKPOINT, g.sym("brk")],
      ["M", CAUSE.MISALIGNED_LOAD, g.sym("ld")],
      ["M", CAUSE.ILLEGAL_INSTRUCTION, g.sym("ill")],
    ]);
    expect(g.m.hart.scause).toBe(0);
    expect(g.m.hart.sepc).toBe(0);
    expect(g.r.stats.traps.toS).toBe(0);
  });
});

describe("page faults (Sv32)", () => {
  const UCODE = 0x0040_0000;
  const UDATA = 0x0080_0000;

  /** U code at UCODE; a read-only U data page at UDATA; UDATA+0x1000 and UCODE+0x2000 unmapped. */
  function paged(medeleg: number): Guest {
    return runGuest(
      (a) => {
        a.li("t0", medeleg).csrw("medeleg", "t0");
        a.la("t0", "satp_value").lw("t0", 0, "t0").csrw("satp", "t0").sfence_vma();
        a.li("t0", UCODE)
          .csrw("mepc", "t0")
          .li("t0", 3 << 11)
          .csrc("mstatus", "t0")
          .mret();
        a.label("satp_value").word(0);
        a.align(4096).label("ucode");
        a.li("t0", UDATA);
        a.lw("a0", 0, "t0"); // fine
        a.label("st").sw("a0", 0, "t0"); // read-only: store page fault
        a.label("ld").lw("a1", 0x100, "t0"); // fine
        a.li("t1", UDATA + 0x1000);
        a.label("ld2").lw("a1", 0, "t1"); // unmapped: load page fault
        a.la("s10", "back").li("t1", UCODE + 0x2000);
        a.label("jump").jalr("ra", 0, "t1"); // fetch page fault at the target
        a.label("back");
        exit(a);
      },
      {
        noExit: true,
        setup: (m, image) => {
          const pt = new PageTables(m);
          pt.mega(RAM, RAM, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
          pt.page(UCODE, image.symbols.ucode, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A);
          pt.page(UDATA, DATA, PTE_V | PTE_R | PTE_U | PTE_A);
          m.hart.writePhys(image.symbols.satp_value, 4, pt.satp);
          m.hart.writePhys(DATA, 4, 0x5a5a);
        },
      },
    );
  }

  const uva = (g: Guest, label: string) => UCODE + g.sym(label) - g.sym("ucode");

  it("without delegation, fetch/load/store page faults from U go to M with the virtual address in mtval", () => {
    const g = paged(0);
    expect(g.log.map((l) => [l.to, l.cause, l.epc, l.tval, mppOf(l.status)])).toEqual([
      ["M", CAUSE.STORE_PAGE_FAULT, uva(g, "st"), UDATA, MODE.U],
      ["M", CAUSE.LOAD_PAGE_FAULT, uva(g, "ld2"), UDATA + 0x1000, MODE.U],
      ["M", CAUSE.FETCH_PAGE_FAULT, UCODE + 0x2000, UCODE + 0x2000, MODE.U],
    ]);
    expect(g.reg(REG.a0)).toBe(0x5a5a);
    expect(g.reg(REG.ra)).toBe(uva(g, "back"));
    expect(g.m.hart.readPhys(DATA, 4)).toBe(0x5a5a);
  });

  it("with medeleg they go to S with the virtual address in stval", () => {
    const g = paged((1 << 12) | (1 << 13) | (1 << 15));
    expect(g.log.map((l) => [l.to, l.cause, l.epc, l.tval, l.status & (1 << 8)])).toEqual([
      ["S", CAUSE.STORE_PAGE_FAULT, uva(g, "st"), UDATA, 0],
      ["S", CAUSE.LOAD_PAGE_FAULT, uva(g, "ld2"), UDATA + 0x1000, 0],
      ["S", CAUSE.FETCH_PAGE_FAULT, UCODE + 0x2000, UCODE + 0x2000, 0],
    ]);
    expect(g.m.hart.mtval).not.toBe(UCODE + 0x2000);
    expect(g.r.stats.traps.exceptions).toMatchObject({
      store_page_fault: 1,
      load_page_fault: 1,
      fetch_page_fault: 1,
    });
  });

  it("S touching a U page without SUM takes a load page fault in S (delegated) or M (not)", () => {
    for (const deleg of [false, true]) {
      const g = runGuest(
        (a) => {
          if (deleg) a.li("t0", 1 << 13).csrw("medeleg", "t0");
          a.la("t0", "satp_value").lw("t0", 0, "t0").csrw("satp", "t0").sfence_vma();
          enter(a, MODE.S, "smode");
          a.label("satp_value").word(0);
          a.label("smode").li("t0", UDATA);
          a.label("insn").lw("a0", 0, "t0");
          a.li("t1", 1 << 18).csrs("sstatus", "t1"); // SUM
          a.lw("a1", 0, "t0");
        },
        {
          setup: (m, image) => {
            const pt = new PageTables(m);
            pt.mega(RAM, RAM, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
            pt.page(UDATA, DATA, PTE_V | PTE_R | PTE_U | PTE_A);
            m.hart.writePhys(image.symbols.satp_value, 4, pt.satp);
            m.hart.writePhys(DATA, 4, 0x77aa);
          },
        },
      );
      expect(g.log).toEqual([
        expect.objectContaining({
          to: deleg ? "S" : "M",
          cause: CAUSE.LOAD_PAGE_FAULT,
          epc: g.sym("insn"),
          tval: UDATA,
        }),
      ]);
      expect(g.reg(REG.a1)).toBe(0x77aa);
    }
  });
});

describe("exceptions do not retire", () => {
  it("faulting instructions are not counted in instret", () => {
    const g = runGuest((a) => {
      enter(a, MODE.U, "umode");
      a.label("umode");
      a.nop();
      a.ebreak(); // breakpoint
      a.nop();
      a.lw("a0", 0, "zero"); // load access fault
      a.nop();
      a.csrr("a0", "mstatus"); // illegal
      a.nop();
      a.word(JAL_ZERO_6); // misaligned target
      a.nop();
      // then exit: li a7 (retires) + ecall (does not)
    });
    expect(g.log.map((l) => l.cause)).toEqual([
      CAUSE.BREAKPOINT,
      CAUSE.LOAD_ACCESS,
      CAUSE.ILLEGAL_INSTRUCTION,
      CAUSE.MISALIGNED_FETCH,
    ]);
    expect(g.m.hart.retiredBy(MODE.U)).toBe(6);
    expect(g.r.stats.instructions.user).toBe(6);
  });

  it("minstret read around a faulting instruction advances only by the instructions that retired", () => {
    // A TypeScript handler skips the faulting instruction without running guest code.
    const g = runGuest(
      (a) => {
        a.rdinstret("a0").ebreak().rdinstret("a1");
        a.csrr("a2", "minstret").lw("a3", 0, "zero").ecall().word(0).csrr("a3", "minstret");
      },
      {
        noExit: true,
        expectReason: "budget",
        budget: 200,
        setup: (m) =>
          m.setTrapHandler({
            trap(h) {
              h.pc = (h.pc + 4) >>> 0; // past the program: zero words, skipped until the budget ends
            },
          }),
      },
    );
    expect(g.reg(REG.a1) - g.reg(REG.a0)).toBe(1);
    expect(g.reg(REG.a3) - g.reg(REG.a2)).toBe(1);
  });
});
