/**
 * `npm run linux:measure`'s command line: jobs with numeric parameters, and
 * `--engine jit|interp` (default jit); a mistake is one line naming it.
 */
import { describe, expect, it } from "vitest";
import { MeasureArgsError, parseMeasureArgs } from "../linux/measure-args.ts";

const problem = (argv: string[]) => {
  try {
    parseMeasureArgs(argv);
  } catch (e) {
    if (e instanceof MeasureArgsError) return e.message;
    throw e;
  }
  return "";
};

describe("linux:measure arguments", () => {
  it("jit by default, no jobs when none are named", () => {
    expect(parseMeasureArgs([])).toEqual({ engine: "jit", jobs: [] });
  });

  it("--engine interp in either spelling, anywhere among the jobs", () => {
    const a = parseMeasureArgs(["lat_ctx", "procs=8", "--engine", "interp", "forkwait", "n=20"]);
    expect(a.engine).toBe("interp");
    expect(a.jobs).toEqual([
      { name: "lat_ctx", params: { procs: 8 } },
      { name: "forkwait", params: { n: 20 } },
    ]);
    expect(parseMeasureArgs(["--engine=interp"]).engine).toBe("interp");
    expect(parseMeasureArgs(["--engine=jit"]).engine).toBe("jit");
  });

  it("a bad engine, a missing value, an unknown option or a stray parameter is one line", () => {
    expect(problem(["--engine", "fast"])).toBe('--engine must be one of: jit, interp (got "fast")');
    expect(problem(["--engine"])).toMatch(/^--engine needs a value/);
    expect(problem(["--speed"])).toMatch(/^unknown option --speed/);
    expect(problem(["procs=2"])).toMatch(/^parameter procs=2 before any job/);
    expect(problem(["lat_ctx", "procs=x"])).toMatch(/must be a number/);
    for (const p of [problem(["--engine", "fast"]), problem(["--speed"])]) expect(p).not.toContain("\n");
  });
});
