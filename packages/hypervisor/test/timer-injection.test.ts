/**
 * The guest's Sstc timer: stimecmp-driven supervisor timer interrupts are
 * delivered when a real S-mode would take them (privileged spec 1.12, 4.1.3
 * and 3.1.9 for when an S-level interrupt is taken; Sstc for STIP). Taken
 * with SIE set, pending-but-masked (visible in sip) until the csrs that sets
 * SIE or the sret that drops to U, priority against SSIP, vectored stvec.
 * Every guest prints what it observes, including how many interrupts it
 * took; the output equals the native run's for every registered strategy.
 * Nothing printed depends on timing that legitimately differs (the exact
 * instruction an interrupt strikes in a busy loop).
 */
import type { Image } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { strategyNames } from "../src/paging/registry.ts";
import { buildGuest, type GuestBuilder, SSTATUS } from "./support/hv-guest.ts";
import { expectSame, runHv, runNative } from "./support/hv-harness.ts";

const STIE = 1 << 5;
/** Save-area slots of the counting timer handler (beyond the report handler's). */
const SLOT = { t0: 80, t1: 84, count: 88, limit: 92 };

/**
 * A timer handler that counts interrupts in gp[count], re-arms stimecmp
 * `period` ticks ahead until gp[limit] interrupts were taken, then switches
 * the timer off. Anything else goes to the report handler.
 */
function countingHandler(g: GuestBuilder, label: string, period: number): void {
  const a = g.a;
  a.align(4);
  a.label(label);
  a.sw("t0", SLOT.t0, "gp").sw("t1", SLOT.t1, "gp");
  a.csrr("t0", "scause").li("t1", 0x8000_0005).beq("t0", "t1", `${label}_timer`);
  a.lw("t0", SLOT.t0, "gp").lw("t1", SLOT.t1, "gp").j("report_trap");
  a.label(`${label}_timer`);
  a.lw("t0", SLOT.count, "gp").addi("t0", "t0", 1).sw("t0", SLOT.count, "gp");
  a.lw("t1", SLOT.limit, "gp").bge("t0", "t1", `${label}_off`);
  a.rdtime("t0").addi("t0", "t0", period).csrw("stimecmp", "t0");
  a.j(`${label}_ret`);
  a.label(`${label}_off`);
  a.li("t0", -1).csrw("stimecmph", "t0").csrw("stimecmp", "t0");
  a.label(`${label}_ret`);
  a.lw("t0", SLOT.t0, "gp").lw("t1", SLOT.t1, "gp");
  a.sret();
}

/** Arm the timer `ticks` from now (stimecmph = 0). */
function arm(g: GuestBuilder, ticks: number): void {
  g.a.rdtime("t0").addi("t0", "t0", ticks).csrw("stimecmp", "t0").csrw("stimecmph", "zero");
}

interface Case {
  name: string;
  image: Image;
  expected: string;
  injected: number;
}

const cases: Case[] = [
  {
    name: "with SIE set, each stimecmp deadline interrupts the guest once (25 re-armed ticks)",
    injected: 25,
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.la("t0", "tick").csrw("stvec", "t0");
        a.li("t0", 25).sw("t0", SLOT.limit, "gp");
        a.li("t0", STIE).csrs("sie", "t0");
        arm(g, 40);
        a.csrsi("sstatus", SSTATUS.SIE);
        a.label("spin").lw("s0", SLOT.count, "gp").li("s1", 25).blt("s0", "s1", "spin");
        a.csrci("sstatus", SSTATUS.SIE);
        g.show("ticks", "s0").showCsr("sip", "sip");
        g.trapCount("s2").show("other_traps", "s2");
      },
      code(g) {
        countingHandler(g, "tick", 37);
      },
    }),
    expected: "ticks=00000019\nsip=00000000\nother_traps=00000000\n",
  },
  {
    name: "masked by SIE = 0 the interrupt stays pending in sip and is taken at the csrs that sets SIE",
    injected: 1,
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.li("t0", STIE).csrs("sie", "t0");
        arm(g, 30);
        a.label("poll").csrr("s0", "sip").andi("s0", "s0", STIE).beqz("s0", "poll");
        g.show("sip_pending", "s0");
        g.trapCount("s1").show("taken_while_masked", "s1");
        g.onTrapGoto("taken");
        a.csrsi("sstatus", SSTATUS.SIE);
        a.label("after_csrs");
        g.print("not reached\n");
        a.label("taken");
        a.la("s2", "after_csrs").csrr("s3", "sepc").sub("s2", "s3", "s2");
        g.show("sepc_is_after_csrs", "s2");
        a.li("t0", -1).csrw("stimecmp", "t0");
        g.showCsr("sip_after_rearm", "sip");
      },
    }),
    expected:
      "sip_pending=00000020\ntaken_while_masked=00000000\n" +
      "trap\nscause=80000005\nstval=00000000\nsstatus=00000120\n" + // taken in S with SIE = 1
      "sepc_is_after_csrs=00000000\nsip_after_rearm=00000000\n",
  },
  {
    name: "pending while S runs with SIE = 0, taken as soon as sret drops to U (before U's first instruction)",
    injected: 1,
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.li("t0", STIE).csrs("sie", "t0");
        arm(g, 20);
        a.label("poll").csrr("s0", "sip").andi("s0", "s0", STIE).beqz("s0", "poll");
        g.onTrapGoto("taken");
        g.enterUser("u_spin");
        a.label("taken");
        a.la("s2", "u_spin").csrr("s3", "sepc").sub("s2", "s3", "s2");
        g.show("sepc_is_u_entry", "s2");
        a.li("t0", -1).csrw("stimecmp", "t0");
      },
      code(g) {
        g.a.label("u_spin").addi("a2", "a2", 1).j("u_spin");
      },
    }),
    expected:
      "trap\nscause=80000005\n" + // sstatus = 0: SPP = U, and SPIE = 0 since SIE was 0 in U
      "stval=00000000\nsstatus=00000000\nsepc_is_u_entry=00000000\n",
  },
  {
    name: "vectored stvec: the timer enters at base + 4*5, exceptions at base; SSIP outranks STIP",
    injected: 1, // plus one supervisor software interrupt
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.la("t0", "vectors").ori("t0", "t0", 1).csrw("stvec", "t0");
        a.csrr("s0", "stvec").andi("s0", "s0", 3);
        g.show("stvec_mode", "s0");
        // Both SSIP and STIP pending while masked: SSI (priority above STI) goes first.
        a.li("t0", STIE | 2).csrs("sie", "t0");
        arm(g, 10);
        a.label("poll").csrr("s0", "sip").andi("s0", "s0", STIE).beqz("s0", "poll");
        a.csrsi("sip", 2);
        g.showCsr("both_pending", "sip");
        a.csrsi("sstatus", SSTATUS.SIE);
        a.label("resumed");
        a.csrci("sstatus", SSTATUS.SIE);
        a.lw("s4", SLOT.count, "gp");
        g.show("order", "s4");
        a.ebreak(); // an exception still enters at the base
        g.trapCount("s5").show("exceptions", "s5");
      },
      code(g) {
        const a = g.a;
        a.align(256);
        a.label("vectors");
        a.j("report_trap"); // 0: exceptions
        a.j("vec_ssi"); // 1
        a.j("report_trap");
        a.j("report_trap");
        a.j("report_trap");
        a.j("vec_sti"); // 5
        a.label("vec_ssi");
        // order = order * 16 + 1; clear SSIP and return (STI is taken next).
        a.lw("t4", SLOT.count, "gp").slli("t4", "t4", 4).addi("t4", "t4", 1).sw("t4", SLOT.count, "gp");
        a.csrci("sip", 2).sret();
        a.label("vec_sti");
        a.lw("t4", SLOT.count, "gp").slli("t4", "t4", 4).addi("t4", "t4", 5).sw("t4", SLOT.count, "gp");
        a.li("t4", -1).csrw("stimecmp", "t4").csrw("stimecmph", "t4");
        a.sret();
      },
    }),
    expected: "stvec_mode=00000001\nboth_pending=00000022\norder=00000015\ntrap\nscause=00000003\n", // SSI (1) then STI (5)
  },
  {
    name: "stimecmp in the past fires at once, far in the future never; the Sstc update sequence is exact",
    injected: 0,
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.csrw("stimecmp", "zero").csrw("stimecmph", "zero");
        g.showCsr("past", "sip");
        a.li("t0", -1).csrw("stimecmph", "t0").li("t0", 0x1234_5678).csrw("stimecmp", "t0");
        a.li("t0", 0x7).csrw("stimecmph", "t0");
        g.showCsr("future", "sip").showCsr("lo", "stimecmp").showCsr("hi", "stimecmph");
        // Enabled and unmasked, but far away: a long loop takes nothing.
        a.li("t0", STIE).csrs("sie", "t0").csrsi("sstatus", SSTATUS.SIE);
        a.li("s0", 3000).label("wait").addi("s0", "s0", -1).bnez("s0", "wait");
        a.csrci("sstatus", SSTATUS.SIE);
        g.trapCount("s1").show("traps", "s1");
      },
    }),
    expected: "past=00000020\nfuture=00000000\nlo=12345678\nhi=00000007\ntraps=00000000\n",
  },
];

describe.each(strategyNames())("timer injection under %s", (strategy) => {
  it.each(cases)("$name", ({ image, expected, injected }) => {
    const native = runNative(image);
    // The expected text, with the report handler's absolute sepc line left out.
    expect(native.output.replace(/sepc=[0-9a-f]{8}\n/g, "")).toContain(expected);
    expectSame(image, strategy);
    const hv = runHv(image, strategy);
    expect(hv.stats.extra["hv.inject.supervisor_timer"] ?? 0).toBe(injected);
  });
});
