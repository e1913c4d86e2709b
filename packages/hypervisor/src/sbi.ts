/**
 * SBI 2.0 served by the hypervisor to a guest: the same calls and the same
 * answers as shadowlab's M-mode firmware (emu-core firmware.ts), so a kernel
 * sees one SBI natively and virtualized. One dispatcher for every execution
 * mode: the trap-mode ecall path calls it now, and the hw-mode exit path
 * (an ecall from VS-mode) calls it the same way; what differs between modes
 * is only the port, the guest's side of each effect.
 *
 * Every call is counted by extension and function (`sbi.<ext>.<function>`).
 */
import {
  HSM_SUSPEND_NON_RETENTIVE,
  SBI_EXTENSION_NAMES,
  SBI_EXTENSIONS,
  SBI_IMPL_ID,
  SBI_IMPL_VERSION,
  SBI_SPEC_VERSION,
  SbiError,
  SbiExt,
} from "@shadowlab/emu-core";
import type { HvCounters } from "./counters.ts";

/** What a call can do to the guest, implemented by each execution mode. */
export interface SbiPort {
  /** Guest-physical RAM, for DBCN buffers. */
  readonly ramBase: number;
  readonly ramSize: number;
  /** The supervisor timer comparator (Sstc stimecmp), as its two 32-bit halves. */
  setTimer(low: number, high: number): void;
  /** Raise the guest's supervisor software interrupt (sip.SSIP). */
  sendSoftwareInterrupt(): void;
  /** A local sfence.vma: everything, or one ASID's non-global entries. */
  sfenceVma(asid: number | undefined): void;
  /** A byte of guest-physical RAM. */
  readByte(gpa: number): number;
  writeByte(gpa: number, value: number): void;
  /** The guest's UART: transmit a byte; receive one or -1 when none is waiting. */
  putChar(byte: number): void;
  getChar(): number;
  /** Store a status word to the guest's test device (0x5555 pass, 0x3333 | code << 16 fail, 0x7777 reset). */
  finish(status: number): void;
  /** The hart stops for good (HSM hart_stop of the only hart). */
  stop(): void;
  /** Wait for an interrupt, then return from the call (HSM retentive suspend). */
  suspend(): void;
}

/** The vendor, architecture and implementation IDs the guest reads through BASE (the machine's: zero). */
const MACHINE_IDS = [0, 0, 0];

const FUNCTION_NAMES: Readonly<Record<number, readonly string[]>> = {
  [SbiExt.base]: [
    "get_spec_version",
    "get_impl_id",
    "get_impl_version",
    "probe_extension",
    "get_mvendorid",
    "get_marchid",
    "get_mimpid",
  ],
  [SbiExt.time]: ["set_timer"],
  [SbiExt.ipi]: ["send_ipi"],
  [SbiExt.rfence]: [
    "remote_fence_i",
    "remote_sfence_vma",
    "remote_sfence_vma_asid",
    "remote_hfence_gvma_vmid",
    "remote_hfence_gvma",
    "remote_hfence_vvma_asid",
    "remote_hfence_vvma",
  ],
  [SbiExt.hsm]: ["hart_start", "hart_stop", "hart_get_status", "hart_suspend"],
  [SbiExt.srst]: ["system_reset"],
  [SbiExt.dbcn]: ["console_write", "console_read", "console_write_byte"],
};

/** What goes back into the guest's a0 and, unless a legacy call, a1. */
export interface SbiReturn {
  a0: number;
  a1?: number;
}

const ok = (value = 0): SbiReturn => ({ a0: SbiError.success, a1: value | 0 });
const error = (code: number): SbiReturn => ({ a0: code, a1: 0 });

/** The counter name of a call. */
export function sbiCallName(ext: number, fid: number): string {
  const extName = SBI_EXTENSION_NAMES[ext] ?? `0x${(ext >>> 0).toString(16)}`;
  if (ext < 0x10) return `sbi.${extName}`;
  return `sbi.${extName}.${FUNCTION_NAMES[ext]?.[fid] ?? `fid${fid >>> 0}`}`;
}

/**
 * Serve one call: a7 = extension, a6 = function, a0-a5 = arguments (as
 * signed 32-bit register values). Returns the registers to write back.
 */
export function sbiCall(
  port: SbiPort,
  counters: HvCounters,
  a: ArrayLike<number>,
  fid: number,
  ext: number,
): SbiReturn {
  counters.add(sbiCallName(ext >>> 0, fid >>> 0));
  switch (ext >>> 0) {
    case SbiExt.base:
      return base(fid, a[0]);
    case SbiExt.time:
      if (fid !== 0) return error(SbiError.notSupported);
      port.setTimer(a[0] >>> 0, a[1] >>> 0);
      return ok();
    case SbiExt.ipi:
      if (fid !== 0) return error(SbiError.notSupported);
      return hartMask(a[0], a[1], () => port.sendSoftwareInterrupt());
    case SbiExt.rfence:
      return rfence(port, fid, a);
    case SbiExt.hsm:
      return hsm(port, fid, a);
    case SbiExt.srst:
      return fid === 0 ? systemReset(port, a[0] >>> 0, a[1] >>> 0) : error(SbiError.notSupported);
    case SbiExt.dbcn:
      return dbcn(port, fid, a);
    case SbiExt.legacyConsolePutchar:
      port.putChar(a[0] & 0xff);
      return { a0: 0 };
    case SbiExt.legacyConsoleGetchar:
      return { a0: port.getChar() };
    default:
      return ext >>> 0 < 0x10 ? { a0: SbiError.notSupported } : error(SbiError.notSupported);
  }
}

function base(fid: number, arg: number): SbiReturn {
  switch (fid) {
    case 0:
      return ok(SBI_SPEC_VERSION);
    case 1:
      return ok(SBI_IMPL_ID);
    case 2:
      return ok(SBI_IMPL_VERSION);
    case 3:
      return ok(SBI_EXTENSIONS.includes(arg >>> 0) ? 1 : 0);
    case 4:
    case 5:
    case 6:
      return ok(MACHINE_IDS[fid - 4]);
    default:
      return error(SbiError.notSupported);
  }
}

/** One hart: base -1 means all harts; otherwise only hart 0 exists. */
function hartMask(mask: number, maskBase: number, onHart0: () => void): SbiReturn {
  if (maskBase === -1) {
    onHart0();
    return ok();
  }
  if (maskBase !== 0) return mask !== 0 ? error(SbiError.invalidParam) : ok();
  if ((mask & ~1) !== 0) return error(SbiError.invalidParam);
  if (mask & 1) onHart0();
  return ok();
}

function rfence(port: SbiPort, fid: number, a: ArrayLike<number>): SbiReturn {
  if (fid >= 3 || fid < 0) return error(SbiError.notSupported); // hfence needs the H extension
  return hartMask(a[0], a[1], () => {
    if (fid === 1) port.sfenceVma(undefined);
    else if (fid === 2) port.sfenceVma(a[4] >>> 0);
    // fid 0, fence.i: one hart whose decoded-instruction cache follows every store.
  });
}

function hsm(port: SbiPort, fid: number, a: ArrayLike<number>): SbiReturn {
  switch (fid) {
    case 0:
      return error(a[0] === 0 ? SbiError.alreadyAvailable : SbiError.invalidParam);
    case 1:
      port.stop();
      return ok();
    case 2:
      return a[0] === 0 ? ok(0) : error(SbiError.invalidParam);
    case 3:
      return suspend(port, a[0] >>> 0);
    default:
      return error(SbiError.notSupported);
  }
}

function suspend(port: SbiPort, type: number): SbiReturn {
  if (type === 0) {
    port.suspend();
    return ok();
  }
  if (type === HSM_SUSPEND_NON_RETENTIVE) return error(SbiError.notSupported);
  if (type < 0x1000_0000) return error(SbiError.invalidParam);
  if (type < 0x8000_0000) return error(SbiError.notSupported);
  if (type < 0x9000_0000) return error(SbiError.invalidParam);
  return error(SbiError.notSupported);
}

function systemReset(port: SbiPort, type: number, reason: number): SbiReturn {
  if (reason >= 2 && reason < 0xe000_0000) return error(SbiError.invalidParam);
  if (type >= 0xf000_0000) return error(SbiError.notSupported);
  if (type >= 3) return error(SbiError.invalidParam);
  if (type !== 0) port.finish(0x7777);
  else port.finish(reason === 0 ? 0x5555 : 0x3333 | (1 << 16));
  return ok();
}

function dbcn(port: SbiPort, fid: number, a: ArrayLike<number>): SbiReturn {
  if (fid === 2) {
    port.putChar(a[0] & 0xff);
    return ok();
  }
  if (fid !== 0 && fid !== 1) return error(SbiError.notSupported);
  const count = a[0] >>> 0;
  const addr = a[1] >>> 0;
  if (a[2] !== 0 || addr < port.ramBase || count > port.ramSize || addr - port.ramBase > port.ramSize - count)
    return error(SbiError.invalidParam);
  let done = 0;
  if (fid === 0) {
    for (; done < count; done++) port.putChar(port.readByte(addr + done));
  } else {
    for (; done < count; done++) {
      const c = port.getChar();
      if (c < 0) break;
      port.writeByte(addr + done, c);
    }
  }
  return ok(done);
}
