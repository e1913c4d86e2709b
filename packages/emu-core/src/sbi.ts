/**
 * The RISC-V Supervisor Binary Interface (SBI 2.0) as shadowlab serves it, in
 * one place for both servers: the M-mode firmware (firmware.ts) and the
 * hypervisor. Extension and function IDs and error codes are those of the
 * SBI specification v2.0 (chapters 3-12); a call passes the extension ID in
 * a7, the function ID in a6 and arguments in a0-a5, and gets the error in a0
 * and a value in a1. The legacy extensions (0x00-0x0f) return one value in a0.
 */

export const SBI_SPEC_VERSION = (2 << 24) | 0; // 2.0 (spec 4.1: major in bits 30:24)
/**
 * Our implementation ID. Registered IDs run 0-11 (spec 4.9: BBL, OpenSBI,
 * Xvisor, KVM, RustSBI, Diosix, Coffer, Xen, PolarFire HSS, coreboot, oreboot,
 * bhyve); shadowlab is not registered, so it answers with an ID outside that
 * list, "SL" in ASCII.
 */
export const SBI_IMPL_ID = 0x534c;
export const SBI_IMPL_VERSION = 1;

export const SbiExt = {
  legacySetTimer: 0x00,
  legacyConsolePutchar: 0x01,
  legacyConsoleGetchar: 0x02,
  base: 0x10,
  time: 0x5449_4d45, // "TIME"
  ipi: 0x0073_5049, // "sPI"
  rfence: 0x5246_4e43, // "RFNC"
  hsm: 0x0048_534d, // "HSM"
  srst: 0x5352_5354, // "SRST"
  dbcn: 0x4442_434e, // "DBCN"
} as const;

export const SbiError = {
  success: 0,
  failed: -1,
  notSupported: -2,
  invalidParam: -3,
  denied: -4,
  invalidAddress: -5,
  alreadyAvailable: -6,
} as const;

/** Extensions a probe answers 1 for (spec 4.8: 1 or an extension-specific nonzero value). */
export const SBI_EXTENSIONS: readonly number[] = [
  SbiExt.legacyConsolePutchar,
  SbiExt.legacyConsoleGetchar,
  SbiExt.base,
  SbiExt.time,
  SbiExt.ipi,
  SbiExt.rfence,
  SbiExt.hsm,
  SbiExt.srst,
  SbiExt.dbcn,
];

/** Names for counters and reports: extension, then function. */
export const SBI_EXTENSION_NAMES: Readonly<Record<number, string>> = {
  [SbiExt.legacySetTimer]: "legacy_set_timer",
  [SbiExt.legacyConsolePutchar]: "legacy_console_putchar",
  [SbiExt.legacyConsoleGetchar]: "legacy_console_getchar",
  [SbiExt.base]: "base",
  [SbiExt.time]: "time",
  [SbiExt.ipi]: "ipi",
  [SbiExt.rfence]: "rfence",
  [SbiExt.hsm]: "hsm",
  [SbiExt.srst]: "srst",
  [SbiExt.dbcn]: "dbcn",
};

/** SRST (spec 10.1): reset types and reasons. */
export const SRST_SHUTDOWN = 0;
export const SRST_COLD_REBOOT = 1;
export const SRST_WARM_REBOOT = 2;
export const SRST_REASON_NONE = 0;
export const SRST_REASON_SYSTEM_FAILURE = 1;

/** HSM (spec 9): hart states and the retentive default suspend type. */
export const HSM_STATE_STARTED = 0;
export const HSM_SUSPEND_RETENTIVE = 0;
export const HSM_SUSPEND_NON_RETENTIVE = 0x8000_0000;
