import { describe, expect, it } from "vitest";
import { Assembler } from "../src/asm/index.ts";
import { CSR } from "../src/csr.ts";
import { csrRead } from "../src/csrfile.ts";
import { Machine } from "../src/machine.ts";
import { enterGuest, HRig, LEAF } from "./support/hext-rig.ts";

// Guest layout: code VA 0x1000_0000 -> GPA 0x8020_0000; data VA 0x2000_0000 -> GPA 0x8020_1000;
// VS root at GPA 0x8030_0000 and its level-0 tables at 0x8030_1000 (code) and 0x8030_2000 (data).
const CODE_VA = 0x1000_0000;
const DATA_VA = 0x2000_0000;
const CODE_GPA = 0x8020_0000;
const DATA_GPA = 0x8020_1000;
const VS_ROOT = 0x8030_0000;

function guestRig(guest: (a: Assembler) => void, extraCsrs: Record<string, number> = {}, vu = false) {
  const r = new HRig();
  r.gmap(CODE_GPA, 0x8050_0000);
  r.gmap(DATA_GPA, 0x8051_0000);
  r.gmap(VS_ROOT, 0x8060_0000);
  r.gmap(VS_ROOT + 0x1000, 0x8061_0000);
  r.gmap(VS_ROOT + 0x2000, 0x8062_0000);
  const userBit = vu ? 16 : 0;
  r.vmap(VS_ROOT, VS_ROOT + 0x1000, CODE_VA, CODE_GPA, LEAF | userBit);
  r.vmap(VS_ROOT, VS_ROOT + 0x2000, DATA_VA, DATA_GPA, LEAF | userBit);
  r.h.writePhys(0x8051_0000, 4, 0x1234_5678);
  const g = new Assembler({ text: CODE_VA });
  g.label("_start");
  guest(g);
  r.place(g, 0x8050_0000);
  const vsatp = (0x8000_0000 | (VS_ROOT / 4096)) >>> 0;
  r.place(enterGuest({ hgatp: r.hgatp(1), vsatp, ...extraCsrs }, CODE_VA, vu), 0x8000_0000);
  return r;
}

describe("two-stage translation (Sv32 over Sv32x4)", () => {
  it("a full 4K walk makes exactly 8 memory references: 2 VS-stage reads and 3 G-stage walks of 2", () => {
    const r = guestRig((a) => a.li("a1", DATA_VA).lw("a0", 0, "a1").ecall());
    r.m.run({ maxInstructions: 1000 });
    expect(r.traps).toHaveLength(1);
    expect(r.traps[0]).toMatchObject({ cause: 10, virt: 1, priv: 1 }); // ecall from VS
    expect(r.h.x[10]).toBe(0x1234_5678);
    const s = r.m.snapshot();
    // Two translations in the guest: the code page (fetch) and the data page (load).
    expect(s.hext?.walkVs).toMatchObject({ walks: 2, memRefs: 4, pages4K: 2, adUpdates: 0 });
    expect(s.hext?.walkG).toMatchObject({ walks: 6, memRefs: 12, adUpdates: 0 });
    const perWalk =
      ((s.hext?.walkVs.memRefs ?? 0) + (s.hext?.walkG.memRefs ?? 0)) / (s.hext?.walkVs.walks ?? 1);
    expect(perWalk).toBe(8); // (n+1)(m+1) - 1 with n = m = 2
    expect(s.walk.walks).toBe(0); // M-mode ran bare: no single-stage walks
  });

  it("a guest-physical page missing from the G-stage is a load guest-page fault with mtval2 = GPA >> 2 and GVA", () => {
    const r = guestRig((a) => a.li("a1", DATA_VA + 0x1000).lw("a0", 8, "a1"));
    r.vmap(VS_ROOT, VS_ROOT + 0x2000, DATA_VA + 0x1000, 0x8070_0000, LEAF); // GPA with no G-stage mapping
    r.m.run({ maxInstructions: 1000 });
    expect(r.traps[0]).toMatchObject({
      cause: 21,
      tval: DATA_VA + 0x1008,
      mtval2: (0x8070_0008 / 4) >>> 0,
      gva: 1,
      virt: 1,
    });
  });

  it("the G-stage refusing a VS-stage PTE read names the PTE: mtval2 = its GPA >> 2, mtinst = 0x2000 (table 8.12)", () => {
    for (const [store, cause] of [
      [false, 21],
      [true, 23],
    ] as const) {
      const r = guestRig((a) =>
        store ? a.li("a1", 0x3000_1000).sw("a0", 8, "a1") : a.li("a1", 0x3000_1000).lw("a0", 8, "a1"),
      );
      // Root entry of VA 0x3000_0000: a pointer to a level-0 table at a GPA the G-stage does not map.
      r.h.writePhys(r.ma(VS_ROOT + (0x3000_0000 >>> 22) * 4), 4, (((0x8070_0000 / 4096) << 10) | 1) >>> 0);
      r.m.run({ maxInstructions: 1000 });
      expect(r.traps[0]).toMatchObject({ cause, tval: 0x3000_1008, mtval2: (0x8070_0004 / 4) >>> 0, gva: 1 });
      expect(r.h.hx?.mtinst).toBe(0x2000);
    }
  });

  it("a guest-page fault of the access itself leaves mtinst 0 (no pseudoinstruction)", () => {
    const r = guestRig((a) => a.li("a1", DATA_VA + 0x1000).lw("a0", 8, "a1"));
    r.vmap(VS_ROOT, VS_ROOT + 0x2000, DATA_VA + 0x1000, 0x8070_0000, LEAF);
    const hx = r.h.hx;
    if (hx) hx.mtinst = 0x1234; // a trap must overwrite what was there
    r.m.run({ maxInstructions: 1000 });
    expect(r.traps[0]).toMatchObject({ cause: 21, mtval2: (0x8070_0008 / 4) >>> 0 });
    expect(r.h.hx?.mtinst).toBe(0);
  });

  it("a VS-stage miss is an ordinary page fault (13) delegated to VS through medeleg and hedeleg", () => {
    const r = guestRig(
      (a) =>
        a
          .la("t0", "vstrap")
          .csrw("stvec", "t0")
          .li("a1", 0x3000_0000)
          .lw("a0", 0, "a1")
          .label("vstrap")
          .csrr("a2", "scause")
          .csrr("a3", "stval")
          .ecall(),
      { medeleg: 1 << 13, hedeleg: 1 << 13 },
    );
    r.m.run({ maxInstructions: 1000 });
    expect(r.traps).toHaveLength(1);
    expect(r.traps[0].cause).toBe(10);
    expect(r.h.x[12]).toBe(13); // scause, read through vscause
    expect(r.h.x[13]).toBe(0x3000_0000);
    expect(r.m.snapshot().traps.toVS).toBe(1);
  });

  it("hypervisor CSRs from VS raise the virtual-instruction exception; machine CSRs stay illegal", () => {
    const r = guestRig((a) => a.csrr("a0", "hstatus"));
    r.m.run({ maxInstructions: 1000 });
    expect(r.traps[0]).toMatchObject({ cause: 22, virt: 1 });
    expect(r.traps[0].tval).toBe(0x60002573);
    const r2 = guestRig((a) => a.csrr("a0", "mstatus"));
    r2.m.run({ maxInstructions: 1000 });
    expect(r2.traps[0]).toMatchObject({ cause: 2, virt: 1 });
  });

  it("TLB entries are tagged with the VMID: another VMID misses, hfence.gvma of one VMID keeps the other", () => {
    const r = guestRig((a) => a.li("a1", DATA_VA).lw("a0", 0, "a1").ecall());
    r.m.run({ maxInstructions: 1000 });
    const tlb = r.h.dtlb;
    const fills = tlb.counters.fills;
    expect(fills).toBe(2);
    tlb.selectSpace(1 + 1);
    expect(tlb.find(DATA_VA >>> 12, 0)).toBeGreaterThanOrEqual(0);
    tlb.selectSpace(1 + 2);
    expect(tlb.find(DATA_VA >>> 12, 0)).toBe(-1);
    tlb.selectSpace(0);
    expect(tlb.find(DATA_VA >>> 12, 0)).toBe(-1);
    expect(tlb.flushGuest(1 + 2)).toBe(0);
    expect(tlb.flushGuest(1 + 1)).toBe(2);
  });

  it("misa.H is visible only on a machine built with the extension", () => {
    expect((csrRead(new Machine().hart, CSR.misa) ?? 0) & (1 << 7)).toBe(0);
    expect(
      (csrRead(new Machine({ hExtension: true, ramSize: 1 << 20 }).hart, CSR.misa) ?? 0) & (1 << 7),
    ).toBe(1 << 7);
  });
});
