/**
 * Physical page allocator over the managed RAM after the kernel image: a
 * singly linked free list of recycled pages (the link is the first word of
 * each free page) in front of a bump pointer over pages never used yet. The
 * order is that of one free list built from the lowest page up, but boot
 * touches no page: a guest kernel that wrote every free page at boot would
 * make every paging strategy pay for thousands of page touches before any
 * workload ran. `kernel_free_pages` counts both; `kernel_free_pages_boot` is
 * its value before process 1 takes any page, so the two are equal again when
 * every process has exited.
 */
import { emitString } from "./console.ts";
import { hex, KERNEL_ERROR, type KernelContext, PAGE, RAM_END } from "./layout.ts";

export function emitKalloc(k: KernelContext): void {
  const { a } = k;
  a.asm(`
# kalloc_init(): every managed page is fresh. Leaf.
kalloc_init:
    la    t0, kernel_end
    la    t1, kernel_fresh
    sw    t0, 0(t1)
    li    t1, ${hex(RAM_END)}
    sub   t1, t1, t0
    srli  t1, t1, 12
    la    t0, kernel_free_pages
    sw    t1, 0(t0)
    la    t0, kernel_free_pages_boot
    sw    t1, 0(t0)
    ret

# kalloc_raw() -> a0 = a page with stale contents (for copies). Leaf;
# clobbers t0, t1. No page left is an internal error (power-off).
kalloc_raw:
    la    t0, kernel_free_list
    lw    a0, 0(t0)
    beqz  a0, kalloc_fresh
    lw    t1, 0(a0)
    sw    t1, 0(t0)
kalloc_count:
    la    t0, kernel_free_pages
    lw    t1, 0(t0)
    addi  t1, t1, -1
    sw    t1, 0(t0)
    ret
kalloc_fresh:
    la    t0, kernel_fresh
    lw    a0, 0(t0)
    li    t1, ${hex(RAM_END)}
    bgeu  a0, t1, kalloc_out_of_memory
    li    t1, ${PAGE}
    add   t1, a0, t1
    sw    t1, 0(t0)
    j     kalloc_count
kalloc_out_of_memory:
    li    a0, ${KERNEL_ERROR.outOfMemory}
    la    a1, msg_out_of_memory
    j     kernel_fail

# kalloc() -> a0 = a zeroed page. Clobbers t0-t2, t5.
kalloc:
    mv    t5, ra
    jal   kalloc_raw
    mv    ra, t5
    li    t1, ${PAGE}
    add   t1, a0, t1
    mv    t2, a0
kalloc_zero:
    sw    zero, 0(t2)
    sw    zero, 4(t2)
    sw    zero, 8(t2)
    sw    zero, 12(t2)
    sw    zero, 16(t2)
    sw    zero, 20(t2)
    sw    zero, 24(t2)
    sw    zero, 28(t2)
    addi  t2, t2, 32
    bne   t2, t1, kalloc_zero
    ret

# kfree(a0 = page). A pointer that is not a managed page is a kernel bug
# (power-off) rather than a corrupted list. Leaf; clobbers t0, t1.
kfree:
    slli  t0, a0, 20                # low 12 bits: page offset
    bnez  t0, kfree_bad
    la    t0, kernel_end
    bltu  a0, t0, kfree_bad
    li    t0, ${hex(RAM_END)}
    bgeu  a0, t0, kfree_bad
    la    t0, kernel_free_list
    lw    t1, 0(t0)
    sw    t1, 0(a0)
    sw    a0, 0(t0)
    la    t0, kernel_free_pages
    lw    t1, 0(t0)
    addi  t1, t1, 1
    sw    t1, 0(t0)
    ret
kfree_bad:
    li    a0, ${KERNEL_ERROR.badFree}
    la    a1, msg_bad_free
    j     kernel_fail
`);
  emitString(k, "msg_out_of_memory", "out of memory");
  emitString(k, "msg_bad_free", "kfree of a page the allocator does not own");
  a.section(".data");
  a.align(4);
  a.label("kernel_free_list").word(0);
  a.label("kernel_fresh").word(0);
  a.label("kernel_free_pages").word(0);
  a.label("kernel_free_pages_boot").word(0);
  a.section(".text");
}
