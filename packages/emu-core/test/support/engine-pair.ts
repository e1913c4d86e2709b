/**
 * One machine per engine, driven in lockstep: the same image, the same run
 * calls, and after each call the first difference between what the two
 * machines let one observe (observation.ts) — counters, registers, CSRs,
 * TLB contents, console, ROI marks, RAM and how the run stopped.
 */
import { expect } from "vitest";
import { ENGINES, type Engine } from "../../src/hart.ts";
import type { Image } from "../../src/image.ts";
import { Machine, type MachineConfig, type RunOptions, type RunResult } from "../../src/machine.ts";
import { firstDifference, observeMachine, observeRun, ramDifference } from "../../src/observation.ts";

/** Chunk sizes a budgeted run is cut into: odd sizes, so chunks end anywhere in a block. */
export const CHUNKS = [7, 1000, 4097] as const;

export class EnginePair {
  readonly machines: Machine[];
  readonly names = ENGINES as unknown as readonly [Engine, Engine];
  /** Comparisons made so far (each one a full observation of both machines). */
  compared = 0;

  constructor(config: Partial<MachineConfig>, image?: Image) {
    this.machines = this.names.map((engine) => new Machine({ ...config, engine }));
    if (image) for (const m of this.machines) m.load(image);
  }

  /** Apply the same preparation (or any action) to both machines. */
  each(fn: (m: Machine) => void): void {
    for (const m of this.machines) fn(m);
  }

  /** One run call on both machines, then the comparison; returns the reference (interp) result. */
  run(opts: RunOptions = {}): RunResult {
    const results = this.machines.map((m) => m.run(opts));
    this.expectSame(results);
    return results[this.names.indexOf("interp")];
  }

  /**
   * Run in chunks of CHUNKS' sizes in turn until the run stops for another
   * reason than the budget or `limit` instructions were spent, comparing after
   * every chunk. Returns the last result.
   */
  runChunked(limit: number, opts: Omit<RunOptions, "maxInstructions"> = {}): RunResult {
    let spent = 0;
    for (let i = 0; ; i++) {
      const n = CHUNKS[i % CHUNKS.length];
      const r = this.run({ ...opts, maxInstructions: n });
      spent += n;
      if (r.reason !== "budget" || spent >= limit) return r;
    }
  }

  /** Compare the machines now (and the results of the run that led here, when given). */
  expectSame(results?: RunResult[]): void {
    const [a, b] = this.machines;
    const seen = results
      ? results.map((r, i) => observeRun(this.machines[i], r))
      : this.machines.map((m) => observeMachine(m));
    this.compared++;
    let d = firstDifference(seen[0], seen[1], this.names);
    // The digest says that RAM differs; the machines say where.
    if (d?.includes("ram.")) d = `${d}; first ${ramDifference(a, b, this.names)}`;
    expect(d, `after comparison ${this.compared}`).toBeUndefined();
  }
}
