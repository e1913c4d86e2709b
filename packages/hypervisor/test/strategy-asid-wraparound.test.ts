/**
 * shadow-tagged on a machine with few ASID bits: more guest address spaces
 * than machine ASIDs, so the hypervisor's allocator runs out and recycles
 * (with a full flush) again and again; and guest sfence.vma by address and/or
 * ASID mapped onto flushes of the right machine ASIDs, checked where it
 * matters: after the guest's fence, a stale translation is never used.
 */
import { describe, expect, it } from "vitest";
import { Hypervisor } from "../src/monitor.ts";
import {
  hex8,
  l0Slot,
  leaf,
  MEGA_PA,
  pg,
  ptGuest,
  ptr,
  RW_AD,
  rootSlot,
  VA,
  VA2,
  VMEGA,
} from "./support/strategy-guests.ts";
import {
  describeParams,
  expectNative,
  hv,
  runNative,
  STRATEGIES,
  TAGGED,
  workloadImage,
} from "./support/strategy-harness.ts";

// The guests keep the 9 ASID bits of the native machine they are compared with, so the monitor has more
// guest ASIDs to map than the machine has.
const machine = (asidBits: number) => ({ machine: { asidBits }, guestAsidBits: 9 });

describe("ctxswitch with more processes than machine ASIDs", () => {
  const cases = [
    // With the kernel's asid option every process is its own guest ASID (12 > 3 or 7 machine ASIDs).
    { params: { processes: 12, pages: 2, rounds: 6, asid: true }, asidBits: 2 },
    { params: { processes: 12, pages: 2, rounds: 6, asid: true }, asidBits: 3 },
    { params: { processes: 20, pages: 1, rounds: 4, asid: true }, asidBits: 1 },
    // Without it all processes share guest ASID 0: a handful of shadows (per view), so one machine ASID bit runs out.
    { params: { processes: 12, pages: 2, rounds: 6, asid: false }, asidBits: 1 },
    { params: { processes: 12, pages: 2, rounds: 6, asid: false }, asidBits: 2 },
  ];
  it.each(cases)(
    "$params.processes processes, asid $params.asid, $asidBits machine ASID bits",
    ({ params, asidBits }) => {
      const img = workloadImage("ctxswitch", params);
      const run = expectNative(img, TAGGED, machine(asidBits));
      const max = 2 ** asidBits - 1;
      if (hv(run, "asid.alloc") > max) expect(hv(run, "asid.recycle")).toBeGreaterThan(0);
      if (params.asid || asidBits === 1) expect(hv(run, "asid.recycle")).toBeGreaterThan(0);
      // Each recycle is one full machine flush (plus none at switches: that is the point of tags).
      expect(hv(run, "tlb_flush.all")).toBeGreaterThanOrEqual(hv(run, "asid.recycle"));
      // With one machine ASID every shadow has ASID 1, so a switch between shadows must flush.
      if (asidBits > 1) expect(hv(run, "tlb_flush.switch")).toBe(0);
      if (params.asid) {
        // Guest ASID reuse (sfence.vma x0, asid) and PTE edits (sfence.vma va, asid) reach machine ASIDs.
        expect(hv(run, "shadow.flush_asid")).toBeGreaterThan(0);
        expect(hv(run, "shadow.flush_page")).toBeGreaterThan(0);
      }
    },
  );

  it("the same runs on a machine with 9 ASID bits never recycle", () => {
    const run = expectNative(
      workloadImage("ctxswitch", { processes: 12, pages: 2, rounds: 6, asid: true }),
      TAGGED,
      machine(9),
    );
    expect(hv(run, "asid.alloc")).toBeGreaterThan(12);
    expect(hv(run, "asid.recycle")).toBe(0);
  });
});

/**
 * Six address spaces (guest ASIDs 1..6, or all 0 without ASIDs), each with
 * its own level-0 table mapping VA and VA2 to a data page of its own and a
 * megapage VMEGA. The guest touches them all twice (so on a 2-bit machine the
 * machine ASIDs recycle), then edits mappings and fences every way the spec
 * allows, each time after the old translation was used (so it sits in the
 * shadow and the TLB), and reads through the new one.
 */
const SPACES = 6;
const root = (k: number) => pg(k - 1);
const l0 = (k: number) => pg(8 + k - 1);
const data = (k: number) => pg(16 + k - 1);
const edited = (k: number) => pg(24 + k - 1);
const other = (k: number) => pg(32 + k - 1);
const MEGA_OFFSETS = [0x1000, 0x2000, 0x3000];
const megaValue = (m: number, off: number) => (0x3e00_0000 | (m << 16) | off) >>> 0;

function fenceProgram(withAsid: boolean) {
  const asid = (k: number) => (withAsid ? k : 0);
  const fenceAsid = (k: number) => (withAsid ? k : undefined); // without ASIDs, rs2 = x0
  return ptGuest((p) => {
    for (let k = 1; k <= SPACES; k++) {
      for (const [pa, v] of [
        [data(k), 0xd000_0000 + k],
        [edited(k), 0xe000_0000 + k],
        [other(k), 0xf000_0000 + k],
      ])
        p.zeroPage(pa).store(pa, v);
      p.kernelRoot(root(k)).zeroPage(l0(k));
      p.store(rootSlot(root(k), VA), ptr(l0(k)));
      p.store(l0Slot(l0(k), VA), leaf(data(k)));
      p.store(l0Slot(l0(k), VA2), leaf(data(k)));
      p.store(rootSlot(root(k), VMEGA), leaf(MEGA_PA[0], RW_AD));
    }
    for (let m = 0; m < MEGA_PA.length; m++)
      for (const off of MEGA_OFFSETS) p.store(MEGA_PA[m] + off, megaValue(m, off));
    p.sfence();
    const touchAll = (round: number) => {
      for (let k = 1; k <= SPACES; k++) {
        p.switchTo(root(k), asid(k)).show(`r${round}.${k}.va`, VA).show(`r${round}.${k}.va2`, VA2);
        for (const off of MEGA_OFFSETS.slice(0, 2)) p.show(`r${round}.${k}.m${off >> 12}`, VMEGA + off);
      }
    };
    touchAll(1);
    touchAll(2);
    // (a) inactive space 3, fenced by address and its ASID, from space 1.
    p.switchTo(root(1), asid(1));
    p.store(l0Slot(l0(3), VA), leaf(edited(3)));
    p.sfence(VA, fenceAsid(3));
    p.switchTo(root(3), asid(3)).show("a.va", VA).show("a.va2", VA2);
    // (b) the running space, by address and its own ASID.
    p.store(l0Slot(l0(3), VA2), leaf(other(3)));
    p.sfence(VA2, fenceAsid(3));
    p.show("b.va", VA).show("b.va2", VA2);
    // (c) an inactive space's megapage, fenced by one address inside it: every page of it changes.
    p.store(rootSlot(root(5), VMEGA), leaf(MEGA_PA[1], RW_AD));
    p.sfence(VMEGA + 0x1000, fenceAsid(5));
    p.switchTo(root(5), asid(5));
    for (const off of MEGA_OFFSETS) p.show(`c.m${off >> 12}`, VMEGA + off);
    // (d) an inactive space, both pages, fenced by its ASID alone.
    p.store(l0Slot(l0(6), VA), leaf(edited(6)));
    p.store(l0Slot(l0(6), VA2), leaf(other(6)));
    p.sfence(undefined, fenceAsid(6));
    p.switchTo(root(6), asid(6)).show("d.va", VA).show("d.va2", VA2);
    // (e) the running space, fenced by address for every ASID.
    p.store(l0Slot(l0(6), VA), leaf(data(6)));
    p.sfence(VA);
    p.show("e.va", VA);
    // (f) the running space's megapage, used through three pages, then fenced by one address inside it.
    for (const off of MEGA_OFFSETS) p.show(`f0.m${off >> 12}`, VMEGA + off);
    p.store(rootSlot(root(6), VMEGA), leaf(MEGA_PA[2], RW_AD));
    p.sfence(VMEGA + 0x1000, fenceAsid(6));
    for (const off of MEGA_OFFSETS) p.show(`f.m${off >> 12}`, VMEGA + off);
    // (g) space 2, untouched by every fence naming another ASID, still reads its own pages.
    p.switchTo(root(2), asid(2))
      .show("g.va", VA)
      .show("g.m1", VMEGA + 0x1000);
  });
}

function fenceExpected(): string {
  const lines: string[] = [];
  const line = (n: string, v: number) => lines.push(`${n}=${hex8(v)}`);
  for (const round of [1, 2])
    for (let k = 1; k <= SPACES; k++) {
      line(`r${round}.${k}.va`, 0xd000_0000 + k);
      line(`r${round}.${k}.va2`, 0xd000_0000 + k);
      for (const off of MEGA_OFFSETS.slice(0, 2)) line(`r${round}.${k}.m${off >> 12}`, megaValue(0, off));
    }
  line("a.va", 0xe000_0003);
  line("a.va2", 0xd000_0003);
  line("b.va", 0xe000_0003);
  line("b.va2", 0xf000_0003);
  for (const off of MEGA_OFFSETS) line(`c.m${off >> 12}`, megaValue(1, off));
  line("d.va", 0xe000_0006);
  line("d.va2", 0xf000_0006);
  line("e.va", 0xd000_0006);
  for (const off of MEGA_OFFSETS) line(`f0.m${off >> 12}`, megaValue(0, off));
  for (const off of MEGA_OFFSETS) line(`f.m${off >> 12}`, megaValue(2, off));
  line("g.va", 0xd000_0002);
  line("g.m1", megaValue(0, 0x1000));
  return `${lines.join("\n")}\n`;
}

describe.each([true, false])("guest sfence.vma after remapping (guest ASIDs: %s)", (withAsid) => {
  const img = fenceProgram(withAsid);
  const expected = fenceExpected();

  it("natively reads every new mapping after its fence", () => {
    expect(runNative(img).output).toBe(expected);
  });

  it.each(STRATEGIES)("%s never uses a stale translation after the fence", (strategy) => {
    expectNative(img, strategy, {}, expected);
  });

  it.each([1, 2, 3, 9])(
    "shadow-tagged with %i machine ASID bits maps the fences onto machine-ASID flushes",
    (bits) => {
      const run = expectNative(img, TAGGED, machine(bits), expected);
      if (withAsid) {
        // Fences naming an ASID flush only that guest ASID's shadows, under their machine ASIDs.
        expect(hv(run, "shadow.flush_page")).toBeGreaterThanOrEqual(4);
        expect(hv(run, "shadow.flush_asid")).toBeGreaterThanOrEqual(1);
        expect(hv(run, "tlb_flush.page_asid")).toBeGreaterThan(0);
        expect(hv(run, "tlb_flush.asid")).toBeGreaterThan(0);
        if (bits <= 2) expect(hv(run, "asid.recycle")).toBeGreaterThan(0);
        else expect(hv(run, "asid.recycle")).toBe(0);
      }
      // The machine TLB is never flushed wholesale at a switch: it is tagged (with two ASIDs or more).
      if (bits > 1) expect(hv(run, "tlb_flush.switch")).toBe(0);
    },
  );
});

describe("fork-heavy and churn workloads on a 2-bit machine", () => {
  const cases = [
    { name: "forkwait", params: { children: 24, pages: 2, asid: true } },
    { name: "forkwait", params: { children: 24, pages: 2, asid: false } },
    { name: "pagefault", params: { pages: 4, cycles: 8, asid: true } },
  ];
  it.each(cases)("$name $params under shadow-tagged", ({ name, params }) => {
    const run = expectNative(workloadImage(name, params), TAGGED, machine(2));
    if (params.asid) expect(hv(run, "asid.recycle")).toBeGreaterThan(0);
    expect(describeParams(params)).toContain("asid");
  });
});

describe("two guests under shadow-tagged share the machine's ASIDs", () => {
  // Each guest's kernel numbers its processes' ASIDs from 1: only one machine-wide
  // allocator keeps their shadows apart in the tagged TLB.
  const images = [
    workloadImage("ctxswitch", { processes: 6, pages: 4, rounds: 20, asid: true }),
    workloadImage("forkwait", { children: 12, pages: 4, asid: true }),
  ];
  it.each([2, 9])("%i machine ASID bits: both guests give their native runs", (asidBits) => {
    const hyp = new Hypervisor({ slice: 5000, machine: { asidBits }, guestAsidBits: 9 });
    for (const img of images) hyp.addGuest(img, TAGGED);
    const r = hyp.run({ maxInstructions: 100_000_000 });
    r.guests.forEach((g, i) => {
      const native = runNative(images[i]);
      expect(g.error).toBe("");
      expect({ state: g.state, exitCode: g.exitCode, output: g.output }).toEqual({
        state: native.state,
        exitCode: native.exitCode,
        output: native.output,
      });
    });
    expect(r.stats.extra["hv.guest_switch"]).toBeGreaterThan(10);
    if (asidBits === 2) expect(r.stats.extra["hv.asid.recycle"]).toBeGreaterThan(0);
  });
});
