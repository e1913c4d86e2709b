/**
 * Running cells. Cells are run a baseline group at a time (one workload, one
 * parameter set, one machine): the guest image is built once, runs natively
 * once (the baseline every strategy of the group is compared with), then
 * under each strategy. Each cell records its deterministic counters from one
 * counted run, then host wall-clock statistics from tinybench over fresh
 * machines (only `run()` is timed, not building the machine).
 */
import { createHash } from "node:crypto";
import { type Image, Machine, type MachineConfig, type StatsSnapshot } from "@shadowlab/emu-core";
import { Hypervisor, machineRamFor } from "@shadowlab/hypervisor";
import { getWorkload, type Params } from "@shadowlab/workloads";
import { Bench } from "tinybench";
import { classify, flattenStats, getProfile, modelCycles, zeroEvents } from "./cost.ts";
import { lineDiff } from "./diff.ts";
import type { ResultRow } from "./results.ts";
import { type Cell, type MachineSpec, machineKey, NATIVE, paramsKey, type Suite } from "./suite.ts";

/** What a worker needs to run one group. */
export interface GroupJob {
  suite: Pick<Suite, "name" | "repetitions" | "warmup" | "maxInstructions" | "profile">;
  /** Every cell of the group that should produce a row (the native baseline runs regardless). */
  cells: Cell[];
}

export function machineConfig(m: MachineSpec): Partial<MachineConfig> {
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
  };
}

interface Outcome {
  /** exit | budget | wfi | stop | failed (hypervisor's guest states are mapped onto these). */
  reason: string;
  exitCode: number;
  output: string;
  instructions: number;
  stats: StatsSnapshot;
  error: string;
}

/** One run, on a machine made by `prepare` (not timed) and run by the returned function (timed). */
type Prepared = () => Outcome;

/**
 * Writes every page of a fresh machine's RAM once (without changing it), so
 * that the host's first-touch page faults on tens of MiB happen while the
 * machine is built, not inside the timed run: the wall clock then measures
 * the emulator, not the host kernel handing out zeroed memory.
 */
/** Machine RAM beyond the guest's own under the hypervisor. */
export const HV_HEADROOM = 32 * 2 ** 20;

function pretouch(ram: Uint8Array): void {
  for (let p = 0; p < ram.length; p += 4096) ram[p] |= 0;
}

function prepare(image: Image, m: MachineSpec, strategy: string, budget: number, touch = false): Prepared {
  const config = machineConfig(m);
  if (strategy === NATIVE) {
    const machine = new Machine(config);
    if (touch) pretouch(machine.hart.ram);
    machine.load(image);
    return () => {
      const r = machine.run({ maxInstructions: budget });
      return {
        reason: r.reason,
        exitCode: r.exitCode,
        output: machine.output,
        instructions: r.instructions,
        stats: r.stats,
        error: "",
      };
    };
  }
  const guestRam = m.ramMib * 2 ** 20;
  // Room for the guest's RAM (backed page by page) plus 32 MiB for shadow tables and the monitor's own
  // pages: every machine is built afresh per timed sample, so it is kept no larger than needed.
  const hv = new Hypervisor({
    // At least what the hypervisor promises the guest (its RAM and shadow limit) when it is added.
    machine: { ...config, ramSize: Math.max(guestRam + HV_HEADROOM, machineRamFor(guestRam)) },
    guestRamSize: guestRam,
  });
  if (touch) pretouch(hv.machine.hart.ram);
  hv.addGuest(image, strategy);
  return () => {
    const r = hv.run({ maxInstructions: budget });
    const g = r.guests[0];
    const reason =
      g.state === "exited" ? "exit" : g.state === "wfi" ? "wfi" : g.state === "failed" ? "failed" : "budget";
    return {
      reason,
      exitCode: g.exitCode,
      output: g.output,
      instructions: r.instructions,
      stats: r.stats,
      error: g.error,
    };
  };
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);

interface WallStats {
  mean: number;
  p50: number;
  p99: number;
  rme: number;
  samples: number;
}

async function measure(
  image: Image,
  m: MachineSpec,
  strategy: string,
  job: GroupJob,
  instructions: number,
): Promise<WallStats> {
  const { repetitions, warmup, maxInstructions } = job.suite;
  let wrong = "";
  let next: Prepared | undefined;
  const bench = new Bench({
    iterations: repetitions,
    time: 0,
    // The counted run was the first warm-up.
    warmup: warmup > 1,
    warmupIterations: Math.max(0, warmup - 1),
    warmupTime: 0,
    throws: true,
  });
  bench.add(
    "run",
    () => {
      const run = next ?? prepare(image, m, strategy, maxInstructions, true);
      next = undefined;
      const t0 = performance.now();
      const r = run();
      const t = performance.now() - t0;
      if (r.instructions !== instructions)
        wrong = `a timed run retired ${r.instructions} instructions, the counted run ${instructions}`;
      return { overriddenDuration: t };
    },
    {
      // Build the next machine before the sample, outside the timed window.
      beforeEach() {
        next = undefined;
        next = prepare(image, m, strategy, maxInstructions, true);
      },
    },
  );
  await bench.run();
  if (wrong) throw new Error(`nondeterministic: ${wrong}`);
  const task = bench.tasks[0];
  const res = task.result;
  if (res.state !== "completed") throw new Error(`wall-clock measurement ${res.state}`);
  const l = res.latency;
  return { mean: l.mean, p50: l.p50, p99: l.p99, rme: l.rme, samples: l.samplesCount };
}

/** The row of a cell before anything is measured: failed, with every measurement empty. */
export function emptyRow(cell: Cell, suite: Pick<Suite, "name" | "profile">): ResultRow {
  const events = zeroEvents();
  return {
    suite: suite.name,
    index: cell.index,
    cell: cell.id,
    workload: cell.workload,
    strategy: cell.strategy,
    params: paramsKey(cell.params),
    machine: machineKey(cell.machine),
    status: "failed",
    failure: "",
    exit_reason: "",
    exit_code: null,
    output_equal: null,
    output_bytes: null,
    output_sha256: "",
    instructions: null,
    profile: suite.profile,
    cycles_total: null,
    native_cycles_total: null,
    slowdown: null,
    wall_mean_ms: null,
    wall_p50_ms: null,
    wall_p99_ms: null,
    wall_rme_pct: null,
    wall_samples: null,
    host_mips: null,
    unclassified: "",
    param: { ...cell.params },
    config: { ...cell.machine },
    events,
    native_events: zeroEvents(),
    cycles: zeroEvents(),
    counters: {},
    error: "",
    output_diff: "",
  };
}

/** Prices a row's events (and its baseline's) with a profile: the modeled columns. */
export function priceRow(row: ResultRow, profileName: string): ResultRow {
  const profile = getProfile(profileName);
  const own = modelCycles(row.events, profile);
  const native = modelCycles(row.native_events, profile);
  const counted = row.instructions !== null;
  const nativeCounted = row.native_events.instruction > 0;
  return {
    ...row,
    profile: profile.name,
    cycles: own.byClass,
    cycles_total: counted ? own.total : null,
    native_cycles_total: nativeCounted ? native.total : null,
    slowdown: counted && nativeCounted && native.total > 0 ? own.total / native.total : null,
  };
}

function describeStop(o: Outcome, budget: number): string {
  if (o.reason === "budget") return `instruction budget of ${budget} spent (the guest did not finish)`;
  if (o.reason === "wfi") return "the guest waits for an interrupt that can never arrive";
  if (o.reason === "failed") return `the hypervisor failed the guest: ${o.error}`;
  if (o.reason === "exit" && o.exitCode !== 0) return `the guest exited with code ${o.exitCode}`;
  return `stopped: ${o.reason}`;
}

/**
 * Runs one group and hands each finished row to `emit` as soon as it is
 * done. Never throws for a cell's sake: a cell that crashes, loops or differs
 * from native becomes a failed row.
 */
export async function runGroup(job: GroupJob, emit: (row: ResultRow) => void): Promise<void> {
  const first = job.cells[0];
  const budget = job.suite.maxInstructions;
  const w = getWorkload(first.workload);
  let image: Image;
  let native: Outcome | undefined;
  let nativeProblem = "";
  let nativeDiff = "";
  try {
    image = w.build(first.params as Params);
    native = prepare(image, first.machine, NATIVE, budget)();
    if (native.reason !== "exit" || native.exitCode !== 0) nativeProblem = describeStop(native, budget);
    else {
      // The native run must say what the workload's reference model predicts.
      const expected = w.expected(first.params as Params).consoleLines;
      const lines = native.output.replace(/\n$/, "").split("\n");
      const tail = lines.slice(Math.max(0, lines.length - expected.length));
      if (tail.join("\n") !== expected.join("\n")) {
        nativeProblem = "the native output differs from the workload's reference model";
        nativeDiff = lineDiff(expected.join("\n"), tail.join("\n"), "reference", "native");
      }
    }
  } catch (e) {
    const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
    for (const cell of job.cells)
      emit(
        priceRow(
          { ...emptyRow(cell, job.suite), failure: "crash", error: `native baseline: ${message}` },
          job.suite.profile,
        ),
      );
    return;
  }
  const nativeCounters = flattenStats(native.stats);
  const nativeEvents = classify(nativeCounters).events;

  for (const cell of job.cells) {
    const row = emptyRow(cell, job.suite);
    row.native_events = nativeEvents;
    try {
      const o = cell.strategy === NATIVE ? native : prepare(image, cell.machine, cell.strategy, budget)();
      const counters = flattenStats(o.stats);
      const { events, unclassified } = classify(counters);
      Object.assign(row, {
        exit_reason: o.reason,
        exit_code: o.exitCode,
        output_bytes: Buffer.byteLength(o.output),
        output_sha256: sha(o.output),
        output_equal: o.output === native.output,
        instructions: o.instructions,
        counters,
        events,
        unclassified: unclassified.join(" "),
      });
      if (cell.strategy === NATIVE && nativeProblem) {
        row.failure = nativeDiff ? "reference-mismatch" : o.reason === "budget" ? "budget" : "guest-failed";
        row.error = nativeProblem;
        row.output_diff = nativeDiff;
      } else if (o.reason !== "exit" || o.exitCode !== native.exitCode) {
        row.failure = o.reason === "budget" ? "budget" : "guest-failed";
        row.error = describeStop(o, budget);
        if (!row.output_equal) row.output_diff = lineDiff(native.output, o.output, NATIVE, cell.strategy);
      } else if (!row.output_equal) {
        row.failure = "output-mismatch";
        row.error = "the guest's output under this strategy differs from its native output";
        row.output_diff = lineDiff(native.output, o.output, NATIVE, cell.strategy);
      } else if (nativeProblem) {
        row.failure = "native-failed";
        row.error = `the native baseline failed: ${nativeProblem}`;
      } else {
        const wall = await measure(image, cell.machine, cell.strategy, job, o.instructions);
        Object.assign(row, {
          status: "ok",
          wall_mean_ms: wall.mean,
          wall_p50_ms: wall.p50,
          wall_p99_ms: wall.p99,
          wall_rme_pct: wall.rme,
          wall_samples: wall.samples,
          host_mips: wall.mean > 0 ? o.instructions / (wall.mean * 1000) : null,
        });
      }
    } catch (e) {
      row.status = "failed";
      row.failure = String((e as Error)?.message ?? "").startsWith("nondeterministic")
        ? "nondeterministic"
        : "crash";
      row.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    }
    emit(priceRow(row, job.suite.profile));
  }
}
