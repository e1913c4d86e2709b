/**
 * The charts, as Vega-Lite specs with their data inline. Every chart has a
 * title, axis titles with units, a legend and tooltips; strategies have the
 * same colour in every chart and every suite (a fixed colour per name), and
 * event classes the same colour in every suite.
 */
import {
  exitsByReason,
  findSweeps,
  guestInstructions,
  isNative,
  type Labeler,
  labeler,
  NANO_ORDER,
  nanoPoints,
  SWEEP_TITLES,
  sweepPanel,
  sweepX,
  tlbMissRate,
} from "./derive.ts";
import { type CellRow, isNativeName, NATIVE, type Results } from "./results.ts";

export type VlSpec = Record<string, unknown>;

export interface Chart {
  /** File name stem: charts/<name>.vl.json, .svg, .png. */
  name: string;
  title: string;
  /** How to read it (a short paragraph for the report). */
  howToRead: string;
  spec: VlSpec;
}

export const VL_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/**
 * Each strategy keeps its colour in every chart and every suite, whatever
 * other strategies a suite holds: a fixed colour per known name (those the
 * design plans included), and for a name this table does not know a colour
 * chosen by a hash of the name from the ones the table leaves free.
 */
export const NATIVE_COLOR = "#555555";
export const STRATEGY_COLORS: Readonly<Record<string, string>> = {
  native: NATIVE_COLOR,
  "shadow-ondemand": "#4c78a8",
  "shadow-proactive": "#f58518",
  "shadow-tagged": "#54a24b",
  // hw mode (the guest kernel in VS-mode): the trap-mode colour's lighter shade
  "shadow-ondemand@hw": "#9ecae9",
  "shadow-proactive@hw": "#ffbf79",
  "shadow-tagged@hw": "#88d27a",
  nested: "#e45756",
  "nested@hw": "#e45756",
  agile: "#b279a2",
  paravirt: "#72b7b2",
  unsync: "#eeca3b",
};
/** Colours for names the table does not know (Tableau 20's darker half and others, no grey). */
export const SPARE_STRATEGY_COLORS = [
  "#9d755d",
  "#ff9da6",
  "#17becf",
  "#bcbd22",
  "#8c564b",
  "#2f6f6a",
  "#d62728",
  "#9467bd",
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#e377c2",
];

/** FNV-1a of a name: the same number in every run, suite and report. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function strategyColor(name: string): string {
  return STRATEGY_COLORS[name] ?? SPARE_STRATEGY_COLORS[nameHash(name) % SPARE_STRATEGY_COLORS.length];
}

/** Each event class keeps its colour in every suite; classes added later take the spare colours in order. */
export const CLASS_COLORS: Record<string, string> = {
  instruction: "#bab0ac",
  tlb_hit: "#e7e1dd",
  walk_ref: "#9ecae9",
  trap: "#4c78a8",
  exit: "#e45756",
  emulate: "#f58518",
  mmio: "#eeca3b",
  reflect: "#b279a2",
  shadow_fill: "#54a24b",
  wp_fault: "#9d755d",
  flush: "#72b7b2",
  flush_entry: "#b5dfd9",
  shadow_table: "#ff9da6",
  asid: "#2f6f6a",
  guest_switch: "#d6a5c9",
  other: "#333333",
};
const SPARE_COLORS = ["#17becf", "#bcbd22", "#8c564b", "#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5"];
const REASON_PALETTE = [
  "#f58518",
  "#ffbf79",
  "#e45756",
  "#ff9d98",
  "#4c78a8",
  "#9ecae9",
  "#54a24b",
  "#88d27a",
  "#b279a2",
  "#d6a5c9",
  "#eeca3b",
  "#9d755d",
  "#72b7b2",
  "#79706e",
  "#17becf",
  "#bcbd22",
];

export function strategyColors(strategies: readonly string[]): { domain: string[]; range: string[] } {
  return { domain: [...strategies], range: strategies.map(strategyColor) };
}

export function classColors(classes: readonly string[]): { domain: string[]; range: string[] } {
  let spare = 0;
  return {
    domain: [...classes],
    range: classes.map((c) => CLASS_COLORS[c] ?? SPARE_COLORS[spare++ % SPARE_COLORS.length]),
  };
}

const FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif";

/** Shared look: readable sizes, left-aligned titles. */
export const CONFIG = {
  font: FONT,
  padding: 12,
  title: { fontSize: 16, anchor: "start", subtitleFontSize: 12, subtitleColor: "#555", offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, titlePadding: 8, labelLimit: 260, maxExtent: 280 },
  // Legends below the plot, in rows of columns: every chart then fits a page 800 px wide.
  legend: {
    labelFontSize: 11,
    titleFontSize: 12,
    labelLimit: 180,
    orient: "bottom",
    direction: "horizontal",
    columns: 4,
    columnPadding: 12,
  },
  header: { labelFontSize: 12, titleFontSize: 12 },
  view: { stroke: "#ddd" },
  background: "white",
};

/** One panel per workload and parameter set, titled at its top left (the cycles and exits charts). */
function groupPanels(groups: string[]) {
  return {
    facet: {
      row: {
        field: "group",
        type: "nominal",
        sort: groups,
        title: null,
        header: {
          labelAngle: 0,
          labelOrient: "top",
          labelAnchor: "start",
          labelFontWeight: "bold",
          labelPadding: 4,
        },
      },
    },
    spacing: 8,
  } as const;
}

function base(title: string, subtitle: string[], values: object[]): VlSpec {
  return {
    $schema: VL_SCHEMA,
    title: { text: title, subtitle: subtitle.filter(Boolean) },
    data: { values },
    config: CONFIG,
  };
}

const round = (x: number, digits = 4) => (Number.isFinite(x) ? Number(x.toPrecision(digits + 2)) : x);

function profileNote(results: Results): string {
  const p = results.metadata.profile ?? results.rows.find((r) => r.profile)?.profile;
  return typeof p === "string" && p ? `cost profile "${p}"` : "";
}

function failedNote(rows: readonly CellRow[], what = "cells"): string {
  const n = rows.filter((r) => !r.ok).length;
  return n > 0 ? `${n} failed ${n === 1 ? what.replace(/s$/, "") : what} not shown (see "Failed cells")` : "";
}

function colorEnc(strategies: string[], title = "strategy"): object {
  return { field: "strategy", type: "nominal", title, scale: strategyColors(strategies), sort: strategies };
}

function groupOrder(rows: readonly CellRow[], label: Labeler): string[] {
  return [...new Set(rows.map((r) => label.group(r)))];
}

// ---- the charts ---------------------------------------------------------------------------------

export function slowdownChart(results: Results, label: Labeler): Chart | undefined {
  const rows = results.rows.filter((r) => !isNative(r));
  const values = rows
    .filter((r) => r.ok && r.slowdown !== null && r.slowdown > 0)
    .map((r) => ({
      group: label.group(r),
      strategy: r.strategy,
      slowdown: round(r.slowdown!),
      cycles: r.cyclesTotal,
      native_cycles: r.nativeCyclesTotal,
      cell: r.cell,
    }));
  if (values.length === 0) return undefined;
  const groups = groupOrder(rows, label);
  const max = Math.max(...values.map((v) => v.slowdown));
  const min = Math.min(...values.map((v) => v.slowdown));
  const log = max / Math.min(1, min) > 30;
  const shown = results.strategies.filter((s) => !isNativeName(s));
  const tooltip = [
    { field: "group", title: "workload" },
    { field: "strategy", title: "strategy" },
    { field: "slowdown", title: "slowdown (×)", format: ".3f" },
    { field: "cycles", title: "modeled cycles", format: ",.0f" },
    { field: "native_cycles", title: "native cycles", format: ",.0f" },
  ];
  return {
    name: "slowdown",
    title: "Slowdown over native",
    howToRead:
      "One bar per strategy for each workload and parameter set: the modeled cycles of the run under that strategy divided by the native run's (the same guest on the bare machine). The dark line at 1 is native; a bar ending at 3 means three times the native time." +
      (log ? " The axis is logarithmic, because the slowdowns span more than an order of magnitude." : ""),
    spec: {
      ...base(
        "Slowdown over native, per workload and strategy",
        [
          `modeled cycles ÷ native modeled cycles${regionNote(results)}; ${profileNote(results)}${log ? "; log scale" : ""}`,
          failedNote(rows),
        ],
        values,
      ),
      width: 440,
      height: { step: 11, for: "offset" },
      layer: [
        {
          mark: { type: "bar" },
          encoding: {
            y: {
              field: "group",
              type: "nominal",
              sort: groups,
              title: "workload and parameters",
              scale: { paddingInner: 0.25 },
            },
            yOffset: { field: "strategy", type: "nominal", sort: shown, scale: { domain: shown } },
            x: {
              field: "slowdown",
              type: "quantitative",
              title: `slowdown over native (×, modeled cycles)${log ? ", log scale" : ""}`,
              scale: log ? { type: "log", domainMin: Math.min(0.8, min * 0.9) } : { zero: true },
              axis: { format: log ? "~g" : ".2~f" },
            },
            // On a log scale a bar cannot start at 0: it starts at native's 1.
            ...(log ? { x2: { datum: 1 } } : {}),
            color: colorEnc(results.strategies),
            tooltip,
          },
        },
        {
          data: { values: [{ strategy: NATIVE, slowdown: 1 }] },
          mark: { type: "rule", strokeWidth: 2 },
          encoding: {
            x: { field: "slowdown", type: "quantitative" },
            color: { field: "strategy", type: "nominal" },
            tooltip: [
              { field: "strategy", title: "native line at" },
              { field: "slowdown", title: "slowdown" },
            ],
          },
        },
      ],
    },
  };
}

export function cyclesChart(results: Results, label: Labeler): Chart | undefined {
  const classes = results.eventClasses;
  const rows = results.rows;
  const values: object[] = [];
  for (const r of rows) {
    if (!r.ok) continue;
    const native = r.nativeCyclesTotal ?? (isNative(r) ? r.cyclesTotal : null);
    if (!native || native <= 0) continue;
    const total = r.cyclesTotal ?? Object.values(r.cycles).reduce((a, b) => a + b, 0);
    classes.forEach((c, order) => {
      const cycles = r.cycles[c] ?? 0;
      if (cycles <= 0) return;
      values.push({
        group: label.group(r),
        strategy: r.strategy,
        class: c,
        order,
        cycles,
        relative: round(cycles / native),
        share: round(total > 0 ? cycles / total : 0),
        events: r.events[c] ?? null,
        cell: r.cell,
      });
    });
  }
  if (values.length === 0) return undefined;
  const groups = groupOrder(rows, label);
  return {
    name: "cycles",
    title: "Where the cycles go",
    howToRead:
      "Each panel is one workload and parameter set; each bar one strategy, native on top. A bar is the run's modeled cycles split by event class, measured in units of the native run's total, so the whole bar is the slowdown and each segment says how much of it one kind of event costs (guest instructions, page-walk references, exits, emulation, shadow fills, write-protect faults, ...). Hover a segment for its cycles, event count and share.",
    spec: {
      ...base(
        "Where the cycles go: modeled cycles by event class",
        [
          `per workload and strategy, in units of the native run's total cycles${regionNote(results)}; ${profileNote(results)}`,
          failedNote(rows),
        ],
        values,
      ),
      ...groupPanels(groups),
      spec: {
        width: 520,
        height: { step: 16 },
        mark: { type: "bar" },
        encoding: {
          y: { field: "strategy", type: "nominal", sort: results.strategies, title: null },
          x: {
            field: "relative",
            type: "quantitative",
            stack: "zero",
            title: "modeled cycles (× native total cycles)",
            axis: { format: ".2~f" },
          },
          color: {
            field: "class",
            type: "nominal",
            title: "event class",
            scale: classColors(classes),
            sort: classes,
          },
          order: { field: "order", type: "quantitative" },
          tooltip: [
            { field: "group", title: "workload" },
            { field: "strategy", title: "strategy" },
            { field: "class", title: "event class" },
            { field: "cycles", title: "modeled cycles", format: ",.0f" },
            { field: "events", title: "events", format: ",.0f" },
            { field: "relative", title: "× native total", format: ".3f" },
            { field: "share", title: "share of this run", format: ".1%" },
          ],
        },
      },
      resolve: { scale: { x: "independent" } },
    },
  };
}

export function exitsChart(results: Results, label: Labeler): Chart | undefined {
  const rows = results.rows.filter((r) => !isNative(r));
  const values: object[] = [];
  const reasons = new Set<string>();
  for (const r of rows) {
    if (!r.ok) continue;
    const instr = guestInstructions(r);
    if (!instr) continue;
    let by = exitsByReason(r);
    if (Object.keys(by).length === 0 && r.events.exit) by = { exit: r.events.exit };
    for (const [reason, n] of Object.entries(by)) {
      reasons.add(reason);
      values.push({
        group: label.group(r),
        strategy: r.strategy,
        reason,
        order: 0,
        exits: n,
        per_k: round((n / instr) * 1000),
        instructions: instr,
      });
    }
  }
  if (values.length === 0) return undefined;
  const domain = [...reasons].sort();
  for (const v of values as { reason: string; order: number }[]) v.order = domain.indexOf(v.reason);
  const groups = groupOrder(rows, label);
  const shown = results.strategies.filter((s) => !isNativeName(s));
  return {
    name: "exits",
    title: "Exits per thousand guest instructions",
    howToRead:
      "How often the guest leaves for the hypervisor, per thousand guest instructions retired, split by the reason of the exit: emulated privileged instructions (emulate.*, by instruction), reflected traps (reflect.*, by cause), hidden page faults that fill a shadow, write-protect faults on guest page tables, device accesses (mmio) and timer interrupts. Native runs have no exits and are left out. A strategy that trades exits for another cost shows it here and in the cycles chart.",
    spec: {
      ...base(
        "Exits per thousand guest instructions, by reason",
        ["exit counters (deterministic) ÷ guest instructions retired × 1000", failedNote(rows)],
        values,
      ),
      ...groupPanels(groups),
      spec: {
        width: 520,
        height: { step: 16 },
        mark: { type: "bar" },
        encoding: {
          y: { field: "strategy", type: "nominal", sort: shown, title: null },
          x: {
            field: "per_k",
            type: "quantitative",
            stack: "zero",
            title: "exits per 1,000 guest instructions",
            axis: { format: ",.3~f" },
          },
          color: {
            field: "reason",
            type: "nominal",
            title: "exit reason",
            scale: { domain, range: domain.map((_, i) => REASON_PALETTE[i % REASON_PALETTE.length]) },
            sort: domain,
          },
          order: { field: "order", type: "quantitative" },
          tooltip: [
            { field: "group", title: "workload" },
            { field: "strategy", title: "strategy" },
            { field: "reason", title: "exit reason" },
            { field: "exits", title: "exits", format: ",.0f" },
            { field: "per_k", title: "per 1,000 instructions", format: ".3~f" },
            { field: "instructions", title: "guest instructions", format: ",.0f" },
          ],
        },
      },
      resolve: { scale: { x: "independent" } },
    },
  };
}

export function scalingCharts(results: Results): Chart[] {
  const charts: Chart[] = [];
  for (const sweep of findSweeps(results)) {
    const rows = results.rows.filter((r) => r.workload === sweep.workload);
    const xTitle = SWEEP_TITLES[sweep.name] ?? `${sweep.name} (value)`;
    const pow2 = sweep.values.every((v) => v > 0 && Number.isInteger(Math.log2(v)));
    const logX = pow2 && sweep.values[sweep.values.length - 1] / sweep.values[0] >= 16;
    const panels = [...new Set(rows.map((r) => sweepPanel(r, sweep)))];
    const facet = panels.length > 1;
    for (const metric of ["slowdown", "tlb-miss"] as const) {
      const values: object[] = [];
      for (const r of rows) {
        if (!r.ok) continue;
        const x = sweepX(r, sweep);
        const y = metric === "slowdown" ? (isNative(r) ? 1 : r.slowdown) : tlbMissRate(r);
        if (x === undefined || y === null || y === undefined) continue;
        values.push({ x, y: round(y), strategy: r.strategy, panel: sweepPanel(r, sweep), cell: r.cell });
      }
      if (values.length === 0) continue;
      const yTitle = metric === "slowdown" ? "slowdown over native (×)" : "TLB miss rate (% of lookups)";
      const what = metric === "slowdown" ? "Slowdown" : "TLB miss rate";
      const inner = {
        width: 250,
        height: 180,
        mark: { type: "line", point: { size: 40 }, strokeWidth: 2 },
        encoding: {
          x: {
            field: "x",
            type: "quantitative",
            title: xTitle.replace(", log scale", logX ? ", log scale" : ""),
            scale: logX ? { type: "log", base: 2 } : { zero: false },
            axis: { values: sweep.values, format: "~g", labelOverlap: true },
          },
          y: {
            field: "y",
            type: "quantitative",
            title: yTitle,
            axis: { format: metric === "slowdown" ? "~g" : ".1~%" },
            scale: { zero: metric !== "slowdown" },
          },
          color: colorEnc(results.strategies),
          tooltip: [
            { field: "strategy", title: "strategy" },
            { field: "x", title: sweep.name },
            { field: "panel", title: "other parameters" },
            { field: "y", title: what, format: metric === "slowdown" ? ".3f" : ".2%" },
          ],
        },
      };
      const spec: VlSpec = {
        ...base(
          `${what} of ${sweep.workload} against ${sweep.name}`,
          [
            `one line per strategy${facet ? `; one panel per ${sweep.others.map((o) => o.slice(o.indexOf(".") + 1)).join(", ")}` : ""}${metric === "slowdown" ? `; ${profileNote(results)}` : "; counted TLB lookups and misses, every TLB"}`,
            failedNote(rows),
          ],
          values,
        ),
        ...(facet
          ? {
              facet: {
                field: "panel",
                type: "nominal",
                sort: panels,
                title: null,
                header: { labelFontWeight: "bold" },
              },
              columns: 2,
              spec: inner,
            }
          : inner),
      };
      charts.push({
        name: `scaling-${sweep.workload}-${sweep.name}-${metric}`.replace(/[^a-zA-Z0-9._-]/g, "_"),
        title: `${what} of ${sweep.workload} against ${sweep.name}`,
        howToRead:
          metric === "slowdown"
            ? `How the slowdown of ${sweep.workload} grows as ${sweep.name} grows, one line per strategy (native stays at 1). ${facet ? "Each panel holds the other parameters fixed. " : ""}Lines that climb apart show which strategy pays for scale: shadows rebuilt on every switch grow with the number of processes, shadows kept across switches with the working set.`
            : `The fraction of TLB lookups that missed (and so walked the page table) as ${sweep.name} grows, one line per strategy, native included. ${facet ? "Each panel holds the other parameters fixed. " : ""}A strategy that flushes the TLB on every switch misses more than native; one that tags entries with ASIDs can stay close to it.`,
        spec,
      });
    }
  }
  return charts;
}

export function hostMipsChart(results: Results, label: Labeler): Chart | undefined {
  const values = results.rows
    .filter((r) => r.ok && r.hostMips !== null && r.hostMips > 0)
    .map((r) => ({
      strategy: r.strategy,
      mips: round(r.hostMips!),
      group: label.group(r),
      wall_ms: r.wall.meanMs,
      rme: r.wall.rmePct,
    }));
  if (values.length === 0) return undefined;
  const strategies = results.strategies.filter((s) => values.some((v) => v.strategy === s));
  return {
    name: "host-mips",
    title: "Host speed",
    howToRead:
      "What the simulation itself costs on this computer, kept apart from the modeled cycles: millions of guest instructions the emulator retires per second of host wall-clock time (tinybench, mean of the timed samples). The bar is the mean over the suite's cells for each strategy; each tick is one cell (hover for the workload). A slow strategy here is slow to simulate, which says nothing about the hardware it models.",
    spec: {
      ...base(
        "Host speed: simulated guest MIPS per strategy",
        [
          `the emulator's own speed on ${typeof results.metadata.cpu === "string" ? results.metadata.cpu : "this host"} (wall clock, not modeled)`,
          failedNote(results.rows),
        ],
        values,
      ),
      width: 480,
      height: { step: 28 },
      encoding: {
        y: { field: "strategy", type: "nominal", sort: strategies, title: "strategy" },
      },
      layer: [
        {
          mark: { type: "bar", opacity: 0.85 },
          encoding: {
            x: {
              aggregate: "mean",
              field: "mips",
              type: "quantitative",
              title: "host speed (million guest instructions per second)",
            },
            color: colorEnc(results.strategies),
            tooltip: [
              { field: "strategy", title: "strategy" },
              { aggregate: "mean", field: "mips", title: "mean MIPS", format: ".2f" },
              { aggregate: "count", title: "cells" },
            ],
          },
        },
        {
          mark: { type: "tick", color: "#222", thickness: 1.5, bandSize: 18 },
          encoding: {
            x: { field: "mips", type: "quantitative" },
            tooltip: [
              { field: "group", title: "workload" },
              { field: "strategy", title: "strategy" },
              { field: "mips", title: "MIPS", format: ".2f" },
              { field: "wall_ms", title: "wall mean (ms)", format: ".2f" },
              { field: "rme", title: "rme (%)", format: ".2f" },
            ],
          },
        },
      ],
    },
  };
}

/** Says that the figures are the guests' regions of interest, when the results have them. */
function regionNote(results: Results): string {
  return results.rows.some((r) => r.ops !== null)
    ? ", of each run's region of interest (boot and warm-up left out)"
    : "";
}

export function nanoChart(results: Results, label: Labeler): Chart | undefined {
  const points = nanoPoints(results, label);
  if (points.length === 0) return undefined;
  const variants = [...new Set(points.map((p) => p.variant))];
  const machines = [...new Set(points.map((p) => p.machine))];
  const total = points.some((p) => p.method === "total");
  const values = points
    .filter((p) => p.cyclesPerOp > 0)
    .map((p) => ({
      benchmark: p.aa === p.variant ? p.variant : `${p.variant} (${p.aa})`,
      variant: p.variant,
      strategy: p.strategy,
      machine: p.machine || "default machine",
      cycles: round(p.cyclesPerOp),
      method:
        p.method === "roi"
          ? `region of interest ÷ ${p.iterations} operations`
          : p.method === "difference"
            ? `difference of ${p.iterations} iterations`
            : `total ÷ ${p.iterations} iterations`,
    }));
  const positive = values.map((v) => v.cycles).filter((c) => c > 0);
  const floor10 = 10 ** Math.floor(Math.log10(Math.max(1e-3, Math.min(...positive))));
  const top = Math.max(...positive) * 3;
  const ceil10 = 10 ** Math.ceil(Math.log10(top));
  const benchOrder = variants.map((v) => values.find((x) => x.variant === v)!.benchmark);
  const inner = {
    width: { step: 16, for: "offset" },
    height: 300,
    encoding: {
      x: {
        field: "benchmark",
        type: "nominal",
        sort: benchOrder,
        title: "nanobenchmark (Adams & Agesen's name)",
        // "csrwr (cr8wr)" on two lines, so that neighbouring names never run into each other
        axis: { labelAngle: 0, labelFontSize: 11, labelExpr: "split(datum.label, ' ')", labelLineHeight: 13 },
        scale: { paddingInner: 0.2 },
      },
      xOffset: { field: "strategy", type: "nominal", sort: results.strategies },
      y: {
        field: "cycles",
        type: "quantitative",
        title: "modeled cycles per operation (log scale)",
        scale: { type: "log", domainMin: floor10, domainMax: ceil10 },
        axis: { format: "~s" },
      },
    },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          // On a log scale a bar cannot start at 0: it starts at the axis' floor.
          y2: { datum: floor10 },
          color: colorEnc(results.strategies),
          tooltip: [
            { field: "benchmark", title: "nanobenchmark" },
            { field: "strategy", title: "strategy" },
            { field: "cycles", title: "cycles per operation", format: ",.0f" },
            { field: "method", title: "computed as" },
            { field: "machine", title: "machine" },
          ],
        },
      },
      {
        mark: {
          type: "text",
          angle: 270,
          align: "left",
          baseline: "middle",
          dx: 3,
          fontSize: 9,
          color: "#333",
        },
        encoding: { text: { field: "cycles", type: "quantitative", format: ",.0f" } },
      },
    ],
  };
  const spec: VlSpec = {
    ...base(
      "Nanobenchmarks: cycles per operation, each strategy beside native",
      [
        `in the layout of Adams & Agesen's nanobenchmark figure (ASPLOS 2006); ${profileNote(results)}`,
        points.every((p) => p.method === "roi")
          ? "cycles of each run's region of interest ÷ the operations it declared: boot, warm-up and exit left out"
          : total
            ? "one iteration count only: cycles ÷ iterations, boot and exit included (the nano suite's two counts cancel them)"
            : "(cycles(n2) − cycles(n1)) ÷ (n2 − n1): boot and exit cancel",
      ],
      values,
    ),
    ...(machines.length > 1
      ? { facet: { row: { field: "machine", type: "nominal", title: "machine" } }, spec: inner }
      : inner),
  };
  return {
    name: "nano",
    title: "Nanobenchmarks",
    howToRead:
      "The seven nanobenchmarks of Adams & Agesen (ASPLOS 2006), each a loop of one operation: a system call, a device read (in), a privileged register write (cr8wr: here csrwr), a call and return (no privilege at all), a page fault, a trap (divzero: here an illegal instruction the kernel handles) and a page-table write (ptemod). Each group of bars is one operation, native first; the y axis is logarithmic, as in their figure, so each gridline is ten times the cost. The table below gives the numbers.",
    spec,
  };
}

/** The nanobenchmark table: one row per benchmark (and machine), one column per strategy. */
export function nanoTable(
  results: Results,
  label: Labeler = labeler(results),
):
  | {
      columns: string[];
      rows: { benchmark: string; machine: string; cells: (number | null)[] }[];
      method: string;
    }
  | undefined {
  const points = nanoPoints(results, label);
  if (points.length === 0) return undefined;
  const columns = results.strategies.filter((s) => points.some((p) => p.strategy === s));
  const keys = [...new Set(points.map((p) => `${p.variant}\u0000${p.machine}`))];
  const rows = keys.map((k) => {
    const [variant, machine] = k.split("\u0000");
    const aa = points.find((p) => p.variant === variant)!.aa;
    return {
      benchmark: aa === variant ? variant : `${variant} (${aa})`,
      machine,
      cells: columns.map(
        (s) =>
          points.find((p) => p.variant === variant && p.machine === machine && p.strategy === s)
            ?.cyclesPerOp ?? null,
      ),
    };
  });
  rows.sort(
    (a, b) => NANO_ORDER.indexOf(a.benchmark.split(" ")[0]) - NANO_ORDER.indexOf(b.benchmark.split(" ")[0]),
  );
  const method = points.every((p) => p.method === "roi")
    ? "region-of-interest cycles ÷ declared operations"
    : points.some((p) => p.method === "total")
      ? "cycles ÷ iterations (one iteration count: boot and exit included)"
      : "(cycles(n2) − cycles(n1)) ÷ (n2 − n1)";
  return { columns, rows, method };
}

/** Every chart the results allow, in report order. */
export function buildCharts(results: Results): Chart[] {
  const label = labeler(results);
  return [
    slowdownChart(results, label),
    cyclesChart(results, label),
    exitsChart(results, label),
    ...scalingCharts(results),
    hostMipsChart(results, label),
    nanoChart(results, label),
  ].filter((c): c is Chart => c !== undefined);
}
