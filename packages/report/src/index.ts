/**
 * @shadowlab/report: Vega-Lite chart specs, SVG/PNG rendering and the
 * offline HTML report, from stored results files only (it imports no other
 * shadowlab package and never runs the machine).
 */
export { EXIT_RESULTS, EXIT_USAGE, main, type ReportIo, reportCommand, reportCommands } from "./cli.ts";
export { findSweeps, labeler, NANO_ORDER, nanoPoints, tlbMissRate } from "./derive.ts";
export { renderHtml } from "./html.ts";
export {
  AA_HARDWARE_ORDER,
  AA_ROWS,
  ADAMS_AGESEN_2006,
  literatureSection,
  literatureTrends,
  nanoPerOp,
  type Trend,
  type Verdict,
} from "./literature.ts";
export { FONT_FILES, RenderError, renderPng, renderSvg, toVega } from "./render.ts";
export { buildReport, type ChartFiles, type ReportOptions, type ReportSummary } from "./report.ts";
export {
  type CellRow,
  CSV_NAME,
  JSON_NAME,
  orderStrategies,
  type Results,
  ResultsError,
  readResults,
  suiteDirs,
} from "./results.ts";
export {
  buildCharts,
  type Chart,
  CLASS_COLORS,
  classColors,
  nanoTable,
  strategyColors,
  type VlSpec,
} from "./specs.ts";
