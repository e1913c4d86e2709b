/**
 * Running a suite: select cells (filter, shard), reconcile with results
 * already on disk (resume, force), hand baseline groups to workers,
 * and write every finished cell at once. Also `recost` and `merge`.
 */
import { fork } from "node:child_process";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { emptyRow, priceRow } from "./cell.ts";
import { getProfile } from "./cost.ts";
import { type Lock, LockHeldError, lockResults } from "./lock.ts";
import { Progress, type ProgressMode } from "./progress.ts";
import {
  commitLabel,
  definitionCells,
  describeSuite,
  hostInfo,
  type Metadata,
  profileMetadata,
  RESULTS_FORMAT,
  type ResultRow,
  ResultStore,
  readResults,
  tally,
} from "./results.ts";
import { applyFilter, applyShard, parseFilter, parseShard, SelectionError } from "./select.ts";
import { type Cell, type ExcludedCell, expandSuite, type Suite, suiteHash } from "./suite.ts";
import { holdAfterSavedCells } from "./test-hold.ts";
import type { FromWorker, ToWorker } from "./worker.ts";

/** A mistake of the user's (or a state of the results directory that needs a decision): one message, exit code 2. */
export class BenchUsageError extends Error {}

export interface RunOptions {
  suite: Suite;
  /** Results directory (default results/<suite>, or results/<suite>/shard-k-of-n with --shard). */
  out?: string;
  jobs?: number;
  /** Workers as child processes (default) or worker threads. */
  isolation?: Isolation;
  filter?: string;
  shard?: string;
  profile?: string;
  resume?: boolean;
  force?: boolean;
  retryFailed?: boolean;
  /** With resume: results that are already complete are measured again from scratch (what `npm run bench` wants). */
  again?: boolean;
  progress?: ProgressMode;
  /** Progress and messages (stderr by default). */
  log?: (text: string) => void;
}

export interface RunSummary {
  dir: string;
  selected: number;
  ran: number;
  failed: number;
  complete: boolean;
  /** 0: every selected cell ok; 1: some cell failed. */
  exitCode: number;
}

export function defaultOutDir(suite: string, shard?: string): string {
  if (!shard) return join("results", suite);
  const { k, n } = parseShard(shard);
  return join("results", suite, `shard-${k}-of-${n}`);
}

export function selectCells(
  suite: Suite,
  filter?: string,
  shard?: string,
): { all: Cell[]; selected: Cell[]; excluded: ExcludedCell[] } {
  const { cells: all, excluded } = expandSuite(suite);
  let selected = all;
  if (filter) {
    selected = applyFilter(selected, parseFilter(filter));
    if (selected.length === 0)
      throw new SelectionError(`--filter "${filter}" selects no cell of suite "${suite.name}"`);
  }
  if (shard) selected = applyShard(selected, parseShard(shard));
  return { all, selected, excluded };
}

/** One line per reason: how many cells the suite leaves out, and why. */
export function describeExcluded(excluded: readonly ExcludedCell[]): string[] {
  const byReason = new Map<string, number>();
  for (const e of excluded) byReason.set(e.reason, (byReason.get(e.reason) ?? 0) + 1);
  return [...byReason].map(([reason, n]) => `left out ${n} cell${n === 1 ? "" : "s"}: ${reason}`);
}

const WORKER_ENTRY = new URL("./worker.mjs", import.meta.url);

/**
 * Where cells run. `process` (the default) gives each worker its own address
 * space: every timed sample builds a fresh machine with tens of MiB of RAM,
 * and when worker threads of one process allocate and free such blocks at
 * once, the kernel's work on the shared address space (page faults, unmaps and
 * their TLB shootdowns) serializes them; on the 2-core reference VM two
 * threads ran the quick suite slower than one thread, two processes faster.
 * `thread` keeps everything in one process.
 */
export type Isolation = "process" | "thread";
export const ISOLATIONS: readonly Isolation[] = ["process", "thread"];

interface WorkerHandle {
  post(msg: ToWorker): void;
  onMessage(f: (msg: FromWorker) => void): void;
  onError(f: (e: unknown) => void): void;
  onExit(f: (how: string) => void): void;
  terminate(): void;
}

function spawnWorker(isolation: Isolation): WorkerHandle {
  if (isolation === "thread") {
    const w = new Worker(WORKER_ENTRY);
    return {
      post: (m) => w.postMessage(m),
      onMessage: (f) => w.on("message", f),
      onError: (f) => w.on("error", f),
      onExit: (f) => w.on("exit", (code) => f(`code ${code}`)),
      terminate: () => void w.terminate(),
    };
  }
  const c = fork(fileURLToPath(WORKER_ENTRY), [], {
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return {
    post: (m) => c.send(m),
    onMessage: (f) => c.on("message", (m) => f(m as FromWorker)),
    onError: (f) => c.on("error", f),
    onExit: (f) => c.on("exit", (code, signal) => f(signal ? `signal ${signal}` : `code ${code}`)),
    terminate: () => c.disconnect(),
  };
}

/** Runs a suite holding its results directory's lock: a second writer is refused, never interleaved. */
export async function runSuite(opts: RunOptions): Promise<RunSummary> {
  const log = opts.log ?? ((t: string) => process.stderr.write(t));
  const rel = opts.out ?? defaultOutDir(opts.suite.name, opts.shard);
  const lock = lockDir(resolve(rel), rel, log);
  try {
    return await runLocked(opts);
  } finally {
    lock.release();
  }
}

function lockDir(dir: string, shown: string, log: (text: string) => void): Lock {
  try {
    return lockResults(dir, shown, log);
  } catch (e) {
    if (e instanceof LockHeldError) throw new BenchUsageError(e.message);
    throw e;
  }
}

async function runLocked(opts: RunOptions): Promise<RunSummary> {
  const log = opts.log ?? ((t: string) => process.stderr.write(t));
  const suite = opts.profile ? { ...opts.suite, profile: getProfile(opts.profile).name } : opts.suite;
  const dir = resolve(opts.out ?? defaultOutDir(suite.name, opts.shard));
  const { all, selected, excluded } = selectCells(suite, opts.filter, opts.shard);
  for (const line of describeExcluded(excluded)) log(`suite ${suite.name}: ${line}\n`);
  const hash = suiteHash(suite);
  const ids = new Set(all.map((c) => c.id));
  const rel = opts.out ?? defaultOutDir(suite.name, opts.shard);

  let kept: ResultRow[] = [];
  const stored = opts.force ? undefined : readResults(dir);
  let started = new Date().toISOString();
  if (stored) {
    if (stored.metadata.suite !== suite.name)
      throw new BenchUsageError(
        `${rel} holds results of suite "${stored.metadata.suite}", not "${suite.name}"; choose another --out or use --force to replace them`,
      );
    kept = stored.rows.filter((r) => ids.has(r.cell));
    if (kept.length < stored.rows.length)
      log(
        `${rel}: ${stored.rows.length - kept.length} stored cells are no longer in suite "${suite.name}"; dropping them\n`,
      );
    if (stored.metadata.suiteHash !== hash && kept.length > 0)
      log(
        `${rel}: the suite changed since these results were written; keeping the ${kept.length} cells it still has\n`,
      );
    if (stored.metadata.profile !== suite.profile) kept = kept.map((r) => priceRow(r, suite.profile));
    started = stored.metadata.date;
  }
  const have = new Map(kept.map((r) => [r.cell, r]));
  const todo = selected.filter((c) => {
    const r = have.get(c.id);
    return !r || (opts.retryFailed && r.status !== "ok");
  });

  const metadata: Metadata = {
    format: RESULTS_FORMAT,
    suite: suite.name,
    suiteHash: hash,
    ...profileMetadata(suite.profile),
    ...hostInfo(),
    date: started,
    updated: started,
    jobs: 0,
    selection: { filter: opts.filter ?? "", shard: opts.shard ?? "" },
    cells: { suite: all.length, selected: selected.length, done: 0, failed: 0 },
    complete: false,
    definition: suite,
    excluded,
    descriptions: describeSuite(suite),
  };

  if (stored && todo.length === 0 && opts.again) {
    log(`${rel} is complete (written ${stored.metadata.updated}); measuring it again (--again)\n`);
    return runLocked({ ...opts, force: true, resume: false, again: false });
  }
  if (stored && todo.length === 0) {
    const t = tally(kept, selected, all.length);
    if (stored.metadata.profile !== suite.profile || stored.rows.length !== kept.length) {
      const store = new ResultStore(
        dir,
        { ...stored.metadata, ...profileMetadata(suite.profile), definition: suite, suiteHash: hash },
        kept,
      );
      store.save(selected);
    }
    log(
      `${rel} is complete: ${t.done} cells${t.failed ? `, ${t.failed} failed` : ""} (written ${stored.metadata.updated} at commit ${stored.metadata.commit.slice(0, 12)}). Use --force to run it again${t.failed ? " or --retry-failed to rerun the failed cells" : ""}.\n`,
    );
    return {
      dir,
      selected: selected.length,
      ran: 0,
      failed: t.failed,
      complete: true,
      exitCode: t.failed ? 1 : 0,
    };
  }
  if (stored && !opts.resume) {
    const t = tally(kept, selected, all.length);
    throw new BenchUsageError(
      `${rel} already holds ${t.done} of the ${t.selected} selected cells from an earlier run; use --resume to finish it or --force to start over`,
    );
  }

  const jobs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), 64));
  const isolation = opts.isolation ?? "process";
  metadata.jobs = jobs;
  metadata.isolation = isolation;
  const store = new ResultStore(dir, metadata, kept);
  store.save(selected);

  const groups: Cell[][] = [];
  const byGroup = new Map<string, Cell[]>();
  for (const c of todo) {
    let g = byGroup.get(c.group);
    if (!g) {
      g = [];
      byGroup.set(c.group, g);
      groups.push(g);
    }
    g.push(c);
  }
  const mode: ProgressMode = opts.progress ?? (process.stderr.isTTY ? "bar" : "lines");
  const workers = Math.min(jobs, groups.length);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  log(
    `suite ${suite.name}: ${plural(todo.length, "cell")} to run${kept.length ? ` (${have.size} already done)` : ""} in ${plural(groups.length, "group")} on ${plural(workers, "worker")} (${isolation === "process" ? "processes" : "threads"}), profile ${suite.profile} -> ${rel}\n`,
  );
  const progress = new Progress(todo.length, mode, log);
  const jobSuite = {
    name: suite.name,
    repetitions: suite.repetitions,
    warmup: suite.warmup,
    maxInstructions: suite.maxInstructions,
    profile: suite.profile,
  };

  let ran = 0;
  const commit = commitLabel(metadata);
  const record = (measured: ResultRow) => {
    const row = { ...measured, commit, date: new Date().toISOString() };
    store.put(row);
    store.save(selected);
    ran++;
    progress.cell(row);
    holdAfterSavedCells(ran);
  };

  await new Promise<void>((done) => {
    let next = 0;
    let live = 0;
    const start = () => {
      if (next >= groups.length) return;
      live++;
      const worker = spawnWorker(isolation);
      let current: Cell[] | undefined;
      let pending = new Set<string>();
      let finished = false;
      const feed = () => {
        if (next >= groups.length) {
          current = undefined;
          finished = true;
          worker.terminate();
          return;
        }
        current = groups[next++];
        pending = new Set(current.map((c) => c.id));
        worker.post({ type: "group", job: { suite: jobSuite, cells: current } });
      };
      const failPending = (why: string) => {
        for (const c of current ?? []) {
          if (!pending.has(c.id)) continue;
          const row = failedRow(c, suite, "worker-died", why);
          record(row);
        }
        pending.clear();
      };
      worker.onMessage((msg) => {
        if (msg.type === "ready") feed();
        else if (msg.type === "row") {
          pending.delete(msg.row.cell);
          record(msg.row);
        } else if (msg.type === "done") feed();
        else if (msg.type === "fatal") {
          failPending(msg.error);
          feed();
        }
      });
      worker.onError((e) => {
        failPending(`the worker crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      });
      worker.onExit((how) => {
        live--;
        if (!finished) {
          failPending(`the worker exited (${how})`);
          start(); // a fresh worker for the groups still to run
        }
        if (live === 0 && next >= groups.length) done();
      });
    };
    if (groups.length === 0) done();
    for (let i = 0; i < Math.min(jobs, groups.length); i++) start();
  });
  progress.finish();
  store.save(selected);
  const t = tally(store.rows.values(), selected, all.length);
  log(
    `suite ${suite.name}: ${t.done}/${t.selected} cells done, ${t.failed} failed; results in ${join(rel, "results.csv")} and results.json\n`,
  );
  return {
    dir,
    selected: t.selected,
    ran,
    failed: t.failed,
    complete: t.complete,
    exitCode: t.failed ? 1 : 0,
  };
}

function failedRow(cell: Cell, suite: Suite, failure: string, error: string): ResultRow {
  return priceRow({ ...emptyRow(cell, suite), failure, error }, suite.profile);
}

// ---- recost -------------------------------------------------------------------------------------

/** Reprices stored rows with another profile: only the modeled columns change. */
export function recostResults(dir: string, profile: string, out?: string): { rows: number; outDir: string } {
  const file = readResults(resolve(dir));
  if (!file) throw new BenchUsageError(`${dir}: no results.json`);
  const p = getProfile(profile);
  const outDir = resolve(out ?? dir);
  const lock = lockDir(outDir, out ?? dir, () => {});
  try {
    const rows = file.rows.map((r) => priceRow(r, p.name));
    const def = file.metadata.definition;
    const store = new ResultStore(
      outDir,
      {
        ...file.metadata,
        ...profileMetadata(p.name),
        definition: { ...def, profile: p.name },
        descriptions: file.metadata.descriptions ?? describeSuite(def),
      },
      rows,
    );
    store.save(selectedOf(file.metadata));
    return { rows: rows.length, outDir };
  } finally {
    lock.release();
  }
}

function selectedOf(m: Metadata): Cell[] {
  return selectCells(m.definition, m.selection.filter || undefined, m.selection.shard || undefined).selected;
}

// ---- merge ----------------------------------------------------------------------------------------

export function sameCounters(a: ResultRow, b: ResultRow): boolean {
  const keys = new Set([...Object.keys(a.counters), ...Object.keys(b.counters)]);
  for (const k of keys) if ((a.counters[k] ?? 0) !== (b.counters[k] ?? 0)) return false;
  return a.status === b.status && a.output_sha256 === b.output_sha256;
}

/**
 * Joins the results of several directories (shards of one suite) into one.
 * They must come from the same suite definition; a cell present twice must
 * have identical counters.
 */
export function mergeResults(
  dirs: readonly string[],
  out: string,
  profile?: string,
): { rows: number; complete: boolean; missing: number; outDir: string } {
  if (dirs.length === 0) throw new BenchUsageError("merge needs at least one results directory");
  const files = dirs.map((d) => {
    const f = readResults(resolve(d));
    if (!f) throw new BenchUsageError(`${d}: no results.json`);
    return { dir: d, file: f };
  });
  const first = files[0].file.metadata;
  for (const { dir, file } of files.slice(1)) {
    if (file.metadata.suite !== first.suite || file.metadata.suiteHash !== first.suiteHash)
      throw new BenchUsageError(
        `${dir} holds suite "${file.metadata.suite}" (hash ${file.metadata.suiteHash}), ${files[0].dir} holds "${first.suite}" (hash ${first.suiteHash}); only results of the same suite definition merge`,
      );
  }
  const prof = getProfile(profile ?? first.profile).name;
  const rows = new Map<string, ResultRow>();
  const from = new Map<string, string>();
  for (const { dir, file } of files) {
    for (const r of file.rows) {
      const prev = rows.get(r.cell);
      if (prev && !sameCounters(prev, r))
        throw new BenchUsageError(`cell ${r.cell} differs between ${from.get(r.cell)} and ${dir}`);
      if (!prev) {
        rows.set(r.cell, priceRow(r, prof));
        from.set(r.cell, dir);
      }
    }
  }
  const all = definitionCells(first.definition);
  const outDir = resolve(out);
  const metadata: Metadata = {
    ...first,
    ...profileMetadata(prof),
    definition: { ...first.definition, profile: prof },
    descriptions: first.descriptions ?? describeSuite(first.definition),
    selection: { filter: "", shard: "" },
    jobs: 0,
    sources: files.map(({ dir, file }) => ({
      dir,
      commit: file.metadata.commit,
      cpu: file.metadata.cpu,
      node: file.metadata.node,
      date: file.metadata.date,
      selection: file.metadata.selection,
      rows: file.rows.length,
    })),
  };
  const store = new ResultStore(outDir, metadata, rows.values());
  const lock = lockDir(outDir, out, () => {});
  try {
    store.save(all);
  } finally {
    lock.release();
  }
  const t = tally(rows.values(), all, all.length);
  return { rows: rows.size, complete: t.complete, missing: t.selected - t.done, outDir };
}
