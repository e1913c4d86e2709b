/**
 * The machine-mode handler socket (DESIGN.md, "The machine"): a TypeScript
 * MachineTrapHandler installed with setTrapHandler receives every trap that
 * would enter M-mode instead of the guest's mtvec, sees the hart as it was at
 * the trapping pc, and may change anything before the guest resumes. Traps
 * delegated to S are not its business: they still go to stvec.
 */
import { describe, expect, it } from "vitest";
import { CAUSE, CSR, IRQ } from "../src/csr.ts";
import { csrRead, csrWrite } from "../src/csrfile.ts";
import type { Hart, MachineTrapHandler } from "../src/hart.ts";
import type { Machine } from "../src/machine.ts";
import {
  CLINT_MSIP,
  csrWord,
  EXIT_CALL,
  enter,
  MODE,
  REG,
  runGuest,
  TEST_DEVICE,
} from "./support/priv-harness.ts";

interface Seen {
  cause: number;
  tval: number;
  interrupt: boolean;
  pc: number;
  priv: number;
  mcause: number;
}

/** Records every call; powers off on an ecall with a7 = EXIT_CALL; otherwise runs `react` (default: skip the instruction). */
class Recorder implements MachineTrapHandler {
  readonly seen: Seen[] = [];
  constructor(private readonly react?: (h: Hart, cause: number, tval: number, interrupt: boolean) => void) {}

  trap(h: Hart, cause: number, tval: number, interrupt: boolean): void {
    this.seen.push({ cause, tval, interrupt, pc: h.pc, priv: h.priv, mcause: h.mcause });
    if (!interrupt && h.x[REG.a7] === EXIT_CALL) {
      h.requestStop("exit", 0);
      return;
    }
    if (this.react) this.react(h, cause, tval, interrupt);
    else if (!interrupt) h.pc = (h.pc + 4) >>> 0;
  }
}

function withHandler(handler: Recorder): { setup: (m: Machine) => void } {
  return { setup: (m) => m.setTrapHandler(handler) };
}

describe("the M-mode trap handler socket", () => {
  it("receives exceptions from U, S and M with cause, tval and the trapping pc, instead of mtvec", () => {
    const rec = new Recorder();
    const g = runGuest(
      (a) => {
        a.label("m_brk").ebreak();
        enter(a, MODE.S, "smode");
        a.label("smode");
        a.label("s_ill").csrr("a0", "mstatus");
        a.li("t0", 0x2000_0001);
        a.label("s_ld").lw("a0", 1, "t0"); // misaligned
        a.la("t0", "umode")
          .csrw("sepc", "t0")
          .li("t0", 1 << 8)
          .csrc("sstatus", "t0")
          .sret();
        a.label("umode");
        a.label("u_call").ecall();
      },
      { ...withHandler(rec), config: { ramSize: 8 * 1024 * 1024, misaligned: "trap" } },
    );
    expect(rec.seen.slice(0, 4)).toEqual([
      {
        cause: CAUSE.BREAKPOINT,
        tval: g.sym("m_brk"),
        interrupt: false,
        pc: g.sym("m_brk"),
        priv: MODE.M,
        mcause: 0,
      },
      {
        cause: CAUSE.ILLEGAL_INSTRUCTION,
        tval: csrWord(2, REG.a0, 0x300, 0),
        interrupt: false,
        pc: g.sym("s_ill"),
        priv: MODE.S,
        mcause: 0,
      },
      {
        cause: CAUSE.MISALIGNED_LOAD,
        tval: 0x2000_0002,
        interrupt: false,
        pc: g.sym("s_ld"),
        priv: MODE.S,
        mcause: 0,
      },
      { cause: CAUSE.ECALL_U, tval: 0, interrupt: false, pc: g.sym("u_call"), priv: MODE.U, mcause: 0 },
    ]);
    // The guest's own M handler never ran and M's trap CSRs were never written.
    expect(g.log).toEqual([]);
    expect(g.m.hart.mcause).toBe(0);
    expect(g.m.hart.mepc >>> 0).toBe(g.sym("smode")); // as the guest's own mret left it
    expect(g.r.stats.traps).toMatchObject({ toHandler: 5, toM: 0 });
  });

  it("emulates an ecall from U: writes a0, advances pc and the guest carries on in U", () => {
    const rec = new Recorder((h, cause) => {
      if (cause !== CAUSE.ECALL_U) throw new Error(`unexpected cause ${cause}`);
      h.x[REG.a0] = h.x[REG.a0] * 2 + 1;
      h.pc = (h.pc + 4) >>> 0;
    });
    const g = runGuest(
      (a) => {
        enter(a, MODE.U, "umode");
        a.label("umode").li("a0", 20);
        a.ecall().ecall();
        a.mv("a1", "a0");
        // U powers off itself (no translation, nothing checks physical access from U here).
        a.li("t0", TEST_DEVICE).li("t1", 0x5555).sw("t1", 0, "t0");
      },
      { ...withHandler(rec), noExit: true },
    );
    expect(g.reg(REG.a1)).toBe(83);
    expect(rec.seen.map((s) => [s.cause, s.priv])).toEqual([
      [CAUSE.ECALL_U, MODE.U],
      [CAUSE.ECALL_U, MODE.U],
    ]);
    expect(g.m.hart.priv).toBe(MODE.U);
    // The two ecalls did not retire (exceptions never do); li, mv, li (lui), li (lui+addi), sw did.
    expect(g.m.hart.retiredBy(MODE.U)).toBe(1 + 1 + 1 + 2 + 1);
  });

  it("reads and writes CSRs with csrRead/csrWrite: emulates a custom CSR and sets state the guest then sees", () => {
    const rec = new Recorder((h, cause, tval) => {
      expect(cause).toBe(CAUSE.ILLEGAL_INSTRUCTION);
      // csrrs rd, 0x7c0, x0: give the guest a made-up value.
      expect(tval >>> 20).toBe(0x7c0);
      h.x[(tval >>> 7) & 31] = 0x1234_5678;
      csrWrite(h, CSR.sscratch, 0x0bad_cafe);
      expect(csrRead(h, CSR.mstatus)! & (3 << 11)).toBe(0); // the trap did not touch MPP
      h.pc = (h.pc + 4) >>> 0;
    });
    const g = runGuest((a) => {
      enter(a, MODE.S, "smode");
      a.label("smode").csrr("a2", 0x7c0).csrr("a3", "sscratch");
    }, withHandler(rec));
    expect(g.reg(REG.a2)).toBe(0x1234_5678);
    expect(g.reg(REG.a3)).toBe(0x0bad_cafe);
  });

  it("can redirect the guest: a fetch fault reported at the bad target, resumed at the return address", () => {
    const rec = new Recorder((h, cause, tval) => {
      expect(cause).toBe(CAUSE.FETCH_ACCESS);
      expect(h.pc).toBe(tval);
      h.pc = h.x[REG.ra] >>> 0;
      h.x[REG.a0] = 7;
    });
    const g = runGuest((a) => {
      a.li("t0", 0x2000_0000).jalr("ra", 0, "t0");
      a.label("ret").addi("a0", "a0", 1);
    }, withHandler(rec));
    expect(rec.seen[0]).toMatchObject({ cause: CAUSE.FETCH_ACCESS, tval: 0x2000_0000, pc: 0x2000_0000 });
    expect(g.reg(REG.a0)).toBe(8);
  });

  it("receives M-level interrupts with the interrupt flag and the pc to resume at", () => {
    const rec = new Recorder((h, cause, _tval, interrupt) => {
      expect(interrupt).toBe(true);
      expect(cause).toBe(IRQ.MSI);
      h.writePhys(CLINT_MSIP, 4, 0); // acknowledge at the source
    });
    const g = runGuest((a) => {
      a.li("t0", 1 << IRQ.MSI).csrw("mie", "t0");
      a.li("t0", CLINT_MSIP).li("t1", 1).sw("t1", 0, "t0");
      a.csrsi("mstatus", 1 << 3);
      a.label("next").li("a0", 5);
    }, withHandler(rec));
    expect(rec.seen[0]).toMatchObject({
      cause: IRQ.MSI,
      interrupt: true,
      tval: 0,
      pc: g.sym("next"),
      priv: MODE.M,
    });
    expect(rec.seen.filter((s) => s.interrupt)).toHaveLength(1);
    expect(g.reg(REG.a0)).toBe(5);
    expect(g.r.stats.traps.interrupts).toMatchObject({ machine_software: 1 });
  });

  it("does not see traps delegated to S: those still go to stvec", () => {
    const rec = new Recorder();
    const g = runGuest((a) => {
      a.li("t0", (1 << CAUSE.ECALL_U) | (1 << CAUSE.BREAKPOINT)).csrw("medeleg", "t0");
      a.li("t0", 1 << IRQ.SSI)
        .csrw("mideleg", "t0")
        .csrw("mie", "t0")
        .csrs("mip", "t0");
      enter(a, MODE.U, "umode");
      a.label("umode").nop(); // SSI taken here, in S
      a.label("u_call").ecall(); // delegated
      a.label("u_brk").ebreak(); // delegated
      a.label("u_ill").csrr("a0", "sstatus"); // not delegated: the socket
    }, withHandler(rec));
    expect(g.log.map((l) => [l.to, l.interrupt, l.cause, l.epc])).toEqual([
      ["S", true, IRQ.SSI, g.sym("umode")],
      ["S", false, CAUSE.ECALL_U, g.sym("u_call")],
      ["S", false, CAUSE.BREAKPOINT, g.sym("u_brk")],
    ]);
    // The exit ecall from U is delegated too: the S handler forwards it with an ecall from S.
    expect(rec.seen.map((s) => [s.cause, s.priv])).toEqual([
      [CAUSE.ILLEGAL_INSTRUCTION, MODE.U],
      [CAUSE.ECALL_S, MODE.S],
    ]);
    expect(g.r.stats.traps).toMatchObject({ toS: 4, toHandler: 2, toM: 0 });
  });

  it("a trap in M goes to the socket even when its cause is delegated", () => {
    const rec = new Recorder();
    runGuest((a) => {
      a.li("t0", -1).csrw("medeleg", "t0");
      a.ebreak();
    }, withHandler(rec));
    expect(rec.seen.map((s) => [s.cause, s.priv])).toEqual([
      [CAUSE.BREAKPOINT, MODE.M],
      [CAUSE.ECALL_M, MODE.M],
    ]);
  });

  it("once removed, traps go to mtvec again", () => {
    const rec = new Recorder();
    const g = runGuest(
      (a) => {
        a.label("first").ebreak();
        a.label("second").ebreak();
      },
      {
        setup: (m) => {
          m.setTrapHandler(rec);
          m.run({ maxInstructions: 1000, until: () => rec.seen.length > 0, slice: 1 });
          m.setTrapHandler(undefined);
        },
      },
    );
    expect(rec.seen.map((s) => s.pc)).toEqual([g.sym("first")]);
    expect(g.log.map((l) => [l.to, l.epc])).toEqual([["M", g.sym("second")]]);
  });
});
