/**
 * One guest cannot use up the machine and make another fail. Each guest's
 * RAM and shadow limit are promised when it is added; its shadows stay
 * within a budget (reclaiming least recently used ones) while it keeps
 * running; a guest that reaches its hard limit is stopped alone, with the
 * reason, and the other guest completes with its native output. The
 * hostile guest of the issue switches among 5,000 root tables under
 * shadow-proactive.
 */
import type { Image } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { Hypervisor } from "../src/monitor.ts";
import { defaultShadowBudget, SHADOW_HEADROOM_PAGES } from "../src/shadow-pages.ts";
import { rootSwitcher } from "./support/hostile-guests.ts";
import { buildGuest, KERNEL_BASE, RWAD, Sv32Tables } from "./support/hv-guest.ts";
import { ONDEMAND, PROACTIVE, runNative, workloadImage } from "./support/strategy-harness.ts";

const BUDGET = 300_000_000;

function expectNativeRun(
  g: { state: string; output: string; exitCode: number; error: string },
  img: Image,
): void {
  const native = runNative(img);
  expect(g.error).toBe("");
  expect({ state: g.state, exitCode: g.exitCode, output: g.output }).toEqual({
    state: native.state,
    exitCode: native.exitCode,
    output: native.output,
  });
}

describe("a hostile guest switching among 5,000 root tables under shadow-proactive", () => {
  it("keeps running within its shadow budget, and the other guest completes with its native output", () => {
    const hostile = rootSwitcher(5000, 2);
    const victim = workloadImage("ctxswitch", { processes: 8, pages: 4, rounds: 10 });
    const hv = new Hypervisor();
    const a = hv.addGuest(hostile, PROACTIVE, "hostile");
    const b = hv.addGuest(victim, PROACTIVE, "victim");
    const r = hv.run({ maxInstructions: BUDGET });
    expectNativeRun(r.guests[0], hostile);
    expect(r.guests[0].output).toBe(`touches=${(10_000).toString(16).padStart(8, "0")}\n`);
    expectNativeRun(r.guests[1], victim);
    const budget = defaultShadowBudget(hv.config.guestRamSize / 4096);
    expect(r.stats.extra["hv.shadow.reclaimed"]).toBeGreaterThan(5000);
    // What each guest's shadows ever held: within its hard limit, and the hostile one at its budget.
    for (const g of [a, b]) expect(g.shadowPages.peak).toBeLessThanOrEqual(budget + SHADOW_HEADROOM_PAGES);
    expect(a.shadowPages.peak).toBeGreaterThanOrEqual(budget);
    expect(a.shadowPages.peak).toBeLessThanOrEqual(budget + 4);
  });
});

/** A guest that maps `regions` 4 MiB megapages and reads each: under shadow-ondemand every region costs a shadow table page. */
function regionToucher(regions: number): Image {
  const t = new Sv32Tables().kernel();
  for (let i = 0; i < regions; i++) t.mega(0x4000_0000 + i * 0x40_0000, KERNEL_BASE, RWAD);
  return buildGuest({
    tables: t,
    body(g) {
      g.pagingOn(t);
      for (let i = 0; i < regions; i++) g.a.li("t0", 0x4000_0000 + i * 0x40_0000).lw("t1", 0, "t0");
      g.print("touched\n");
    },
  });
}

describe("a guest past its hard limit is stopped alone", () => {
  it("with the reason; the other guest on the machine completes as natively", () => {
    const greedy = regionToucher(32);
    const modest = workloadImage("syscall", { iterations: 200 });
    const hv = new Hypervisor({ shadowBudgetPages: 1, shadowLimitPages: 12 });
    const a = hv.addGuest(greedy, ONDEMAND, "greedy");
    hv.addGuest(modest, ONDEMAND, "modest");
    const r = hv.run({ maxInstructions: BUDGET });
    expect(runNative(greedy).output).toBe("touched\n");
    expect(r.guests[0].state).toBe("failed");
    expect(r.guests[0].error).toMatch(/^greedy: shadow memory limit of 12 machine pages exceeded/);
    expect(r.guests[0].output).toBe("");
    expect(a.shadowPages.peak).toBe(12);
    expectNativeRun(r.guests[1], modest);
  });

  it("the same guest with the default budget and limit completes", () => {
    const greedy = regionToucher(32);
    const hv = new Hypervisor();
    hv.addGuest(greedy, ONDEMAND);
    expectNativeRun(hv.run({ maxInstructions: BUDGET }).guests[0], greedy);
  });
});

describe("machine memory is promised per guest", () => {
  it("a guest whose RAM and shadow limit the machine cannot promise is refused when added, with a clear reason", () => {
    const hv = new Hypervisor({ machine: { ramSize: 16 * 2 ** 20 }, guestRamSize: 8 * 2 ** 20 });
    const img = workloadImage("syscall", { iterations: 10 });
    hv.addGuest(img, ONDEMAND, "first");
    expect(() => hv.addGuest(img, ONDEMAND, "second")).toThrow(
      /^second: needs \d+ machine pages \(its RAM and shadow limit\) but only \d+ of the machine's 4096/,
    );
    expectNativeRun(hv.run({ maxInstructions: BUDGET }).guests[0], img);
  });
});
