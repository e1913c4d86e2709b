/**
 * Transparency, the law of this project: for every execution mode, every
 * registered paging strategy that runs in it, and every workload at its small
 * parameter sets, the guest's console output
 * and exit code under the hypervisor are identical to the native run. The
 * suite iterates both registries, so a new strategy or workload is covered
 * with no change here.
 */
import { Machine } from "@shadowlab/emu-core";
import { WORKLOADS } from "@shadowlab/workloads";
import { describe, expect, it } from "vitest";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";
import { EXECUTION_MODES } from "../src/paging/strategy.ts";

const BUDGET = 50_000_000;

const cases = WORKLOADS.flatMap((w) =>
  w.small.map((p, i) => {
    const params = w.schema.parse(p);
    return { name: `${w.name}#${i} ${JSON.stringify(p)}`, image: () => w.build(params) };
  }),
);

function runNative(image: ReturnType<(typeof cases)[number]["image"]>) {
  const m = new Machine();
  m.load(image);
  const r = m.run({ maxInstructions: BUDGET });
  return { output: m.output, reason: r.reason, exitCode: r.exitCode };
}

const pairs = EXECUTION_MODES.flatMap((mode) =>
  strategyNames(mode).map((strategy) => [mode, strategy] as const),
);

describe.each(pairs)("mode %s, strategy %s gives every workload exactly its native run", (mode, strategy) => {
  it.each(cases)("$name", ({ image }) => {
    const img = image();
    const native = runNative(img);
    expect(native.reason).toBe("exit");
    const hv = new Hypervisor({ mode });
    hv.addGuest(img, strategy);
    const [g] = hv.run({ maxInstructions: BUDGET }).guests;
    expect(g.error).toBe("");
    expect(g.state).toBe("exited");
    expect(g.output).toBe(native.output);
    expect(g.exitCode).toBe(native.exitCode);
  });
});
