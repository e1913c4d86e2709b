import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURE = fileURLToPath(new URL("../fixtures/small", import.meta.url));
/** The repository's committed reference results of the default suite (written by packages/bench). */
export const REAL_QUICK = fileURLToPath(new URL("../../../../reference/quick", import.meta.url));

/** A fresh copy of the fixture (or of an edited version of it) in a temporary directory. */
export function fixtureCopy(
  edit?: (json: { metadata: Record<string, unknown>; rows: Record<string, unknown>[] }) => void,
): string {
  const dir = mkdtempSync(join(tmpdir(), "shadowlab-report-"));
  cpSync(FIXTURE, dir, { recursive: true });
  if (edit) {
    const path = join(dir, "results.json");
    const json = JSON.parse(readFileSync(path, "utf8"));
    edit(json);
    writeFileSync(path, JSON.stringify(json));
  }
  return dir;
}

// biome-ignore lint/suspicious/noExplicitAny: the fixture's rows are read as plain JSON
export function fixtureJson(): { metadata: Record<string, unknown>; rows: Record<string, any>[] } {
  return JSON.parse(readFileSync(join(FIXTURE, "results.json"), "utf8"));
}
