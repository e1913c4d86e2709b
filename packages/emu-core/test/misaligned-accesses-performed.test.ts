/**
 * Misaligned loads and stores with the default `misaligned: "perform"`: they
 * complete as the hardware may (the official rv32ui ma_data test expects
 * it), little-endian across word and page boundaries, each counted in
 * stats.memory.misaligned; a fault on any page they touch leaves registers
 * and memory as they were.
 */
import { describe, expect, it } from "vitest";
import { CAUSE } from "../src/csr.ts";
import { RAM, runBench, TRAP_EXIT } from "./support/insn-harness.ts";

const A0 = 10;

const BYTES = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
const le = (off: number, n: number) => BYTES.slice(off, off + n).reduce((v, b, i) => v + b * 2 ** (8 * i), 0);
const data = (a: import("../src/asm/index.ts").Assembler) => a.label("buf").word(0x44332211, 0x88776655);

describe("misaligned loads are performed", () => {
  it.each([
    { insn: "lw", off: 1, want: le(1, 4) | 0 },
    { insn: "lw", off: 3, want: le(3, 4) | 0 },
    { insn: "lh", off: 3, want: (le(3, 2) << 16) >> 16 },
    { insn: "lh", off: 1, want: le(1, 2) },
    { insn: "lhu", off: 3, want: le(3, 2) },
  ] as const)("$insn at +$off reads the little-endian value and counts one access", ({ insn, off, want }) => {
    const b = runBench(
      (a) => {
        a.la("a1", "buf");
        if (insn === "lw") a.lw("a0", off, "a1");
        else if (insn === "lh") a.lh("a0", off, "a1");
        else a.lhu("a0", off, "a1");
      },
      { data },
    );
    expect(b.r.exitCode).toBe(0);
    expect(b.reg(A0)).toBe(want);
    expect(b.r.stats.memory.misaligned).toBe(1);
    expect(b.r.stats.traps.exceptions.misaligned_load).toBe(0);
  });
});

describe("misaligned stores are performed", () => {
  it.each([
    { insn: "sw", off: 1, width: 4 },
    { insn: "sw", off: 2, width: 4 },
    { insn: "sh", off: 3, width: 2 },
  ] as const)("$insn at +$off writes exactly its bytes", ({ insn, off, width }) => {
    const b = runBench(
      (a) => {
        a.la("a1", "buf").li("a2", 0xa1b2c3d4 | 0);
        if (insn === "sw") a.sw("a2", off, "a1");
        else a.sh("a2", off, "a1");
      },
      { data },
    );
    const want = [...BYTES];
    for (let i = 0; i < width; i++) want[off + i] = [0xd4, 0xc3, 0xb2, 0xa1][i];
    expect(Array.from({ length: 8 }, (_, i) => b.byte(b.sym("buf") + i))).toEqual(want);
    expect(b.r.stats.memory.misaligned).toBe(1);
  });

  it("a word stored across a page boundary lands on both pages", () => {
    const at = RAM + 0x2000 - 2;
    const b = runBench((a) => a.li("a1", at).li("a2", 0x0a0b0c0d).sw("a2", 0, "a1").lw("a0", 0, "a1"));
    expect(b.reg(A0)).toBe(0x0a0b0c0d);
    expect([b.byte(at), b.byte(at + 1), b.byte(at + 2), b.byte(at + 3)]).toEqual([0x0d, 0x0c, 0x0b, 0x0a]);
    expect(b.r.stats.memory.misaligned).toBe(2);
  });

  it("a store whose second half is beyond RAM faults there and writes nothing", () => {
    const end = RAM + (1 << 20); // the bench machine has 1 MiB
    const b = runBench((a) =>
      a
        .li("a1", end - 2)
        .li("a2", -1)
        .sw("a2", 0, "a1"),
    );
    expect(b.r.exitCode).toBe(TRAP_EXIT);
    expect(b.m.hart.mcause).toBe(CAUSE.STORE_ACCESS);
    expect(b.m.hart.mtval).toBe(end);
    expect([b.byte(end - 2), b.byte(end - 1)]).toEqual([0, 0]);
  });

  it("a misaligned access to a device is an access fault", () => {
    const b = runBench((a) => a.li("a1", 0x1000_0001).lw("a0", 0, "a1"));
    expect(b.r.exitCode).toBe(TRAP_EXIT);
    expect(b.m.hart.mcause).toBe(CAUSE.LOAD_ACCESS);
    expect(b.m.hart.mtval).toBe(0x1000_0001);
  });

  it("with misaligned: trap the same store raises address-misaligned and counts nothing", () => {
    const b = runBench((a) => a.la("a1", "buf").sw("zero", 1, "a1"), {
      data,
      machine: { misaligned: "trap" },
    });
    expect(b.m.hart.mcause).toBe(CAUSE.MISALIGNED_STORE);
    expect(b.r.stats.memory.misaligned).toBe(0);
  });
});
