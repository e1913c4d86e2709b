import { describe, expect, it } from "vitest";
import { WritableMappings } from "../src/paging/writable-mappings.ts";
import type { ShadowTable } from "../src/shadow-table.ts";

/** Stand-ins for shadow tables: the map only stores and compares them. */
const tables = [0, 1, 2].map((i) => ({ id: i }) as unknown as ShadowTable);

function taken(m: WritableMappings, page: number): [ShadowTable, number][] {
  const out: [ShadowTable, number][] = [];
  m.take(page, (t, va, p) => {
    expect(p).toBe(page);
    out.push([t, va]);
  });
  return out;
}

describe("shadow-proactive's reverse map of writable mappings", () => {
  it("gives back each page's mappings in the order added, high addresses unsigned, and forgets them", () => {
    const m = new WritableMappings(16, () => true);
    m.add(3, tables[0], 0x8000_1000);
    m.add(5, tables[1], 0x2000);
    m.add(3, tables[2], 0xffff_f000);
    expect(taken(m, 3)).toEqual([
      [tables[0], 0x8000_1000],
      [tables[2], 0xffff_f000],
    ]);
    expect(taken(m, 3)).toEqual([]);
    expect(taken(m, 5)).toEqual([[tables[1], 0x2000]]);
  });

  it("prunes a page's mappings that no longer grant write once its chain passes 8, keeping the order", () => {
    const stale = new Set<number>();
    const m = new WritableMappings(4, (_t, va) => !stale.has(va));
    for (let i = 0; i < 8; i++) m.add(1, tables[i % 3], i * 0x1000);
    for (let i = 0; i < 8; i += 2) stale.add(i * 0x1000);
    m.add(1, tables[0], 0x10_0000); // the ninth: pruned now
    stale.clear(); // what was pruned is gone even if it would pass now
    expect(taken(m, 1).map(([, va]) => va)).toEqual([0x1000, 0x3000, 0x5000, 0x7000, 0x10_0000]);
  });

  it("reuses freed slots and grows past its first pool without losing pairs", () => {
    const m = new WritableMappings(2048, () => true);
    for (let round = 0; round < 3; round++) {
      for (let p = 0; p < 1000; p++) m.add(p, tables[p % 3], p * 0x1000);
      for (let p = 0; p < 1000; p++) expect(taken(m, p)).toEqual([[tables[p % 3], p * 0x1000]]);
    }
  });
});
