/**
 * What a cell runs: a guest image on a machine, natively or under a strategy
 * (a "rig"), once counted from boot to exit, and then sampled: booted once to
 * the start of its measured region of interest, checkpointed there, and each
 * timed sample restores the checkpoint and runs the region alone.
 *
 * `regionSampler` is the one place that decides how a sample starts: from a
 * machine checkpoint, which the hypervisor joins as a participant (vCPU,
 * shadows, machine pages, counters), so a restore costs the pages written
 * since and allocates no RAM.
 */
import {
  type BootFiles,
  bootMachine,
  DEFAULT_HART,
  type Engine,
  type Image,
  Machine,
  type MachineConfig,
  type Roi,
  type RoiKind,
  type StatsSnapshot,
} from "@shadowlab/emu-core";
import { type ExecutionMode, Hypervisor, machineRamFor } from "@shadowlab/hypervisor";
import { type Cell, type MachineSpec, NATIVE } from "./suite.ts";

/** Machine RAM beyond the guest's own under the hypervisor. */
export const HV_HEADROOM = 32 * 2 ** 20;

/** A machine a run builds: a suite's machine spec and the engine it runs guest code with (default jit). */
export type RunMachine = MachineSpec & { engine?: Engine };

/** The machine a cell runs on: its spec on its engine. */
export const cellMachine = (cell: Pick<Cell, "machine" | "engine">): RunMachine => ({
  ...cell.machine,
  engine: cell.engine,
});

export function machineConfig(m: RunMachine): Partial<MachineConfig> {
  const tlb = {
    entries: m.tlbEntries,
    ways: m.tlbWays,
    replacement: m.tlbReplacement,
    asidTags: m.asidTags,
    seed: m.tlbSeed,
  };
  return {
    ramSize: m.ramMib * 2 ** 20,
    tlb: m.splitTlb ? { itlb: tlb, dtlb: { ...tlb } } : tlb,
    instructionsPerTick: m.instructionsPerTick,
    engine: m.engine ?? DEFAULT_HART.engine,
  };
}

/** How a run (or a stretch of one) ended. */
export interface Stop {
  /** exit | budget | wfi | stop | failed | mark (the hypervisor's guest states are mapped onto these). */
  reason: string;
  exitCode: number;
  output: string;
  /** Instructions retired during this stretch. */
  instructions: number;
  /** Counters accumulated during this stretch. */
  stats: StatsSnapshot;
  error: string;
}

/** A guest on a machine, natively or as the only guest of a hypervisor. */
export interface Rig {
  readonly machine: Machine;
  /** Runs on until the guest stops or `budget` is spent, or right after the next `stopAtMark` mark. */
  run(budget: number, stopAtMark?: RoiKind): Stop;
}

/** A guest: an image of our own kernel, or boot files (a Linux Image booted by the QEMU protocol). */
export type GuestFiles = Image | BootFiles;

export function buildRig(
  image: GuestFiles,
  m: RunMachine,
  strategy: string,
  mode: ExecutionMode = "trap",
): Rig {
  const config = machineConfig(m);
  if (strategy === NATIVE) {
    const machine = new Machine(config);
    if ("kernel" in image) bootMachine(machine, image);
    else machine.load(image);
    return {
      machine,
      run(budget, stopAtMark) {
        const r = machine.run({ maxInstructions: budget, stopAtMark });
        return {
          reason: r.reason,
          exitCode: r.exitCode,
          output: machine.output,
          instructions: r.instructions,
          stats: r.stats,
          error: "",
        };
      },
    };
  }
  const guestRam = m.ramMib * 2 ** 20;
  // Room for the guest's RAM (backed page by page) plus the shadow tables and the monitor's own pages:
  // at least what the hypervisor promises the guest (its RAM and shadow limit) when it is added.
  const hv = new Hypervisor({
    machine: { ...config, ramSize: Math.max(guestRam + HV_HEADROOM, machineRamFor(guestRam)) },
    guestRamSize: guestRam,
    mode,
  });
  hv.addGuest(image, strategy);
  return {
    machine: hv.machine,
    run(budget, stopAtMark) {
      const r = hv.run({ maxInstructions: budget, stopAtMark });
      const g = r.guests[0];
      const reason = r.stoppedAtMark
        ? "mark"
        : g.state === "exited"
          ? "exit"
          : g.state === "wfi" || g.state === "failed" || g.state === "stuck"
            ? g.state
            : "budget";
      return {
        reason,
        exitCode: g.exitCode,
        output: g.output,
        instructions: r.instructions,
        stats: r.stats,
        error: g.error,
      };
    },
  };
}

/** The counted run of a cell: boot to exit, and the measured region in it. */
export interface Counted {
  run: Stop;
  /** The last complete region (the measurement), or undefined when the guest completed none. */
  roi: Roi | undefined;
  /** Which begin mark (1 = the first) opens the measured region: how many begin marks a sample skips to. */
  beginOrdinal: number;
  /** Marks the guest retired, by kind (for the failure message of a guest without a region). */
  marks: { begin: number; end: number };
}

export function countedRun(
  image: Image,
  m: RunMachine,
  strategy: string,
  budget: number,
  mode: ExecutionMode = "trap",
): Counted {
  const rig = buildRig(image, m, strategy, mode);
  const run = rig.run(budget);
  const marks = rig.machine.roiMarks;
  const roi = rig.machine.roi();
  const beginOrdinal = roi
    ? marks.slice(0, marks.indexOf(roi.begin) + 1).filter((k) => k.kind === "begin").length
    : 0;
  return {
    run,
    roi,
    beginOrdinal,
    marks: {
      begin: marks.filter((k) => k.kind === "begin").length,
      end: marks.filter((k) => k.kind === "end").length,
    },
  };
}

/** Boots a rig to right after its `ordinal`-th begin mark. */
function bootToRegion(
  image: Image,
  m: RunMachine,
  strategy: string,
  budget: number,
  ordinal: number,
  mode: ExecutionMode,
): Rig {
  const rig = buildRig(image, m, strategy, mode);
  for (let i = 0; i < ordinal; i++) {
    const s = rig.run(budget, "begin");
    if (s.reason !== "mark")
      throw new Error(`nondeterministic: a rerun did not reach begin mark ${i + 1} (${s.reason})`);
  }
  return rig;
}

/** Timed samples of a region: `prepare` (not timed) before each `sample` (timed), which returns the instructions it retired. */
export interface RegionSampler {
  prepare(): void;
  sample(): number;
}

/** The sampling function: see the file comment. */
export function regionSampler(
  image: Image,
  m: RunMachine,
  strategy: string,
  budget: number,
  ordinal: number,
  mode: ExecutionMode = "trap",
): RegionSampler {
  const rig = bootToRegion(image, m, strategy, budget, ordinal, mode);
  const cp = rig.machine.checkpoint();
  // Without the hypervisor's own state a restore would leave its shadows and vCPU behind.
  if (strategy !== NATIVE && cp.participants.length === 0)
    throw new Error(`strategy ${strategy}: the hypervisor did not join the machine's checkpoint`);
  return {
    prepare: () => rig.machine.restore(cp),
    sample: () => rig.run(budget, "end").instructions,
  };
}
