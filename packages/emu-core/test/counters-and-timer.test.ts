/**
 * Counters and timers (Zicntr; privileged spec 1.12, 3.1.10-3.1.11, 3.2.1,
 * 4.1.5; Sstc): the 64-bit counters through their CSR halves, counter
 * writes, mcounteren/scounteren gating, the CLINT comparator, stimecmp, and
 * determinism of time.
 */
import { describe, expect, it } from "vitest";
import { Assembler } from "../src/asm/index.ts";
import { CAUSE, IRQ } from "../src/csr.ts";
import { Machine } from "../src/machine.ts";
import {
  CLINT_MTIME,
  CLINT_MTIMECMP,
  csrWord,
  EXIT_CALL,
  enter,
  type Guest,
  MODE,
  RAM,
  REG,
  runGuest,
  TEST_DEVICE,
} from "./support/priv-harness.ts";

const STCE = 0x8000_0000; // menvcfgh bit 31 = menvcfg.STCE (bit 63)
const STI = 1 << IRQ.STI;
const SIE = 1 << 1;
const S2 = 18;

const regs = (g: Guest, ...n: number[]) => n.map((r) => g.reg(r));

describe("reading the counters", () => {
  it("cycle/mcycle, instret/minstret and time agree, and successive reads step by the instructions between", () => {
    const g = runGuest((a) => {
      a.nop().nop().nop();
      a.rdinstret("a0").csrr("a1", "minstret").rdinstret("a2");
      a.rdcycle("a3").csrr("a4", "mcycle");
      a.rdtime("a5").li("t0", CLINT_MTIME).lw("a6", 0, "t0");
      a.rdinstreth("s2").rdcycleh("s3").rdtimeh("s4").csrr("s5", "minstreth").csrr("s6", "mcycleh");
    });
    const [i0, i1, i2, c0, c1, t0, t1] = regs(g, REG.a0, REG.a1, REG.a2, REG.a3, REG.a4, REG.a5, REG.a6);
    expect(i1 - i0).toBe(1);
    expect(i2 - i1).toBe(1);
    expect(c1 - c0).toBe(1);
    // No WFI: one cycle per retired instruction, both from 0 at reset.
    expect(c0).toBe(i2 + 1);
    // Deterministic time: floor(instret / instructionsPerTick), rdtime two instructions after rdcycle.
    expect(t0).toBe(Math.floor((c0 + 2) / g.m.hart.config.instructionsPerTick));
    expect(t1 - t0).toBeLessThanOrEqual(1);
    expect(regs(g, S2, 19, 20, 21, 22)).toEqual([0, 0, 0, 0, 0]);
  });

  it("a counter read sees the count before its own instruction", () => {
    const a = new Assembler({ text: RAM });
    a.csrr("a0", "minstret").csrr("a1", "mcycle").rdinstret("a2");
    a.li("t0", TEST_DEVICE).li("t1", 0x5555).sw("t1", 0, "t0");
    const m = new Machine({ ramSize: 1 << 20 });
    m.load(a.assemble());
    expect(m.run({ maxInstructions: 100 }).reason).toBe("exit");
    expect([m.hart.x[REG.a0], m.hart.x[REG.a1], m.hart.x[REG.a2]]).toEqual([0, 1, 2]);
  });
});

describe("writing the counters", () => {
  it("a value written to minstret or mcycle is what the next instruction reads", () => {
    const g = runGuest((a) => {
      a.li("t0", 1000).csrw("minstret", "t0").csrr("a0", "minstret").rdinstret("a1");
      a.li("t0", 5000).csrw("mcycle", "t0").csrr("a2", "mcycle").rdcycle("a3");
    });
    expect(regs(g, REG.a0, REG.a1, REG.a2, REG.a3)).toEqual([1000, 1001, 5000, 5001]);
  });

  it("the high halves are writable and the low half carries into them", () => {
    const g = runGuest((a) => {
      a.li("t0", -1);
      a.csrw("minstreth", "zero").csrw("minstret", "t0");
      a.nop();
      a.csrr("a0", "minstret").csrr("a1", "minstreth");
      a.li("t0", 7).csrw("mcycleh", "t0").rdcycleh("a2");
      a.li("t0", 3).csrw("minstreth", "t0").rdinstreth("a3");
    });
    expect(regs(g, REG.a0, REG.a1, REG.a2, REG.a3)).toEqual([0, 1, 7, 3]);
  });

  it("the unprivileged counters and time are read-only", () => {
    for (const csr of [0xc00, 0xc01, 0xc02, 0xc80, 0xc81, 0xc82]) {
      const g = runGuest((a) => a.label("insn").csrw(csr, "zero"));
      expect(g.log).toEqual([
        expect.objectContaining({
          cause: CAUSE.ILLEGAL_INSTRUCTION,
          tval: csrWord(1, 0, csr, 0),
          epc: g.sym("insn"),
        }),
      ]);
    }
  });
});

describe("mcountinhibit", () => {
  it("a CY or IR bit that reads back set stops its counter; one that does not stick leaves it counting", () => {
    const g = runGuest((a) => {
      a.li("t0", -1).csrw("mcountinhibit", "t0").csrr("a0", "mcountinhibit");
      a.rdcycle("a1").rdinstret("a2").nop().nop().rdcycle("a3").rdinstret("a4");
      a.csrw("mcountinhibit", "zero");
    });
    const inhibit = g.reg(REG.a0);
    expect(inhibit & 2).toBe(0); // TM does not exist
    expect(g.reg(REG.a3) - g.reg(REG.a1)).toBe(inhibit & 1 ? 0 : 4);
    expect(g.reg(REG.a4) - g.reg(REG.a2)).toBe(inhibit & 4 ? 0 : 4);
  });
});

describe("mcounteren and scounteren", () => {
  /** Read `csr` in `mode` with the given enables; returns whether it trapped and the value read. */
  function readIn(mode: 0 | 1, csr: number, mcounteren: number, scounteren: number) {
    const g = runGuest((a) => {
      a.li("t0", mcounteren).csrw("mcounteren", "t0");
      a.li("t0", scounteren).csrw("scounteren", "t0");
      a.li("a0", -1);
      enter(a, mode, "lower");
      a.label("lower").csrr("a0", csr);
    });
    return { trapped: g.log.length > 0, log: g.log, value: g.reg(REG.a0), g };
  }

  it.each([
    ["cycle", 0xc00, 0],
    ["time", 0xc01, 1],
    ["instret", 0xc02, 2],
    ["cycleh", 0xc80, 0],
    ["timeh", 0xc81, 1],
    ["instreth", 0xc82, 2],
    ["hpmcounter3", 0xc03, 3],
    ["hpmcounter31h", 0xc9f, 31],
  ])("%s: S needs mcounteren bit; U needs it in both", (_n, csr, b) => {
    const on = 1 << b;
    const other = ~on >>> 0;
    const sOff = readIn(MODE.S, csr, other, -1);
    expect(sOff.log).toEqual([
      expect.objectContaining({
        to: "M",
        cause: CAUSE.ILLEGAL_INSTRUCTION,
        tval: csrWord(2, REG.a0, csr, 0),
      }),
    ]);
    expect(sOff.value).toBe(0xffff_ffff);
    expect(readIn(MODE.S, csr, on, 0).trapped).toBe(false);
    expect(readIn(MODE.U, csr, on, other).trapped).toBe(true);
    expect(readIn(MODE.U, csr, other, on).trapped).toBe(true);
    const both = readIn(MODE.U, csr, on, on);
    expect(both.trapped).toBe(false);
    if (b === 3 || b === 31) expect(both.value).toBe(0); // hardware performance monitors read 0
  });

  it("M reads every counter whatever the enables say", () => {
    const g = runGuest((a) => {
      a.csrw("mcounteren", "zero").csrw("scounteren", "zero");
      a.rdcycle("a0").rdtime("a1").rdinstret("a2").csrr("a3", 0xc03);
    });
    expect(g.log).toEqual([]);
    expect(g.reg(REG.a2)).toBeGreaterThan(0);
  });
});

describe("CLINT comparator", () => {
  it("the spec's RV32 update sequence (high = -1, low, high) does not fire early and reads back exactly", () => {
    const g = runGuest((a) => {
      a.li("t0", CLINT_MTIMECMP).li("t1", -1).li("t2", 0x1234_5678).li("t3", 0x42);
      a.sw("t1", 4, "t0").sw("t2", 0, "t0").sw("t3", 4, "t0");
      a.csrr("a0", "mip").lw("a1", 0, "t0").lw("a2", 4, "t0");
      // Then a deadline 0x10 ticks ahead, written the same way.
      a.sw("t1", 4, "t0").li("t2", CLINT_MTIME).lw("t2", 0, "t2").addi("t2", "t2", 0x10);
      a.sw("t2", 0, "t0").sw("zero", 4, "t0");
      a.csrr("a3", "mip");
    });
    expect(g.reg(REG.a0) & (1 << IRQ.MTI)).toBe(0);
    expect(regs(g, REG.a1, REG.a2)).toEqual([0x1234_5678, 0x42]);
    expect(g.reg(REG.a3) & (1 << IRQ.MTI)).toBe(0);
    expect(g.m.hart.mtimecmp).toBeGreaterThan(g.m.hart.mtime - 100);
  });

  it("writing mtime moves time and the time CSR with it", () => {
    const g = runGuest((a) => {
      a.li("t0", CLINT_MTIME).li("t1", 0x10_0000).sw("t1", 0, "t0").sw("zero", 4, "t0");
      a.rdtime("a0").rdtimeh("a1");
      a.li("t1", 2).sw("t1", 4, "t0").rdtimeh("a2");
    });
    expect(g.reg(REG.a0) - 0x10_0000).toBeLessThanOrEqual(1);
    expect(g.reg(REG.a0)).toBeGreaterThanOrEqual(0x10_0000);
    expect(regs(g, REG.a1, REG.a2)).toEqual([0, 2]);
  });
});

describe("Sstc", () => {
  /** M prelude: STCE, mcounteren.TM, STI delegated and enabled; then S runs `body`. */
  function sstc(body: (a: Assembler) => void, opts: { stce?: boolean; tm?: boolean } = {}) {
    return runGuest((a) => {
      if (opts.stce ?? true) a.li("t0", STCE).csrw("menvcfgh", "t0");
      if (opts.tm ?? true) a.csrwi("mcounteren", 2);
      a.li("t0", STI).csrw("mideleg", "t0").csrw("mie", "t0");
      enter(a, MODE.S, "smode");
      a.label("smode");
      body(a);
    });
  }

  it("menvcfgh.STCE reads back; the other bits of menvcfgh are read-only zero", () => {
    const g = runGuest((a) => a.li("t0", -1).csrw("menvcfgh", "t0").csrr("a0", "menvcfgh"));
    expect(g.reg(REG.a0)).toBe(STCE);
  });

  it("S sets stimecmp and takes a supervisor timer interrupt exactly when time reaches it", () => {
    const g = sstc((a) => {
      a.rdtime("t1").addi("t1", "t1", 40);
      a.li("t0", -1).csrw("stimecmph", "t0").csrw("stimecmp", "t1").csrw("stimecmph", "zero");
      a.csrr("s2", "stimecmp").csrr("s3", "stimecmph");
      a.csrr("s4", "sip");
      a.csrsi("sstatus", SIE);
      a.li("a7", EXIT_CALL); // the S handler's first trap exits
      a.label("spin").rdtime("a2").j("spin");
    });
    const h = g.m.hart;
    const cmp = g.reg(S2);
    expect(g.reg(19)).toBe(0);
    expect(g.reg(20) & STI).toBe(0);
    expect(h.scause >>> 0).toBe((0x8000_0000 | IRQ.STI) >>> 0);
    expect([g.sym("spin"), g.sym("spin") + 4]).toContain(h.sepc);
    expect(g.reg(REG.a2)).toBe(cmp - 1);
    expect(h.mip & STI).toBe(STI);
  });

  it("with STCE, STIP follows stimecmp and M cannot write it in mip", () => {
    const g = runGuest((a) => {
      a.li("t0", STCE).csrw("menvcfgh", "t0");
      a.li("t0", STI).csrs("mip", "t0").csrr("a0", "mip"); // stimecmp is far away
      a.csrw("stimecmp", "zero").csrw("stimecmph", "zero");
      a.li("t0", STI).csrc("mip", "t0").csrr("a1", "mip"); // cannot clear it either
      a.csrw("menvcfgh", "zero").csrr("a2", "mip"); // without STCE: the software bit again (clear)
      a.li("t0", STI).csrs("mip", "t0").csrr("a3", "mip");
    });
    expect(regs(g, REG.a0, REG.a1, REG.a2, REG.a3).map((v) => v & STI)).toEqual([0, STI, 0, STI]);
  });

  it("S-mode access to stimecmp is illegal without STCE or without mcounteren.TM; M may always access it", () => {
    for (const opts of [{ stce: false }, { tm: false }]) {
      const g = sstc((a) => a.label("insn").csrw("stimecmp", "zero"), opts);
      expect(g.log).toEqual([
        expect.objectContaining({
          to: "M",
          cause: CAUSE.ILLEGAL_INSTRUCTION,
          epc: g.sym("insn"),
          tval: csrWord(1, 0, 0x14d, 0),
        }),
      ]);
    }
    const m = runGuest((a) =>
      a
        .li("t0", 123)
        .csrw("stimecmph", "zero")
        .csrw("stimecmp", "t0")
        .csrr("a0", "stimecmp")
        .csrr("a1", "stimecmph"),
    );
    expect(m.log).toEqual([]);
    expect(regs(m, REG.a0, REG.a1)).toEqual([123, 0]);
  });

  it("without STCE stimecmp does not raise STIP", () => {
    const g = runGuest((a) => {
      a.csrw("stimecmp", "zero").csrw("stimecmph", "zero");
      a.nop().csrr("a0", "mip");
    });
    expect(g.reg(REG.a0) & STI).toBe(0);
  });

  it("WFI in S jumps time to stimecmp", () => {
    const g = sstc((a) => {
      a.rdtime("t1").li("t2", 1_000_000).add("t1", "t1", "t2");
      a.csrw("stimecmph", "zero").csrw("stimecmp", "t1");
      a.wfi();
      a.rdtime("a0");
      a.csrr("a1", "sip");
      a.mv("s2", "t1");
    });
    expect(g.log).toEqual([]); // SIE = 0: resumes without a trap
    expect(g.reg(REG.a0)).toBe(g.reg(S2));
    expect(g.reg(REG.a1) & STI).toBe(STI);
    expect(g.r.instructions).toBeLessThan(200);
  });
});

describe("determinism", () => {
  it("the same program gives the same counters, time and trap points every run", () => {
    const program = (a: Assembler) => {
      a.li("t0", STCE).csrw("menvcfgh", "t0").csrwi("mcounteren", 7).csrwi("scounteren", 7);
      a.li("t0", STI).csrw("mideleg", "t0").csrw("mie", "t0");
      a.li("t0", CLINT_MTIMECMP).li("t1", -1).sw("t1", 4, "t0");
      a.li("t0", 1 << IRQ.MTI).csrs("mie", "t0");
      enter(a, MODE.U, "umode");
      a.label("umode");
      a.li("s2", 0).li("s3", 300);
      a.label("loop").rdcycle("t0").add("s2", "s2", "t0").rdtime("t0").add("s2", "s2", "t0");
      a.rdinstret("t0").xor("s2", "s2", "t0").addi("s3", "s3", -1).bnez("s3", "loop");
      a.rdcycle("a0").rdtime("a1").rdinstret("a2");
    };
    const runs = [0, 1].map(() => {
      const g = runGuest(program);
      return {
        regs: regs(g, S2, REG.a0, REG.a1, REG.a2),
        stats: g.r.stats,
        time: g.m.hart.mtime,
      };
    });
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[0].regs[1]).toBeGreaterThan(900);
  });
});
