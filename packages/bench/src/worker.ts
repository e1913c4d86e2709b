/**
 * A worker: receives baseline groups, runs them, and posts each row as soon
 * as it is finished (the main side writes it to disk at once). It runs as a
 * worker thread or as a child process (`--isolation`), loaded through
 * worker.mjs, which registers tsx first.
 */
import { parentPort } from "node:worker_threads";
import { type GroupJob, runGroup } from "./cell.ts";
import type { ResultRow } from "./results.ts";

export type ToWorker = { type: "group"; job: GroupJob };
export type FromWorker =
  | { type: "ready" }
  | { type: "row"; row: ResultRow }
  | { type: "done" }
  | { type: "fatal"; error: string };

const port = parentPort;
const send = (msg: FromWorker) => {
  if (port) port.postMessage(msg);
  else process.send?.(msg);
};
const onMessage = (f: (msg: ToWorker) => void) => {
  if (port) port.on("message", f);
  else process.on("message", f as (m: unknown) => void);
};
if (!port) {
  if (!process.send) throw new Error("worker.ts runs in a worker thread or a child process with IPC");
  // The parent went away (killed, or done): nothing is left to report to.
  process.on("disconnect", () => process.exit(0));
}

onMessage((msg) => {
  if (msg.type !== "group") return;
  runGroup(msg.job, (row) => send({ type: "row", row }))
    .then(() => send({ type: "done" }))
    .catch((e: unknown) =>
      send({ type: "fatal", error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
    );
});
send({ type: "ready" });
