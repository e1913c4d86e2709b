/**
 * CSR numbers (privileged spec 1.12, table 2.2-2.6; Sstc for stimecmp) and
 * the bit layout of the status and interrupt registers the hart implements.
 */
export const CSR = {
  // unprivileged counters
  cycle: 0xc00,
  time: 0xc01,
  instret: 0xc02,
  cycleh: 0xc80,
  timeh: 0xc81,
  instreth: 0xc82,
  // supervisor
  sstatus: 0x100,
  sie: 0x104,
  stvec: 0x105,
  scounteren: 0x106,
  senvcfg: 0x10a,
  sscratch: 0x140,
  sepc: 0x141,
  scause: 0x142,
  stval: 0x143,
  sip: 0x144,
  stimecmp: 0x14d,
  stimecmph: 0x15d,
  satp: 0x180,
  // hypervisor and virtual supervisor (H extension, privileged spec 1.12 chapter 8)
  hstatus: 0x600,
  hedeleg: 0x602,
  hideleg: 0x603,
  hie: 0x604,
  htimedelta: 0x605,
  hcounteren: 0x606,
  hgeie: 0x607,
  henvcfg: 0x60a,
  htimedeltah: 0x615,
  henvcfgh: 0x61a,
  htval: 0x643,
  hip: 0x644,
  hvip: 0x645,
  htinst: 0x64a,
  hgatp: 0x680,
  hgeip: 0xe12,
  vsstatus: 0x200,
  vsie: 0x204,
  vstvec: 0x205,
  vsscratch: 0x240,
  vsepc: 0x241,
  vscause: 0x242,
  vstval: 0x243,
  vsip: 0x244,
  vstimecmp: 0x24d,
  vstimecmph: 0x25d,
  vsatp: 0x280,
  mtinst: 0x34a,
  mtval2: 0x34b,
  // machine information
  mvendorid: 0xf11,
  marchid: 0xf12,
  mimpid: 0xf13,
  mhartid: 0xf14,
  mconfigptr: 0xf15,
  // machine trap setup and handling
  mstatus: 0x300,
  misa: 0x301,
  medeleg: 0x302,
  mideleg: 0x303,
  mie: 0x304,
  mtvec: 0x305,
  mcounteren: 0x306,
  mstatush: 0x310,
  mscratch: 0x340,
  mepc: 0x341,
  mcause: 0x342,
  mtval: 0x343,
  mip: 0x344,
  menvcfg: 0x30a,
  menvcfgh: 0x31a,
  mcountinhibit: 0x320,
  // machine counters
  mcycle: 0xb00,
  minstret: 0xb02,
  mcycleh: 0xb80,
  minstreth: 0xb82,
} as const;

export type CsrName = keyof typeof CSR;

const names = new Map<number, string>(Object.entries(CSR).map(([k, v]) => [v, k]));
for (let i = 0; i < 16; i++) names.set(0x3a0 + i, `pmpcfg${i}`);
for (let i = 0; i < 64; i++) names.set(0x3b0 + i, `pmpaddr${i}`);
for (let i = 3; i < 32; i++) {
  names.set(0xc00 + i, `hpmcounter${i}`);
  names.set(0xc80 + i, `hpmcounter${i}h`);
  names.set(0xb00 + i, `mhpmcounter${i}`);
  names.set(0xb80 + i, `mhpmcounter${i}h`);
  names.set(0x320 + i, `mhpmevent${i}`);
}

/** The CSR's name as GNU objdump prints it, or undefined for an unnamed number. */
export function csrName(num: number): string | undefined {
  return names.get(num);
}

const numbers = new Map<string, number>([...names].map(([k, v]) => [v, k]));

/** The CSR number for a name (as accepted by the assembler), or undefined. */
export function csrNumber(name: string): number | undefined {
  return numbers.get(name);
}

/** mstatus bits (privileged spec 3.1.6). sstatus is a view of the S bits. */
export const MSTATUS = {
  SIE: 1 << 1,
  MIE: 1 << 3,
  SPIE: 1 << 5,
  UBE: 1 << 6,
  MPIE: 1 << 7,
  SPP: 1 << 8,
  MPP: 3 << 11,
  MPP_SHIFT: 11,
  FS: 3 << 13,
  XS: 3 << 15,
  MPRV: 1 << 17,
  SUM: 1 << 18,
  MXR: 1 << 19,
  TVM: 1 << 20,
  TW: 1 << 21,
  TSR: 1 << 22,
  SD: 1 << 31,
} as const;

/** sstatus is a restricted view of mstatus (4.1.1); vsstatus has the same layout (8.2.11). */
export const SSTATUS_VIEW =
  MSTATUS.SIE |
  MSTATUS.SPIE |
  MSTATUS.UBE |
  MSTATUS.SPP |
  MSTATUS.FS |
  MSTATUS.XS |
  MSTATUS.SUM |
  MSTATUS.MXR |
  MSTATUS.SD;
/** The sstatus (and vsstatus) bits software can write on this hart: SIE, SPIE, SPP, SUM, MXR. */
export const SSTATUS_WRITABLE = MSTATUS.SIE | MSTATUS.SPIE | MSTATUS.SPP | MSTATUS.SUM | MSTATUS.MXR;
/** Exceptions that may be delegated: all defined causes but ecall from M (medeleg[11] is read-only 0). */
export const MEDELEG_WRITABLE = 0xb3ff;

/** Interrupt numbers (mip/mie bit positions, mcause with the interrupt bit). */
export const IRQ = {
  SSI: 1,
  VSSI: 2,
  MSI: 3,
  STI: 5,
  VSTI: 6,
  MTI: 7,
  SEI: 9,
  VSEI: 10,
  MEI: 11,
  SGEI: 12,
} as const;

/** Exception causes (privileged spec table 3.6). */
export const CAUSE = {
  MISALIGNED_FETCH: 0,
  FETCH_ACCESS: 1,
  ILLEGAL_INSTRUCTION: 2,
  BREAKPOINT: 3,
  MISALIGNED_LOAD: 4,
  LOAD_ACCESS: 5,
  MISALIGNED_STORE: 6,
  STORE_ACCESS: 7,
  ECALL_U: 8,
  ECALL_S: 9,
  ECALL_VS: 10,
  ECALL_M: 11,
  FETCH_PAGE_FAULT: 12,
  LOAD_PAGE_FAULT: 13,
  STORE_PAGE_FAULT: 15,
  FETCH_GUEST_PAGE_FAULT: 20,
  LOAD_GUEST_PAGE_FAULT: 21,
  VIRTUAL_INSTRUCTION: 22,
  STORE_GUEST_PAGE_FAULT: 23,
} as const;

/**
 * 64-bit timer comparators (mtimecmp, stimecmp) are kept as exact doubles: a
 * written high half saturates at COMPARATOR_HIGH_MAX (2^21 - 1, i.e. past 2^53
 * ticks, never reached), so the low half survives the spec's "high = -1, low,
 * high" update sequence (priv. 3.2.1). A comparator at or past COMPARATOR_NEVER
 * never fires.
 */
export const COMPARATOR_HIGH_MAX = 0x1f_ffff;
export const COMPARATOR_NEVER = COMPARATOR_HIGH_MAX * 2 ** 32;

/** Privilege levels as encoded in MPP / mcause contexts. */
export const PRIV = { U: 0, S: 1, M: 3 } as const;
