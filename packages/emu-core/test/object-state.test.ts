/**
 * captureState/restoreState put a graph of objects back in place: the same
 * objects, with the contents they had, whatever fields their classes have.
 */
import { describe, expect, it } from "vitest";
import { captureState, restoreState, StateCaptureError } from "../src/object-state.ts";

class Leaf {
  n = 1;
  tag = "a";
  big = 2 ** 60;
  nothing: number | undefined = undefined;
}

class Holder {
  leaf = new Leaf();
  list: Leaf[] = [this.leaf];
  byKey = new Map<string, Leaf>([["first", this.leaf]]);
  members = new Set<number>([3, 1, 2]);
  words = new Int32Array([1, 2, 3]);
  floats = new Float64Array([Number.NaN, -0, 1.5]);
  bytes = new Uint8Array(4);
  readonly frozen = Object.freeze({ k: 1 });
  callback = () => this.leaf.n;
}

describe("captureState / restoreState", () => {
  it("restores every kind of member in place and keeps identities", () => {
    const h = new Holder();
    const { leaf, list, byKey, words, bytes } = h;
    const s = captureState([h]);
    const newcomer = new Leaf();
    leaf.n = 99;
    leaf.tag = "z";
    leaf.nothing = 5;
    list.push(newcomer);
    byKey.delete("first");
    byKey.set("second", newcomer);
    h.members.add(9);
    h.members.delete(3);
    words[1] = -7;
    h.floats[0] = 0;
    h.bytes = new Uint8Array(64); // replaced, as a growing buffer would be
    h.leaf = newcomer;
    restoreState(s);
    expect(h.leaf).toBe(leaf);
    expect(leaf).toEqual(new Leaf());
    expect(h.list).toBe(list);
    expect(list).toEqual([leaf]);
    expect([...h.byKey]).toEqual([["first", leaf]]);
    expect([...h.members]).toEqual([3, 1, 2]);
    expect([...words]).toEqual([1, 2, 3]);
    expect(Object.is(h.floats[1], -0)).toBe(true);
    expect(Number.isNaN(h.floats[0])).toBe(true);
    expect(h.bytes).toBe(bytes);
    expect(h.callback()).toBe(1);
  });

  it("keeps Map insertion order (an LRU kept in a Map stays in order)", () => {
    const m = new Map<number, number>([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    const s = captureState([m]);
    m.delete(1);
    m.set(1, 1);
    restoreState(s);
    expect([...m.keys()]).toEqual([1, 2, 3]);
  });

  it("does not enter skipped objects", () => {
    const shared = { n: 1 };
    const owner = { shared, own: { n: 1 } };
    const s = captureState([owner], new Set([shared]));
    shared.n = 2;
    owner.own.n = 2;
    restoreState(s);
    expect(shared.n).toBe(2);
    expect(owner.own.n).toBe(1);
  });

  it("refuses state it cannot see, naming where it is", () => {
    expect(() => captureState([{ inner: { cache: new WeakMap() } }])).toThrow(StateCaptureError);
    expect(() => captureState([{ inner: { cache: new WeakMap() } }])).toThrow(
      /WeakMap at root0\.inner\.cache/,
    );
    const withGetter = Object.defineProperty({}, "x", { get: () => 1, enumerable: true });
    expect(() => captureState([{ o: withGetter }])).toThrow(/accessor property root0\.o\.x/);
  });
});
