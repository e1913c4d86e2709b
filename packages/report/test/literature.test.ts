/**
 * The "what the literature says" section: each trend's verdict and figure
 * come from the rows (fixture results built here, with the numbers chosen to
 * make each verdict), and a trend without its cells is "not measured".
 */
import { describe, expect, it } from "vitest";
import { AA_ROWS, literatureSection, literatureTrends, nanoPerOp } from "../src/literature.ts";
import type { CellRow, Results } from "../src/results.ts";

let next = 0;
function row(
  workload: string,
  strategy: string,
  opts: {
    params?: Record<string, string | number | boolean>;
    slowdown?: number;
    cycles?: number;
    counters?: Record<string, number>;
    mode?: string;
  } = {},
): CellRow {
  const param = opts.params ?? {};
  const params = Object.entries(param)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return {
    index: next++,
    cell: `${workload}/${params}/m/${strategy}`,
    workload,
    strategy,
    params,
    machine: "m",
    param,
    config: opts.mode ? { mode: opts.mode } : {},
    ok: true,
    status: "ok",
    failure: "",
    error: "",
    outputDiff: "",
    outputEqual: true,
    exitReason: "exit",
    instructions: 1000,
    ops: null,
    cyclesPerOp: null,
    profile: "vtx-2006",
    cyclesTotal: opts.cycles ?? (opts.slowdown ?? 1) * 1000,
    nativeCyclesTotal: 1000,
    slowdown: opts.slowdown ?? 1,
    wall: { meanMs: null, p50Ms: null, minMs: null, p99Ms: null, rmePct: null, noisy: false, samples: null },
    run: {},
    hostMips: null,
    cycles: {},
    events: {},
    counters: opts.counters ?? {},
  };
}

function results(rows: CellRow[]): Results {
  return {
    dir: "fixture",
    source: "fixture",
    suite: "fixture",
    metadata: {},
    rows,
    eventClasses: [],
    strategies: ["native", ...new Set(rows.map((r) => r.strategy).filter((s) => s !== "native"))],
    warnings: [],
  };
}

const trend = (rs: Results, id: string) => {
  const t = literatureTrends(rs).find((x) => x.id === id);
  if (!t) throw new Error(`no trend ${id}`);
  return t;
};

/** Nano rows at 100 and 1100 iterations whose per-operation cost is `perOp` (boot costs 50,000). */
function nano(strategy: string, perOp: Record<string, number>, mode?: string): CellRow[] {
  return Object.entries(perOp).flatMap(([variant, c]) =>
    [100, 1100].map((n) =>
      row("nano", strategy, { params: { variant, iterations: n }, cycles: 50_000 + n * c, mode }),
    ),
  );
}

describe("what the literature says", () => {
  it("on-demand pays on switches: reproduced when its ctxswitch slowdown is higher, contradicted when not", () => {
    const params = { processes: 4, pages: 2 };
    const fills = (n: number) => ({ "hv.shadow.fill": n, "hv.exit.emulate.csr.satp": 10 });
    const up = results([
      row("ctxswitch", "shadow-ondemand", { params, slowdown: 9, counters: fills(400) }),
      row("ctxswitch", "shadow-proactive", { params, slowdown: 3, counters: fills(20) }),
    ]);
    const t = trend(up, "ondemand-switches");
    expect(t.verdict).toBe("reproduced");
    expect(t.figure).toContain("shadow-ondemand 9 against shadow-proactive 3");
    expect(t.figure).toContain("shadow fills per guest satp write 40 against 2");
    const down = results([
      row("ctxswitch", "shadow-ondemand", { params, slowdown: 2 }),
      row("ctxswitch", "shadow-proactive", { params, slowdown: 5 }),
    ]);
    expect(trend(down, "ondemand-switches").verdict).toBe("contradicted");
  });

  it("proactive pays on forks and churn: compares like cells only, and counts its traced writes", () => {
    const rs = results([
      row("forkwait", "shadow-proactive", {
        params: { children: 10, pages: 16 },
        slowdown: 20,
        counters: { "hv.exit.wp_fault": 440 },
      }),
      row("forkwait", "shadow-ondemand", { params: { children: 10, pages: 16 }, slowdown: 15 }),
      // a proactive cell with no on-demand partner is not compared
      row("forkwait", "shadow-proactive", { params: { children: 10, pages: 1 }, slowdown: 1 }),
    ]);
    const t = trend(rs, "proactive-churn");
    expect(t.verdict).toBe("reproduced");
    expect(t.figure).toContain("median over 1 forkwait/pagefault cell group");
    expect(t.figure).toMatch(/traced PTE writes .* median 2(20|\d\d)/);
  });

  it("a trend whose cells are absent is not measured, with the reason; nested names the mode it runs in", () => {
    const rs = results([row("compute", "shadow-ondemand")]);
    for (const id of ["ondemand-switches", "proactive-churn", "tagged-refills"]) {
      const t = trend(rs, id);
      expect(t.verdict, id).toBe("not measured");
      expect(t.figure).toBe("");
      expect(t.reason).toMatch(/no .* cell ran under both/);
    }
    const nested = trend(rs, "nested-tlb-misses");
    expect(nested.verdict).toBe("not measured");
    expect(nested.reason).toContain("hw mode");
  });

  it("tagged removes refills: fewer shadow fills and TLB misses on ctxswitch with ASIDs", () => {
    const params = { processes: 4, asid: true };
    const rs = results([
      row("ctxswitch", "shadow-ondemand", {
        params,
        counters: { "hv.shadow.fill": 900, "tlb.tlb.misses": 500 },
      }),
      row("ctxswitch", "shadow-tagged", {
        params,
        counters: { "hv.shadow.fill": 30, "tlb.tlb.misses": 100 },
      }),
    ]);
    const t = trend(rs, "tagged-refills");
    expect(t.verdict).toBe("reproduced");
    expect(t.figure).toContain("shadow-ondemand 1,400 against shadow-tagged 130");
  });

  it("nano ordering: the region of interest's cycles per operation when the results have it", () => {
    const roiRow = (variant: string, cyclesPerOp: number) => ({
      ...row("nano", "shadow-ondemand", { params: { variant, iterations: 1000 }, cycles: 9e9 }),
      ops: 1000,
      cyclesPerOp,
    });
    const rs = results([
      roiRow("in", 16_000),
      roiRow("ptemod", 13_000),
      roiRow("pgfault", 11_000),
      roiRow("trap", 1_000),
    ]);
    const t = trend(rs, "nano-order-trap");
    expect(t.verdict).toBe("reproduced");
    expect(t.figure).toContain("region of interest");
    expect(t.figure).toContain("in 16,000 > ptemod 13,000 > pgfault 11,000 > divzero 1,000");
  });

  it("nano ordering per mode: per-operation cycles from two iteration counts, checked against theirs", () => {
    const rs = results([
      ...nano("shadow-ondemand", { in: 16_000, ptemod: 13_000, pgfault: 11_000, trap: 1_000 }, "hw"),
      ...nano("shadow-ondemand", { in: 16_000, ptemod: 4_000, pgfault: 30_000, trap: 20_000 }, "trap"),
    ]);
    const perOp = nanoPerOp(rs);
    expect(perOp.get("trap")?.get("shadow-ondemand")?.get("pgfault")).toBe(30_000);
    const hw = trend(rs, "nano-order-hw");
    expect(hw.verdict).toBe("reproduced");
    expect(hw.figure).toContain("in 16,000 > ptemod 13,000 > pgfault 11,000 > divzero 1,000");
    const trap = trend(rs, "nano-order-trap");
    expect(trap.verdict).toBe("contradicted");
    expect(trap.figure).toContain("pgfault 30,000 > divzero 20,000 > in 16,000 > ptemod 4,000");
    expect(trap.reason).toContain("every guest exception exits");
  });

  it("renders a section with every trend, its verdict, and which of Adams & Agesen's rows cannot match", () => {
    const html = literatureSection(
      results([...nano("shadow-proactive", { in: 16_000, trap: 20_000 }), row("compute", "shadow-ondemand")]),
    );
    expect(html).toContain('<section id="literature"><h2>What the literature says</h2>');
    for (const id of [
      "ondemand-switches",
      "proactive-churn",
      "tagged-refills",
      "nested-tlb-misses",
      "nano-order-trap",
    ])
      expect(html).toContain(`data-trend="${id}"`);
    expect(html).toContain("not measured");
    expect(html).toContain("contradicted");
    for (const r of AA_ROWS) expect(html).toContain(`<td>${r.op}</td>`);
    expect(AA_ROWS.filter((r) => !r.matches).map((r) => r.op)).toEqual([
      "divzero",
      "syscall",
      "cr8wr",
      "call/ret",
    ]);
  });
});
