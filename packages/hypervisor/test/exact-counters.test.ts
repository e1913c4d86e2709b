/**
 * The counters of a small fixed run under shadow-ondemand are exact: a
 * regression test for the cost models that will be computed from them. The
 * guest (translation off, so one pretend-S bare view) is
 *
 *   supervisor_entry:            (page 0x80000000, with the boot stub, which the hypervisor skips)
 *     lui   t0, UART              1
 *     addi  t1, zero, 'A'         2
 *     sb    t1, 0(t0)             3  MMIO store
 *     csrr  t2, sstatus           4  emulated
 *     csrw  sscratch, t2          5  emulated
 *     auipc t3 / addi t3  (la)    6, 7
 *     lw    t4, 0(t3)             8  first touch of the data page 0x80001000
 *     sw    t4, 4(t3)             9  same page, already writable in the shadow
 *     lui   t0, TEST              10
 *     lui / addi t1, 0x5555       11, 12
 *     sw    t1, 0(t0)             13 MMIO store: power off
 *
 * and every expected value below is derived from it in the comments.
 */
import { Assembler, type Image } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { bootStub, TEST_DEVICE, UART } from "./support/guests.ts";
import { runHv, runNative } from "./support/hv-harness.ts";

function image(): Image {
  const a = new Assembler({ text: 0x8000_0000 });
  bootStub(a);
  a.align(16);
  a.label("supervisor_entry");
  a.li("t0", UART).li("t1", 0x41).sb("t1", 0, "t0");
  a.csrr("t2", "sstatus").csrw("sscratch", "t2");
  a.la("t3", "data").lw("t4", 0, "t3").sw("t4", 4, "t3");
  a.li("t0", TEST_DEVICE).li("t1", 0x5555).sw("t1", 0, "t0");
  a.label("hang").j("hang");
  a.section(".data");
  a.label("data").word(0x1234, 0);
  return a.assemble();
}

describe("exact counters of a fixed run under shadow-ondemand", () => {
  const img = image();
  const r = runHv(img, "shadow-ondemand");
  const s = r.stats;

  it("the run itself matches the native one", () => {
    expect(img.symbols.supervisor_entry >>> 12).toBe(0x80000); // code on one page
    expect(img.symbols.data >>> 0).toBe(0x8000_1000); // data on the next
    expect(r.state).toBe("exited");
    expect(r.output).toBe("A");
    expect(runNative(img).output).toBe("A");
  });

  it("retired instructions", () => {
    // 13 guest instructions, all retired (the emulated CSR accesses and MMIO stores retire as natively);
    // all in real U-mode; no idle time; time = floor(13 / 10 instructions per tick).
    expect(s.instructions).toEqual({ total: 13, user: 13, supervisor: 0, machine: 0 });
    expect(s.cycles).toBe(13);
    expect(s.time).toBe(1);
    // The machine's clock starts where the native boot stub leaves it (boot-clock.ts): bootStub() retires
    // la 2, li -1 1, li 0x1f 1, li 0xb1ff 2, li 0x222 1, li 0x8000_0000 1, li 7 1, li 0x1800 2, li 0x800 2,
    // la 2, 10 csr writes, mret = 26 instructions in M-mode before supervisor_entry; the run adds its 13.
    expect(r.hv.machine.hart.instret).toBe(26 + 13);
    expect(r.hv.machine.hart.retiredBy(3)).toBe(26);
  });

  it("traps into the monitor", () => {
    // fetch page fault: the first fetch at supervisor_entry finds an empty shadow;
    // store page faults: the two device stores (devices are never mapped in shadows);
    // illegal instruction: csrr sstatus and csrw sscratch;
    // load page fault: the first touch of the data page (the sw after it hits the filled entry).
    const ex = s.traps.exceptions;
    expect(ex.fetch_page_fault).toBe(1);
    expect(ex.store_page_fault).toBe(2);
    expect(ex.illegal_instruction).toBe(2);
    expect(ex.load_page_fault).toBe(1);
    expect(Object.values(ex).reduce((x, y) => x + y, 0)).toBe(6);
    expect(Object.values(s.traps.interrupts).reduce((x, y) => x + y, 0)).toBe(0);
    expect(s.traps.toHandler).toBe(6);
    expect(s.traps.toS).toBe(0);
    expect(s.traps.toM).toBe(0);
  });

  it("hypervisor counters", () => {
    // Two hidden faults (code page, data page) fill two shadow entries of the one view
    // (pretend-S, bare) whose table is created on the first fault, with the one level-0 table
    // both entries share (root entry 512); two emulated CSRs; two emulated MMIO stores, which
    // the machine's own device counters do not see; nothing reflected, injected or flushed.
    expect(s.extra).toEqual({
      "device.loads": 0,
      "device.stores": 0,
      "hv.exit.emulate.csr.sscratch": 1,
      "hv.exit.emulate.csr.sstatus": 1,
      "hv.exit.hidden_fault": 2,
      "hv.exit.mmio.store": 2,
      "hv.shadow.fill": 2,
      "hv.shadow.leaf_tables_created": 1,
      "hv.shadow.tables_created": 1,
    });
  });

  it("TLB and walker counters", () => {
    // Walks of the shadow (each TLB miss walks): (1) first fetch: root entry empty, 1 reference,
    // fault; (2) refetch after the fill: root + leaf, 2 refs, fill; (3) sb to the UART page: root
    // entry 64 empty, 1 ref, fault; (4) lw of the data page: root entry 512 valid (the code's),
    // leaf empty, 2 refs, fault; (5) lw again: 2 refs, fill; (6) sw to the test device: root
    // entry 0 empty, 1 ref, fault. 6 walks, 9 references, 4 faults, 2 fills, 3 ending at each level.
    // Hits: 13 fetches after the first successful one (14 successful fetches: 13 instructions + the
    // lw executed twice) plus the data sw: 14. Lookups = 6 misses + 14 hits.
    expect(s.tlb).toEqual({
      tlb: {
        lookups: 20,
        hits: 14,
        misses: 6,
        flushAll: 0,
        flushAddr: 0,
        flushAsid: 0,
        flushAddrAsid: 0,
        entriesFlushed: 0,
        evictions: 0,
        fills: 2,
      },
    });
    // Shadow PTEs carry A and D already, so the walker never updates them.
    expect(s.walk).toEqual({
      walks: 6,
      endedLevel1: 3,
      endedLevel0: 3,
      pages4K: 2,
      pages4M: 0,
      faults: 4,
      memRefs: 9,
      adUpdates: 0,
    });
  });
});
