/**
 * ASIDLEN is part of the machine a guest sees: under the hypervisor, the
 * guest's satp implements exactly the ASID bits the machine implements
 * natively (none when the TLB has no ASID tags), so a kernel that probes
 * satp for ASIDs decides the same way natively and under every strategy.
 */
import { type Image, Machine, type MachineConfig } from "@shadowlab/emu-core";
import { getWorkload } from "@shadowlab/workloads";
import { describe, expect, it } from "vitest";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";
import { buildGuest } from "./support/hv-guest.ts";

const BUDGET = 20_000_000;

function native(img: Image, machine: Partial<MachineConfig>) {
  const m = new Machine(machine);
  m.load(img);
  const r = m.run({ maxInstructions: BUDGET });
  return { reason: r.reason, exitCode: r.exitCode, output: m.output };
}

function underHv(img: Image, strategy: string, machine: Partial<MachineConfig>) {
  const hv = new Hypervisor({ machine });
  hv.addGuest(img, strategy);
  const [g] = hv.run({ maxInstructions: BUDGET }).guests;
  return { reason: g.state === "exited" ? "exit" : g.state, exitCode: g.exitCode, output: g.output };
}

const untagged = (asidTags: boolean): Partial<MachineConfig> => ({
  tlb: { entries: 32, ways: 4, replacement: "lru", asidTags, seed: 1 },
});

/** Writes every satp bit but MODE (Bare keeps translation off) and prints what reads back. */
const probe = buildGuest({
  body(g) {
    g.a.li("s0", 0x7fff_ffff).csrw("satp", "s0");
    g.showCsr("satp", "satp");
    g.a.csrw("satp", "zero");
  },
});

describe.each(strategyNames())("under %s the guest's satp has the machine's ASIDLEN", (strategy) => {
  it.each([
    { name: "9 ASID bits", machine: {}, satp: "satp=7fffffff" },
    { name: "4 ASID bits", machine: { asidBits: 4 }, satp: "satp=03ffffff" },
    { name: "no ASID tags, no ASID bits", machine: untagged(false), satp: "satp=003fffff" },
  ])("$name", ({ machine, satp }) => {
    const n = native(probe, machine);
    expect(n.output).toContain(satp);
    expect(underHv(probe, strategy, machine)).toEqual(n);
  });

  it("a kernel that needs ASIDs refuses an untagged machine under the hypervisor as it does natively", () => {
    const w = getWorkload("ctxswitch");
    const img = w.build(w.schema.parse({ processes: 2, pages: 1, rounds: 2, asid: true }));
    const n = native(img, untagged(false));
    expect(n.reason).toBe("exit");
    expect(n.exitCode).toBe(6); // KERNEL_ERROR.asidBits
    expect(underHv(img, strategy, untagged(false))).toEqual(n);
  });
});

describe("guestAsidBits", () => {
  it("offers a guest more ASID bits than the machine has when asked to", () => {
    const hv = new Hypervisor({ machine: { asidBits: 2 }, guestAsidBits: 9 });
    hv.addGuest(probe, "shadow-tagged");
    expect(hv.run({ maxInstructions: BUDGET }).guests[0].output).toContain("satp=7fffffff");
  });
});
