/**
 * The exit path's cost per strategy and execution mode, and host time against
 * the number of processes (the "linear" made a number).
 *
 * Workload: ctxswitch rings of 2 to 96 processes (ASIDs on, 2 pages each).
 * Only the region of interest is timed: the run stops at the workload's
 * begin mark (boot, forks and warm-up rounds excluded) and the clock covers
 * begin to end. The rounds are sized so that every cell times about the same
 * number of turns (P × rounds), enough for a clock to resolve at P = 2 too;
 * host time for a fixed number of rounds is then P × rounds × (µs per turn),
 * linear in P exactly when µs per turn is flat. Time is process CPU time
 * (user + system), which a busy shared machine disturbs far less than the
 * wall clock; each cell is the minimum of its samples, taken round-robin
 * over every process count and configuration, native included, after one
 * warm-up pass, so no cell profits from running later in a warmer process.
 *
 * Per cell: host ms, exits and exits per 1k guest instructions (of the
 * region), and µs per exit = (strategy ms - native ms) / exits, the
 * monitor's share averaged over every kind of exit. It charges the exits
 * with everything the strategy run costs beyond native: in hw mode the
 * guest runs in VS-mode (the hart's two-stage translation machinery on
 * every TLB miss), and nested paging's cost is its two-stage walks, not its
 * few exits, so there the figure bounds the exit cost from above. The exit
 * alone is timed in fill-cost.ts.
 *
 * Linearity per strategy/mode: µs per process turn at each P; host ms for
 * ROUNDS_REF rounds (µs per turn × P × ROUNDS_REF) fitted to a line
 * ms = a + b·P (slope, R²); and the monitor's overhead per turn (strategy
 * minus native µs per turn) at the smallest and largest P, and their ratio.
 * A turn is the same guest work under every run (counters are exact), but
 * not at every P (the caption gives the guest instructions per turn), so
 * native's own turn cost moves with P; the overhead per turn is what the
 * hypervisor adds to a turn: flat (ratio 1.00) when its host time is linear
 * in P, about 48 from P = 2 to 96 for a cost per exit proportional to P,
 * the quadratic case.
 */
import { DEFAULT_HART, Machine } from "@shadowlab/emu-core";
import { findWorkload, warmupOf } from "@shadowlab/workloads";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";
import { EXECUTION_MODES, type ExecutionMode } from "../src/paging/strategy.ts";

type Image = Parameters<Machine["load"]>[0];

export interface ExitCostOptions {
  quick: boolean;
}

/** A strategy in an execution mode, or native. */
interface Config {
  label: string;
  strategy?: string;
  mode?: ExecutionMode;
}

interface Sample {
  ms: number;
  exits: number;
  instructions: number;
  /** Process turns in the region (P × its rounds). */
  turns: number;
}

/** Rounds per host-time figure in the linearity table (the fixed-rounds view). */
const ROUNDS_REF = 40;

/** Every strategy in every mode it runs in, native first. */
function configs(): Config[] {
  const out: Config[] = [{ label: "native" }];
  for (const mode of EXECUTION_MODES)
    for (const strategy of strategyNames(mode)) out.push({ label: `${strategy}/${mode}`, strategy, mode });
  return out;
}

/** CPU milliseconds (user + system) since `t0`. */
function cpuMs(t0: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

/** Sum of the hypervisor's exit counters in a run's stats. */
export function exitCount(extra: Record<string, number>): number {
  let n = 0;
  for (const k in extra) if (k.startsWith("hv.exit.")) n += extra[k];
  return n;
}

/** Time one run's region of interest (begin mark to end mark). */
function timeRoi(image: Image, c: Config): Sample {
  if (c.strategy === undefined) {
    const m = new Machine();
    m.load(image);
    if (m.run({ maxInstructions: 1e10, stopAtMark: "begin" }).reason !== "mark")
      throw new Error("native: no begin mark");
    const i0 = m.hart.instret;
    const t0 = process.cpuUsage();
    m.run({ maxInstructions: 1e10, stopAtMark: "end" });
    return { ms: cpuMs(t0), exits: 0, instructions: m.hart.instret - i0, turns: 0 };
  }
  const hv = new Hypervisor({ mode: c.mode });
  hv.addGuest(image, c.strategy);
  if (!hv.run({ maxInstructions: 1e10, stopAtMark: "begin" }).stoppedAtMark)
    throw new Error(`${c.label}: no begin mark`);
  const t0 = process.cpuUsage();
  const r = hv.run({ maxInstructions: 1e10, stopAtMark: "end" });
  const ms = cpuMs(t0);
  if (!r.stoppedAtMark)
    throw new Error(`${c.label}: the guest ended ${r.guests[0].state} before its end mark`);
  return { ms, exits: exitCount(r.stats.extra), instructions: r.instructions, turns: 0 };
}

/** Least-squares line y = a + b·x and its R². */
export function fitLine(xs: readonly number[], ys: readonly number[]): { a: number; b: number; r2: number } {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  const b = sxy / sxx;
  return { a: my - b * mx, b, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

const round = (v: number, d: number): number => Number(v.toFixed(d));

/** Measure and print the exit-cost and linearity tables. */
export function exitCosts(opts: ExitCostOptions): void {
  const w = findWorkload("ctxswitch");
  if (!w) throw new Error("no workload ctxswitch");
  const processes = opts.quick ? [2, 8, 32, 96] : [2, 4, 8, 16, 32, 64, 96];
  const samples = opts.quick ? 2 : 4;
  const turns = opts.quick ? 800 : 2400;
  const all = configs();
  // best[config][processes index] = the fastest sample
  const best = all.map(() =>
    processes.map((): Sample => ({ ms: Number.POSITIVE_INFINITY, exits: 0, instructions: 0, turns: 0 })),
  );
  const cells = processes.map((p) => {
    const rounds = Math.max(10, Math.round(turns / p));
    const image = w.build(w.schema.parse({ processes: p, pages: 2, rounds, asid: true }));
    return { image, turns: p * (rounds - warmupOf(rounds)) };
  });
  for (let s = -1; s < samples; s++) {
    cells.forEach(({ image, turns: roiTurns }, pi) => {
      all.forEach((c, ci) => {
        const r = timeRoi(image, c);
        if (s < 0) return; // the warm-up pass
        const cell = best[ci][pi];
        if (r.ms < cell.ms) cell.ms = r.ms;
        cell.exits = r.exits;
        cell.instructions = r.instructions;
        cell.turns = roiTurns;
      });
    });
  }

  const cost: Record<string, string | number>[] = [];
  all.forEach((c, ci) => {
    if (c.strategy === undefined) return;
    const row: Record<string, string | number> = { strategy: c.strategy, mode: c.mode ?? "" };
    let exits = 0;
    let instructions = 0;
    processes.forEach((p, pi) => {
      const cell = best[ci][pi];
      exits += cell.exits;
      instructions += cell.instructions;
      row[`µs/exit P=${p}`] =
        cell.exits === 0 ? "no exits" : round(((cell.ms - best[0][pi].ms) * 1000) / cell.exits, 2);
    });
    row["exits/1k instr"] = round((exits / instructions) * 1000, 2);
    cost.push(row);
  });

  const linear: Record<string, string | number>[] = [];
  const turnUs = (ci: number): number[] => best[ci].map((cell) => (cell.ms * 1000) / cell.turns);
  const nativeTurn = turnUs(0);
  const last = processes.length - 1;
  const [lo, hi] = [processes[0], processes[last]];
  all.forEach((c, ci) => {
    const perTurn = turnUs(ci);
    const ms = perTurn.map((us, pi) => (us * processes[pi] * ROUNDS_REF) / 1000);
    const fit = fitLine(processes, ms);
    const row: Record<string, string | number> = { run: c.label };
    processes.forEach((p, pi) => {
      row[`µs/turn P=${p}`] = round(perTurn[pi], 1);
    });
    row[`ms/process (${ROUNDS_REF} rounds)`] = round(fit.b, 3);
    row.R2 = round(fit.r2, 4);
    const over = perTurn.map((us, pi) => us - nativeTurn[pi]);
    row[`overhead µs/turn P=${lo}`] = ci === 0 ? "-" : round(over[0], 1);
    row[`P=${hi}`] = ci === 0 ? "-" : round(over[last], 1);
    row["overhead ratio"] = ci === 0 ? "-" : round(over[last] / over[0], 2);
    linear.push(row);
  });
  const instrPerTurn = best[0].map(
    (cell, pi) => `P=${processes[pi]} ${Math.round(cell.instructions / cell.turns)}`,
  );

  console.log(
    `\nExit cost (engine ${DEFAULT_HART.engine}): ctxswitch, pages 2, asid on, about ${turns} turns timed per cell (region of interest only); ` +
      `CPU time, min of ${samples} samples. µs/exit = (strategy ms - native ms) / exits, every kind of exit averaged; ` +
      "exits/1k instr over all cells.",
  );
  console.table(cost);
  console.log(
    `Host time against processes P: µs per process turn; host ms for ${ROUNDS_REF} rounds (µs/turn × P × ${ROUNDS_REF}) ` +
      `fitted to a line (slope, R²); the monitor's overhead per turn (strategy - native) at P=${lo} and P=${hi} and their ` +
      `ratio: 1 = linear, a cost per exit growing in proportion to P gives 48. Guest instructions per turn: ${instrPerTurn.join(", ")}.`,
  );
  console.table(linear);
}
