/**
 * Sdtrig address-match triggers (tselect, tdata1-3, tinfo; mcontrol type 2):
 * a breakpoint exception with the address in mtval before an instruction
 * executes at, loads from or stores to tdata2, on the privileges its m/s/u
 * bits name; never in M-mode while mstatus.MIE is 0 (no tcontrol). What the
 * official rv32mi-p-breakpoint test checks, and the WARL read-backs.
 */
import { describe, expect, it } from "vitest";
import { CAUSE } from "../src/csr.ts";
import { runBench, TRAP_EXIT } from "./support/insn-harness.ts";

const TSELECT = 0x7a0;
const TDATA1 = 0x7a1;
const TDATA2 = 0x7a2;
const TINFO = 0x7a4;
const MCONTROL = 2 << 28;
const M = 1 << 6;
const EXECUTE = 1 << 2;
const STORE = 1 << 1;
const LOAD = 1 << 0;
const A0 = 10;

describe("Sdtrig triggers", () => {
  it("tinfo says mcontrol; tdata1 reads back what the breakpoint test writes; tselect holds 0 and 1 only", () => {
    const b = runBench((a) => {
      a.csrr("a0", TINFO);
      a.li("t0", MCONTROL | M | EXECUTE)
        .csrw(TDATA1, "t0")
        .csrr("a1", TDATA1);
      a.li("t0", 1).csrw(TSELECT, "t0").csrr("a2", TSELECT);
      a.li("t0", 7).csrw(TSELECT, "t0").csrr("a3", TSELECT);
      a.csrr("a4", TDATA1); // trigger 1 is still off
    });
    expect(b.r.exitCode).toBe(0);
    expect([b.reg(A0), b.reg(11), b.reg(12), b.reg(13), b.reg(14) >>> 0]).toEqual([
      4,
      MCONTROL | M | EXECUTE,
      1,
      1,
      MCONTROL,
    ]);
  });

  it.each([
    ["execute", EXECUTE, "target"],
    ["load", LOAD, "data"],
    ["store", STORE, "data"],
  ] as const)("an M-mode %s trigger raises a breakpoint with the address in mtval", (_, kind, where) => {
    const b = runBench(
      (a) => {
        a.csrsi("mstatus", 8); // MIE: M-mode triggers need it
        a.la("t0", where).csrw(TDATA2, "t0");
        a.li("t1", MCONTROL | M | kind).csrw(TDATA1, "t1");
        a.la("a1", "data").li("a2", 0x77);
        a.label("target").lw("a0", 0, "a1");
        a.sw("a2", 0, "a1");
      },
      { data: (a) => a.label("data").word(5) },
    );
    expect(b.r.exitCode).toBe(TRAP_EXIT);
    expect(b.m.hart.mcause).toBe(CAUSE.BREAKPOINT);
    const at = b.sym(where);
    expect(b.m.hart.mtval).toBe(at);
    expect(b.m.hart.mepc).toBe(kind === STORE ? b.sym("target") + 4 : b.sym("target"));
    expect(b.word(b.sym("data"))).toBe(5); // the store did not happen (timing "before")
  });

  it("does not fire in M-mode while MIE is 0, nor for a privilege it does not name", () => {
    for (const mode of [M, 1 << 3]) {
      const b = runBench(
        (a) => {
          if (mode === 1 << 3) a.csrsi("mstatus", 8); // U only: M-mode accesses never match
          a.la("t0", "data").csrw(TDATA2, "t0");
          a.li("t1", MCONTROL | mode | LOAD).csrw(TDATA1, "t1");
          a.la("a1", "data").lw("a0", 0, "a1");
        },
        { data: (a) => a.label("data").word(5) },
      );
      expect(b.r.exitCode).toBe(0);
      expect(b.reg(A0)).toBe(5);
    }
  });
});
