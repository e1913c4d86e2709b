import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli.ts";
import { buildReport } from "../src/report.ts";
import { ResultsError, readResults } from "../src/results.ts";
import { buildCharts } from "../src/specs.ts";
import { FIXTURE, fixtureCopy, REAL_QUICK } from "./support/fixture.ts";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { write: (t: string) => out.push(t), err: (l: string) => err.push(l) } };
}

function csvOnly(edit?: (csv: string) => string): string {
  const dir = fixtureCopy();
  rmSync(join(dir, "results.json"));
  if (edit) writeFileSync(join(dir, "results.csv"), edit(readFileSync(join(dir, "results.csv"), "utf8")));
  return dir;
}

describe("reading results", () => {
  it("reads the CSV alone to the same cells as the JSON", () => {
    const a = readResults(FIXTURE);
    const b = readResults(csvOnly());
    expect(b.rows).toEqual(a.rows);
    expect(b.suite).toBe("fixture");
    expect(b.warnings.join()).toMatch(/without the run's metadata/);
  });

  it("discovers counters, event classes and strategies by name, so new ones need no change", () => {
    const dir = fixtureCopy((j) => {
      for (const r of j.rows as Record<string, Record<string, number> & string>[]) {
        if (r.strategy !== "shadow-tagged") continue;
        (r as Record<string, unknown>).strategy = "nested";
        (r as Record<string, unknown>).cell = String(r.cell).replace("shadow-tagged", "nested");
        r.cycles.nested_walk = 12_345;
        r.counters["hv.exit.npt_violation"] = 7;
      }
    });
    const res = readResults(dir);
    expect(res.strategies).toEqual([
      "native",
      "nested",
      "shadow-ondemand",
      "shadow-proactive",
      "shadow-tagged",
    ]);
    expect(res.eventClasses.at(-1)).toBe("nested_walk");
    const charts = buildCharts(res);
    const cycles = charts.find((c) => c.name === "cycles")!;
    expect(
      (cycles.spec.data as { values: { class: string }[] }).values.some((v) => v.class === "nested_walk"),
    ).toBe(true);
    const exits = charts.find((c) => c.name === "exits")!;
    expect(
      (exits.spec.data as { values: { reason: string }[] }).values.some((v) => v.reason === "npt_violation"),
    ).toBe(true);
  });

  it("a failed cell still gives a report, with the cell called out", async () => {
    const s = await buildReport(fixtureCopy());
    expect(s.failed).toBe(1);
    const html = readFileSync(s.html, "utf8");
    expect(html).toContain("Failed cells (1)");
    expect(html).toContain(
      "ctxswitch/pages=2,processes=8,rounds=5/tlb64w64-lru-asid-ipt10-ram32/shadow-proactive",
    );
    expect(html).toContain("output-mismatch");
    expect(html).toContain("-checksum 0x1f2e3d4c");
    expect(html).toMatch(/<tr class="failed"/);
  });

  it("a suite whose every cell failed still gives a report that says so", async () => {
    const dir = fixtureCopy((j) => {
      for (const r of j.rows)
        Object.assign(r, { status: "failed", failure: "crash", error: "Error: boom\n    at somewhere" });
    });
    const s = await buildReport(dir);
    expect(s.failed).toBe(40);
    expect(s.charts).toHaveLength(0);
    const html = readFileSync(s.html, "utf8");
    expect(html).toContain("every cell failed (40)");
    expect(html).toContain("No chart could be drawn");
  });

  it("an empty suite is an error that says there are no cells", () => {
    const dir = fixtureCopy((j) => {
      j.rows = [];
    });
    expect(() => readResults(dir)).toThrow(ResultsError);
    expect(() => readResults(dir)).toThrow(/results\.json: the suite has no cells \(0 rows\)/);
    const empty = csvOnly(() => "");
    expect(() => readResults(empty)).toThrow(/results\.csv: the suite has no cells/);
  });

  it("a malformed CSV is an error naming the file and the line", () => {
    const dir = csvOnly((csv) => {
      const lines = csv.split("\n");
      lines[5] = `${lines[5]},"unclosed`;
      return lines.join("\n");
    });
    expect(() => readResults(dir)).toThrow(/results\.csv: malformed CSV: .*line/);
    const short = csvOnly((csv) => {
      const lines = csv.split("\n");
      lines[3] = lines[3].split(",").slice(0, 10).join(",");
      return lines.join("\n");
    });
    expect(() => readResults(short)).toThrow(/results\.csv: malformed CSV: line 4/);
    const notOurs = csvOnly(() => "a,b,c\n1,2,3\n");
    expect(() => readResults(notOurs)).toThrow(/the header has no "workload" or "strategy" column/);
  });

  it("a malformed value is an error naming the row, the cell and the column", () => {
    const dir = csvOnly((csv) => csv.replace(/,(\d+\.\d+),/, ",fast,"));
    expect(() => readResults(dir)).toThrow(
      /row \d+ \(cell "[^"]+"\): column "\w+" must be a number \(got "fast"\)/,
    );
    const counter = fixtureCopy((j) => {
      (j.rows[2] as { counters: Record<string, unknown> }).counters["tlb.tlb.hits"] = "many";
    });
    expect(() => readResults(counter)).toThrow(/row 3 .*column "counters\.tlb\.tlb\.hits" must be a number/);
    const noStrategy = fixtureCopy((j) => {
      delete j.rows[0].strategy;
    });
    expect(() => readResults(noStrategy)).toThrow(/row 1 .*column "strategy" is required/);
  });

  it("malformed JSON is an error; a malformed CSV beside a good JSON is a warning", () => {
    const dir = fixtureCopy();
    writeFileSync(join(dir, "results.json"), '{"metadata": {}, "rows": [');
    expect(() => readResults(dir)).toThrow(/results\.json: malformed JSON/);
    writeFileSync(join(dir, "results.json"), '{"metadata": {}, "rows": 3}');
    expect(() => readResults(dir)).toThrow(
      /results\.json: not a shadowlab results file: rows must be a list of rows/,
    );
    const both = fixtureCopy();
    writeFileSync(join(both, "results.csv"), 'suite,workload,strategy\n"x,y\n');
    const r = readResults(both);
    expect(r.rows).toHaveLength(40);
    expect(r.warnings.join("\n")).toMatch(/results\.csv: malformed CSV.*\(the report uses results\.json\)/);
  });

  it("a directory without results is an error that says what to do", () => {
    const dir = fixtureCopy();
    rmSync(join(dir, "results.json"));
    rmSync(join(dir, "results.csv"));
    expect(() => readResults(dir)).toThrow(
      /no results\.json or results\.csv here \(run `shadowlab bench run <suite>` first/,
    );
  });

  it.skipIf(!existsSync(join(REAL_QUICK, "results.json")))(
    "reads the committed reference/quick (JSON and CSV agree)",
    () => {
      const a = readResults(REAL_QUICK);
      expect(a.rows.length).toBeGreaterThan(0);
      expect(a.strategies[0]).toBe("native");
      expect(a.eventClasses).toContain("exit");
      const csv = fixtureCopy();
      writeFileSync(join(csv, "results.csv"), readFileSync(join(REAL_QUICK, "results.csv")));
      rmSync(join(csv, "results.json"));
      const b = readResults(csv);
      // The CSV lists a counter a row lacks as 0, the JSON leaves it out: compare what both hold.
      expect(b.rows.length).toBe(a.rows.length);
      for (const [i, r] of a.rows.entries()) {
        const { counters: ca, ...ra } = r;
        const { counters: cb, ...rb } = b.rows[i];
        expect(rb).toEqual(ra);
        for (const [k, v] of Object.entries(ca)) expect(cb[k]).toBe(v);
      }
      expect(buildCharts(a).map((c) => c.name)).toContain("slowdown");
    },
  );
});

describe("the command", () => {
  it("writes the report and says where; exits 0", async () => {
    const dir = fixtureCopy();
    const t = io();
    expect(await main([dir, "--no-png"], t.io)).toBe(0);
    expect(t.out.join("")).toMatch(
      /fixture: 40 cells \(1 failed, called out in the report\), 7 charts -> .*report\.html/,
    );
    expect(existsSync(join(dir, "charts", "slowdown.svg"))).toBe(true);
    expect(existsSync(join(dir, "charts", "slowdown.png"))).toBe(false);
  });

  it("reports every suite under a results directory", async () => {
    const parent = fixtureCopy();
    const a = fixtureCopy();
    const { cpSync } = await import("node:fs");
    cpSync(a, join(parent, "one"), { recursive: true });
    cpSync(a, join(parent, "two"), { recursive: true });
    rmSync(join(parent, "results.json"));
    rmSync(join(parent, "results.csv"));
    const t = io();
    expect(await main([parent, "-q", "--no-png", "--no-svg"], t.io)).toBe(0);
    expect(existsSync(join(parent, "one", "report.html"))).toBe(true);
    expect(existsSync(join(parent, "two", "report.html"))).toBe(true);
  });

  it("exits 1 with the reader's message for bad results, 2 for a missing directory or a bad flag", async () => {
    const bad = csvOnly((csv) => `${csv}"unclosed\n`);
    let t = io();
    expect(await main([bad], t.io)).toBe(1);
    expect(t.err.join("\n")).toMatch(/^shadowlab report: .*results\.csv: malformed CSV/);
    t = io();
    expect(await main(["/nonexistent/results/quick"], t.io)).toBe(2);
    expect(t.err.join("\n")).toMatch(/no such directory/);
    t = io();
    expect(await main([FIXTURE, "--scale", "99"], t.io)).toBe(2);
    expect(t.err.join("\n")).toMatch(/--scale must be a number from 0.25 to 8/);
  });
});
