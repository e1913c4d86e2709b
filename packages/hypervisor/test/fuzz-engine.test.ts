/**
 * The fuzzer's --engine: every run of a comparison (native and under each
 * target) uses the chosen engine, jit unless asked, and the summary names it.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCampaign } from "../src/fuzz/campaign.ts";
import { main } from "../src/fuzz/cli.ts";
import { allTargets, FUZZ_BUDGET, runNative, runTarget } from "../src/fuzz/differential.ts";
import { generate } from "../src/fuzz/generate.ts";
import { assembleGuest } from "../src/fuzz/image.ts";

afterEach(() => vi.restoreAllMocks());

/** Runs the fuzz CLI, capturing what it writes. */
async function fuzz(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  vi.spyOn(process.stdout, "write").mockImplementation((t) => {
    stdout += String(t);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((t) => {
    stderr += String(t);
    return true;
  });
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, stdout, errLines: stderr.split("\n").filter(Boolean) };
}

describe("the fuzzer's engine", () => {
  const p = generate(3);
  const { image } = assembleGuest(p);

  it("runs native and every target on the engine asked for, jit by default", () => {
    expect(runNative(p, image).engine).toBe("jit");
    const native = runNative(p, image, FUZZ_BUDGET, "interp");
    expect(native.engine).toBe("interp");
    for (const t of allTargets()) {
      const { obs } = runTarget(p, image, t, FUZZ_BUDGET, "interp");
      expect(obs.engine).toBe("interp");
      expect(obs.output).toBe(native.output);
    }
  });

  it("a campaign on interp compares every pair on interp and finds them equal", () => {
    const r = runCampaign({ seed: 5, count: 2, targets: allTargets(), engine: "interp", shrinkBudget: 0 });
    expect(r.engine).toBe("interp");
    expect(r.failures).toEqual([]);
    expect(r.runs).toBe(2 * allTargets().length);
    expect(runCampaign({ seed: 5, count: 1, targets: [], shrinkBudget: 0 }).engine).toBe("jit");
  });

  it("--engine on the command line names the engine in the summary; a bad value is one line, exit 2", async () => {
    const ok = await fuzz("--count", "1", "--seed", "9", "--modes", "trap", "--engine", "interp");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/\(engine interp\)/);
    const byDefault = await fuzz("--count", "1", "--seed", "9", "--modes", "trap");
    expect(byDefault.stdout).toMatch(/\(engine jit\)/);
    const bad = await fuzz("--count", "1", "--engine", "quick");
    expect(bad.code).toBe(2);
    expect(bad.errLines).toHaveLength(1);
    expect(bad.errLines[0]).toMatch(/--engine.*quick.*jit, interp/);
  });

  it("--compare-engines runs each guest on both engines natively and under every target, and counts the comparisons", async () => {
    const targets = allTargets();
    const r = runCampaign({ seed: 40, count: 3, targets, compareEngines: true, shrinkBudget: 0 });
    expect(r.engineRuns).toBe(3 * (1 + targets.length));
    expect(r.engineDifferences).toBe(0);
    expect(r.failures).toEqual([]);
    expect(runCampaign({ seed: 40, count: 1, targets, shrinkBudget: 0 }).engineRuns).toBe(0);
    const cli = await fuzz("--count", "2", "--seed", "40", "--modes", "hw", "--compare-engines");
    expect(cli.code).toBe(0);
    const hw = allTargets(["hw"]).length;
    expect(cli.stdout).toContain(`0/${2 * (1 + hw)} engine comparisons differ`);
  });
});
