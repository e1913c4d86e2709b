export * from "./asm/index.ts";
export * from "./boot.ts";
export { Checkpoint, CheckpointError, type CheckpointParticipant } from "./checkpoint.ts";
export {
  addKernelOptions,
  addMachineOptions,
  bootFiles,
  checkStatsTarget,
  consoleSink,
  EXIT_BUDGET,
  EXIT_STUCK,
  EXIT_USAGE,
  EXIT_WFI,
  emuCommands,
  exitCodeOf,
  type Io,
  type KernelFlags,
  loadImage,
  loadOnto,
  machineConfig,
  processIo,
  stopLine,
  UsageError,
  writeStats,
} from "./cli/emu.ts";
export {
  type CliOptions,
  checkWritable,
  integer,
  packageVersion,
  runCli,
  statsToStdout,
  withExamples,
  writeFileAtomic,
} from "./cli/program.ts";
export * from "./csr.ts";
export { asidLen, csrCheck, csrFault, csrRead, csrWrite, MISA } from "./csrfile.ts";
export { CLINT_BASE, Clint } from "./devices/clint.ts";
export type { Device } from "./devices/device.ts";
export * from "./devices/sifive-test.ts";
export * from "./devices/uart16550.ts";
export * from "./devicetree.ts";
export { ElfError, readElf, writeElf } from "./elf.ts";
export * from "./engine-pair.ts";
export { FAULT_LOOP_LIMIT, FaultLoop } from "./fault-loop.ts";
export * from "./fdt.ts";
export * from "./firmware.ts";
export * from "./hart.ts";
export { type HfenceCounters, HSTATUS, HState, VS_IRQS } from "./hext/state.ts";
export { TINST_PTE_READ } from "./hext/translate.ts";
export { fenceGuest, setVirt } from "./hext/trap.ts";
export type { Image, Section } from "./image.ts";
export {
  type BusRegion,
  ImageError,
  type Placement,
  type PlacementOptions,
  placeImage,
} from "./image-placement.ts";
export * from "./isa/index.ts";
export * from "./machine.ts";
export * from "./mmu.ts";
export { captureState, type ObjectState, restoreState, StateCaptureError } from "./object-state.ts";
export * from "./observation.ts";
export * from "./roi.ts";
export * from "./sbi.ts";
export * from "./stats.ts";
export * from "./tlb.ts";
