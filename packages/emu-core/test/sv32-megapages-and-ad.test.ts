/**
 * Sv32 megapages and the A/D bits (privileged spec 1.12, 4.3.1-4.3.2): a
 * level-1 leaf maps 4 MiB with PA = ppn[1] << 22 | va[21:0]; a level-1 leaf
 * with ppn[0] != 0 is a misaligned superpage (page fault); the walker sets A
 * on the first access and D on the first store, writing the PTE back to
 * memory, and every PTE read and write-back is a counted memory reference.
 *
 * Accesses are real lw/sw instructions run in M-mode with MPRV=1, MPP=S: the
 * data accesses are translated, the fetches are not, so the TLB and walk
 * counters see exactly the accesses each test makes.
 */
import { describe, expect, it } from "vitest";
import { CAUSE } from "../src/csr.ts";
import type { Machine } from "../src/machine.ts";
import { newWalkCounters, type WalkCounters } from "../src/mmu.ts";
import {
  A,
  bootStub,
  D,
  Driver,
  loadCodeAt,
  MEGA,
  newMachine,
  PAGE,
  PageTables,
  pte,
  R,
  RAM,
  U,
  V,
  W,
  X,
} from "./support/mmu-harness.ts";

const RAM_SIZE = 8 * 1024 * 1024;
const TABLES = RAM + 0x1_0000;
const DRIVER_CODE = RAM + 0x8000;

function rig() {
  const m = newMachine(undefined, RAM_SIZE);
  const pt = new PageTables(m.hart, TABLES);
  const d = new Driver(m, DRIVER_CODE);
  d.setSatp(pt.satp(0));
  d.mprv(1);
  return { m, h: m.hart, pt, d };
}

function walkDelta(m: Machine, before: WalkCounters): WalkCounters {
  const out = newWalkCounters();
  for (const k of Object.keys(out) as (keyof WalkCounters)[]) out[k] = m.hart.walkCounters[k] - before[k];
  return out;
}

describe("4 MiB megapages", () => {
  it("compose the physical address from ppn[1] and the low 22 bits of the virtual address", () => {
    const { h, pt, d } = rig();
    pt.mapMega(0x00c0_0000, RAM + MEGA, V | R | W | A | D); // VA 12 MiB -> PA RAM + 4 MiB
    pt.mapMega(0x0100_0000, RAM, V | R | W | A | D); // VA 16 MiB -> PA RAM
    h.writePhys(RAM + MEGA + 0x12_3454, 4, 0xaabbccdd);
    h.writePhys(RAM + 0x2_0040, 4, 0x01020304);
    expect(d.load(0x00c0_0000 + 0x12_3454)).toBe(0xaabbccdd);
    expect(d.load(0x0100_0000 + 0x2_0040)).toBe(0x01020304);
    d.store(0x00c0_0000 + 0x3f_f008, 0x600d600d); // last 4 KiB page of the megapage
    expect(h.readPhys(RAM + MEGA + 0x3f_f008, 4)).toBe(0x600d600d);
    expect(h.readPhys(RAM + 0x3f_f008, 4)).toBe(0); // not the other megapage's frame
  });

  it("one TLB entry serves every 4 KiB page of the megapage; walks end at level 1", () => {
    const { m, h, pt, d } = rig();
    pt.mapMega(0x00c0_0000, RAM + MEGA, V | R | W | A | D);
    const w0 = { ...h.walkCounters };
    const t0 = { ...h.dtlb.counters };
    for (let p = 0; p < 1024; p += 97) d.load(0x00c0_0000 + p * PAGE + 8); // 11 different 4 KiB pages
    expect(walkDelta(m, w0)).toEqual({
      walks: 1,
      endedLevel1: 1,
      endedLevel0: 0,
      pages4K: 0,
      pages4M: 1,
      faults: 0,
      memRefs: 1, // the level-1 PTE; A and D already set
      adUpdates: 0,
    });
    expect(h.dtlb.counters.lookups - t0.lookups).toBe(11);
    expect(h.dtlb.counters.misses - t0.misses).toBe(1);
    expect(h.dtlb.counters.hits - t0.hits).toBe(10);
    expect(h.dtlb.occupancy()).toBe(1);
  });

  it("a megapage whose ppn[0] is not zero is misaligned: page fault, PTE untouched", () => {
    const { m, h, pt, d } = rig();
    const flags = V | R | W; // A and D clear: a successful walk would set them
    const at = pt.mapMega(0x00c0_0000, RAM + MEGA + PAGE, flags); // ppn[0] = 1
    for (const [insn, cause] of [
      ["lw a0, 8(a1)", CAUSE.LOAD_PAGE_FAULT],
      ["sw a0, 8(a1)", CAUSE.STORE_PAGE_FAULT],
    ] as const) {
      d.mprv(1);
      const w0 = { ...h.walkCounters };
      expect(d.exec(insn, { a1: 0x00c0_0000 }).cause).toBe(cause);
      expect(h.mtval).toBe(0x00c0_0008);
      expect(walkDelta(m, w0)).toMatchObject({
        walks: 1,
        endedLevel1: 1,
        faults: 1,
        memRefs: 1,
        adUpdates: 0,
      });
    }
    expect(pt.read(at)).toBe(pte(RAM + MEGA + PAGE, flags));
    expect(h.dtlb.occupancy()).toBe(0);
  });

  it("the walker sets A on the first load and D on the first store of a megapage", () => {
    const { m, h, pt, d } = rig();
    const at = pt.mapMega(0x00c0_0000, RAM + MEGA, V | R | W);
    const w0 = { ...h.walkCounters };
    d.load(0x00c0_0000);
    expect(pt.read(at)).toBe(pte(RAM + MEGA, V | R | W | A));
    d.store(0x00c0_1000, 5); // another 4 KiB page, same megapage entry, D clear: re-walk
    expect(pt.read(at)).toBe(pte(RAM + MEGA, V | R | W | A | D));
    expect(walkDelta(m, w0)).toEqual({
      walks: 2,
      endedLevel1: 2,
      endedLevel0: 0,
      pages4K: 0,
      pages4M: 2,
      faults: 0,
      memRefs: 4, // (1 read + 1 write-back) x 2
      adUpdates: 2,
    });
  });
});

describe("A and D bits", () => {
  const VA = 0x0040_3000;
  const FRAME = RAM + 0x4_0000;

  it("A is set by the first access, D by the first store; a store through a load-filled entry re-walks", () => {
    const { m, h, pt, d } = rig();
    const at = pt.map(VA, FRAME, V | R | W);
    const w0 = { ...h.walkCounters };
    const t0 = { ...h.dtlb.counters };

    d.load(VA + 4);
    expect(pt.read(at)).toBe(pte(FRAME, V | R | W | A)); // A only
    expect(walkDelta(m, w0)).toMatchObject({
      walks: 1,
      endedLevel0: 1,
      pages4K: 1,
      memRefs: 3,
      adUpdates: 1,
    });

    d.load(VA + 8); // TLB hit: no walk
    expect(walkDelta(m, w0)).toMatchObject({ walks: 1, memRefs: 3 });

    d.store(VA + 12, 99); // the entry has D clear: it cannot serve the store, so walk again
    expect(pt.read(at)).toBe(pte(FRAME, V | R | W | A | D));
    expect(h.readPhys(FRAME + 12, 4)).toBe(99);
    expect(walkDelta(m, w0)).toEqual({
      walks: 2,
      endedLevel1: 0,
      endedLevel0: 2,
      pages4K: 2,
      pages4M: 0,
      faults: 0,
      memRefs: 6, // 2 PTE reads + 1 write-back, twice
      adUpdates: 2,
    });

    d.store(VA + 16, 7); // now the refreshed entry serves stores
    expect(walkDelta(m, w0).walks).toBe(2);
    const t = h.dtlb.counters;
    expect({
      lookups: t.lookups - t0.lookups,
      hits: t.hits - t0.hits,
      misses: t.misses - t0.misses,
      fills: t.fills - t0.fills,
      evictions: t.evictions - t0.evictions,
    }).toEqual({ lookups: 4, hits: 2, misses: 2, fills: 2, evictions: 0 });
    expect(h.dtlb.occupancy()).toBe(1); // refreshed in place, not duplicated
  });

  it("a first store sets A and D in one write-back", () => {
    const { m, h, pt, d } = rig();
    const at = pt.map(VA, FRAME, V | R | W);
    const w0 = { ...h.walkCounters };
    d.store(VA, 1);
    expect(pt.read(at)).toBe(pte(FRAME, V | R | W | A | D));
    expect(walkDelta(m, w0)).toMatchObject({ walks: 1, memRefs: 3, adUpdates: 1 });
    d.load(VA);
    expect(walkDelta(m, w0)).toMatchObject({ walks: 1, memRefs: 3, adUpdates: 1 });
    void h;
  });

  it("a load-filled entry whose PTE already had D serves stores without a walk", () => {
    const { m, h, pt, d } = rig();
    pt.map(VA, FRAME, V | R | W | A | D);
    const w0 = { ...h.walkCounters };
    d.load(VA);
    d.store(VA, 3);
    expect(walkDelta(m, w0)).toMatchObject({ walks: 1, memRefs: 2, adUpdates: 0 });
    expect(h.dtlb.counters.misses).toBe(1);
  });

  it("a faulting access does not set A or D", () => {
    const { h, pt, d } = rig();
    const at = pt.map(VA, FRAME, V | R); // read-only, A clear
    expect(d.exec("sw a0, 0(a1)", { a1: VA }).cause).toBe(CAUSE.STORE_PAGE_FAULT);
    expect(pt.read(at)).toBe(pte(FRAME, V | R));
    expect(h.walkCounters).toMatchObject({ faults: 1, adUpdates: 0, memRefs: 2 });
  });

  it("the walker leaves non-leaf PTEs alone", () => {
    const { pt, d } = rig();
    pt.map(VA, FRAME, V | R | W);
    const l1 = pt.read(pt.l1(VA));
    d.store(VA, 1);
    expect(pt.read(pt.l1(VA))).toBe(l1);
  });
});

describe("walk counters across a U-mode program", () => {
  it("count walks by level, PTE reads and A/D write-backs exactly", () => {
    // U code in a 4 KiB page, U data in 4 KiB pages and in a megapage; every
    // PTE starts with A and D clear. Program: load p0, store p1, load mega,
    // store mega (same entry, D clear), ecall.
    const m = newMachine(undefined, RAM_SIZE);
    const h = m.hart;
    const pt = new PageTables(h, TABLES);
    const CODE = 0x0040_0000;
    const P0 = 0x0040_1000;
    const P1 = 0x0040_2000;
    const MEGA_VA = 0x0080_0000;
    const codeAt = pt.map(CODE, RAM + 0x5_0000, V | R | X | U);
    const p0At = pt.map(P0, RAM + 0x5_1000, V | R | W | U);
    const p1At = pt.map(P1, RAM + 0x5_2000, V | R | W | U);
    const megaAt = pt.mapMega(MEGA_VA, RAM + MEGA, V | R | W | U);
    h.writePhys(RAM + 0x5_1000, 4, 41);
    h.writePhys(RAM + MEGA + 0x1_0000, 4, 1);
    loadCodeAt(m, RAM + 0x5_0000, (a) => {
      a.lui("s0", P0 >>> 12).lw("a0", 0, "s0"); // a0 = 41
      a.lui("s1", P1 >>> 12).sw("a0", 8, "s1");
      a.lui("s2", (MEGA_VA + 0x1_0000) >>> 12).lw("a1", 0, "s2"); // a1 = 1
      a.add("a0", "a0", "a1").sw("a0", 4, "s2"); // 42 into the megapage
      a.ecall();
    });
    bootStub(m, { satp: pt.satp(0), entry: CODE });
    const r = m.run({ maxInstructions: 1000 });
    expect(r.reason).toBe("exit");
    expect(r.exitCode).toBe(0);
    expect(h.readPhys(RAM + 0x5_2008, 4)).toBe(41);
    expect(h.readPhys(RAM + MEGA + 0x1_0004, 4)).toBe(42);
    expect(pt.read(codeAt)).toBe(pte(RAM + 0x5_0000, V | R | X | U | A));
    expect(pt.read(p0At)).toBe(pte(RAM + 0x5_1000, V | R | W | U | A));
    expect(pt.read(p1At)).toBe(pte(RAM + 0x5_2000, V | R | W | U | A | D));
    expect(pt.read(megaAt)).toBe(pte(RAM + MEGA, V | R | W | U | A | D));
    // Walks: code (4K), p0 (4K), p1 (4K, A+D in one write), mega load (A),
    // mega store (D clear in the entry: re-walk, D).
    expect(r.stats.walk).toEqual({
      walks: 5,
      endedLevel1: 2,
      endedLevel0: 3,
      pages4K: 3,
      pages4M: 2,
      faults: 0,
      memRefs: 3 * 3 + 2 * 2,
      adUpdates: 5,
    });
    // Every U fetch is a lookup (9 instructions incl. ecall) plus 4 data accesses.
    expect(r.stats.tlb.tlb).toMatchObject({ lookups: 13, misses: 5, hits: 8, fills: 5, evictions: 0 });
  });
});
