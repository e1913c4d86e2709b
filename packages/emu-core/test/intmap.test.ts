import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IntMap } from "../src/intmap.ts";

describe("IntMap (the TLB's content index)", () => {
  it("behaves like a Map under any sequence of sets and deletes", () => {
    const op = fc.record({ del: fc.boolean(), key: fc.integer({ min: 0, max: 200 }), value: fc.nat(1000) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const mine = new IntMap(256);
        const ref = new Map<number, number>();
        for (const o of ops) {
          if (o.del) {
            mine.delete(o.key);
            ref.delete(o.key);
          } else {
            mine.set(o.key, o.value);
            ref.set(o.key, o.value);
          }
          expect(mine.size).toBe(ref.size);
        }
        for (let k = 0; k <= 200; k++) expect(mine.get(k)).toBe(ref.get(k) ?? -1);
      }),
    );
  });

  it("keeps colliding keys reachable after deleting from the middle of a probe run", () => {
    const m = new IntMap(4); // 16 slots: many keys share probe runs
    const keys = Array.from({ length: 8 }, (_, i) => i * 16 + 3);
    for (const [i, k] of keys.entries()) m.set(k, i);
    m.delete(keys[2]);
    m.delete(keys[5]);
    for (const [i, k] of keys.entries()) expect(m.get(k)).toBe(i === 2 || i === 5 ? -1 : i);
  });
});
