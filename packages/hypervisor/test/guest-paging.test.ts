/**
 * The guest's own Sv32 page tables as the shadows must present them
 * (privileged spec 1.12, 4.3): the SUM and MXR views, 4 MiB megapages, the
 * A and D bits as the hardware walker sets them (the guest reads its PTEs
 * back), PTE edits made visible by sfence.vma or a satp write, and page-table
 * pages outside RAM. Every guest prints what it observes and the output must
 * equal the native run's for every registered strategy.
 *
 * A PTE edit is never observed before its sfence.vma: the architecture lets
 * the old or the new translation be used until then, so the guests only read
 * (to warm the TLB and shadows) without printing in that window.
 */
import type { Image } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { strategyNames } from "../src/paging/registry.ts";
import {
  buildGuest,
  FREE_BASE,
  type GuestBuilder,
  PTE,
  SSTATUS,
  Sv32Tables,
  USER_PA,
  USER_VA,
} from "./support/hv-guest.ts";
import { expectSame, h8, runNative } from "./support/hv-harness.ts";

const { V, R, W, X, U, A, D } = PTE;

const PA = {
  user: FREE_BASE,
  supX: FREE_BASE + 0x1000,
  userX: FREE_BASE + 0x2000,
  one: FREE_BASE + 0x3000,
  two: FREE_BASE + 0x4000,
  ad: FREE_BASE + 0x5000,
  adRo: FREE_BASE + 0x6000,
  adX: FREE_BASE + 0x7000,
  mega: 0x8040_0000,
  megaAd: 0x8080_0000,
};
const VA = {
  user: 0x4000_0000,
  supX: 0x4000_1000,
  userX: 0x4000_2000,
  swap: 0x4000_3000,
  ad: 0x4000_5000,
  adRo: 0x4000_6000,
  adX: 0x4000_7000,
  alias: 0x4000_8000,
  mega: 0x4040_0000,
  megaAd: 0x4080_0000,
  megaU: 0x40c0_0000,
  farTable: 0x4100_0000,
};

const pteHex = (pa: number, flags: number): string => h8(((pa >>> 12) << 10) | flags);

/** Store `value` at a physical address (through the kernel's identity megapage or bare). */
function poke(g: GuestBuilder, pa: number, value: number): void {
  g.a.li("t0", pa).li("t1", value).sw("t1", 0, "t0");
}

/** Load the word at `va` into s1 (a fault is reported and skipped, leaving s1 = 0xdead). */
function peek(g: GuestBuilder, va: number, name: string): void {
  g.a.li("s1", 0xdead).li("s0", va).lw("s1", 0, "s0");
  g.show(name, "s1");
}

interface Case {
  name: string;
  image: Image;
  contains: string[];
}

function sumMxr(): Case {
  const t = new Sv32Tables().kernel();
  t.map(USER_VA, USER_PA, V | R | X | U | A);
  t.map(VA.user, PA.user, V | R | W | U | A | D);
  t.map(VA.supX, PA.supX, V | X | A);
  t.map(VA.userX, PA.userX, V | X | U | A);
  return {
    name: "SUM lets S read and write U pages, MXR lets S and U read execute-only pages, toggled back and forth",
    image: buildGuest({
      tables: t,
      body(g) {
        const a = g.a;
        poke(g, PA.user, 0x1111_0001);
        poke(g, PA.supX, 0x2222_0002);
        poke(g, PA.userX, 0x3333_0003);
        g.pagingOn(t);
        const sum = (on: boolean) => a.li("t0", SSTATUS.SUM)[on ? "csrs" : "csrc"]("sstatus", "t0");
        const mxr = (on: boolean) => a.li("t0", SSTATUS.MXR)[on ? "csrs" : "csrc"]("sstatus", "t0");
        peek(g, VA.user, "u_sum0");
        sum(true);
        peek(g, VA.user, "u_sum1");
        a.li("s0", VA.user).li("s2", 0x1111_00ff).sw("s2", 0, "s0");
        sum(false);
        peek(g, VA.user, "u_sum0_again");
        a.li("s0", VA.user).sw("s2", 4, "s0");
        sum(true);
        peek(g, VA.user, "u_sum1_again");
        sum(false);
        peek(g, VA.supX, "sx_mxr0");
        mxr(true);
        peek(g, VA.supX, "sx_mxr1");
        peek(g, VA.userX, "ux_mxr1_sum0");
        sum(true);
        peek(g, VA.userX, "ux_mxr1_sum1");
        mxr(false);
        peek(g, VA.userX, "ux_mxr0_sum1");
        mxr(true);
        peek(g, VA.supX, "sx_mxr1_again");
        sum(false);
        // U with MXR = 1 reads its execute-only page; with MXR = 0 it faults.
        g.enterUser("u_read", "back1", false, true);
        a.label("back1");
        g.show("u_mxr1", "s1");
        mxr(false);
        g.enterUser("u_read", "back2", false, true);
        a.label("back2");
        g.show("u_mxr0", "s1");
        g.trapCount("s3").show("traps", "s3");
      },
      user(g) {
        g.a.label("u_read").li("s1", 0xdead).li("s0", VA.userX).lw("s1", 0, "s0").ecall();
      },
    }),
    contains: [
      "u_sum0=0000dead",
      "u_sum1=11110001",
      "u_sum0_again=0000dead",
      "u_sum1_again=111100ff",
      "sx_mxr0=0000dead",
      "sx_mxr1=22220002",
      "ux_mxr1_sum0=0000dead",
      "ux_mxr1_sum1=33330003",
      "ux_mxr0_sum1=0000dead",
      "sx_mxr1_again=22220002",
      "u_mxr1=33330003",
      "u_mxr0=0000dead",
      "traps=00000009", // 6 refused S accesses, U: ecall, the MXR=0 fault, ecall
    ],
  };
}

function megapages(): Case {
  const t = new Sv32Tables().kernel();
  t.map(USER_VA, USER_PA, V | R | X | U | A);
  t.mega(VA.mega, PA.mega, V | R | W | A | D);
  t.mega(VA.megaU, PA.mega, V | R | W | U | A | D);
  t.map(VA.alias, PA.mega + 0x12_3000, V | R | W | A | D);
  return {
    name: "4 MiB megapages: any offset inside reaches the right 4 KiB frame, for S and for U, as 4 KiB aliases see it",
    image: buildGuest({
      tables: t,
      body(g) {
        const a = g.a;
        g.pagingOn(t);
        a.li("s0", VA.mega + 0x12_3450)
          .li("s2", 0xcafe_0001)
          .sw("s2", 0, "s0");
        a.li("s0", VA.mega + 0x3f_fffc)
          .li("s2", 0xcafe_0002)
          .sw("s2", 0, "s0");
        a.li("s0", VA.mega).li("s2", 0xcafe_0003).sw("s2", 0, "s0");
        peek(g, VA.alias + 0x450, "alias");
        peek(g, VA.mega + 0x3f_fffc, "top");
        peek(g, VA.mega, "bottom");
        g.enterUser("u_mega", "back", false, true);
        a.label("back");
        g.show("u_read", "s1");
        peek(g, VA.mega + 0x20_0000, "u_wrote");
        g.trapCount("s3").show("traps", "s3");
      },
      user(g) {
        const a = g.a;
        a.label("u_mega")
          .li("s0", VA.megaU + 0x12_3450)
          .lw("s1", 0, "s0");
        a.li("s0", VA.megaU + 0x20_0000)
          .li("s2", 0xbeef)
          .sw("s2", 0, "s0")
          .ecall();
      },
    }),
    contains: [
      "alias=cafe0001",
      "top=cafe0002",
      "bottom=cafe0003",
      "u_read=cafe0001",
      "u_wrote=0000beef",
      "traps=00000001",
    ],
  };
}

function accessedDirty(): Case {
  const t = new Sv32Tables().kernel();
  t.map(VA.ad, PA.ad, V | R | W);
  t.map(VA.adRo, PA.adRo, V | R);
  t.map(VA.adX, PA.adX, V | R | X);
  t.mega(VA.megaAd, PA.megaAd, V | R | W);
  const pte = (g: GuestBuilder, va: number, name: string, mega = false) => {
    g.a.li("t0", mega ? t.rootPteAddr(va) : t.pteAddr(va)).lw("s4", 0, "t0");
    g.show(name, "s4");
  };
  return {
    name: "guest A and D bits: set by loads, stores and fetches as the walker does, never by a faulting access",
    image: buildGuest({
      tables: t,
      body(g) {
        const a = g.a;
        poke(g, PA.adX, 0x0000_8067); // ret
        a.fence_i();
        g.pagingOn(t);
        pte(g, VA.ad, "fresh");
        a.li("s0", VA.ad).lw("s1", 0, "s0");
        pte(g, VA.ad, "after_load");
        a.li("s0", VA.ad).sw("s1", 0, "s0");
        pte(g, VA.ad, "after_store");
        // The guest clears A and D and flushes: the next store sets both again.
        a.li("t0", t.pteAddr(VA.ad))
          .li("t1", (((PA.ad >>> 12) << 10) | V | R | W) >>> 0)
          .sw("t1", 0, "t0");
        a.li("s0", VA.ad).sfence_vma("s0");
        pte(g, VA.ad, "cleared");
        a.li("s0", VA.ad).sw("s1", 8, "s0");
        pte(g, VA.ad, "store_again");
        // Clearing only D: a load does not set it, the next store does.
        a.li("t0", t.pteAddr(VA.ad))
          .li("t1", (((PA.ad >>> 12) << 10) | V | R | W | A) >>> 0)
          .sw("t1", 0, "t0");
        a.sfence_vma();
        a.li("s0", VA.ad).lw("s1", 0, "s0");
        pte(g, VA.ad, "load_keeps_d_clear");
        a.li("s0", VA.ad).sw("s1", 0, "s0");
        pte(g, VA.ad, "store_sets_d");
        // A store to a read-only page faults and sets nothing; a load then sets A.
        a.li("s0", VA.adRo).sw("s1", 0, "s0");
        pte(g, VA.adRo, "ro_after_fault");
        a.li("s0", VA.adRo).lw("s1", 0, "s0");
        pte(g, VA.adRo, "ro_after_load");
        // A fetch sets A (and not D).
        a.li("s0", VA.adX).jalr("ra", 0, "s0");
        pte(g, VA.adX, "x_after_fetch");
        // Megapage leaves too.
        pte(g, VA.megaAd, "mega_fresh", true);
        a.li("s0", VA.megaAd + 0x1234).lw("s1", 0, "s0");
        pte(g, VA.megaAd, "mega_after_load", true);
        a.li("s0", VA.megaAd + 0x30_0000).sw("s1", 0, "s0");
        pte(g, VA.megaAd, "mega_after_store", true);
        g.trapCount("s3").show("traps", "s3");
      },
    }),
    contains: [
      `fresh=${pteHex(PA.ad, V | R | W)}`,
      `after_load=${pteHex(PA.ad, V | R | W | A)}`,
      `after_store=${pteHex(PA.ad, V | R | W | A | D)}`,
      `cleared=${pteHex(PA.ad, V | R | W)}`,
      `store_again=${pteHex(PA.ad, V | R | W | A | D)}`,
      `load_keeps_d_clear=${pteHex(PA.ad, V | R | W | A)}`,
      `store_sets_d=${pteHex(PA.ad, V | R | W | A | D)}`,
      "scause=0000000f",
      `ro_after_fault=${pteHex(PA.adRo, V | R)}`,
      `ro_after_load=${pteHex(PA.adRo, V | R | A)}`,
      `x_after_fetch=${pteHex(PA.adX, V | R | X | A)}`,
      `mega_fresh=${pteHex(PA.megaAd, V | R | W)}`,
      `mega_after_load=${pteHex(PA.megaAd, V | R | W | A)}`,
      `mega_after_store=${pteHex(PA.megaAd, V | R | W | A | D)}`,
      "traps=00000001",
    ],
  };
}

function editsAndSfence(): Case {
  const t = new Sv32Tables().kernel();
  t.map(VA.swap, PA.one, V | R | A); // read-only at first
  const second = new Sv32Tables(0x8018_0000).kernel();
  second.map(VA.swap, PA.two, V | R | W | A | D);
  const leaf = (pa: number, flags: number) => (((pa >>> 12) << 10) | flags) >>> 0;
  const at = t.pteAddr(VA.swap);
  return {
    name: "PTE edits become visible after sfence.vma (all, by address, by address and ASID) and after a satp switch",
    image: buildGuest({
      tables: t,
      code(g) {
        // The second address space is built at run time by copying words (it is not part of the image).
        g.a.label("unused_second_space_marker").nop();
      },
      body(g) {
        const a = g.a;
        poke(g, PA.one, 0x1111);
        poke(g, PA.two, 0x2222);
        g.pagingOn(t);
        peek(g, VA.swap, "first");
        // Retarget the page; read once unobserved (old or new are both legal), then flush that address.
        a.li("t0", at)
          .li("t1", leaf(PA.two, V | R | A))
          .sw("t1", 0, "t0");
        a.li("s0", VA.swap).lw("s5", 0, "s0");
        a.li("s0", VA.swap).sfence_vma("s0");
        peek(g, VA.swap, "after_sfence_va");
        // Back to the first frame, flushed by address and the current ASID (0).
        a.li("t0", at)
          .li("t1", leaf(PA.one, V | R | A))
          .sw("t1", 0, "t0");
        a.li("s0", VA.swap).lw("s5", 0, "s0");
        a.li("s0", VA.swap).sfence_vma("s0", "zero");
        peek(g, VA.swap, "after_sfence_va_x0");
        // Upgrade to writable (the store before the flush may fault or not: unobserved, traps not counted).
        a.li("t0", at)
          .li("t1", leaf(PA.one, V | R | W | A | D))
          .sw("t1", 0, "t0");
        a.sfence_vma();
        a.li("s0", VA.swap).li("s2", 0x1112).sw("s2", 0, "s0");
        peek(g, VA.swap, "after_upgrade");
        // Invalidate, flush everything: the next access faults.
        a.li("t0", at).sw("zero", 0, "t0");
        a.sfence_vma();
        peek(g, VA.swap, "after_invalidate");
        // Re-validate and flush by ASID only.
        a.li("t0", at)
          .li("t1", leaf(PA.two, V | R | A))
          .sw("t1", 0, "t0");
        a.li("s0", 0).sfence_vma("zero", "s0");
        peek(g, VA.swap, "after_sfence_asid");
        // Switch address space: build a second root at 0x80180000 by copying the first (kernel entries)
        // and pointing VA.swap's level-0 table at a fresh one.
        a.li("s6", t.base).li("s7", 0x8018_0000).li("s8", 1024);
        a.label("copy").lw("t1", 0, "s6").sw("t1", 0, "s7").addi("s6", "s6", 4).addi("s7", "s7", 4);
        a.addi("s8", "s8", -1).bnez("s8", "copy");
        a.li("t0", 0x8018_0000 + (VA.swap >>> 22) * 4)
          .li("t1", leaf(0x8018_1000, V))
          .sw("t1", 0, "t0");
        a.li("t0", 0x8018_1000 + ((VA.swap >>> 12) & 0x3ff) * 4)
          .li("t1", leaf(PA.two, V | R | W | A | D))
          .sw("t1", 0, "t0");
        a.li("t0", second.satp(1)).csrw("satp", "t0").sfence_vma();
        peek(g, VA.swap, "second_space");
        a.li("t0", t.satp(0)).csrw("satp", "t0").sfence_vma();
        peek(g, VA.swap, "first_space_again");
      },
    }),
    contains: [
      "first=00001111",
      "after_sfence_va=00002222",
      "after_sfence_va_x0=00001111",
      "after_upgrade=00001112",
      "after_invalidate=0000dead",
      "after_sfence_asid=00002222",
      "second_space=00002222",
      "first_space_again=00002222",
    ],
  };
}

function tablesOutsideRam(): Case {
  const t = new Sv32Tables().kernel();
  // A root entry whose level-0 table is at 0x30000000: no RAM, no device.
  t.raw(t.rootPteAddr(VA.farTable), ((0x3000_0000 >>> 12) << 10) | V);
  return {
    name: "a guest page-table page outside RAM gives access faults of the access's kind",
    image: buildGuest({
      tables: t,
      body(g) {
        const a = g.a;
        g.pagingOn(t);
        a.li("s0", VA.farTable + 0x10)
          .lw("s1", 0, "s0")
          .sw("s1", 4, "s0");
        g.onTrapGoto("fetch_back");
        a.jalr("ra", 8, "s0");
        a.label("fetch_back");
        g.trapCount("s3").show("traps", "s3");
      },
    }),
    contains: [
      `scause=00000005\nsepc=800`,
      `stval=${(VA.farTable + 0x10).toString(16)}`,
      `scause=00000007\nsepc=800`,
      `scause=00000001\nsepc=${(VA.farTable + 0x18).toString(16)}`,
      "traps=00000003",
    ],
  };
}

const cases: Case[] = [sumMxr(), megapages(), accessedDirty(), editsAndSfence(), tablesOutsideRam()];

describe.each(strategyNames())("guest paging under %s", (strategy) => {
  it.each(cases)("$name", ({ image, contains }) => {
    const native = runNative(image);
    for (const c of contains) expect(native.output).toContain(c);
    expectSame(image, strategy);
  });
});
