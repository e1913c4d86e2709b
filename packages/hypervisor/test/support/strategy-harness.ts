/**
 * Differential runs for the paging-strategy tests: an image on the bare
 * machine (the reference) and the same image as the only guest of a
 * hypervisor with a given strategy and machine configuration. What the guest
 * observes (console output, exit code, how it stops) must be identical; the
 * hypervisor's counters (`stats.extra`, `hv.` prefix) show which mechanism ran.
 */
import { type Image, Machine, type StatsSnapshot } from "@shadowlab/emu-core";
import { findWorkload } from "@shadowlab/workloads";
import { expect } from "vitest";
import { Hypervisor, type HypervisorConfig } from "../../src/monitor.ts";
import { strategyNames } from "../../src/paging/registry.ts";

/** Far more than any program here needs: every run must end by powering off. */
export const RUN_BUDGET = 200_000_000;

/** Every registered strategy (the tests of mechanisms pick the ones they are about by name). */
export const STRATEGIES = strategyNames();
export const ONDEMAND = "shadow-ondemand";
export const PROACTIVE = "shadow-proactive";
export const TAGGED = "shadow-tagged";

export interface Run {
  /** exited / wfi / failed / runnable (budget spent) */
  state: string;
  exitCode: number;
  output: string;
  error: string;
  /** Guest instructions retired. */
  instructions: number;
  stats: StatsSnapshot;
}

const nativeRuns = new WeakMap<Image, Run>();

/** The image on the bare machine (default configuration: 9 ASID bits, as the guest kernel expects). */
export function runNative(img: Image): Run {
  const cached = nativeRuns.get(img);
  if (cached) return cached;
  const m = new Machine();
  m.load(img);
  const r = m.run({ maxInstructions: RUN_BUDGET });
  const state = r.reason === "exit" ? "exited" : r.reason === "wfi" ? "wfi" : "runnable";
  const run = {
    state,
    exitCode: r.exitCode,
    output: m.output,
    error: "",
    instructions: r.instructions,
    stats: r.stats,
  };
  nativeRuns.set(img, run);
  return run;
}

/** The image as the only guest of a fresh hypervisor. */
export function runUnder(img: Image, strategy: string, config: Partial<HypervisorConfig> = {}): Run {
  const hv = new Hypervisor(config);
  hv.addGuest(img, strategy);
  const r = hv.run({ maxInstructions: RUN_BUDGET });
  const g = r.guests[0];
  return {
    state: g.state === "waiting" ? "runnable" : g.state,
    exitCode: g.exitCode,
    output: g.output,
    error: g.error,
    instructions: r.instructions,
    stats: r.stats,
  };
}

/**
 * The law: the run under `strategy` ends exactly as the native one, with the
 * same console output. `expected`, when given, is the output the spec
 * predicts natively (so the program is shown to test what it claims).
 */
export function expectNative(
  img: Image,
  strategy: string,
  config: Partial<HypervisorConfig> = {},
  expected?: string,
): Run {
  const native = runNative(img);
  expect(native.state).toBe("exited");
  if (expected !== undefined) expect(native.output).toBe(expected);
  const run = runUnder(img, strategy, config);
  expect(run.error).toBe("");
  expect({ state: run.state, exitCode: run.exitCode, output: run.output }).toEqual({
    state: native.state,
    exitCode: native.exitCode,
    output: native.output,
  });
  return run;
}

/** A hypervisor counter of a run (0 when it never counted). */
export function hv(run: Run, name: string): number {
  return run.stats.extra[`hv.${name}`] ?? 0;
}

/** Exits to the hypervisor (every trap it handled) in a run. */
export function exits(run: Run): number {
  return run.stats.traps.toHandler;
}

/** Machine TLB misses in a run (unified or split TLBs). */
export function tlbMisses(run: Run): number {
  let n = 0;
  for (const t of Object.values(run.stats.tlb)) n += t.misses;
  return n;
}

/** A workload's image from validated parameters. */
export function workloadImage(name: string, params: Record<string, unknown>): Image {
  const w = findWorkload(name);
  if (!w) throw new Error(`no workload ${name}`);
  return w.build(w.schema.parse(params));
}

/** Describe a parameter set in a test name. */
export const describeParams = (p: Record<string, unknown>): string =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
