/**
 * The engine axis of suites: `engines` (default ["jit"]) multiplies the
 * cells, each engine with its own native baseline; the engine reaches every
 * cell's machine and the `engine` column; suites that name no engine keep
 * their cell ids and hash (stored results resume); rows written before the
 * column existed read as interp, the only engine there was then.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getWorkload, type Params } from "@shadowlab/workloads";
import { afterAll, describe, expect, it } from "vitest";
import { emptyRow, runGroup } from "../src/cell.ts";
import { main } from "../src/cli.ts";
import {
  columnsOf,
  RESULTS_FORMAT,
  type ResultRow,
  ResultsReadError,
  readResults,
  toCsv,
} from "../src/results.ts";
import { buildRig, cellMachine, machineConfig } from "../src/sample.ts";
import { applyFilter, parseFilter } from "../src/select.ts";
import {
  type Cell,
  expandCells,
  type Suite,
  SuiteError,
  type SuiteInput,
  suiteHash,
  validateSuite,
} from "../src/suite.ts";
import { quickSuite } from "../src/suites.ts";

const work = mkdtempSync(join(tmpdir(), "shadowlab-engines-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SMALL: SuiteInput = {
  name: "engines",
  workloads: [{ workload: "syscall", params: { iterations: 10 } }],
  strategies: ["native", "shadow-ondemand", "nested"],
  modes: ["trap", "hw"],
  repetitions: 1,
  warmup: 0,
};

function problems(raw: unknown): string[] {
  try {
    validateSuite(raw);
  } catch (e) {
    if (e instanceof SuiteError) return e.problems;
    throw e;
  }
  return [];
}

describe("the engines field of a suite", () => {
  it("is jit when not named: no cell id or suite hash changes, so stored results resume", () => {
    const suite = validateSuite(quickSuite());
    expect(suite.engines).toEqual(["jit"]);
    const cells = expandCells(suite);
    expect(new Set(cells.map((c) => c.engine))).toEqual(new Set(["jit"]));
    expect(cells.filter((c) => c.id.includes("~"))).toEqual([]);
    // A definition stored before engines existed has no engines field: same hash, same ids.
    const { engines: _engines, ...stored } = suite;
    expect(suiteHash(stored as Suite)).toBe(suiteHash(suite));
    expect(expandCells(stored as Suite).map((c) => c.id)).toEqual(cells.map((c) => c.id));
    expect(suiteHash(validateSuite({ ...quickSuite(), engines: ["jit"] }))).toBe(suiteHash(suite));
  });

  it("with both engines, every cell runs on each, with distinct ids and one native baseline per engine", () => {
    const one = expandCells(validateSuite(SMALL));
    const both = validateSuite({ ...SMALL, engines: ["interp", "jit"] });
    expect(both.engines).toEqual(["jit", "interp"]);
    expect(suiteHash(both)).not.toBe(suiteHash(validateSuite(SMALL)));
    const cells = expandCells(both);
    expect(cells).toHaveLength(2 * one.length);
    expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
    const jit = cells.filter((c) => c.engine === "jit");
    const interp = cells.filter((c) => c.engine === "interp");
    // The jit cells are the single-engine suite's cells, ids unchanged; interp ids say so.
    expect(jit.map((c) => c.id)).toEqual(one.map((c) => c.id));
    expect(interp.map((c) => c.id)).toEqual(one.map((c) => `${c.id}~interp`));
    expect(interp.map((c) => c.id)).toContain(
      "syscall/asid=false,iterations=10/tlb64w64-lru-asid-ipt10-ram32/shadow-ondemand@hw~interp",
    );
    // Each engine's cells share a baseline group with one native cell of that engine.
    for (const group of new Set(cells.map((c) => c.group))) {
      const members = cells.filter((c) => c.group === group);
      expect(new Set(members.map((c) => c.engine)).size).toBe(1);
      expect(members.filter((c) => c.strategy === "native")).toHaveLength(1);
    }
    expect(new Set(cells.map((c) => c.group)).size).toBe(2);
  });

  it("a bad value is a problem naming the field", () => {
    const base = { name: "e", workloads: [{ workload: "syscall" }] };
    expect(problems({ ...base, engines: ["fast"] })).toEqual([
      'engines[0]: must be one of "jit", "interp" (got "fast")',
    ]);
    expect(problems({ ...base, engines: [] })).toEqual(["engines: must not be empty"]);
    expect(problems({ ...base, engines: "jit" })).toEqual(['engines: must be a list (got "jit")']);
  });

  it("--filter engine=interp picks one engine's cells", () => {
    const cells = expandCells(validateSuite({ ...SMALL, engines: ["jit", "interp"] }));
    const picked = applyFilter(cells, parseFilter("engine=interp"));
    expect(picked.length).toBe(cells.length / 2);
    expect(picked.every((c) => c.engine === "interp")).toBe(true);
  });
});

describe("a cell's engine", () => {
  const cells = expandCells(validateSuite({ ...SMALL, engines: ["jit", "interp"] }));
  const w = getWorkload("syscall");
  const image = w.build(w.schema.parse({ iterations: 10 }) as Params);

  it("reaches the machine natively and under the hypervisor in both modes", () => {
    for (const cell of cells) {
      expect(machineConfig(cellMachine(cell)).engine).toBe(cell.engine);
      const mode = cell.mode === "native" ? "trap" : cell.mode;
      const rig = buildRig(image, cellMachine(cell), cell.strategy, mode);
      expect(rig.machine.hart.config.engine, cell.id).toBe(cell.engine);
    }
  });

  it("is the row's engine column; both engines count the same", async () => {
    const suite = validateSuite({ ...SMALL, engines: ["jit", "interp"] });
    const rows: ResultRow[] = [];
    const groups = new Map<string, Cell[]>();
    for (const c of expandCells(suite)) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
    for (const group of groups.values()) await runGroup({ suite, cells: group }, (r) => rows.push(r));
    expect(rows).toHaveLength(cells.length);
    for (const r of rows) {
      expect(r.status, `${r.cell}: ${r.error}`).toBe("ok");
      expect(r.engine).toBe(r.cell.endsWith("~interp") ? "interp" : "jit");
    }
    const byId = new Map(rows.map((r) => [r.cell, r]));
    for (const r of rows.filter((x) => x.engine === "interp")) {
      const jit = byId.get(r.cell.slice(0, -"~interp".length));
      expect(jit?.engine).toBe("jit");
      expect(r.counters).toEqual(jit?.counters);
      expect(r.slowdown).toBe(jit?.slowdown);
    }
    const csv = toCsv(rows).split("\n")[0].split(",");
    expect(csv.indexOf("engine")).toBe(csv.indexOf("mode") + 1);
  });
});

describe("stored rows", () => {
  it("rows written before the engine column existed read as interp", () => {
    const [cell] = expandCells(validateSuite(SMALL));
    const { engine: _engine, ...old } = emptyRow(cell, { name: "engines", profile: "vtx-2006" });
    const current = {
      ...emptyRow(cell, { name: "engines", profile: "vtx-2006" }),
      cell: `${cell.id}~x`,
      index: 1,
    };
    const dir = join(work, "old");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "results.json"),
      JSON.stringify({ metadata: { format: RESULTS_FORMAT, updated: "2026-01-01" }, rows: [old, current] }),
    );
    const file = readResults(dir);
    expect(file?.rows.map((r) => r.engine)).toEqual(["interp", "jit"]);
    expect(columnsOf(file?.rows ?? [])).toContain("engine");
  });

  it("a row naming an engine there is not is an error naming the file and the row", () => {
    const [cell] = expandCells(validateSuite(SMALL));
    const dir = join(work, "bad-engine");
    mkdirSync(dir, { recursive: true });
    const row = { ...emptyRow(cell, { name: "engines", profile: "vtx-2006" }), engine: "turbo" };
    writeFileSync(
      join(dir, "results.json"),
      JSON.stringify({ metadata: { format: RESULTS_FORMAT }, rows: [row] }),
    );
    expect(() => readResults(dir)).toThrow(
      new ResultsReadError(
        `${join(dir, "results.json")}: row 1 (cell ${cell.id}) "engine" must be "jit" or "interp" (got "turbo")`,
      ),
    );
  });
});

describe("shadowlab bench --engine", () => {
  async function bench(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["bench", ...args], { write: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, stdout: out.join(""), stderr: err.join("") };
  }
  const path = join(work, "small.json");
  writeFileSync(path, JSON.stringify(SMALL));

  it("overrides the suite's engines", async () => {
    const jit = await bench("cells", path);
    const both = await bench("cells", path, "--engine", "jit,interp");
    const interp = await bench("cells", path, "--engine", "interp");
    const ids = (t: string) =>
      t
        .trim()
        .split("\n")
        .map((l) => l.split("\t")[1]);
    expect(ids(both.stdout)).toHaveLength(2 * ids(jit.stdout).length);
    expect(ids(interp.stdout)).toEqual(ids(jit.stdout).map((id) => `${id}~interp`));
  });

  it("a bad value is one line naming --engine and the engines, exit code 2", async () => {
    const r = await bench("run", path, "--engine", "jit,fast");
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--engine.*jit, interp.*"jit,fast"/);
  });
});
