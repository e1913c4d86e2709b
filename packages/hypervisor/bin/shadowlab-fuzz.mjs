#!/usr/bin/env node
// Node cannot run TypeScript by itself on every supported version: register tsx, then load the CLI from source.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/fuzz/cli.ts");
process.exitCode = await main(process.argv.slice(2));
