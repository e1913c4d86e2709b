/**
 * Where a random guest keeps things, in guest-physical memory (all inside
 * the first 4 MiB of RAM, which every address space maps as the kernel's
 * identity megapage) and in its virtual address spaces. The page tables are
 * built at generation time and loaded with the image, one set per address
 * space: a root, the level-0 table of a small "window" of data mappings, and
 * level-0 tables for the devices.
 */
import { PTE } from "@shadowlab/emu-core";

export const RAM_BASE = 0x8000_0000;
/** Guest RAM size: native and hypervisor runs must agree on where RAM ends. */
export const GUEST_RAM = 4 * 1024 * 1024;
export const TEXT = RAM_BASE;
/** The trap handler's state (saved registers, counts, baselines), addressed by gp. */
export const STATE = 0x8018_0000;
/** First page-table page. */
export const PT_BASE = 0x8018_1000;
/** Data pages the guest reads and writes (identity-mapped, and mapped again through the window). */
export const ARENA = 0x8020_0000;
export const ARENA_PAGES = 4;
/** Bytes at the start of each arena and table page that data accesses use and the final dump hashes. */
export const HASHED_BYTES = 512;

/** Virtual window of 4 KiB data mappings (root index 0x100), WINDOW_PAGES pages. */
export const WINDOW = 0x4000_0000;
export const WINDOW_PAGES = 8;
/** A root entry holding a random megapage or pointer (root index 0x101). */
export const MEGA_WINDOW = 0x4040_0000;
/** A root entry nothing maps at first (root index 0x300): a target for edits. */
export const SPARE = 0xc000_0000;
/** The code again, as a user megapage, so the guest's user mode can run it with paging on. */
export const USER_ALIAS = 0x2000_0000;
export const ALIAS_DELTA = (RAM_BASE - USER_ALIAS) >>> 0;

export const UART = 0x1000_0000;
export const TEST_DEVICE = 0x0010_0000;
export const CLINT_MTIME = 0x0200_bff8;

const { V, R, W, X, U, A, D } = PTE;
export const KERNEL_FLAGS = V | R | W | X | A | D;

/** The page-table pages of one address space. */
export interface AddressSpace {
  root: number;
  window: number;
  /** Level-0 tables of the device regions, by root index. */
  devices: Map<number, number>;
}

export const DEVICE_PAGES: readonly number[] = [TEST_DEVICE, CLINT_MTIME & ~0xfff, UART];

/** Page-table page addresses for `count` address spaces. */
export function addressSpaces(count: number): AddressSpace[] {
  const out: AddressSpace[] = [];
  let next = PT_BASE;
  const page = () => {
    const p = next;
    next += 0x1000;
    return p;
  };
  for (let i = 0; i < count; i++) {
    const root = page();
    const window = page();
    const devices = new Map<number, number>();
    for (const d of DEVICE_PAGES) devices.set(d >>> 22, page());
    out.push({ root, window, devices });
  }
  return out;
}

/** Every page-table page of these address spaces. */
export function tablePages(spaces: readonly AddressSpace[]): number[] {
  return spaces.flatMap((s) => [s.root, s.window, ...s.devices.values()]);
}

export const pte = (pa: number, flags: number): number => (((pa >>> 12) << 10) | flags) >>> 0;
export const rootIndexAddr = (root: number, va: number): number => root + (va >>> 22) * 4;

export { A, D, R, U, V, W, X };
