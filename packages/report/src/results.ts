/**
 * Reading a results directory: `results.json` (metadata + rows, the source
 * of truth) and `results.csv` (the same rows, nested objects flattened into
 * dotted columns). The report imports nothing from the bench package: it
 * knows the format only from the files, and reads it defensively.
 *
 * - Columns are discovered by name: `cycles.<class>` (modeled cycles by event
 *   class), `events.<class>`, `counters.<name>`, `param.<name>`,
 *   `config.<field>`; a strategy, an event class or a counter added later
 *   shows up with no change here.
 * - Every problem names the file, the row (cell) and the column.
 * - A failed cell is a row like any other, with `status` != "ok": it is kept,
 *   and the report calls it out.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { z } from "zod";

export const JSON_NAME = "results.json";
export const CSV_NAME = "results.csv";
export const NATIVE = "native";

/** native, or native on another engine than the file's default (`native~interp`): a baseline, not a strategy. */
export const isNativeName = (strategy: string): boolean =>
  strategy === NATIVE || strategy.startsWith(`${NATIVE}~`);

/** The engine of a row written before rows named one: the interpreter, the only engine then. */
export const LEGACY_ENGINE = "interp";

/** A results directory that cannot be read: the message names the file and what is wrong. */
export class ResultsError extends Error {
  override name = "ResultsError";
}

export type Scalar = string | number | boolean;

export interface WallStats {
  meanMs: number | null;
  p50Ms: number | null;
  minMs: number | null;
  p99Ms: number | null;
  rmePct: number | null;
  /** The bench flagged the mean's margin of error as too wide (wall_noisy). */
  noisy: boolean;
  samples: number | null;
}

/** One cell, normalized. */
export interface CellRow {
  index: number;
  cell: string;
  workload: string;
  strategy: string;
  /** Canonical `key=value,...` texts of the parameters and the machine. */
  params: string;
  machine: string;
  param: Record<string, Scalar>;
  config: Record<string, Scalar>;
  ok: boolean;
  status: string;
  failure: string;
  error: string;
  outputDiff: string;
  outputEqual: boolean | null;
  exitReason: string;
  /** Guest instructions of the measured region of interest (older results: of the whole run). */
  instructions: number | null;
  /** Operations the guest declared in its region, and modeled cycles per operation. */
  ops: number | null;
  cyclesPerOp: number | null;
  profile: string;
  cyclesTotal: number | null;
  nativeCyclesTotal: number | null;
  slowdown: number | null;
  wall: WallStats;
  /** Whole-run figures (the `run.` columns: instructions, cycles_total, slowdown, events.*). */
  run: Record<string, number>;
  hostMips: number | null;
  /** Modeled cycles by event class, events by class, and every deterministic counter. */
  cycles: Record<string, number>;
  events: Record<string, number>;
  counters: Record<string, number>;
}

export interface Results {
  dir: string;
  /** Which file the rows came from. */
  source: string;
  suite: string;
  metadata: Record<string, unknown>;
  rows: CellRow[];
  /** Event classes present, in column order. */
  eventClasses: string[];
  /** Strategies: native first, then the others sorted (the colour domain of every chart). */
  strategies: string[];
  /** Problems that did not stop the report (shown on the page and printed). */
  warnings: string[];
}

// ---- flat records ------------------------------------------------------------------------------

type Flat = Record<string, unknown>;

/** Nested objects become dotted keys: `{counters: {"tlb.tlb.hits": 3}}` -> `counters.tlb.tlb.hits`. */
export function flatten(obj: Record<string, unknown>, prefix = "", out: Flat = {}): Flat {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else out[key] = v;
  }
  return out;
}

const GROUPS = {
  param: /^(?:param|params)\.(.+)$/,
  config: /^(?:config|machine)\.(.+)$/,
  cycles: /^cycles\.(.+)$/,
  events: /^events\.(.+)$/,
  counters: /^counters?\.(.+)$/,
  run: /^run\.(.+)$/,
} as const;

/** A number from a JSON number or a CSV text; "" / null / undefined are null; anything else is an error. */
const num = z.preprocess((v) => {
  if (v === "" || v === null || v === undefined) return null;
  if (typeof v === "string") {
    const t = v.trim();
    if (t === "NaN") return Number.NaN;
    return /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t) || /^[-+]?Infinity$/.test(t) ? Number(t) : v;
  }
  return v;
}, z.number({ error: "must be a number" }).nullable());

const bool = z.preprocess((v) => {
  if (v === "" || v === null || v === undefined) return null;
  if (v === "true" || v === "1" || v === 1) return true;
  if (v === "false" || v === "0" || v === 0) return false;
  return v;
}, z.boolean({ error: "must be true or false" }).nullable());

const text = z.preprocess(
  (v) => (v === null || v === undefined ? "" : typeof v === "string" ? v : String(v)),
  z.string(),
);
const required = z.preprocess(
  (v) => (typeof v === "number" ? String(v) : v),
  z.string({ error: "is required" }).min(1, { error: "must not be empty" }),
);

/** The scalar columns the report needs; the rest are discovered. */
const rowSchema = z.object({
  index: num,
  cell: text,
  workload: required,
  strategy: required,
  mode: text,
  engine: text,
  params: text,
  machine: text,
  status: text,
  failure: text,
  error: text,
  output_diff: text,
  output_equal: bool,
  exit_reason: text,
  roi_instructions: num,
  instructions: num,
  ops: num,
  cycles_per_op: num,
  profile: text,
  cycles_total: num,
  native_cycles_total: num,
  slowdown: num,
  wall_mean_ms: num,
  wall_p50_ms: num,
  wall_min_ms: num,
  wall_p99_ms: num,
  wall_noisy: bool,
  wall_rme_pct: num,
  wall_samples: num,
  host_mips: num,
});

function describeIssue(issue: z.core.$ZodIssue, flat: Flat): string {
  const col = issue.path.map(String).join(".");
  const got = flat[col];
  const shown = got === undefined ? "nothing" : JSON.stringify(got);
  return `column "${col}" ${issue.message}${got === undefined ? "" : ` (got ${shown.length > 40 ? `${shown.slice(0, 40)}...` : shown})`}`;
}

function scalarOf(v: unknown): Scalar | undefined {
  if (v === null || v === undefined || v === "") return undefined;
  if (typeof v === "number" || typeof v === "boolean") return v;
  const s = String(v);
  if (s === "true") return true;
  if (s === "false") return false;
  if (/^[-+]?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(s)) return Number(s);
  return s;
}

/** `key=value,...` with keys sorted (the bench's canonical text). */
export function keyText(o: Record<string, Scalar>): string {
  return Object.keys(o)
    .sort()
    .map((k) => `${k}=${String(o[k])}`)
    .join(",");
}

/** One flat record (a CSV row, or a flattened JSON row) as a cell, or a message saying what is wrong. */
export function normalizeRow(flat: Flat, position: number): CellRow | string {
  const parsed = rowSchema.safeParse(flat);
  if (!parsed.success) return parsed.error.issues.map((i) => describeIssue(i, flat)).join("; ");
  const r = parsed.data;
  const param: Record<string, Scalar> = {};
  const config: Record<string, Scalar> = {};
  const cycles: Record<string, number> = {};
  const events: Record<string, number> = {};
  const counters: Record<string, number> = {};
  const run: Record<string, number> = {};
  const problems: string[] = [];
  for (const [k, v] of Object.entries(flat)) {
    let m = GROUPS.param.exec(k);
    if (m) {
      const s = scalarOf(v);
      if (s !== undefined) param[m[1]] = s;
      continue;
    }
    m = GROUPS.config.exec(k);
    if (m) {
      const s = scalarOf(v);
      if (s !== undefined) config[m[1]] = s;
      continue;
    }
    for (const [group, target] of [
      ["cycles", cycles],
      ["events", events],
      ["counters", counters],
      ["run", run],
    ] as const) {
      m = GROUPS[group].exec(k);
      if (!m) continue;
      const n = num.safeParse(v);
      if (!n.success) problems.push(`column "${k}" must be a number (got ${JSON.stringify(v)})`);
      // A counter the CSV lists for a row that lacks it is 0; the JSON leaves it out: keep neither.
      else if (n.data !== null && !(group === "counters" && n.data === 0)) target[m[1]] = n.data;
      break;
    }
  }
  if (problems.length > 0) return problems.join("; ");
  const status = r.status || (r.failure || r.error ? "failed" : "ok");
  // A cell of another execution mode than trap-and-emulate is its own series (`shadow-tagged@hw`),
  // so charts never mix the two modes of one strategy; native runs in no mode.
  const mode = r.mode && r.strategy !== "native" ? r.mode : "";
  if (mode) config.mode = mode;
  const strategy = mode && mode !== "trap" ? `${r.strategy}@${mode}` : r.strategy;
  // Which engine ran the cell: a file with several is split into series by separateEngines.
  config.engine = r.engine || LEGACY_ENGINE;
  return {
    index: r.index ?? position,
    cell:
      r.cell || `${r.workload}/${r.params || keyText(param)}/${r.machine || keyText(config)}/${r.strategy}`,
    workload: r.workload,
    strategy,
    params: r.params || keyText(param),
    machine: r.machine || keyText(config),
    param,
    config,
    ok: status === "ok",
    status,
    failure: r.failure,
    error: r.error,
    outputDiff: r.output_diff,
    outputEqual: r.output_equal,
    exitReason: r.exit_reason,
    instructions: r.roi_instructions ?? r.instructions,
    ops: r.ops,
    cyclesPerOp: r.cycles_per_op,
    profile: r.profile,
    cyclesTotal: r.cycles_total,
    nativeCyclesTotal: r.native_cycles_total,
    slowdown: r.slowdown,
    wall: {
      meanMs: r.wall_mean_ms,
      p50Ms: r.wall_p50_ms,
      minMs: r.wall_min_ms,
      p99Ms: r.wall_p99_ms,
      noisy: r.wall_noisy === true,
      rmePct: r.wall_rme_pct,
      samples: r.wall_samples,
    },
    hostMips: r.host_mips,
    cycles,
    events,
    counters,
    run,
  };
}

// ---- files -------------------------------------------------------------------------------------

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new ResultsError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** Rows from a CSV text; throws ResultsError naming the line. */
export function parseCsvRows(csv: string, path: string): Flat[] {
  if (csv.trim() === "") return [];
  let records: string[][];
  try {
    records = parseCsv(csv, { relax_column_count: false, skip_empty_lines: true }) as string[][];
  } catch (e) {
    const err = e as Error & { lines?: number; code?: string };
    const where = err.lines ? `line ${err.lines}: ` : "";
    throw new ResultsError(
      `${path}: malformed CSV: ${where}${err.message.replace(/^Invalid (Record Length|Opening Quote|Closing Quote)?:?\s*/i, (m) => m)}`,
    );
  }
  const [header, ...body] = records;
  if (!header || header.length === 0) throw new ResultsError(`${path}: malformed CSV: no header line`);
  const missing = ["workload", "strategy"].filter((c) => !header.includes(c));
  if (missing.length > 0)
    throw new ResultsError(
      `${path}: malformed CSV: the header has no ${missing.map((c) => `"${c}"`).join(" or ")} column (is this a shadowlab results file?)`,
    );
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined)
    throw new ResultsError(`${path}: malformed CSV: column "${dup}" appears twice in the header`);
  return body.map((rec) => Object.fromEntries(header.map((h, i) => [h, rec[i]])));
}

const jsonFileSchema = z.object(
  {
    metadata: z.record(z.string(), z.unknown(), { error: "must be an object" }).optional(),
    rows: z.array(z.record(z.string(), z.unknown(), { error: "must be an object" }), {
      error: "must be a list of rows",
    }),
  },
  { error: "must be an object with metadata and rows" },
);

/** Metadata and flat rows from a results.json text; throws ResultsError naming what is wrong. */
export function parseJsonRows(
  json: string,
  path: string,
): { metadata: Record<string, unknown>; rows: Flat[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new ResultsError(`${path}: malformed JSON: ${(e as Error).message}`);
  }
  const parsed = jsonFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.map(String).join(".") : "the file";
    throw new ResultsError(`${path}: not a shadowlab results file: ${where} ${issue.message}`);
  }
  return { metadata: parsed.data.metadata ?? {}, rows: parsed.data.rows.map((r) => flatten(r)) };
}

/**
 * Rows of a file measured on several engines: each engine but jit is its own
 * series (`shadow-tagged~interp`, `native~interp`), so that no chart averages
 * or draws the host time of two engines as one. A file of one engine keeps its names.
 */
export function separateEngines(rows: CellRow[]): CellRow[] {
  const engines = new Set(rows.map((r) => r.config.engine));
  if (engines.size < 2) return rows;
  return rows.map((r) =>
    r.config.engine === "jit" ? r : { ...r, strategy: `${r.strategy}~${r.config.engine}` },
  );
}

function normalizeAll(flats: Flat[], path: string): CellRow[] {
  const rows: CellRow[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  flats.forEach((f, i) => {
    const r = normalizeRow(f, i);
    const name = typeof f.cell === "string" && f.cell ? ` (cell "${f.cell}")` : "";
    if (typeof r === "string") problems.push(`row ${i + 1}${name}: ${r}`);
    else if (seen.has(r.cell))
      problems.push(`row ${i + 1}${name}: repeats row ${seen.get(r.cell)}; a cell may appear once`);
    else {
      seen.set(r.cell, i + 1);
      rows.push(r);
    }
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).map((p) => `  ${p}`);
    if (problems.length > 5) shown.push(`  ... and ${problems.length - 5} more`);
    throw new ResultsError(
      `${path}: ${problems.length} malformed row${problems.length === 1 ? "" : "s"}\n${shown.join("\n")}`,
    );
  }
  return separateEngines(rows);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Whether a directory holds a results file. */
export function hasResults(dir: string): boolean {
  return existsSync(join(dir, JSON_NAME)) || existsSync(join(dir, CSV_NAME));
}

/**
 * Reads a results directory. results.json decides when present (results.csv
 * is then checked against it, and a problem with it is a warning); otherwise
 * results.csv alone. An empty suite, a malformed file or a malformed row is a
 * ResultsError saying which and what.
 */
export function readResults(dir: string): Results {
  if (!isDir(dir)) throw new ResultsError(`${dir}: no such directory`);
  const jsonPath = join(dir, JSON_NAME);
  const csvPath = join(dir, CSV_NAME);
  const warnings: string[] = [];
  let metadata: Record<string, unknown> = {};
  let rows: CellRow[];
  let source: string;
  let firstSuite = "";
  if (existsSync(jsonPath)) {
    const j = parseJsonRows(readText(jsonPath), jsonPath);
    metadata = j.metadata;
    firstSuite = typeof j.rows[0]?.suite === "string" ? j.rows[0].suite : "";
    rows = normalizeAll(j.rows, jsonPath);
    source = jsonPath;
    if (existsSync(csvPath)) {
      try {
        const c = parseCsvRows(readText(csvPath), csvPath);
        if (c.length !== rows.length)
          warnings.push(
            `${csvPath} has ${c.length} rows, ${JSON_NAME} ${rows.length} (a run was interrupted between the two writes?); the report uses ${JSON_NAME}`,
          );
      } catch (e) {
        if (!(e instanceof ResultsError)) throw e;
        warnings.push(`${e.message} (the report uses ${JSON_NAME})`);
      }
    }
  } else if (existsSync(csvPath)) {
    const flats = parseCsvRows(readText(csvPath), csvPath);
    firstSuite = typeof flats[0]?.suite === "string" ? flats[0].suite : "";
    rows = normalizeAll(flats, csvPath);
    source = csvPath;
    warnings.push(`no ${JSON_NAME} in ${dir}: read ${CSV_NAME} alone, without the run's metadata`);
  } else {
    throw new ResultsError(
      `${dir}: no ${JSON_NAME} or ${CSV_NAME} here (run \`shadowlab bench run <suite>\` first, or point at results/<suite>)`,
    );
  }
  if (rows.length === 0)
    throw new ResultsError(
      `${source}: the suite has no cells (0 rows): nothing to report; run the suite (or finish it with --resume) first`,
    );
  rows.sort((a, b) => a.index - b.index);

  const suite =
    (typeof metadata.suite === "string" && metadata.suite) ||
    firstSuite ||
    dir.split(/[\\/]/).filter(Boolean).pop() ||
    "results";

  // Event classes in the order the cost profile lists them (the bench's column order), then any
  // others in the order the rows name them: the report knows no class list of its own.
  const seenClasses = new Set(rows.flatMap((r) => Object.keys(r.cycles)));
  const profile = metadata.profileCycles;
  const profileOrder = profile && typeof profile === "object" ? Object.keys(profile) : [];
  const eventClasses = [...new Set([...profileOrder.filter((c) => seenClasses.has(c)), ...seenClasses])];
  const definition = metadata.definition as { strategies?: unknown } | undefined;
  const declared = Array.isArray(definition?.strategies)
    ? definition.strategies.filter((s): s is string => typeof s === "string")
    : [];
  // A declared strategy whose cells all ran in another mode appears only as those (`nested@hw`).
  const named = new Set(rows.map((r) => r.strategy));
  const onlyInOtherModes = (s: string) =>
    !named.has(s) && [...named].some((n) => n.startsWith(`${s}@`) || n.startsWith(`${s}~`));
  const strategies = orderStrategies([...declared.filter((s) => !onlyInOtherModes(s)), ...named]);

  const failed = rows.filter((r) => !r.ok).length;
  const cells = metadata.cells as { selected?: unknown; done?: unknown } | undefined;
  if (metadata.complete === false && typeof cells?.selected === "number")
    warnings.push(
      `the run is incomplete: ${rows.length} of ${cells.selected} selected cells have results (finish it with --resume)`,
    );
  if (failed === rows.length) warnings.push(`every cell failed (${failed}): the charts have no data`);
  return { dir, source, suite, metadata, rows, eventClasses, strategies, warnings };
}

/** Native first, then the rest sorted: the colour domain shared by every chart. */
export function orderStrategies(names: Iterable<string>): string[] {
  const set = new Set(names);
  const natives = [...set].filter(isNativeName).sort();
  const rest = [...set].filter((s) => !isNativeName(s)).sort();
  return [...natives, ...rest];
}

/** Subdirectories of `dir` (one level) that hold results, for `report results/`. */
export function suiteDirs(dir: string): string[] {
  if (hasResults(dir)) return [dir];
  if (!isDir(dir)) return [];
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .filter((p) => isDir(p) && hasResults(p))
    .sort();
}
