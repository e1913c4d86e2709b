/**
 * A guest page table whose pointer leads outside guest RAM: the walk's next
 * PTE read finds no memory, so natively the access takes an access fault
 * (load 5, store 7, fetch 1) with stval = the virtual address (privileged
 * spec 1.12, 4.3.2 step 2). Under nested paging the same read is an implicit
 * VS-stage access that the G-stage refuses; the guest-page fault names the
 * PTE's guest-physical address and mtinst the PTE-read pseudoinstruction
 * (8.6.3), and the hypervisor must give the guest that access fault, never
 * emulate the guest's load or store on a device that happens to sit at the
 * PTE's address (here the CLINT).
 */
import { describe, expect, it } from "vitest";
import { strategyNames } from "../src/paging/registry.ts";
import type { ExecutionMode } from "../src/paging/strategy.ts";
import { buildGuest, type GuestBuilder, PTE, Sv32Tables } from "./support/hv-guest.ts";
import { runHv, runNative } from "./support/hv-harness.ts";

/** Root index 0x100: a pointer to a "level-0 table" in the CLINT (a device, not RAM). */
const ON_DEVICE = 0x4000_0000;
const CLINT_TABLE = 0x0200_7000;
/** Root index 0x101: a pointer to a guest-physical page nothing backs. */
const ON_NOTHING = 0x4040_0000;
const NOTHING_TABLE = 0x3000_0000;

function tables(): Sv32Tables {
  const t = new Sv32Tables().kernel();
  t.raw(t.rootPteAddr(ON_DEVICE), ((CLINT_TABLE >>> 12) << 10) | PTE.V);
  t.raw(t.rootPteAddr(ON_NOTHING), ((NOTHING_TABLE >>> 12) << 10) | PTE.V);
  return t;
}

/** Load, store and fetch at `va`; the report handler prints each trap. */
function accesses(g: GuestBuilder, va: number): void {
  const back = g.fresh("fetch_back");
  g.a.li("s0", va).li("s1", 0x5a5a_5a5a).li("s2", 0x77).lb("s2", 0xc0, "s0").sw("s1", 0x40, "s0");
  g.onTrapGoto(back);
  g.a.jalr("ra", 0x80, "s0");
  g.a.label(back);
  g.show("loaded", "s2");
}

const image = buildGuest({
  tables: tables(),
  body(g) {
    g.pagingOn(tables());
    accesses(g, ON_DEVICE);
    accesses(g, ON_NOTHING);
    g.trapCount("s0").show("traps", "s0");
  },
});

const targets = (["trap", "hw"] as const).flatMap((mode: ExecutionMode) =>
  strategyNames(mode).map((strategy) => ({ mode, strategy })),
);

describe("a VS-stage PTE outside guest RAM", () => {
  it("natively: an access fault of the access's type with stval = the virtual address", () => {
    const native = runNative(image);
    expect(native.state).toBe("exited");
    for (const va of [ON_DEVICE, ON_NOTHING]) {
      const hex = (v: number) => v.toString(16).padStart(8, "0");
      expect(native.output).toContain(`scause=00000005\nsepc=`);
      expect(native.output).toContain(`stval=${hex(va + 0xc0)}`);
      expect(native.output).toContain(`stval=${hex(va + 0x40)}`);
      expect(native.output).toContain(`scause=00000001\nsepc=${hex(va + 0x80)}`);
    }
    expect(native.output).not.toContain("loaded=00000000"); // the faulting lb left s2 alone
    expect(native.output).toContain("loaded=00000077");
    expect(native.output).toContain("traps=00000006");
  });

  it.each(targets)(
    "$strategy in $mode mode: the same access faults, the load never emulated on a device",
    ({ mode, strategy }) => {
      const native = runNative(image);
      const hv = runHv(image, strategy, undefined, { mode });
      expect(hv.error).toBe("");
      expect({ state: hv.state, exitCode: hv.exitCode, output: hv.output }).toEqual(native);
    },
  );
});
