/**
 * One writer per results directory: a lock held by a running shadowlab
 * process refuses a second writer naming its pid; a lock whose process is
 * gone, or whose pid now belongs to some other program, is stale and taken
 * over; releasing removes it.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LOCK_NAME, LockHeldError, lockResults } from "../src/lock.ts";

const work = mkdtempSync(join(tmpdir(), "shadowlab-lock-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

function plantLock(dir: string, pid: number): void {
  writeFileSync(
    join(dir, LOCK_NAME),
    JSON.stringify({ pid, host: hostname(), started: "2026-01-01T00:00:00.000Z", command: "bench run x" }),
  );
}

function started(command: string, args: string[]): ChildProcess {
  const c = spawn(command, args, { stdio: "ignore" });
  children.push(c);
  return c;
}

describe("results.lock", () => {
  it("refuses a second writer while the first runs, and is gone once released", () => {
    const dir = join(work, "a");
    const first = lockResults(dir, "a", () => {});
    expect(JSON.parse(readFileSync(join(dir, LOCK_NAME), "utf8")).pid).toBe(process.pid);
    const node = started(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    plantLock(dir, node.pid!);
    expect(() => lockResults(dir, "a", () => {})).toThrow(LockHeldError);
    expect(() => lockResults(dir, "a", () => {})).toThrow(
      `a is being written by another run (pid ${node.pid}, started 2026-01-01T00:00:00.000Z: bench run x); wait for it to finish or choose another --out`,
    );
    rmSync(join(dir, LOCK_NAME));
    const again = lockResults(dir, "a", () => {});
    again.release();
    first.release();
    expect(existsSync(join(dir, LOCK_NAME))).toBe(false);
  });

  it("takes over the lock of a process that is gone", () => {
    const dir = join(work, "b");
    lockResults(dir, "b", () => {}).release();
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    plantLock(dir, Number(gone.stdout));
    const heard: string[] = [];
    const lock = lockResults(dir, "b", (t) => heard.push(t));
    expect(heard).toEqual([`b: taking over a stale lock of pid ${gone.stdout} (no longer running)\n`]);
    expect(JSON.parse(readFileSync(join(dir, LOCK_NAME), "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it.skipIf(!existsSync("/proc/self/cmdline"))(
    "takes over a lock whose pid now belongs to another program (Linux /proc)",
    () => {
      const dir = join(work, "c");
      lockResults(dir, "c", () => {}).release();
      const sleeper = started("sleep", ["60"]);
      plantLock(dir, sleeper.pid!);
      const heard: string[] = [];
      lockResults(dir, "c", (t) => heard.push(t)).release();
      expect(heard.join("")).toContain(`taking over a stale lock of pid ${sleeper.pid}`);
    },
  );
});
