import { describe, expect, it } from "vitest";
import { runGroup } from "../src/cell.ts";
import { linuxImage } from "../src/linux.ts";
import type { ResultRow } from "../src/results.ts";
import { expandSuite, validateSuite } from "../src/suite.ts";
import { linuxSuite } from "../src/suites.ts";

describe("the linux suite where the Linux image is absent", () => {
  it("leaves every cell out at validation with the reason, runs none", () => {
    const saved = process.env.SHADOWLAB_LINUX_IMAGE;
    process.env.SHADOWLAB_LINUX_IMAGE = "/nonexistent/shadowlab-linux/Image";
    try {
      const suite = validateSuite(linuxSuite());
      const { cells, excluded } = expandSuite(suite);
      expect(cells).toEqual([]);
      const groups = suite.workloads.reduce((n, w) => n + w.params.length, 0);
      // Every group's native cell and its cells in both modes are listed, once each.
      expect(excluded.filter((x) => x.id.endsWith("/native"))).toHaveLength(groups);
      expect(excluded.some((x) => x.id.endsWith("@hw"))).toBe(true);
      expect(new Set(excluded.map((x) => x.id)).size).toBe(excluded.length);
      for (const x of excluded)
        expect(x.reason).toMatch(/^linux-\w+: the Linux image is not built on this machine/);
    } finally {
      if (saved === undefined) delete process.env.SHADOWLAB_LINUX_IMAGE;
      else process.env.SHADOWLAB_LINUX_IMAGE = saved;
    }
  });

  it("refuses a machine with less RAM than Linux is run with, naming both", () => {
    const suite = validateSuite({
      name: "small-ram",
      workloads: [{ workload: "linux-forkwait", params: { n: 2 } }],
      strategies: ["native"],
      machines: { ramMib: 32 },
    });
    const { cells, excluded } = expandSuite(suite);
    expect(cells).toEqual([]);
    expect(excluded[0].reason).toMatch(
      /linux-forkwait: (the Linux image is not built|Linux is run with at least 64 MiB of RAM; the machine has 32)/,
    );
  });

  it("rejects a parameter outside /init's bounds, naming it", () => {
    expect(() =>
      validateSuite({ name: "bad", workloads: [{ workload: "linux-lat_ctx", params: { procs: 200 } }] }),
    ).toThrow(/workloads\[0\]\.params\.procs: must be an integer from 2 to 96 \(got 200\)/);
  });
});

const found = linuxImage();
const skip = "missing" in found ? found.missing : undefined;

describe.skipIf(skip)(
  `a Linux cell natively, under a strategy and in hw mode${skip ? ` (skipped: ${skip})` : ""}`,
  () => {
    it("gives the same output under the strategy as natively, and fills the ROI columns", async () => {
      const suite = validateSuite({
        name: "linux-one",
        workloads: [{ workload: "linux-forkwait", params: { n: 2, pages: 1 } }],
        strategies: ["native", "shadow-ondemand", "nested"],
        modes: ["trap", "hw"],
        machines: { ramMib: 64 },
        repetitions: 2,
        warmup: 0,
      });
      // Native, one strategy in trap mode, and nested paging in hw mode.
      const cells = expandSuite(suite).cells.filter((c) => !c.id.endsWith("shadow-ondemand@hw"));
      const rows: ResultRow[] = [];
      await runGroup({ suite, cells }, (r) => rows.push(r));
      expect(rows.map((r) => [r.strategy, r.mode, r.status, r.error])).toEqual([
        ["native", "native", "ok", ""],
        ["shadow-ondemand", "trap", "ok", ""],
        ["nested", "hw", "ok", ""],
      ]);
      const [native, hv, hw] = rows;
      for (const r of [hv, hw]) {
        expect(r.output_equal).toBe(true);
        expect(r.output_sha256).toBe(native.output_sha256);
      }
      for (const r of rows) {
        expect(r.ops).toBe(2);
        expect(r.roi_instructions).toBeGreaterThan(0);
        // The region is a small part of a run that boots Linux.
        expect(r.run.instructions).toBeGreaterThan(10 * (r.roi_instructions ?? 0));
        expect(r.wall_samples).toBe(2);
      }
      // Only under the hypervisor does the region exit to the monitor.
      expect(native.counters["traps.toHandler"] ?? 0).toBe(0);
      expect(hv.counters["traps.toHandler"]).toBeGreaterThan(0);
    }, 240_000);
  },
);
