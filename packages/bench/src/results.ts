/**
 * Results on disk: `<dir>/results.json` (metadata + rows, the source of
 * truth) and `<dir>/results.csv` (the same rows, one per cell, flattened).
 * Both are rewritten after every cell through a temporary file and a rename,
 * so a run killed at any moment leaves valid files holding every finished
 * cell (the CSV is written first: at worst it holds one cell more than the
 * JSON, and the JSON decides what a resumed run skips).
 *
 * A JSON row and a CSV row are the same record: nested objects of the JSON
 * (param, config, events, native_events, cycles, counters) become dotted
 * CSV columns (`param.processes`, `counters.tlb.tlb.hits`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeStrategy } from "@shadowlab/hypervisor";
import { describeParams } from "@shadowlab/workloads";
import { stringify } from "csv-stringify/sync";
import { checkRows, RowsCheckError } from "./check-rows.ts";
import { columnsMarkdown } from "./columns.ts";
import { EVENT_CLASSES, type EventCounts, getProfile } from "./cost.ts";
import { findSuiteWorkload as findWorkload } from "./linux.ts";
import {
  type Cell,
  type ExcludedCell,
  expandCells,
  MACHINE_FIELDS,
  type MachineSpec,
  type Suite,
} from "./suite.ts";

export const RESULTS_FORMAT = "shadowlab-results/1";

/** The engine of a row written before rows named one: the interpreter, the only engine there was. */
export const LEGACY_ENGINE = "interp";

/**
 * Whole-run figures (boot to exit), the `run.` columns: `instructions`,
 * `cycles_total`, `native_cycles_total`, `slowdown`, and `events.<class>` /
 * `native_events.<class>` for every event class.
 */
export type RunFigures = Record<string, number | null>;

export interface ResultRow {
  suite: string;
  index: number;
  cell: string;
  workload: string;
  strategy: string;
  /** trap or hw for the hypervisor's cells, native for the baseline. */
  mode: string;
  /** The engine the cell's machine ran guest code with: jit or interp (rows of files written before engines existed: interp). */
  engine: string;
  params: string;
  machine: string;
  status: "ok" | "failed";
  failure: string;
  exit_reason: string;
  exit_code: number | null;
  output_equal: boolean | null;
  output_bytes: number | null;
  output_sha256: string;
  /** Instructions retired in the measured region of interest (every event, counter and cycle column is the region's). */
  roi_instructions: number | null;
  /** The operation count the guest declared at the region's end. */
  ops: number | null;
  profile: string;
  cycles_total: number | null;
  native_cycles_total: number | null;
  slowdown: number | null;
  cycles_per_op: number | null;
  wall_mean_ms: number | null;
  wall_p50_ms: number | null;
  wall_min_ms: number | null;
  wall_p99_ms: number | null;
  wall_rme_pct: number | null;
  /** The wall-clock mean's relative margin of error exceeds NOISY_RME_PCT. */
  wall_noisy: boolean | null;
  wall_samples: number | null;
  host_mips: number | null;
  unclassified: string;
  /** The commit that measured this row (`-dirty` with uncommitted source changes) and when (ISO 8601). */
  commit: string;
  date: string;
  param: Record<string, number | boolean | string>;
  config: MachineSpec;
  events: EventCounts;
  native_events: EventCounts;
  cycles: EventCounts;
  counters: Record<string, number>;
  run: RunFigures;
  /** Every timed sample in ms, in the order taken (results.json only). */
  wall_raw_ms: number[];
  error: string;
  output_diff: string;
}

/** A cell whose wall-clock margin of error is above this (percent of the mean) is flagged noisy. */
export const NOISY_RME_PCT = 10;

/** The scalar columns, in CSV order (the README documents each). */
export const FIXED_COLUMNS = [
  "suite",
  "index",
  "cell",
  "workload",
  "strategy",
  "mode",
  "engine",
  "params",
  "machine",
  "status",
  "failure",
  "exit_reason",
  "exit_code",
  "output_equal",
  "output_bytes",
  "output_sha256",
  "roi_instructions",
  "ops",
  "profile",
  "cycles_total",
  "native_cycles_total",
  "slowdown",
  "cycles_per_op",
  "wall_mean_ms",
  "wall_p50_ms",
  "wall_min_ms",
  "wall_p99_ms",
  "wall_rme_pct",
  "wall_noisy",
  "wall_samples",
  "host_mips",
  "unclassified",
  "commit",
  "date",
] as const;

/** Columns a different cost profile changes (everything else is a measurement or a counter). */
export const MODELED_COLUMNS = [
  "profile",
  "cycles_total",
  "native_cycles_total",
  "slowdown",
  "cycles_per_op",
  ...EVENT_CLASSES.map((c) => `cycles.${c}`),
  "run.cycles_total",
  "run.native_cycles_total",
  "run.slowdown",
];

/** The whole-run columns, after the region's. */
export const RUN_COLUMNS = [
  "run.instructions",
  "run.cycles_total",
  "run.native_cycles_total",
  "run.slowdown",
  ...EVENT_CLASSES.map((c) => `run.events.${c}`),
  ...EVENT_CLASSES.map((c) => `run.native_events.${c}`),
];

export const TRAILING_COLUMNS = ["error", "output_diff"] as const;

/** Counter groups in column order; within a group counters sort by name. */
const COUNTER_GROUPS = ["instructions.", "cycles", "time", "traps.", "tlb.", "walk.", "hv."];

function counterRank(name: string): number {
  for (let i = 0; i < COUNTER_GROUPS.length; i++) {
    const g = COUNTER_GROUPS[i];
    if (g.endsWith(".") ? name.startsWith(g) : name === g) return i;
  }
  return COUNTER_GROUPS.length;
}

export function sortCounterNames(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => counterRank(a) - counterRank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The CSV columns for a set of rows: fixed, config, param (sorted), events, native_events, cycles, counters, run, trailing. */
export function columnsOf(rows: readonly ResultRow[]): string[] {
  const params = [...new Set(rows.flatMap((r) => Object.keys(r.param)))].sort();
  const counters = sortCounterNames(rows.flatMap((r) => Object.keys(r.counters)));
  return [
    ...FIXED_COLUMNS,
    ...MACHINE_FIELDS.map((f) => `config.${f}`),
    ...params.map((p) => `param.${p}`),
    ...EVENT_CLASSES.map((c) => `events.${c}`),
    ...EVENT_CLASSES.map((c) => `native_events.${c}`),
    ...EVENT_CLASSES.map((c) => `cycles.${c}`),
    ...counters.map((c) => `counters.${c}`),
    ...RUN_COLUMNS,
    ...TRAILING_COLUMNS,
  ];
}

/** The value of a (possibly dotted) column of a row: a counter a row lacks is 0, a parameter it lacks is empty. */
export function cellValue(row: ResultRow, column: string): string | number | boolean | null {
  const dot = column.indexOf(".");
  if (dot < 0) return (row as unknown as Record<string, string | number | boolean | null>)[column] ?? null;
  const group = column.slice(0, dot);
  const key = column.slice(dot + 1);
  const obj = (row as unknown as Record<string, Record<string, unknown>>)[group];
  const v = obj?.[key];
  if (v === undefined) return group === "counters" ? 0 : null;
  return v as string | number | boolean;
}

export function toCsv(rows: readonly ResultRow[]): string {
  const columns = columnsOf(rows);
  const records = rows.map((r) =>
    columns.map((c) => {
      const v = cellValue(r, c);
      return v === null ? "" : typeof v === "boolean" ? (v ? "true" : "false") : String(v);
    }),
  );
  return stringify([columns, ...records]);
}

// ---- metadata ---------------------------------------------------------------------------------

export interface Metadata {
  format: string;
  suite: string;
  suiteHash: string;
  profile: string;
  /** The cost profile's cycles per event class, for readers without this code. */
  profileCycles: Record<string, number>;
  commit: string;
  commitDirty: boolean;
  node: string;
  cpu: string;
  cores: number;
  platform: string;
  /** When this results directory was started, and last written. */
  date: string;
  updated: string;
  jobs: number;
  /** Workers were child processes or threads. */
  isolation?: string;
  selection: { filter: string; shard: string };
  cells: { suite: number; selected: number; done: number; failed: number };
  /** Every selected cell has a row. */
  complete: boolean;
  /** The normalized suite these cells come from (so recost and merge need no suite lookup). */
  definition: Suite;
  /** Cells of the suite left out because the workload refuses the machine (never run, never failed). */
  excluded?: ExcludedCell[];
  /** What the workloads, strategies and parameters are, for readers of the files alone (the report). */
  descriptions?: Descriptions;
  /** For merged results: where the rows came from. */
  sources?: {
    dir: string;
    commit: string;
    cpu: string;
    node: string;
    date: string;
    selection: Metadata["selection"];
    rows: number;
  }[];
}

export interface Descriptions {
  workloads: Record<string, string>;
  strategies: Record<string, string>;
  params: Record<string, string>;
}

/** The registries' descriptions of every workload, strategy and parameter a suite uses. */
export function describeSuite(suite: Suite): Descriptions {
  const workloads: Record<string, string> = {};
  const params: Record<string, string> = {};
  for (const { workload } of suite.workloads) {
    const w = findWorkload(workload);
    if (!w) continue;
    workloads[w.name] = w.description;
    for (const p of describeParams(w)) if (p.description && !params[p.name]) params[p.name] = p.description;
  }
  const strategies = Object.fromEntries(suite.strategies.map((s) => [s, describeStrategy(s)]));
  return { workloads, strategies, params };
}

/** A commit id as rows carry it: `-dirty` when the source tree had uncommitted changes. */
export function commitLabel(m: Pick<Metadata, "commit" | "commitDirty">): string {
  return m.commitDirty ? `${m.commit}-dirty` : m.commit;
}

export interface ResultsFile {
  metadata: Metadata;
  rows: ResultRow[];
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync("git", args, {
      cwd: dirname(fileURLToPath(import.meta.url)),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined;
  }
}

/** What the dirty flag compares: the packages' code and the files that pin dependencies and builds. */
const SOURCE_PATHS = [
  ":(top)packages",
  ":(top)package.json",
  ":(top)package-lock.json",
  ":(top)turbo.json",
  ":(top)tsconfig.base.json",
  ":(top,exclude,glob)packages/*/README.md",
];

/** Where and on what this run happens. */
export function hostInfo(): Pick<Metadata, "commit" | "commitDirty" | "node" | "cpu" | "cores" | "platform"> {
  const commit = git(["rev-parse", "HEAD"]) ?? "unknown";
  // Only the code decides what was measured: results, reports and docs written since do not make a run "dirty".
  const status = git(["status", "--porcelain", "--untracked-files=no", "--", ...SOURCE_PATHS]);
  return {
    commit,
    commitDirty: status !== undefined && status !== "",
    node: process.version,
    cpu: cpus()[0]?.model?.trim() ?? "unknown",
    cores: availableParallelism(),
    platform: `${process.platform}-${process.arch}`,
  };
}

// ---- the store --------------------------------------------------------------------------------

export const JSON_NAME = "results.json";
export const CSV_NAME = "results.csv";
/** The data dictionary beside the CSV. */
export const COLUMNS_NAME = "columns.md";

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export class ResultsReadError extends Error {}

export function readResults(dir: string): ResultsFile | undefined {
  const path = join(dir, JSON_NAME);
  if (!existsSync(path)) return undefined;
  let parsed: ResultsFile;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8")) as ResultsFile;
  } catch (e) {
    throw new ResultsReadError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (parsed?.metadata?.format !== RESULTS_FORMAT || !Array.isArray(parsed.rows))
    throw new ResultsReadError(`${path}: not a shadowlab results file (format ${RESULTS_FORMAT})`);
  try {
    checkRows<ResultRow>(path, parsed.rows);
  } catch (e) {
    if (e instanceof RowsCheckError) throw new ResultsReadError(e.message);
    throw e;
  }
  // Files written before rows carried their own commit and date: every row comes from the file's run.
  // Files written before engines existed were measured by the interpreter (the only engine then).
  for (const r of parsed.rows) {
    r.commit ??= commitLabel(parsed.metadata);
    r.date ??= parsed.metadata.updated;
    r.engine ??= LEGACY_ENGINE;
  }
  return parsed;
}

/** Counts and completeness of `rows` against the cells a selection asked for. */
export function tally(
  rows: Iterable<ResultRow>,
  selected: readonly Pick<Cell, "id">[],
  suiteCells: number,
): Metadata["cells"] & { complete: boolean } {
  const want = new Set(selected.map((c) => c.id));
  let done = 0;
  let failed = 0;
  for (const r of rows) {
    if (!want.has(r.cell)) continue;
    done++;
    if (r.status !== "ok") failed++;
  }
  return { suite: suiteCells, selected: want.size, done, failed, complete: done === want.size };
}

export class ResultStore {
  readonly rows = new Map<string, ResultRow>();

  constructor(
    readonly dir: string,
    public metadata: Metadata,
    rows: Iterable<ResultRow> = [],
  ) {
    for (const r of rows) this.rows.set(r.cell, r);
  }

  put(row: ResultRow): void {
    this.rows.set(row.cell, row);
  }

  sortedRows(): ResultRow[] {
    return [...this.rows.values()].sort((a, b) => a.index - b.index);
  }

  /** Writes the CSV, then the JSON, each atomically. */
  save(selected: readonly Pick<Cell, "id">[]): void {
    mkdirSync(this.dir, { recursive: true });
    const rows = this.sortedRows();
    const t = tally(rows, selected, this.metadata.cells.suite);
    this.metadata = {
      ...this.metadata,
      updated: new Date().toISOString(),
      cells: { suite: t.suite, selected: t.selected, done: t.done, failed: t.failed },
      complete: t.complete,
    };
    writeAtomic(join(this.dir, CSV_NAME), toCsv(rows));
    writeAtomic(
      join(this.dir, COLUMNS_NAME),
      columnsMarkdown(columnsOf(rows), this.metadata, this.metadata.descriptions?.params),
    );
    writeAtomic(join(this.dir, JSON_NAME), `${JSON.stringify({ metadata: this.metadata, rows }, null, 1)}\n`);
  }
}

export function profileMetadata(name: string): Pick<Metadata, "profile" | "profileCycles"> {
  const p = getProfile(name);
  return { profile: p.name, profileCycles: { ...p.cycles } };
}

/** Every cell of the stored definition (what "complete" is measured against after a merge). */
export function definitionCells(def: Suite): Cell[] {
  return expandCells(def);
}
