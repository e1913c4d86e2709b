/**
 * Every store-like instruction — sb, sh, sw, sc.w and every AMO — that a
 * guest aims at its own page tables, and LR/SC pairs whose SC takes a
 * hidden fault, give the guest exactly what the machine gives natively
 * (rd, memory, the reservation), under every strategy. The first guest is
 * the one that once livelocked shadow-proactive: paging on, the kernel's
 * megapage mapping its own root table writable, amoswap.w on a root PTE.
 * Then atomics on device pages: the machine raises a store/AMO access fault
 * (cause 7) for SC and AMOs and a load access fault (cause 5) for LR, with
 * stval = the address, and so must every strategy.
 */
import type { Assembler, Reg } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { strategyNames } from "../src/paging/registry.ts";
import { TEST_DEVICE, UART } from "./support/guests.ts";
import { buildGuest, FREE_BASE, KERNEL_BASE, PTE, RWAD, Sv32Tables } from "./support/hv-guest.ts";
import { expectSame, h8, runHv } from "./support/hv-harness.ts";

const tables = () => new Sv32Tables().kernel();
/** A root entry no mapping uses (va 0xc000_0000): the guest may write anything there. */
const SPARE_ROOT = tables().rootPteAddr(0xc000_0000);
/** The root entry of the kernel's own megapage: the code doing the writes runs through it. */
const KERNEL_ROOT = tables().rootPteAddr(KERNEL_BASE);
/** An unused entry of the level-0 table that maps the UART. */
const SPARE_LEAF = tables().pteAddr(UART) + 8;

const AMOS = [
  "amoswap_w",
  "amoadd_w",
  "amoxor_w",
  "amoand_w",
  "amoor_w",
  "amomin_w",
  "amomax_w",
  "amominu_w",
  "amomaxu_w",
] as const;

function amo(a: Assembler, name: (typeof AMOS)[number], rd: Reg, rs2: Reg, rs1: Reg): void {
  (a[name] as (rd: Reg, rs2: Reg, rs1: Reg) => unknown).call(a, rd, rs2, rs1);
}

/** The guest: amoswap.w on a root PTE through the kernel megapage, then read through the new mapping. */
const amoswapOnRoot = buildGuest({
  tables: tables(),
  body(g) {
    const a = g.a;
    a.li("t0", FREE_BASE).li("t1", 0x5eed_0001).sw("t1", 0, "t0");
    g.pagingOn(tables());
    const mega = (((KERNEL_BASE >>> 12) << 10) | RWAD) >>> 0;
    a.li("s0", SPARE_ROOT).li("s1", mega).amoswap_w("s2", "s1", "s0").sfence_vma();
    g.show("old", "s2");
    a.lw("s3", 0, "s0");
    g.show("pte", "s3");
    a.li("s4", 0xc000_0000 + (FREE_BASE - KERNEL_BASE)).lw("s5", 0, "s4");
    g.show("via_new", "s5");
  },
});

/** Every store-like instruction on root and leaf PTEs (the tables the kernel runs on), rd and memory shown. */
const everyStoreOnTables = buildGuest({
  tables: tables(),
  body(g) {
    const a = g.a;
    g.pagingOn(tables());
    const target = (at: number) => a.li("s0", at);
    const showWord = (name: string) => {
      a.lw("s3", 0, "s0");
      g.show(name, "s3");
    };
    let value = 0x1234_5670;
    for (const at of [SPARE_ROOT, SPARE_LEAF]) {
      target(at);
      a.li("s1", 0x8000_0a0e).sw("s1", 0, "s0");
      showWord("sw");
      a.li("s1", 0xbeef).sh("s1", 2, "s0");
      showWord("sh");
      a.li("s1", 0x5a).sb("s1", 1, "s0");
      showWord("sb");
      for (const name of AMOS) {
        value = (value + 0x1111_1111) >>> 0;
        a.li("s1", value);
        amo(a, name, "s2", "s1", "s0");
        g.show(name, "s2");
        showWord(`${name}_mem`);
      }
      // An AMO whose rd is x0 still writes memory.
      a.li("s1", 0x7777).amoadd_w("zero", "s1", "s0");
      showWord("amo_x0");
      // LR then SC on the same word: succeeds; an SC with the reservation gone fails and writes nothing.
      a.lr_w("s2", "s0").li("s1", 0x0c0f_fee0).sc_w("s4", "s1", "s0");
      g.show("lr", "s2").show("sc_ok", "s4");
      showWord("sc_mem");
      a.li("s1", 0x0bad_0bad).sc_w("s4", "s1", "s0");
      g.show("sc_again", "s4");
      showWord("sc_again_mem");
      // LR of another word: the SC here must fail.
      a.addi("s5", "s0", 4).lr_w("s2", "s5").sc_w("s4", "s1", "s0");
      g.show("sc_other", "s4");
      showWord("sc_other_mem");
      a.sw("zero", 0, "s0"); // leave the entry invalid
    }
    // Read-modify-write of the live kernel megapage entry (no change in value).
    target(KERNEL_ROOT).li("s1", 0).amoor_w("s2", "s1", "s0");
    g.show("kernel_root", "s2");
    a.li("s1", -1).amoand_w("s2", "s1", "s0");
    g.show("kernel_root_and", "s2");
    showWord("kernel_root_after");
  },
});

/**
 * LR/SC where the SC takes a fault the guest never sees (the first write to a
 * page whose guest PTE has D clear, a shadow fill), natively and with paging:
 * the SC succeeds as it does natively. A reported trap between them clears
 * the reservation on both sides.
 */
const lrScAcrossHiddenFaults = (() => {
  const t = tables();
  const dirtyLater = 0x4000_0000;
  t.map(dirtyLater, FREE_BASE + 0x1000, PTE.V | PTE.R | PTE.W | PTE.A);
  t.map(dirtyLater + 0x1000, FREE_BASE + 0x2000, PTE.V | PTE.R | PTE.W | PTE.A);
  return buildGuest({
    tables: t,
    body(g) {
      const a = g.a;
      // Bare first: the first store to a page under the hypervisor may fill a shadow.
      a.li("s0", FREE_BASE + 0x3000)
        .lr_w("s2", "s0")
        .li("s1", 41)
        .sc_w("s4", "s1", "s0");
      g.show("bare_sc", "s4");
      g.pagingOn(t);
      a.li("s0", dirtyLater).lw("s2", 0, "s0"); // read: the shadow maps it read-only until D is set
      a.lr_w("s2", "s0").li("s1", 42).sc_w("s4", "s1", "s0");
      g.show("sc_sets_d", "s4");
      a.lw("s3", 0, "s0");
      g.show("mem", "s3");
      // A page never touched: LR itself takes the hidden fault, then the SC another.
      a.li("s0", dirtyLater + 0x1000)
        .lr_w("s2", "s0")
        .li("s1", 43)
        .sc_w("s4", "s1", "s0");
      g.show("sc_fresh", "s4");
      // A trap the guest sees (an illegal instruction, reported and skipped) clears the reservation.
      a.lr_w("s2", "s0").word(0).li("s1", 44).sc_w("s4", "s1", "s0");
      g.show("sc_after_trap", "s4");
    },
  });
})();

describe.each(strategyNames())("%s: store-like instructions on guest page tables", (strategy) => {
  it("amoswap.w on a root PTE through the kernel's own megapage completes, as natively (was a livelock)", () => {
    const mega = (((KERNEL_BASE >>> 12) << 10) | RWAD) >>> 0;
    expectSame(amoswapOnRoot, strategy, `old=00000000\npte=${h8(mega)}\nvia_new=5eed0001\n`);
    // Exactly one emulation per write, not a retry loop: the run takes a handful of exits.
    expect(runHv(amoswapOnRoot, strategy).stats.traps.toHandler).toBeLessThan(200);
  });

  it("sb/sh/sw, SC and every AMO on root and leaf PTEs: rd values and memory as natively", () => {
    const native = expectSame(everyStoreOnTables, strategy);
    expect(native.output).toContain("sc_ok=00000000\nsc_mem=0c0ffee0\nsc_again=00000001\n");
    expect(native.output).toContain("sc_other=00000001\n");
  });

  it("LR/SC pairs across hidden faults keep their reservation; a reported trap clears it", () => {
    const native = expectSame(lrScAcrossHiddenFaults, strategy);
    expect(native.output).toContain("bare_sc=00000000\n");
    expect(native.output).toContain("sc_sets_d=00000000\nmem=0000002a\nsc_fresh=00000000\n");
    expect(native.output).toMatch(/sc_after_trap=00000001\n$/);
  });
});

/** Each atomic on a device address, reported by the guest's trap handler (which skips it). */
function atomicsOn(addr: number, paging: boolean) {
  const t = tables();
  return buildGuest({
    tables: t,
    body(g) {
      const a = g.a;
      if (paging) g.pagingOn(t);
      a.li("s0", addr).li("s1", 0x41).li("s2", 0x1234);
      a.lr_w("s2", "s0");
      g.show("lr_rd", "s2");
      a.sc_w("s2", "s1", "s0");
      g.show("sc_rd", "s2");
      for (const name of AMOS) amo(a, name, "s2", "s1", "s0");
      g.show("amo_rd", "s2");
      a.addi("s3", "s0", 2).amoswap_w("s2", "s1", "s3"); // misaligned comes first
    },
  });
}

describe.each(strategyNames())("%s: atomics on device pages fault as natively", (strategy) => {
  for (const [device, addr] of [
    ["UART", UART],
    ["test device", TEST_DEVICE],
  ] as const) {
    for (const paging of [false, true]) {
      it(`${device}, paging ${paging ? "on" : "off"}: LR -> cause 5, SC/AMO -> cause 7, stval = address`, () => {
        const native = expectSame(atomicsOn(addr, paging), strategy);
        const lines = native.output.split("trap\n").slice(1);
        expect(lines.length).toBe(1 + 1 + AMOS.length + 1);
        expect(lines[0].startsWith("scause=00000005\n")).toBe(true);
        expect(lines[0]).toContain(`stval=${h8(addr)}\n`);
        for (const l of lines.slice(1, -1)) {
          expect(l.startsWith("scause=00000007\n")).toBe(true);
          expect(l).toContain(`stval=${h8(addr)}\n`);
        }
        expect(lines.at(-1)?.startsWith("scause=00000006\n")).toBe(true);
      });
    }
  }
});
