/**
 * Privileged state (privileged spec 1.12, 3.1.1-3.1.7, 3.1.14, 3.3.2, 3.7,
 * 4.1.1): what mret and sret do to mstatus, WARL legalisation of mstatus,
 * mepc and mtvec, the sstatus view, the read-only identification CSRs, MPRV,
 * and the PMP CSRs.
 */
import { describe, expect, it } from "vitest";
import { CAUSE } from "../src/csr.ts";
import { MISA } from "../src/csrfile.ts";
import {
  enter,
  MODE,
  mppOf,
  PageTables,
  PT_ROOT,
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
} from "./support/priv-harness.ts";

const S = {
  SIE: 1 << 1,
  MIE: 1 << 3,
  SPIE: 1 << 5,
  MPIE: 1 << 7,
  SPP: 1 << 8,
  MPP: 3 << 11,
  FS: 3 << 13,
  XS: 3 << 15,
  MPRV: 1 << 17,
  SUM: 1 << 18,
  MXR: 1 << 19,
  TVM: 1 << 20,
  TW: 1 << 21,
  TSR: 1 << 22,
  SD: 1 << 31,
};
const DATA = 0x8020_0000;

describe("mret", () => {
  it("to M: MIE := MPIE, MPIE := 1, MPP := U, MPRV kept", () => {
    const g = runGuest((a) => {
      a.li("t0", S.MPP | S.MPIE | S.MPRV).csrs("mstatus", "t0");
      a.la("t0", "back").csrw("mepc", "t0").mret();
      a.li("a1", 1); // skipped
      a.label("back").csrr("a0", "mstatus");
      a.li("t0", S.MPRV | S.MIE).csrc("mstatus", "t0");
    });
    const s = g.reg(REG.a0);
    expect(s & S.MIE).toBe(S.MIE);
    expect(s & S.MPIE).toBe(S.MPIE);
    expect(mppOf(s)).toBe(MODE.U);
    expect(s & S.MPRV).toBe(S.MPRV);
    expect(g.reg(REG.a1)).toBe(0);
  });

  it("to M with MPIE = 0 leaves MIE = 0 and still sets MPIE", () => {
    const g = runGuest((a) => {
      a.li("t0", S.MPP).csrs("mstatus", "t0").csrsi("mstatus", S.MIE);
      a.la("t0", "back").csrw("mepc", "t0").mret();
      a.label("back").csrr("a0", "mstatus");
    });
    expect(g.reg(REG.a0) & (S.MIE | S.MPIE)).toBe(S.MPIE);
  });

  it.each([
    ["S", MODE.S],
    ["U", MODE.U],
  ])("to %s: the privilege drops, MPRV is cleared and MIE comes from MPIE", (_n, mode) => {
    const g = runGuest((a) => {
      a.li("t0", S.MPIE | S.MPRV).csrs("mstatus", "t0");
      enter(a, mode as 0 | 1, "lower");
      a.label("lower").ecall(); // logged by M: its mstatus shows the state mret left
    });
    const call = g.log[0];
    expect(call).toMatchObject({ to: "M", cause: mode === MODE.S ? CAUSE.ECALL_S : CAUSE.ECALL_U });
    expect(mppOf(call.status)).toBe(mode);
    expect(call.status & S.MPIE).toBe(S.MPIE); // MIE was 1 when the ecall trapped
    expect(call.status & S.MPRV).toBe(0);
    expect(g.m.hart.retiredBy(mode)).toBeGreaterThan(0);
  });
});

describe("sret", () => {
  it("in S: SIE := SPIE, SPIE := 1, SPP := U; the second sret goes to U", () => {
    const g = runGuest((a) => {
      enter(a, MODE.S, "smode");
      a.label("smode");
      a.li("t0", S.SPP | S.SPIE).csrs("sstatus", "t0");
      a.la("t0", "s_again").csrw("sepc", "t0").sret();
      a.label("s_again").csrr("a0", "sstatus");
      a.csrci("sstatus", S.SIE);
      a.la("t0", "umode").csrw("sepc", "t0").sret(); // SPP is U now, SPIE 1
      a.label("umode").csrr("a1", "sstatus"); // illegal in U: proves the mode
    });
    const s = g.reg(REG.a0);
    expect(s & (S.SIE | S.SPIE | S.SPP)).toBe(S.SIE | S.SPIE);
    expect(g.log[0]).toMatchObject({ to: "M", cause: CAUSE.ILLEGAL_INSTRUCTION, epc: g.sym("umode") });
    expect(mppOf(g.log[0].status)).toBe(MODE.U);
  });

  it("in M: returns to SPP and clears MPRV", () => {
    const g = runGuest((a) => {
      a.li("t0", S.SPP | S.MPRV).csrs("mstatus", "t0");
      a.la("t0", "smode").csrw("sepc", "t0").sret();
      a.label("smode").ecall();
    });
    expect(g.log[0]).toMatchObject({ to: "M", cause: CAUSE.ECALL_S, epc: g.sym("smode") });
    expect(g.log[0].status & S.MPRV).toBe(0);
  });
});

describe("trap entry", () => {
  it("saves MIE in MPIE, clears MIE and records the previous mode in MPP; S entry does the same with SIE/SPIE/SPP", () => {
    const g = runGuest((a) => {
      a.li("t0", 1 << CAUSE.BREAKPOINT).csrw("medeleg", "t0");
      a.csrsi("mstatus", S.MIE);
      a.label("m_brk").ebreak(); // not delegated from M
      a.li("t0", S.MPIE).csrs("mstatus", "t0");
      enter(a, MODE.S, "smode");
      a.label("smode").csrsi("sstatus", S.SIE);
      a.label("s_brk").ebreak(); // delegated
    });
    const [m, s] = g.log;
    expect(m).toMatchObject({ to: "M", epc: g.sym("m_brk") });
    expect(m.status & (S.MIE | S.MPIE)).toBe(S.MPIE);
    expect(mppOf(m.status)).toBe(MODE.M);
    expect(s).toMatchObject({ to: "S", epc: g.sym("s_brk") });
    expect(s.status & (S.SIE | S.SPIE | S.SPP)).toBe(S.SPIE | S.SPP);
  });
});

describe("mstatus and sstatus", () => {
  it("MPP is WARL: writing the reserved value 2 keeps a legal value", () => {
    const g = runGuest((a) => {
      a.li("t0", S.MPP)
        .csrc("mstatus", "t0")
        .li("t0", 1 << 11)
        .csrs("mstatus", "t0");
      a.li("t0", S.MPP)
        .csrc("mstatus", "t0")
        .li("t0", 2 << 11)
        .csrs("mstatus", "t0"); // MPP: S -> U -> (2)
      a.csrr("a0", "mstatus");
      a.csrr("a1", "mstatus")
        .li("t0", 2 << 11)
        .or("a1", "a1", "t0")
        .li("t0", ~(1 << 11))
        .and("a1", "a1", "t0");
      a.csrw("mstatus", "a1").csrr("a1", "mstatus"); // a full write with MPP = 2
    });
    expect(mppOf(g.reg(REG.a0))).not.toBe(2);
    expect(mppOf(g.reg(REG.a0))).toBe(MODE.U);
    expect(mppOf(g.reg(REG.a1))).not.toBe(2);
  });

  it("has no F/V state, is little-endian, and ignores writes to bits it does not implement", () => {
    const g = runGuest((a) => {
      a.li("t0", -1).csrw("mstatus", "t0").csrr("a0", "mstatus");
      a.li("t0", S.MIE | S.MPRV | S.TVM | S.TW | S.TSR).csrc("mstatus", "t0");
      a.csrr("a1", "mstatush");
    });
    const s = g.reg(REG.a0);
    expect(s & (S.FS | S.XS | S.SD)).toBe(0);
    expect(s & (1 << 6)).toBe(0); // UBE
    const writable = S.SIE | S.MIE | S.SPIE | S.MPIE | S.SPP | S.MPRV | S.SUM | S.MXR | S.TVM | S.TW | S.TSR;
    expect(s & writable).toBe(writable);
    expect(mppOf(s)).toBe(MODE.M);
    expect(g.reg(REG.a1)).toBe(0);
  });

  it("sstatus shows only the S fields of mstatus, and writes through it change only those", () => {
    const g = runGuest((a) => {
      a.li("t0", S.SIE | S.SPIE | S.SPP | S.SUM | S.MXR | S.MPIE | S.TW | S.TSR).csrs("mstatus", "t0");
      a.csrr("a0", "sstatus");
      enter(a, MODE.S, "smode");
      a.label("smode");
      a.csrw("sstatus", "zero").csrr("a1", "sstatus");
      a.li("t0", -1).csrw("sstatus", "t0").csrr("a2", "sstatus");
      a.ecall(); // M logs mstatus
    });
    expect(g.reg(REG.a0)).toBe(S.SIE | S.SPIE | S.SPP | S.SUM | S.MXR);
    expect(g.reg(REG.a1)).toBe(0);
    expect(g.reg(REG.a2)).toBe(S.SIE | S.SPIE | S.SPP | S.SUM | S.MXR);
    const m = g.log[0].status;
    expect(m & (S.TW | S.TSR)).toBe(S.TW | S.TSR); // untouched by sstatus writes
    expect(mppOf(m)).toBe(MODE.S);
  });
});

describe("read-only identification and WARL address CSRs", () => {
  it("misa says RV32 with I, M, A, S and U and ignores writes", () => {
    const g = runGuest((a) => a.csrr("a0", "misa").csrw("misa", "zero").csrr("a1", "misa"));
    const expected = (1 << 30) | (1 << 0) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);
    expect(g.reg(REG.a0)).toBe(expected);
    expect(g.reg(REG.a1)).toBe(expected);
    expect(MISA >>> 0).toBe(expected);
  });

  it("mvendorid, marchid, mimpid and mhartid read 0", () => {
    const g = runGuest((a) => {
      a.li("a0", -1).li("a1", -1).li("a2", -1).li("a3", -1);
      a.csrr("a0", "mvendorid").csrr("a1", "marchid").csrr("a2", "mimpid").csrr("a3", "mhartid");
    });
    expect([g.reg(REG.a0), g.reg(REG.a1), g.reg(REG.a2), g.reg(REG.a3)]).toEqual([0, 0, 0, 0]);
  });

  it("mepc and sepc keep their two low bits zero (IALIGN = 32)", () => {
    const g = runGuest((a) => {
      a.li("t0", 0x8000_1237).csrw("mepc", "t0").csrr("a0", "mepc").csrw("sepc", "t0").csrr("a1", "sepc");
      a.li("t0", 0x8000_1002).csrw("mepc", "t0").csrr("a2", "mepc");
    });
    expect([g.reg(REG.a0), g.reg(REG.a1), g.reg(REG.a2)]).toEqual([0x8000_1234, 0x8000_1234, 0x8000_1000]);
  });

  it("mtvec and stvec accept direct and vectored mode and legalise the reserved modes", () => {
    const g = runGuest((a) => {
      for (const [i, mode] of [0, 1, 2, 3].entries()) {
        a.li("t0", 0x8000_4000 | mode)
          .csrw("stvec", "t0")
          .csrr("t1", "stvec");
        a.li("t2", 0x8031_0000 + 8 * i).sw("t1", 0, "t2");
        // mtvec changes last so the harness keeps its handler for everything but this
        a.csrr("t2", "mtvec").csrw("mtvec", "t0").csrr("t1", "mtvec").csrw("mtvec", "t2");
        a.li("t2", 0x8031_0004 + 8 * i).sw("t1", 0, "t2");
      }
    });
    const read = (i: number) => [
      g.m.hart.readPhys(0x8031_0000 + 8 * i, 4),
      g.m.hart.readPhys(0x8031_0004 + 8 * i, 4),
    ];
    expect(read(0)).toEqual([0x8000_4000, 0x8000_4000]);
    expect(read(1)).toEqual([0x8000_4001, 0x8000_4001]);
    for (const i of [2, 3]) {
      for (const v of read(i)) {
        expect((v! & ~3) >>> 0).toBe(0x8000_4000);
        expect(v! & 3).toBeLessThan(2); // reserved modes are not kept
      }
    }
  });
});

describe("MPRV", () => {
  const UDATA = 0x0080_0000;

  it("makes M-mode loads and stores translate and check as MPP; fetches and MPRV = 0 stay physical", () => {
    const g = runGuest(
      (a) => {
        a.la("t0", "satp_value").lw("t0", 0, "t0").csrw("satp", "t0").sfence_vma();
        a.li("t1", UDATA).li("a1", 0x4321);
        a.li("t0", S.MPP).csrc("mstatus", "t0");
        a.li("t0", S.MPRV).csrs("mstatus", "t0"); // MPP = U
        a.lw("a0", 0, "t1");
        a.sw("a1", 4, "t1");
        a.li("t0", 1 << 11).csrs("mstatus", "t0"); // MPP = S, SUM = 0
        a.label("s_load").lw("a2", 0, "t1"); // page fault; the handler's mret sets MPP = U again
        a.li("t0", (1 << 11) | S.SUM).csrs("mstatus", "t0");
        a.lw("a3", 0, "t1");
        a.li("t0", S.MPRV).csrc("mstatus", "t0");
        a.label("phys_load").lw("a4", 0, "t1"); // 0x00800000 physically: nothing there
        a.j("done");
        a.label("satp_value").word(0);
        a.label("done");
      },
      {
        setup: (m, image) => {
          const pt = new PageTables(m);
          pt.mega(RAM, RAM, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
          pt.page(UDATA, DATA, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A);
          m.hart.writePhys(image.symbols.satp_value, 4, pt.satp);
          m.hart.writePhys(DATA, 4, 0x1111);
          for (const r of ["a2", "a4"] as const) m.hart.x[REG[r]] = 0x77;
        },
      },
    );
    expect(g.reg(REG.a0)).toBe(0x1111);
    expect(g.m.hart.readPhys(DATA + 4, 4)).toBe(0x4321);
    expect(g.reg(REG.a3)).toBe(0x1111);
    expect(g.log.map((l) => [l.cause, l.epc, l.tval])).toEqual([
      [CAUSE.LOAD_PAGE_FAULT, g.sym("s_load"), UDATA],
      [CAUSE.LOAD_ACCESS, g.sym("phys_load"), UDATA],
    ]);
    expect(g.reg(REG.a2)).toBe(0x77);
    expect(g.reg(REG.a4)).toBe(0x77);
    // The store went through the walker: D is now set in the leaf PTE (the first L0 table, entry 0).
    expect(g.m.hart.readPhys(PT_ROOT + 0x1000, 4)! & PTE_D).toBe(PTE_D);
  });
});

describe("PMP CSRs", () => {
  it("pmpcfg0-15 and pmpaddr0-63 are distinct, readable and writable registers", () => {
    // Legal R/W/X/A combinations (never W without R), no L bit, a different low byte each.
    const low = [
      0x00, 0x01, 0x03, 0x05, 0x07, 0x08, 0x09, 0x0b, 0x0d, 0x0f, 0x18, 0x19, 0x1b, 0x1d, 0x1f, 0x11,
    ];
    const cfg = (i: number) => (0x0d0f_0900 | low[i]) >>> 0;
    const addr = (i: number) => (0x2000_0000 + i * 0x101) >>> 0;
    const OUT = 0x8031_0000;
    const g = runGuest((a) => {
      for (let i = 0; i < 16; i++) a.li("t0", cfg(i)).csrw(0x3a0 + i, "t0");
      for (let i = 0; i < 64; i++) a.li("t0", addr(i)).csrw(0x3b0 + i, "t0");
      a.li("t1", OUT);
      for (let i = 0; i < 16; i++) a.csrr("t0", 0x3a0 + i).sw("t0", 4 * i, "t1");
      for (let i = 0; i < 64; i++) a.csrr("t0", 0x3b0 + i).sw("t0", 64 + 4 * i, "t1");
    });
    expect(g.log).toEqual([]);
    const cfgs = Array.from({ length: 16 }, (_, i) => g.m.hart.readPhys(OUT + 4 * i, 4));
    const addrs = Array.from({ length: 64 }, (_, i) => g.m.hart.readPhys(OUT + 64 + 4 * i, 4));
    expect(cfgs).toEqual(Array.from({ length: 16 }, (_, i) => cfg(i)));
    expect(addrs).toEqual(Array.from({ length: 64 }, (_, i) => addr(i)));
  });

  it("are machine-only", () => {
    const g = runGuest((a) => {
      enter(a, MODE.S, "smode");
      a.label("smode").csrr("a0", 0x3a0).csrr("a0", 0x3b0);
    });
    expect(g.log.map((l) => l.cause)).toEqual([CAUSE.ILLEGAL_INSTRUCTION, CAUSE.ILLEGAL_INSTRUCTION]);
  });
});
