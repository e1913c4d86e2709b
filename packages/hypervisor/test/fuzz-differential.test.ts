/**
 * The differential fuzzer's short run: random RV32IMA guests (bare and
 * paged, with page-table edits through stores, AMOs and LR/SC, MMIO, CSR
 * garbage, sfence variants, satp switches, user mode, timers) run natively
 * and under every registered strategy in every execution mode; each must
 * see exactly what it sees natively — its registers, traps, counters and
 * memory, as its final dump prints them. Longer campaigns: `npm run fuzz`.
 */
import { describe, expect, it } from "vitest";
import { runCampaign } from "../src/fuzz/campaign.ts";
import { allTargets, runNative } from "../src/fuzz/differential.ts";
import { generate } from "../src/fuzz/generate.ts";
import { assembleGuest } from "../src/fuzz/image.ts";

const CHUNK = 40;
const CHUNKS = 5; // 200 guests

describe("random guests see under every strategy and mode exactly what they see natively", () => {
  it.each(Array.from({ length: CHUNKS }, (_, i) => ({ from: 1 + i * CHUNK })))(
    "40 guests from seed $from",
    ({ from }) => {
      const r = runCampaign({ seed: from, count: CHUNK, targets: allTargets(), shrinkBudget: 40 });
      expect(r.failures.map((f) => f.detail)).toEqual([]);
      expect(r.guests).toBe(CHUNK);
      expect(r.runs).toBe(CHUNK * allTargets().length);
    },
    240_000,
  );

  it("the guests reach their dump and print what they observed (the comparison compares something)", () => {
    let dumped = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const p = generate(seed);
      const out = runNative(p, assembleGuest(p).image);
      // registers, then traps/hash/counters, then the memory hash
      if (out.state === "exited" && out.output.trimEnd().split("\n").length >= 3) dumped++;
    }
    expect(dumped).toBeGreaterThanOrEqual(17);
  });

  it("the same seed gives the same guest", () => {
    expect(assembleGuest(generate(7)).source).toBe(assembleGuest(generate(7)).source);
    expect(assembleGuest(generate(7)).source).not.toBe(assembleGuest(generate(8)).source);
  });
});
