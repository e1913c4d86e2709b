/**
 * Every counter the machine and the hypervisor emit is classified: run every
 * workload at its small parameter sets natively and under every registered
 * strategy, collect the counter names, and require that none falls into
 * `other` (priced 0 without anyone deciding so).
 */
import { Machine } from "@shadowlab/emu-core";
import { Hypervisor, strategyNames } from "@shadowlab/hypervisor";
import { parseParams, WORKLOADS } from "@shadowlab/workloads";
import { describe, expect, it } from "vitest";
import { classify, flattenStats } from "../src/cost.ts";

const BUDGET = 50_000_000;

function countersOf(strategy: string | undefined): Map<string, number> {
  const seen = new Map<string, number>();
  for (const w of WORKLOADS)
    for (const small of w.small) {
      const image = w.build(parseParams(w, small));
      let stats: ReturnType<Machine["snapshot"]>;
      if (strategy === undefined) {
        const m = new Machine();
        m.load(image);
        stats = m.run({ maxInstructions: BUDGET }).stats;
      } else {
        const hv = new Hypervisor({ machine: { ramSize: 160 * 2 ** 20 }, guestRamSize: 128 * 2 ** 20 });
        hv.addGuest(image, strategy);
        const r = hv.run({ maxInstructions: BUDGET });
        expect(r.guests[0].state, `${w.name} under ${strategy}`).toBe("exited");
        stats = r.stats;
      }
      for (const [name, v] of Object.entries(flattenStats(stats))) seen.set(name, (seen.get(name) ?? 0) + v);
    }
  return seen;
}

describe("cost classes cover every counter", () => {
  for (const strategy of [undefined, ...strategyNames()]) {
    it(`${strategy ?? "native"}: no counter is unclassified`, { timeout: 240_000 }, () => {
      const counters = Object.fromEntries(countersOf(strategy));
      const { events, unclassified } = classify(counters);
      expect(unclassified).toEqual([]);
      expect(events.other).toBe(0);
      // the runs did exercise what is priced: devices natively, exits under a strategy
      if (strategy === undefined) expect(events.device).toBeGreaterThan(0);
      else expect(events.exit).toBeGreaterThan(0);
    });
  }
});
