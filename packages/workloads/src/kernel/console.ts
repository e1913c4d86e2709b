/**
 * Console: the NS16550A UART, polled. Every byte waits for LSR.THRE and then
 * goes to THR, so output is one MMIO load per poll plus one store per byte.
 */
import { hex, type KernelContext, LSR_THRE, UART_LSR, UART_THR, UART_VA } from "./layout.ts";

/** A NUL-terminated kernel string in .rodata. */
export function emitString({ a }: KernelContext, label: string, text: string): void {
  a.section(".rodata");
  a.label(label);
  a.asciz(text);
  a.section(".text");
}

/** The busy-wait on THRE then the THR store of register `byte`; `uart` holds UART_VA. */
export function uartPutInline(loop: string, byte: string, uart = "t0", scratch = "t1"): string {
  return `
${loop}:
    lbu   ${scratch}, ${UART_LSR}(${uart})
    andi  ${scratch}, ${scratch}, ${hex(LSR_THRE)}
    beqz  ${scratch}, ${loop}
    sb    ${byte}, ${UART_THR}(${uart})`;
}

export function emitConsole({ a }: KernelContext): void {
  a.asm(`
# console_putc(a0 = byte). Leaf; clobbers t0, t1.
console_putc:
    li    t0, ${hex(UART_VA)}
${uartPutInline("console_putc_wait", "a0")}
    ret

# console_puts(a0 = NUL-terminated string). Leaf; clobbers t0-t3.
console_puts:
    mv    t2, a0
    li    t0, ${hex(UART_VA)}
console_puts_next:
    lbu   t3, 0(t2)
    beqz  t3, console_puts_done
${uartPutInline("console_puts_wait", "t3")}
    addi  t2, t2, 1
    j     console_puts_next
console_puts_done:
    ret

# console_puthex(a0): eight lowercase hex digits. Leaf; clobbers t0-t4.
console_puthex:
    li    t0, ${hex(UART_VA)}
    li    t2, 28
    li    t4, 10
console_puthex_digit:
    srl   t3, a0, t2
    andi  t3, t3, 15
    blt   t3, t4, console_puthex_decimal
    addi  t3, t3, ${"a".charCodeAt(0) - 10 - "0".charCodeAt(0)}
console_puthex_decimal:
    addi  t3, t3, ${"0".charCodeAt(0)}
${uartPutInline("console_puthex_wait", "t3")}
    addi  t2, t2, -4
    bgez  t2, console_puthex_digit
    ret

# console_putdec(a0): unsigned decimal. Digits are built backwards in a
# 12-byte stack buffer. Clobbers a0, t0-t5.
console_putdec:
    addi  sp, sp, -16
    addi  t5, sp, 12
    mv    t2, t5
    li    t4, 10
console_putdec_digit:
    remu  t3, a0, t4
    divu  a0, a0, t4
    addi  t3, t3, ${"0".charCodeAt(0)}
    addi  t2, t2, -1
    sb    t3, 0(t2)
    bnez  a0, console_putdec_digit
    li    t0, ${hex(UART_VA)}
console_putdec_out:
    lbu   t3, 0(t2)
${uartPutInline("console_putdec_wait", "t3")}
    addi  t2, t2, 1
    bne   t2, t5, console_putdec_out
    addi  sp, sp, 16
    ret
`);
}
