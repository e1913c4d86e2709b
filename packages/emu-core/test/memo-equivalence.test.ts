/**
 * The hart's fetch/load/store memos only make translation faster; they must
 * never change a count. Each program here is generated together with the
 * trace of page accesses it makes (one fetch per instruction, then its data
 * access), and its TLB and walk counters are checked three ways:
 *
 * - against the reference LRU model (test/support/mmu-ref-tlb.ts) driven by
 *   that trace, which knows nothing about memos;
 * - against the same program run one instruction at a time with the memos
 *   dropped before every instruction, so every access takes the full
 *   translate() path;
 * - across unified and split TLBs and shapes where a memo's entry keeps
 *   losing and regaining the MRU position of its set.
 *
 * And code written at run time (in place, through an alias, into a recycled
 * page) runs as written, because the decoded-instruction cache is keyed by
 * physical page and dropped on stores.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Assembler, encode } from "../src/asm/index.ts";
import type { Machine, MachineConfig } from "../src/machine.ts";
import type { TlbConfig, TlbCounters } from "../src/tlb.ts";
import {
  A,
  bootStub,
  D,
  loadCodeAt,
  newMachine,
  PAGE,
  PageTables,
  pte,
  R,
  RAM,
  REG,
  tlbConfig,
  U,
  V,
  W,
  X,
} from "./support/mmu-harness.ts";
import { RefTlb } from "./support/mmu-ref-tlb.ts";

const TABLES = RAM + 0x1_0000;
const CODE_VA = 0x0040_0000; // VPN 0x400
const CODE_PA = RAM + 0x2_0000;
const DATA_VA = 0x0080_0000; // VPN 0x800: the same set as the code page in every small TLB
const DATA_PA = RAM + 0x4_0000;
const DATA_PAGES = 16;

interface Access {
  store: boolean;
  /** Data page index. */
  page: number;
  /** Word offset in the page (0..511: the offset is a 12-bit signed immediate). */
  word: number;
}

interface Program {
  body: Access[];
  loops: number;
  /** Data pages whose PTE starts with D clear (stores must re-walk to set it). */
  clean: ReadonlySet<number>;
}

interface TraceItem {
  tlb: "i" | "d";
  vpn: number;
  store: boolean;
}

/**
 * U-mode code at CODE_VA: `loops` times the body (lui t0, page; lw/sw t1,
 * off(t0) per access), then ecall; a loop ends with beq over a jal back. Returns the instruction words and the
 * trace of TLB accesses they make, in order.
 */
function generate(p: Program): { words: number[]; trace: TraceItem[] } {
  const words: number[] = [];
  const fetchOf = (i: number): TraceItem => ({ tlb: "i", vpn: (CODE_VA + 4 * i) >>> 12, store: false });
  words.push(encode("addi", ["s1", "zero", p.loops]));
  const loopStart = words.length;
  const bodyTrace: TraceItem[] = [];
  for (const a of p.body) {
    const vpn = (DATA_VA >>> 12) + a.page;
    bodyTrace.push(fetchOf(words.length));
    words.push(encode("lui", ["t0", vpn]));
    bodyTrace.push(fetchOf(words.length), { tlb: "d", vpn, store: a.store });
    words.push(a.store ? encode("sw", ["s1", a.word * 4, "t0"]) : encode("lw", ["t1", a.word * 4, "t0"]));
  }
  bodyTrace.push(fetchOf(words.length));
  words.push(encode("addi", ["s1", "s1", -1]));
  // beq over a jal back (a branch reaches only 4 KiB; the body may be longer).
  bodyTrace.push(fetchOf(words.length));
  words.push(encode("beq", ["s1", "zero", 8]));
  const jalBack = fetchOf(words.length);
  words.push(encode("jal", ["zero", (loopStart - words.length) * 4]));
  const trace: TraceItem[] = [fetchOf(0)];
  for (let i = 0; i < p.loops; i++) {
    trace.push(...bodyTrace);
    if (i < p.loops - 1) trace.push(jalBack);
  }
  trace.push(fetchOf(words.length));
  words.push(encode("ecall"));
  return { words, trace };
}

function build(tlb: MachineConfig["tlb"], p: Program, words: number[]): Machine {
  const m = newMachine(tlb, 1 << 20);
  const h = m.hart;
  const pt = new PageTables(h, TABLES);
  const codePages = Math.ceil((words.length * 4) / PAGE);
  for (let i = 0; i < codePages; i++) pt.map(CODE_VA + i * PAGE, CODE_PA + i * PAGE, V | R | X | U | A);
  for (let i = 0; i < DATA_PAGES; i++) {
    pt.map(DATA_VA + i * PAGE, DATA_PA + i * PAGE, V | R | W | U | A | (p.clean.has(i) ? 0 : D));
  }
  for (const [i, w] of words.entries()) h.writePhys(CODE_PA + 4 * i, 4, w);
  bootStub(m, { satp: pt.satp(3), entry: CODE_VA });
  return m;
}

type Counts = Record<string, Pick<TlbCounters, "lookups" | "hits" | "misses" | "fills" | "evictions">> & {
  walks: { walks: number; adUpdates: number };
};

function counts(m: Machine): Counts {
  const s = m.snapshot();
  const out: Record<string, unknown> = {};
  for (const [k, c] of Object.entries(s.tlb)) {
    out[k] = { lookups: c.lookups, hits: c.hits, misses: c.misses, fills: c.fills, evictions: c.evictions };
  }
  out.walks = { walks: s.walk.walks, adUpdates: s.walk.adUpdates };
  return out as Counts;
}

/** Expected counters from the reference model fed with the trace. */
function reference(tlb: MachineConfig["tlb"], p: Program, trace: TraceItem[]): Counts {
  const split = "itlb" in tlb;
  const mk = (c: TlbConfig) => new RefTlb(c.entries, c.ways, c.asidTags);
  const iref = split ? mk(tlb.itlb) : mk(tlb);
  const dref = split ? mk(tlb.dtlb) : iref;
  // D bit of each data PTE in memory (the walker sets it on a store walk).
  const dirtyInMemory = new Map<number, boolean>();
  for (let i = 0; i < DATA_PAGES; i++) dirtyInMemory.set((DATA_VA >>> 12) + i, !p.clean.has(i));
  let adUpdates = 0;
  for (const t of trace) {
    if (t.tlb === "i") {
      iref.access(t.vpn, 3, { dirty: false });
      continue;
    }
    const walksBefore = dref.walks;
    dref.access(t.vpn, 3, { store: t.store, dirty: dirtyInMemory.get(t.vpn) });
    if (dref.walks > walksBefore && t.store && !dirtyInMemory.get(t.vpn)) {
      dirtyInMemory.set(t.vpn, true);
      adUpdates++;
    }
  }
  const pick = (r: RefTlb) => {
    const { lookups, hits, misses, fills, evictions } = r.counters;
    return { lookups, hits, misses, fills, evictions };
  };
  const walks = iref === dref ? iref.walks : iref.walks + dref.walks;
  const out: Record<string, unknown> = split ? { itlb: pick(iref), dtlb: pick(dref) } : { tlb: pick(iref) };
  out.walks = { walks, adUpdates };
  return out as Counts;
}

function runFast(m: Machine): void {
  const r = m.run({ maxInstructions: 1_000_000 });
  expect(r.reason).toBe("exit");
  expect(r.exitCode).toBe(0);
}

/** One instruction at a time, dropping every memo first: each access takes the full translate() path. */
function runWithoutMemos(m: Machine): void {
  const h = m.hart;
  for (let n = 0; n < 1_000_000; n++) {
    h.invalidateMemos();
    if (h.run(1) === "exit") {
      expect(h.exitCode).toBe(0);
      return;
    }
  }
  throw new Error("did not finish");
}

function check(tlb: MachineConfig["tlb"], p: Program): void {
  const { words, trace } = generate(p);
  const fast = build(tlb, p, words);
  runFast(fast);
  const slow = build(tlb, p, words);
  runWithoutMemos(slow);
  const want = reference(tlb, p, trace);
  expect(counts(fast)).toEqual(want);
  expect(counts(slow)).toEqual(want);
  // The stores landed: s1 (the loop counter) was stored into each stored-to word.
  for (const a of p.body.filter((b) => b.store)) {
    expect(fast.hart.readPhys(DATA_PA + a.page * PAGE + a.word * 4, 4)).not.toBe(0);
  }
}

const acc = (kind: "l" | "s", page: number, word = 0): Access => ({ store: kind === "s", page, word });

const SHAPES: [string, MachineConfig["tlb"]][] = [
  ["unified 2x2 (fully associative)", tlbConfig(2, 2)],
  ["unified 4 entries, 2 ways", tlbConfig(4, 2)],
  ["unified direct-mapped 4", tlbConfig(4, 1)],
  ["unified 16 entries, 4 ways", tlbConfig(16, 4)],
  ["split i 1x1, d 2x2", { itlb: tlbConfig(1, 1), dtlb: tlbConfig(2, 2) }],
  ["split i 2x2, d 4 entries 2 ways", { itlb: tlbConfig(2, 2), dtlb: tlbConfig(4, 2) }],
  [
    "split i 4x1, d 8 entries 2 ways, untagged",
    { itlb: tlbConfig(4, 1), dtlb: tlbConfig(8, 2, { asidTags: false }) },
  ],
];

describe("memos do not change TLB or walk counts", () => {
  // Pages 0 and 4 share set 0 of every TLB with 1, 2 or 4 sets (and the code page's set, in a unified TLB).
  const flip: Program = {
    body: [
      acc("l", 0),
      acc("l", 0, 1), // load memo hit
      acc("l", 4),
      acc("l", 4, 2),
      acc("l", 0, 3), // back to page 0: not the memo, a TLB hit (or miss) that reorders the set
      acc("s", 4), // store memo on page 4 while the load memo is on page 0
      acc("l", 0, 4),
      acc("s", 4, 5), // store memo hit: must make page 4 the MRU again
      acc("l", 8), // a third page of the same set: the victim depends on exact LRU order
      acc("l", 0, 6),
      acc("s", 4, 7),
    ],
    loops: 6,
    clean: new Set(),
  };

  for (const [name, tlb] of SHAPES) {
    it(`a data memo flipping between two pages of one set: ${name}`, () => check(tlb, flip));
  }

  // A memo hit that must reorder the set right before a miss picks the
  // victim: load memo on page 0, a store to page 4, page 0 again through the
  // load memo (page 0 must now be more recent than page 4), then new pages of
  // the same set. Without the memo's touch, page 0 would be evicted instead
  // of page 4. With 4 ways, the code page's constant re-touching (unified)
  // does not hide the data pages' order.
  const reorder: Program = {
    body: [
      acc("l", 0),
      acc("s", 4),
      acc("l", 0, 1), // load memo hit: page 0 becomes more recent than page 4
      acc("l", 8), // fills the last free way (4 ways: code, 0, 4, 8)
      acc("l", 12), // evicts page 4, the least recent, not page 0
      acc("l", 0, 2),
      acc("s", 4, 3),
      acc("s", 4, 4), // store memo hit
      acc("l", 8, 1),
      acc("l", 0, 5),
    ],
    loops: 4,
    clean: new Set(),
  };
  const REORDER_SHAPES: [string, MachineConfig["tlb"]][] = [
    ["split i 1x1, d 2x2", { itlb: tlbConfig(1, 1), dtlb: tlbConfig(2, 2) }],
    ["unified 4x4 (fully associative)", tlbConfig(4, 4)],
    ["unified 8 entries, 4 ways", tlbConfig(8, 4)],
    ["unified 2x2 (fully associative)", tlbConfig(2, 2)],
  ];
  for (const [name, tlb] of REORDER_SHAPES) {
    it(`a memo hit that reorders the set decides the next victim: ${name}`, () => check(tlb, reorder));
  }

  it("stores to pages whose PTE has D clear re-walk once, memo or not", () => {
    const p: Program = {
      body: [
        acc("l", 1),
        acc("s", 1, 1),
        acc("s", 1, 2),
        acc("l", 5),
        acc("l", 1, 3),
        acc("s", 5),
        acc("s", 9),
      ],
      loops: 3,
      clean: new Set([1, 5, 9]),
    };
    for (const [, tlb] of SHAPES) check(tlb, p);
  });

  it("a body longer than a page: the fetch memo crosses code pages every iteration", () => {
    const body: Access[] = [];
    for (let i = 0; i < 700; i++) body.push(acc(i % 5 === 0 ? "s" : "l", (i * 7) % DATA_PAGES, i % 512));
    const p: Program = { body, loops: 3, clean: new Set([2, 3]) };
    check(tlbConfig(4, 2), p);
    check({ itlb: tlbConfig(1, 1), dtlb: tlbConfig(4, 4) }, p);
  });

  it("random programs and random TLB shapes (fast-check)", () => {
    const accessArb = fc.record({
      store: fc.boolean(),
      page: fc.nat(DATA_PAGES - 1),
      word: fc.nat(511),
    });
    // Mostly repeats of the previous page, so the memos are used a lot.
    const bodyArb = fc
      .array(fc.tuple(accessArb, fc.nat(3)), { minLength: 1, maxLength: 40 })
      .map((xs) => xs.map(([a, keep], i) => (keep > 0 && i > 0 ? { ...a, page: xs[i - 1][0].page } : a)));
    const shapeArb = fc
      .tuple(fc.nat(3), fc.nat(3), fc.boolean(), fc.nat(2), fc.nat(2), fc.boolean())
      .map(([le, lw, split, lie, liw, tags]): MachineConfig["tlb"] => {
        const d = tlbConfig(1 << le, 1 << Math.min(lw, le), { asidTags: tags });
        return split ? { itlb: tlbConfig(1 << lie, 1 << Math.min(liw, lie)), dtlb: d } : d;
      });
    fc.assert(
      fc.property(
        bodyArb,
        fc.integer({ min: 1, max: 4 }),
        fc.subarray([0, 1, 2, 3, 4, 5, 6, 7]),
        shapeArb,
        (body, loops, clean, tlb) => {
          check(tlb, { body, loops, clean: new Set(clean) });
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });
});

describe("code written at run time runs as written", () => {
  it("code stored into a page, run, then overwritten in place runs the new code", () => {
    const m = newMachine({ itlb: tlbConfig(4, 4), dtlb: tlbConfig(4, 4) });
    const h = m.hart;
    const pt = new PageTables(h, TABLES);
    const GEN = 0x0050_0000; // a RWX U page for generated code
    pt.map(CODE_VA, CODE_PA, V | R | X | U | A);
    pt.map(GEN, RAM + 0x3_0000, V | R | W | X | U | A | D);
    const first = [encode("addi", ["a0", "a0", 5]), encode("ret")];
    const second = [encode("addi", ["a0", "a0", 100]), encode("slli", ["a0", "a0", 1]), encode("ret")];
    loadCodeAt(m, CODE_PA, (a) => {
      a.lui("s0", GEN >>> 12);
      for (const [i, w] of first.entries()) a.li("t1", w | 0).sw("t1", i * 4, "s0"); // the second sw uses the store memo
      a.fence_i();
      a.li("a0", 1).jalr("ra", 0, "s0").mv("s2", "a0"); // 1 + 5
      a.jalr("ra", 0, "s0").mv("s3", "a0"); // again, from the decoded cache: 6 + 5
      a.li("t1", second[0] | 0).sw("t1", 0, "s0");
      a.li("t1", second[1] | 0)
        .addi("t2", "s0", 4)
        .amoswap_w("zero", "t1", "t2"); // an AMO writes code too
      a.li("t1", second[2] | 0).sw("t1", 8, "s0");
      a.fence_i();
      a.li("a0", 1).jalr("ra", 0, "s0").mv("s4", "a0"); // (1 + 100) << 1
      a.ecall();
    });
    bootStub(m, { satp: pt.satp(0), entry: CODE_VA });
    const r = m.run({ maxInstructions: 10_000 });
    expect(r.reason).toBe("exit");
    expect(r.exitCode).toBe(0);
    expect([h.x[REG.s2], h.x[REG.s3], h.x[REG.s4]]).toEqual([6, 11, 202]);
  });

  it("a physical page rewritten through an alias, remapped, and recycled at another address runs its new code", () => {
    // S-mode kernel. F is executed at X and writable through the alias Y; G is
    // writable at Z; the level-0 table is mapped at PT so the kernel can edit PTEs.
    const m = newMachine(tlbConfig(8, 2));
    const h = m.hart;
    const pt = new PageTables(h, TABLES);
    const KCODE = 0x0040_0000;
    const X_VA = 0x0040_1000;
    const Y_VA = 0x0040_2000;
    const Z_VA = 0x0040_3000;
    const W_VA = 0x0040_4000;
    const PT_VA = 0x0040_5000;
    const F = RAM + 0x3_0000;
    const Gp = RAM + 0x3_1000;
    const RX = V | R | X | A;
    const RW = V | R | W | A | D;
    pt.map(KCODE, CODE_PA, RX);
    const xPte = pt.map(X_VA, F, RX);
    pt.map(Y_VA, F, RW);
    pt.map(Z_VA, Gp, RW);
    const wPte = pt.l0(W_VA); // W unmapped for now
    const l0Table = (xPte & ~0xfff) >>> 0;
    expect((wPte & ~0xfff) >>> 0).toBe(l0Table);
    pt.map(PT_VA, l0Table, RW);
    const code = (v: number) => [encode("addi", ["a0", "zero", v]), encode("ret")];
    for (const [i, w] of code(11).entries()) h.writePhys(F + 4 * i, 4, w);
    const writeCode = (a: Assembler, base: "s1" | "s5", v: number) => {
      for (const [i, w] of code(v).entries()) a.li("t1", w | 0).sw("t1", i * 4, base);
      a.fence_i();
    };
    loadCodeAt(m, CODE_PA, (a) => {
      a.lui("s0", X_VA >>> 12)
        .lui("s1", Y_VA >>> 12)
        .lui("s5", Z_VA >>> 12);
      a.lui("s6", PT_VA >>> 12).lui("s7", W_VA >>> 12);
      a.jalr("ra", 0, "s0").mv("s2", "a0"); // 11: F as loaded
      writeCode(a, "s1", 22); // rewrite F through its alias Y
      a.jalr("ra", 0, "s0").mv("s3", "a0"); // 22
      writeCode(a, "s5", 33); // new code in G, then X -> G
      a.li("t1", pte(Gp, RX) | 0).sw("t1", xPte & 0xfff, "s6");
      a.sfence_vma("s0", "zero");
      a.jalr("ra", 0, "s0").mv("s4", "a0"); // 33
      writeCode(a, "s1", 44); // F is free: recycle it with new code, mapped at W
      a.li("t1", pte(F, RX) | 0).sw("t1", wPte & 0xfff, "s6");
      a.sfence_vma("s7", "zero");
      a.jalr("ra", 0, "s7").mv("s8", "a0"); // 44
      a.jalr("ra", 0, "s0").mv("s9", "a0"); // X still runs G: 33
      a.ecall();
    });
    bootStub(m, { satp: pt.satp(1), entry: KCODE, mode: 1 });
    const r = m.run({ maxInstructions: 10_000 });
    expect(r.reason).toBe("exit");
    expect(r.exitCode).toBe(0);
    expect([REG.s2, REG.s3, REG.s4, REG.s8, REG.s9].map((i) => h.x[i])).toEqual([11, 22, 33, 44, 33]);
  });
});
