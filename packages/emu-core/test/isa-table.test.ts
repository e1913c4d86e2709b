import { describe, expect, it } from "vitest";
import { decode } from "../src/isa/decode.ts";
import { TABLE } from "../src/isa/table.ts";

describe("ISA table", () => {
  it.each(TABLE.map((s) => [s.name, s] as const))("%s: match lies within its mask", (_, spec) => {
    expect((spec.match & ~spec.mask) >>> 0).toBe(0);
  });

  it("no word matches two rows, but a HINT and its base row", () => {
    const overlaps: string[] = [];
    for (const [i, a] of TABLE.entries()) {
      for (const b of TABLE.slice(i + 1)) {
        if (a.hintOf === b.name || b.hintOf === a.name) continue;
        // some word matches both iff they agree on the bits both masks fix
        if (((a.match ^ b.match) & a.mask & b.mask) >>> 0 === 0) overlaps.push(`${a.name}/${b.name}`);
      }
    }
    expect(overlaps).toEqual([]);
  });

  it.each(TABLE.map((s) => [s.name, s] as const))("%s: decode(match) returns the row", (_, spec) => {
    expect(decode(spec.match)).toBe(spec);
  });

  it("op ids are 1-based row positions", () => {
    expect(TABLE.map((s) => s.op)).toEqual(TABLE.map((_, i) => i + 1));
  });
});
