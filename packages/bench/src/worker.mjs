// The worker thread's entry: Node cannot load TypeScript by itself on every
// supported version, so register tsx first, then load the worker from source.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
