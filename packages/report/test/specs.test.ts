import { describe, expect, it } from "vitest";
import { readResults } from "../src/results.ts";
import { buildCharts, type Chart, CLASS_COLORS, NATIVE_COLOR, nanoTable } from "../src/specs.ts";
import { FIXTURE, fixtureJson } from "./support/fixture.ts";

const results = readResults(FIXTURE);
const charts = buildCharts(results);
const byName = (n: string): Chart => {
  const c = charts.find((x) => x.name === n);
  if (!c) throw new Error(`no chart ${n} (have ${charts.map((x) => x.name).join(", ")})`);
  return c;
};
// biome-ignore lint/suspicious/noExplicitAny: specs are plain JSON
type Any = any;
const data = (c: Chart): Any[] => (c.spec.data as Any).values;
const raw = fixtureJson().rows;
const STRATEGIES = ["native", "shadow-ondemand", "shadow-proactive", "shadow-tagged"];

/** Every colour encoding of strategies in a spec. */
function strategyScales(spec: unknown): Any[] {
  const out: Any[] = [];
  const walk = (v: Any) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      if (v.color?.field === "strategy" && v.color.scale) out.push(v.color.scale);
      Object.values(v).forEach(walk);
    }
  };
  walk(spec);
  return out;
}

describe("chart specs for the fixed fixture", () => {
  it("has every chart the suite allows, each with a title, a how-to-read text and inline data", () => {
    expect(charts.map((c) => c.name)).toEqual([
      "slowdown",
      "cycles",
      "exits",
      "scaling-ctxswitch-processes-slowdown",
      "scaling-ctxswitch-processes-tlb-miss",
      "host-mips",
      "nano",
    ]);
    for (const c of charts) {
      expect((c.spec.title as Any).text.length).toBeGreaterThan(10);
      expect(c.howToRead.length).toBeGreaterThan(80);
      expect(data(c).length).toBeGreaterThan(0);
      expect(c.spec.$schema).toMatch(/vega-lite\/v6/);
    }
  });

  it("gives each strategy the same colour in every chart: native first, then sorted", () => {
    expect(results.strategies).toEqual(STRATEGIES);
    const scales = charts.flatMap((c) => strategyScales(c.spec));
    expect(scales.length).toBe(5);
    for (const s of scales) {
      expect(s.domain).toEqual(STRATEGIES);
      expect(s.range).toEqual(scales[0].range);
    }
    expect(scales[0].range[0]).toBe(NATIVE_COLOR);
    expect(new Set(scales[0].range).size).toBe(4);
  });

  it("slowdown: bars per workload grouped by strategy, the native rule at 1, failed cells left out", () => {
    const c = byName("slowdown");
    const [bars, rule] = (c.spec as Any).layer;
    expect(bars.mark.type).toBe("bar");
    expect(bars.encoding.x.field).toBe("slowdown");
    expect(bars.encoding.x.title).toMatch(/slowdown over native \(×/);
    expect(bars.encoding.y.field).toBe("group");
    expect(bars.encoding.y.title).toBeTruthy();
    expect(bars.encoding.yOffset.field).toBe("strategy");
    expect(bars.encoding.tooltip.map((t: Any) => t.field)).toContain("slowdown");
    expect(rule.mark.type).toBe("rule");
    expect(rule.data.values).toEqual([{ strategy: "native", slowdown: 1 }]);
    // 10 groups x 3 strategies, less the failed cell; no native bars (native is the rule).
    const rows = data(c);
    expect(rows).toHaveLength(29);
    expect(rows.some((r) => r.strategy === "native")).toBe(false);
    const failed = raw.find((r) => r.status === "failed")!;
    expect(rows.some((r) => r.cell === failed.cell)).toBe(false);
    const one = raw.find((r) => r.workload === "syscall" && r.strategy === "shadow-tagged")!;
    expect(rows.find((r) => r.cell === one.cell)!.slowdown).toBeCloseTo(one.slowdown, 4);
    expect((c.spec.title as Any).subtitle.join(" ")).toMatch(/1 failed cell not shown/);
  });

  it("cycles: stacked by event class per workload and strategy; each stack adds up to the slowdown", () => {
    const c = byName("cycles");
    const s = c.spec as Any;
    expect(s.facet.row.field).toBe("group");
    expect(s.spec.mark.type).toBe("bar");
    expect(s.spec.encoding.x.stack).toBe("zero");
    expect(s.spec.encoding.y.field).toBe("strategy");
    expect(s.spec.encoding.color.field).toBe("class");
    expect(s.spec.encoding.color.scale.domain).toEqual(results.eventClasses);
    expect(s.spec.encoding.color.scale.range[0]).toBe(CLASS_COLORS.instruction);
    const rows = data(c);
    let checked = 0;
    for (const r of raw.filter((x) => x.status === "ok")) {
      const sum = rows.filter((v) => v.cell === r.cell).reduce((a, v) => a + v.relative, 0);
      expect(Math.abs(sum / r.slowdown - 1)).toBeLessThan(1e-4);
      checked++;
    }
    expect(checked).toBe(39);
    expect(rows.some((v) => v.cell === raw.find((x) => x.status === "failed")!.cell)).toBe(false);
    // the classes present in the data are the classes with cycles
    expect(new Set(rows.map((r) => r.class))).toEqual(
      new Set([
        "instruction",
        "walk_ref",
        "trap",
        "exit",
        "emulate",
        "reflect",
        "shadow_fill",
        "wp_fault",
        "flush",
        "shadow_table",
        "asid",
      ]),
    );
  });

  it("exits: per thousand guest instructions, stacked by reason, no native rows", () => {
    const c = byName("exits");
    const s = c.spec as Any;
    expect(s.spec.encoding.x.field).toBe("per_k");
    expect(s.spec.encoding.x.title).toBe("exits per 1,000 guest instructions");
    expect(s.spec.encoding.color.field).toBe("reason");
    const rows = data(c);
    expect(rows.some((r) => r.strategy === "native")).toBe(false);
    expect(new Set(rows.map((r) => r.reason))).toEqual(
      new Set([
        "emulate.csr",
        "emulate.sret",
        "emulate.sfence_vma",
        "reflect.ecall_u",
        "hidden_fault",
        "interrupt",
        "wp_fault",
      ]),
    );
    const r = raw.find((x) => x.workload === "syscall" && x.strategy === "shadow-ondemand")!;
    const v = rows.find(
      (x) => x.group === "syscall" && x.strategy === "shadow-ondemand" && x.reason === "reflect.ecall_u",
    );
    expect(v.per_k / ((r.counters["hv.exit.reflect.ecall_u"] / r.instructions) * 1000)).toBeCloseTo(1, 4);
  });

  it("scaling: one line per strategy against the swept parameter, for slowdown and TLB miss rate", () => {
    for (const name of ["scaling-ctxswitch-processes-slowdown", "scaling-ctxswitch-processes-tlb-miss"]) {
      const s = byName(name).spec as Any;
      expect(s.mark.type).toBe("line");
      expect(s.encoding.x.field).toBe("x");
      expect(s.encoding.x.title).toBe("processes (count)");
      expect(s.encoding.color.field).toBe("strategy");
      const rows = data(byName(name));
      expect([...new Set(rows.map((r) => r.x))].sort()).toEqual([2, 4, 8]);
      expect(new Set(rows.map((r) => r.strategy))).toEqual(new Set(STRATEGIES));
    }
    const miss = data(byName("scaling-ctxswitch-processes-tlb-miss"));
    const r = raw.find(
      (x) => x.workload === "ctxswitch" && x.param.processes === 4 && x.strategy === "native",
    )!;
    expect(miss.find((v) => v.x === 4 && v.strategy === "native").y).toBeCloseTo(
      r.counters["tlb.tlb.misses"] / r.counters["tlb.tlb.lookups"],
      6,
    );
    expect((byName("scaling-ctxswitch-processes-tlb-miss").spec as Any).encoding.y.title).toMatch(/%/);
  });

  it("host MIPS: a mean bar per strategy and a tick per cell", () => {
    const s = byName("host-mips").spec as Any;
    expect(s.layer.map((l: Any) => l.mark.type)).toEqual(["bar", "tick"]);
    expect(s.layer[0].encoding.x.aggregate).toBe("mean");
    expect(s.layer[0].encoding.x.title).toMatch(/million guest instructions per second/);
    expect(data(byName("host-mips"))).toHaveLength(39);
  });

  it("nano: cycles per operation from the two iteration counts, on a log axis, native first", () => {
    const c = byName("nano");
    const s = c.spec as Any;
    expect(s.encoding.x.field).toBe("benchmark");
    expect(s.encoding.xOffset.field).toBe("strategy");
    expect(s.encoding.y.scale.type).toBe("log");
    expect(s.layer[0].mark.type).toBe("bar");
    expect(s.layer[1].mark.type).toBe("text");
    const rows = data(c);
    expect(rows).toHaveLength(12);
    const cyc = (variant: string, it: number, st: string) =>
      raw.find(
        (r) =>
          r.workload === "nano" &&
          r.param.variant === variant &&
          r.param.iterations === it &&
          r.strategy === st,
      )!.cycles_total;
    const want = (cyc("ptemod", 1100, "shadow-proactive") - cyc("ptemod", 100, "shadow-proactive")) / 1000;
    expect(rows.find((r) => r.variant === "ptemod" && r.strategy === "shadow-proactive").cycles).toBeCloseTo(
      want,
      3,
    );
    expect(rows.map((r) => r.variant)).toEqual([
      ...Array(4).fill("syscall"),
      ...Array(4).fill("pgfault"),
      ...Array(4).fill("ptemod"),
    ]);
    const t = nanoTable(results)!;
    expect(t.columns).toEqual(STRATEGIES);
    expect(t.rows.map((r) => r.benchmark)).toEqual(["syscall", "pgfault", "ptemod"]);
  });
});
