/**
 * A write of satp.MODE from Sv32 to Bare, or back, takes effect at once,
 * with no sfence.vma (privileged spec 1.12, 4.2.1); under the H extension
 * the guest's satp is vsatp, and with vsatp Bare its accesses are translated
 * by the G-stage alone (8.5). So a translation the TLB cached while vsatp
 * was Sv32 must not serve an access made with vsatp Bare (the virtual
 * address is then the guest-physical one), and one cached while vsatp was
 * Bare must not serve an access once vsatp is Sv32 again. Seed 5002818 of
 * the differential fuzzer found the first: under nested in hw mode a store
 * to an unbacked guest-physical address went, unfenced, through the VS-stage
 * mapping of the same page number instead of taking the access fault.
 */
import { describe, expect, it } from "vitest";
import { strategyNames } from "../src/paging/registry.ts";
import type { ExecutionMode } from "../src/paging/strategy.ts";
import { buildGuest, RWAD, Sv32Tables } from "./support/hv-guest.ts";
import { h8, runHv, runNative } from "./support/hv-harness.ts";

/** A VS-stage page whose number is, as a guest-physical address, nothing (not RAM, not a device). */
const WINDOW = 0x4000_0000;
const WINDOW_PA = 0x8030_0000;
/** Guest RAM outside the kernel megapage, left unmapped by the VS-stage. */
const UNMAPPED = 0x8040_0000;
const MARK = 0x1234_abcd;

function tables(): Sv32Tables {
  return new Sv32Tables().kernel().map(WINDOW, WINDOW_PA, RWAD);
}

const image = buildGuest({
  tables: tables(),
  body(g) {
    const a = g.a;
    a.li("s0", WINDOW_PA).li("s1", MARK).sw("s1", 0, "s0");
    g.pagingOn(tables());
    // Sv32 → Bare: the window's translation is in the TLB, then vsatp is Bare with no fence.
    a.li("s2", WINDOW).lw("s3", 0, "s2");
    a.csrw("satp", "zero");
    a.li("s4", 0x77).lw("s4", 0, "s2").sw("s1", 4, "s2");
    // Bare → Sv32: RAM reached identically, then paging on again with no fence.
    a.li("s5", UNMAPPED).sw("s1", 0, "s5").lw("s6", 0, "s5");
    a.li("t0", tables().satp()).csrw("satp", "t0");
    a.li("s7", 0x77).lw("s7", 0, "s5").sw("s1", 4, "s5");
    g.show("sv32", "s3").show("bare", "s4").show("ram", "s6").show("unmapped", "s7");
    g.trapCount("s0").show("traps", "s0");
  },
});

const targets = (["trap", "hw"] as const).flatMap((mode: ExecutionMode) =>
  strategyNames(mode).map((strategy) => ({ mode, strategy })),
);

describe("a vsatp mode change takes effect without a fence", () => {
  it("natively: access faults at the bare address, page faults once paging is back on", () => {
    const native = runNative(image);
    expect(native.state).toBe("exited");
    const at = (cause: number, tval: number) =>
      new RegExp(`scause=${h8(cause)}\nsepc=\\w{8}\nstval=${h8(tval)}\n`);
    expect(native.output).toMatch(at(5, WINDOW));
    expect(native.output).toMatch(at(7, WINDOW + 4));
    expect(native.output).toMatch(at(13, UNMAPPED));
    expect(native.output).toMatch(at(15, UNMAPPED + 4));
    expect(native.output).toContain(`sv32=${h8(MARK)}\nbare=00000077\nram=${h8(MARK)}\nunmapped=00000077\n`);
    expect(native.output).toContain("traps=00000004");
  });

  it.each(targets)("$strategy in $mode mode: the guest sees the same", ({ mode, strategy }) => {
    const native = runNative(image);
    const hv = runHv(image, strategy, undefined, { mode });
    expect(hv.error).toBe("");
    expect({ state: hv.state, exitCode: hv.exitCode, output: hv.output }).toEqual(native);
  });
});
