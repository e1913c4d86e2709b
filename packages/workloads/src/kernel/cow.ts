/**
 * Copy-on-write fork, as Linux does it (copy_present_pte, do_wp_page): fork
 * shares every user frame with the child and counts the sharers; a
 * writable PTE of the parent is write-protected in place and marked COW
 * (RSW bit 8), and the child's copy of it is the same; the parent's TLB
 * entries are then flushed, as the privileged spec requires after PTE
 * changes. A store to a COW page faults: the kernel copies the frame into a
 * new one, or, when no other PTE maps it any more, gives W back in place.
 *
 * Reference counts live in `page_refs` (layout.ts PAGE_REFS_BYTES): the
 * number of PTEs mapping a frame beyond the first, so a fresh frame has 0.
 * frame_unref frees a frame only when its last PTE goes.
 */
import { hex, type KernelContext, P_ASID, PAGE, PTE_COW, PTE_V, PTE_W, RAM_BASE } from "./layout.ts";
import { flushPage } from "./vm.ts";

export function emitCow(k: KernelContext): void {
  emitRefs(k);
  if (k.opts.fork === "cow") emitShare(k);
  emitCowFault(k);
}

/** The counts: address of a frame's count, share, unref. */
function emitRefs(k: KernelContext): void {
  const { a } = k;
  a.asm(`
# page_ref_addr(a0 = frame) -> t0 = address of its count. Leaf; clobbers t1.
page_ref_addr:
    li    t1, ${hex(RAM_BASE)}
    sub   t0, a0, t1
    srli  t0, t0, 11                # (frame - RAM_BASE) / PAGE * 2: frames are page-aligned
    la    t1, page_refs
    add   t0, t0, t1
    ret

# frame_share(a0 = frame): one more PTE maps it. Keeps a0; clobbers t0-t2.
frame_share:
    mv    t2, ra
    jal   page_ref_addr
    mv    ra, t2
    lhu   t1, 0(t0)
    addi  t1, t1, 1
    sh    t1, 0(t0)
    ret

# frame_unref(a0 = frame): one PTE less maps it; the last one frees it.
# Clobbers t0-t2.
frame_unref:
    mv    t2, ra
    jal   page_ref_addr
    mv    ra, t2
    lhu   t1, 0(t0)
    beqz  t1, kfree
    addi  t1, t1, -1
    sh    t1, 0(t0)
    ret
`);
}

/** vm_share: the copy-on-write copy of an address space. */
function emitShare(k: KernelContext): void {
  const { a, opts } = k;
  const flushAll = opts.asid
    ? `
    lw    t0, ${P_ASID}(s0)
    sfence.vma zero, t0`
    : `
    sfence.vma zero, zero`;
  a.asm(`
# vm_share(a0 = source root, a1 = destination root): every user PTE of the
# source is copied into the destination (new page-table pages) and its frame
# shared; writable ones become COW in both, the source's written in place.
# The source is the current process's (s0) address space: its TLB entries
# are flushed when any PTE was write-protected.
vm_share:
    addi  sp, sp, -48
    sw    ra, 44(sp)
    sw    s1, 40(sp)
    sw    s2, 36(sp)
    sw    s3, 32(sp)
    sw    s4, 28(sp)
    sw    s5, 24(sp)
    sw    s6, 20(sp)
    sw    s7, 16(sp)
    mv    s1, a0
    mv    s2, a1
    li    s3, 0                     # root index (user half: 0..511)
    li    s7, 0                     # a PTE of the source was write-protected
vm_share_root:
    slli  t0, s3, 2
    add   t0, s1, t0
    lw    t0, 0(t0)
    andi  t1, t0, ${PTE_V}
    beqz  t1, vm_share_root_next
    srli  t0, t0, 10
    slli  s4, t0, 12                # source L0 table
    li    s5, 0                     # L0 index
vm_share_leaf:
    slli  t0, s5, 2
    add   t0, s4, t0
    lw    s6, 0(t0)
    andi  t1, s6, ${PTE_V}
    beqz  t1, vm_share_leaf_next
    andi  t1, s6, ${PTE_W}
    beqz  t1, vm_share_map
    li    t1, ${hex(PTE_W | PTE_COW)}
    xor   s6, s6, t1                # W off, COW on
    sw    s6, 0(t0)
    li    s7, 1
vm_share_map:
    srli  t0, s6, 10
    slli  a0, t0, 12
    call  frame_share
    mv    a2, a0
    slli  a1, s3, 22
    slli  t0, s5, 12
    or    a1, a1, t0
    mv    a0, s2
    andi  a3, s6, 0x3ff
    call  vm_map
vm_share_leaf_next:
    addi  s5, s5, 1
    li    t0, 1024
    bne   s5, t0, vm_share_leaf
vm_share_root_next:
    addi  s3, s3, 1
    li    t0, 512
    bne   s3, t0, vm_share_root
    beqz  s7, vm_share_done${flushAll}
vm_share_done:
    lw    ra, 44(sp)
    lw    s1, 40(sp)
    lw    s2, 36(sp)
    lw    s3, 32(sp)
    lw    s4, 28(sp)
    lw    s5, 24(sp)
    lw    s6, 20(sp)
    lw    s7, 16(sp)
    addi  sp, sp, 48
    ret
`);
}

/** uvm_cow: the store fault on a COW page of the current process (s0). */
function emitCowFault(k: KernelContext): void {
  const { a } = k;
  a.asm(`
# uvm_cow(a0 = address of the PTE, a1 = faulting va): the page becomes
# writable for this process: a copy of the frame when others still map it,
# the frame itself otherwise. Flushes that address.
uvm_cow:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    sw    s1, 8(sp)
    sw    s2, 4(sp)
    sw    s3, 0(sp)
    mv    s1, a0
    srli  s2, a1, 12
    slli  s2, s2, 12
    lw    s3, 0(s1)
    srli  t0, s3, 10
    slli  a0, t0, 12
    jal   page_ref_addr
    lhu   t1, 0(t0)
    beqz  t1, uvm_cow_own           # the last mapping: reuse the frame
    addi  t1, t1, -1
    sh    t1, 0(t0)
    call  kalloc_raw
    srli  t0, s3, 10
    slli  t0, t0, 12
    li    t2, ${PAGE}
    add   t2, t0, t2
    mv    t1, a0
uvm_cow_copy:
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
    bne   t0, t2, uvm_cow_copy
    srli  t0, a0, 12
    slli  t0, t0, 10
    andi  t1, s3, 0x3ff
    or    s3, t0, t1
uvm_cow_own:
    li    t0, ${hex(PTE_W | PTE_COW)}
    xor   s3, s3, t0                # W on, COW off
    sw    s3, 0(s1)${flushPage(k, "s2")}
    lw    ra, 12(sp)
    lw    s1, 8(sp)
    lw    s2, 4(sp)
    lw    s3, 0(sp)
    addi  sp, sp, 16
    ret
`);
}
