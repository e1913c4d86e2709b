/**
 * The data dictionary describes every column a real results file has: each
 * fixed column by name, each grouped column and counter by its prefix, with
 * a unit and, for counters, a source.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { columnDoc, columnsMarkdown, counterDoc } from "../src/columns.ts";
import { columnsOf, type ResultsFile } from "../src/results.ts";

const REFERENCE = fileURLToPath(new URL("../../../reference/quick/results.json", import.meta.url));

describe("columns.md", () => {
  const file = JSON.parse(readFileSync(REFERENCE, "utf8")) as ResultsFile;
  const columns = columnsOf(file.rows);

  it("knows every column of the reference results, counters with their source", () => {
    expect(columns).toContain("commit");
    expect(columns).toContain("date");
    for (const c of columns) {
      const d = columnDoc(c, { processes: "processes in the ring" });
      expect(d.meaning, c).not.toMatch(/does not know/);
      if (c.startsWith("counters.")) {
        expect(d.source, c).toBeTruthy();
        expect(d.unit, c).toBeTruthy();
      }
    }
    expect(columnDoc("param.processes", { processes: "processes in the ring" }).meaning).toContain(
      "processes in the ring",
    );
  });

  it("finds a counter added later by its prefix", () => {
    expect(counterDoc("hv.shadow.some_new_counter").source).toContain("paging strategy");
    expect(counterDoc("tlb.dtlb.hits").source).toContain("TLB model");
    expect(counterDoc("nothing.like.it").meaning).toMatch(/does not know/);
  });

  it("has one table row per column, in CSV order, and says where the results came from", () => {
    const md = columnsMarkdown(columns, { ...file.metadata, commit: "abc", commitDirty: true });
    const rows = md.split("\n").filter((l) => l.startsWith("| `"));
    expect(rows.map((l) => l.slice(3, l.indexOf("`", 3)))).toEqual(columns);
    expect(md).toContain("commit `abc` with uncommitted source changes");
  });
});
