export * from "./asm/index.ts";
export * from "./boot.ts";
export { Checkpoint, CheckpointError, type CheckpointParticipant } from "./checkpoint.ts";
export {
  addKernelOptions,
  addMachineOptions,
  bootFiles,
  EXIT_BUDGET,
  EXIT_USAGE,
  EXIT_WFI,
  emuCommands,
  type Io,
  type KernelFlags,
  loadImage,
  machineConfig,
  processIo,
  UsageError,
} from "./cli/emu.ts";
export { type CliOptions, integer, runCli } from "./cli/program.ts";
export * from "./csr.ts";
export { asidLen, csrCheck, csrFault, csrRead, csrWrite, MISA } from "./csrfile.ts";
export { CLINT_BASE, Clint } from "./devices/clint.ts";
export type { Device } from "./devices/device.ts";
export * from "./devices/sifive-test.ts";
export * from "./devices/uart16550.ts";
export * from "./devicetree.ts";
export { ElfError, readElf, writeElf } from "./elf.ts";
export * from "./fdt.ts";
export * from "./firmware.ts";
export * from "./hart.ts";
export { type HfenceCounters, HSTATUS, HState, VS_IRQS } from "./hext/state.ts";
export { setVirt } from "./hext/trap.ts";
export type { Image, Section } from "./image.ts";
export * from "./isa/index.ts";
export * from "./machine.ts";
export * from "./mmu.ts";
export { captureState, type ObjectState, restoreState, StateCaptureError } from "./object-state.ts";
export * from "./roi.ts";
export * from "./sbi.ts";
export * from "./stats.ts";
export * from "./tlb.ts";
