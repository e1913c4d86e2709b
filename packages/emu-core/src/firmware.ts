/**
 * shadowlab's own M-mode SBI firmware, written with our assembler: the
 * default `--bios` of `shadowlab-emu run --kernel`. It plays the part
 * OpenSBI's fw_jump plays under QEMU: entered at the RAM base in M-mode with
 * a0 = hart id and a1 = the DTB, it opens PMP, delegates to S-mode what
 * OpenSBI delegates, gives S-mode the counters and the Sstc timer, and mrets
 * to the kernel in S-mode with a0 = hart id, a1 = DTB, satp = 0.
 *
 * Afterwards it serves SBI 2.0 ecalls from S-mode (sbi.ts has the IDs):
 * BASE, TIME (through stimecmp), IPI and RFENCE (one hart: local), HSM,
 * SRST (the test device ends the run with the guest's status), DBCN, and the
 * legacy console putchar/getchar. Unknown calls answer SBI_ERR_NOT_SUPPORTED.
 * Exceptions it does not delegate (illegal instruction, access faults,
 * misaligned loads and stores) are redirected to the supervisor's trap vector
 * as the hardware would have delivered them; misaligned accesses are not
 * emulated. A trap from M-mode itself ends the run with FIRMWARE_FAULT_EXIT.
 */
import { Assembler } from "./asm/index.ts";
import { SIFIVE_TEST_BASE } from "./devices/sifive-test.ts";
import { UART16550_BASE } from "./devices/uart16550.ts";
import { DEFAULT_HART, RAM_BASE } from "./hart.ts";
import type { Image } from "./image.ts";
import {
  HSM_SUSPEND_NON_RETENTIVE,
  SBI_EXTENSIONS,
  SBI_IMPL_ID,
  SBI_IMPL_VERSION,
  SBI_SPEC_VERSION,
  SbiError,
  SbiExt,
} from "./sbi.ts";

/** Where the firmware jumps: QEMU's rv32 kernel address after a firmware (4 MiB aligned), fw_jump's FW_JUMP_ADDR. */
export const DEFAULT_KERNEL_ADDR = RAM_BASE + 0x40_0000;
/** Test-device exit code when a trap reaches the firmware from M-mode (a firmware bug). */
export const FIRMWARE_FAULT_EXIT = 0xf1;

/**
 * Exceptions OpenSBI delegates (lib/sbi/sbi_hart.c, delegate_traps):
 * misaligned fetch, breakpoint, ecall from U, and the three page faults.
 */
export const FIRMWARE_MEDELEG = [0, 3, 8, 12, 13, 15].reduce((m, c) => m | (1 << c), 0);
/** SSIP, STIP, SEIP: the supervisor's own interrupts (OpenSBI, same place). */
export const FIRMWARE_MIDELEG = (1 << 1) | (1 << 5) | (1 << 9);

export interface FirmwareOptions {
  /** The S-mode entry (default DEFAULT_KERNEL_ADDR). */
  nextAddr?: number;
  /** RAM size: DBCN accepts buffers inside RAM only. */
  ramSize?: number;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
const MSTATUS_MPP = 3 << 11;
const MSTATUS_MPP_S = 1 << 11;
const SSTATUS_SIE_SPIE_SPP = 0x2 | 0x20 | 0x100;
const MIP_SSIP = 2;
const LSR = 5;
const LSR_DR = 0x01;
const LSR_THRE = 0x20;

/** Valid hart masks for one hart: base -1 (all), or base 0 with only bit 0. */
function hartMask(id: string, mask: string, base: string, noTarget: string): string {
  return `
    li    t0, -1
    beq   ${base}, t0, ${id}_target
    bnez  ${base}, ${id}_base
    andi  t1, ${mask}, -2
    bnez  t1, sbi_invalid_param
    andi  t1, ${mask}, 1
    beqz  t1, ${noTarget}
    j     ${id}_target
${id}_base:
    bnez  ${mask}, sbi_invalid_param
    j     ${noTarget}
${id}_target:`;
}

function entry(nextAddr: number): string {
  return `
_start:
    csrr  t0, mhartid
    bnez  t0, park
    la    t0, m_trap
    csrw  mtvec, t0
    la    t0, m_scratch
    csrw  mscratch, t0
    li    t0, -1
    csrw  pmpaddr0, t0
    li    t0, 0x1f                 # NAPOT over everything, RWX
    csrw  pmpcfg0, t0
    li    t0, ${hex(FIRMWARE_MEDELEG)}
    csrw  medeleg, t0
    li    t0, ${hex(FIRMWARE_MIDELEG)}
    csrw  mideleg, t0
    csrw  mie, zero
    li    t0, 7                    # CY, TM, IR for S-mode
    csrw  mcounteren, t0
    li    t0, 0x80000000           # menvcfg.STCE: S-mode owns stimecmp (Sstc)
    csrs  menvcfgh, t0
    li    t0, -1                   # no timer interrupt until the kernel asks for one
    csrw  stimecmp, t0
    csrw  stimecmph, t0
    csrw  satp, zero
    li    t0, ${hex(MSTATUS_MPP)}
    csrc  mstatus, t0
    li    t0, ${hex(MSTATUS_MPP_S)}
    csrs  mstatus, t0
    li    t0, ${hex(nextAddr)}
    csrw  mepc, t0
    csrr  a0, mhartid              # a1 (the DTB) passes through
    mret
park:
    wfi
    j     park
`;
}

const TRAP = `
m_trap:
    csrrw sp, mscratch, sp
    sw    t0, 0(sp)
    sw    t1, 4(sp)
    sw    t2, 8(sp)
    sw    t3, 12(sp)
    sw    t4, 16(sp)
    sw    t5, 20(sp)
    sw    t6, 24(sp)
    csrr  t0, mcause
    bltz  t0, m_fatal              # no interrupt is enabled in M-mode
    li    t1, 9
    beq   t0, t1, sbi_call         # ecall from S
    csrr  t1, mstatus
    srli  t1, t1, 11
    andi  t1, t1, 3
    li    t2, 3
    beq   t1, t2, m_fatal          # from M-mode itself
# redirect(t0 = cause): deliver the exception to S-mode as the hart would have.
    csrw  scause, t0
    csrr  t1, mtval
    csrw  stval, t1
    csrr  t1, mepc
    csrw  sepc, t1
    csrr  t1, mstatus
    srli  t2, t1, 11
    andi  t2, t2, 1                # MPP is S (01) or U (00): its low bit is SPP
    slli  t2, t2, 8
    andi  t3, t1, 2                # SIE -> SPIE
    slli  t3, t3, 4
    li    t4, ${hex(~SSTATUS_SIE_SPIE_SPP | 0)}
    and   t1, t1, t4
    or    t1, t1, t2
    or    t1, t1, t3
    li    t4, ${hex(~MSTATUS_MPP)}
    and   t1, t1, t4
    li    t4, ${hex(MSTATUS_MPP_S)}
    or    t1, t1, t4
    csrw  mstatus, t1
    csrr  t1, stvec
    andi  t1, t1, -4               # exceptions go to the base in either mode
    csrw  mepc, t1
    j     m_return
m_fatal:
    li    t0, ${hex(SIFIVE_TEST_BASE)}
    li    t1, ${hex(0x3333 | (FIRMWARE_FAULT_EXIT << 16))}
    sw    t1, 0(t0)
m_fatal_hang:
    j     m_fatal_hang

sbi_call:
    csrr  t0, mepc
    addi  t0, t0, 4
    csrw  mepc, t0
    li    t0, ${hex(SbiExt.base)}
    beq   a7, t0, sbi_base
    li    t0, ${hex(SbiExt.time)}
    beq   a7, t0, sbi_time
    li    t0, ${hex(SbiExt.ipi)}
    beq   a7, t0, sbi_ipi
    li    t0, ${hex(SbiExt.rfence)}
    beq   a7, t0, sbi_rfence
    li    t0, ${hex(SbiExt.hsm)}
    beq   a7, t0, sbi_hsm
    li    t0, ${hex(SbiExt.srst)}
    beq   a7, t0, sbi_srst
    li    t0, ${hex(SbiExt.dbcn)}
    beq   a7, t0, sbi_dbcn
    li    t0, ${SbiExt.legacyConsolePutchar}
    beq   a7, t0, legacy_putchar
    li    t0, ${SbiExt.legacyConsoleGetchar}
    beq   a7, t0, legacy_getchar
    li    t0, 0x10
    bltu  a7, t0, legacy_not_supported
sbi_not_supported:
    li    a0, ${SbiError.notSupported}
    li    a1, 0
    j     m_return
sbi_invalid_param:
    li    a0, ${SbiError.invalidParam}
    li    a1, 0
    j     m_return
sbi_error_a0:                      # the error code is already in a0
    li    a1, 0
    j     m_return
sbi_ok_a1:                         # the value is already in a1
    li    a0, 0
    j     m_return
sbi_ok:
    li    a0, 0
    li    a1, 0
m_return:
    lw    t0, 0(sp)
    lw    t1, 4(sp)
    lw    t2, 8(sp)
    lw    t3, 12(sp)
    lw    t4, 16(sp)
    lw    t5, 20(sp)
    lw    t6, 24(sp)
    csrrw sp, mscratch, sp
    mret
legacy_not_supported:              # legacy calls return one value, in a0
    li    a0, ${SbiError.notSupported}
    j     m_return
`;

function probeList(): string {
  return SBI_EXTENSIONS.map((e) => `    li    t0, ${hex(e)}\n    beq   a0, t0, base_probe_yes`).join("\n");
}

const BASE = `
sbi_base:
    li    t0, 0
    beq   a6, t0, base_spec
    li    t0, 1
    beq   a6, t0, base_impl_id
    li    t0, 2
    beq   a6, t0, base_impl_version
    li    t0, 3
    beq   a6, t0, base_probe
    li    t0, 4
    beq   a6, t0, base_mvendorid
    li    t0, 5
    beq   a6, t0, base_marchid
    li    t0, 6
    beq   a6, t0, base_mimpid
    j     sbi_not_supported
base_spec:
    li    a1, ${hex(SBI_SPEC_VERSION)}
    j     sbi_ok_a1
base_impl_id:
    li    a1, ${hex(SBI_IMPL_ID)}
    j     sbi_ok_a1
base_impl_version:
    li    a1, ${SBI_IMPL_VERSION}
    j     sbi_ok_a1
base_mvendorid:
    csrr  a1, mvendorid
    j     sbi_ok_a1
base_marchid:
    csrr  a1, marchid
    j     sbi_ok_a1
base_mimpid:
    csrr  a1, mimpid
    j     sbi_ok_a1
base_probe:
${probeList()}
    li    a1, 0
    j     sbi_ok_a1
base_probe_yes:
    li    a1, 1
    j     sbi_ok_a1
`;

const TIME = `
sbi_time:                          # set_timer(stime_value: a0 low, a1 high)
    bnez  a6, sbi_not_supported
    li    t0, -1                   # no spurious match while the halves change
    csrw  stimecmp, t0
    csrw  stimecmph, a1
    csrw  stimecmp, a0
    j     sbi_ok
`;

const IPI = `
sbi_ipi:                           # send_ipi(hart_mask, hart_mask_base)
    bnez  a6, sbi_not_supported
${hartMask("ipi", "a0", "a1", "sbi_ok")}
    csrsi mip, ${MIP_SSIP}
    j     sbi_ok
`;

const RFENCE = `
sbi_rfence:                        # (hart_mask, hart_mask_base, start, size[, asid]): local on one hart
    li    t0, 3
    bgeu  a6, t0, sbi_not_supported   # the hypervisor fences need the H extension
${hartMask("rfence", "a0", "a1", "sbi_ok")}
    beqz  a6, rfence_fence_i
    li    t0, 1
    beq   a6, t0, rfence_sfence_vma
    sfence.vma zero, a4
    j     sbi_ok
rfence_sfence_vma:
    sfence.vma
    j     sbi_ok
rfence_fence_i:
    fence.i
    j     sbi_ok
`;

const HSM = `
sbi_hsm:
    li    t0, 0
    beq   a6, t0, hsm_start
    li    t0, 1
    beq   a6, t0, hsm_stop
    li    t0, 2
    beq   a6, t0, hsm_status
    li    t0, 3
    beq   a6, t0, hsm_suspend
    j     sbi_not_supported
hsm_start:                         # hart 0 runs already; there is no other
    bnez  a0, sbi_invalid_param
    li    a0, ${SbiError.alreadyAvailable}
    j     sbi_error_a0
hsm_stop:                          # the only hart stops: nothing can wake it
    csrw  mie, zero
hsm_stopped:
    wfi
    j     hsm_stopped
hsm_status:
    bnez  a0, sbi_invalid_param
    li    a1, 0                    # STARTED
    j     sbi_ok_a1
hsm_suspend:                       # suspend(type, resume_addr, opaque)
    beqz  a0, hsm_retentive
    li    t0, ${hex(HSM_SUSPEND_NON_RETENTIVE)}
    beq   a0, t0, sbi_not_supported
    li    t0, 0x10000000           # 0x1-0x0fffffff reserved
    bltu  a0, t0, sbi_invalid_param
    li    t0, 0x80000000           # 0x10000000-0x7fffffff platform-specific retentive
    bltu  a0, t0, sbi_not_supported
    li    t0, 0x90000000           # 0x80000001-0x8fffffff reserved
    bltu  a0, t0, sbi_invalid_param
    j     sbi_not_supported
hsm_retentive:                     # wait for an interrupt, then return as from any call
    wfi
    j     sbi_ok
`;

const SRST = `
sbi_srst:                          # system_reset(type, reason)
    bnez  a6, sbi_not_supported
    li    t0, 0xe0000000           # reasons 2-0xdfffffff are reserved
    bgeu  a1, t0, srst_reason_ok
    li    t0, 2
    bgeu  a1, t0, sbi_invalid_param
srst_reason_ok:
    li    t0, 0xf0000000           # types 3-0xefffffff reserved, 0xf0000000+ vendor
    bgeu  a0, t0, sbi_not_supported
    li    t0, 3
    bgeu  a0, t0, sbi_invalid_param
    li    t0, ${hex(SIFIVE_TEST_BASE)}
    bnez  a0, srst_reboot
    bnez  a1, srst_failure
    li    t1, 0x5555
    sw    t1, 0(t0)
    j     srst_hang
srst_failure:
    li    t1, ${hex(0x3333 | (1 << 16))}
    sw    t1, 0(t0)
    j     srst_hang
srst_reboot:
    li    t1, 0x7777
    sw    t1, 0(t0)
srst_hang:
    j     srst_hang
`;

function dbcn(ramSize: number): string {
  return `
sbi_dbcn:
    li    t0, 2
    beq   a6, t0, dbcn_write_byte
    bgeu  a6, t0, sbi_not_supported
    bnez  a2, sbi_invalid_param    # base_addr_hi: the buffer must lie in RAM
    li    t0, ${hex(RAM_BASE)}
    bltu  a1, t0, sbi_invalid_param
    sub   t1, a1, t0               # offset into RAM
    li    t2, ${hex(ramSize)}
    bgtu  a0, t2, sbi_invalid_param
    sub   t2, t2, a0
    bgtu  t1, t2, sbi_invalid_param
    li    t0, ${hex(UART16550_BASE)}
    li    t1, 0                    # bytes done
    bnez  a6, dbcn_read
dbcn_write:
    beq   t1, a0, dbcn_done
dbcn_write_wait:
    lbu   t3, ${LSR}(t0)
    andi  t3, t3, ${LSR_THRE}
    beqz  t3, dbcn_write_wait
    add   t2, a1, t1
    lbu   t3, 0(t2)
    sb    t3, 0(t0)
    addi  t1, t1, 1
    j     dbcn_write
dbcn_read:
    beq   t1, a0, dbcn_done
    lbu   t3, ${LSR}(t0)
    andi  t3, t3, ${LSR_DR}
    beqz  t3, dbcn_done
    lbu   t3, 0(t0)
    add   t2, a1, t1
    sb    t3, 0(t2)
    addi  t1, t1, 1
    j     dbcn_read
dbcn_done:
    mv    a1, t1
    j     sbi_ok_a1
dbcn_write_byte:
    li    t0, ${hex(UART16550_BASE)}
    jal   t6, uart_putc
    j     sbi_ok

legacy_putchar:
    li    t0, ${hex(UART16550_BASE)}
    jal   t6, uart_putc
    li    a0, 0
    j     m_return
legacy_getchar:
    li    t0, ${hex(UART16550_BASE)}
    lbu   t3, ${LSR}(t0)
    andi  t3, t3, ${LSR_DR}
    li    a0, -1
    beqz  t3, m_return
    lbu   a0, 0(t0)
    j     m_return

uart_putc:                         # (t0 = UART, a0 = byte), returns through t6
    lbu   t3, ${LSR}(t0)
    andi  t3, t3, ${LSR_THRE}
    beqz  t3, uart_putc
    sb    a0, 0(t0)
    jr    t6
`;
}

/** The firmware image, loaded at the RAM base. */
export function buildFirmware(o: FirmwareOptions = {}): Image {
  const a = new Assembler({ text: RAM_BASE });
  a.asm(entry(o.nextAddr ?? DEFAULT_KERNEL_ADDR));
  a.asm(TRAP);
  a.asm(BASE);
  a.asm(TIME);
  a.asm(IPI);
  a.asm(RFENCE);
  a.asm(HSM);
  a.asm(SRST);
  a.asm(dbcn(o.ramSize ?? DEFAULT_HART.ramSize));
  a.align(16);
  a.label("m_scratch").space(32);
  a.label("firmware_end");
  return a.assemble();
}

/** Bytes from the RAM base that the firmware occupies, rounded to whole pages (what the kernel must not use). */
export function firmwareFootprint(image: Image): number {
  const end = image.symbols.firmware_end ?? RAM_BASE;
  return Math.ceil((end - RAM_BASE) / 4096) * 4096;
}
