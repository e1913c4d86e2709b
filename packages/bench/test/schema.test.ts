/**
 * Broken suites: every problem is reported at once, each naming its field
 * path and what is allowed.
 */

import { allowedRange, describeParams, findWorkload } from "@shadowlab/workloads";
import { describe, expect, it } from "vitest";
import { expandCells, SuiteError, validateSuite } from "../src/suite.ts";
import { BUILTIN_SUITES } from "../src/suites.ts";

/** "an integer from 1 to N", as the workload's schema states it today. */
function range(workload: string, param: string): string {
  const info = describeParams(findWorkload(workload)!).find((p) => p.name === param)!;
  return allowedRange(info);
}

function problems(raw: unknown): string[] {
  try {
    validateSuite(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(SuiteError);
    return (e as SuiteError).problems;
  }
  throw new Error("the suite was accepted");
}

describe("suite validation", () => {
  it("names unknown and missing top-level fields, with the allowed ones", () => {
    expect(problems({ name: "a", workload: [] })).toEqual([
      "workload: unknown field (allowed: name, description, workloads, strategies, machines, modes, engines, profile, repetitions, warmup, maxInstructions)",
      "workloads: is required (a list)",
    ]);
  });

  it("names an unknown workload and lists the workloads", () => {
    const [p] = problems({ name: "b", workloads: [{ workload: "ctxswitchh" }] });
    expect(p).toMatch(
      /^workloads\[0\]\.workload: unknown workload "ctxswitchh" \(workloads: ctxswitch, forkwait, /,
    );
  });

  it("checks every value of a parameter grid against the workload's own bounds", () => {
    expect(
      problems({
        name: "c",
        workloads: [
          { workload: "ctxswitch", params: { processes: [2, 1000], procs: 3 } },
          { workload: "nano", params: { variant: "pgfault", iterations: 5000 } },
          { workload: "syscall", params: [{ iterations: "many" }, 7] },
        ],
      }),
    ).toEqual([
      `workloads[0].params.processes[1]: must be ${range("ctxswitch", "processes")} (got 1000)`,
      "workloads[0].params.procs: unknown parameter of ctxswitch (parameters: processes, pages, rounds, asid)",
      'workloads[1].params.iterations: must be at most 4096 for variant pgfault (got 5000 with {"variant":"pgfault","iterations":5000})',
      'workloads[2].params[0].iterations: must be an integer from 1 to 100000000 (got "many")',
      "workloads[2].params[1]: must be an object (got 7)",
    ]);
  });

  it("checks strategies, machines, profile and run settings, all at once", () => {
    const p = problems({
      name: "d",
      workloads: [{ workload: "syscall" }],
      strategies: ["agile", "shadow-*"],
      machines: { tlbEntries: [48, 64], ramMib: 16 },
      profile: "pentium",
      repetitions: 0,
    });
    expect(p).toHaveLength(5);
    expect(p[0]).toBe("machines.ramMib: must be at least 32 (got 16)");
    expect(p[1]).toBe("machines.tlbEntries[0]: must be a power of two from 1 to 65536 (got 48)");
    expect(p[2]).toBe('profile: unknown cost profile "pentium" (profiles: recent-core, vtx-2006)');
    expect(p[3]).toBe("repetitions: must be at least 1 (got 0)");
    expect(p[4]).toMatch(
      /^strategies\[0\]: "agile" matches no strategy \(strategies: native, shadow-ondemand, .*; patterns may use \*\)$/,
    );
  });

  it("knows which strategies run in which execution modes", () => {
    // nested needs the hardware G-stage: named in a trap-only suite it is a problem, "all" leaves it out.
    expect(problems({ name: "m", workloads: [{ workload: "syscall" }], strategies: ["nested"] })).toEqual([
      "strategies[0]: nested runs in no mode of the suite (it runs in: hw; modes: trap)",
    ]);
    const trapOnly = validateSuite({ name: "m", workloads: [{ workload: "syscall" }] });
    expect(trapOnly.modes).toEqual(["trap"]);
    expect(trapOnly.strategies).not.toContain("nested");
    const both = validateSuite({ name: "m", workloads: [{ workload: "syscall" }], modes: ["trap", "hw"] });
    expect(both.strategies).toContain("nested");
    const cells = expandCells(both);
    expect(cells.filter((c) => c.strategy === "nested").map((c) => c.mode)).toEqual(["hw"]);
    expect(cells.filter((c) => c.strategy === "native")).toHaveLength(1);
    expect(
      cells.filter((c) => c.strategy === "shadow-ondemand").map((c) => [c.mode, c.id.endsWith("@hw")]),
    ).toEqual([
      ["trap", false],
      ["hw", true],
    ]);
    expect(problems({ name: "m", workloads: [{ workload: "syscall" }], modes: ["vm"] })[0]).toMatch(
      /^modes\[0\]: /,
    );
  });

  it("checks names, lists, unions and TLB shapes", () => {
    expect(
      problems({
        name: "Bad Name",
        workloads: [],
        machines: [{ tlbEntries: 8, tlbWays: 16 }, { tlbSize: 8 }],
        strategies: "some",
      }),
    ).toEqual([
      "machines[0].tlbWays: must be a power of two from 1 to tlbEntries (8) (got 16)",
      "machines[1].tlbSize: unknown field (allowed: tlbEntries, tlbWays, tlbReplacement, tlbSeed, asidTags, splitTlb, instructionsPerTick, ramMib)",
      "name: must be lower-case letters, digits, '.', '_' or '-' (it names the results directory) (got \"Bad Name\")",
      'strategies: must be "all" or a non-empty list of strategy names or patterns (got "some")',
      "workloads: must not be empty",
    ]);
    expect(problems("x")).toEqual(['(suite): must be an object (got "x")']);
  });

  it("says how many problems, one per line, in the error message", () => {
    expect(() => validateSuite({ name: "e", workloads: [{ workload: "nope" }], repetitions: -1 })).toThrow(
      /^suite "e": 2 problems\n {2}repetitions: must be at least 1 \(got -1\)\n {2}workloads\[0\]\.workload: unknown workload "nope"/,
    );
  });

  it("accepts every built-in suite and fills in the defaults", () => {
    for (const [name, make] of BUILTIN_SUITES) {
      const s = validateSuite(make());
      expect(s.name).toBe(name);
      expect(expandCells(s).length).toBeGreaterThan(0);
      expect(s.strategies[0]).toBe("native");
    }
  });
});
