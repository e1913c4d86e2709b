/**
 * A hostile guest: it builds `roots` page-table roots (all mapping the same
 * kernel, data page and UART) and switches among them `rounds` times,
 * touching a data page in each address space, then prints the count it kept
 * there. Under shadow-proactive every root is a shadow of its own; without
 * a budget the shadows grow with the number of roots.
 */
import type { Image } from "@shadowlab/emu-core";
import { buildGuest, PTE, RWAD, RWXAD } from "./hv-guest.ts";

const ROOTS = 0x8100_0000; // guest-physical, past the kernel's megapage
const WINDOW_L0 = 0x8020_0000;
const UART_L0 = 0x8020_1000;
const DATA = 0x8020_2000;
const DATA_VA = 0x4000_0000;
const UART = 0x1000_0000;

const pte = (pa: number, flags: number) => (((pa >>> 12) << 10) | flags) >>> 0;

export function rootSwitcher(roots: number, rounds: number): Image {
  return buildGuest({
    body(g) {
      const a = g.a;
      // Level-0 tables shared by every root: the data page and the UART.
      a.li("t0", WINDOW_L0).li("t1", pte(DATA, RWAD)).sw("t1", 0, "t0");
      a.li("t0", UART_L0).li("t1", pte(UART, RWAD)).sw("t1", 0, "t0");
      a.li("s0", ROOTS).li("s1", roots);
      a.li("s2", pte(0x8000_0000, RWXAD)).li("s3", pte(WINDOW_L0, PTE.V)).li("s4", pte(UART_L0, PTE.V));
      a.li("s6", 4096);
      a.label("build");
      a.addi("t2", "s0", 2047).sw("s2", (0x8000_0000 >>> 22) * 4 - 2047, "t2");
      a.sw("s3", (DATA_VA >>> 22) * 4, "s0");
      a.sw("s4", (UART >>> 22) * 4, "s0");
      a.add("s0", "s0", "s6").addi("s1", "s1", -1).bnez("s1", "build");
      a.li("s5", rounds);
      a.label("round");
      a.li("s0", (0x8000_0000 | (ROOTS >>> 12)) >>> 0).li("s1", roots);
      a.label("switch");
      // Every root reuses ASID 0, so the spec asks for a fence after each switch.
      a.csrw("satp", "s0").sfence_vma();
      a.li("t0", DATA_VA).lw("t1", 0, "t0").addi("t1", "t1", 1).sw("t1", 0, "t0");
      a.addi("s0", "s0", 1).addi("s1", "s1", -1).bnez("s1", "switch");
      a.addi("s5", "s5", -1).bnez("s5", "round");
      a.csrw("satp", "zero").sfence_vma();
      a.li("t0", DATA).lw("s7", 0, "t0");
      g.show("touches", "s7");
    },
  });
}
