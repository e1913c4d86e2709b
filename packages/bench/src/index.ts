export { type GroupJob, machineConfig, priceRow, runGroup } from "./cell.ts";
export { benchCommands, buildProgram, type CliIo, main } from "./cli.ts";
export * from "./cost.ts";
export { lineDiff } from "./diff.ts";
export * from "./results.ts";
export {
  BenchUsageError,
  defaultOutDir,
  mergeResults,
  type RunOptions,
  type RunSummary,
  recostResults,
  runSuite,
  sameCounters,
  selectCells,
} from "./runner.ts";
export * from "./select.ts";
export * from "./suite.ts";
export * from "./suites.ts";
