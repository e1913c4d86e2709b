/**
 * The end of a run: one line per pid with its exit code, the FNV-1a
 * checksum over the codes in pid order (abi.ts checksumOf), a check that
 * every page is back on the free list, and power-off through the test
 * device. Internal errors end through kernel_fail instead.
 */
import { emitString } from "./console.ts";
import { hex, KERNEL_ERROR, type KernelContext, TEST_FAIL, TEST_PASS, TEST_VA } from "./layout.ts";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 16777619;

export function emitReport(k: KernelContext): void {
  const { a } = k;
  a.asm(`
# kernel_report: the last process has exited.
kernel_report:
    li    s1, 1
    la    t0, next_pid
    lw    s2, 0(t0)
    li    s3, ${hex(FNV_OFFSET)}
    la    s4, exit_codes+4
kernel_report_pid:
    bgeu  s1, s2, kernel_report_checksum
    la    a0, msg_report_pid
    call  console_puts
    mv    a0, s1
    call  console_putdec
    la    a0, msg_report_exit
    call  console_puts
    lw    s5, 0(s4)
    mv    a0, s5
    call  console_puthex
    li    a0, 10
    call  console_putc
    xor   s3, s3, s5
    li    t0, ${FNV_PRIME}
    mul   s3, s3, t0
    addi  s1, s1, 1
    addi  s4, s4, 4
    j     kernel_report_pid
kernel_report_checksum:
    la    a0, msg_report_checksum
    call  console_puts
    mv    a0, s3
    call  console_puthex
    li    a0, 10
    call  console_putc
    la    t0, kernel_free_pages
    lw    t0, 0(t0)
    la    t1, kernel_free_pages_boot
    lw    t1, 0(t1)
    bne   t0, t1, kernel_report_leak
    li    t0, ${hex(TEST_VA)}
    li    t1, ${hex(TEST_PASS)}
    sw    t1, 0(t0)
kernel_report_hang:
    j     kernel_report_hang
kernel_report_leak:
    li    a0, ${KERNEL_ERROR.pageLeak}
    la    a1, msg_page_leak

# kernel_fail(a0 = error code, a1 = message): "kernel: <message>", then
# power-off with exit code a0 (test device 0x3333 | code << 16).
kernel_fail:
    mv    s1, a0
    mv    s2, a1
    la    a0, msg_kernel_prefix
    call  console_puts
    mv    a0, s2
    call  console_puts
    li    a0, 10
    call  console_putc
    slli  t1, s1, 16
    li    t0, ${hex(TEST_FAIL)}
    or    t1, t1, t0
    li    t0, ${hex(TEST_VA)}
    sw    t1, 0(t0)
kernel_fail_hang:
    j     kernel_fail_hang
`);
  emitString(k, "msg_report_pid", "pid ");
  emitString(k, "msg_report_exit", " exit 0x");
  emitString(k, "msg_report_checksum", "checksum=0x");
  emitString(k, "msg_page_leak", "pages leaked: free count differs from boot");
  emitString(k, "msg_kernel_prefix", "kernel: ");
}
