/**
 * Where an image's sections land on a board, checked before any byte is
 * copied: the one validation that every entry point loading an image calls
 * (Machine.load, the hypervisor's guests, the CLIs, the bench suites).
 *
 * It accepts what QEMU's `virt` loader accepts. QEMU copies each PT_LOAD
 * segment as a ROM blob into the address space, and bytes that land on no
 * memory region are dropped (hw/core/loader.c, rom_reset() writes through
 * address_space_write_rom(), which skips unassigned ranges). GNU ld's usual
 * bare-metal layout (`-Ttext=0x80000000` without a linker script) puts the
 * ELF and program headers in a first segment one page below RAM, at
 * 0x7ffff000; it maps nothing and is dropped, with a warning here. A
 * segment that overlaps a device would write device registers at load
 * time, which no loader means to do: that is an error, as is an entry point
 * outside RAM (the hart could never fetch its first instruction).
 */
import type { Image, Section } from "./image.ts";

/** A range of the physical bus: RAM (where images load) or a device. */
export interface BusRegion {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly kind: "ram" | "device";
}

/** An image that cannot be placed on this board; the message is one line. */
export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImageError";
  }
}

export interface Placement {
  /** The image with every section cut to the bytes that land in RAM (sections that land nowhere are gone). */
  readonly image: Image;
  /** One line per section that lost bytes, naming it, its range and how many bytes were dropped. */
  readonly warnings: readonly string[];
}

export interface PlacementOptions {
  /** Names the image in messages (a path). */
  source?: string;
  /** The address execution starts at, when it is not image.entry (the hypervisor's supervisor_entry). */
  entry?: number;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, "0")}`;

/** [start, end) of a section in memory, .bss included. */
function extent(s: Section): [number, number] {
  return [s.addr, s.addr + (s.memSize ?? s.bytes.length)];
}

function overlap(a0: number, a1: number, r: BusRegion): [number, number] | undefined {
  const lo = Math.max(a0, r.base);
  const hi = Math.min(a1, r.base + r.size);
  return lo < hi ? [lo, hi] : undefined;
}

/** The part of a section inside [lo, hi): its file bytes cut, its memory size kept consistent. */
function cut(s: Section, lo: number, hi: number): Section {
  const from = lo - s.addr;
  const bytes = s.bytes.subarray(Math.min(from, s.bytes.length), Math.min(hi - s.addr, s.bytes.length));
  const memSize = hi - lo;
  const base = { name: s.name, addr: lo, bytes, flags: s.flags };
  return memSize > bytes.length ? { ...base, memSize } : base;
}

/**
 * Places an image on a board described by its regions: returns the sections
 * cut to RAM and a warning for each section that lost bytes to unmapped
 * addresses; throws ImageError when a section overlaps a device or the entry
 * point is not in RAM.
 */
export function placeImage(
  image: Image,
  regions: readonly BusRegion[],
  opts: PlacementOptions = {},
): Placement {
  const who = opts.source ? `${opts.source}: ` : "";
  const ram = regions.filter((r) => r.kind === "ram");
  const sections: Section[] = [];
  const warnings: string[] = [];
  for (const s of image.sections) {
    const [start, end] = extent(s);
    if (start === end) continue;
    const range = `${hex(start)}-${hex(end - 1)}`;
    for (const d of regions.filter((r) => r.kind === "device")) {
      if (overlap(start, end, d)) {
        throw new ImageError(
          `${who}segment ${s.name} (${range}) overlaps the ${d.name} device at ${hex(d.base)}; an image must load into RAM`,
        );
      }
    }
    let kept = 0;
    for (const r of ram) {
      const o = overlap(start, end, r);
      if (!o) continue;
      sections.push(cut(s, o[0], o[1]));
      kept += o[1] - o[0];
    }
    const dropped = end - start - kept;
    if (dropped > 0) {
      warnings.push(
        kept === 0
          ? `${who}segment ${s.name} (${range}, ${dropped} bytes) maps no memory or device; dropped`
          : `${who}segment ${s.name} (${range}): ${dropped} of its ${end - start} bytes map no memory or device; dropped`,
      );
    }
  }
  const entry = (opts.entry ?? image.entry) >>> 0;
  if (!ram.some((r) => entry >= r.base && entry < r.base + r.size)) {
    const where = ram.map((r) => `${hex(r.base)}-${hex(r.base + r.size - 1)}`).join(", ");
    throw new ImageError(`${who}entry point ${hex(entry)} maps no memory (RAM is ${where})`);
  }
  return { image: { ...image, sections }, warnings };
}
