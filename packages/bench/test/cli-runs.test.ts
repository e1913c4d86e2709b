/**
 * End-to-end runs of the `shadowlab` bin on tiny suites, in child processes:
 * determinism (two runs, 1 vs 2 workers), a run killed with SIGKILL and
 * resumed, two shards merged, recost, filters, and cells that fail alone.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODELED_COLUMNS, type ResultsFile } from "../src/results.ts";

const BIN = fileURLToPath(new URL("../bin/shadowlab.mjs", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "shadowlab-bench-test-"));

const TINY = {
  name: "tiny",
  description: "3 groups x every strategy, one timed sample each",
  workloads: [
    { workload: "syscall", params: { iterations: [10, 30] } },
    { workload: "compute", params: { iterations: 100 } },
  ],
  strategies: "all",
  repetitions: 1,
  warmup: 0,
};
const tinyPath = join(work, "tiny.json");
writeFileSync(tinyPath, JSON.stringify(TINY));

function shadowlab(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const readJson = (dir: string): ResultsFile =>
  JSON.parse(readFileSync(join(work, dir, "results.json"), "utf8"));
const readCsv = (dir: string): Record<string, string>[] =>
  parse(readFileSync(join(work, dir, "results.csv"), "utf8"), { columns: true });

/** The deterministic part of CSV rows: counters and event counts, by cell. */
function counterColumns(rows: Record<string, string>[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const r of rows)
    out[r.cell] = Object.fromEntries(
      Object.entries(r).filter(
        ([k]) =>
          k.startsWith("counters.") ||
          k.startsWith("events.") ||
          k.startsWith("native_events.") ||
          k.startsWith("run.") ||
          [
            "status",
            "failure",
            "exit_reason",
            "exit_code",
            "roi_instructions",
            "ops",
            "output_sha256",
            "output_equal",
          ].includes(k),
      ),
    );
  return out;
}

/** Everything but the host's wall-clock measurements and when each row was measured, from the JSON rows. */
function deterministic(file: ResultsFile) {
  return file.rows.map(
    ({
      wall_mean_ms,
      wall_p50_ms,
      wall_min_ms,
      wall_p99_ms,
      wall_rme_pct,
      wall_noisy,
      wall_samples,
      wall_raw_ms,
      host_mips,
      date,
      ...rest
    }) => rest,
  );
}

let reference: ResultsFile;

beforeAll(() => {
  const r = shadowlab("bench", "run", tinyPath, "--jobs", "1", "--out", "ref");
  expect(r.stderr).toContain("12/12 cells done, 0 failed");
  expect(r.code).toBe(0);
  reference = readJson("ref");
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("shadowlab bench run", () => {
  it("writes one row per cell with metadata, in suite order", () => {
    expect(reference.rows.map((r) => r.index)).toEqual([...Array(12).keys()]);
    expect(reference.rows.every((r) => r.status === "ok" && r.output_equal === true)).toBe(true);
    const m = reference.metadata;
    expect(m.complete).toBe(true);
    expect(m.cells).toEqual({ suite: 12, selected: 12, done: 12, failed: 0 });
    expect(m.node).toBe(process.version);
    expect(m.commit).toMatch(/^[0-9a-f]{40}$|^unknown$/);
    expect(m.suiteHash).toMatch(/^[0-9a-f]{16}$/);
    for (const r of reference.rows) {
      expect(r.wall_samples).toBe(1);
      expect(r.host_mips).toBeGreaterThan(0);
      if (r.strategy === "native" || r.workload === "compute") expect(r.slowdown).toBe(1);
      else expect(r.slowdown).toBeGreaterThan(1);
      // Boot is outside the region, inside the run.
      if (r.strategy !== "native") expect(r.run.slowdown).toBeGreaterThan(1);
    }
    const csv = readCsv("ref");
    expect(csv).toHaveLength(12);
    for (const r of csv) {
      expect(r.commit).toBe(m.commitDirty ? `${m.commit}-dirty` : m.commit);
      expect(Date.parse(r.date)).toBeGreaterThanOrEqual(Date.parse(m.date));
    }
    expect(m.descriptions?.workloads.syscall).toMatch(/getpid/);
    expect(Object.keys(m.descriptions?.strategies ?? {})).toEqual(m.definition.strategies);
    // The data dictionary beside the CSV names every column, in order.
    const dictionary = readFileSync(join(work, "ref", "columns.md"), "utf8");
    const documented = dictionary
      .split("\n")
      .filter((l) => l.startsWith("| `"))
      .map((l) => l.slice(3, l.indexOf("`", 3)));
    expect(documented).toEqual(Object.keys(csv[0]));
  });

  it("gives identical counters in the CSV on a second run, with 2 workers, processes or threads", () => {
    expect(shadowlab("bench", "run", tinyPath, "--jobs", "2", "--out", "two").code).toBe(0);
    expect(
      shadowlab("bench", "run", tinyPath, "--jobs", "2", "--isolation", "thread", "--out", "threads").code,
    ).toBe(0);
    const ref = counterColumns(readCsv("ref"));
    expect(Object.keys(ref)).toHaveLength(12);
    expect(counterColumns(readCsv("two"))).toEqual(ref);
    expect(counterColumns(readCsv("threads"))).toEqual(ref);
    expect(readJson("two").metadata).toMatchObject({ jobs: 2, isolation: "process" });
    expect(readJson("threads").metadata).toMatchObject({ jobs: 2, isolation: "thread" });
  });

  it("says a finished suite is complete, and refuses to mix a partial one without --resume", () => {
    const again = shadowlab("bench", "run", tinyPath, "--out", "ref");
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/ref is complete: 12 cells .*Use --force to run it again/);
    cpSync(join(work, "ref"), join(work, "partial"), { recursive: true });
    const file = readJson("partial");
    file.rows = file.rows.slice(0, 5);
    writeFileSync(join(work, "partial", "results.json"), JSON.stringify(file));
    const refused = shadowlab("bench", "run", tinyPath, "--out", "partial");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      "partial already holds 5 of the 12 selected cells from an earlier run; use --resume to finish it or --force to start over",
    );
  });

  it("with --resume --again measures a complete suite again (npm run bench), with the same counters", () => {
    cpSync(join(work, "ref"), join(work, "remeasured"), { recursive: true });
    const before = readJson("remeasured").metadata.updated;
    const r = shadowlab("bench", "run", tinyPath, "--out", "remeasured", "--resume", "--again");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/remeasured is complete .*measuring it again \(--again\)/);
    expect(readJson("remeasured").metadata.updated).not.toBe(before);
    expect(counterColumns(readCsv("remeasured"))).toEqual(counterColumns(readCsv("ref")));
  });

  it("holds a lock while it runs: a second run and a --resume are refused, SIGKILL leaves valid files, --resume finishes", async () => {
    const dir = join(work, "killed");
    const marker = join(work, "killed.held");
    // The run saves 4 cells, then blocks (test-only hook): the kill lands at a known point.
    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, "bench", "run", tinyPath, "--jobs", "1", "--out", "killed", "--progress", "none"],
      { cwd: work, stdio: "ignore", env: { ...process.env, SHADOWLAB_TEST_HOLD_AFTER: `4:${marker}` } },
    );
    const exited = new Promise((r) => child.on("exit", r));
    while (!existsSync(marker)) {
      if (child.exitCode !== null) throw new Error(`the run ended (code ${child.exitCode}) before holding`);
      await new Promise((r) => setTimeout(r, 50));
    }

    for (const args of [[], ["--resume"], ["--force"]]) {
      const second = shadowlab("bench", "run", tinyPath, "--out", "killed", ...args);
      expect(second.code).toBe(2);
      expect(second.stderr.trim()).toMatch(
        new RegExp(
          `^shadowlab: killed is being written by another run \\(pid ${child.pid}, started .*\\); wait for it to finish or choose another --out$`,
        ),
      );
    }

    child.kill("SIGKILL");
    await exited;
    const partial = readJson("killed");
    expect(partial.rows.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    expect(partial.metadata.complete).toBe(false);
    expect(readCsv("killed")).toHaveLength(4);
    expect(JSON.parse(readFileSync(join(dir, "results.lock"), "utf8")).pid).toBe(child.pid);

    const resumed = shadowlab("bench", "run", tinyPath, "--jobs", "1", "--out", "killed", "--resume");
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(
      `killed: taking over a stale lock of pid ${child.pid} (no longer running)`,
    );
    expect(resumed.stderr).toContain("8 cells to run (4 already done)");
    expect(existsSync(join(dir, "results.lock"))).toBe(false);
    const final = readJson("killed");
    expect(final.metadata.complete).toBe(true);
    expect(deterministic(final)).toEqual(deterministic(reference));
    expect(counterColumns(readCsv("killed"))).toEqual(counterColumns(readCsv("ref")));
  });

  it("merges two shards into exactly one full run", () => {
    const cells = (shard: string) =>
      shadowlab("bench", "cells", tinyPath, "--shard", shard)
        .stdout.trim()
        .split("\n")
        .map((l) => l.split("\t")[1]);
    const [a, b] = [cells("1/2"), cells("2/2")];
    expect(a.length + b.length).toBe(12);
    expect(a.filter((c) => b.includes(c))).toEqual([]);

    expect(shadowlab("bench", "run", tinyPath, "--shard", "1/2", "--jobs", "1").code).toBe(0);
    expect(shadowlab("bench", "run", tinyPath, "--shard", "2/2", "--jobs", "1").code).toBe(0);
    const s1 = readJson("results/tiny/shard-1-of-2");
    expect(s1.metadata.complete).toBe(true);
    expect(s1.rows.length).toBe(a.length);
    const merged = shadowlab(
      "bench",
      "merge",
      "results/tiny/shard-1-of-2",
      "results/tiny/shard-2-of-2",
      "--out",
      "merged",
    );
    expect(merged.stderr).toContain("12 cells");
    expect(merged.stderr).toContain("(complete)");
    expect(merged.code).toBe(0);
    const m = readJson("merged");
    expect(m.metadata.complete).toBe(true);
    expect(m.metadata.sources).toHaveLength(2);
    expect(deterministic(m)).toEqual(deterministic(reference));
    expect(counterColumns(readCsv("merged"))).toEqual(counterColumns(readCsv("ref")));
  });

  it("recost with a second profile changes only the modeled columns", () => {
    cpSync(join(work, "ref"), join(work, "recost"), { recursive: true });
    const r = shadowlab("bench", "recost", "recost", "--profile", "vtx-2006");
    expect(r.code).toBe(0);
    const before = readCsv("ref");
    const after = readCsv("recost");
    expect(Object.keys(after[0])).toEqual(Object.keys(before[0]));
    const changed = new Set<string>();
    before.forEach((row, i) => {
      for (const [k, v] of Object.entries(row)) if (after[i][k] !== v) changed.add(k);
    });
    for (const k of changed) expect(MODELED_COLUMNS).toContain(k);
    expect(changed).toContain("profile");
    expect(changed).toContain("cycles_total");
    expect(changed).toContain("slowdown");
    expect(readJson("recost").metadata.profile).toBe("vtx-2006");
  });

  it("runs a filtered slice", () => {
    const r = shadowlab(
      "bench",
      "run",
      tinyPath,
      "--filter",
      "workload=syscall,strategy=shadow-*|native",
      "--filter",
      "iterations=30",
      "--out",
      "slice",
    );
    expect(r.code).toBe(0);
    // Repeated --filter flags must all match: syscall at 30 iterations, every strategy (native included).
    const rows = readJson("slice").rows;
    expect(rows).toHaveLength(4);
    expect(rows.every((x) => x.workload === "syscall" && x.cell.includes("iterations=30"))).toBe(true);
    expect(readJson("slice").metadata.selection.filter).toBe(
      "workload=syscall,strategy=shadow-*|native,iterations=30",
    );
    const only = shadowlab("bench", "cells", tinyPath, "--filter", "workload=syscall,strategy=shadow-*");
    expect(only.stdout.trim().split("\n")).toHaveLength(2 * (reference.rows.length / 3 - 1));
    const bad = shadowlab("bench", "cells", tinyPath, "--filter", "colour=red");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--filter: unknown key "colour"');
  });

  it("fails a looping cell alone (instruction budget) and exits 1", () => {
    const loop = {
      name: "loop",
      workloads: [
        { workload: "compute", params: { iterations: 1_000_000 } },
        { workload: "syscall", params: { iterations: 10 } },
      ],
      strategies: ["native", "shadow-ondemand"],
      repetitions: 1,
      warmup: 0,
      maxInstructions: 300_000,
    };
    writeFileSync(join(work, "loop.json"), JSON.stringify(loop));
    const r = shadowlab("bench", "run", "loop.json", "--jobs", "2");
    expect(r.code).toBe(1);
    const rows = readJson("results/loop").rows;
    expect(rows.map((x) => [x.workload, x.strategy, x.status, x.failure])).toEqual([
      ["compute", "native", "failed", "budget"],
      ["compute", "shadow-ondemand", "failed", "budget"],
      ["syscall", "native", "ok", ""],
      ["syscall", "shadow-ondemand", "ok", ""],
    ]);
    expect(rows[0].error).toContain("instruction budget of 300000 spent");
  });

  it("reports a broken suite file with every problem and exit code 2", () => {
    writeFileSync(
      join(work, "broken.json"),
      JSON.stringify({ name: "broken", workloads: [{ workload: "x" }], jobs: 3 }),
    );
    const r = shadowlab("bench", "run", "broken.json");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('suite "broken": 2 problems');
    expect(r.stderr).toContain("jobs: unknown field");
    expect(r.stderr).toContain('workloads[0].workload: unknown workload "x"');
  });
});
