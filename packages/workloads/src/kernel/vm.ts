/**
 * Page tables: two-level Sv32, one root per process. The upper half of every
 * root (VA >= 0x8000_0000) is the kernel's: the managed RAM identity-mapped
 * with global 4 MiB megapages and, in the last slot, the kernel's MMIO L0
 * table; none of it has the U bit. The lower half is the user's, built,
 * copied and torn down here. Every PTE the kernel writes has A (and D) set,
 * so nothing depends on the walker updating them.
 */

import { USER } from "./abi.ts";
import { emitString } from "./console.ts";
import {
  hex,
  KERNEL_ERROR,
  KERNEL_RAM_BYTES,
  type KernelContext,
  MMIO_VA,
  P_ASID,
  P_BRK,
  P_ROOT,
  PAGE,
  PTE_KERNEL_MMIO,
  PTE_KERNEL_RAM,
  PTE_USER_RW,
  PTE_V,
  RAM_BASE,
  SATP_ASID_MASK,
  SATP_ASID_SHIFT,
  SATP_SV32,
  TEST_PA,
  TEST_VA,
  UART_PA,
  UART_VA,
} from "./layout.ts";

const MEGAPAGE = 1 << 22;
const KERNEL_MEGAPAGES = KERNEL_RAM_BYTES / MEGAPAGE;
const leafPte = (pa: number, flags: number): number => (((pa >>> 12) << 10) | flags) >>> 0;
const l0Index = (va: number): number => (va >>> 12) & 0x3ff;

/**
 * sfence.vma for one page of the current process (s0): with ASIDs only that
 * address space's entry, without them that address in every address space.
 */
export function flushPage({ opts }: KernelContext, vaReg: string, scratch = "t0"): string {
  return opts.asid
    ? `
    lw    ${scratch}, ${P_ASID}(s0)
    sfence.vma ${vaReg}, ${scratch}`
    : `
    sfence.vma ${vaReg}, zero`;
}

export function emitVm(k: KernelContext): void {
  emitKernelMap(k);
  emitWalkAndMap(k);
  emitCopyAndFree(k);
  emitUserRegions(k);
  emitString(k, "msg_asid_bits", "satp has too few ASID bits for maxProcs");
  const { a } = k;
  a.section(".data");
  a.align(4);
  // satp of the kernel-only address space, and the satp last written (to skip redundant switches)
  a.label("kernel_satp").word(0);
  a.label("active_satp").word(0);
  a.section(".text");
}

/** The kernel root table and its MMIO table; satp is switched on here. */
function emitKernelMap(k: KernelContext): void {
  const { a, opts } = k;
  // probe: write all ASID bits, read back the implemented ones (as Linux does)
  const asidProbe = opts.asid
    ? `
    li    t1, ${hex(SATP_ASID_MASK << SATP_ASID_SHIFT)}
    or    t2, t0, t1
    csrw  satp, t2
    csrr  t2, satp
    srli  t2, t2, ${SATP_ASID_SHIFT}
    andi  t2, t2, ${hex(SATP_ASID_MASK)}
    li    t1, ${opts.maxProcs}
    bltu  t2, t1, vm_asid_too_narrow`
    : "";
  a.asm(`
# vm_init_kernel(): builds kernel_root (kernel mappings only, ASID 0) and
# turns paging on with it. Clobbers t0-t3, t6.
vm_init_kernel:
    mv    t6, ra
    la    t0, kernel_mmio_table
    li    t1, ${hex(leafPte(UART_PA, PTE_KERNEL_MMIO))}
    sw    t1, ${l0Index(UART_VA) * 4}(t0)
    li    t1, ${hex(leafPte(TEST_PA, PTE_KERNEL_MMIO))}
    sw    t1, ${l0Index(TEST_VA) * 4}(t0)
    la    a0, kernel_root
    jal   vm_map_kernel
    la    t0, kernel_root
    srli  t0, t0, 12
    li    t1, ${hex(SATP_SV32)}
    or    t0, t0, t1
    la    t1, kernel_satp
    sw    t0, 0(t1)${asidProbe}
    csrw  satp, t0
    sfence.vma zero, zero
    la    t1, active_satp
    sw    t0, 0(t1)
    mv    ra, t6
    ret
vm_asid_too_narrow:
    li    a0, ${KERNEL_ERROR.asidBits}
    la    a1, msg_asid_bits
    j     kernel_fail

# vm_map_kernel(a0 = root): the kernel half of an address space. Leaf;
# clobbers t0-t3.
vm_map_kernel:
    li    t0, ${hex(leafPte(RAM_BASE, PTE_KERNEL_RAM))}
    li    t1, ${hex(MEGAPAGE >>> 2)}
    li    t2, ${(RAM_BASE >>> 22) * 4}
    add   t2, a0, t2
    li    t3, ${KERNEL_MEGAPAGES}
vm_map_kernel_ram:
    sw    t0, 0(t2)
    add   t0, t0, t1
    addi  t2, t2, 4
    addi  t3, t3, -1
    bnez  t3, vm_map_kernel_ram
    la    t0, kernel_mmio_table
    srli  t0, t0, 12
    slli  t0, t0, 10
    ori   t0, t0, ${PTE_V}
    li    t1, ${(MMIO_VA >>> 22) * 4}
    add   t1, a0, t1
    sw    t0, 0(t1)
    ret

# vm_create() -> a0 = a new root with the kernel half filled in. Clobbers t0-t6.
vm_create:
    mv    t6, ra
    jal   kalloc
    jal   vm_map_kernel
    mv    ra, t6
    ret

# vm_switch(a0 = satp): makes it the active address space. Without ASIDs
# every switch flushes the whole TLB; with them, the ASID keeps the entries
# apart and nothing is flushed. Leaf; clobbers t1, t2.
vm_switch:
    la    t1, active_satp
    lw    t2, 0(t1)
    beq   a0, t2, vm_switch_done
    sw    a0, 0(t1)
    csrw  satp, a0${opts.asid ? "" : "\n    sfence.vma zero, zero"}
vm_switch_done:
    ret
`);
}

function emitWalkAndMap({ a }: KernelContext): void {
  a.asm(`
# vm_walk(a0 = root, a1 = va, a2 = alloc) -> a0 = address of va's L0 PTE, or
# 0 when its L0 table is missing and alloc is 0 (with alloc, a zeroed L0
# table is added). Keeps a1; clobbers a2, t0-t2, t5.
vm_walk:
    srli  t0, a1, 22
    slli  t0, t0, 2
    add   t0, a0, t0
    lw    t1, 0(t0)
    andi  t2, t1, ${PTE_V}
    beqz  t2, vm_walk_missing
    srli  t1, t1, 10
    slli  t1, t1, 12
vm_walk_leaf:
    srli  t2, a1, 12
    andi  t2, t2, 0x3ff
    slli  t2, t2, 2
    add   a0, t1, t2
    ret
vm_walk_missing:
    bnez  a2, vm_walk_grow
    li    a0, 0
    ret
vm_walk_grow:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    sw    t0, 8(sp)
    sw    a1, 4(sp)
    call  kalloc
    lw    t0, 8(sp)
    lw    a1, 4(sp)
    lw    ra, 12(sp)
    addi  sp, sp, 16
    srli  t1, a0, 12
    slli  t1, t1, 10
    ori   t1, t1, ${PTE_V}
    sw    t1, 0(t0)
    mv    t1, a0
    j     vm_walk_leaf

# vm_map(a0 = root, a1 = va, a2 = pa, a3 = PTE flags): writes the leaf PTE,
# adding an L0 table if needed. No flush (the caller knows whether one is
# due). Clobbers a0-a3, t0-t2, t5.
vm_map:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    sw    a2, 8(sp)
    sw    a3, 4(sp)
    li    a2, 1
    call  vm_walk
    lw    a2, 8(sp)
    lw    a3, 4(sp)
    lw    ra, 12(sp)
    addi  sp, sp, 16
    srli  t0, a2, 12
    slli  t0, t0, 10
    or    t0, t0, a3
    sw    t0, 0(a0)
    ret
`);
}

function emitCopyAndFree({ a }: KernelContext): void {
  a.asm(`
# vm_copy(a0 = source root, a1 = destination root): every user page of the
# source copied into a new page mapped at the same va with the same flags
# (the eager fork). Page-table pages of the destination are new.
vm_copy:
    addi  sp, sp, -32
    sw    ra, 28(sp)
    sw    s1, 24(sp)
    sw    s2, 20(sp)
    sw    s3, 16(sp)
    sw    s4, 12(sp)
    sw    s5, 8(sp)
    sw    s6, 4(sp)
    mv    s1, a0
    mv    s2, a1
    li    s3, 0                     # root index (user half: 0..511)
vm_copy_root:
    slli  t0, s3, 2
    add   t0, s1, t0
    lw    t0, 0(t0)
    andi  t1, t0, ${PTE_V}
    beqz  t1, vm_copy_root_next
    srli  t0, t0, 10
    slli  s4, t0, 12                # source L0 table
    li    s5, 0                     # L0 index
vm_copy_leaf:
    slli  t0, s5, 2
    add   t0, s4, t0
    lw    s6, 0(t0)
    andi  t1, s6, ${PTE_V}
    beqz  t1, vm_copy_leaf_next
    call  kalloc_raw
    srli  t0, s6, 10
    slli  t0, t0, 12
    li    t2, ${PAGE}
    add   t2, t0, t2
    mv    t1, a0
vm_copy_words:
    lw    t3, 0(t0)
    lw    t4, 4(t0)
    lw    t5, 8(t0)
    lw    t6, 12(t0)
    sw    t3, 0(t1)
    sw    t4, 4(t1)
    sw    t5, 8(t1)
    sw    t6, 12(t1)
    addi  t0, t0, 16
    addi  t1, t1, 16
    bne   t0, t2, vm_copy_words
    mv    a2, a0
    slli  a1, s3, 22
    slli  t0, s5, 12
    or    a1, a1, t0
    mv    a0, s2
    andi  a3, s6, 0x3ff
    call  vm_map
vm_copy_leaf_next:
    addi  s5, s5, 1
    li    t0, 1024
    bne   s5, t0, vm_copy_leaf
vm_copy_root_next:
    addi  s3, s3, 1
    li    t0, 512
    bne   s3, t0, vm_copy_root
    lw    ra, 28(sp)
    lw    s1, 24(sp)
    lw    s2, 20(sp)
    lw    s3, 16(sp)
    lw    s4, 12(sp)
    lw    s5, 8(sp)
    lw    s6, 4(sp)
    addi  sp, sp, 32
    ret

# vm_free(a0 = root): drops every user PTE (cleared, then its frame
# unreferenced), clears each root entry before freeing its L0 table, then
# frees the root. The address space must not be the active one.
vm_free:
    addi  sp, sp, -32
    sw    ra, 28(sp)
    sw    s1, 24(sp)
    sw    s2, 20(sp)
    sw    s3, 16(sp)
    sw    s4, 12(sp)
    mv    s1, a0
    li    s2, 0
vm_free_root:
    slli  t0, s2, 2
    add   t0, s1, t0
    lw    t0, 0(t0)
    andi  t1, t0, ${PTE_V}
    beqz  t1, vm_free_root_next
    srli  t0, t0, 10
    slli  s3, t0, 12
    li    s4, 0
vm_free_leaf:
    slli  t0, s4, 2
    add   t0, s3, t0
    lw    t1, 0(t0)
    andi  t2, t1, ${PTE_V}
    beqz  t2, vm_free_leaf_next
    sw    zero, 0(t0)
    srli  t1, t1, 10
    slli  a0, t1, 12
    call  frame_unref
vm_free_leaf_next:
    addi  s4, s4, 1
    li    t0, 1024
    bne   s4, t0, vm_free_leaf
    slli  t0, s2, 2
    add   t0, s1, t0
    sw    zero, 0(t0)
    mv    a0, s3
    call  kfree
vm_free_root_next:
    addi  s2, s2, 1
    li    t0, 512
    bne   s2, t0, vm_free_root
    mv    a0, s1
    call  kfree
    lw    ra, 28(sp)
    lw    s1, 24(sp)
    lw    s2, 20(sp)
    lw    s3, 16(sp)
    lw    s4, 12(sp)
    addi  sp, sp, 32
    ret
`);
}

/** The current process's (s0) demand-zero regions, and unmapping. */
function emitUserRegions(k: KernelContext): void {
  const { a } = k;
  a.asm(`
# uvm_demand(a0 = va) -> a0 = 0 when va is in the heap (below the break) or
# the stack region and a zeroed page is now mapped there, -1 otherwise.
# The va must not be mapped yet.
uvm_demand:
    lw    t0, ${P_BRK}(s0)
    li    t1, ${hex(USER.heap)}
    bltu  a0, t1, uvm_demand_stack
    bltu  a0, t0, uvm_demand_map
uvm_demand_stack:
    li    t1, ${hex(USER.stackLimit)}
    bltu  a0, t1, uvm_demand_refuse
    li    t1, ${hex(USER.stackTop)}
    bgeu  a0, t1, uvm_demand_refuse
uvm_demand_map:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    sw    s1, 8(sp)
    srli  s1, a0, 12
    slli  s1, s1, 12
    call  kalloc
    mv    a2, a0
    mv    a1, s1
    lw    a0, ${P_ROOT}(s0)
    li    a3, ${hex(PTE_USER_RW)}
    call  vm_map${flushPage(k, "s1")}
    li    a0, 0
    lw    ra, 12(sp)
    lw    s1, 8(sp)
    addi  sp, sp, 16
    ret
uvm_demand_refuse:
    li    a0, -1
    ret

# uvm_unmap(a0 = va) -> a0 = 0 after unmapping the page at va (its frame
# freed unless another process still shares it), -1 when nothing is mapped
# there. Flushes that address.
uvm_unmap:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    sw    s1, 8(sp)
    srli  s1, a0, 12
    slli  s1, s1, 12
    mv    a1, s1
    lw    a0, ${P_ROOT}(s0)
    li    a2, 0
    call  vm_walk
    beqz  a0, uvm_unmap_none
    lw    t1, 0(a0)
    andi  t2, t1, ${PTE_V}
    beqz  t2, uvm_unmap_none
    sw    zero, 0(a0)${flushPage(k, "s1")}
    srli  t1, t1, 10
    slli  a0, t1, 12
    call  frame_unref
    li    a0, 0
    j     uvm_unmap_out
uvm_unmap_none:
    li    a0, -1
uvm_unmap_out:
    lw    ra, 12(sp)
    lw    s1, 8(sp)
    addi  sp, sp, 16
    ret
`);
}
