/**
 * `npm run perf:exits` (hypervisor): the cost of the exit path. For each
 * paging strategy, ctxswitch rings of 2 to 96 processes (with ASIDs), each
 * process taking the same number of turns, so the guest's work grows
 * linearly with the number of processes: host time per process should stay
 * flat. Per cell: host CPU ms of the run (process CPU time, which a busy
 * shared machine disturbs far less than the wall clock; minimum of the
 * samples, taken round-robin with native), exits, and
 * µs per exit = (strategy ms - native ms) / exits, the monitor's share.
 */
import { Machine } from "@shadowlab/emu-core";
import { findWorkload } from "@shadowlab/workloads";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";

const quick = process.argv.includes("--quick");
const SAMPLES = quick ? 2 : 5;
const PROCESSES = quick ? [2, 16, 96] : [2, 8, 32, 96];
const ROUNDS = 30;

const w = findWorkload("ctxswitch");
if (!w) throw new Error("no workload ctxswitch");

function timeNative(image: Parameters<Machine["load"]>[0]): number {
  const m = new Machine();
  m.load(image);
  const t0 = process.cpuUsage();
  m.run({ maxInstructions: 1e10 });
  return cpuMs(t0);
}

/** CPU milliseconds (user + system) since `t0`. */
function cpuMs(t0: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

function timeStrategy(image: Parameters<Machine["load"]>[0], s: string): { ms: number; exits: number } {
  const hv = new Hypervisor();
  hv.addGuest(image, s);
  const t0 = process.cpuUsage();
  const r = hv.run({ maxInstructions: 1e10 });
  const ms = cpuMs(t0);
  if (r.guests[0].state !== "exited") throw new Error(`${s}: the guest ended ${r.guests[0].state}`);
  let exits = 0;
  for (const [k, v] of Object.entries(r.stats.extra)) if (k.startsWith("hv.exit.")) exits += v;
  return { ms, exits };
}

const rows: Record<string, string | number>[] = [];
const strategies = strategyNames();
for (const processes of PROCESSES) {
  const image = w.build(w.schema.parse({ processes, pages: 2, rounds: ROUNDS, asid: true }));
  const native: number[] = [];
  const hv = new Map<string, { ms: number[]; exits: number }>(
    strategies.map((s) => [s, { ms: [], exits: 0 }]),
  );
  for (let i = 0; i < SAMPLES; i++) {
    native.push(timeNative(image));
    for (const s of strategies) {
      const r = timeStrategy(image, s);
      const cell = hv.get(s) as { ms: number[]; exits: number };
      cell.ms.push(r.ms);
      cell.exits = r.exits;
    }
  }
  const nativeMs = Math.min(...native);
  for (const s of strategies) {
    const cell = hv.get(s) as { ms: number[]; exits: number };
    const ms = Math.min(...cell.ms);
    rows.push({
      processes,
      strategy: s,
      "host CPU ms (min)": Number(ms.toFixed(1)),
      "ms per process": Number((ms / processes).toFixed(2)),
      exits: cell.exits,
      "µs per exit": Number((((ms - nativeMs) * 1000) / cell.exits).toFixed(2)),
    });
  }
  rows.push({ processes, strategy: "native", "host CPU ms (min)": Number(nativeMs.toFixed(1)) });
}
console.log(
  `Node ${process.version}; ctxswitch, pages 2, rounds ${ROUNDS}, asid on; min of ${SAMPLES} samples`,
);
console.table(rows);
