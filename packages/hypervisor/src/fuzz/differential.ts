/**
 * Running a random guest natively and under every registered strategy (and
 * every execution mode), and comparing what the guest observed: its console
 * (which carries its registers, traps, counters and memory hashes), how it
 * stopped and its exit code. The native reference runs the boot stub and
 * keeps its counters and clock: the hypervisor starts the guest's clock where
 * the stub leaves it (boot-clock.ts), so counters and timer interrupts
 * compare exactly.
 */
import { DEFAULT_HART, type Engine, type Image, Machine, type TlbConfig } from "@shadowlab/emu-core";
import { Hypervisor, type HypervisorConfig } from "../monitor.ts";
import { strategyNames } from "../paging/registry.ts";
import { type ExecutionMode, EXECUTION_MODES as HV_MODES } from "../paging/strategy.ts";
import type { FuzzProgram } from "./generate.ts";
import { GUEST_RAM } from "./layout.ts";

/** Instructions (and exits) a random guest may take: far more than any needs to reach its dump. */
export const FUZZ_BUDGET = 1_000_000;
/** Machine RAM under the hypervisor: the guest's RAM plus its shadow limit (default budget and headroom). */
const HV_MACHINE_RAM = 12 * 1024 * 1024;

/** What a guest observed in one run. */
export interface Observation {
  state: string;
  exitCode: number;
  output: string;
  /** The engine the machine ran the guest with (both runs of a comparison use the same). */
  engine: Engine;
}

/** One configuration a guest runs under besides native: a strategy in an execution mode. */
export interface Target {
  strategy: string;
  mode: string;
}

export interface Difference {
  target: Target;
  /** "crash": the host threw; "failed": the monitor stopped the guest (error); "budget": a memory limit stopped it; "observed": the guest saw something else. */
  kind: "crash" | "failed" | "budget" | "observed";
  native: Observation;
  got: Observation;
  error: string;
}

/** Execution modes the fuzzer runs: every mode the hypervisor has. */
export const EXECUTION_MODES: readonly string[] = HV_MODES;

function modeConfig(mode: string): Partial<HypervisorConfig> {
  if (!(HV_MODES as readonly string[]).includes(mode))
    throw new RangeError(`unknown execution mode "${mode}" (modes: ${HV_MODES.join(", ")})`);
  return { mode: mode as ExecutionMode };
}

/** Every strategy of the registry in every mode it runs in. */
export function allTargets(modes: readonly string[] = EXECUTION_MODES): Target[] {
  return modes.flatMap((mode) =>
    strategyNames(mode as ExecutionMode).map((strategy) => ({ strategy, mode })),
  );
}

function tlbConfig(p: FuzzProgram): TlbConfig {
  return { entries: p.tlb.entries, ways: p.tlb.ways, replacement: "lru", asidTags: p.tlb.asidTags, seed: 1 };
}

/**
 * The guest on the bare machine of `engine`, its boot stub run: stopped at supervisor_entry in
 * S-mode, where the hypervisor starts it.
 */
export function bootNative(p: FuzzProgram, image: Image, engine: Engine = DEFAULT_HART.engine): Machine {
  const m = new Machine({ ramSize: GUEST_RAM, tlb: tlbConfig(p), engine });
  m.load(image);
  const h = m.hart;
  const stub = (image.symbols.stub_end - image.symbols._start) / 4;
  m.run({ maxInstructions: stub });
  if (h.pc !== image.symbols.supervisor_entry || h.priv !== 1) {
    throw new Error(`the boot stub did not reach supervisor_entry in S-mode (pc 0x${h.pc.toString(16)})`);
  }
  return m;
}

/** The guest on the bare machine; `budget` counts from supervisor_entry, as the hypervisor's does. */
export function runNative(
  p: FuzzProgram,
  image: Image,
  budget = FUZZ_BUDGET,
  engine: Engine = DEFAULT_HART.engine,
): Observation {
  const m = bootNative(p, image, engine);
  const r = m.run({ maxInstructions: budget });
  const state = r.reason === "exit" ? "exited" : r.reason === "wfi" ? "wfi" : "runnable";
  return { state, exitCode: r.exitCode, output: m.output, engine: m.hart.config.engine };
}

/** A fresh hypervisor on a machine of `engine` with the guest as its only guest, under target `t`. */
export function targetHypervisor(
  p: FuzzProgram,
  image: Image,
  t: Target,
  engine: Engine = DEFAULT_HART.engine,
): Hypervisor {
  const hv = new Hypervisor({
    machine: { ramSize: HV_MACHINE_RAM, tlb: tlbConfig(p), engine },
    guestRamSize: GUEST_RAM,
    ...modeConfig(t.mode),
  });
  hv.addGuest(image, t.strategy);
  return hv;
}

/** The guest as the only guest of a fresh hypervisor. Throws only when the host itself fails. */
export function runTarget(
  p: FuzzProgram,
  image: Image,
  t: Target,
  budget = FUZZ_BUDGET,
  engine: Engine = DEFAULT_HART.engine,
): { obs: Observation; error: string } {
  const hv = targetHypervisor(p, image, t, engine);
  const g = hv.run({ maxInstructions: budget }).guests[0];
  const state = g.state === "waiting" ? "runnable" : g.state;
  return {
    obs: { state, exitCode: g.exitCode, output: g.output, engine: hv.machine.hart.config.engine },
    error: g.error,
  };
}

/**
 * Run one guest natively and under every target, every run on `engine`; the
 * differences (none when the guest saw the same everywhere).
 */
export function compareGuest(
  p: FuzzProgram,
  image: Image,
  targets: readonly Target[],
  engine: Engine,
): Difference[] {
  const native = runNative(p, image, FUZZ_BUDGET, engine);
  const out: Difference[] = [];
  for (const target of targets) {
    let got: Observation;
    let error = "";
    try {
      ({ obs: got, error } = runTarget(p, image, target, FUZZ_BUDGET, engine));
    } catch (e) {
      const message = e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e);
      out.push({
        target,
        kind: "crash",
        native,
        got: { state: "crash", exitCode: 0, output: "", engine },
        error: message,
      });
      continue;
    }
    if (error !== "") {
      out.push({ target, kind: isBudgetError(error) ? "budget" : "failed", native, got, error });
    } else if (
      got.state !== native.state ||
      got.exitCode !== native.exitCode ||
      got.output !== native.output
    ) {
      out.push({ target, kind: "observed", native, got, error });
    }
  }
  return out;
}

/** A guest stopped for using more machine memory than its quota allows. */
export function isBudgetError(error: string): boolean {
  return /memory (quota|limit)|out of machine memory/.test(error);
}
