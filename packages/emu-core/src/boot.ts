/**
 * The QEMU `virt` boot protocol (hw/riscv/boot.c) for this machine: where a
 * kernel, an initrd, a devicetree and a firmware go in RAM and what the first
 * instruction sees. The layout is computed once and written through a
 * callback, so the bare machine and the hypervisor's guest memory share it.
 *
 * - The firmware (`--bios`) sits at the RAM base; our own SBI firmware by
 *   default, another file (ELF or raw binary, e.g. OpenSBI's fw_jump), or none.
 * - The kernel: a RISC-V Image is loaded at RAM base + its header's
 *   text_offset (Documentation/riscv/boot-image-header.rst; 4 MiB on rv32,
 *   which is also where QEMU puts a kernel after a firmware on rv32: the
 *   firmware's end aligned up to 4 MiB). With no firmware QEMU loads it at the
 *   RAM base, and so do we. An ELF (vmlinux) is loaded by physical address;
 *   one linked outside RAM (vmlinux at PAGE_OFFSET) is placed at the same
 *   address an Image would be.
 * - The initrd at kernel start + min(RAM / 2, 128 MiB) (riscv_load_initrd).
 * - The DTB at min(RAM end, 3 GiB) - its size, aligned down to 2 MiB
 *   (riscv_compute_fdt_addr), generated from the machine's configuration
 *   unless one is given; /chosen gets bootargs and the initrd either way, as
 *   QEMU does.
 * - The hart starts at the RAM base in M-mode with a0 = hart id, a1 = DTB
 *   (QEMU's reset vector). With no firmware the kernel itself starts there in
 *   M-mode (QEMU -bios none): a kernel built for S-mode cannot run that way,
 *   on QEMU or here.
 */
import { machineDeviceTree } from "./devicetree.ts";
import { ElfError, readElf } from "./elf.ts";
import { type Fdt, FdtError, fdtFind, fdtNode, parseFdt, prop, writeFdt } from "./fdt.ts";
import { buildFirmware, DEFAULT_KERNEL_ADDR, firmwareFootprint } from "./firmware.ts";
import { RAM_BASE } from "./hart.ts";
import type { Image } from "./image.ts";
import type { Machine } from "./machine.ts";

const MiB = 2 ** 20;
const RV32_IMAGE_ALIGN = 4 * MiB;

export class BootError extends Error {}

export interface BootFiles {
  /** The kernel file: a RISC-V Image or an ELF. */
  kernel: Uint8Array;
  kernelName?: string;
  initrd?: Uint8Array;
  /** /chosen/bootargs. */
  append?: string;
  /** A DTB to use instead of the generated one. */
  dtb?: Uint8Array;
  /**
   * "default": our SBI firmware; "none": no firmware, the kernel at the RAM
   * base; bytes: a firmware file (ELF or raw binary); "external": the SBI is
   * served from outside the guest (a hypervisor), so nothing is written at
   * the RAM base and the kernel goes where it goes after a firmware.
   */
  bios: "default" | "none" | "external" | Uint8Array;
  ramSize: number;
}

export interface Region {
  start: number;
  end: number;
}

export interface BootLayout {
  /** Where the first instruction is (the firmware, or the kernel without one). */
  resetPc: number;
  /** The kernel's first instruction, in S-mode after a firmware (or under a hypervisor). */
  kernelEntry: number;
  kernel: Region;
  firmware?: Region;
  initrd?: Region;
  dtb: Region;
  /** The DTB as written. */
  dtbBytes: Uint8Array;
  /** What the kernel was: "image" (RISC-V Image header) or "elf". */
  kernelFormat: "image" | "elf";
}

/** RISC-V Image header fields (boot-image-header.rst). */
export interface ImageHeader {
  textOffset: number;
  imageSize: number;
}

/** The header of a RISC-V Image, or undefined when the file is not one. */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length < 64) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic2 = view.getUint32(56, true) === 0x0543_5352; // "RSC\x05"
  const magic = new TextDecoder().decode(bytes.subarray(48, 53)) === "RISCV";
  if (!magic && !magic2) return undefined;
  const textOffset = Number(view.getBigUint64(8, true));
  const imageSize = Number(view.getBigUint64(16, true));
  return { textOffset, imageSize: imageSize > 0 ? imageSize : bytes.length };
}

function isElf(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46
  );
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function alignDown(n: number, a: number): number {
  return Math.floor(n / a) * a;
}

type Write = (addr: number, bytes: Uint8Array) => void;

function writeImage(image: Image, offset: number, write: Write): Region {
  let start = Number.POSITIVE_INFINITY;
  let end = 0;
  for (const s of image.sections) {
    const addr = s.addr + offset;
    write(addr, s.bytes);
    const size = s.memSize ?? s.bytes.length;
    if (size > s.bytes.length) write(addr + s.bytes.length, new Uint8Array(size - s.bytes.length));
    start = Math.min(start, addr);
    end = Math.max(end, addr + size);
  }
  return { start, end };
}

function parseElf(bytes: Uint8Array, name: string): Image {
  try {
    return readElf(bytes, name);
  } catch (e) {
    if (e instanceof ElfError) throw new BootError(e.message);
    throw e;
  }
}

function inRam(r: Region, ramSize: number): boolean {
  return r.start >= RAM_BASE && r.end <= RAM_BASE + ramSize;
}

function overlaps(a: Region, b: Region): boolean {
  return a.start < b.end && b.start < a.end;
}

function loadFirmware(files: BootFiles, write: Write): { region?: Region; reserve: boolean } {
  if (files.bios === "none" || files.bios === "external") return { reserve: false };
  if (files.bios === "default") {
    const image = buildFirmware({ ramSize: files.ramSize });
    const region = writeImage(image, 0, write);
    return { region: { start: RAM_BASE, end: RAM_BASE + firmwareFootprint(image) }, reserve: region.end > 0 };
  }
  const bytes = files.bios;
  if (isElf(bytes)) return { region: writeImage(parseElf(bytes, "--bios"), 0, write), reserve: false };
  write(RAM_BASE, bytes);
  return { region: { start: RAM_BASE, end: RAM_BASE + bytes.length }, reserve: false };
}

function loadKernel(
  files: BootFiles,
  kernelBase: number,
  write: Write,
): { region: Region; entry: number; format: "image" | "elf" } {
  const name = files.kernelName ?? "--kernel";
  const k = files.kernel;
  if (isElf(k)) {
    const image = parseElf(k, name);
    const low = Math.min(...image.sections.map((s) => s.addr));
    const high = Math.max(...image.sections.map((s) => s.addr + (s.memSize ?? s.bytes.length)));
    // A vmlinux is linked at PAGE_OFFSET: place it where its Image would go.
    const offset = inRam({ start: low, end: high }, files.ramSize) ? 0 : kernelBase - low;
    const region = writeImage(image, offset, write);
    return { region, entry: (image.entry + offset) >>> 0, format: "elf" };
  }
  const header = readImageHeader(k);
  if (!header)
    throw new BootError(`${name}: neither an ELF nor a RISC-V Image (no "RSC\\x05" magic at offset 56)`);
  write(kernelBase, k);
  return {
    region: { start: kernelBase, end: kernelBase + Math.max(header.imageSize, k.length) },
    entry: kernelBase,
    format: "image",
  };
}

/** The tree to use: the given DTB or the generated one, with /chosen set as QEMU sets it. */
function deviceTree(files: BootFiles, initrd: Region | undefined, firmware: Region | undefined): Uint8Array {
  let fdt: Fdt;
  if (files.dtb) {
    try {
      fdt = parseFdt(files.dtb);
    } catch (e) {
      if (e instanceof FdtError) throw new BootError(`--dtb: ${e.message}`);
      throw e;
    }
  } else {
    fdt = machineDeviceTree({
      ramSize: files.ramSize,
      firmwareReserved: firmware ? { start: firmware.start, size: firmware.end - firmware.start } : undefined,
    });
  }
  let chosen = fdtFind(fdt.root, "/chosen");
  if (!chosen) {
    chosen = fdtNode("chosen");
    fdt.root.children.unshift(chosen);
  }
  if (files.append !== undefined) chosen.props.set("bootargs", prop.str(files.append));
  if (initrd) {
    chosen.props.set("linux,initrd-start", prop.u32(initrd.start));
    chosen.props.set("linux,initrd-end", prop.u32(initrd.end));
  }
  return writeFdt(fdt);
}

/**
 * Lay out and write everything the boot needs; `write` stores bytes at a
 * physical address. Throws BootError (one line, for the user) when something
 * does not fit in RAM or regions collide.
 */
export function bootLayout(files: BootFiles, write: Write): BootLayout {
  const ramEnd = RAM_BASE + files.ramSize;
  const fw = loadFirmware(files, write);
  const kernelBase =
    files.bios === "none"
      ? RAM_BASE
      : Math.max(
          RAM_BASE + (readImageHeader(files.kernel)?.textOffset ?? RV32_IMAGE_ALIGN),
          alignUp(fw.region?.end ?? RAM_BASE, RV32_IMAGE_ALIGN),
        );
  const kernel = loadKernel(files, kernelBase, write);
  if (files.bios === "default" && kernel.entry !== DEFAULT_KERNEL_ADDR)
    writeImage(buildFirmware({ ramSize: files.ramSize, nextAddr: kernel.entry }), 0, write);
  if (!inRam(kernel.region, files.ramSize))
    throw new BootError(`the kernel does not fit in ${files.ramSize / MiB} MiB of RAM`);
  if (fw.region && overlaps(fw.region, kernel.region))
    throw new BootError("the firmware overlaps the kernel");

  let initrd: Region | undefined;
  if (files.initrd) {
    const start = kernel.region.start + Math.min(files.ramSize / 2, 128 * MiB);
    initrd = { start, end: start + files.initrd.length };
    if (!inRam(initrd, files.ramSize) || overlaps(initrd, kernel.region))
      throw new BootError(`--initrd: ${files.initrd.length} bytes do not fit at 0x${start.toString(16)}`);
    write(start, files.initrd);
  }

  const dtbBytes = deviceTree(files, initrd, fw.reserve ? fw.region : undefined);
  const dtbStart = alignDown(Math.min(ramEnd, 3072 * MiB) - dtbBytes.length, 2 * MiB);
  const dtb = { start: dtbStart, end: dtbStart + dtbBytes.length };
  for (const r of [kernel.region, initrd])
    if (r && overlaps(r, dtb))
      throw new BootError("the devicetree collides with the kernel or initrd: give more RAM");
  write(dtbStart, dtbBytes);

  return {
    resetPc: fw.region ? RAM_BASE : kernel.entry,
    kernelEntry: kernel.entry,
    kernel: kernel.region,
    firmware: fw.region,
    initrd,
    dtb,
    dtbBytes,
    kernelFormat: kernel.format,
  };
}

/**
 * Boot the bare machine: write the layout into RAM and set the reset state
 * (pc at the firmware, or at the kernel without one; M-mode; a0 = hart id 0,
 * a1 = DTB, a2 = 0: no fw_dynamic_info).
 */
export function bootMachine(machine: Machine, files: BootFiles): BootLayout {
  const hart = machine.hart;
  const layout = bootLayout(files, (addr, bytes) => hart.loadBytes(addr, bytes));
  hart.pc = layout.resetPc >>> 0;
  hart.x[10] = 0;
  hart.x[11] = layout.dtb.start | 0;
  hart.x[12] = 0;
  return layout;
}
