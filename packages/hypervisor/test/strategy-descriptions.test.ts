/** Every registered strategy describes itself for the report (and native, the baseline, too). */
import { describe, expect, it } from "vitest";
import { describeStrategy, strategyNames } from "../src/index.ts";

describe("strategy descriptions", () => {
  it("has a paragraph for native and every registered strategy", () => {
    for (const name of ["native", ...strategyNames()]) {
      const text = describeStrategy(name);
      expect(text.length, `${name} needs a paragraph in src/paging/descriptions.ts`).toBeGreaterThan(40);
      expect(text).toMatch(/\.$/);
    }
    expect(describeStrategy("not-registered")).toBe("");
  });
});
