/** A results file with a cell twice is an error naming the file and the row, not a report with a cell counted twice. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readResults } from "../src/results.ts";
import { fixtureCopy } from "./support/fixture.ts";

describe("a duplicate row", () => {
  it("is an error naming the file, the row and the cell", () => {
    let cell = "";
    let count = 0;
    const dir = fixtureCopy((json) => {
      cell = json.rows[2].cell as string;
      json.rows.push({ ...json.rows[2] });
      count = json.rows.length;
    });
    expect(() => readResults(dir)).toThrow(
      `${join(dir, "results.json")}: 1 malformed row\n  row ${count} (cell "${cell}"): repeats row 3; a cell may appear once`,
    );
  });
});
