/**
 * A test-only hook that makes "kill the run after N cells" deterministic:
 * with SHADOWLAB_TEST_HOLD_AFTER="N:<marker path>", the run, right after
 * saving its N-th cell, writes the marker file and then blocks for good
 * (nothing more is written), so a test can wait for the marker and kill the
 * process at a known point instead of polling a moving target.
 */
import { writeFileSync } from "node:fs";

const spec = process.env.SHADOWLAB_TEST_HOLD_AFTER;

function parse(text: string | undefined): { after: number; marker: string } | undefined {
  const m = text?.match(/^(\d+):(.+)$/);
  return m ? { after: Number(m[1]), marker: m[2] } : undefined;
}

const hold = parse(spec);

/** Called after every saved cell with the number saved so far in this run. */
export function holdAfterSavedCells(saved: number): void {
  if (!hold || saved !== hold.after) return;
  writeFileSync(hold.marker, `${process.pid}\n`);
  // Block this thread without spinning until the test kills the process.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}
