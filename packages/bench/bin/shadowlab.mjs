#!/usr/bin/env node
// Node cannot run TypeScript by itself on every supported version: register tsx, then load the CLI from source.
import { register } from "tsx/esm/api";

// A closed pipe (`shadowlab bench list | head`) ends the output, not the program with a stack trace.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});
register();
const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv.slice(2));
