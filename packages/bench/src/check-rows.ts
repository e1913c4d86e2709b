/**
 * What a stored results file must hold before anything trusts it: every row
 * an object with a cell id, no cell twice, and counters, event counts and
 * modeled cycles that are objects of numbers. A file that breaks one of these
 * is an error naming the file and the row, never a silently wrong count
 * ("complete: 21 cells" for a 20-cell suite) or a TypeError later. A row's
 * engine, when it names one, is an engine there is (rows written before the
 * column existed name none and read as interp).
 */
import { ENGINES } from "@shadowlab/emu-core";

export class RowsCheckError extends Error {}

const NUMBER_GROUPS = ["counters", "events", "native_events", "cycles"] as const;

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "string" ? `"${v}"` : typeof v;
}

/** The one problem of a row, or undefined. `i` counts from 1, as a reader counts rows. */
function rowProblem(row: unknown): string | undefined {
  if (!row || typeof row !== "object" || Array.isArray(row)) return `is ${describe(row)}, not an object`;
  const r = row as Record<string, unknown>;
  if (typeof r.cell !== "string" || r.cell === "") return `has no "cell" (got ${describe(r.cell)})`;
  if (!Number.isInteger(r.index)) return `"index" must be an integer (got ${describe(r.index)})`;
  if (r.status !== "ok" && r.status !== "failed")
    return `"status" must be "ok" or "failed" (got ${describe(r.status)})`;
  if (r.engine !== undefined && !(ENGINES as readonly unknown[]).includes(r.engine))
    return `"engine" must be ${ENGINES.map((e) => `"${e}"`).join(" or ")} (got ${describe(r.engine)})`;
  for (const g of NUMBER_GROUPS) {
    const obj = r[g];
    if (!obj || typeof obj !== "object" || Array.isArray(obj))
      return `"${g}" is ${describe(obj)}, not an object of numbers`;
    for (const [k, v] of Object.entries(obj))
      if (typeof v !== "number") return `"${g}.${k}" is ${describe(v)}, not a number`;
  }
  if (r.status === "ok" && typeof r.roi_instructions !== "number")
    return `an ok row without "roi_instructions" (got ${describe(r.roi_instructions)})`;
  return undefined;
}

/** Throws naming `file` and the first bad row; returns the rows typed as the caller wants them. */
export function checkRows<T>(file: string, rows: readonly unknown[]): T[] {
  const seen = new Map<string, number>();
  rows.forEach((row, i) => {
    const problem = rowProblem(row);
    const cell = (row as { cell?: unknown } | null)?.cell;
    const name = typeof cell === "string" && cell ? ` (cell ${cell})` : "";
    if (problem) throw new RowsCheckError(`${file}: row ${i + 1}${name} ${problem}`);
    const first = seen.get(cell as string);
    if (first !== undefined)
      throw new RowsCheckError(`${file}: row ${i + 1}${name} repeats row ${first}: a cell may appear once`);
    seen.set(cell as string, i + 1);
  });
  return rows as T[];
}
