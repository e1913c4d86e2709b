/**
 * The hw execution mode (guest kernel in VS-mode on the H extension): what
 * exits and what does not, nested paging against the shadow strategies, and
 * the cost of the two-dimensional walk.
 */
import { Machine, type StatsSnapshot } from "@shadowlab/emu-core";
import { WORKLOADS } from "@shadowlab/workloads";
import { describe, expect, it } from "vitest";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";
import type { ExecutionMode } from "../src/paging/strategy.ts";

const BUDGET = 50_000_000;
const TLB8 = { entries: 8, ways: 8, replacement: "lru" as const, asidTags: true, seed: 1 };

function image(workload: string, params: Record<string, unknown>) {
  const w = WORKLOADS.find((x) => x.name === workload);
  if (!w) throw new Error(workload);
  return w.build(w.schema.parse(params));
}

function run(img: ReturnType<typeof image>, mode: ExecutionMode, strategy: string, tlb = {}) {
  const hv = new Hypervisor({ mode, machine: { ramSize: 512 * 2 ** 20, ...tlb } });
  hv.addGuest(img, strategy);
  const r = hv.run({ maxInstructions: BUDGET });
  expect(r.guests[0].state).toBe("exited");
  return r;
}

const exits = (s: StatsSnapshot) => s.traps.toHandler;

describe("hw mode", () => {
  it("the guest's system calls go straight to its VS-mode kernel: no exit, none reflected", () => {
    const img = image("nano", { variant: "syscall", iterations: 200 });
    const r = run(img, "hw", "nested");
    const s = r.stats;
    expect(s.traps.exceptions.ecall_u).toBeGreaterThanOrEqual(200);
    expect(s.traps.toVS).toBeGreaterThanOrEqual(s.traps.exceptions.ecall_u);
    expect(Object.keys(s.extra).filter((k) => k.startsWith("hv.exit.reflect"))).toEqual([]);
    // In trap mode every one of those system calls is an exit.
    expect(exits(s) + 200).toBeLessThan(exits(run(img, "trap", "shadow-ondemand").stats));
  });

  it.each([
    ["ctxswitch", { processes: 3, pages: 4, rounds: 10 }],
    ["pagefault", {}],
  ] as const)(
    "%s: nested makes fewer exits than every shadow strategy in either mode",
    (workload, params) => {
      const img = image(workload, params);
      const nested = exits(run(img, "hw", "nested").stats);
      for (const mode of ["trap", "hw"] as const)
        for (const s of strategyNames("trap")) expect(nested).toBeLessThan(exits(run(img, mode, s).stats));
    },
  );

  it("a TLB miss costs 8 PTE reads under nested (Sv32 over Sv32x4) where native makes 2", () => {
    // One process touching 64 pages against an 8-entry TLB: nearly every touch misses.
    const img = image("ctxswitch", { processes: 1, pages: 64, rounds: 20 });
    const m = new Machine({ tlb: TLB8 });
    m.load(img);
    const w = m.run({ maxInstructions: BUDGET }).stats.walk;
    expect(w.pages4K).toBeGreaterThan(1000);
    // Natively a walk ending at level 0 reads 2 PTEs, one ending at level 1 reads 1.
    expect(w.memRefs - w.adUpdates).toBe(2 * w.endedLevel0 + w.endedLevel1);
    const h = run(img, "hw", "nested", { tlb: TLB8 }).stats.hext;
    expect(h?.walk2d.walks4K).toBeGreaterThan(1000);
    expect(h?.walk2d.reads4K).toBe(8 * (h?.walk2d.walks4K ?? 0));
  });

  it("nested paging needs the hardware G-stage: trap mode refuses it with a clear error", () => {
    const hv = new Hypervisor({ mode: "trap" });
    expect(() => hv.addGuest(image("compute", {}), "nested")).toThrow(/does not run in trap mode/);
  });
});
