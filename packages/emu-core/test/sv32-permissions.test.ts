/**
 * Sv32 leaf permissions (privileged spec 1.12, 4.3.1 and the walk of 4.3.2):
 * every R/W/X/U combination, from U-mode and S-mode, with SUM and MXR on and
 * off, for fetch, load and store, with page faults routed to M or (through
 * medeleg) to S. Page tables are written into guest RAM by PageTables; the
 * accesses are real instructions run by the interpreter.
 */
import { describe, expect, it } from "vitest";
import { encode } from "../src/asm/index.ts";
import { CAUSE, CSR, MSTATUS } from "../src/csr.ts";
import { csrWrite } from "../src/csrfile.ts";
import type { Machine } from "../src/machine.ts";
import { A, D, Driver, newMachine, PageTables, pte, R, RAM, REG, U, V, W, X } from "./support/mmu-harness.ts";

const MTVEC = RAM; // never executed: each case stops right after the trap
const TABLES = RAM + 0x1_0000;
const CODE_PA = RAM + 0x2_0000;
const TGT_PA = RAM + 0x2_1000;
const CODE_VA = 0x0040_0000;
const STVEC = 0x0040_1000;
const TGT_VA = 0x0080_0000;
/** t0 holds TGT_VA + 0x100; the accesses use offsets so that stval is not the page base. */
const BASE = TGT_VA + 0x100;
const LOAD_VA = BASE + 0x24;
const STORE_VA = BASE + 0x28;
const FETCH_VA = BASE + 0x10;
const MAGIC = 0xc0ffee11;
const STORED = 0x5eed1e55;
const SENTINEL = 0x7777;

type Access = "fetch" | "load" | "store";
const ACCESSES: Access[] = ["fetch", "load", "store"];
const PAGE_FAULT: Record<Access, number> = {
  fetch: CAUSE.FETCH_PAGE_FAULT,
  load: CAUSE.LOAD_PAGE_FAULT,
  store: CAUSE.STORE_PAGE_FAULT,
};
const ACCESS_FAULT: Record<Access, number> = {
  fetch: CAUSE.FETCH_ACCESS,
  load: CAUSE.LOAD_ACCESS,
  store: CAUSE.STORE_ACCESS,
};
/** medeleg bits for every page and access fault. */
const DELEG_MEM_FAULTS =
  (1 << CAUSE.FETCH_PAGE_FAULT) |
  (1 << CAUSE.LOAD_PAGE_FAULT) |
  (1 << CAUSE.STORE_PAGE_FAULT) |
  (1 << CAUSE.FETCH_ACCESS) |
  (1 << CAUSE.LOAD_ACCESS) |
  (1 << CAUSE.STORE_ACCESS);

interface Setup {
  m: Machine;
  pt: PageTables;
}

/**
 * A machine with code mapped at CODE_VA (U or S code page), the target page
 * at TGT_VA with `flags`, and the three access instructions in the code page.
 */
function setup(targetFlags: number, mode: 0 | 1): Setup {
  const m = newMachine(undefined, 256 * 1024);
  const h = m.hart;
  const pt = new PageTables(h, TABLES);
  pt.map(CODE_VA, CODE_PA, V | R | X | A | (mode === 0 ? U : 0));
  pt.map(TGT_VA, TGT_PA, targetFlags);
  h.writePhys(CODE_PA + 0, 4, encode("lw", ["a0", 0x24, "t0"]));
  h.writePhys(CODE_PA + 4, 4, encode("sw", ["a1", 0x28, "t0"]));
  h.writePhys(CODE_PA + 8, 4, encode("jalr", ["ra", 0x10, "t0"]));
  h.writePhys(CODE_PA + 12, 4, encode("nop"));
  h.writePhys(TGT_PA + 0x124, 4, MAGIC);
  h.writePhys(TGT_PA + 0x110, 4, encode("addi", ["a5", "zero", 77]));
  return { m, pt };
}

interface Env {
  mode: 0 | 1;
  sum?: boolean;
  mxr?: boolean;
  deleg?: boolean;
}

/** Put the hart in `mode` with Sv32 on, as an OS would have left it. */
function enter(s: Setup, env: Env, pc: number): void {
  const h = s.m.hart;
  let st = 0;
  if (env.sum) st |= MSTATUS.SUM;
  if (env.mxr) st |= MSTATUS.MXR;
  csrWrite(h, CSR.mstatus, st);
  csrWrite(h, CSR.medeleg, env.deleg ? DELEG_MEM_FAULTS : 0);
  csrWrite(h, CSR.mtvec, MTVEC);
  csrWrite(h, CSR.stvec, STVEC);
  csrWrite(h, CSR.satp, s.pt.satp(0));
  h.mcause = h.scause = SENTINEL;
  h.mepc = h.sepc = h.mtval = h.stval = 0;
  h.x[REG.t0] = BASE;
  h.x[REG.a0] = 0;
  h.x[REG.a1] = STORED;
  h.x[REG.a5] = 0;
  h.setPriv(env.mode);
  h.pc = pc;
}

type Outcome = "ok" | { cause: number; to: "M" | "S"; epc: number; tval: number };

/** Run one access and report what happened, checking the side effects of success or failure. */
function attempt(s: Setup, env: Env, access: Access): Outcome {
  const h = s.m.hart;
  const pc = CODE_VA + (access === "load" ? 0 : access === "store" ? 4 : 8);
  enter(s, env, pc);
  const before = h.readPhys(TGT_PA + 0x128, 4);
  h.run(access === "fetch" ? 2 : 1);
  const trapped = h.mcause !== SENTINEL || h.scause !== SENTINEL;
  if (!trapped) {
    if (access === "load") {
      expect(h.x[REG.a0] >>> 0).toBe(MAGIC);
      expect(h.pc).toBe(CODE_VA + 4);
    } else if (access === "store") {
      expect(h.readPhys(TGT_PA + 0x128, 4)).toBe(STORED);
      expect(h.pc).toBe(CODE_VA + 8);
    } else {
      expect(h.x[REG.a5]).toBe(77);
      expect(h.x[REG.ra] >>> 0).toBe(CODE_VA + 12);
      expect(h.pc).toBe(FETCH_VA + 4);
    }
    expect(h.priv).toBe(env.mode);
    return "ok";
  }
  // Nothing of the faulting access happened.
  expect(h.x[REG.a0]).toBe(0);
  expect(h.x[REG.a5]).toBe(0);
  expect(h.readPhys(TGT_PA + 0x128, 4)).toBe(before);
  if (h.priv === 1) {
    expect(h.mcause).toBe(SENTINEL);
    expect(h.pc).toBe(STVEC);
    expect((h.mstatus & MSTATUS.SPP) !== 0).toBe(env.mode === 1);
    return { cause: h.scause, to: "S", epc: h.sepc, tval: h.stval };
  }
  expect(h.priv).toBe(3);
  expect(h.scause).toBe(SENTINEL);
  expect(h.pc).toBe(MTVEC);
  expect((h.mstatus & MSTATUS.MPP) >>> MSTATUS.MPP_SHIFT).toBe(env.mode);
  return { cause: h.mcause, to: "M", epc: h.mepc, tval: h.mtval };
}

/**
 * The spec's rules written out independently of src/mmu.ts:
 * - R=0,W=1 is reserved: page fault for every access (4.3.1);
 * - U-mode may only access U pages; S-mode may not fetch from U pages ever,
 *   and may load/store them only with SUM=1 (4.3.1, 4.1.1.2);
 * - fetch needs X, store needs W, load needs R, or X when MXR=1.
 */
function allowed(flags: number, env: Env, access: Access): boolean {
  if ((flags & W) !== 0 && (flags & R) === 0) return false;
  const userPage = (flags & U) !== 0;
  if (env.mode === 0 && !userPage) return false;
  if (env.mode === 1 && userPage && (access === "fetch" || !env.sum)) return false;
  if (access === "fetch") return (flags & X) !== 0;
  if (access === "store") return (flags & W) !== 0;
  return (flags & R) !== 0 || (env.mxr === true && (flags & X) !== 0);
}

function expected(flags: number, env: Env, access: Access): Outcome {
  if (allowed(flags, env, access)) return "ok";
  return {
    cause: PAGE_FAULT[access],
    to: env.deleg ? "S" : "M",
    epc: access === "fetch" ? FETCH_VA : access === "load" ? CODE_VA : CODE_VA + 4,
    tval: access === "fetch" ? FETCH_VA : access === "load" ? LOAD_VA : STORE_VA,
  };
}

function flagName(f: number): string {
  return `${f & R ? "R" : "-"}${f & W ? "W" : "-"}${f & X ? "X" : "-"}${f & U ? "U" : "-"}`;
}

describe("Sv32 leaf permissions: every R/W/X/U combination", () => {
  for (const mode of [0, 1] as const) {
    for (let bits = 0; bits < 16; bits++) {
      const flags =
        V | A | D | (bits & 1 ? R : 0) | (bits & 2 ? W : 0) | (bits & 4 ? X : 0) | (bits & 8 ? U : 0);
      if ((flags & (R | W | X)) === 0) continue; // not a leaf: covered by the walk tests below
      it(`${mode === 0 ? "U" : "S"}-mode on a ${flagName(flags)} page: fetch/load/store x SUM x MXR x delegation`, () => {
        const actual: Record<string, Outcome> = {};
        const want: Record<string, Outcome> = {};
        for (const sum of [false, true]) {
          for (const mxr of [false, true]) {
            for (const deleg of [false, true]) {
              for (const access of ACCESSES) {
                const env = { mode, sum, mxr, deleg };
                const key = `sum=${+sum} mxr=${+mxr} deleg=${+deleg} ${access}`;
                actual[key] = attempt(setup(flags, mode), env, access);
                want[key] = expected(flags, env, access);
              }
            }
          }
        }
        expect(actual).toEqual(want);
      });
    }
  }
});

describe("Sv32 permission rules, case by case", () => {
  const outcome = (flags: number, env: Env, access: Access) =>
    attempt(setup(V | A | D | flags, env.mode), env, access);

  it("S-mode never fetches from a U page, even with SUM=1", () => {
    for (const sum of [false, true]) {
      const o = outcome(R | W | X | U, { mode: 1, sum }, "fetch");
      expect(o).toEqual({ cause: CAUSE.FETCH_PAGE_FAULT, to: "M", epc: FETCH_VA, tval: FETCH_VA });
    }
  });

  it("SUM lets S-mode load and store U pages", () => {
    expect(outcome(R | W | U, { mode: 1, sum: false }, "load")).not.toBe("ok");
    expect(outcome(R | W | U, { mode: 1, sum: false }, "store")).not.toBe("ok");
    expect(outcome(R | W | U, { mode: 1, sum: true }, "load")).toBe("ok");
    expect(outcome(R | W | U, { mode: 1, sum: true }, "store")).toBe("ok");
  });

  it("U-mode cannot use supervisor pages, whatever SUM says", () => {
    for (const access of ACCESSES) {
      expect(outcome(R | W | X, { mode: 0, sum: true }, access)).toMatchObject({ cause: PAGE_FAULT[access] });
    }
  });

  it("MXR makes execute-only pages readable, but not writable", () => {
    expect(outcome(X | U, { mode: 0 }, "load")).toMatchObject({
      cause: CAUSE.LOAD_PAGE_FAULT,
      tval: LOAD_VA,
    });
    expect(outcome(X | U, { mode: 0, mxr: true }, "load")).toBe("ok");
    expect(outcome(X | U, { mode: 0, mxr: true }, "store")).toMatchObject({ cause: CAUSE.STORE_PAGE_FAULT });
    expect(outcome(X, { mode: 1, mxr: true }, "load")).toBe("ok");
  });

  it("W without R is reserved: every access page-faults, with or without X", () => {
    for (const flags of [W, W | U, W | X, W | X | U]) {
      for (const access of ACCESSES) {
        const env: Env = { mode: flags & U ? 0 : 1, mxr: true, sum: true };
        expect(outcome(flags, env, access), `${flagName(flags)} ${access}`).toMatchObject({
          cause: PAGE_FAULT[access],
        });
      }
    }
  });

  it("delegated page faults reach S-mode with sepc/stval/scause; others reach M", () => {
    const s = setup(V | A | D | R | U, 0);
    expect(attempt(s, { mode: 0, deleg: true }, "store")).toEqual({
      cause: CAUSE.STORE_PAGE_FAULT,
      to: "S",
      epc: CODE_VA + 4,
      tval: STORE_VA,
    });
    const s2 = setup(V | A | D | R | U, 0);
    expect(attempt(s2, { mode: 0, deleg: false }, "store")).toEqual({
      cause: CAUSE.STORE_PAGE_FAULT,
      to: "M",
      epc: CODE_VA + 4,
      tval: STORE_VA,
    });
  });
});

describe("MPRV: M-mode loads and stores with MPP's privilege", () => {
  /** M-mode runs from physical RAM (the code page is not mapped at its physical address). */
  function mprvSetup(targetFlags: number) {
    const s = setup(V | A | D | targetFlags, 0);
    const d = new Driver(s.m, RAM + 0x3_0000);
    const h = s.m.hart;
    csrWrite(h, CSR.satp, s.pt.satp(0));
    csrWrite(h, CSR.mtvec, MTVEC);
    csrWrite(h, CSR.medeleg, DELEG_MEM_FAULTS); // never applies to traps from M
    return { ...s, d, h };
  }

  it("MPP=U translates data accesses with U permissions; fetches stay physical", () => {
    const { d, h } = mprvSetup(R | W | U);
    d.mprv(0);
    expect(d.load(LOAD_VA)).toBe(MAGIC);
    d.store(STORE_VA, 0x1234);
    expect(h.readPhys(TGT_PA + 0x128, 4)).toBe(0x1234);
    expect(h.priv).toBe(3);
  });

  it("MPP=U on a supervisor page faults into M (medeleg does not apply to traps from M)", () => {
    const { d, h } = mprvSetup(R | W);
    d.mprv(0);
    const r = d.exec("lw a0, 0(a1)", { a1: LOAD_VA });
    expect(r.cause).toBe(CAUSE.LOAD_PAGE_FAULT);
    expect(h.priv).toBe(3);
    expect(h.mtval).toBe(LOAD_VA);
    expect(h.mepc).toBe(d.codePa);
    expect(h.scause).toBe(0);
  });

  it("MPP=S obeys SUM and MXR", () => {
    const { d } = mprvSetup(R | W | U);
    d.mprv(1);
    expect(d.exec("lw a0, 0(a1)", { a1: LOAD_VA }).cause).toBe(CAUSE.LOAD_PAGE_FAULT);
    // The trap into M set MPP to M, so MPRV now means "untranslated": the
    // virtual address is taken as physical (nothing there: access fault).
    expect(d.exec("sw a0, 0(a1)", { a1: STORE_VA }).cause).toBe(CAUSE.STORE_ACCESS);
    d.mprv(1);
    expect(d.exec("sw a0, 0(a1)", { a1: STORE_VA }).cause).toBe(CAUSE.STORE_PAGE_FAULT);
    d.mprv(1, { sum: true });
    expect(d.load(LOAD_VA)).toBe(MAGIC);
    const x = mprvSetup(X);
    x.d.mprv(1);
    expect(x.d.exec("lw a0, 0(a1)", { a1: LOAD_VA }).cause).toBe(CAUSE.LOAD_PAGE_FAULT);
    x.d.mprv(1, { mxr: true });
    expect(x.d.load(LOAD_VA)).toBe(MAGIC);
  });

  it("MPP=M (or MPRV=0) leaves data accesses untranslated", () => {
    const { d, h } = mprvSetup(R | W | U);
    d.mprv(3);
    expect(d.load(TGT_PA + 0x124)).toBe(MAGIC);
    csrWrite(h, CSR.mstatus, 0);
    expect(d.load(TGT_PA + 0x124)).toBe(MAGIC);
    expect(h.dtlb.counters.lookups).toBe(0);
    expect(h.walkCounters.walks).toBe(0);
  });

  it("mret to a mode below M clears MPRV", () => {
    const { d, h } = mprvSetup(R | W | U);
    d.mprv(0);
    h.mepc = CODE_VA;
    expect(d.exec("mret").cause).toBe(-1);
    expect(h.priv).toBe(0);
    expect(h.mstatus & MSTATUS.MPRV).toBe(0);
  });
});

describe("Sv32 walk faults", () => {
  /**
   * One access to the target page from S-mode after `edit` broke its tables;
   * returns the outcome and the walk counters of that access alone (the code
   * page was put in the TLB first by running the nop after the jalr).
   */
  function probe(edit: (s: Setup) => void, access: Access = "load") {
    const s = setup(V | A | D | R | W | X, 1);
    const h = s.m.hart;
    edit(s);
    const env: Env = { mode: 1 };
    enter(s, env, CODE_VA + 12);
    h.run(1);
    expect(h.pc).toBe(CODE_VA + 16);
    const w0 = { ...h.walkCounters };
    const o = attempt(s, env, access);
    const walk = Object.fromEntries(
      Object.entries(h.walkCounters).map(([k, v]) => [k, v - w0[k as keyof typeof w0]]),
    );
    return { o, walk };
  }

  it("an invalid level-1 PTE is a page fault at level 1", () => {
    for (const access of ["load", "store"] as const) {
      const { o, walk } = probe((s) => s.pt.write(s.pt.l1(TGT_VA), 0), access);
      expect(o).toMatchObject({ cause: PAGE_FAULT[access], to: "M" });
      expect(walk).toMatchObject({ walks: 1, endedLevel1: 1, endedLevel0: 0, faults: 1, memRefs: 1 });
    }
  });

  it("an invalid level-0 PTE is a page fault at level 0", () => {
    const { o, walk } = probe((s) => s.pt.write(s.pt.l0(TGT_VA), pte(TGT_PA, R | W | A | D)));
    expect(o).toMatchObject({ cause: CAUSE.LOAD_PAGE_FAULT, tval: LOAD_VA });
    expect(walk).toMatchObject({ walks: 1, endedLevel1: 0, endedLevel0: 1, faults: 1, memRefs: 2 });
  });

  it("a non-leaf PTE at level 0 is a page fault", () => {
    for (const access of ACCESSES) {
      const { o, walk } = probe((s) => s.pt.write(s.pt.l0(TGT_VA), pte(s.pt.root, V)), access);
      expect(o).toMatchObject({ cause: PAGE_FAULT[access] });
      expect(walk).toMatchObject({ endedLevel0: 1, faults: 1, pages4K: 0 });
    }
  });

  it("a level-1 PTE pointing outside RAM gives an access fault (cause 1/5/7) with stval = va", () => {
    for (const access of ACCESSES) {
      const { o, walk } = probe((s) => s.pt.write(s.pt.l1(TGT_VA), pte(0x9000_0000, V)), access);
      expect(o).toMatchObject({
        cause: ACCESS_FAULT[access],
        tval: access === "fetch" ? FETCH_VA : access === "load" ? LOAD_VA : STORE_VA,
      });
      expect(walk).toMatchObject({ walks: 1, endedLevel0: 1, faults: 1, memRefs: 2 });
    }
  });

  it("a root table outside RAM gives an access fault at level 1", () => {
    const s = setup(V | A | D | R | W | X, 1);
    const env: Env = { mode: 1 };
    const h = s.m.hart;
    enter(s, env, CODE_VA);
    csrWrite(h, CSR.satp, (0x8000_0000 | (0x0000_0000 >>> 12)) >>> 0); // root at physical 0
    h.run(1);
    expect(h.mcause).toBe(CAUSE.FETCH_ACCESS);
    expect(h.mtval).toBe(CODE_VA);
    expect(h.walkCounters).toMatchObject({ walks: 1, endedLevel1: 1, faults: 1, memRefs: 1 });
  });

  it("access faults are delegated like page faults", () => {
    const s = setup(V | A | D | R | W | X, 1);
    s.pt.write(s.pt.l1(TGT_VA), pte(0x9000_0000, V));
    expect(attempt(s, { mode: 1, deleg: true }, "store")).toEqual({
      cause: CAUSE.STORE_ACCESS,
      to: "S",
      epc: CODE_VA + 4,
      tval: STORE_VA,
    });
  });

  it("Sv32 physical addresses have 34 bits: RAM's address plus 4 GiB is not RAM", () => {
    // ppn 0x180021 is physical 0x1_8002_1000; truncated to 32 bits it would be TGT_PA.
    for (const access of ACCESSES) {
      const { o } = probe(
        (s) => s.pt.write(s.pt.l0(TGT_VA), pte(2 ** 32 + TGT_PA, V | R | W | X | A | D)),
        access,
      );
      expect(o).toMatchObject({ cause: ACCESS_FAULT[access] });
    }
  });

  it("a leaf mapping to a physical address with nothing behind it gives an access fault", () => {
    for (const access of ACCESSES) {
      const { o, walk } = probe(
        (s) => s.pt.write(s.pt.l0(TGT_VA), pte(0x9000_0000, V | R | W | X | A | D)),
        access,
      );
      expect(o).toMatchObject({ cause: ACCESS_FAULT[access] });
      expect(walk).toMatchObject({ walks: 1, faults: 0, pages4K: 1 });
    }
  });
});
