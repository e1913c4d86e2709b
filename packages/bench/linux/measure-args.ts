/**
 * The command line of `npm run linux:measure`: jobs with their parameters
 * (`lat_ctx procs=8 ws=4096 rounds=20 forkwait n=20`) and `--engine jit|interp`
 * (default jit), the engine of every run. A mistake is one line naming it.
 */
import { DEFAULT_HART, ENGINES, type Engine } from "@shadowlab/emu-core";
import type { LinuxJob } from "@shadowlab/workloads";

export class MeasureArgsError extends Error {}

export interface MeasureArgs {
  engine: Engine;
  /** The jobs asked for; empty when none were named (the script's defaults then). */
  jobs: LinuxJob[];
}

function engineOf(text: string | undefined): Engine {
  if (text === undefined || text === "")
    throw new MeasureArgsError(`--engine needs a value (${ENGINES.join(" or ")})`);
  if (!(ENGINES as readonly string[]).includes(text))
    throw new MeasureArgsError(`--engine must be one of: ${ENGINES.join(", ")} (got "${text}")`);
  return text as Engine;
}

export function parseMeasureArgs(argv: readonly string[]): MeasureArgs {
  let engine: Engine = DEFAULT_HART.engine;
  const jobs: LinuxJob[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--engine") engine = engineOf(argv[++i]);
    else if (a.startsWith("--engine=")) engine = engineOf(a.slice("--engine=".length));
    else if (a.startsWith("-"))
      throw new MeasureArgsError(`unknown option ${a} (options: --engine jit|interp)`);
    else if (!a.includes("=")) jobs.push({ name: a as LinuxJob["name"], params: {} });
    else {
      const [k, v] = a.split("=");
      const last = jobs.at(-1);
      if (!last) throw new MeasureArgsError(`parameter ${a} before any job`);
      if (v === "" || !Number.isFinite(Number(v)))
        throw new MeasureArgsError(`parameter ${a}: the value must be a number`);
      last.params[k] = Number(v);
    }
  }
  return { engine, jobs };
}
