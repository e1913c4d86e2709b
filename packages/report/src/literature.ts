/**
 * "What the literature says": the trends the memory-virtualization
 * literature reports, each checked against these results. For every trend
 * the section gives the claim and its source, our figure computed from the
 * rows, and a verdict (reproduced, contradicted or not measured) with the
 * reason. A trend whose cells are not in the results is "not measured",
 * never guessed.
 *
 * It also states which of Adams & Agesen's per-operation totals our event
 * mix can match, and why the others cannot.
 */
import { NANO_AA_NAMES, NANO_WORKLOAD } from "./derive.ts";
import { type CellRow, isNativeName, type Results } from "./results.ts";

export type Verdict = "reproduced" | "contradicted" | "not measured";

export interface Trend {
  id: string;
  /** What the literature says. */
  claim: string;
  source: string;
  /** Our figure, from the results (empty when not measured). */
  figure: string;
  verdict: Verdict;
  /** Why this verdict: what was compared, or why nothing could be. */
  reason: string;
}

const AA = "Adams & Agesen, ASPLOS 2006";

/**
 * Adams & Agesen's nanobenchmark figures this lab carries (figure 4 of
 * "A Comparison of Software and Hardware Techniques for x86 Virtualization",
 * ASPLOS 2006: cycles per operation on a Pentium 4 672, natively and under
 * VMware's hardware VMM with software shadow paging). Only figures the
 * lab's cost profiles cite are listed; the others are not quoted here.
 */
export const ADAMS_AGESEN_2006 = {
  source: `${AA}, figure 4 (Pentium 4 672, cycles per operation)`,
  native: { in: 3_209, divzero: 889 } as Readonly<Record<string, number>>,
  hardwareVmm: { in: 15_826, ptemod: 12_733, pgfault: 11_242, divzero: 1_014 } as Readonly<
    Record<string, number>
  >,
} as const;

/** Their hardware VMM's order, most expensive first, over the operations whose figures we carry. */
export const AA_HARDWARE_ORDER = ["in", "ptemod", "pgfault", "divzero"] as const;
/** Our nano variant for each of their names. */
const OURS: Record<string, string> = Object.fromEntries(
  Object.entries(NANO_AA_NAMES).map(([o, t]) => [t, o]),
);

/** Which of their rows our event mix can match, and why the others cannot. */
export interface AaRow {
  op: string;
  native: number | null;
  hardwareVmm: number | null;
  matches: boolean;
  why: string;
}

export const AA_ROWS: readonly AaRow[] = [
  {
    op: "in",
    native: 3_209,
    hardwareVmm: 15_826,
    matches: true,
    why: "a device register read: natively the device's latency, under the VMM one exit, the VMM's emulation and the same latency, as on their hardware VMM",
  },
  {
    op: "ptemod",
    native: null,
    hardwareVmm: 12_733,
    matches: true,
    why: "one traced PTE write (exit + emulation) matches theirs; our loop also runs the sfence.vma RISC-V requires (one more exit), and shadow-proactive stops tracing a table written 3 times with no use in between (KVM's flood rule), so its whole ptemod loop is mostly sfence exits",
  },
  {
    op: "pgfault",
    native: null,
    hardwareVmm: 11_242,
    matches: true,
    why: "the reflected true fault, the hidden fault and its fill match theirs; in trap mode the guest handler's CSR reads, sfence.vma and sret each exit too, which VT-x does not, so our whole operation costs more",
  },
  {
    op: "divzero",
    native: 889,
    hardwareVmm: 1_014,
    matches: false,
    why: "their guest takes its own exception with no exit; in trap mode every guest exception exits and is reflected in software (our trap stands for divzero: RISC-V division by zero does not trap); only a mode that delegates guest exceptions can match",
  },
  {
    op: "syscall",
    native: null,
    hardwareVmm: null,
    matches: false,
    why: "in trap mode a system call exits and is reflected, and the kernel's CSR accesses and sret exit; a hardware VMM runs it without exits",
  },
  {
    op: "cr8wr",
    native: null,
    hardwareVmm: null,
    matches: false,
    why: "our csrwr (sie) exits and is emulated; their cr8wr cost depends on whether their VT-x shadowed the TPR, which the figures we carry do not say",
  },
  {
    op: "call/ret",
    native: null,
    hardwareVmm: null,
    matches: false,
    why: "no privileged state at all: it runs at native speed under every strategy, as under both their VMMs; there is no VMM cost to compare",
  },
];

// ---- helpers over rows ---------------------------------------------------------------------------

const okRows = (results: Results, workload: string) =>
  results.rows.filter((r) => r.ok && r.workload === workload);

/** Modeled slowdown against native (the results' own column, else the ratio of modeled cycles). */
function slowdown(r: CellRow): number | null {
  if (r.slowdown !== null && Number.isFinite(r.slowdown)) return r.slowdown;
  if (r.cyclesTotal !== null && r.nativeCyclesTotal) return r.cyclesTotal / r.nativeCyclesTotal;
  return null;
}

/** The execution mode of a row (`trap` when the results predate modes). */
function modeOf(r: CellRow): string {
  const m = r.config.mode ?? r.param.mode ?? (r as unknown as { mode?: unknown }).mode;
  return typeof m === "string" && m !== "" ? m : "trap";
}

/** Cells that differ only in strategy: workload, parameters, machine and mode. */
const groupKey = (r: CellRow) => `${r.workload}\u0000${r.params}\u0000${r.machine}\u0000${modeOf(r)}`;

interface Pair {
  a: CellRow;
  b: CellRow;
}

/** Every group where both strategies have an ok cell. */
function pairs(rows: readonly CellRow[], a: string, b: string): Pair[] {
  const groups = new Map<string, { a?: CellRow; b?: CellRow }>();
  for (const r of rows) {
    if (r.strategy !== a && r.strategy !== b) continue;
    const g = groups.get(groupKey(r)) ?? {};
    if (r.strategy === a) g.a = r;
    else g.b = r;
    groups.set(groupKey(r), g);
  }
  return [...groups.values()].filter((g): g is Pair => g.a !== undefined && g.b !== undefined);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const num = (n: number, digits = 1) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const counter = (r: CellRow, name: string) => r.counters[name] ?? 0;
const sumCounters = (r: CellRow, re: RegExp) =>
  Object.entries(r.counters).reduce((s, [k, v]) => (re.test(k) ? s + v : s), 0);

/**
 * Compare strategy `a` with `b` over every group of `workloads`, by
 * `value` (higher = more expensive). `expect` says which should be higher.
 */
function compare(
  results: Results,
  workloads: readonly string[],
  a: string,
  b: string,
  expect: "a" | "b",
  value: (r: CellRow) => number | null,
  what: string,
  scope = workloads.join(" or "),
): { figure: string; verdict: Verdict; reason: string } {
  const rows = workloads.flatMap((w) => okRows(results, w));
  const ps = pairs(rows, a, b)
    .map((p) => ({ va: value(p.a), vb: value(p.b), p }))
    .filter((x): x is { va: number; vb: number; p: Pair } => x.va !== null && x.vb !== null);
  if (ps.length === 0)
    return {
      figure: "",
      verdict: "not measured",
      reason: `no ${scope} cell ran under both ${a} and ${b} in these results`,
    };
  const agree = ps.filter((x) => (expect === "a" ? x.va > x.vb : x.vb > x.va)).length;
  const figure = `${what}: ${a} ${num(median(ps.map((x) => x.va)))} against ${b} ${num(median(ps.map((x) => x.vb)))} (median over ${ps.length} ${workloads.join("/")} cell group${ps.length === 1 ? "" : "s"}); ${expect === "a" ? a : b} higher in ${agree} of ${ps.length}`;
  const verdict: Verdict = agree * 2 > ps.length ? "reproduced" : "contradicted";
  return {
    figure,
    verdict,
    reason:
      verdict === "reproduced"
        ? `${expect === "a" ? a : b} costs more in most groups, as the literature says`
        : `${expect === "a" ? a : b} costs more in only ${agree} of ${ps.length} groups`,
  };
}

// ---- the trends --------------------------------------------------------------------------------

function onDemandPaysOnSwitches(results: Results): Trend {
  const c = compare(
    results,
    ["ctxswitch"],
    "shadow-ondemand",
    "shadow-proactive",
    "a",
    slowdown,
    "modeled slowdown on ctxswitch",
  );
  const fills = pairs(okRows(results, "ctxswitch"), "shadow-ondemand", "shadow-proactive");
  const extra =
    fills.length > 0
      ? `; shadow fills per guest satp write ${num(median(fills.map((p) => counter(p.a, "hv.shadow.fill") / Math.max(1, counter(p.a, "hv.exit.emulate.csr.satp")))))} against ${num(median(fills.map((p) => counter(p.b, "hv.shadow.fill") / Math.max(1, counter(p.b, "hv.exit.emulate.csr.satp")))))}`
      : "";
  return {
    id: "ondemand-switches",
    claim:
      "Shadow tables filled on demand are thrown away at every address-space switch and refilled, so context switching is what on-demand pays for; keeping shadows across switches removes that cost.",
    source: `${AA} (section 4: context switches under the hardware VMM); KVM's shadow page cache`,
    figure: c.figure + (c.figure ? extra : ""),
    verdict: c.verdict,
    reason: c.reason,
  };
}

function proactivePaysOnChurn(results: Results): Trend {
  const c = compare(
    results,
    ["forkwait", "pagefault"],
    "shadow-proactive",
    "shadow-ondemand",
    "a",
    slowdown,
    "modeled slowdown on forkwait and pagefault",
  );
  const fork = okRows(results, "forkwait").filter((r) => r.strategy === "shadow-proactive");
  const perFork = fork.filter((r) => r.ops);
  const traced =
    perFork.length > 0
      ? `; shadow-proactive's traced PTE writes (hv.exit.wp_fault) per fork, median ${num(median(perFork.map((r) => counter(r, "hv.exit.wp_fault") / (r.ops ?? 1))))}`
      : fork.length > 0
        ? `; traced PTE writes (hv.exit.wp_fault) per forkwait cell, median ${num(median(fork.map((r) => counter(r, "hv.exit.wp_fault"))), 0)}`
        : "";
  return {
    id: "proactive-churn",
    claim:
      "Write-protected (traced) guest page tables make every page-table write an exit, so proactive shadows pay for page-table churn, and fork — which write-protects the parent's writable pages and copies its tables — is their worst case.",
    source: `${AA} (forkwait and ptemod: traced page-table writes dominate the hardware VMM's cost)`,
    figure: c.figure + (c.figure ? traced : ""),
    verdict: c.verdict,
    reason: c.reason,
  };
}

function taggedRemovesRefills(results: Results): Trend {
  const rows = okRows(results, "ctxswitch").filter((r) => r.param.asid !== false);
  const refills = (r: CellRow) => counter(r, "hv.shadow.fill") + sumCounters(r, /^tlb\.[^.]+\.misses$/);
  const c = compare(
    { ...results, rows },
    ["ctxswitch"],
    "shadow-ondemand",
    "shadow-tagged",
    "a",
    refills,
    "shadow fills + TLB misses on ctxswitch with ASIDs",
    "ctxswitch cell with asid=true (without guest ASIDs tagging has nothing to keep apart)",
  );
  return {
    id: "tagged-refills",
    claim:
      "Tagging TLB entries (and shadows) with an address-space identifier lets a switch keep them, so the refills that follow every switch disappear.",
    source: "VT-x VPID and AMD-V ASID (Intel SDM vol. 3, 28.1; AMD APM vol. 2, 15.16); RISC-V satp.ASID",
    figure: c.figure,
    verdict: c.verdict,
    reason: c.reason,
  };
}

function nestedPaysOnTlbMisses(results: Results): Trend {
  const nested = results.strategies.find((s) => s === "nested" || s.startsWith("nested"));
  if (!nested)
    return {
      id: "nested-tlb-misses",
      claim:
        "Nested (two-dimensional) paging removes the VMM from page-table updates, but each TLB miss walks both dimensions: up to 24 references on x86-64 against 4, so nested pays on TLB misses.",
      source: "Bhargava et al., ASPLOS 2008 (two-dimensional page walks); Adams & Agesen section 7",
      figure: "",
      verdict: "not measured",
      reason: 'no nested strategy in these results (it runs in hw mode: a suite with modes ["trap", "hw"])',
    };
  // Every page-walk reference, one-dimensional (walk.*) and two-dimensional (hext.walkVs/walkG: a
  // VS-stage walk's PTE reads and the G-stage walks that translate their addresses and the data's).
  const perMiss = (r: CellRow) => {
    const misses = sumCounters(r, /^tlb\.[^.]+\.misses$/);
    const refs =
      counter(r, "walk.memRefs") + counter(r, "hext.walkVs.memRefs") + counter(r, "hext.walkG.memRefs");
    return misses > 0 ? refs / misses : null;
  };
  const c = compare(
    results,
    [...new Set(results.rows.map((r) => r.workload))],
    nested,
    // the shadow strategy of the same mode as nested, so the two share cell groups
    results.strategies.includes("shadow-ondemand@hw") ? "shadow-ondemand@hw" : "shadow-ondemand",
    "a",
    perMiss,
    "walk references per TLB miss",
  );
  return {
    id: "nested-tlb-misses",
    claim:
      "Nested (two-dimensional) paging removes the VMM from page-table updates, but each TLB miss walks both dimensions, so nested pays on TLB misses.",
    source: "Bhargava et al., ASPLOS 2008 (two-dimensional page walks)",
    ...c,
  };
}

/**
 * Cycles per operation by mode, strategy and our nano variant: the region of
 * interest's figure when the results have one, else the difference of two
 * iteration counts, else the total over one count (boot included).
 */
export function nanoPerOp(results: Results): Map<string, Map<string, Map<string, number>>> {
  const runs = new Map<string, [number, number][]>();
  const roi = new Map<string, number>();
  const bootIncluded = new Set<string>();
  for (const r of okRows(results, NANO_WORKLOAD)) {
    const key = `${modeOf(r)}\u0000${r.strategy}\u0000${String(r.param.variant)}\u0000${r.machine}`;
    if (r.cyclesPerOp !== null && r.ops) {
      if (!roi.has(key)) roi.set(key, r.cyclesPerOp);
      continue;
    }
    const n = r.param.iterations;
    if (typeof n !== "number" || n <= 0 || r.cyclesTotal === null) continue;
    runs.set(key, [...(runs.get(key) ?? []), [n, r.cyclesTotal]]);
  }
  const perOps = new Map<string, number>(roi);
  for (const [key, rs] of runs) {
    if (perOps.has(key)) continue;
    rs.sort((x, y) => x[0] - y[0]);
    const [n1, c1] = rs[0];
    const [n2, c2] = rs[rs.length - 1];
    perOps.set(key, n2 > n1 ? (c2 - c1) / (n2 - n1) : c1 / n1);
    if (n2 === n1) bootIncluded.add(key.split("\u0000")[0]);
  }
  const out = new Map<string, Map<string, Map<string, number>>>();
  for (const [key, perOp] of perOps) {
    const [mode, strategy, variant] = key.split("\u0000");
    const byStrategy = out.get(mode) ?? new Map<string, Map<string, number>>();
    out.set(mode, byStrategy);
    const byVariant = byStrategy.get(strategy) ?? new Map<string, number>();
    byStrategy.set(strategy, byVariant);
    if (!byVariant.has(variant)) byVariant.set(variant, perOp);
  }
  NANO_TOTAL_ONLY.set(out, bootIncluded);
  return out;
}

/** Modes whose per-operation figures are a total over one iteration count (what lies outside the loop included). */
const NANO_TOTAL_ONLY = new WeakMap<object, Set<string>>();

function nanoOrdering(results: Results): Trend[] {
  const base = {
    claim: `On the hardware VMM, ${AA_HARDWARE_ORDER.map((op) => `${op} (${num(ADAMS_AGESEN_2006.hardwareVmm[op], 0)})`).join(" > ")} cycles per operation.`,
    source: ADAMS_AGESEN_2006.source,
  };
  const perOp = nanoPerOp(results);
  if (perOp.size === 0)
    return [
      {
        id: "nano-order",
        ...base,
        figure: "",
        verdict: "not measured",
        reason: "no nanobenchmark cells in these results (the nano suite has them)",
      },
    ];
  return [...perOp.entries()].map(([mode, byStrategy]) => {
    const lines: string[] = [];
    const bad: string[] = [];
    for (const [strategy, byVariant] of byStrategy) {
      if (isNativeName(strategy)) continue;
      const ops = AA_HARDWARE_ORDER.filter((op) => byVariant.has(OURS[op] ?? op));
      if (ops.length < 2) continue;
      const ours = [...ops].sort((x, y) => byVariant.get(OURS[y] ?? y)! - byVariant.get(OURS[x] ?? x)!);
      lines.push(
        `${strategy}: ${ours.map((op) => `${op} ${num(byVariant.get(OURS[op] ?? op)!, 0)}`).join(" > ")}`,
      );
      const theirs = AA_HARDWARE_ORDER.filter((op) => ops.includes(op));
      if (ours.join() !== theirs.join()) bad.push(strategy);
    }
    if (lines.length === 0)
      return {
        id: `nano-order-${mode}`,
        ...base,
        figure: "",
        verdict: "not measured" as Verdict,
        reason: `mode ${mode}: fewer than two of ${AA_HARDWARE_ORDER.join(", ")} ran under a strategy`,
      };
    return {
      id: `nano-order-${mode}`,
      ...base,
      figure: `mode ${mode}, ${results.rows.find((r) => r.profile)?.profile || "the results' profile"}${NANO_TOTAL_ONLY.get(perOp)?.has(mode) ? ", cycles / iterations at one iteration count (what runs outside the loop included)" : ", per operation of the region of interest (or of two iteration counts)"}: ${lines.join("; ")}`,
      verdict: (bad.length === 0 ? "reproduced" : "contradicted") as Verdict,
      reason:
        bad.length === 0
          ? "every strategy orders these operations as their hardware VMM did"
          : `${bad.join(", ")} order${bad.length === 1 ? "s" : ""} them differently: ${mode === "trap" ? "in trap mode every guest exception exits and is reflected (divzero takes no exit on their hardware VMM), the guest handler's CSR accesses and sret exit, and" : ""} shadow-proactive stops tracing the ptemod loop's table after 3 writes with no use in between (KVM's flood rule), so its ptemod is an sfence exit rather than a traced write`,
    };
  });
}

/** Every trend, in a fixed order, computed from the results. */
export function literatureTrends(results: Results): Trend[] {
  return [
    onDemandPaysOnSwitches(results),
    proactivePaysOnChurn(results),
    taggedRemovesRefills(results),
    nestedPaysOnTlbMisses(results),
    ...nanoOrdering(results),
  ];
}

// ---- HTML ----------------------------------------------------------------------------------------

const escHtml = (s: unknown): string =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

/** Prose cells wrap (the page's tables keep numbers on one line) and the tables fit the page. */
const WRAP = ' style="white-space: normal; vertical-align: top"';
const FIT = ' style="width: 100%; table-layout: fixed"';
const cols = (widths: number[]) =>
  `<colgroup>${widths.map((w) => `<col style="width: ${w}%">`).join("")}</colgroup>`;

/** The "What the literature says" section of the report. */
export function literatureSection(results: Results): string {
  const trends = literatureTrends(results);
  const rows = trends
    .map(
      (t) =>
        `<tr data-trend="${escHtml(t.id)}"><td${WRAP}>${escHtml(t.claim)}<br><small>${escHtml(t.source)}</small></td><td${WRAP}>${t.figure ? escHtml(t.figure) : "—"}</td><td class="verdict ${escHtml(t.verdict.replace(" ", "-"))}"${WRAP}><strong>${escHtml(t.verdict)}</strong></td><td${WRAP}>${escHtml(t.reason)}</td></tr>`,
    )
    .join("\n");
  const aa = AA_ROWS.map(
    (r) =>
      `<tr><td>${escHtml(r.op)}</td><td class="num">${r.native === null ? "—" : num(r.native, 0)}</td><td class="num">${r.hardwareVmm === null ? "—" : num(r.hardwareVmm, 0)}</td><td>${r.matches ? "yes" : "no"}</td><td${WRAP}>${escHtml(r.why)}</td></tr>`,
  ).join("\n");
  return `<section id="literature"><h2>What the literature says</h2>
<p class="how">Each trend the literature reports, checked against these results: our figure is computed from the cells above (modeled cycles under the results' cost profile), the verdict says whether it holds here, and why.</p>
<table id="literature-trends"${FIT}>${cols([34, 30, 11, 25])}<thead><tr><th>the literature</th><th>our figure</th><th>verdict</th><th>why</th></tr></thead><tbody>
${rows}
</tbody></table>
<h3>Adams &amp; Agesen's per-operation totals</h3>
<p class="how">${escHtml(ADAMS_AGESEN_2006.source)}. The <code>vtx-2006</code> profile is derived from these figures; a bench test recomputes them from measured event mixes where ours match theirs. "—": no figure carried here.</p>
<table id="literature-aa"${FIT}>${cols([10, 9, 12, 10, 59])}<thead><tr><th>operation</th><th>native</th><th>hardware VMM</th><th>our mix matches</th><th>why</th></tr></thead><tbody>
${aa}
</tbody></table></section>`;
}
