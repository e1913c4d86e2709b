/**
 * Slices of a suite: `--filter key=pattern,...` and `--shard k/n`.
 *
 * A filter is comma-separated clauses `key=pattern`; a cell is selected when
 * every clause matches. Patterns use `*` and `?`, and `a|b` for either.
 * Keys: workload, strategy, engine, cell (the cell id), machine (the machine key),
 * any workload parameter (processes=4), any machine field (tlbEntries=64).
 *
 * Sharding splits the selected cells into n slices by baseline group
 * (workload + parameters + machine), so that no native baseline runs in two
 * shards: group g (in suite order) belongs to shard (g mod n) + 1. The same
 * suite, filter and n always give the same slices, on any machine.
 */
import { type Cell, globToRegExp, MACHINE_FIELDS, machineKey } from "./suite.ts";

export class SelectionError extends Error {}

export interface Clause {
  key: string;
  patterns: RegExp[];
  text: string;
}

const FIXED_KEYS = ["workload", "strategy", "engine", "cell", "machine"];

export function parseFilter(text: string): Clause[] {
  const clauses: Clause[] = [];
  for (const part of text.split(",")) {
    const t = part.trim();
    if (t === "") continue;
    const eq = t.indexOf("=");
    if (eq <= 0 || eq === t.length - 1)
      throw new SelectionError(
        `--filter expects key=pattern clauses separated by commas (got ${JSON.stringify(t)})`,
      );
    const key = t.slice(0, eq).trim();
    const value = t.slice(eq + 1).trim();
    clauses.push({ key, text: t, patterns: value.split("|").map((p) => globToRegExp(p.trim())) });
  }
  return clauses;
}

function cellField(cell: Cell, key: string): string | undefined {
  switch (key) {
    case "workload":
      return cell.workload;
    case "strategy":
      return cell.strategy;
    case "engine":
      return cell.engine;
    case "cell":
      return cell.id;
    case "machine":
      return machineKey(cell.machine);
  }
  if ((MACHINE_FIELDS as readonly string[]).includes(key))
    return String(cell.machine[key as keyof Cell["machine"]]);
  if (key in cell.params) return String(cell.params[key]);
  return undefined;
}

/** The cells every clause matches. A key that no cell of the suite has is a mistake, reported. */
export function applyFilter(cells: readonly Cell[], clauses: readonly Clause[]): Cell[] {
  for (const c of clauses) {
    const known =
      FIXED_KEYS.includes(c.key) ||
      (MACHINE_FIELDS as readonly string[]).includes(c.key) ||
      cells.some((cell) => c.key in cell.params);
    if (!known) {
      const params = [...new Set(cells.flatMap((cell) => Object.keys(cell.params)))].sort();
      throw new SelectionError(
        `--filter: unknown key "${c.key}" (keys: ${[...FIXED_KEYS, ...MACHINE_FIELDS, ...params].join(", ")})`,
      );
    }
  }
  return cells.filter((cell) =>
    clauses.every((c) => {
      const v = cellField(cell, c.key);
      return v !== undefined && c.patterns.some((re) => re.test(v));
    }),
  );
}

export interface Shard {
  k: number;
  n: number;
}

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const k = m ? Number(m[1]) : Number.NaN;
  const n = m ? Number(m[2]) : Number.NaN;
  if (!m || n < 1 || k < 1 || k > n)
    throw new SelectionError(`--shard expects k/n with 1 <= k <= n, e.g. 2/8 (got ${JSON.stringify(text)})`);
  return { k, n };
}

export function applyShard(cells: readonly Cell[], shard: Shard): Cell[] {
  const groups: string[] = [];
  for (const c of cells)
    if (groups[groups.length - 1] !== c.group && !groups.includes(c.group)) groups.push(c.group);
  const mine = new Set(groups.filter((_, i) => i % shard.n === shard.k - 1));
  return cells.filter((c) => mine.has(c.group));
}
