/**
 * Every exception a guest can take reaches the guest's stvec with the same
 * scause, sepc, stval and sstatus (SPP, SPIE) as on the bare machine: the
 * report handler prints them for each trap and the whole console output is
 * compared with the native run, for every registered strategy. The
 * `contains` lists are the spec's predictions (privileged spec 1.12, 3.1.15
 * / 4.1.9 for the causes, 4.3.2 for page faults), checked natively.
 */
import type { Image, MachineConfig } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { strategyNames } from "../src/paging/registry.ts";
import {
  buildGuest,
  FREE_BASE,
  type GuestBuilder,
  PTE,
  RWAD,
  SSTATUS,
  Sv32Tables,
  USER_PA,
  USER_VA,
} from "./support/hv-guest.ts";
import { expectSame, runNative, trapLines } from "./support/hv-harness.ts";

const { V, R, W, X, U, A, D } = PTE;

/** Test pages: virtual address -> what backs it. */
const VA = {
  userRw: 0x4020_0000, // U RW
  userRo: 0x4020_1000, // U R
  userXo: 0x4020_2000, // U X only
  supRw: 0x4020_3000, // S RW (no X)
  supRo: 0x4020_4000, // S R
  unmapped: 0x4020_6000, // invalid PTE
  outsideRam: 0x4020_7000, // S RWX leaf to a physical page that is neither RAM nor a device
  reservedWnoR: 0x4020_9000, // W without R: reserved encoding
  badMega: 0x0080_0000, // a megapage whose PPN[0] is not zero
  userOutsideRam: 0x4020_8000, // U RW leaf to nothing
};

function tables(): Sv32Tables {
  const t = new Sv32Tables().kernel();
  t.map(USER_VA, USER_PA, V | R | X | U | A);
  t.map(VA.userRw, FREE_BASE, V | R | W | U | A | D);
  t.map(VA.userRo, FREE_BASE + 0x1000, V | R | U | A);
  t.map(VA.userXo, FREE_BASE + 0x2000, V | X | U | A);
  t.map(VA.supRw, FREE_BASE + 0x3000, RWAD);
  t.map(VA.supRo, FREE_BASE + 0x4000, V | R | A);
  t.map(VA.unmapped, FREE_BASE + 0x6000, R | W | A | D); // V = 0
  t.map(VA.outsideRam, 0x3000_0000, V | R | W | X | A | D);
  t.map(VA.userOutsideRam, 0x3000_1000, V | R | W | U | A | D);
  t.map(VA.reservedWnoR, FREE_BASE + 0x9000, V | W | A | D);
  t.mega(VA.badMega, 0x8000_1000, V | R | W | A | D);
  return t;
}

/** From S: load, store and fetch at `va`, each reported (fetch resumes at a continuation). */
function sAccesses(g: GuestBuilder, va: number, what = "lsf"): void {
  const a = g.a;
  a.li("s0", va);
  if (what.includes("l")) a.lw("s1", 0, "s0");
  if (what.includes("s")) a.sw("s1", 4, "s0");
  if (what.includes("f")) {
    const back = g.fresh("fetch_back");
    g.onTrapGoto(back);
    a.jalr("ra", 8, "s0");
    a.label(back);
  }
}

interface Case {
  name: string;
  image: Image;
  contains: string[];
  /** Machine configuration of both runs, when not the default. */
  machine?: Partial<MachineConfig>;
}

/** Misaligned loads, stores, AMOs and fetch targets from S and from U: run with misaligned accesses trapped and performed. */
const MISALIGNED_GUEST = buildGuest({
  body(g) {
    const a = g.a;
    a.li("s0", FREE_BASE + 1);
    a.lw("s1", 0, "s0").lh("s1", 0, "s0").lhu("s1", 2, "s0").sw("s1", 0, "s0").sh("s1", 2, "s0");
    a.lr_w("s1", "s0").amoadd_w("s1", "s1", "s0").sc_w("s1", "s1", "s0");
    a.lb("s1", 0, "s0").sb("s1", 0, "s0"); // byte accesses are never misaligned
    g.onTrapGoto("after_jump");
    a.la("s2", "after_jump").addi("s2", "s2", 2).jalr("ra", 0, "s2");
    a.label("after_jump");
    g.onTrapGoto("after_branch");
    a.label("branch_at").word(0x0000_0363); // beq zero, zero, +6 (the assembler refuses it)
    a.nop().nop();
    a.label("after_branch");
    g.enterUser("u_mis", "back");
    a.label("back");
    g.trapCount("s0").show("traps", "s0");
  },
  code(g) {
    g.a
      .label("u_mis")
      .li("s0", FREE_BASE + 2)
      .lw("s1", 0, "s0")
      .sw("s1", 0, "s0")
      .lh("s1", 1, "s0")
      .ecall();
  },
});

const cases: Case[] = [
  {
    name: "illegal instruction (stval = the bits, 0 for an all-zero word) and breakpoint (stval = pc), from S and from U",
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.word(0);
        a.word(0xffff_ffff);
        a.label("s_ebreak").ebreak();
        g.enterUser("u_code", "back");
        a.label("back");
        g.trapCount("s0").show("traps", "s0");
      },
      code(g) {
        g.a
          .label("u_code")
          .word(0x0000_0000)
          .word(0x1234_5003 | 0x7f)
          .ebreak()
          .ecall();
      },
    }),
    contains: [
      "scause=00000002\nsepc=800000b4\nstval=00000000",
      "stval=ffffffff\nsstatus=00000100",
      "scause=00000003\nsepc=800000bc\nstval=800000bc",
      // From U: SPP = 0; SPIE = 1 because the report handler's sret into S had set SPIE = 1 and the
      // sret into U then made SIE = 1.
      "stval=1234507f\nsstatus=00000020",
      "traps=00000007",
    ],
  },
  {
    name: "misaligned loads, stores, AMOs and fetch targets, from S and from U (misaligned: trap)",
    image: MISALIGNED_GUEST,
    contains: [
      `scause=00000004\nsepc=`,
      `stval=${(FREE_BASE + 1).toString(16)}`,
      `stval=${(FREE_BASE + 3).toString(16)}`,
      "scause=00000006",
      "scause=00000000\nsepc=800000fc\nstval=80000102", // misaligned jalr target: at the jalr, stval = target
      "traps=0000000e",
    ],
    machine: { misaligned: "trap" },
  },
  {
    name: "misaligned loads and stores performed (the default); LR/SC, AMOs and fetch targets still trap",
    image: MISALIGNED_GUEST,
    contains: [
      `scause=00000004\nsepc=`, // lr.w
      `stval=${(FREE_BASE + 1).toString(16)}`,
      "scause=00000006", // amoadd.w, sc.w
      "scause=00000000\nsepc=800000fc\nstval=80000102", // misaligned jalr target: at the jalr, stval = target
      "scause=00000008", // U's misaligned lw, sw and lh completed: its ecall is next
      "traps=00000006",
    ],
  },
  {
    name: "access faults: loads, stores and fetches to physical addresses nothing decodes (bare and translated, S and U)",
    image: buildGuest({
      tables: tables(),
      body(g) {
        const a = g.a;
        // Translation off: the physical addresses themselves.
        a.li("s0", 0x2000_0000).lw("s1", 0, "s0").sb("s1", 3, "s0").lbu("s1", 7, "s0");
        a.li("s0", 0x0).lw("s1", 0, "s0");
        g.onTrapGoto("bare_fetch_back");
        a.li("s0", 0x2000_0000).jalr("ra", 0, "s0");
        a.label("bare_fetch_back");
        // Translated: valid leaves that point outside RAM and devices.
        g.pagingOn(tables());
        sAccesses(g, VA.outsideRam);
        g.enterUser("u_acc", "back", false, true);
        a.label("back");
        g.trapCount("s0").show("traps", "s0");
      },
      user(g) {
        g.a.label("u_acc").li("s0", VA.userOutsideRam).lw("s1", 0, "s0").sw("s1", 0, "s0").ecall();
      },
    }),
    contains: [
      "scause=00000005\nsepc=800000b8\nstval=20000000",
      "scause=00000007\nsepc=800000bc\nstval=20000003",
      "stval=00000000",
      "scause=00000001\nsepc=20000000\nstval=20000000",
      `scause=00000005\nsepc=800`,
      `stval=${(VA.outsideRam + 8).toString(16)}`,
      `scause=00000007\nsepc=4008`,
      "traps=0000000b",
    ],
  },
  {
    name: "ecall from U reaches the guest kernel as scause 8 with SPP = U and sepc at the ecall",
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.li("s0", 0x42);
        g.enterUser("u_ecall", "back", true);
        a.label("back");
        a.mv("s1", "a2");
        g.show("a2_from_user", "s1");
      },
      code(g) {
        g.a.label("u_ecall").li("a2", 0x77).label("u_ecall_at").ecall();
      },
    }),
    contains: ["scause=00000008\nsepc=", "stval=00000000\nsstatus=00000020", "a2_from_user=00000077"],
  },
  {
    name: "page faults from U: unmapped, read-only store, execute-only load, supervisor pages, fetch from non-X and reserved PTEs",
    image: buildGuest({
      tables: tables(),
      body(g) {
        const a = g.a;
        g.pagingOn(tables());
        g.enterUser("u_pf", "back", false, true);
        a.label("back");
        // Fetches from U: each faults at its target and resumes in S.
        for (const [i, va] of [VA.userRw, VA.supRw, VA.unmapped, VA.userRo].entries()) {
          const back = `ufetch_back_${i}`;
          g.onTrapGoto(back);
          a.li("t0", SSTATUS.SPP)
            .csrc("sstatus", "t0")
            .li("t0", va + 0x10)
            .csrw("sepc", "t0")
            .sret();
          a.label(back);
        }
        g.trapCount("s0").show("traps", "s0");
      },
      user(g) {
        const a = g.a;
        a.label("u_pf");
        a.li("s0", VA.unmapped).lw("s1", 0, "s0").sw("s1", 0, "s0");
        a.li("s0", VA.userRo).lw("s1", 0, "s0").sw("s1", 4, "s0").amoor_w("s1", "s1", "s0");
        a.li("s0", VA.userXo).lw("s1", 8, "s0").sw("s1", 8, "s0");
        a.li("s0", VA.supRw).lw("s1", 12, "s0").sw("s1", 12, "s0");
        a.li("s0", VA.reservedWnoR).lw("s1", 0, "s0").sw("s1", 0, "s0");
        a.li("s0", VA.badMega).lw("s1", 0, "s0");
        a.li("s0", VA.userRw).lw("s1", 0, "s0").sw("s1", 0, "s0"); // fine
        a.ecall();
      },
    }),
    contains: [
      `scause=0000000d\nsepc=4008`,
      `stval=${VA.unmapped.toString(16)}`,
      `scause=0000000f\nsepc=4008`,
      `stval=${(VA.userRo + 4).toString(16)}`,
      `stval=${(VA.userXo + 8).toString(16)}`,
      `stval=${(VA.supRw + 12).toString(16)}`,
      `stval=00800000`,
      `scause=0000000c\nsepc=${(VA.userRw + 0x10).toString(16)}\nstval=${(VA.userRw + 0x10).toString(16)}`,
      "traps=00000010",
    ],
  },
  {
    name: "page faults from S: unmapped, read-only, no-X fetch, SUM=0 access to U pages, S fetch from a U page",
    image: buildGuest({
      tables: tables(),
      body(g) {
        const a = g.a;
        g.pagingOn(tables());
        sAccesses(g, VA.unmapped);
        sAccesses(g, VA.supRo, "s");
        sAccesses(g, VA.supRw, "f");
        sAccesses(g, VA.reservedWnoR);
        sAccesses(g, VA.badMega, "l");
        g.print("SUM=0\n");
        sAccesses(g, VA.userRw);
        g.print("SUM=1\n");
        a.li("t0", SSTATUS.SUM).csrs("sstatus", "t0");
        sAccesses(g, VA.userRw); // load and store now work; the fetch still faults
        sAccesses(g, USER_VA, "f");
        a.li("t0", SSTATUS.SUM).csrc("sstatus", "t0");
        g.trapCount("s0").show("traps", "s0");
      },
      user(g) {
        g.a.label("u_nothing").ecall();
      },
    }),
    contains: [
      `scause=0000000d\nsepc=800`,
      `scause=0000000f\nsepc=800`,
      `scause=0000000c\nsepc=${(VA.supRw + 8).toString(16)}`,
      `SUM=0\ntrap\nscause=0000000d`,
      `SUM=1\ntrap\nscause=0000000c\nsepc=${(VA.userRw + 8).toString(16)}`,
      `scause=0000000c\nsepc=${(USER_VA + 8).toString(16)}\nstval=${(USER_VA + 8).toString(16)}\nsstatus=00040100`,
      "traps=0000000e",
    ],
  },
];

describe.each(strategyNames())("reflected exceptions under %s", (strategy) => {
  it.each(cases)("$name", ({ image, contains, machine }) => {
    const native = runNative(image, undefined, machine);
    for (const c of contains) expect(native.output).toContain(c);
    expect(native.output).not.toContain("not reached");
    expectSame(image, strategy, undefined, machine);
  });
});

describe("trap record format", () => {
  it("prints one record per trap", () => {
    expect(trapLines(2, 0x8000_0000, 0, 0x100)).toBe(
      "trap\nscause=00000002\nsepc=80000000\nstval=00000000\nsstatus=00000100\n",
    );
  });
});
