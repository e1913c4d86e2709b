/**
 * mcycle and minstret have 64-bit precision on RV32 (privileged spec 1.12,
 * 3.1.11): whatever software writes into the two halves reads back exactly,
 * counts up one per retired instruction and wraps modulo 2^64; writing either
 * half replaces the writing instruction's increment of the whole counter
 * (Zicsr), so the other half keeps the value it had before that instruction.
 */
import { describe, expect, it } from "vitest";
import { type Guest, REG, runGuest } from "./support/priv-harness.ts";

const regs = (g: Guest, ...n: number[]) => n.map((r) => g.reg(r));

describe.each([
  ["minstret", "minstreth"],
  ["mcycle", "mcycleh"],
] as const)("%s/%s", (low, high) => {
  it("all ones in both halves reads back exactly, then wraps to zero", () => {
    const g = runGuest((a) => {
      a.li("t0", -1).csrw(low, "t0").csrw(high, "t0");
      a.csrr("a0", low).csrr("a1", high);
      a.csrw(low, "t0").csrw(high, "t0").nop();
      a.csrr("a2", low).csrr("a3", high);
    });
    // a0 reads the written value; a1 runs one instruction later, after the low half carried out.
    expect(regs(g, REG.a0, REG.a1, REG.a2, REG.a3)).toEqual([0xffff_ffff, 0, 0, 0]);
  });

  it("a value above 2^53 reads back exactly and steps by one per instruction", () => {
    const g = runGuest((a) => {
      a.li("t0", 0x9abc_def0).li("t1", 0x1234_5678);
      a.csrw(low, "t0").csrw(high, "t1");
      a.csrr("a0", low).csrr("a1", low).csrr("a2", high);
    });
    expect(regs(g, REG.a0, REG.a1, REG.a2)).toEqual([0x9abc_def0, 0x9abc_def1, 0x1234_5678]);
  });

  it("writing the high half keeps the low half as it was before that instruction", () => {
    const g = runGuest((a) => {
      a.li("t0", -1).li("t1", 5);
      a.csrw(low, "t0").csrw(high, "t1");
      a.csrr("a0", low).csrr("a1", high);
    });
    expect(regs(g, REG.a0, REG.a1)).toEqual([0xffff_ffff, 6]);
  });
});
