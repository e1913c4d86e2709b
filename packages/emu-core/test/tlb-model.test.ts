/**
 * The TLB model (src/tlb.ts): replacement order, set indexing, associativity,
 * seeded random replacement, split I/D TLBs, config validation, megapage
 * entries in set-associative TLBs, and exact counters for known access
 * sequences, both on the Tlb class directly and through guest programs. A
 * fast-check property compares Tlb.lookup/fill/flush with a plain reference
 * model of an LRU set-associative TLB (test/support/mmu-ref-tlb.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Assembler } from "../src/asm/index.ts";
import { MSTATUS } from "../src/csr.ts";
import { Machine, type MachineConfig } from "../src/machine.ts";
import { PTE, Tlb, type TlbConfig, validateTlbConfig } from "../src/tlb.ts";
import {
  A,
  bootStub,
  D,
  loadCodeAt,
  newMachine,
  PAGE,
  PageTables,
  R,
  RAM,
  TEST_DEVICE,
  tlbConfig,
  U,
  V,
  W,
  X,
} from "./support/mmu-harness.ts";
import { RefTlb } from "./support/mmu-ref-tlb.ts";

const FLAGS = PTE.V | PTE.R | PTE.W | PTE.A | PTE.D;

/** lookup, and fill on a miss; true on a hit. */
function access(t: Tlb, vpn: number, asid = 0, flags = FLAGS): boolean {
  if (t.lookup(vpn, asid) >= 0) return true;
  t.fill(vpn, asid, 0x80000 + vpn, flags, false);
  return false;
}

const resident = (t: Tlb, vpns: number[], asid = 0) => vpns.filter((v) => t.find(v, asid) >= 0);

describe("Tlb replacement and indexing", () => {
  it("LRU evicts the least recently used entry of a full 4-way set", () => {
    const t = new Tlb(tlbConfig(4, 4));
    for (const v of [10, 11, 12, 13]) expect(access(t, v)).toBe(false);
    // Recency now (MRU first): 13 12 11 10. Touch 10 and 12: 12 10 13 11.
    expect(access(t, 10)).toBe(true);
    expect(access(t, 12)).toBe(true);
    expect(t.counters.evictions).toBe(0);
    access(t, 14); // evicts 11, the LRU
    expect(resident(t, [10, 11, 12, 13, 14])).toEqual([10, 12, 13, 14]);
    access(t, 15); // then 13
    expect(resident(t, [10, 11, 12, 13, 14, 15])).toEqual([10, 12, 14, 15]);
    expect(t.counters).toMatchObject({ lookups: 8, hits: 2, misses: 6, fills: 6, evictions: 2 });
  });

  it("find() neither counts nor changes the recency order", () => {
    const t = new Tlb(tlbConfig(2, 2));
    access(t, 1);
    access(t, 2);
    t.find(1, 0); // would make 1 the MRU if it were a lookup
    access(t, 3);
    expect(resident(t, [1, 2, 3])).toEqual([2, 3]);
    expect(t.counters.lookups).toBe(3);
  });

  it("the low VPN bits select the set: entries/ways sets, each with its own LRU", () => {
    const t = new Tlb(tlbConfig(16, 4)); // 4 sets
    expect(t.sets).toBe(4);
    // Five pages in set 1 (vpn % 4 = 1) overflow it; pages of other sets do not interfere.
    for (const v of [1, 5, 9, 13]) access(t, v);
    for (const v of [0, 2, 3, 4, 6, 7]) access(t, v);
    expect(t.counters.evictions).toBe(0);
    for (const v of [0, 1, 2, 3, 5, 9, 13]) expect(t.setOf[t.find(v, 0)]).toBe(v % 4);
    access(t, 17); // set 1 again: evicts 1, its LRU
    expect(t.counters.evictions).toBe(1);
    expect(resident(t, [1, 5, 9, 13, 17, 0, 2, 3, 4, 6, 7])).toEqual([5, 9, 13, 17, 0, 2, 3, 4, 6, 7]);
  });

  it("fully associative: any 16 pages fit in 16 entries", () => {
    const t = new Tlb(tlbConfig(16, 16));
    const pages = [0, 16, 32, 48, 64, 80, 96, 112, 1, 17, 33, 49, 65, 81, 97, 113];
    for (const v of pages) access(t, v);
    for (const v of pages) expect(access(t, v)).toBe(true);
    expect(t.counters).toMatchObject({ misses: 16, hits: 16, evictions: 0 });
    access(t, 200);
    expect(t.counters.evictions).toBe(1);
    expect(t.find(0, 0)).toBe(-1); // 0 was the LRU
  });

  it("direct-mapped: two pages with the same index miss every time", () => {
    const t = new Tlb(tlbConfig(8, 1));
    for (let i = 0; i < 10; i++) expect(access(t, i % 2 === 0 ? 3 : 11)).toBe(false);
    expect(t.counters).toMatchObject({ lookups: 10, misses: 10, evictions: 9 });
    const u = new Tlb(tlbConfig(8, 1));
    for (let i = 0; i < 10; i++) access(u, i % 2 === 0 ? 3 : 4);
    expect(u.counters).toMatchObject({ misses: 2, hits: 8, evictions: 0 });
  });

  it("seeded random replacement is deterministic for a seed and differs across seeds", () => {
    const run = (seed: number) => {
      const t = new Tlb(tlbConfig(8, 8, { replacement: "random", seed }));
      const seq: number[] = [];
      for (let i = 0; i < 400; i++) {
        const v = (i * 7 + (i >> 3)) % 13;
        seq.push(access(t, v) ? 1 : 0);
      }
      return { seq: seq.join(""), counters: { ...t.counters } };
    };
    expect(run(42)).toEqual(run(42));
    const seeds = [1, 2, 3, 42, 0xdeadbeef].map((s) => run(s).seq);
    expect(new Set(seeds).size).toBe(seeds.length);
    // Random victims: a fill into a full set still counts one eviction.
    const r = run(3).counters;
    expect(r.evictions).toBe(r.fills - 8);
  });

  it("random replacement uses invalid ways before evicting", () => {
    const t = new Tlb(tlbConfig(4, 4, { replacement: "random", seed: 9 }));
    for (const v of [1, 2, 3, 4]) access(t, v);
    expect(t.counters.evictions).toBe(0);
    expect(t.occupancy()).toBe(4);
  });

  it("megapage entries live in the set of their VPN[1] and match any VPN[0]", () => {
    const t = new Tlb(tlbConfig(16, 4)); // 4 sets
    const vpn1 = 5; // set 1
    const i = t.fill((vpn1 << 10) | 0x123, 0, 0x80400 | 0x123, FLAGS, true);
    expect(t.kind[i]).toBe(2);
    expect(t.setOf[i]).toBe(1);
    expect(t.lookup((vpn1 << 10) | 0x3ff, 0)).toBe(i);
    expect(t.lookup(vpn1 << 10, 0)).toBe(i);
    expect(t.lookup((vpn1 + 1) << 10, 0)).toBe(-1);
    expect(t.counters).toMatchObject({ lookups: 3, hits: 2, misses: 1 });
    expect(t.ppn[i]).toBe(0x80400); // the first 4 KiB page of the mapping
    // 4 KiB pages of other sets leave it alone; four pages of set 1 evict it (it is then the LRU).
    for (const v of [0, 2, 3, 4, 6, 7, 8]) access(t, v);
    expect(t.find(vpn1 << 10, 0)).toBe(i);
    for (const v of [1, 9, 13, 17]) access(t, v);
    expect(t.find(vpn1 << 10, 0)).toBe(-1);
    expect(t.counters.evictions).toBe(1);
  });

  it("a lookup that probes the 4 KiB and the megapage index counts once", () => {
    const t = new Tlb(tlbConfig(8, 2));
    t.fill(0x1400, 0, 0x80400, FLAGS, true);
    t.lookup(0x1401, 0);
    t.lookup(0x2000, 0); // misses both probes: still one lookup, one miss
    expect(t.counters).toMatchObject({ lookups: 2, hits: 1, misses: 1 });
  });
});

describe("TLB config validation", () => {
  const base: TlbConfig = tlbConfig(64, 4);
  const cases: [Partial<TlbConfig>, string][] = [
    [{ entries: 48 }, "tlb entries must be a power of two from 1 to 65536 (got 48)"],
    [{ entries: 0 }, "tlb entries must be a power of two from 1 to 65536 (got 0)"],
    [{ entries: 131072, ways: 4 }, "tlb entries must be a power of two from 1 to 65536 (got 131072)"],
    [{ ways: 3 }, "tlb ways must be a power of two from 1 to entries=64 (got 3)"],
    [{ entries: 8, ways: 16 }, "tlb ways must be a power of two from 1 to entries=8 (got 16)"],
    [{ replacement: "fifo" as never }, 'tlb replacement must be "lru" or "random" (got fifo)'],
  ];
  for (const [patch, message] of cases) {
    it(`rejects ${JSON.stringify(patch)}`, () => {
      const c = { ...base, ...patch };
      expect(validateTlbConfig(c)).toBe(message);
      expect(() => new Tlb(c)).toThrow(new RangeError(message));
      expect(() => new Machine({ ramSize: PAGE * 16, tlb: c })).toThrow(message);
      expect(() => new Machine({ ramSize: PAGE * 16, tlb: { itlb: base, dtlb: c } })).toThrow(message);
    });
  }

  it("accepts the boundary shapes", () => {
    for (const [e, w] of [
      [1, 1],
      [65536, 1],
      [64, 64],
      [64, 1],
    ])
      expect(validateTlbConfig(tlbConfig(e, w))).toBeUndefined();
  });
});

describe("TLB counters through guest programs", () => {
  const DATA = 0x0040_0000; // VPN 0x400: a multiple of every set count used here
  const TABLES = RAM + 0x1_0000;

  /**
   * An M-mode program with MPRV=1, MPP=S: `rounds` times over `pages` data
   * pages `stride` pages apart, two loads per page (the second from the same
   * page). Fetches are untranslated, so the TLB sees exactly 2 x pages x
   * rounds lookups.
   */
  function loopProgram(tlb: MachineConfig["tlb"], pages: number, rounds: number, stride = 1) {
    const m = newMachine(tlb, 1 << 20);
    const pt = new PageTables(m.hart, TABLES);
    for (let i = 0; i < pages; i++)
      pt.map(DATA + i * stride * PAGE, RAM + 0x8_0000 + i * PAGE, V | R | W | A | D);
    const a = new Assembler({ text: RAM });
    a.label("_start");
    a.li("t0", pt.satp(0) | 0)
      .csrw("satp", "t0")
      .sfence_vma();
    a.li("t0", MSTATUS.MPRV | (1 << MSTATUS.MPP_SHIFT)).csrs("mstatus", "t0");
    a.li("s0", rounds);
    a.label("outer");
    a.li("a0", DATA)
      .li("a1", pages)
      .li("t3", stride * PAGE);
    a.label("inner");
    a.lw("t1", 0, "a0").lw("t2", 4, "a0");
    a.add("a0", "a0", "t3").addi("a1", "a1", -1).bnez("a1", "inner");
    a.addi("s0", "s0", -1).bnez("s0", "outer");
    a.li("t0", MSTATUS.MPRV).csrc("mstatus", "t0");
    a.li("t0", TEST_DEVICE).li("t1", 0x5555).sw("t1", 0, "t0");
    m.load(a.assemble());
    const r = m.run({ maxInstructions: 100_000 });
    expect(r.reason).toBe("exit");
    return r.stats;
  }

  it("a loop over N pages fits an N+1-entry fully associative TLB: only cold misses", () => {
    // 7 pages, 8 entries, 4 rounds: round 1 misses once per page (7 walks),
    // every other lookup hits. Lookups = 2 loads x 7 pages x 4 rounds = 56.
    const s = loopProgram(tlbConfig(8, 8), 7, 4);
    expect(s.tlb.tlb).toMatchObject({ lookups: 56, hits: 49, misses: 7, fills: 7, evictions: 0 });
    expect(s.walk).toMatchObject({ walks: 7, memRefs: 14, pages4K: 7 });
  });

  it("a loop over N pages thrashes an N-1-entry LRU TLB: every first touch misses", () => {
    // 9 pages cycled through 8 LRU entries: each page was evicted 8 fills ago,
    // so the first load of every page misses in every round (9 x 4 = 36) and
    // the second load of the same page hits. Evictions = 36 fills - 8 free ways.
    const s = loopProgram(tlbConfig(8, 8), 9, 4);
    expect(s.tlb.tlb).toMatchObject({ lookups: 72, hits: 36, misses: 36, fills: 36, evictions: 28 });
    expect(s.walk.walks).toBe(36);
  });

  it("random replacement escapes the LRU pathology, deterministically per seed", () => {
    const cfg = (seed: number) => tlbConfig(8, 8, { replacement: "random", seed });
    const a = loopProgram(cfg(7), 9, 4).tlb.tlb;
    const b = loopProgram(cfg(7), 9, 4).tlb.tlb;
    expect(a).toEqual(b);
    expect(a.misses).toBeLessThan(36);
    expect(a.misses).toBeGreaterThan(9);
    expect(a.lookups).toBe(72);
  });

  it("pages that share a set conflict; the same number spread over sets does not", () => {
    // 8 entries, 2 ways: 4 sets. Stride 4 puts 3 pages in one set (3 > 2 ways,
    // LRU: all first touches miss, 3 x 5 = 15); stride 1 spreads them (3 cold misses).
    const same = loopProgram(tlbConfig(8, 2), 3, 5, 4).tlb.tlb;
    expect(same).toMatchObject({ lookups: 30, misses: 15, hits: 15, evictions: 13 });
    const spread = loopProgram(tlbConfig(8, 2), 3, 5, 1).tlb.tlb;
    expect(spread).toMatchObject({ lookups: 30, misses: 3, hits: 27, evictions: 0 });
  });

  it("direct-mapped: two pages 8 apart conflict in an 8-entry TLB", () => {
    const s = loopProgram(tlbConfig(8, 1), 2, 6, 8).tlb.tlb;
    expect(s).toMatchObject({ lookups: 24, misses: 12, hits: 12, evictions: 11 });
    const fa = loopProgram(tlbConfig(8, 8), 2, 6, 8).tlb.tlb;
    expect(fa).toMatchObject({ misses: 2, evictions: 0 });
  });

  it("split I/D TLBs count fetches and data accesses separately", () => {
    const m = newMachine({ itlb: tlbConfig(4, 4), dtlb: tlbConfig(8, 2) });
    const pt = new PageTables(m.hart, TABLES);
    const CODE = 0x0040_0000;
    pt.map(CODE, RAM + 0x2_0000, V | R | X | U | A);
    for (let i = 0; i < 3; i++)
      pt.map(0x0080_0000 + i * PAGE, RAM + 0x3_0000 + i * PAGE, V | R | W | U | A | D);
    loadCodeAt(m, RAM + 0x2_0000, (a) => {
      a.lui("s0", 0x800).lw("a0", 0, "s0").lw("a0", 4, "s0"); // page 0 twice
      a.lui("s0", 0x801).sw("a0", 0, "s0"); // page 1
      a.lui("s0", 0x802).lw("a0", 0, "s0"); // page 2
      a.ecall();
    });
    bootStub(m, { satp: pt.satp(0), entry: CODE });
    const r = m.run({ maxInstructions: 1000 });
    expect(r.reason).toBe("exit");
    expect(Object.keys(r.stats.tlb).sort()).toEqual(["dtlb", "itlb"]);
    // 8 U-mode instructions (ecall included), all from one code page.
    expect(r.stats.tlb.itlb).toMatchObject({ lookups: 8, hits: 7, misses: 1, fills: 1 });
    expect(r.stats.tlb.dtlb).toMatchObject({ lookups: 4, hits: 1, misses: 3, fills: 3 });
    expect(r.stats.walk.walks).toBe(4);
  });

  it("a unified TLB shares its entries between fetches and data", () => {
    // 2 entries fully associative: the code page and one data page fit; a
    // second data page evicts the LRU, which is the code page when the
    // fetch of the load itself came before the data access.
    const m = newMachine(tlbConfig(2, 2));
    const pt = new PageTables(m.hart, TABLES);
    const CODE = 0x0040_0000;
    pt.map(CODE, RAM + 0x2_0000, V | R | X | U | A);
    for (let i = 0; i < 2; i++)
      pt.map(0x0080_0000 + i * PAGE, RAM + 0x3_0000 + i * PAGE, V | R | W | U | A | D);
    loadCodeAt(m, RAM + 0x2_0000, (a) => {
      a.lui("s0", 0x800).lui("s1", 0x801);
      a.lw("a0", 0, "s0"); // F(code) hit, D(p0) miss: entries {code, p0}, p0 MRU
      a.lw("a0", 0, "s1"); // F(code) hit -> code MRU; D(p1) miss evicts p0
      a.lw("a0", 0, "s0"); // F hit -> code MRU; D(p0) miss evicts p1
      a.ecall(); // F hit
    });
    bootStub(m, { satp: pt.satp(0), entry: CODE });
    const r = m.run({ maxInstructions: 1000 });
    expect(r.reason).toBe("exit");
    // Fetches: 6 (1 cold miss). Data: 3 misses.
    expect(r.stats.tlb.tlb).toMatchObject({ lookups: 9, hits: 5, misses: 4, fills: 4, evictions: 2 });
  });
});

describe("Tlb matches a reference LRU model", () => {
  type Op =
    | { kind: "access"; vpn: number; asid: number }
    | { kind: "flush"; addr: number | undefined; asid: number | undefined; offset: number };
  const VPNS = 24;
  const ASIDS = 3;
  /** Global-ness is a property of the page, as with a shared kernel mapping. */
  const isGlobal = (vpn: number) => vpn % 7 === 3;

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 12,
      arbitrary: fc.record({
        kind: fc.constant("access" as const),
        vpn: fc.nat(VPNS - 1),
        asid: fc.nat(ASIDS - 1),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("flush" as const),
        addr: fc.option(fc.nat(VPNS - 1), { nil: undefined }),
        asid: fc.option(fc.nat(ASIDS - 1), { nil: undefined }),
        offset: fc.nat(0xfff),
      }),
    },
  );

  it("gives identical hits, misses, evictions, flush counts and contents for random shapes and sequences", () => {
    fc.assert(
      fc.property(
        fc.nat(5),
        fc.nat(5),
        fc.boolean(),
        fc.array(opArb, { maxLength: 250 }),
        (logEntries, logWays, asidTags, ops) => {
          const entries = 1 << logEntries;
          const ways = 1 << Math.min(logWays, logEntries);
          const t = new Tlb(tlbConfig(entries, ways, { asidTags }));
          const ref = new RefTlb(entries, ways, asidTags);
          for (const op of ops) {
            if (op.kind === "access") {
              const flags = FLAGS | (isGlobal(op.vpn) ? PTE.G : 0);
              const hit = t.lookup(op.vpn, op.asid) >= 0;
              if (!hit) t.fill(op.vpn, op.asid, 0x80000 + op.vpn, flags, false);
              const refHit = ref.lookup(op.vpn, op.asid);
              if (!refHit) ref.fill(op.vpn, op.asid, isGlobal(op.vpn));
              expect(hit).toBe(refHit);
            } else {
              const va = ((op.addr ?? 0) << 12) | op.offset;
              t.flush(op.addr !== undefined, va, op.asid !== undefined, op.asid ?? 0);
              ref.flush(op.addr, op.asid);
            }
          }
          const {
            lookups,
            hits,
            misses,
            fills,
            evictions,
            flushAll,
            flushAddr,
            flushAsid,
            flushAddrAsid,
            entriesFlushed,
          } = t.counters;
          expect({
            lookups,
            hits,
            misses,
            fills,
            evictions,
            flushAll,
            flushAddr,
            flushAsid,
            flushAddrAsid,
            entriesFlushed,
          }).toEqual(ref.counters);
          expect(t.occupancy()).toBe(ref.occupancy());
          for (let vpn = 0; vpn < VPNS; vpn++)
            for (let asid = 0; asid < ASIDS; asid++) expect(t.find(vpn, asid) >= 0).toBe(ref.has(vpn, asid));
        },
      ),
      { numRuns: 300, seed: 20240611 },
    );
  });
});
