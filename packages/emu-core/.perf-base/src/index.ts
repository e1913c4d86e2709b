export * from "./asm/index.ts";
export {
  addMachineOptions,
  EXIT_BUDGET,
  EXIT_USAGE,
  EXIT_WFI,
  emuCommands,
  type Io,
  loadImage,
  machineConfig,
  processIo,
  UsageError,
} from "./cli/emu.ts";
export { type CliOptions, integer, runCli } from "./cli/program.ts";
export * from "./csr.ts";
export { csrCheck, csrRead, csrWrite, MISA } from "./csrfile.ts";
export { CLINT_BASE, Clint } from "./devices/clint.ts";
export type { Device } from "./devices/device.ts";
export * from "./devices/sifive-test.ts";
export * from "./devices/uart16550.ts";
export { ElfError, readElf, writeElf } from "./elf.ts";
export * from "./hart.ts";
export type { Image, Section } from "./image.ts";
export * from "./isa/index.ts";
export * from "./machine.ts";
export * from "./mmu.ts";
export * from "./stats.ts";
export * from "./tlb.ts";
