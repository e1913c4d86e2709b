/**
 * Interpreter and translator speed, measured side by side: one machine per
 * (program, engine), each running the program with its largest loop count,
 * so it never powers off during the measurement and keeps its warm state
 * (V8's compiled code, the emulator's caches) from sample to sample.
 *
 * Samples are taken round-robin: every round runs one slice of every
 * program on every engine, alternating which engine goes first, so a change
 * of machine load during the run slows both engines alike. The jit/interp
 * ratio is the median of the per-round ratios, each from two samples taken
 * back to back.
 */
import { ENGINES, type Engine } from "../src/hart.ts";
import { Machine } from "../src/machine.ts";
import type { PerfProgram } from "./programs.ts";

export interface EngineOptions {
  /** Guest instructions per sample. */
  slice: number;
  /** Warm-up time per (program, engine) before sampling, in ms. */
  warmupMs: number;
  /** Sampling time per (program, engine), in ms (at least minRounds rounds). */
  timeMs: number;
  minRounds: number;
}

export interface Spread {
  median: number;
  p25: number;
  p75: number;
}

export interface EngineFigure {
  id: string;
  name: string;
  paging: boolean;
  /** Guest MIPS per engine. */
  mips: Record<Engine, Spread>;
  /** jit MIPS / interp MIPS, over paired samples. */
  ratio: Spread;
  rounds: number;
}

interface Cell {
  machine: Machine;
  samples: number[];
}

/** Runs one slice; returns the guest MIPS of that slice. */
function sample(cell: Cell, program: PerfProgram, engine: Engine, slice: number): number {
  const t0 = performance.now();
  const r = cell.machine.run({ maxInstructions: slice });
  const ms = performance.now() - t0;
  if (r.reason !== "budget") {
    throw new Error(`${program.id} on ${engine}: the guest stopped (${r.reason}) during the measurement`);
  }
  return slice / ms / 1000;
}

export function measureEngines(programs: readonly PerfProgram[], opts: EngineOptions): EngineFigure[] {
  const cells = programs.map((p) => {
    const image = p.build(p.maxIterations);
    return Object.fromEntries(
      ENGINES.map((e) => {
        const machine = new Machine({ engine: e });
        machine.load(image);
        return [e, { machine, samples: [] as number[] }];
      }),
    ) as Record<Engine, Cell>;
  });
  const order = (round: number): readonly Engine[] => (round % 2 === 0 ? ENGINES : [...ENGINES].reverse());
  const runRound = (round: number, keep: boolean) => {
    programs.forEach((p, i) => {
      for (const e of order(round)) {
        const mips = sample(cells[i][e], p, e, opts.slice);
        if (keep) cells[i][e].samples.push(mips);
      }
    });
  };
  const cellCount = programs.length * ENGINES.length;
  const until = (ms: number) => performance.now() + ms * cellCount;
  for (let round = 0, end = until(opts.warmupMs); round < 2 || performance.now() < end; round++) {
    runRound(round, false);
  }
  let rounds = 0;
  // An even number of rounds, so each engine goes first equally often.
  for (
    const end = until(opts.timeMs);
    rounds < opts.minRounds || rounds % 2 === 1 || performance.now() < end;
    rounds++
  ) {
    runRound(rounds, true);
  }
  return programs.map((p, i) => {
    const c = cells[i];
    const ratios = c.jit.samples.map((j, r) => j / c.interp.samples[r]);
    return {
      id: p.id,
      name: p.name,
      paging: p.paging,
      mips: { jit: spread(c.jit.samples), interp: spread(c.interp.samples) },
      ratio: spread(ratios),
      rounds,
    };
  });
}

/** Median and quartiles, interpolated between the nearest samples. */
export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = q * (s.length - 1);
    const lo = Math.floor(pos);
    return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
  };
  return { median: at(0.5), p25: at(0.25), p75: at(0.75) };
}
