/**
 * A shadow memory budget small enough that the strategies which keep shadows
 * across switches must reclaim them (least recently used first) in the middle
 * of a ctxswitch ring of 16 processes, and rebuild them when their process
 * runs again. The guest must not notice: output equals the native run. The
 * counters show the reclaims happened and that reclaimed shadows were built
 * again (more shadows created than with no budget).
 */
import { describe, expect, it } from "vitest";
import {
  expectNative,
  hv,
  PROACTIVE,
  type Run,
  runUnder,
  TAGGED,
  workloadImage,
} from "./support/strategy-harness.ts";

const PARAMS = { processes: 16, pages: 4, rounds: 8 };

const unlimited = new Map<string, Run>();
function unlimitedRun(strategy: string, asid: boolean): Run {
  const key = `${strategy}:${asid}`;
  let run = unlimited.get(key);
  if (!run) {
    run = runUnder(workloadImage("ctxswitch", { ...PARAMS, asid }), strategy);
    unlimited.set(key, run);
  }
  return run;
}

describe("a shadow budget forces reclaim in the middle of ctxswitch (16 processes)", () => {
  const cases = [
    { strategy: PROACTIVE, asid: false, budget: 24 },
    { strategy: PROACTIVE, asid: true, budget: 24 },
    { strategy: PROACTIVE, asid: true, budget: 1 },
    { strategy: TAGGED, asid: true, budget: 24 },
    { strategy: TAGGED, asid: true, budget: 1 },
    // Without guest ASIDs shadow-tagged keeps only a shadow per view of ASID 0: only a budget
    // below one shadow reclaims (every switch then rebuilds).
    { strategy: TAGGED, asid: false, budget: 1 },
  ];

  it.each(cases)("$strategy, guest ASIDs $asid, budget $budget pages", ({ strategy, asid, budget }) => {
    const img = workloadImage("ctxswitch", { ...PARAMS, asid });
    const run = expectNative(img, strategy, { shadowBudgetPages: budget });
    expect(hv(run, "shadow.reclaimed")).toBeGreaterThan(0);
    // Reclaimed shadows were needed again and rebuilt from the guest's tables.
    const base = unlimitedRun(strategy, asid);
    expect(hv(base, "shadow.reclaimed")).toBe(0);
    expect(hv(run, "shadow.created")).toBeGreaterThan(hv(base, "shadow.created"));
    expect(hv(run, "exit.hidden_fault")).toBeGreaterThan(hv(base, "exit.hidden_fault"));
  });

  it("shadow-proactive keeps reusing the shadows the budget leaves", () => {
    const run = expectNative(workloadImage("ctxswitch", { ...PARAMS, asid: true }), PROACTIVE, {
      shadowBudgetPages: 64,
    });
    expect(hv(run, "shadow.reclaimed")).toBeGreaterThan(0);
    expect(hv(run, "shadow.reused")).toBeGreaterThan(0);
    expect(hv(run, "shadow.reused")).toBeLessThan(hv(unlimitedRun(PROACTIVE, true), "shadow.reused"));
  });

  it("shadow-tagged reclaims and recycles machine ASIDs together on a 2-bit machine", () => {
    const run = expectNative(workloadImage("ctxswitch", { ...PARAMS, asid: true }), TAGGED, {
      shadowBudgetPages: 16,
      machine: { asidBits: 2 },
      guestAsidBits: 9, // the native machine's, as the comparison runs there
    });
    expect(hv(run, "shadow.reclaimed")).toBeGreaterThan(0);
    expect(hv(run, "asid.recycle")).toBeGreaterThan(0);
  });

  it("forkwait under a budget: shadows of dead children are reclaimed too", () => {
    const img = workloadImage("forkwait", { children: 24, pages: 4, asid: true });
    for (const strategy of [PROACTIVE, TAGGED]) {
      const run = expectNative(img, strategy, { shadowBudgetPages: 12 });
      expect(hv(run, "shadow.reclaimed")).toBeGreaterThan(0);
    }
  });
});
