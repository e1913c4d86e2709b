/**
 * Interrupts (privileged spec 1.12, 3.1.6.1, 3.1.8-3.1.9, 3.3.3, 4.1.3):
 * priority, global and per-source enables by privilege, delegation with
 * mideleg, software-writable pending bits, vectored trap vectors, the CLINT
 * sources and WFI.
 */
import { describe, expect, it } from "vitest";
import type { Assembler } from "../src/asm/index.ts";
import { CAUSE, IRQ } from "../src/csr.ts";
import {
  CLINT_MSIP,
  CLINT_MTIME,
  CLINT_MTIMECMP,
  EXIT_CALL,
  enter,
  exit,
  type Guest,
  MODE,
  mppOf,
  REG,
  runGuest,
  type TrapRecord,
} from "./support/priv-harness.ts";

const MIE = 1 << 3;
const SIE = 1 << 1;
const S_BITS = (1 << IRQ.SSI) | (1 << IRQ.STI) | (1 << IRQ.SEI);
const ALL_BITS = S_BITS | (1 << IRQ.MSI) | (1 << IRQ.MTI) | (1 << IRQ.MEI);
const bit = (irq: number) => 1 << irq;

const irqs = (g: Guest): [string, number][] =>
  g.log.filter((l: TrapRecord) => l.interrupt).map((l) => [l.to, l.cause]);

/** mtimecmp := 0 (both halves): MTIP pends at once. */
function timerNow(a: Assembler): void {
  a.li("t0", CLINT_MTIMECMP).sw("zero", 4, "t0").sw("zero", 0, "t0");
}
/** msip := 1. */
function softwareInterrupt(a: Assembler): void {
  a.li("t0", CLINT_MSIP).li("t1", 1).sw("t1", 0, "t0");
}
/** mtimecmp := mtime + ticks with the spec's RV32 sequence (mtime stays below 2^32 here). Clobbers t0-t2. */
function timerIn(a: Assembler, ticks: number): void {
  a.li("t0", CLINT_MTIMECMP).li("t1", -1).sw("t1", 4, "t0");
  a.li("t1", CLINT_MTIME).lw("t1", 0, "t1").li("t2", ticks).add("t1", "t1", "t2");
  a.sw("t1", 0, "t0").sw("zero", 4, "t0");
}

describe("priority", () => {
  it("with all six pending in M: MEI > MSI > MTI > SEI > SSI > STI", () => {
    const g = runGuest(
      (a) => {
        a.li("t0", ALL_BITS).csrw("mie", "t0");
        a.li("t0", S_BITS).csrs("mip", "t0");
        softwareInterrupt(a);
        timerNow(a);
        a.label("enable").csrsi("mstatus", MIE);
        a.label("next").nop();
      },
      { setup: (m) => (m.hart.mipSw |= bit(IRQ.MEI)) },
    );
    expect(irqs(g)).toEqual([
      ["M", IRQ.MEI],
      ["M", IRQ.MSI],
      ["M", IRQ.MTI],
      ["M", IRQ.SEI],
      ["M", IRQ.SSI],
      ["M", IRQ.STI],
    ]);
    // Each is taken before the instruction after the enabling csrsi.
    for (const l of g.log) expect(l.epc).toBe(g.sym("next"));
  });

  it("interrupts for M come before delegated ones, which then go to S in priority order", () => {
    const g = runGuest((a) => {
      a.li("t0", S_BITS).csrw("mideleg", "t0");
      a.li("t0", ALL_BITS).csrw("mie", "t0");
      a.li("t0", S_BITS).csrs("mip", "t0");
      softwareInterrupt(a);
      timerNow(a);
      enter(a, MODE.U, "umode"); // MIE = 0 and SIE = 0 do not matter below M / S
      a.label("umode").nop();
    });
    expect(irqs(g)).toEqual([
      ["M", IRQ.MSI],
      ["M", IRQ.MTI],
      ["S", IRQ.SEI],
      ["S", IRQ.SSI],
      ["S", IRQ.STI],
    ]);
    expect(g.log.every((l) => l.epc === g.sym("umode"))).toBe(true);
    expect(mppOf(g.log[0].status)).toBe(MODE.U);
    expect(g.log[2].status & (1 << 8)).toBe(0); // SPP = U
  });
});

describe("enables", () => {
  it("an M interrupt waits for its mie bit, then is taken before the next instruction", () => {
    const g = runGuest((a) => {
      a.csrsi("mstatus", MIE);
      softwareInterrupt(a);
      a.nop().nop();
      a.li("a0", 1);
      a.li("t0", bit(IRQ.MSI)).csrs("mie", "t0");
      a.label("after").li("a1", 2);
    });
    expect(g.log).toEqual([
      expect.objectContaining({ to: "M", interrupt: true, cause: IRQ.MSI, epc: g.sym("after") }),
    ]);
    expect(g.log[0].status & (1 << 7)).not.toBe(0); // MPIE = 1 (MIE was set)
    expect(g.log[0].status & MIE).toBe(0); // MIE cleared on entry
  });

  it("in M an enabled, pending M interrupt waits for mstatus.MIE", () => {
    const g = runGuest((a) => {
      a.li("t0", bit(IRQ.MTI)).csrs("mie", "t0");
      timerNow(a);
      a.nop().nop().li("a0", 1);
      a.csrsi("mstatus", MIE);
      a.label("after").nop();
    });
    expect(g.log).toEqual([
      expect.objectContaining({ interrupt: true, cause: IRQ.MTI, epc: g.sym("after") }),
    ]);
  });

  it("M interrupts are always enabled in S and U, whatever mstatus.MIE says", () => {
    for (const mode of [MODE.S, MODE.U] as const) {
      const g = runGuest((a) => {
        a.li("t0", bit(IRQ.MSI)).csrs("mie", "t0");
        softwareInterrupt(a);
        enter(a, mode, "lower"); // MPIE is 0 at reset, so MIE stays 0 after mret
        a.label("lower").nop();
      });
      expect(g.log[0]).toMatchObject({ to: "M", interrupt: true, cause: IRQ.MSI, epc: g.sym("lower") });
      expect(mppOf(g.log[0].status)).toBe(mode);
      expect(g.log[0].status & (1 << 7)).toBe(0); // MPIE: MIE was 0
    }
  });

  it("a delegated S interrupt is taken in S only with SIE, always in U, and never in M", () => {
    const g = runGuest((a) => {
      a.li("t0", bit(IRQ.SSI)).csrw("mideleg", "t0").csrs("mie", "t0").csrs("mip", "t0");
      a.li("t0", MIE | SIE).csrs("mstatus", "t0"); // both set in M: still not taken
      a.nop().nop();
      a.li("t0", SIE).csrc("mstatus", "t0");
      enter(a, MODE.S, "smode");
      a.label("smode").nop().nop();
      a.csrsi("sstatus", SIE);
      a.label("s_after").nop();
      // The S handler disabled sie.SSIE; re-arm and drop to U with SIE = 0.
      a.csrci("sstatus", SIE);
      a.li("t0", bit(IRQ.SSI)).csrs("sie", "t0");
      a.la("t0", "umode")
        .csrw("sepc", "t0")
        .li("t0", 1 << 8)
        .csrc("sstatus", "t0")
        .sret();
      a.label("umode").nop();
    });
    expect(g.log.map((l) => [l.to, l.cause, l.epc, l.interrupt])).toEqual([
      ["S", IRQ.SSI, g.sym("s_after"), true],
      ["S", IRQ.SSI, g.sym("umode"), true],
    ]);
    expect(g.log[0].status & (1 << 8)).not.toBe(0); // SPP = S
    expect(g.log[0].status & (1 << 5)).not.toBe(0); // SPIE = 1
    expect(g.log[1].status & (1 << 8)).toBe(0); // SPP = U
  });

  it("an S interrupt that is not delegated goes to M, even from S with SIE = 0", () => {
    const g = runGuest((a) => {
      a.li("t0", bit(IRQ.STI)).csrs("mie", "t0").csrs("mip", "t0");
      enter(a, MODE.S, "smode");
      a.label("smode").nop();
    });
    expect(g.log).toEqual([
      expect.objectContaining({ to: "M", interrupt: true, cause: IRQ.STI, epc: g.sym("smode") }),
    ]);
    expect(g.m.hart.scause).toBe(0);
  });
});

describe("delegation and pending-bit CSRs", () => {
  it("only the S-level bits of mideleg are writable", () => {
    const g = runGuest((a) => a.li("t0", -1).csrw("mideleg", "t0").csrr("a0", "mideleg"));
    expect(g.reg(REG.a0)).toBe(S_BITS);
  });

  it("M can write mip.SSIP/STIP/SEIP but not MSIP/MTIP/MEIP, which follow their sources", () => {
    const g = runGuest((a) => {
      a.li("t0", -1).csrw("mip", "t0").csrr("a0", "mip");
      a.csrw("mip", "zero");
      softwareInterrupt(a);
      timerNow(a);
      a.csrw("mip", "zero").csrr("a1", "mip"); // cannot clear MSIP or MTIP this way
      a.li("t0", CLINT_MSIP).sw("zero", 0, "t0");
      a.li("t0", CLINT_MTIMECMP).li("t1", -1).sw("t1", 4, "t0");
      a.csrr("a2", "mip");
    });
    expect(g.reg(REG.a0)).toBe(S_BITS);
    expect(g.reg(REG.a1)).toBe(bit(IRQ.MSI) | bit(IRQ.MTI));
    expect(g.reg(REG.a2)).toBe(0);
  });

  it("S sees sip/sie as mip/mie masked by mideleg and may write only sip.SSIP when it is delegated", () => {
    const g = runGuest((a) => {
      a.li("t0", bit(IRQ.SSI) | bit(IRQ.STI)).csrw("mideleg", "t0");
      a.li("t0", bit(IRQ.SEI)).csrs("mip", "t0"); // pending but not delegated: invisible in sip
      a.li("t0", ALL_BITS & ~bit(IRQ.SEI)).csrw("mie", "t0"); // (enabled, it would trap to M from S)
      enter(a, MODE.S, "smode");
      a.label("smode");
      a.csrr("a0", "sie");
      a.li("t0", -1).csrw("sie", "zero").csrr("a1", "sie").csrw("sie", "t0");
      a.csrr("a2", "sip");
      a.li("t0", -1).csrw("sip", "t0").csrr("a3", "sip");
      a.csrc("sip", "t0").csrr("s2", "sip");
      exit(a);
    });
    const h = g.m.hart;
    expect(g.reg(REG.a0)).toBe(bit(IRQ.SSI) | bit(IRQ.STI));
    expect(g.reg(REG.a1)).toBe(0);
    expect(h.mie).toBe(ALL_BITS & ~bit(IRQ.SEI)); // writing sie cannot touch M bits or undelegated S bits
    expect(g.reg(REG.a2)).toBe(0);
    expect(g.reg(REG.a3)).toBe(bit(IRQ.SSI)); // STIP is not writable from S
    expect(g.reg(18)).toBe(0);
    expect(h.mip & bit(IRQ.SEI)).not.toBe(0); // untouched by sip writes
    // SIE = 0 in S: the SSIP the guest set pended without trapping there.
    expect(g.log.filter((l) => l.to === "S")).toEqual([]);
  });

  it("sip.SSIP is read-only zero to S when SSIP is not delegated", () => {
    const g = runGuest((a) => {
      enter(a, MODE.S, "smode");
      a.label("smode").csrsi("sip", 2).csrr("a0", "sip");
    });
    expect(g.reg(REG.a0)).toBe(0);
    expect(g.m.hart.mip).toBe(0);
  });
});

describe("vectored trap vectors", () => {
  const EXC_SLOT = 0x100;
  /** A vector table: slot i records i (slot 0: EXC_SLOT) at s9++ then enters the logging handler. */
  function vectorTable(a: Assembler, handler: "__mtrap" | "__strap"): void {
    a.align(64).label(`${handler}_vt`);
    for (let i = 0; i < 12; i++) a.j(`${handler}_slot${i}`);
    for (let i = 0; i < 12; i++) {
      a.label(`${handler}_slot${i}`)
        .li("t6", i === 0 ? EXC_SLOT : i)
        .sw("t6", 0, "s9");
      a.addi("s9", "s9", 4).j(handler);
    }
  }

  it("mtvec mode 1 sends interrupts to base + 4 * cause and exceptions to base", () => {
    const g = runGuest((a) => {
      a.li("s9", 0x8031_0000);
      a.la("t0", "__mtrap_vt").ori("t0", "t0", 1).csrw("mtvec", "t0");
      a.csrr("a0", "mtvec");
      a.li("t0", bit(IRQ.MSI) | bit(IRQ.MTI)).csrw("mie", "t0");
      softwareInterrupt(a);
      timerNow(a);
      a.csrsi("mstatus", MIE);
      a.ebreak();
      a.li("t0", -1).sw("t0", 0, "s9"); // sentinel after the trap slots
      a.la("t0", "__mtrap").csrw("mtvec", "t0"); // exit through the direct vector
      exit(a);
      vectorTable(a, "__mtrap");
    });
    const slots = [0, 1, 2].map((i) => g.m.hart.readPhys(0x8031_0000 + 4 * i, 4));
    expect(g.reg(REG.a0)).toBe((g.sym("__mtrap_vt") | 1) >>> 0);
    expect(slots).toEqual([IRQ.MSI, IRQ.MTI, EXC_SLOT]);
    expect(g.m.hart.readPhys(0x8031_000c, 4)).toBe(0xffff_ffff);
    expect(g.log.map((l) => [l.interrupt, l.cause])).toEqual([
      [true, IRQ.MSI],
      [true, IRQ.MTI],
      [false, CAUSE.BREAKPOINT],
    ]);
  });

  it("stvec mode 1 does the same for traps delegated to S", () => {
    const g = runGuest((a) => {
      a.li("s9", 0x8031_0000);
      a.la("t0", "__strap_vt").ori("t0", "t0", 1).csrw("stvec", "t0");
      a.li("t0", bit(IRQ.SSI) | bit(IRQ.STI))
        .csrw("mideleg", "t0")
        .csrw("mie", "t0");
      a.li("t0", 1 << CAUSE.ECALL_U).csrw("medeleg", "t0");
      a.li("t0", bit(IRQ.STI) | bit(IRQ.SSI)).csrs("mip", "t0");
      enter(a, MODE.U, "umode");
      a.label("umode").nop().ecall();
      exit(a);
      vectorTable(a, "__strap");
    });
    const slots = [0, 1, 2, 3].map((i) => g.m.hart.readPhys(0x8031_0000 + 4 * i, 4));
    // The fourth entry is the exit ecall, also delegated.
    expect(slots).toEqual([IRQ.SSI, IRQ.STI, EXC_SLOT, EXC_SLOT]);
    expect(g.log.slice(0, 3).map((l) => [l.to, l.interrupt, l.cause])).toEqual([
      ["S", true, IRQ.SSI],
      ["S", true, IRQ.STI],
      ["S", false, CAUSE.ECALL_U],
    ]);
  });
});

describe("CLINT sources", () => {
  it("msip sets and clears mip.MSIP and reads back", () => {
    const g = runGuest((a) => {
      a.li("t0", CLINT_MSIP).li("t1", 1);
      a.csrr("a0", "mip");
      a.sw("t1", 0, "t0").csrr("a1", "mip").lw("a2", 0, "t0");
      a.sw("zero", 0, "t0").csrr("a3", "mip");
    });
    expect([g.reg(REG.a0), g.reg(REG.a1), g.reg(REG.a2), g.reg(REG.a3)]).toEqual([0, bit(IRQ.MSI), 1, 0]);
  });

  it("MTIP rises exactly when mtime reaches mtimecmp, and the interrupt is taken at that boundary", () => {
    const g = runGuest((a) => {
      a.li("t0", bit(IRQ.MTI)).csrw("mie", "t0");
      timerIn(a, 50);
      a.li("t0", CLINT_MTIMECMP).lw("s2", 0, "t0");
      a.csrr("a0", "mip");
      a.csrsi("mstatus", MIE);
      a.li("a7", EXIT_CALL); // the M handler powers off on the first trap
      // Two instructions per iteration, ten per tick: every tick is observed.
      a.label("spin").rdtime("a2").j("spin");
    });
    const h = g.m.hart;
    const cmp = g.reg(18);
    expect(g.reg(REG.a0) & bit(IRQ.MTI)).toBe(0);
    expect(h.mcause >>> 0).toBe((0x8000_0000 | IRQ.MTI) >>> 0);
    expect([g.sym("spin"), g.sym("spin") + 4]).toContain(h.mepc);
    // No rdtime saw the deadline (not late), and the last one saw the tick before it (not early).
    expect(g.reg(REG.a2)).toBe(cmp - 1);
    expect(h.mip & bit(IRQ.MTI)).not.toBe(0);
  });
});

describe("WFI", () => {
  it("with MIE = 0 resumes after wfi when the enabled timer fires, without a trap; time jumps to the deadline", () => {
    const g = runGuest((a) => {
      a.li("t0", bit(IRQ.MTI)).csrw("mie", "t0");
      timerIn(a, 100_000);
      a.li("t0", CLINT_MTIMECMP).lw("s2", 0, "t0");
      a.wfi();
      a.rdtime("a0");
      a.csrr("a1", "mip");
    });
    expect(g.log).toEqual([]);
    expect(g.reg(REG.a0)).toBe(g.reg(18)); // the time right after wfi is the deadline
    expect(g.reg(REG.a1) & bit(IRQ.MTI)).not.toBe(0);
    expect(g.r.instructions).toBeLessThan(200);
    expect(g.r.stats.cycles).toBeGreaterThanOrEqual(100_000 * g.m.hart.config.instructionsPerTick);
  });

  it("with MIE = 1 the interrupt is taken with mepc after the wfi", () => {
    const g = runGuest((a) => {
      a.li("t0", bit(IRQ.MTI)).csrw("mie", "t0");
      timerIn(a, 1000);
      a.csrsi("mstatus", MIE);
      a.wfi();
      a.label("after").nop();
    });
    expect(g.log).toEqual([
      expect.objectContaining({ interrupt: true, cause: IRQ.MTI, epc: g.sym("after") }),
    ]);
  });

  it("returns at once when an interrupt is already pending and enabled in mie, even one M never takes", () => {
    const g = runGuest((a) => {
      a.li("t0", bit(IRQ.SSI)).csrw("mideleg", "t0").csrs("mie", "t0").csrs("mip", "t0");
      a.csrsi("mstatus", MIE);
      a.wfi();
      a.li("a0", 1);
    });
    expect(g.log).toEqual([]);
    expect(g.reg(REG.a0)).toBe(1);
  });

  it.each([
    ["nothing pending or enabled", (_a: Assembler) => {}],
    ["a pending interrupt that mie does not enable", (a: Assembler) => softwareInterrupt(a)],
    [
      "an enabled timer whose deadline never comes",
      (a: Assembler) => a.li("t0", bit(IRQ.MTI)).csrw("mie", "t0"),
    ],
  ])("stops the run with reason wfi when waiting on %s", (_name, arm) => {
    const g = runGuest(
      (a) => {
        arm(a);
        a.csrsi("mstatus", MIE);
        a.label("w").wfi();
        a.li("a0", 1);
      },
      { expectReason: "wfi" },
    );
    expect(g.reg(REG.a0)).toBe(0);
    expect(g.log).toEqual([]);
  });
});
