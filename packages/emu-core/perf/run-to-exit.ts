/**
 * Runs a perf program to its power-off on this machine, and reads what every
 * perf program prints at its end: "cccccccc iiiiiiii\n", the checksum and
 * minstret in hex (programs.ts).
 */
import type { Engine } from "../src/hart.ts";
import { Machine } from "../src/machine.ts";
import type { PerfProgram } from "./programs.ts";

export interface GuestEnd {
  /** The checksum the program printed (eight hex digits). */
  checksum: string;
  /** minstret when the program's final ecall trapped. */
  instret: number;
}

const END_LINE = /^([0-9a-f]{8}) ([0-9a-f]{8})\n$/;

/** The end line of a perf program's console output, or undefined when the output is anything else. */
export function parseEnd(output: string): GuestEnd | undefined {
  const m = END_LINE.exec(output.replace(/\r\n/g, "\n"));
  return m ? { checksum: m[1], instret: Number.parseInt(m[2], 16) } : undefined;
}

export interface MachineRun extends GuestEnd {
  /** Instructions retired from the entry point to the power-off. */
  instructions: number;
  machine: Machine;
}

/** Runs `program` with `iterations` to its power-off; throws a one-line error when it ends any other way. */
export function runToExit(program: PerfProgram, iterations: number, engine: Engine = "interp"): MachineRun {
  const machine = new Machine({ engine });
  machine.load(program.build(iterations));
  // Generous: the longest loop iteration is a few thousand instructions.
  const budget = 10_000 * iterations + 1_000_000;
  const r = machine.run({ maxInstructions: budget });
  const end = parseEnd(machine.output);
  if (r.reason !== "exit" || r.exitCode !== 0 || !end) {
    throw new Error(
      `${program.id} (${iterations} iterations, ${engine}): ended with ${r.reason}` +
        `${r.reason === "exit" ? ` code ${r.exitCode}` : ""} after ${r.instructions} instructions, ` +
        `console ${JSON.stringify(machine.output)}`,
    );
  }
  return { ...end, instructions: r.instructions, machine };
}

/**
 * Instructions per loop iteration, counted on this machine: the difference
 * between runs of 1 and 2 iterations, checked against a run of 3 (the count
 * must be linear in the iteration count, or extrapolating it would be wrong).
 */
export function instructionCount(program: PerfProgram): { base: number; perIteration: number } {
  const [one, two, three] = [1, 2, 3].map((n) => runToExit(program, n).instructions);
  const perIteration = two - one;
  if (three - two !== perIteration) {
    throw new Error(`${program.id}: instruction count not linear in iterations (${one}, ${two}, ${three})`);
  }
  return { base: one - perIteration, perIteration };
}
