/**
 * `npm run perf:checkpoint`: what a checkpoint restore costs, against what
 * building a fresh machine per sample costs.
 *
 * - restore with N pages written since the checkpoint, on a 64 MiB machine
 *   and on a 256 MiB one (the cost should follow N, not RAM size);
 * - a fresh 64 MiB machine with the image loaded, with and without touching
 *   every RAM page once (what the bench did per sample to keep host page
 *   faults out of the timed run).
 *
 * Times are medians of repeated measurements with performance.now().
 */
import { Machine } from "../src/machine.ts";
import { writePages } from "./programs.ts";

const MIB = 2 ** 20;
const quick = process.argv.includes("--quick");
const REPEAT = quick ? 15 : 61;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median time of `restore` after a run that wrote `pages` pages. */
function restoreTime(ramSize: number, pages: number): { ms: number; copied: number } {
  const m = new Machine({ ramSize });
  m.load(writePages(Math.max(pages, 1)));
  const cp = m.checkpoint();
  const times: number[] = [];
  let copied = 0;
  for (let i = 0; i < REPEAT; i++) {
    if (pages > 0) m.run({ maxInstructions: 1e7 });
    const t0 = performance.now();
    m.restore(cp);
    times.push(performance.now() - t0);
    copied = m.restoredPages;
  }
  return { ms: median(times), copied };
}

function freshTime(ramSize: number, touch: boolean): number {
  const image = writePages(1);
  const times: number[] = [];
  for (let i = 0; i < (quick ? 5 : 15); i++) {
    const t0 = performance.now();
    const m = new Machine({ ramSize });
    if (touch) for (let p = 0; p < m.hart.ram.length; p += 4096) m.hart.ram[p] |= 0;
    m.load(image);
    times.push(performance.now() - t0);
  }
  return median(times);
}

const rows: Record<string, string | number>[] = [];
for (const ramMib of [64, 256]) {
  for (const pages of [0, 1, 16, 256, 4096]) {
    const { ms, copied } = restoreTime(ramMib * MIB, pages);
    rows.push({
      case: `restore, ${ramMib} MiB RAM`,
      "pages copied": copied,
      "ms (median)": Number(ms.toFixed(4)),
      "µs per page": copied > 0 ? Number(((ms * 1000) / copied).toFixed(3)) : "-",
    });
  }
}
for (const touch of [false, true]) {
  rows.push({
    case: `new 64 MiB machine + load${touch ? " + touch every page" : ""}`,
    "pages copied": "-",
    "ms (median)": Number(freshTime(64 * MIB, touch).toFixed(3)),
    "µs per page": "-",
  });
}
console.log(`Node ${process.version}, ${REPEAT} restores per row`);
console.table(rows);
