import { captureState, Machine, restoreState } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { counterId, HvCounters } from "../src/counters.ts";
import { MachinePages } from "../src/machine-pages.ts";
import { ShadowPages } from "../src/shadow-pages.ts";
import { ShadowTable } from "../src/shadow-table.ts";

describe("hypervisor counters by interned id", () => {
  it("add by name and bump by id count the same counter; snapshot is sorted and keeps zero counts", () => {
    const c = new HvCounters();
    c.add("z.last", 0);
    c.bump(counterId("a.first"), 2);
    c.add("a.first");
    expect(c.get("a.first")).toBe(3);
    expect(c.get("never.counted")).toBe(0);
    expect(Object.entries(c.snapshot("hv."))).toEqual([
      ["hv.a.first", 3],
      ["hv.z.last", 0],
    ]);
  });

  it("counters of two instances are independent", () => {
    const a = new HvCounters();
    const b = new HvCounters();
    a.add("x.shared", 5);
    expect(b.get("x.shared")).toBe(0);
    expect(b.snapshot()).toEqual({});
  });

  it("grows past its first capacity, and a restore forgets counters first counted after the capture", () => {
    const c = new HvCounters();
    c.add("kept", 1);
    const state = captureState([c]);
    for (let i = 0; i < 300; i++) c.add(`grown.${i}`, i);
    c.add("kept", 41);
    expect(c.get("grown.299")).toBe(299);
    expect(c.get("kept")).toBe(42);
    restoreState(state);
    expect(c.snapshot()).toEqual({ kept: 1 });
  });
});

describe("shadow table live lists", () => {
  function table() {
    const m = new Machine({ ramSize: 16 * 2 ** 20 });
    const pages = new ShadowPages(new MachinePages(m.hart), Number.POSITIVE_INFINITY, "test");
    return { t: new ShadowTable(m.hart, pages), pages };
  }

  it("clear returns every level-0 table, after regions were dropped in any order", () => {
    const { t, pages } = table();
    const regions = [5, 900, 17, 3, 1023, 0, 512];
    for (const r of regions) t.set(r << 22, 0x80400 + r, 0xdf);
    t.set((17 << 22) | 0x3000, 0x80999, 0xdf);
    expect(t.leafPages).toBe(regions.length);
    expect(t.dropRegion(17)).toBe(2);
    expect(t.dropRegion(5)).toBe(1);
    expect(t.dropRegion(5)).toBe(0);
    expect(pages.used).toBe(1 + regions.length - 2);
    expect(t.clear()).toBe(regions.length - 2);
    expect(pages.used).toBe(1);
    expect(t.get(900 << 22)).toBe(0);
    const seen: number[] = [];
    t.forEach((va) => {
      seen.push(va);
    });
    expect(seen).toEqual([]);
    // The table is usable again after a clear, and clears again.
    t.set(7 << 22, 0x80500, 0xdf);
    expect(t.get(7 << 22) >>> 10).toBe(0x80500);
    expect(t.clear()).toBe(1);
    expect(pages.used).toBe(1);
  });

  it("put installs like set and returns the entry it replaced, counting a new entry once", () => {
    const { t } = table();
    const va = (9 << 22) | 0x5000;
    expect(t.put(va, 0x80123, 0x5b)).toBe(0);
    expect(t.entries).toBe(1);
    expect(t.put(va, 0x80456, 0xdf)).toBe(((0x80123 << 10) | 0x5b) >>> 0);
    expect(t.entries).toBe(1);
    expect(t.get(va)).toBe(((0x80456 << 10) | 0xdf) >>> 0);
    expect(t.drop(va)).toBe(true);
    expect(t.put(va, 0x80789, 0xdf)).toBe(0);
    expect(t.entries).toBe(1);
  });

  it("clear gives pages back in ascending region order, as a scan of the root would", () => {
    const m = new Machine({ ramSize: 16 * 2 ** 20 });
    const pages = new ShadowPages(new MachinePages(m.hart), Number.POSITIVE_INFINITY, "test");
    const released: number[] = [];
    const release = pages.release.bind(pages);
    pages.release = (ppn: number) => {
      released.push(ppn);
      release(ppn);
    };
    const t = new ShadowTable(m.hart, pages);
    for (const r of [600, 2, 300]) t.set(r << 22, 0x80400, 0xdf);
    const leaf = (r: number) => (m.hart.readPhys(t.root * 4096 + r * 4, 4) ?? 0) >>> 10;
    const expected = [2, 300, 600].map(leaf);
    expect(new Set(expected).size).toBe(3);
    t.clear();
    expect(released).toEqual(expected);
  });
});
