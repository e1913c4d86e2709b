/**
 * The same guest on both engines (HartConfig.engine), driven in lockstep:
 * after every step what the two let one observe (observation.ts) must be
 * identical, or the step throws with the first difference, named by engine.
 * A rig is one guest on one engine: a bare machine here, a hypervisor in the
 * layer above (which brings its own rig), so every layer compares the same way.
 */
import { ENGINES, type Engine } from "./hart.ts";
import type { Machine } from "./machine.ts";
import { firstDifference, observeRun, ramDifference } from "./observation.ts";
import type { RoiKind } from "./roi.ts";

export interface StepOptions {
  maxInstructions?: number;
  stopAtMark?: RoiKind;
}

/** One guest on one engine. */
export interface Rig {
  machine: Machine;
  /** Run; what the run and the machine after it let one observe, and a word for how it stopped. */
  step(opts: StepOptions): { stopped: string; seen: unknown };
}

/** A bare machine's run calls. */
export function machineRig(m: Machine): Rig {
  return {
    machine: m,
    step(opts) {
      const r = m.run(opts);
      return { stopped: r.reason, seen: observeRun(m, r) };
    },
  };
}

/** The engines differ: the message names the first field that tells them apart. */
export class EngineDifference extends Error {
  override name = "EngineDifference";
}

/** Chunk sizes a budgeted run is cut into: odd sizes, so chunks end anywhere inside a block. */
export const ENGINE_CHUNKS = [7, 1000, 4097] as const;

export class EnginePair {
  /** The engines in rig order. */
  readonly engines: readonly Engine[] = ENGINES;
  readonly rigs: readonly Rig[];
  /** Steps compared so far. */
  compared = 0;

  /** `label` (the guest and its configuration, say) starts every difference's message. */
  constructor(
    make: (engine: Engine) => Rig,
    readonly label = "",
  ) {
    this.rigs = this.engines.map(make);
    // Translate every block on its first dispatch: random and one-shot code runs each address a
    // few times, which the default threshold would leave to the interpreter. The switch from
    // interpreting to translated code at the default threshold is covered by every other test,
    // which runs on the default engine.
    for (const r of this.rigs) {
      const jit = r.machine.hart.jit;
      if (jit !== undefined) jit.hot = 1;
    }
  }

  /** The rig of one engine. */
  rig(engine: Engine): Rig {
    return this.rigs[this.engines.indexOf(engine)];
  }

  /** Apply the same action to every engine's machine. */
  each(fn: (m: Machine, engine: Engine) => void): void {
    for (const [i, r] of this.rigs.entries()) fn(r.machine, this.engines[i]);
  }

  /** One step on every engine, then the comparison; how the reference (interp) stopped. */
  step(opts: StepOptions = {}): string {
    const out = this.rigs.map((r) => r.step(opts));
    this.compared++;
    for (let i = 1; i < out.length; i++) this.check(out[0].seen, out[i].seen, i);
    return out[this.engines.indexOf("interp")].stopped;
  }

  /** Compare what the machines let one observe now (after a restore, say). */
  expectSame(observe: (m: Machine) => unknown): void {
    const seen = this.rigs.map((r) => observe(r.machine));
    this.compared++;
    for (let i = 1; i < seen.length; i++) this.check(seen[0], seen[i], i);
  }

  /**
   * Steps of ENGINE_CHUNKS' sizes in turn, compared after each, until a step
   * stops other than in one of `budgetStops` or `limit` instructions are spent.
   */
  runChunked(limit: number, budgetStops: readonly string[] = ["budget"]): string {
    let spent = 0;
    for (let i = 0; ; i++) {
      const n = ENGINE_CHUNKS[i % ENGINE_CHUNKS.length];
      const stopped = this.step({ maxInstructions: n });
      spent += n;
      if (!budgetStops.includes(stopped) || spent >= limit) return stopped;
    }
  }

  private check(a: unknown, b: unknown, i: number): void {
    const names = [this.engines[0], this.engines[i]] as const;
    let d = firstDifference(a, b, names);
    if (d === undefined) return;
    // The digest says that RAM differs; the machines say where.
    if (d.includes("ram."))
      d = `${d}; first ${ramDifference(this.rigs[0].machine, this.rigs[i].machine, names)}`;
    throw new EngineDifference(
      `${this.label === "" ? "" : `${this.label}, `}after step ${this.compared}: ${d}`,
    );
  }
}
