/**
 * Two guests on one machine, time-sliced by the hypervisor: each produces
 * exactly its native output, neither can see the other's memory (both use
 * the same guest-physical addresses), and the machine pages backing them are
 * disjoint. Runs for every execution mode and every strategy that runs in it,
 * including mixed pairs (in hw mode, shadow guests share VMID 0 and nested
 * guests have their own VMIDs, so both kinds of switch are covered).
 */
import type { Image } from "@shadowlab/emu-core";
import { compute } from "@shadowlab/workloads";
import { describe, expect, it } from "vitest";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";
import { EXECUTION_MODES } from "../src/paging/strategy.ts";
import { buildGuest, FREE_BASE, type GuestBuilder, PTE, Sv32Tables } from "./support/hv-guest.ts";
import { runNative } from "./support/hv-harness.ts";

const WORDS = 64;
const PAGES = 4;

/** Write `secret + i` to WORDS words on each of PAGES pages at FREE_BASE. */
function writeSecret(g: GuestBuilder, secret: number): void {
  const a = g.a;
  a.li("s0", FREE_BASE)
    .li("s1", secret)
    .li("s2", PAGES * WORDS);
  a.label("w")
    .sw("s1", 0, "s0")
    .addi("s1", "s1", 1)
    .addi("s0", "s0", 4096 / WORDS)
    .addi("s2", "s2", -1);
  a.bnez("s2", "w");
}

/** Sum (in s4) and OR (in s5) the same words: what this guest sees there. */
function scan(g: GuestBuilder, name: string): void {
  const a = g.a;
  const loop = g.fresh("scan");
  a.li("s0", FREE_BASE)
    .li("s2", PAGES * WORDS)
    .li("s4", 0)
    .li("s5", 0);
  a.label(loop).lw("s1", 0, "s0").add("s4", "s4", "s1").or("s5", "s5", "s1");
  a.addi("s0", "s0", 4096 / WORDS)
    .addi("s2", "s2", -1)
    .bnez("s2", loop);
  g.show(`${name}_sum`, "s4").show(`${name}_or`, "s5");
}

/** A long busy loop, so that the other guest gets slices in between. */
function spin(g: GuestBuilder, n: number): void {
  const loop = g.fresh("spin");
  g.a.li("s3", n).label(loop).addi("s3", "s3", -1).bnez("s3", loop);
}

/** Guest A writes its secret, waits, and checks it is still there. */
const guestA: Image = buildGuest({
  body(g) {
    scan(g, "a_before");
    writeSecret(g, 0x5ec0_0000);
    scan(g, "a_wrote");
    spin(g, 30_000);
    scan(g, "a_after");
  },
});

/** Guest B (with paging on, to mix views) scans the same addresses before and after writing its own values. */
const tablesB = new Sv32Tables().kernel();
tablesB.mega(0x8040_0000, 0x8040_0000, PTE.V | PTE.R | PTE.W | PTE.A | PTE.D);
const guestB: Image = buildGuest({
  tables: tablesB,
  body(g) {
    g.pagingOn(tablesB);
    spin(g, 10_000);
    scan(g, "b_before");
    writeSecret(g, 0x0b0b_0000);
    spin(g, 30_000);
    scan(g, "b_after");
  },
});

/** Every (mode, strategy A, strategy B) with both strategies running in that mode. */
const pairs = EXECUTION_MODES.flatMap((mode) =>
  strategyNames(mode).flatMap((s1) => strategyNames(mode).map((s2) => [mode, s1, s2] as const)),
);

describe("two guests at once", () => {
  it.each(pairs)(
    "in %s mode, A under %s and B under %s each see only their own memory and print their native output",
    (mode, s1, s2) => {
      const nativeA = runNative(guestA);
      const nativeB = runNative(guestB);
      expect(nativeA.output).toContain("a_before_sum=00000000\na_before_or=00000000");
      expect(nativeB.output).toContain("b_before_sum=00000000\nb_before_or=00000000");
      const hv = new Hypervisor({ mode, slice: 2_000 });
      const ga = hv.addGuest(guestA, s1, "A");
      const gb = hv.addGuest(guestB, s2, "B");
      const r = hv.run({ maxInstructions: 5_000_000 });
      const [a, b] = r.guests;
      expect(a.error).toBe("");
      expect(b.error).toBe("");
      expect({ state: a.state, exitCode: a.exitCode, output: a.output }).toEqual(nativeA);
      expect({ state: b.state, exitCode: b.exitCode, output: b.output }).toEqual(nativeB);
      // They really interleaved.
      expect(r.stats.extra["hv.guest_switch"]).toBeGreaterThan(10);
      // The machine pages backing the two guest-physical memories are disjoint.
      const pa = new Set(ga.memory.backingPpns());
      const pb = gb.memory.backingPpns();
      expect(pa.size).toBeGreaterThan(PAGES);
      expect(pb.length).toBeGreaterThan(PAGES);
      expect(pb.filter((p) => pa.has(p))).toEqual([]);
    },
  );
});

/** Every (mode, strategy) pair, with both guests under it. */
const targets = EXECUTION_MODES.flatMap((mode) => strategyNames(mode).map((s) => [mode, s] as const));
const GUEST_RAM = 16 << 20;
/**
 * Two kernels of the workloads package whose results differ, so that neither can pass for the
 * other: the first ends within one long slice (the second then starts on the hart the first
 * left), the second takes several slices.
 */
const kernels = [1_000, 20_000].map((iterations) => compute.build(compute.schema.parse({ iterations })));

describe("two workload kernels at once", () => {
  // A slice shorter than a kernel's boot, and one that lets a kernel run past it before the switch.
  it.each(targets.flatMap(([mode, s]) => [20_000, 100_000].map((slice) => [mode, s, slice] as const)))(
    "in %s mode under %s, slices of %i: each kernel prints its native output",
    (mode, strategy, slice) => {
      const native = kernels.map((k) => runNative(k, 2_000_000, { ramSize: GUEST_RAM }));
      expect(native[0].output).not.toEqual(native[1].output);
      const hv = new Hypervisor({ mode, slice, guestRamSize: GUEST_RAM, machine: { ramSize: 96 << 20 } });
      for (const [i, k] of kernels.entries()) hv.addGuest(k, strategy, `k${i}`);
      const r = hv.run({ maxInstructions: 5_000_000 });
      expect(r.guests.map((g) => g.error)).toEqual(["", ""]);
      expect(r.guests.map((g) => ({ state: g.state, exitCode: g.exitCode, output: g.output }))).toEqual(
        native,
      );
      expect(r.stats.extra["hv.guest_switch"]).toBeGreaterThan(slice === 20_000 ? 3 : 0);
    },
  );
});

describe("a nested guest between two slices of a shadow guest in hw mode", () => {
  // Nested runs under its own VMID and its own vsatp; the shadow guest's translations stay in VMID 0,
  // so switching back to the same shadow needs no fence: the shadow guest pays exactly the
  // switch-time fences it pays alone.
  it.each(["shadow-ondemand", "shadow-proactive"])(
    "%s keeps its TLB entries across the nested guest's slices",
    (s) => {
      const config = {
        mode: "hw" as const,
        slice: 20_000,
        guestRamSize: GUEST_RAM,
        machine: { ramSize: 96 << 20 },
      };
      const alone = new Hypervisor(config);
      alone.addGuest(kernels[1], s);
      const a = alone.run({ maxInstructions: 5_000_000 });
      expect(a.guests[0].state).toBe("exited");
      const paired = new Hypervisor(config);
      paired.addGuest(kernels[1], s);
      paired.addGuest(kernels[1], "nested");
      const p = paired.run({ maxInstructions: 5_000_000 });
      expect(p.guests.map((g) => g.output)).toEqual([a.guests[0].output, a.guests[0].output]);
      expect(p.stats.extra["hv.guest_switch"]).toBeGreaterThan(5);
      // (A counter that never moved is absent.)
      expect(p.stats.extra["hv.tlb_flush.switch"] ?? 0).toBe(a.stats.extra["hv.tlb_flush.switch"] ?? 0);
    },
  );
});
