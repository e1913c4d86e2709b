/**
 * Regions of interest: the guest marks where its measured work begins and
 * ends with two RV32I HINTs (see the ISA table: `slti x0, x0, 1` and
 * `slti x0, rs1, 2`, the second with the operation count in rs1). The machine
 * records every mark with a full counter snapshot; a region is a begin
 * followed by an end, and its counters are the difference of the two.
 */
import { diffStats, type StatsSnapshot } from "./stats.ts";

export type RoiKind = "begin" | "end";

/** One retired mark and every counter right after it retired. */
export interface RoiMark {
  kind: RoiKind;
  /** The operation count an end mark declared (undefined for a begin, or an end with rs1 = x0). */
  ops: number | undefined;
  stats: StatsSnapshot;
}

/** A complete region: a begin mark, the end mark that closes it, and the counters in between. */
export interface Roi {
  /** Position of the region among the run's complete regions (0 = first). */
  index: number;
  ops: number | undefined;
  /** Counters accumulated from just after the begin mark to just after the end mark. */
  stats: StatsSnapshot;
  begin: RoiMark;
  end: RoiMark;
}

/**
 * The complete regions of a sequence of marks, in order. An end closes the
 * latest begin not yet closed; a begin that follows an open begin restarts
 * the region (warm-up loops may mark without ending); an end with no open
 * begin is ignored.
 */
export function roiRegions(marks: readonly RoiMark[]): Roi[] {
  const out: Roi[] = [];
  let open: RoiMark | undefined;
  for (const m of marks) {
    if (m.kind === "begin") open = m;
    else if (open) {
      out.push({ index: out.length, ops: m.ops, stats: diffStats(m.stats, open.stats), begin: open, end: m });
      open = undefined;
    }
  }
  return out;
}

/**
 * The region that is the measurement: the last complete one, or the one at
 * `index` (negative counts from the end). Undefined when there is none.
 */
export function measuredRoi(marks: readonly RoiMark[], index = -1): Roi | undefined {
  const all = roiRegions(marks);
  return all.at(index);
}
