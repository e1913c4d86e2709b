/**
 * Running cells. Cells are run a baseline group at a time (one workload, one
 * parameter set, one machine): the guest image is built once, runs natively
 * once (the baseline every strategy of the group is compared with), then
 * under each strategy. Each cell records the deterministic counters of its
 * measured region of interest (and of the whole run, under `run.`) from one
 * counted run, then host wall-clock statistics from tinybench, each sample
 * running the region alone from a checkpoint at its start (sample.ts).
 */
import { createHash } from "node:crypto";
import type { Image } from "@shadowlab/emu-core";
import type { ExecutionMode } from "@shadowlab/hypervisor";
import { getWorkload, type Params } from "@shadowlab/workloads";
import { Bench } from "tinybench";
import {
  classify,
  EVENT_CLASSES,
  type EventCounts,
  flattenStats,
  getProfile,
  modelCycles,
  zeroEvents,
} from "./cost.ts";
import { lineDiff } from "./diff.ts";
import { isLinuxWorkload } from "./linux.ts";
import { runLinuxGroup } from "./linux-cell.ts";
import { NOISY_RME_PCT, type ResultRow, type RunFigures } from "./results.ts";
import {
  type Counted,
  cellMachine,
  countedRun,
  type RegionSampler,
  regionSampler,
  type Stop,
} from "./sample.ts";
import { type Cell, machineKey, NATIVE, paramsKey, type Suite } from "./suite.ts";

export { HV_HEADROOM, machineConfig } from "./sample.ts";

/** What a worker needs to run one group. */
export interface GroupJob {
  suite: Pick<Suite, "name" | "repetitions" | "warmup" | "maxInstructions" | "profile">;
  /** Every cell of the group that should produce a row (the native baseline runs regardless). */
  cells: Cell[];
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);

export interface WallStats {
  mean: number;
  p50: number;
  min: number;
  p99: number;
  rme: number;
  samples: number;
  raw: number[];
}

/**
 * Wall-clock of the measured region: tinybench times `repetitions` samples
 * (after `warmup` untimed ones), each restoring the region's start outside
 * the timed window and running the region alone.
 */
export async function measure(sampler: RegionSampler, job: GroupJob, counted: Counted): Promise<WallStats> {
  const { repetitions, warmup } = job.suite;
  const expected = counted.roi?.stats.instructions.total ?? 0;
  let wrong = "";
  const durations: number[] = [];
  const bench = new Bench({
    iterations: repetitions,
    time: 0,
    warmup: warmup > 0,
    warmupIterations: warmup,
    warmupTime: 0,
    throws: true,
  });
  bench.add(
    "region",
    () => {
      const t0 = performance.now();
      const n = sampler.sample();
      const t = performance.now() - t0;
      durations.push(t);
      if (n !== expected) wrong = `a timed region retired ${n} instructions, the counted run's ${expected}`;
      return { overriddenDuration: t };
    },
    { beforeEach: () => sampler.prepare() },
  );
  await bench.run();
  if (wrong) throw new Error(`nondeterministic: ${wrong}`);
  const res = bench.tasks[0].result;
  if (res.state !== "completed") throw new Error(`wall-clock measurement ${res.state}`);
  const l = res.latency;
  return {
    mean: l.mean,
    p50: l.p50,
    min: l.min,
    p99: l.p99,
    rme: l.rme,
    samples: l.samplesCount,
    // The timed samples are the last ones taken (warm-up comes first).
    raw: durations.slice(-l.samplesCount),
  };
}

/**
 * A small region natively and under every strategy a group asks for, untimed,
 * once per worker and strategy before anything is timed: the interpreter's and
 * the monitor's hot functions are compiled by then.
 */
const warmed = new Set<string>();
function warmJit(cells: readonly Cell[]): void {
  const w = getWorkload("syscall");
  const image = w.build(w.schema.parse({ iterations: 2_000 }) as Params);
  // Each engine has hot functions of its own: warm every engine the group runs on.
  const machine = cellMachine(cells[0]);
  const runs = new Map<string, [string, ExecutionMode]>([[`${NATIVE}~${machine.engine}`, [NATIVE, "trap"]]]);
  for (const c of cells) runs.set(`${c.strategy}@${hvMode(c)}~${c.engine}`, [c.strategy, hvMode(c)]);
  for (const [key, [strategy, mode]] of runs) {
    if (warmed.has(key)) continue;
    warmed.add(key);
    try {
      const counted = countedRun(image, machine, strategy, 10_000_000, mode);
      const sampler = regionSampler(image, machine, strategy, 10_000_000, counted.beginOrdinal, mode);
      for (let i = 0; i < 3; i++) {
        sampler.prepare();
        sampler.sample();
      }
    } catch {
      // A strategy that cannot run fails its own cells, with its own error.
    }
  }
}

/** The whole-run figures before anything is counted. */
function emptyRun(): RunFigures {
  const run: RunFigures = {
    instructions: null,
    cycles_total: null,
    native_cycles_total: null,
    slowdown: null,
  };
  for (const c of EVENT_CLASSES) {
    run[`events.${c}`] = 0;
    run[`native_events.${c}`] = 0;
  }
  return run;
}

function runEvents(run: RunFigures, prefix: "events" | "native_events"): EventCounts {
  const e = zeroEvents();
  for (const c of EVENT_CLASSES) e[c] = run[`${prefix}.${c}`] ?? 0;
  return e;
}

function setRunEvents(run: RunFigures, prefix: "events" | "native_events", e: EventCounts): void {
  for (const c of EVENT_CLASSES) run[`${prefix}.${c}`] = e[c];
}

/** The hypervisor's execution mode of a cell (native cells never reach the hypervisor). */
export const hvMode = (cell: Cell): ExecutionMode => (cell.mode === "native" ? "trap" : cell.mode);

/** The row of a cell before anything is measured: failed, with every measurement empty. */
export function emptyRow(cell: Cell, suite: Pick<Suite, "name" | "profile">): ResultRow {
  return {
    suite: suite.name,
    index: cell.index,
    cell: cell.id,
    workload: cell.workload,
    strategy: cell.strategy,
    mode: cell.mode,
    engine: cell.engine,
    params: paramsKey(cell.params),
    machine: machineKey(cell.machine),
    status: "failed",
    failure: "",
    exit_reason: "",
    exit_code: null,
    output_equal: null,
    output_bytes: null,
    output_sha256: "",
    roi_instructions: null,
    ops: null,
    profile: suite.profile,
    cycles_total: null,
    native_cycles_total: null,
    slowdown: null,
    cycles_per_op: null,
    wall_mean_ms: null,
    wall_p50_ms: null,
    wall_min_ms: null,
    wall_p99_ms: null,
    wall_rme_pct: null,
    wall_noisy: null,
    wall_samples: null,
    host_mips: null,
    unclassified: "",
    commit: "",
    date: "",
    param: { ...cell.params },
    config: { ...cell.machine },
    events: zeroEvents(),
    native_events: zeroEvents(),
    cycles: zeroEvents(),
    counters: {},
    run: emptyRun(),
    wall_raw_ms: [],
    error: "",
    output_diff: "",
  };
}

/** Prices a row's events (and its baseline's), for the region and for the whole run, with a profile: the modeled columns. */
export function priceRow(row: ResultRow, profileName: string): ResultRow {
  const profile = getProfile(profileName);
  const own = modelCycles(row.events, profile);
  const native = modelCycles(row.native_events, profile);
  const counted = row.roi_instructions !== null;
  const nativeCounted = row.native_events.instruction > 0;
  const cycles_total = counted ? own.total : null;
  const run = { ...(row.run ?? emptyRun()) };
  const runOwn = modelCycles(runEvents(run, "events"), profile);
  const runNative = modelCycles(runEvents(run, "native_events"), profile);
  const runCounted = run.instructions !== null && run.instructions !== undefined;
  const runNativeCounted = (run["native_events.instruction"] ?? 0) > 0;
  run.cycles_total = runCounted ? runOwn.total : null;
  run.native_cycles_total = runNativeCounted ? runNative.total : null;
  run.slowdown =
    runCounted && runNativeCounted && runNative.total > 0 ? runOwn.total / runNative.total : null;
  return {
    ...row,
    profile: profile.name,
    cycles: own.byClass,
    cycles_total,
    native_cycles_total: nativeCounted ? native.total : null,
    slowdown: counted && nativeCounted && native.total > 0 ? own.total / native.total : null,
    cycles_per_op: cycles_total !== null && row.ops !== null && row.ops > 0 ? cycles_total / row.ops : null,
    run,
  };
}

export function describeStop(o: Stop, budget: number): string {
  if (o.reason === "budget") return `instruction budget of ${budget} spent (the guest did not finish)`;
  if (o.reason === "wfi") return "the guest waits for an interrupt that can never arrive";
  if (o.reason === "failed") return `the hypervisor failed the guest: ${o.error}`;
  if (o.reason === "exit" && o.exitCode !== 0) return `the guest exited with code ${o.exitCode}`;
  return `stopped: ${o.reason}`;
}

export function describeNoRegion(c: Counted): string {
  return `the guest never reached the end of a region of interest (${c.marks.begin} begin and ${c.marks.end} end marks retired)`;
}

/** The native baseline of a group, and what is wrong with it ("" when nothing). */
export interface Baseline {
  counted: Counted;
  problem: string;
  diff: string;
  failure: string;
}

/** The baseline of a native run that did not exit with status 0, or undefined when it did. */
export function stoppedBaseline(counted: Counted, budget: number): Baseline | undefined {
  const native = counted.run;
  if (native.reason === "exit" && native.exitCode === 0) return undefined;
  return {
    counted,
    problem: describeStop(native, budget),
    diff: "",
    failure: native.reason === "budget" ? "budget" : "guest-failed",
  };
}

/** The native baseline of a group could not be run: every cell of the group fails with that error. */
export function emitBaselineCrash(job: GroupJob, emit: (row: ResultRow) => void, e: unknown): void {
  const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
  for (const cell of job.cells)
    emit(
      priceRow(
        { ...emptyRow(cell, job.suite), failure: "crash", error: `native baseline: ${message}` },
        job.suite.profile,
      ),
    );
}

function nativeBaseline(image: Image, job: GroupJob): Baseline {
  const first = job.cells[0];
  const budget = job.suite.maxInstructions;
  const counted = countedRun(image, cellMachine(first), NATIVE, budget);
  const native = counted.run;
  const stopped = stoppedBaseline(counted, budget);
  if (stopped) return stopped;
  // The native run must say what the workload's reference model predicts.
  const expected = getWorkload(first.workload).expected(first.params as Params).consoleLines;
  const lines = native.output.replace(/\n$/, "").split("\n");
  const tail = lines.slice(Math.max(0, lines.length - expected.length));
  if (tail.join("\n") !== expected.join("\n"))
    return {
      counted,
      problem: "the native output differs from the workload's reference model",
      diff: lineDiff(expected.join("\n"), tail.join("\n"), "reference", "native"),
      failure: "reference-mismatch",
    };
  if (!counted.roi) return { counted, problem: describeNoRegion(counted), diff: "", failure: "no-roi" };
  return { counted, problem: "", diff: "", failure: "" };
}

/** Fills a row's region and whole-run counters from a counted run. */
export function recordCounts(row: ResultRow, c: Counted, base: Counted): void {
  const o = c.run;
  const runCounters = flattenStats(o.stats);
  const roiCounters = c.roi ? flattenStats(c.roi.stats) : {};
  const { events, unclassified } = classify(roiCounters);
  const run = emptyRun();
  run.instructions = o.instructions;
  setRunEvents(run, "events", classify(runCounters).events);
  setRunEvents(run, "native_events", classify(flattenStats(base.run.stats)).events);
  Object.assign(row, {
    exit_reason: o.reason,
    exit_code: o.exitCode,
    output_bytes: Buffer.byteLength(o.output),
    output_sha256: sha(o.output),
    output_equal: o.output === base.run.output,
    roi_instructions: c.roi ? c.roi.stats.instructions.total : null,
    ops: c.roi?.ops ?? null,
    counters: roiCounters,
    events,
    native_events: base.roi ? classify(flattenStats(base.roi.stats)).events : zeroEvents(),
    unclassified: unclassified.join(" "),
    run,
  });
}

/** Sets why a cell that ran fails (failure and error); leaves failure "" when it is fine to measure. */
export function judge(row: ResultRow, cell: Cell, c: Counted, base: Baseline, budget: number): void {
  const o = c.run;
  const native = base.counted.run;
  if (cell.strategy === NATIVE && base.problem) {
    row.failure = base.failure;
    row.error = base.problem;
    row.output_diff = base.diff;
  } else if (o.reason !== "exit" || o.exitCode !== native.exitCode) {
    row.failure = o.reason === "budget" ? "budget" : "guest-failed";
    row.error = describeStop(o, budget);
    if (!row.output_equal) row.output_diff = lineDiff(native.output, o.output, NATIVE, cell.strategy);
  } else if (!row.output_equal) {
    row.failure = "output-mismatch";
    row.error = "the guest's output under this strategy differs from its native output";
    row.output_diff = lineDiff(native.output, o.output, NATIVE, cell.strategy);
  } else if (!c.roi) {
    row.failure = "no-roi";
    row.error = describeNoRegion(c);
  } else if (base.problem) {
    row.failure = "native-failed";
    row.error = `the native baseline failed: ${base.problem}`;
  }
}

/** Marks a measured row ok with its wall-clock statistics. */
export function recordWall(row: ResultRow, wall: WallStats): void {
  const roiInstructions = row.roi_instructions ?? 0;
  Object.assign(row, {
    status: "ok",
    wall_mean_ms: wall.mean,
    wall_p50_ms: wall.p50,
    wall_min_ms: wall.min,
    wall_p99_ms: wall.p99,
    wall_rme_pct: wall.rme,
    wall_noisy: wall.rme > NOISY_RME_PCT,
    wall_samples: wall.samples,
    wall_raw_ms: wall.raw,
    host_mips: wall.mean > 0 ? roiInstructions / (wall.mean * 1000) : null,
  });
}

/** Why a cell's run failed: its exception as a row's failure and error. */
export function recordCrash(row: ResultRow, e: unknown): void {
  row.status = "failed";
  row.failure = String((e as Error)?.message ?? "").startsWith("nondeterministic")
    ? "nondeterministic"
    : "crash";
  row.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
}

/**
 * Runs one group and hands each finished row to `emit` as soon as it is
 * done. Never throws for a cell's sake: a cell that crashes, loops, differs
 * from native or never completes its region becomes a failed row.
 */
export async function runGroup(job: GroupJob, emit: (row: ResultRow) => void): Promise<void> {
  const first = job.cells[0];
  if (isLinuxWorkload(first.workload)) return runLinuxGroup(job, emit);
  const budget = job.suite.maxInstructions;
  let image: Image;
  let base: Baseline;
  try {
    warmJit(job.cells);
    const w = getWorkload(first.workload);
    image = w.build(first.params as Params);
    base = nativeBaseline(image, job);
  } catch (e) {
    emitBaselineCrash(job, emit, e);
    return;
  }

  for (const cell of job.cells) {
    const row = emptyRow(cell, job.suite);
    try {
      const c =
        cell.strategy === NATIVE
          ? base.counted
          : countedRun(image, cellMachine(cell), cell.strategy, budget, hvMode(cell));
      recordCounts(row, c, base.counted);
      judge(row, cell, c, base, budget);
      if (row.failure === "") {
        const sampler = regionSampler(
          image,
          cellMachine(cell),
          cell.strategy,
          budget,
          c.beginOrdinal,
          hvMode(cell),
        );
        const wall = await measure(sampler, job, c);
        recordWall(row, wall);
      }
    } catch (e) {
      recordCrash(row, e);
    }
    emit(priceRow(row, job.suite.profile));
  }
}
