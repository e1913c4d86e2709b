/**
 * Differential runs: the same image natively (boot stub included) and under
 * the hypervisor with a given paging strategy; what the guest observes (its
 * console output) and how it ends must be identical.
 */
import { type Image, Machine, type MachineConfig, type StatsSnapshot } from "@shadowlab/emu-core";
import { expect } from "vitest";
import { DEFAULT_HYPERVISOR, Hypervisor, type HypervisorConfig } from "../../src/monitor.ts";

export const BUDGET = 2_000_000;

export interface Outcome {
  /** exited / wfi / runnable (budget spent) */
  state: string;
  exitCode: number;
  output: string;
}

const nativeCache = new WeakMap<Image, Outcome>();

/** Run an image on the bare machine (a machine configuration other than the default is not cached). */
export function runNative(img: Image, budget = BUDGET, machine?: Partial<MachineConfig>): Outcome {
  const cached = machine ? undefined : nativeCache.get(img);
  if (cached && budget === BUDGET) return cached;
  const m = new Machine(machine);
  m.load(img);
  const r = m.run({ maxInstructions: budget });
  const state = r.reason === "exit" ? "exited" : r.reason === "wfi" ? "wfi" : "runnable";
  const out = { state, exitCode: r.exitCode, output: m.output };
  if (budget === BUDGET && !machine) nativeCache.set(img, out);
  return out;
}

export interface HvOutcome extends Outcome {
  error: string;
  stats: StatsSnapshot;
  hv: Hypervisor;
}

/** Run an image as the only guest of a fresh hypervisor. */
export function runHv(
  img: Image,
  strategy: string,
  budget = BUDGET,
  config: Partial<HypervisorConfig> = {},
): HvOutcome {
  const hv = new Hypervisor(config);
  hv.addGuest(img, strategy);
  const r = hv.run({ maxInstructions: budget });
  const g = r.guests[0];
  const state = g.state === "waiting" ? "runnable" : g.state;
  return { state, exitCode: g.exitCode, output: g.output, error: g.error, stats: r.stats, hv };
}

/**
 * The differential check: native and hypervisor runs end the same way with
 * the same console output. `expected`, when given, is the native output the
 * spec predicts (so the test also proves the program tests what it claims).
 */
export function expectSame(
  img: Image,
  strategy: string,
  expected?: string,
  machine?: Partial<MachineConfig>,
): Outcome {
  const native = runNative(img, BUDGET, machine);
  if (expected !== undefined) expect(native.output).toBe(expected);
  expect(native.state).toBe("exited");
  const hv = runHv(
    img,
    strategy,
    BUDGET,
    machine ? { machine: { ...DEFAULT_HYPERVISOR.machine, ...machine } } : {},
  );
  expect(hv.error).toBe("");
  expect({ state: hv.state, exitCode: hv.exitCode, output: hv.output }).toEqual(native);
  return native;
}

/** Hex as the guests print it. */
export const h8 = (v: number): string => (v >>> 0).toString(16).padStart(8, "0");

/** The report handler's lines for one trap. */
export function trapLines(scause: number, sepc: number, stval: number, sstatus: number): string {
  return `trap\nscause=${h8(scause)}\nsepc=${h8(sepc)}\nstval=${h8(stval)}\nsstatus=${h8(sstatus)}\n`;
}
