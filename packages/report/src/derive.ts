/**
 * What the charts show, derived from the rows: labels for a baseline group
 * (workload + parameters + machine, where they vary), exits by reason, the
 * TLB miss rate, parameter sweeps and the nanobenchmarks' cycles per
 * operation. Everything is discovered from counter and column names.
 */
import { type CellRow, isNativeName, type Results, type Scalar } from "./results.ts";

/** The nanobenchmarks in the order of Adams & Agesen's figure (syscall, in, cr8wr, call/ret, pgfault, divzero, ptemod). */
export const NANO_ORDER = ["syscall", "in", "csrwr", "callret", "pgfault", "trap", "ptemod"];
/** What each of ours stands for in their figure. */
export const NANO_AA_NAMES: Record<string, string> = {
  syscall: "syscall",
  in: "in",
  csrwr: "cr8wr",
  callret: "call/ret",
  pgfault: "pgfault",
  trap: "divzero",
  ptemod: "ptemod",
};
export const NANO_WORKLOAD = "nano";

/** Parameters that set how long a run is, not what it scales: never a sweep's x axis. */
const NOT_A_SWEEP = new Set(["iterations", "rounds", "cycles", "tlbSeed", "instructionsPerTick", "ramMib"]);

/** Axis titles (with units) of the parameters and machine fields we know. */
export const SWEEP_TITLES: Record<string, string> = {
  processes: "processes (count)",
  pages: "working set per process (4 KiB pages)",
  tlbEntries: "TLB entries (count, log scale)",
  tlbWays: "TLB ways (count)",
  children: "children forked (count)",
  bytes: "bytes written (B)",
};

function fmt(v: Scalar): string {
  return String(v);
}

/** Fields whose value differs between rows of one workload (so a label needs them). */
function varying(rows: readonly CellRow[], pick: (r: CellRow) => Record<string, Scalar>): string[] {
  const values = new Map<string, Set<string>>();
  for (const r of rows)
    for (const [k, v] of Object.entries(pick(r))) {
      let s = values.get(k);
      if (!s) {
        s = new Set();
        values.set(k, s);
      }
      s.add(fmt(v));
    }
  const keys = [...values.keys()].filter((k) => {
    const s = values.get(k)!;
    return s.size > 1 || rows.some((r) => !(k in pick(r)));
  });
  return keys.sort();
}

export interface Labeler {
  /** "ctxswitch processes=3 pages=2": workload and the parameters/machine fields that tell its cells apart. */
  group(r: CellRow): string;
  /** The machine part alone ("" when every cell has the same machine). */
  machine(r: CellRow): string;
}

export function labeler(results: Results): Labeler {
  const byWorkload = new Map<string, CellRow[]>();
  for (const r of results.rows) {
    const l = byWorkload.get(r.workload) ?? [];
    byWorkload.set(r.workload, l);
    l.push(r);
  }
  const machineKeys = varying(results.rows, (r) => r.config);
  const paramKeys = new Map([...byWorkload].map(([w, rows]) => [w, varying(rows, (r) => r.param)]));
  const machine = (r: CellRow) =>
    machineKeys
      .filter((k) => k in r.config)
      .map((k) => `${k}=${fmt(r.config[k])}`)
      .join(" ");
  return {
    machine,
    group(r) {
      const keys = paramKeys.get(r.workload) ?? [];
      const parts = [r.workload, ...keys.filter((k) => k in r.param).map((k) => `${k}=${fmt(r.param[k])}`)];
      const m = machine(r);
      if (m) parts.push(`[${m}]`);
      return parts.join(" ");
    },
  };
}

// ---- counters ---------------------------------------------------------------------------------

/** Exit counters by reason: `hv.exit.<reason>`; emulate and reflect keep their second level. */
export function exitsByReason(r: CellRow): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(r.counters)) {
    const m = /^hv\.exit\.(.+)$/.exec(name);
    if (!m || !v) continue;
    const parts = m[1].split(".");
    // emulate.csr.* is one reason (CSR accesses); other emulated instructions and reflected causes keep their names.
    const reason =
      parts.length === 1
        ? parts[0]
        : parts[0] === "emulate"
          ? parts[1] === "csr"
            ? "emulate.csr"
            : m[1]
          : parts[0] === "reflect"
            ? `reflect.${parts[1]}`
            : parts[0];
    out[reason] = (out[reason] ?? 0) + v;
  }
  return out;
}

export function totalExits(r: CellRow): number {
  const byReason = exitsByReason(r);
  const fromCounters = Object.values(byReason).reduce((a, b) => a + b, 0);
  return fromCounters > 0 ? fromCounters : (r.events.exit ?? 0);
}

/** Guest instructions retired. */
export function guestInstructions(r: CellRow): number | null {
  return r.instructions ?? r.counters["instructions.total"] ?? r.events.instruction ?? null;
}

/** TLB lookups and misses over every TLB (`tlb.<name>.lookups` / `.misses`). */
export function tlbMissRate(r: CellRow): number | null {
  let lookups = 0;
  let misses = 0;
  for (const [name, v] of Object.entries(r.counters)) {
    if (/^tlb\.[^.]+\.lookups$/.test(name)) lookups += v;
    else if (/^tlb\.[^.]+\.misses$/.test(name)) misses += v;
  }
  return lookups > 0 ? misses / lookups : null;
}

// ---- sweeps -----------------------------------------------------------------------------------

export interface Sweep {
  workload: string;
  /** `param.processes` or `config.tlbEntries`. */
  field: string;
  name: string;
  values: number[];
  /** Other fields that vary with it (each combination a panel). */
  others: string[];
}

function fieldValue(r: CellRow, field: string): Scalar | undefined {
  const [group, name] = [field.slice(0, field.indexOf(".")), field.slice(field.indexOf(".") + 1)];
  return group === "param" ? r.param[name] : r.config[name];
}

/**
 * Whether two fields determine each other in these rows (each value of one
 * goes with exactly one value of the other): a fully associative TLB's ways
 * always equal its entries, so a sweep over entries is not also a sweep over
 * ways, and ways is not a second dimension of it.
 */
function sameDimension(rows: readonly CellRow[], a: string, b: string): boolean {
  const ab = new Map<string, string>();
  const ba = new Map<string, string>();
  for (const r of rows) {
    const [x, y] = [String(fieldValue(r, a)), String(fieldValue(r, b))];
    if ((ab.get(x) ?? y) !== y || (ba.get(y) ?? x) !== x) return false;
    ab.set(x, y);
    ba.set(y, x);
  }
  return true;
}

/**
 * The parameter sweeps of a suite: per workload, every numeric parameter or
 * machine field with at least two values (the nanobenchmarks' iteration
 * counts and run-length parameters excepted). Fields that move together
 * (tlbWays with tlbEntries on a fully associative TLB) are one dimension:
 * the first by name is the sweep, the others are neither a sweep nor a panel.
 */
export function findSweeps(results: Results): Sweep[] {
  const sweeps: Sweep[] = [];
  const workloads = [...new Set(results.rows.map((r) => r.workload))];
  for (const w of workloads) {
    if (w === NANO_WORKLOAD) continue;
    const rows = results.rows.filter((r) => r.workload === w);
    const fields = new Set<string>();
    for (const r of rows) {
      for (const k of Object.keys(r.param)) fields.add(`param.${k}`);
      for (const k of Object.keys(r.config)) fields.add(`config.${k}`);
    }
    const distinct = new Map<string, Set<string>>();
    for (const f of fields) distinct.set(f, new Set(rows.map((r) => String(fieldValue(r, f)))));
    const varying = [...fields].filter((f) => distinct.get(f)!.size > 1).sort();
    // One field per dimension: a field that moves with an earlier one is dropped.
    const dimensions = varying.filter((f, i) => !varying.slice(0, i).some((g) => sameDimension(rows, g, f)));
    for (const f of dimensions) {
      const name = f.slice(f.indexOf(".") + 1);
      if (NOT_A_SWEEP.has(name)) continue;
      const vals = rows.map((r) => fieldValue(r, f));
      if (!vals.every((v) => typeof v === "number")) continue;
      const values = [...new Set(vals as number[])].sort((a, b) => a - b);
      if (values.length < 2) continue;
      sweeps.push({ workload: w, field: f, name, values, others: dimensions.filter((o) => o !== f) });
    }
  }
  return sweeps;
}

/** The text of the other varying fields of a row ("pages=2 asid=true"), the panel of a sweep chart. */
export function sweepPanel(r: CellRow, sweep: Sweep): string {
  return (
    sweep.others
      .map((f) => {
        const v = fieldValue(r, f);
        return v === undefined ? "" : `${f.slice(f.indexOf(".") + 1)}=${String(v)}`;
      })
      .filter(Boolean)
      .join(" ") || "all cells"
  );
}

export function sweepX(r: CellRow, sweep: Sweep): number | undefined {
  const v = fieldValue(r, sweep.field);
  return typeof v === "number" ? v : undefined;
}

// ---- nanobenchmarks ---------------------------------------------------------------------------

export interface NanoPoint {
  variant: string;
  /** Their name in Adams & Agesen's figure. */
  aa: string;
  strategy: string;
  machine: string;
  cyclesPerOp: number;
  /**
   * How it was computed: "roi", the region of interest's cycles over the
   * operations the guest declared there; else "difference" of two iteration
   * counts, or "total / iterations" (boot included) for results without a region.
   */
  method: "roi" | "difference" | "total";
  /** The operations (roi) or the iteration counts it came from. */
  iterations: string;
}

/**
 * Cycles per operation for each nanobenchmark, strategy and machine: from
 * the region of interest (its cycles over the operations the guest declared)
 * when the results have one; for older results,
 * (cycles(n2) - cycles(n1)) / (n2 - n1) over the smallest and largest
 * iteration counts when the suite has two, which cancels boot and exit;
 * otherwise cycles / iterations, which includes them (and says so).
 */
export function nanoPoints(results: Results, label: Labeler): NanoPoint[] {
  const groups = new Map<
    string,
    { variant: string; strategy: string; machine: string; runs: [number, number][] }
  >();
  const points: NanoPoint[] = [];
  const fromRoi = new Set<string>();
  for (const r of results.rows) {
    if (r.workload !== NANO_WORKLOAD || !r.ok || r.cyclesPerOp === null || !r.ops) continue;
    const variant = String(r.param.variant ?? r.params);
    const machine = label.machine(r);
    const key = `${variant}\u0000${r.strategy}\u0000${machine}`;
    // Several iteration counts give several regions of the same operation: the largest one averages most.
    const prev = points.findIndex((p) => `${p.variant}\u0000${p.strategy}\u0000${p.machine}` === key);
    if (prev >= 0 && Number(points[prev].iterations) >= r.ops) continue;
    const point: NanoPoint = {
      variant,
      aa: NANO_AA_NAMES[variant] ?? variant,
      strategy: r.strategy,
      machine,
      cyclesPerOp: r.cyclesPerOp,
      method: "roi",
      iterations: String(r.ops),
    };
    if (prev >= 0) points[prev] = point;
    else points.push(point);
    fromRoi.add(key);
  }
  for (const r of results.rows) {
    if (r.workload !== NANO_WORKLOAD || !r.ok || r.cyclesTotal === null) continue;
    const variant = String(r.param.variant ?? r.params);
    if (fromRoi.has(`${variant}\u0000${r.strategy}\u0000${label.machine(r)}`)) continue;
    const iterations = r.param.iterations;
    if (typeof iterations !== "number" || iterations <= 0) continue;
    const machine = label.machine(r);
    const key = `${variant}\u0000${r.strategy}\u0000${machine}`;
    const g = groups.get(key) ?? { variant, strategy: r.strategy, machine, runs: [] };
    groups.set(key, g);
    g.runs.push([iterations, r.cyclesTotal]);
  }
  for (const g of groups.values()) {
    g.runs.sort((a, b) => a[0] - b[0]);
    const [n1, c1] = g.runs[0];
    const [n2, c2] = g.runs[g.runs.length - 1];
    const diff = n2 > n1;
    points.push({
      variant: g.variant,
      aa: NANO_AA_NAMES[g.variant] ?? g.variant,
      strategy: g.strategy,
      machine: g.machine,
      cyclesPerOp: diff ? (c2 - c1) / (n2 - n1) : c1 / n1,
      method: diff ? "difference" : "total",
      iterations: diff ? `${n1} and ${n2}` : String(n1),
    });
  }
  const order = (v: string) => {
    const i = NANO_ORDER.indexOf(v);
    return i < 0 ? NANO_ORDER.length : i;
  };
  const strategyOrder = (s: string) => results.strategies.indexOf(s);
  return points.sort(
    (a, b) =>
      order(a.variant) - order(b.variant) ||
      a.variant.localeCompare(b.variant) ||
      a.machine.localeCompare(b.machine) ||
      strategyOrder(a.strategy) - strategyOrder(b.strategy),
  );
}

export function isNative(r: CellRow): boolean {
  return isNativeName(r.strategy);
}
