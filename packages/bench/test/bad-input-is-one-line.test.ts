/**
 * What a user can hand the bench by mistake is one message naming the file
 * (or the row), never a loader's error code or a TypeError: a directory, an
 * ELF or a raw image given as a suite, a suite module that throws, and
 * results files with a duplicate row, a row without `cell`, or null counters.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../src/cli.ts";
import { RESULTS_FORMAT, readResults } from "../src/results.ts";
import { recostResults } from "../src/runner.ts";
import { loadSuite, SuiteNotFound } from "../src/suites.ts";

const work = mkdtempSync(join(tmpdir(), "shadowlab-bad-input-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function loadError(ref: string): Promise<string> {
  try {
    await loadSuite(ref);
  } catch (e) {
    expect(e).toBeInstanceOf(SuiteNotFound);
    return (e as Error).message;
  }
  throw new Error(`${ref} was accepted as a suite`);
}

describe("a suite reference that is not a suite", () => {
  it("names a directory", async () => {
    const dir = join(work, "a-dir");
    mkdirSync(dir);
    expect(await loadError(dir)).toBe(
      `${dir}: a directory, not a suite (a suite is a built-in name, a .json file or a .ts/.mts/.js/.mjs module)`,
    );
  });

  it("names an ELF or a raw image and points at the command that runs one", async () => {
    for (const name of ["prog.elf", "prog.bin"]) {
      const path = join(work, name);
      writeFileSync(path, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]));
      const message = await loadError(path);
      expect(message).toMatch(new RegExp(`^${path}: not a suite file \\(`));
      expect(message).toContain("shadowlab run <image> --strategy <name>");
      expect(message).not.toContain("\n");
    }
  });

  it("names a suite module that throws, with the first line of what it threw", async () => {
    const path = join(work, "throws.mjs");
    writeFileSync(path, 'throw new TypeError("no suite here\\nsecond line");\n');
    expect(await loadError(path)).toBe(`${path}: the suite module failed to load: TypeError: no suite here`);
    const fn = join(work, "throws-later.ts");
    writeFileSync(fn, 'export default () => { throw new Error("grid too big"); };\n');
    expect(await loadError(fn)).toBe(`${fn}: the suite module failed to load: grid too big`);
  });

  it("is one line on stderr and exit code 2 from the CLI", async () => {
    const err: string[] = [];
    const code = await main(["bench", "run", join(work, "prog.elf")], {
      write: () => {},
      err: (t) => err.push(t),
    });
    expect(code).toBe(2);
    expect(err.join("").trim().split("\n")).toHaveLength(1);
  });
});

/** A minimal valid results file whose rows a test then breaks. */
function resultsDir(name: string, rows: unknown[]): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const metadata = { format: RESULTS_FORMAT, suite: "s", selection: { filter: "", shard: "" } };
  writeFileSync(join(dir, "results.json"), JSON.stringify({ metadata, rows }));
  return dir;
}

const row = (cell: string, index: number) => ({
  cell,
  index,
  status: "ok",
  roi_instructions: 10,
  counters: { "instructions.total": 10 },
  events: { instruction: 10 },
  native_events: { instruction: 10 },
  cycles: { instruction: 10 },
});

describe("a results file that cannot be trusted", () => {
  it("names a duplicate row", () => {
    const dir = resultsDir("dup", [row("a", 0), row("b", 1), row("a", 2)]);
    expect(() => readResults(dir)).toThrow(
      `${join(dir, "results.json")}: row 3 (cell a) repeats row 1: a cell may appear once`,
    );
  });

  it("names a row without a cell", () => {
    const { cell: _, ...noCell } = row("a", 0);
    const dir = resultsDir("nocell", [row("b", 1), noCell]);
    expect(() => readResults(dir)).toThrow(
      `${join(dir, "results.json")}: row 2 has no "cell" (got undefined)`,
    );
  });

  it("names a row with null counters, and recost says so instead of a TypeError", () => {
    const dir = resultsDir("nullcounters", [row("a", 0), { ...row("b", 1), counters: null }]);
    const message = `${join(dir, "results.json")}: row 2 (cell b) "counters" is null, not an object of numbers`;
    expect(() => readResults(dir)).toThrow(message);
    expect(() => recostResults(dir, "vtx-2006")).toThrow(message);
  });

  it("names a counter that is not a number", () => {
    const dir = resultsDir("textcounter", [{ ...row("a", 0), events: { instruction: "many" } }]);
    expect(() => readResults(dir)).toThrow('row 1 (cell a) "events.instruction" is "many", not a number');
  });
});
