/**
 * Running the cells of a Linux workload. The guest is the cached Linux Image
 * with its initramfs, booted by the QEMU protocol (natively under our SBI
 * firmware, or under the hypervisor, which serves the SBI itself), with the
 * kernel command line selecting the cell's /init job.
 *
 * Booting is most of a Linux run (~27 M instructions before /init's first
 * mark), so each cell boots once: to the ROI begin mark, where the machine is
 * checkpointed; the counted run goes on from there to the end mark (the
 * region) and to power-off (the whole run, for `run.` and output equality),
 * and every timed sample restores that same checkpoint and runs the region
 * alone. The native run is the group's baseline; its /init result line must
 * name the cell's job and parameters and report the region's operation count.
 */
import type { BootFiles } from "@shadowlab/emu-core";
import type { ExecutionMode } from "@shadowlab/hypervisor";
import { linuxBootFiles, linuxResults } from "@shadowlab/workloads";
import {
  type Baseline,
  describeNoRegion,
  emitBaselineCrash,
  emptyRow,
  type GroupJob,
  hvMode,
  judge,
  measure,
  priceRow,
  recordCounts,
  recordCrash,
  recordWall,
  stoppedBaseline,
} from "./cell.ts";
import { linuxImage, linuxJob } from "./linux.ts";
import type { ResultRow } from "./results.ts";
import {
  buildRig,
  type Counted,
  cellMachine,
  type RegionSampler,
  type RunMachine,
  type Stop,
} from "./sample.ts";
import { type Cell, NATIVE, paramsKey } from "./suite.ts";

/** A cell's one boot: the counted run, and the sampler of its region (when it reached one). */
interface LinuxRun {
  counted: Counted;
  sampler: RegionSampler | undefined;
}

function marksOf(c: { kind: string }[]): Counted["marks"] {
  return { begin: c.filter((k) => k.kind === "begin").length, end: c.filter((k) => k.kind === "end").length };
}

/** Boots once, checkpoints at the ROI begin mark, runs on to the end mark and to power-off. */
export function linuxRun(
  files: BootFiles,
  m: RunMachine,
  strategy: string,
  budget: number,
  mode: ExecutionMode = "trap",
): LinuxRun {
  const rig = buildRig(files, m, strategy, mode);
  const stretches: Stop[] = [];
  const spent = () => stretches.reduce((n, s) => n + s.instructions, 0);
  const whole = (): Stop => {
    const last = stretches[stretches.length - 1];
    return { ...last, instructions: spent(), stats: rig.machine.snapshot() };
  };
  const counted = (): Counted => {
    const roi = rig.machine.roi();
    return { run: whole(), roi, beginOrdinal: roi ? 1 : 0, marks: marksOf(rig.machine.roiMarks) };
  };
  stretches.push(rig.run(budget, "begin"));
  if (stretches[0].reason !== "mark") return { counted: counted(), sampler: undefined };
  const cp = rig.machine.checkpoint();
  // Without the hypervisor's own state a restore would leave its shadows and vCPU behind.
  if (strategy !== NATIVE && cp.participants.length === 0)
    throw new Error(`strategy ${strategy}: the hypervisor did not join the machine's checkpoint`);
  stretches.push(rig.run(budget - spent(), "end"));
  if (stretches[1].reason === "mark") stretches.push(rig.run(budget - spent()));
  const sampler: RegionSampler = {
    prepare: () => rig.machine.restore(cp),
    sample: () => rig.run(budget, "end").instructions,
  };
  const result = counted();
  // The sampler starts at the region, as a freshly booted one would (a first sample may come before any prepare).
  rig.machine.restore(cp);
  return { counted: result, sampler: stretches[1].reason === "mark" ? sampler : undefined };
}

/** What is wrong with the native baseline of a Linux cell ("" when nothing). */
function linuxBaseline(cell: Cell, counted: Counted, budget: number): Baseline {
  const native = counted.run;
  const stopped = stoppedBaseline(counted, budget);
  if (stopped) return stopped;
  if (!counted.roi) return { counted, problem: describeNoRegion(counted), diff: "", failure: "no-roi" };
  const job = linuxJob(cell.workload, cell.params);
  const results = linuxResults(native.output);
  const mine = results.find((r) => r.name === job.name && paramsKey(r.params) === paramsKey(cell.params));
  const problem = !mine
    ? `/init printed no result line for ${job.name} ${paramsKey(cell.params)} (results: ${JSON.stringify(results)})`
    : mine.ops !== counted.roi.ops
      ? `/init reported ops=${mine.ops} but its region of interest counted ${counted.roi.ops}`
      : "";
  return { counted, problem, diff: "", failure: problem ? "reference-mismatch" : "" };
}

function bootFilesOf(cell: Cell): BootFiles {
  const image = linuxImage();
  if ("missing" in image) throw new Error(`the Linux image is not built on this machine (${image.missing})`);
  return linuxBootFiles(image, [linuxJob(cell.workload, cell.params)], {
    ramSize: cell.machine.ramMib * 2 ** 20,
  });
}

/** Runs one group of Linux cells: see the file comment. Never throws for a cell's sake. */
export async function runLinuxGroup(job: GroupJob, emit: (row: ResultRow) => void): Promise<void> {
  const first = job.cells[0];
  const budget = job.suite.maxInstructions;
  let files: BootFiles;
  let base: Baseline;
  let nativeSampler: RegionSampler | undefined;
  try {
    files = bootFilesOf(first);
    const native = linuxRun(files, cellMachine(first), NATIVE, budget);
    base = linuxBaseline(first, native.counted, budget);
    nativeSampler = native.sampler;
  } catch (e) {
    emitBaselineCrash(job, emit, e);
    return;
  }
  for (const cell of job.cells) {
    const row = emptyRow(cell, job.suite);
    try {
      const r =
        cell.strategy === NATIVE
          ? { counted: base.counted, sampler: nativeSampler }
          : linuxRun(files, cellMachine(cell), cell.strategy, budget, hvMode(cell));
      recordCounts(row, r.counted, base.counted);
      judge(row, cell, r.counted, base, budget);
      if (row.failure === "" && r.sampler) recordWall(row, await measure(r.sampler, job, r.counted));
    } catch (e) {
      recordCrash(row, e);
    }
    emit(priceRow(row, job.suite.profile));
  }
}
