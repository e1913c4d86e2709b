import { describe, expect, it } from "vitest";
import { PTE } from "../src/tlb.ts";
import {
  ACCESS_LOAD,
  ACCESS_STORE,
  newWalkCounters,
  type PteMemory,
  SV32,
  SV32X4,
  WalkResult,
  walkTable,
} from "../src/walker.ts";

/** A sparse PTE memory that records every reference. */
class MapPtes implements PteMemory {
  cause = 0;
  readonly words = new Map<number, number>();
  readonly reads: number[] = [];
  readonly writes: number[] = [];
  readPte(addr: number): number {
    this.reads.push(addr);
    return (this.words.get(addr) ?? 0) >>> 0;
  }
  writePte(addr: number, pte: number): void {
    this.writes.push(addr);
    this.words.set(addr, pte);
  }
}

const leaf = (ppn: number, flags: number) => ((ppn << 10) | flags) >>> 0;
const ptr = (ppn: number) => ((ppn << 10) | PTE.V) >>> 0;

describe("the one walker, by scheme", () => {
  it("Sv32x4 indexes a 16 KiB root with the two extra guest-physical bits", () => {
    const m = new MapPtes();
    const gpa = 3 * 2 ** 32 + 0x1234_5678; // a 34-bit guest-physical address
    const vpn1 = Math.floor(gpa / 2 ** 22) & 0xfff; // 12 bits: 0xc48
    expect(vpn1).toBeGreaterThan(0x3ff);
    m.words.set(0x1000 * 0x100 + vpn1 * 4, ptr(0x200));
    m.words.set(0x200 * 0x1000 + ((gpa >>> 12) & 0x3ff) * 4, leaf(0x777, PTE.V | PTE.R | PTE.U | PTE.A));
    const out = new WalkResult();
    const c = newWalkCounters();
    expect(walkTable(SV32X4, m, 0x100, gpa, ACCESS_LOAD, 0, false, false, true, c, out)).toBe(0);
    expect(out.ppn).toBe(0x777);
    expect(c).toMatchObject({ walks: 1, memRefs: 2, pages4K: 1 });
  });

  it("G-stage leaves without U and G-stage permission misses are guest-page faults (21/23)", () => {
    const m = new MapPtes();
    m.words.set(0x100 * 0x1000 + 0x200 * 4, leaf(0x400 << 0, PTE.V | PTE.R | PTE.W | PTE.A | PTE.D)); // megapage, no U
    const out = new WalkResult();
    const c = newWalkCounters();
    expect(walkTable(SV32X4, m, 0x100, 0x8000_0000, ACCESS_LOAD, 0, false, false, true, c, out)).toBe(21);
    expect(walkTable(SV32X4, m, 0x100, 0x8000_0000, ACCESS_STORE, 0, false, false, true, c, out)).toBe(23);
    // The same table under Sv32 at S privilege is a valid megapage.
    expect(walkTable(SV32, m, 0x100, 0x8000_0000, ACCESS_STORE, 1, false, false, true, c, out)).toBe(0);
    expect(out.mega).toBe(true);
  });

  it("A and D are written back only when the policy says so", () => {
    const m = new MapPtes();
    m.words.set(0x100 * 0x1000, leaf(0, PTE.V | PTE.R | PTE.W | PTE.U)); // megapage at 0
    const out = new WalkResult();
    const c = newWalkCounters();
    walkTable(SV32X4, m, 0x100, 0x10, ACCESS_STORE, 0, false, false, false, c, out);
    expect(m.writes).toEqual([]);
    walkTable(SV32X4, m, 0x100, 0x10, ACCESS_STORE, 0, false, false, true, c, out);
    expect(m.writes).toEqual([0x100000]);
    expect(out.flags & (PTE.A | PTE.D)).toBe(PTE.A | PTE.D);
    expect(c.adUpdates).toBe(1);
  });

  it("a PTE read stopped before memory (code -2) is not counted as a reference", () => {
    const m: PteMemory = { cause: 0, readPte: () => -2, writePte: () => {} };
    m.cause = 21;
    const c = newWalkCounters();
    expect(walkTable(SV32, m, 0x100, 0, ACCESS_LOAD, 1, false, false, true, c, new WalkResult())).toBe(21);
    expect(c).toMatchObject({ memRefs: 0, faults: 1 });
  });
});
