/**
 * @shadowlab/workloads: the guest kernel (kernel/) and the synthetic
 * workloads (workloads/, one file each, listed in registry.ts), with the
 * `shadowlab-workloads` commands (cli.ts) for the `shadowlab` CLI to mount.
 */
export { counterTable, exitCodeOf, main, reportError, workloadCommands } from "./cli.ts";
export * from "./kernel/abi.ts";
export { buildGuestImage, type GuestImageOptions } from "./kernel/index.ts";
export * from "./linux/boot.ts";
export { findLinuxImage, type LinuxImage, linuxInputs } from "./linux/image.ts";
export * from "./registry.ts";
export * from "./workloads/common.ts";
export { compute } from "./workloads/compute.ts";
export { ctxswitch } from "./workloads/ctxswitch.ts";
export { forkwait } from "./workloads/forkwait.ts";
export { mmio } from "./workloads/mmio.ts";
export { NANO_VARIANTS, type NanoVariant, nano } from "./workloads/nano.ts";
export { checksumLine, type NativeOptions, type NativeRun, runNative } from "./workloads/native.ts";
export { pagefault } from "./workloads/pagefault.ts";
export { preempt } from "./workloads/preempt.ts";
export { syscall } from "./workloads/syscall.ts";
