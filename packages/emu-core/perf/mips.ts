/**
 * `npm run perf`: the interpreter's speed in guest MIPS (million guest
 * instructions per host second), measured with tinybench.
 *
 * Three programs (perf/programs.ts): a compute loop in M-mode without
 * translation, the same loop in U-mode with Sv32 on (every fetch goes through
 * the TLB model), and a U-mode loop that touches more pages than the TLB
 * holds, so a load misses and walks every seven instructions.
 *
 * Each tinybench iteration runs SLICE instructions on a machine that keeps
 * running across iterations (warm JIT, warm caches of the emulator), so the
 * mean time per iteration converts directly to MIPS.
 */
import { Bench } from "tinybench";
import type { Image } from "../src/image.ts";
import { Machine } from "../src/machine.ts";
import {
  computeMachineMode,
  computeUserPaged,
  memoryTouchPaged,
  mixedMachineMode,
  mixedUserPaged,
} from "./programs.ts";

const SLICE = 2_000_000;
const quick = process.argv.includes("--quick");

interface Case {
  name: string;
  image: Image;
}

const cases: Case[] = [
  { name: "compute, M-mode, no paging", image: computeMachineMode() },
  { name: "compute, U-mode, Sv32", image: computeUserPaged() },
  { name: "mixed alu/mul/ld/st, M-mode, no paging", image: mixedMachineMode() },
  { name: "mixed alu/mul/ld/st, U-mode, Sv32", image: mixedUserPaged() },
  // 256 pages against the default 64-entry TLB: every page visit misses.
  { name: "memory touch, U-mode, Sv32, TLB misses", image: memoryTouchPaged(256) },
];

const bench = new Bench({
  name: "shadowlab emulator",
  time: quick ? 200 : 2000,
  warmupTime: quick ? 100 : 500,
  iterations: quick ? 4 : 16,
});

for (const c of cases) {
  const m = new Machine();
  m.load(c.image);
  bench.add(c.name, () => {
    const r = m.run({ maxInstructions: SLICE });
    if (r.reason !== "budget") throw new Error(`${c.name}: the guest stopped (${r.reason})`);
  });
}

await bench.run();

const rows = bench.tasks.map((t) => {
  const r = t.result;
  if (r.state !== "completed") return { benchmark: t.name, error: r.state };
  const ms = r.latency.mean;
  return {
    benchmark: t.name,
    "guest MIPS": Number((SLICE / ms / 1000).toFixed(1)),
    "ms per 2M instr (mean)": Number(ms.toFixed(2)),
    p99: Number(r.latency.p99.toFixed(2)),
    "rme %": Number(r.latency.rme.toFixed(2)),
    samples: r.latency.samplesCount,
  };
});
console.log(`Node ${process.version}, ${SLICE.toLocaleString("en")} instructions per sample`);
console.table(rows);
