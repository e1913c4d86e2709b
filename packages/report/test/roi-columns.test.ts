/**
 * Results with regions of interest: the report reads roi_instructions, ops,
 * cycles_per_op, the run. columns and the noisy flag; the nano chart takes
 * its cycles per operation from the region when the rows have one.
 */
import { describe, expect, it } from "vitest";
import { labeler, nanoPoints } from "../src/derive.ts";
import { renderHtml } from "../src/html.ts";
import { readResults } from "../src/results.ts";
import { buildCharts } from "../src/specs.ts";
import { fixtureCopy } from "./support/fixture.ts";

// biome-ignore lint/suspicious/noExplicitAny: plain JSON rows
type Row = Record<string, any>;

/** The fixture's nano rows given a region: 1000 operations at (row index + 7) cycles each; one row noisy. */
function withRegions(): string {
  return fixtureCopy((json) => {
    for (const r of json.rows as Row[]) {
      r.roi_instructions = 5_000 + r.index;
      r.run = { instructions: 9_000 + r.index, slowdown: 2.5 };
      if (r.workload === "nano") {
        r.ops = 1000;
        r.cycles_per_op = r.index + 7;
      }
    }
    (json.rows as Row[])[0].wall_noisy = true;
    (json.rows as Row[])[0].wall_min_ms = 0.25;
  });
}

describe("region-of-interest columns", () => {
  it("reads them into every cell", () => {
    const results = readResults(withRegions());
    const r0 = results.rows[0];
    expect(r0.instructions).toBe(5_000);
    expect(r0.run).toMatchObject({ instructions: 9_000, slowdown: 2.5 });
    expect(r0.wall.noisy).toBe(true);
    expect(r0.wall.minMs).toBe(0.25);
    expect(results.rows[1].wall.noisy).toBe(false);
  });

  it("the page flags the noisy cell and names it", () => {
    const results = readResults(withRegions());
    const html = renderHtml(results, buildCharts(results));
    expect(html).toContain("1 cell with a wall-clock margin of error above 10 % of the mean");
    expect(html.match(/>noisy</g)?.length).toBe(2); // the note and the cell's badge
  });

  it("the nano chart shows the region's cycles per operation", () => {
    const results = readResults(withRegions());
    const points = nanoPoints(results, labeler(results));
    expect(points.length).toBeGreaterThan(0);
    for (const p of points) {
      expect(p.method).toBe("roi");
      const rows = results.rows.filter(
        (r) => r.workload === "nano" && r.param.variant === p.variant && r.strategy === p.strategy,
      );
      // Of several runs of one operation the chart keeps one region: one of theirs.
      expect(rows.map((r) => r.cyclesPerOp)).toContain(p.cyclesPerOp);
    }
    const nano = buildCharts(results).find((c) => c.name === "nano");
    expect(JSON.stringify(nano?.spec)).toContain("region of interest");
  });

  it("older results without a region keep the two-count difference", () => {
    const results = readResults(fixtureCopy());
    expect(nanoPoints(results, labeler(results)).every((p) => p.method === "difference")).toBe(true);
  });
});
