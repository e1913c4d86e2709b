/**
 * `npm run perf` (hypervisor): host time of workloads under each paging
 * strategy relative to native, with tinybench, and the exits per thousand
 * guest instructions. Every sample is a whole run from boot to power-off on
 * a fresh machine, so it includes the guest kernel's boot. Then the exit
 * path's tables, in the same run: µs per exit per strategy and execution
 * mode with host time against 2..96 processes and its linearity
 * (exit-costs.ts), and µs per shadow-fill exit alone (fill-cost.ts).
 */
import { Machine } from "@shadowlab/emu-core";
import { findWorkload } from "@shadowlab/workloads";
import { Bench } from "tinybench";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";
import { exitCosts } from "./exit-costs.ts";
import { fillCosts } from "./fill-cost.ts";

const quick = process.argv.includes("--quick");
const CASES: [string, Record<string, unknown>][] = [
  ["ctxswitch", { processes: 8, pages: 4, rounds: 100 }],
  ["compute", { iterations: 1_000_000 }],
];

const rows: Record<string, string | number>[] = [];
for (const [name, p] of CASES) {
  const w = findWorkload(name);
  if (!w) throw new Error(`no workload ${name}`);
  const image = w.build(w.schema.parse(p));
  const bench = new Bench({
    time: quick ? 300 : 3000,
    warmupTime: quick ? 100 : 500,
    iterations: quick ? 3 : 10,
  });
  const exitsPerK: Record<string, number> = {};
  bench.add("native", () => {
    const m = new Machine();
    m.load(image);
    m.run({ maxInstructions: 1e9 });
  });
  for (const s of strategyNames()) {
    bench.add(s, () => {
      const hv = new Hypervisor();
      hv.addGuest(image, s);
      const r = hv.run({ maxInstructions: 1e9 });
      const exits = Object.entries(r.stats.extra)
        .filter(([k]) => k.startsWith("hv.exit."))
        .reduce((a, [, v]) => a + v, 0);
      exitsPerK[s] = (exits / r.instructions) * 1000;
    });
  }
  await bench.run();
  const native = bench.tasks[0].result;
  const nativeMean = native.state === "completed" ? native.latency.mean : Number.NaN;
  for (const t of bench.tasks) {
    const r = t.result;
    if (r.state !== "completed") continue;
    rows.push({
      workload: `${name} ${JSON.stringify(p)}`,
      run: t.name,
      "mean ms": Number(r.latency.mean.toFixed(1)),
      "p99 ms": Number(r.latency.p99.toFixed(1)),
      "rme %": Number(r.latency.rme.toFixed(1)),
      "× native": Number((r.latency.mean / nativeMean).toFixed(2)),
      "exits / 1k instr": t.name === "native" ? 0 : Number(exitsPerK[t.name].toFixed(2)),
    });
  }
}
console.log(`Node ${process.version}; each sample boots the guest kernel and runs the workload to power-off`);
console.table(rows);
exitCosts({ quick });
fillCosts({ quick });
