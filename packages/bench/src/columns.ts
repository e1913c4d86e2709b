/**
 * The data dictionary: one registry of what every results column means, its
 * unit and, for counters, where the number comes from. `columns.md` beside
 * each results.csv is generated from it, so a CSV read years later (or by
 * someone without this code) explains itself. Fixed columns are listed one
 * by one (the type makes a new fixed column without a description a compile
 * error); grouped columns and counters are described by prefix pattern, so a
 * counter a strategy adds later is still described by its group.
 */
import { CLASS_DESCRIPTIONS, EVENT_CLASSES, type EventClass } from "./cost.ts";
import type { FIXED_COLUMNS, Metadata, TRAILING_COLUMNS } from "./results.ts";
import type { MACHINE_FIELDS } from "./suite.ts";

export interface ColumnDoc {
  meaning: string;
  /** "" where the column is text or a flag. */
  unit: string;
  /** Where the value comes from (which part of the machine or the hypervisor counts it). */
  source?: string;
}

type Fixed = (typeof FIXED_COLUMNS)[number] | (typeof TRAILING_COLUMNS)[number];

const MEASURED = "this run's host (differs between hosts and runs)";
const MODELED = "cost model: events × the profile's cycles per event (`shadowlab bench recost` changes it)";

export const FIXED_DOCS: Record<Fixed, ColumnDoc> = {
  suite: { meaning: "suite name", unit: "" },
  index: { meaning: "position of the cell in the expanded suite (rows are sorted by it)", unit: "" },
  cell: {
    meaning:
      "cell id: workload/params/machine/strategy (…/strategy@hw for hw-mode cells, …~interp for cells on the interp engine); unique in a file",
    unit: "",
  },
  workload: { meaning: "guest workload (see the workload registry)", unit: "" },
  strategy: { meaning: "`native` (bare machine) or the paging strategy the hypervisor ran", unit: "" },
  mode: {
    meaning:
      "how the hypervisor ran the guest kernel: `trap` (U-mode, trap-and-emulate) or `hw` (VS-mode, H extension); `native` for the baseline",
    unit: "",
  },
  engine: {
    meaning:
      "how the machine ran guest code: `jit` (hot blocks compiled to host functions) or `interp` (the reference interpreter); counters are the same, host time is not. Rows of files written before this column existed read as `interp`, the only engine then",
    unit: "",
  },
  params: { meaning: "the workload's full parameter set, key=value sorted by key", unit: "" },
  machine: { meaning: "the machine key, e.g. tlb64w64-lru-asid-ipt10-ram32", unit: "" },
  status: { meaning: "`ok` or `failed`", unit: "" },
  failure: {
    meaning:
      "why a cell failed: budget, guest-failed, output-mismatch, reference-mismatch, no-roi (the guest never completed a region of interest), native-failed, nondeterministic, crash, worker-died",
    unit: "",
  },
  exit_reason: { meaning: "how the guest stopped: exit, budget, wfi, failed", unit: "" },
  exit_code: { meaning: "the guest's exit code", unit: "" },
  output_equal: { meaning: "the guest's console output equals the native run's", unit: "true/false" },
  output_bytes: { meaning: "size of the guest's console output", unit: "bytes" },
  output_sha256: { meaning: "first 16 hex digits of the SHA-256 of the console output", unit: "" },
  roi_instructions: {
    meaning:
      "guest instructions retired in the measured region of interest (the guest's last complete work-begin/work-end marks); every event, counter and cycle column is the region's",
    unit: "instructions",
    source: "emu-core machine: counter snapshots at the ROI marks (instructions.total)",
  },
  ops: {
    meaning: "operations the guest declared at the end of its region (the roi.end mark's register)",
    unit: "operations",
    source: "the guest (workload)",
  },
  profile: { meaning: "the cost profile of the modeled columns", unit: "", source: MODELED },
  cycles_total: {
    meaning: "modeled cycles of this cell, all event classes",
    unit: "cycles",
    source: MODELED,
  },
  native_cycles_total: {
    meaning: "modeled cycles of the native run of the same workload, parameters and machine",
    unit: "cycles",
    source: MODELED,
  },
  slowdown: {
    meaning: "cycles_total / native_cycles_total (of the regions of interest)",
    unit: "ratio",
    source: MODELED,
  },
  cycles_per_op: { meaning: "cycles_total / ops", unit: "cycles per operation", source: MODELED },
  wall_mean_ms: {
    meaning: "mean wall-clock time of one timed sample of the region (tinybench)",
    unit: "ms",
    source: MEASURED,
  },
  wall_p50_ms: { meaning: "median wall-clock time of one timed sample", unit: "ms", source: MEASURED },
  wall_min_ms: { meaning: "fastest timed sample", unit: "ms", source: MEASURED },
  wall_p99_ms: {
    meaning: "99th percentile wall-clock time of one timed sample",
    unit: "ms",
    source: MEASURED,
  },
  wall_rme_pct: {
    meaning: "relative margin of error of wall_mean_ms (tinybench, 95%)",
    unit: "%",
    source: MEASURED,
  },
  wall_noisy: {
    meaning: "wall_rme_pct exceeds 10 %: read the wall-clock columns with care",
    unit: "true/false",
    source: MEASURED,
  },
  wall_samples: { meaning: "timed samples behind the wall_* columns", unit: "samples", source: MEASURED },
  host_mips: {
    meaning: "emulation speed: region instructions / mean seconds / 10^6",
    unit: "MIPS",
    source: MEASURED,
  },
  unclassified: {
    meaning: "hypervisor counters no cost rule knows (space-separated; they cost 0)",
    unit: "",
    source: "bench cost model (src/cost.ts)",
  },
  commit: {
    meaning: "git commit of the code that measured this row (`-dirty`: with uncommitted source changes)",
    unit: "",
  },
  date: { meaning: "when this row was measured (UTC, ISO 8601)", unit: "" },
  error: { meaning: "why a cell failed, in words", unit: "" },
  output_diff: {
    meaning: "line diff of the output against native's (or native's against the workload's reference model)",
    unit: "",
  },
};

export const MACHINE_DOCS: Record<(typeof MACHINE_FIELDS)[number], ColumnDoc> = {
  tlbEntries: { meaning: "TLB entries (each TLB when split)", unit: "entries" },
  tlbWays: { meaning: "TLB associativity (= tlbEntries: fully associative)", unit: "ways" },
  tlbReplacement: { meaning: "TLB replacement: lru or random (seeded)", unit: "" },
  tlbSeed: { meaning: "seed of random replacement", unit: "" },
  asidTags: { meaning: "TLB entries carry ASID tags", unit: "true/false" },
  splitTlb: { meaning: "separate instruction and data TLBs", unit: "true/false" },
  instructionsPerTick: { meaning: "instructions retired per mtime tick", unit: "instructions" },
  ramMib: { meaning: "guest RAM", unit: "MiB" },
};

/** Counters by name prefix, most specific first: what they count and which part of the code counts them. */
export const COUNTER_DOCS: readonly { prefix: string; doc: ColumnDoc }[] = [
  {
    prefix: "instructions.",
    doc: {
      meaning: "instructions retired, in total and by privilege mode",
      unit: "instructions",
      source: "emu-core hart",
    },
  },
  {
    prefix: "cycles",
    doc: { meaning: "the hart's cycle CSR (one per instruction)", unit: "cycles", source: "emu-core hart" },
  },
  {
    prefix: "time",
    doc: { meaning: "mtime at the end of the run", unit: "ticks", source: "emu-core CLINT" },
  },
  {
    prefix: "traps.exceptions.",
    doc: {
      meaning: "exceptions taken by the hart, by cause",
      unit: "traps",
      source: "emu-core hart (trap entry)",
    },
  },
  {
    prefix: "traps.interrupts.",
    doc: {
      meaning: "interrupts taken by the hart, by cause",
      unit: "traps",
      source: "emu-core hart (trap entry)",
    },
  },
  {
    prefix: "traps.",
    doc: {
      meaning:
        "traps by destination: toM (M-mode), toS (S-mode), toHandler (the TypeScript M-mode handler: the hypervisor)",
      unit: "traps",
      source: "emu-core hart",
    },
  },
  {
    prefix: "tlb.",
    doc: {
      meaning:
        "TLB model events: tlb.<tlb>.<event> with <tlb> tlb (unified) or itlb/dtlb; lookups, hits, misses, fills, evictions, flushes by kind, entries flushed",
      unit: "events",
      source: "emu-core TLB model (tlb.ts)",
    },
  },
  {
    prefix: "walk.",
    doc: {
      meaning:
        "hardware page walks: walks, memory references, A/D updates, faults, the level they ended at, page sizes found",
      unit: "events",
      source: "emu-core MMU (page walker)",
    },
  },
  {
    prefix: "memory.",
    doc: {
      meaning:
        "data accesses: misaligned = misaligned loads and stores the hart performed (machine option misaligned: perform)",
      unit: "accesses",
      source: "emu-core hart (load/store slow path)",
    },
  },
  {
    prefix: "device.",
    doc: {
      meaning:
        "device register loads and stores the hart made itself (UART, CLINT, test device); accesses the hypervisor emulates are hv.exit.mmio.*",
      unit: "accesses",
      source: "emu-core hart (device load/store path)",
    },
  },
  {
    prefix: "hext.",
    doc: {
      meaning:
        "H extension (hw mode): two-stage walks by stage (walkVs, walkG), PTE reads of 4 KiB two-stage walks (walk2d), hfence.vvma/gvma by kind",
      unit: "events",
      source: "emu-core H extension (hext/translate.ts, hext/insn.ts)",
    },
  },
  {
    prefix: "hv.nested.",
    doc: {
      meaning: "nested paging: G-stage entries filled on guest-page faults",
      unit: "events",
      source: "hypervisor nested paging strategy (paging/nested.ts)",
    },
  },
  {
    prefix: "hv.exit.emulate.",
    doc: {
      meaning:
        "VM exits to emulate a privileged instruction, by instruction (csr.<name>, sret, sfence.vma, wfi)",
      unit: "exits",
      source: "hypervisor monitor",
    },
  },
  {
    prefix: "hv.exit.mmio.",
    doc: {
      meaning: "VM exits to emulate a device load or store",
      unit: "exits",
      source: "hypervisor monitor",
    },
  },
  {
    prefix: "hv.exit.reflect.",
    doc: {
      meaning: "VM exits for a guest exception reflected into the guest, by cause",
      unit: "exits",
      source: "hypervisor monitor",
    },
  },
  {
    prefix: "hv.exit.",
    doc: {
      meaning:
        "VM exits by reason (hidden_fault: a shadow fill; wp_fault/pt_write: a write to a write-protected guest page table; interrupt.*; sbi)",
      unit: "exits",
      source: "hypervisor monitor and paging strategy",
    },
  },
  {
    prefix: "hv.inject.",
    doc: {
      meaning: "interrupts injected into the guest, by cause",
      unit: "events",
      source: "hypervisor monitor",
    },
  },
  {
    prefix: "hv.shadow.",
    doc: {
      meaning: "shadow page-table work: fills, flushes, entries flushed, tables created, cached, reclaimed",
      unit: "events",
      source: "hypervisor paging strategy (src/paging/)",
    },
  },
  {
    prefix: "hv.tlb_flush.",
    doc: {
      meaning: "machine TLB flushes issued by the hypervisor, by kind",
      unit: "flushes",
      source: "hypervisor paging strategy",
    },
  },
  {
    prefix: "hv.asid.",
    doc: {
      meaning: "machine-ASID allocations, recycles and wraparounds",
      unit: "events",
      source: "hypervisor ASID allocator",
    },
  },
  {
    prefix: "hv.idle.",
    doc: {
      meaning: "time skipped while every guest waited (not costed)",
      unit: "ticks",
      source: "hypervisor monitor",
    },
  },
  { prefix: "hv.", doc: { meaning: "other hypervisor counters", unit: "events", source: "hypervisor" } },
];

export function counterDoc(name: string): ColumnDoc {
  return (
    COUNTER_DOCS.find(({ prefix }) => (prefix.endsWith(".") ? name.startsWith(prefix) : name === prefix))
      ?.doc ?? {
      meaning: "a counter of a group this dictionary does not know",
      unit: "events",
    }
  );
}

function classDoc(c: string, what: string, unit: string, source?: string): ColumnDoc {
  const cls = (EVENT_CLASSES as readonly string[]).includes(c)
    ? CLASS_DESCRIPTIONS[c as EventClass]
    : "an event class";
  return { meaning: `${what}: ${cls}`, unit, source };
}

/** The whole-run columns (`run.<key>`): boot to exit, marks ignored. */
function runDoc(key: string): ColumnDoc {
  const whole = "of the whole run (boot to exit)";
  if (key === "instructions")
    return { meaning: `guest instructions retired ${whole}`, unit: "instructions", source: "emu-core hart" };
  if (key === "cycles_total") return { meaning: `modeled cycles ${whole}`, unit: "cycles", source: MODELED };
  if (key === "native_cycles_total")
    return { meaning: `modeled cycles of the native baseline ${whole}`, unit: "cycles", source: MODELED };
  if (key === "slowdown")
    return { meaning: "run.cycles_total / run.native_cycles_total", unit: "ratio", source: MODELED };
  const dot = key.indexOf(".");
  const group = key.slice(0, dot);
  const cls = key.slice(dot + 1);
  if (group === "events") return classDoc(cls, `events ${whole} by class`, "events");
  if (group === "native_events") return classDoc(cls, `events of the native baseline ${whole}`, "events");
  return { meaning: `a figure ${whole}`, unit: "" };
}

/** The description of any column of a results.csv (`paramDocs`: the workloads' parameter descriptions by name). */
export function columnDoc(column: string, paramDocs: Readonly<Record<string, string>> = {}): ColumnDoc {
  if (column in FIXED_DOCS) return FIXED_DOCS[column as Fixed];
  const dot = column.indexOf(".");
  const group = column.slice(0, dot);
  const key = column.slice(dot + 1);
  switch (group) {
    case "config":
      return MACHINE_DOCS[key as keyof typeof MACHINE_DOCS] ?? { meaning: "a machine setting", unit: "" };
    case "param":
      return {
        meaning: `workload parameter: ${paramDocs[key] || key} (empty where a workload lacks it)`,
        unit: "",
      };
    case "events":
      return classDoc(
        key,
        "events of this cell by class",
        "events",
        "counters summed by class (bench src/cost.ts)",
      );
    case "native_events":
      return classDoc(
        key,
        "the same for the native baseline",
        "events",
        "counters summed by class (bench src/cost.ts)",
      );
    case "cycles":
      return classDoc(key, "modeled cycles by class", "cycles", MODELED);
    case "counters":
      return counterDoc(key);
    case "run":
      return runDoc(key);
    default:
      return { meaning: "a column this dictionary does not know", unit: "" };
  }
}

const cellText = (t: string) => t.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** `columns.md`: how to read the CSV, where it came from, then one table row per column. */
export function columnsMarkdown(
  columns: readonly string[],
  m: Pick<Metadata, "suite" | "commit" | "commitDirty" | "date" | "updated" | "profile" | "node" | "cpu">,
  paramDocs: Readonly<Record<string, string>> = {},
): string {
  const lines = [
    `# results.csv of suite \`${m.suite}\`: the columns`,
    "",
    "Generated by `shadowlab bench` with the results; do not edit.",
    "",
    `- Measured at commit \`${m.commit}\`${m.commitDirty ? " with uncommitted source changes" : ""}, started ${m.date}, last written ${m.updated}, on ${m.cpu} with Node ${m.node}. Each row also carries its own \`commit\` and \`date\`.`,
    `- Modeled columns use cost profile \`${m.profile}\`; \`shadowlab bench recost\` reprices them from the counters.`,
    "- One row per cell; the first line names the columns; empty = not applicable (a failed cell, a parameter a workload lacks). A counter a row lacks is 0.",
    '- Counters are deterministic: the same on every host and every run. Columns whose source says "this run\'s host" are not.',
    "- `results.json` holds the same rows with the dotted groups as nested objects, and the metadata (suite definition, host, descriptions of the workloads and strategies).",
    "",
    "| column | meaning | unit | source |",
    "| --- | --- | --- | --- |",
  ];
  for (const c of columns) {
    const d = columnDoc(c, paramDocs);
    lines.push(`| \`${c}\` | ${cellText(d.meaning)} | ${d.unit} | ${cellText(d.source ?? "")} |`);
  }
  return `${lines.join("\n")}\n`;
}
