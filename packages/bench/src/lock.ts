/**
 * One writer per results directory. A run (and recost or merge into a
 * directory) holds `<dir>/results.lock`, created exclusively and holding the
 * writer's pid, host and start time. A second writer is refused with a
 * message naming the holder; a lock whose process is gone (killed, even with
 * SIGKILL) is stale and taken over. Without this, two runs into one
 * directory would each rewrite the files from their own view of the rows.
 */
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export const LOCK_NAME = "results.lock";

export class LockHeldError extends Error {}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
  command: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readLock(path: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path, "utf8")) as LockInfo;
    return Number.isInteger(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Creates the lock with its content in one step (a hard link fails if the name exists), so no reader sees it empty. */
function tryCreate(path: string, info: LockInfo): boolean {
  const tmp = `${path}.${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(info)}\n`);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

export interface Lock {
  release(): void;
}

/**
 * Takes the lock of `dir` (creating the directory) or throws LockHeldError.
 * `shown` is how messages name the directory; `log` hears about a stale lock
 * taken over. The lock is released by `release()` or when the process exits.
 */
export function lockResults(dir: string, shown: string, log: (text: string) => void): Lock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_NAME);
  const mine: LockInfo = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    command: process.argv.slice(2).join(" "),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, mine)) {
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        process.off("exit", release);
        if (readLock(path)?.pid === process.pid) rmSync(path, { force: true });
      };
      process.on("exit", release);
      return { release };
    }
    const holder = readLock(path);
    if (holder && holder.host === mine.host && holder.pid !== process.pid && alive(holder.pid))
      throw new LockHeldError(
        `${shown} is being written by another run (pid ${holder.pid}, started ${holder.started}${holder.command ? `: ${holder.command}` : ""}); wait for it to finish or choose another --out`,
      );
    if (holder && holder.host !== mine.host)
      throw new LockHeldError(
        `${shown} is locked by pid ${holder.pid} on host ${holder.host} (started ${holder.started}); if that run is gone, delete ${join(shown, LOCK_NAME)}`,
      );
    log(
      `${shown}: taking over a stale lock${holder ? ` of pid ${holder.pid} (no longer running)` : " (unreadable)"}\n`,
    );
    rmSync(path, { force: true });
  }
  throw new LockHeldError(`${shown}: could not take ${LOCK_NAME} (another run keeps taking it)`);
}
