/**
 * The engines agree one layer up: every workload (at its small parameters)
 * natively and under every (execution mode, paging strategy) pair, and the
 * fuzzer's random guests natively and under a few pairs, run on a machine
 * of each engine ("jit", the block translator, and "interp", the reference)
 * and compared after every run call — the guests' consoles, states and exit
 * codes, every machine and hypervisor counter, the ROI marks with their
 * snapshots, registers, CSRs, TLB contents, RAM. Some runs are cut into
 * chunks of odd sizes, so budgets end anywhere inside a translated block and
 * between a trap and its emulation.
 */
import {
  type Checkpoint,
  type Engine,
  EnginePair,
  type Machine,
  machineRig,
  observeMachine,
} from "@shadowlab/emu-core";
import { WORKLOADS } from "@shadowlab/workloads";
import { describe, expect, it } from "vitest";
import {
  allTargets,
  bootNative,
  FUZZ_BUDGET,
  type Target,
  targetHypervisor,
} from "../src/fuzz/differential.ts";
import { generate } from "../src/fuzz/generate.ts";
import { assembleGuest } from "../src/fuzz/image.ts";
import { Hypervisor } from "../src/monitor.ts";
import type { ExecutionMode } from "../src/paging/strategy.ts";
import { HV_BUDGET_STOPS, hvRig, imageRig } from "./support/engine-rigs.ts";

const GUEST_RAM = 16 << 20;
/** The guest's RAM, its shadow limit and hw mode's G-stage roots, with room to spare. */
const HV_RAM = 48 << 20;
/** A guard against a runaway guest: the small parameter sets retire well under a million. */
const BUDGET = 20_000_000;
const NATIVE = "native";
const CONFIGS: readonly (typeof NATIVE | Target)[] = [NATIVE, ...allTargets()];
const label = (c: (typeof CONFIGS)[number]) => (c === NATIVE ? c : `${c.strategy}/${c.mode}`);

const CASES = WORKLOADS.flatMap((w) =>
  w.small.map((params, i) => ({
    name: `${w.name} ${JSON.stringify(params)}`,
    first: i === 0,
    image: w.build(w.schema.parse(params)),
  })),
);

function pairFor(config: (typeof CONFIGS)[number], image: ReturnType<(typeof WORKLOADS)[number]["build"]>) {
  return new EnginePair((engine: Engine) => {
    if (config === NATIVE) return imageRig(image, { ramSize: GUEST_RAM, engine });
    const hv = new Hypervisor({
      machine: { ramSize: HV_RAM, engine },
      guestRamSize: GUEST_RAM,
      mode: config.mode as ExecutionMode,
    });
    hv.addGuest(image, config.strategy);
    return hvRig(hv);
  }, label(config));
}

const ended = (config: (typeof CONFIGS)[number]) => (config === NATIVE ? "exit" : "exited");

describe("every workload natively and under every (mode, strategy) pair, on both engines", () => {
  it.each(CASES)("$name: whole runs", ({ image }) => {
    for (const config of CONFIGS) {
      const pair = pairFor(config, image);
      expect(pair.step({ maxInstructions: BUDGET }), label(config)).toBe(ended(config));
      expect(pair.rig("interp").machine.roiMarks.length, label(config)).toBeGreaterThanOrEqual(2);
    }
  });

  it.each(CASES.filter((c) => c.first))("$name: to each ROI mark, then in chunks", ({ image }) => {
    for (const config of CONFIGS) {
      const pair = pairFor(config, image);
      expect(pair.step({ stopAtMark: "begin", maxInstructions: BUDGET }), label(config)).toBe("mark");
      expect(pair.step({ stopAtMark: "end", maxInstructions: BUDGET }), label(config)).toBe("mark");
      const budgetStops = config === NATIVE ? ["budget"] : HV_BUDGET_STOPS;
      expect(pair.runChunked(BUDGET, budgetStops), label(config)).toBe(ended(config));
    }
  });
});

describe("checkpoint and restore under the hypervisor, then both engines continue", () => {
  // Timer-driven preemption among three processes: interrupts land inside the restored stretch.
  const image = (CASES.find((c) => c.name.startsWith("preempt")) ?? CASES[0]).image;
  it.each(allTargets())("$strategy in $mode mode", (t) => {
    const pair = pairFor(t, image);
    expect(pair.step({ maxInstructions: 10_001 })).toBe("runnable");
    const cps = new Map<Machine, Checkpoint>();
    pair.each((m) => cps.set(m, m.checkpoint()));
    const at = pair.rig("interp").machine.hart.instret;
    expect(pair.step({ maxInstructions: 20_003 })).toBe("runnable");
    pair.each((m) => m.restore(cps.get(m) as Checkpoint));
    expect(pair.rig("interp").machine.hart.instret).toBe(at);
    pair.expectSame(observeMachine);
    expect(pair.runChunked(BUDGET, HV_BUDGET_STOPS)).toBe("exited");
  });
});

describe("two guests time-sliced on one machine, slices of an odd length", () => {
  const images = ["ctxswitch", "preempt"].map(
    (w) => (CASES.find((c) => c.name.startsWith(w)) ?? CASES[0]).image,
  );
  it.each(allTargets())("$strategy in $mode mode", (t) => {
    const hvs = new Map<Engine, Hypervisor>();
    const pair = new EnginePair((engine) => {
      const hv = new Hypervisor({
        machine: { ramSize: 2 * HV_RAM, engine },
        guestRamSize: GUEST_RAM,
        mode: t.mode as ExecutionMode,
        slice: 997,
      });
      for (const image of images) hv.addGuest(image, t.strategy);
      hvs.set(engine, hv);
      return hvRig(hv);
    });
    pair.step({ maxInstructions: BUDGET });
    const hv = hvs.get("interp") as Hypervisor;
    expect(hv.guests.map((g) => g.state)).toEqual(["exited", "exited"]);
    expect(hv.machine.snapshot().extra["hv.guest_switch"]).toBeGreaterThan(20);
  });
});

describe("random guests from the fuzzer on both engines", () => {
  const SEEDS = Array.from({ length: 60 }, (_, i) => i + 1);

  it("natively, 60 seeds", () => {
    let exited = 0;
    for (const seed of SEEDS) {
      const p = generate(seed);
      const { image } = assembleGuest(p);
      const pair = new EnginePair((engine) => machineRig(bootNative(p, image, engine)), `seed ${seed}`);
      if (pair.step({ maxInstructions: FUZZ_BUDGET }) === "exit") exited++;
    }
    // The guests end by powering off after their dump (a few stop in WFI or run out by design).
    expect(exited).toBeGreaterThanOrEqual(50);
  });

  it("natively in chunks, 10 seeds", () => {
    for (const seed of SEEDS.slice(0, 10)) {
      const p = generate(seed);
      const { image } = assembleGuest(p);
      const pair = new EnginePair((engine) => machineRig(bootNative(p, image, engine)), `seed ${seed}`);
      pair.runChunked(FUZZ_BUDGET);
    }
  });

  const PAIRS: Target[] = [
    { strategy: "shadow-ondemand", mode: "trap" },
    { strategy: "shadow-tagged", mode: "hw" },
    { strategy: "nested", mode: "hw" },
  ];
  it.each(PAIRS)("under $strategy in $mode mode in chunks, 5 seeds", (t) => {
    for (const seed of SEEDS.slice(15, 20)) {
      const p = generate(seed);
      const { image } = assembleGuest(p);
      const pair = new EnginePair((engine) => hvRig(targetHypervisor(p, image, t, engine)), `seed ${seed}`);
      pair.runChunked(FUZZ_BUDGET, HV_BUDGET_STOPS);
    }
  });

  it.each(PAIRS)("under $strategy in $mode mode, 15 seeds", (t) => {
    for (const seed of SEEDS.slice(0, 15)) {
      const p = generate(seed);
      const { image } = assembleGuest(p);
      const pair = new EnginePair((engine) => hvRig(targetHypervisor(p, image, t, engine)), `seed ${seed}`);
      pair.step({ maxInstructions: FUZZ_BUDGET });
    }
  });
});
