/**
 * SFENCE.VMA (privileged spec 1.12, 4.2.1) against the TLB model. The TLB is
 * a model of a real one: after a PTE changes in memory, the old translation
 * stays in use until an sfence.vma removes it. Each test fills the TLB,
 * rewrites PTEs in memory to point at new frames, runs one sfence.vma form,
 * and observes which translations are old (survived) and which are new
 * (flushed and re-walked), together with the flush counters.
 *
 * rs1/rs2 select the form by register number, not value: x0 means "all
 * addresses"/"all ASIDs"; any other register, even one holding 0, names an
 * address or ASID.
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../src/machine.ts";
import type { TlbCounters } from "../src/tlb.ts";
import {
  A,
  bootStub,
  D,
  Driver,
  G,
  loadCodeAt,
  MEGA,
  newMachine,
  PageTables,
  pte,
  R,
  RAM,
  tlbConfig,
  V,
  W,
  X,
} from "./support/mmu-harness.ts";

const TABLES = RAM + 0x1_0000;
const DRIVER_CODE = RAM + 0x8000;
const P = 0x0040_1000; // non-global
const Q = 0x0040_2000; // non-global
const GP = 0x0040_3000; // global
const PAGES = { P, Q, G: GP } as const;
type Name = keyof typeof PAGES;
const NAMES: Name[] = ["P", "Q", "G"];
const OLD_FRAME: Record<Name, number> = { P: RAM + 0x4_0000, Q: RAM + 0x4_1000, G: RAM + 0x4_2000 };
const NEW_FRAME: Record<Name, number> = { P: RAM + 0x5_0000, Q: RAM + 0x5_1000, G: RAM + 0x5_2000 };
const FLAGS = V | R | W | A | D;

function rig(asidTags: boolean, asid = 1) {
  const m = newMachine(tlbConfig(64, 64, { asidTags }), 8 * 1024 * 1024);
  const h = m.hart;
  const pt = new PageTables(h, TABLES);
  for (const n of NAMES) {
    pt.map(PAGES[n], OLD_FRAME[n], FLAGS | (n === "G" ? G : 0));
    h.writePhys(OLD_FRAME[n], 4, 0x01d0_0000 + n.charCodeAt(0));
    h.writePhys(NEW_FRAME[n], 4, 0x0e40_0000 + n.charCodeAt(0));
  }
  const d = new Driver(m, DRIVER_CODE);
  d.setSatp(pt.satp(asid));
  d.mprv(1);
  return { m, h, pt, d };
}
type Rig = ReturnType<typeof rig>;

/** Which frame each page's translation reaches now: "old" or "new". */
function observe(r: Rig, names: readonly Name[] = NAMES): Record<string, "old" | "new"> {
  const out: Record<string, "old" | "new"> = {};
  for (const n of names) {
    const v = r.d.load(PAGES[n]);
    if (v === 0x01d0_0000 + n.charCodeAt(0)) out[n] = "old";
    else if (v === 0x0e40_0000 + n.charCodeAt(0)) out[n] = "new";
    else throw new Error(`${n}: unexpected 0x${v.toString(16)}`);
  }
  return out;
}

function remapAll(r: Rig): void {
  for (const n of NAMES) r.pt.map(PAGES[n], NEW_FRAME[n], FLAGS | (n === "G" ? G : 0));
}

function delta(r: Rig, before: TlbCounters): Partial<TlbCounters> {
  const c = r.h.dtlb.counters;
  const out: Partial<TlbCounters> = {};
  for (const k of Object.keys(c) as (keyof TlbCounters)[]) if (c[k] !== before[k]) out[k] = c[k] - before[k];
  return out;
}

/** Fill the TLB with P, Q, G under the current ASID, remap them, and check the stale ones are used. */
function primeStale(r: Rig): void {
  expect(observe(r)).toEqual({ P: "old", Q: "old", G: "old" });
  remapAll(r);
  const walks = r.h.walkCounters.walks;
  expect(observe(r)).toEqual({ P: "old", Q: "old", G: "old" }); // stale: the TLB still holds them
  expect(r.h.walkCounters.walks).toBe(walks);
}

interface Case {
  name: string;
  insn: string;
  regs?: Record<string, number>;
  counters: Partial<TlbCounters>;
  after: Record<Name, "old" | "new">;
}

const TAGGED: Case[] = [
  {
    name: "rs1=x0, rs2=x0: every entry, globals included",
    insn: "sfence.vma",
    counters: { flushAll: 1, entriesFlushed: 3 },
    after: { P: "new", Q: "new", G: "new" },
  },
  {
    name: "rs1!=x0, rs2=x0: the page holding the address, in every ASID",
    insn: "sfence.vma a1",
    regs: { a1: P + 0x7fc },
    counters: { flushAddr: 1, entriesFlushed: 1 },
    after: { P: "new", Q: "old", G: "old" },
  },
  {
    name: "rs1!=x0, rs2=x0 on a global page: dropped too",
    insn: "sfence.vma a1, zero",
    regs: { a1: GP },
    counters: { flushAddr: 1, entriesFlushed: 1 },
    after: { P: "old", Q: "old", G: "new" },
  },
  {
    name: "rs1=x0, rs2!=x0: every non-global entry of that ASID",
    insn: "sfence.vma zero, a2",
    regs: { a2: 1 },
    counters: { flushAsid: 1, entriesFlushed: 2 },
    after: { P: "new", Q: "new", G: "old" },
  },
  {
    name: "rs1=x0, rs2!=x0 naming another ASID: nothing",
    insn: "sfence.vma zero, a2",
    regs: { a2: 2 },
    counters: { flushAsid: 1 },
    after: { P: "old", Q: "old", G: "old" },
  },
  {
    name: "rs1!=x0, rs2!=x0: that address in that ASID",
    insn: "sfence.vma a1, a2",
    regs: { a1: Q, a2: 1 },
    counters: { flushAddrAsid: 1, entriesFlushed: 1 },
    after: { P: "old", Q: "new", G: "old" },
  },
  {
    name: "rs1!=x0, rs2!=x0 on a global page: kept",
    insn: "sfence.vma a1, a2",
    regs: { a1: GP, a2: 1 },
    counters: { flushAddrAsid: 1 },
    after: { P: "old", Q: "old", G: "old" },
  },
  {
    name: "rs1!=x0, rs2!=x0 with another ASID: kept",
    insn: "sfence.vma a1, a2",
    regs: { a1: P, a2: 3 },
    counters: { flushAddrAsid: 1 },
    after: { P: "old", Q: "old", G: "old" },
  },
  {
    name: "rs1 a non-x0 register holding 0: by address 0, not everything",
    insn: "sfence.vma a3",
    regs: { a3: 0 },
    counters: { flushAddr: 1 },
    after: { P: "old", Q: "old", G: "old" },
  },
  {
    name: "rs2 a non-x0 register holding 0: by ASID 0, not every ASID",
    insn: "sfence.vma zero, a3",
    regs: { a3: 0 },
    counters: { flushAsid: 1 },
    after: { P: "old", Q: "old", G: "old" },
  },
  {
    name: "rs2's value is taken modulo the 9 ASID bits",
    insn: "sfence.vma zero, a2",
    regs: { a2: 0x200 | 1 },
    counters: { flushAsid: 1, entriesFlushed: 2 },
    after: { P: "new", Q: "new", G: "old" },
  },
];

describe("sfence.vma with ASID-tagged entries", () => {
  for (const c of TAGGED) {
    it(c.name, () => {
      const r = rig(true);
      primeStale(r);
      const before = { ...r.h.dtlb.counters };
      expect(r.d.exec(c.insn, c.regs).cause).toBe(-1);
      expect(delta(r, before)).toEqual(c.counters);
      expect(r.h.dtlb.occupancy()).toBe(3 - (c.counters.entriesFlushed ?? 0));
      const walks = r.h.walkCounters.walks;
      expect(observe(r)).toEqual(c.after);
      const flushed = Object.values(c.after).filter((v) => v === "new").length;
      expect(r.h.walkCounters.walks - walks).toBe(flushed);
    });
  }

  it("by ASID 0 drops the non-global entries filled under ASID 0", () => {
    const r = rig(true, 0);
    primeStale(r);
    const before = { ...r.h.dtlb.counters };
    r.d.exec("sfence.vma zero, a3", { a3: 0 });
    expect(delta(r, before)).toEqual({ flushAsid: 1, entriesFlushed: 2 });
    expect(observe(r)).toEqual({ P: "new", Q: "new", G: "old" });
  });

  it("by address drops a megapage entry for any address inside the megapage", () => {
    const r = rig(true);
    const MEGA_VA = 0x0080_0000;
    const at = r.pt.mapMega(MEGA_VA, RAM + MEGA, FLAGS);
    r.h.writePhys(RAM + MEGA + 0x5000, 4, 111);
    r.h.writePhys(RAM + 0x5000, 4, 222);
    expect(r.d.load(MEGA_VA + 0x5000)).toBe(111);
    r.pt.write(at, pte(RAM, FLAGS));
    r.d.exec("sfence.vma a1", { a1: MEGA_VA + 0x40_0000 }); // the next megapage: not this one
    expect(r.d.load(MEGA_VA + 0x5000)).toBe(111);
    const before = { ...r.h.dtlb.counters };
    r.d.exec("sfence.vma a1", { a1: MEGA_VA + 0x3f_f123 }); // last page of the megapage
    expect(delta(r, before)).toEqual({ flushAddr: 1, entriesFlushed: 1 });
    expect(r.d.load(MEGA_VA + 0x5000)).toBe(222);
  });

  it("entries of another ASID are not used after a satp switch, and are found again on switching back", () => {
    const r = rig(true);
    // A second address space (ASID 2) maps P to the new frame and shares the global page.
    const pt2 = new PageTables(r.h, RAM + 0x3_0000);
    pt2.map(P, NEW_FRAME.P, FLAGS);
    pt2.map(GP, OLD_FRAME.G, FLAGS | G);
    expect(observe(r, ["P", "G"])).toEqual({ P: "old", G: "old" });
    const t0 = { ...r.h.dtlb.counters };
    const w0 = r.h.walkCounters.walks;
    r.d.setSatp(pt2.satp(2));
    r.d.mprv(1);
    expect(observe(r, ["P", "G"])).toEqual({ P: "new", G: "old" }); // P walks in ASID 2; G hits (global)
    expect(r.h.walkCounters.walks - w0).toBe(1);
    r.d.setSatp(r.pt.satp(1));
    r.d.mprv(1);
    expect(observe(r, ["P"])).toEqual({ P: "old" }); // ASID 1's entry is still there: a hit, no walk
    expect(r.h.walkCounters.walks - w0).toBe(1);
    expect(delta(r, t0)).toEqual({ lookups: 3, hits: 2, misses: 1, fills: 1 });
    expect(r.h.dtlb.occupancy()).toBe(3);
  });
});

describe("sfence.vma with fewer ASID bits than ASIDMAX", () => {
  it("ignores the bits of rs2 above ASIDLEN (4.2.1)", () => {
    // asidBits = 4: satp keeps ASID bits 3:0, and sfence.vma must ignore
    // bits 8:4 of rs2, so rs2 = 0x31 names ASID 1.
    const m = new Machine({ ramSize: 8 * 1024 * 1024, asidBits: 4, tlb: tlbConfig(64, 64) });
    const h = m.hart;
    const pt = new PageTables(h, TABLES);
    pt.map(P, OLD_FRAME.P, FLAGS);
    h.writePhys(OLD_FRAME.P, 4, 1);
    h.writePhys(NEW_FRAME.P, 4, 2);
    const d = new Driver(m, DRIVER_CODE);
    d.setSatp(pt.satp(0x11)); // ASID 0x11 is stored as 1
    expect(h.asid).toBe(1);
    d.mprv(1);
    expect(d.load(P)).toBe(1);
    pt.map(P, NEW_FRAME.P, FLAGS);
    d.exec("sfence.vma zero, a2", { a2: 0x31 });
    expect(h.dtlb.counters).toMatchObject({ flushAsid: 1, entriesFlushed: 1 });
    expect(d.load(P)).toBe(2);
    d.exec("sfence.vma a1, a2", { a1: P, a2: 0x1f1 });
    expect(h.dtlb.counters).toMatchObject({ flushAddrAsid: 1, entriesFlushed: 2 });
  });
});

describe("sfence.vma without ASID tags", () => {
  it("any form naming an ASID (rs2 != x0) drops every entry, globals included", () => {
    for (const asid of [1, 2, 0]) {
      const r = rig(false);
      primeStale(r);
      const before = { ...r.h.dtlb.counters };
      r.d.exec("sfence.vma zero, a2", { a2: asid });
      expect(delta(r, before)).toEqual({ flushAsid: 1, entriesFlushed: 3 });
      expect(observe(r)).toEqual({ P: "new", Q: "new", G: "new" });
    }
  });

  it("rs1 and rs2 both non-x0: the address is dropped whatever the ASID, global or not", () => {
    const r = rig(false);
    primeStale(r);
    const before = { ...r.h.dtlb.counters };
    r.d.exec("sfence.vma a1, a2", { a1: GP, a2: 7 });
    expect(delta(r, before)).toEqual({ flushAddrAsid: 1, entriesFlushed: 1 });
    expect(observe(r)).toEqual({ P: "old", Q: "old", G: "new" });
  });

  it("by address only drops that page", () => {
    const r = rig(false);
    primeStale(r);
    r.d.exec("sfence.vma a1", { a1: Q });
    expect(observe(r)).toEqual({ P: "old", Q: "new", G: "old" });
  });

  it("a satp ASID switch without sfence.vma keeps using the stale entries", () => {
    const r = rig(false);
    const pt2 = new PageTables(r.h, RAM + 0x3_0000);
    pt2.map(P, NEW_FRAME.P, FLAGS);
    expect(observe(r, ["P"])).toEqual({ P: "old" });
    const t0 = { ...r.h.dtlb.counters };
    const w0 = r.h.walkCounters.walks;
    r.d.setSatp(pt2.satp(2));
    r.d.mprv(1);
    expect(observe(r, ["P"])).toEqual({ P: "old" }); // untagged: ASID 1's entry answers for ASID 2
    expect(r.h.walkCounters.walks).toBe(w0);
    expect(delta(r, t0)).toEqual({ lookups: 1, hits: 1 });
    r.d.exec("sfence.vma");
    expect(observe(r, ["P"])).toEqual({ P: "new" });
  });
});

describe("sfence.vma on split TLBs and from S-mode code", () => {
  it("flushes both the instruction and the data TLB", () => {
    const m = newMachine({ itlb: tlbConfig(8, 8), dtlb: tlbConfig(16, 4) });
    const d = new Driver(m, DRIVER_CODE);
    d.exec("sfence.vma a1, a2", { a1: P, a2: 1 });
    d.exec("sfence.vma");
    expect(m.hart.itlb.counters).toMatchObject({ flushAddrAsid: 1, flushAll: 1 });
    expect(m.hart.dtlb.counters).toMatchObject({ flushAddrAsid: 1, flushAll: 1 });
    expect(m.hart.itlb).not.toBe(m.hart.dtlb);
  });

  it("an S-mode kernel sees the stale mapping until its own sfence.vma", () => {
    // S code at KCODE (non-U); the level-0 table that maps P is itself
    // mapped at PT_VA so the kernel can rewrite P's PTE with a store.
    const m = newMachine(undefined, 1 << 20);
    const h = m.hart;
    const pt = new PageTables(h, TABLES);
    const KCODE = 0x0040_0000;
    const PT_VA = 0x0040_8000;
    const OUT = 0x0040_9000;
    pt.map(KCODE, RAM + 0x2_0000, V | R | X | A);
    pt.map(P, OLD_FRAME.P, FLAGS);
    pt.map(OUT, RAM + 0x2_1000, FLAGS);
    const pteAt = pt.l0(P);
    pt.map(PT_VA, (pteAt & ~0xfff) >>> 0, FLAGS);
    h.writePhys(OLD_FRAME.P, 4, 1);
    h.writePhys(NEW_FRAME.P, 4, 2);
    loadCodeAt(m, RAM + 0x2_0000, (a) => {
      a.lui("s0", P >>> 12)
        .lui("s1", OUT >>> 12)
        .lui("s2", PT_VA >>> 12);
      a.lw("a0", 0, "s0").sw("a0", 0, "s1"); // 1
      a.li("t0", pte(NEW_FRAME.P, FLAGS) | 0).sw("t0", pteAt & 0xfff, "s2");
      a.lw("a0", 0, "s0").sw("a0", 4, "s1"); // still 1: stale
      a.sfence_vma("s0", "zero");
      a.lw("a0", 0, "s0").sw("a0", 8, "s1"); // 2
      a.ecall();
    });
    bootStub(m, { satp: pt.satp(5), entry: KCODE, mode: 1 });
    const r = m.run({ maxInstructions: 1000 });
    expect(r.reason).toBe("exit");
    expect(r.exitCode).toBe(0);
    expect([0, 4, 8].map((o) => h.readPhys(RAM + 0x2_1000 + o, 4))).toEqual([1, 1, 2]);
    expect(r.stats.tlb.tlb).toMatchObject({ flushAddr: 1, entriesFlushed: 1, flushAll: 1 }); // + boot's sfence
  });
});
