/**
 * placeImage, the one check every loader calls: sections are cut to RAM,
 * what maps nothing is dropped with a warning returned to the caller (the
 * library prints nothing), device overlaps and an entry outside RAM throw
 * ImageError with one line naming the segment or the address.
 */
import { describe, expect, it, vi } from "vitest";
import type { Image } from "../src/image.ts";
import { type BusRegion, ImageError, placeImage } from "../src/image-placement.ts";
import { Machine } from "../src/machine.ts";

const REGIONS: BusRegion[] = [
  { name: "RAM", base: 0x8000_0000, size: 0x10_0000, kind: "ram" },
  { name: "uart16550", base: 0x1000_0000, size: 0x100, kind: "device" },
];

const image = (...sections: Image["sections"]): Image => ({ entry: 0x8000_0000, sections, symbols: {} });
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe("placeImage", () => {
  it("keeps sections in RAM as they are, with no warning", () => {
    const img = image({ name: ".text", addr: 0x8000_0000, bytes: bytes(8), flags: "rx" });
    expect(placeImage(img, REGIONS)).toEqual({ image: img, warnings: [] });
  });

  it("cuts a section that starts below RAM and keeps its RAM part, .bss included", () => {
    const s = { name: "all", addr: 0x7fff_fff0, bytes: bytes(0x20), memSize: 0x40, flags: "rw" as const };
    const { image: out, warnings } = placeImage(image(s), REGIONS, { source: "x.elf" });
    expect(out.sections).toEqual([
      { name: "all", addr: 0x8000_0000, bytes: bytes(0x10), memSize: 0x30, flags: "rw" },
    ]);
    expect(warnings).toEqual([
      "x.elf: segment all (0x7ffffff0-0x8000002f): 16 of its 64 bytes map no memory or device; dropped",
    ]);
  });

  it("drops a section that maps nothing at all", () => {
    const s = { name: "hdr", addr: 0x7fff_f000, bytes: bytes(0x100), flags: "r" as const };
    const { image: out, warnings } = placeImage(
      image(s, { name: ".text", addr: 0x8000_0000, bytes: bytes(4), flags: "rx" }),
      REGIONS,
    );
    expect(out.sections.map((x) => x.name)).toEqual([".text"]);
    expect(warnings).toEqual([
      "segment hdr (0x7ffff000-0x7ffff0ff, 256 bytes) maps no memory or device; dropped",
    ]);
  });

  it("refuses a section over a device, and an entry point outside RAM (the hypervisor's entry too)", () => {
    const text = { name: ".text", addr: 0x8000_0000, bytes: bytes(4), flags: "rx" as const };
    expect(() =>
      placeImage(image(text, { name: "io", addr: 0x1000_00f0, bytes: bytes(0x20), flags: "rw" }), REGIONS),
    ).toThrow(
      new ImageError(
        "segment io (0x100000f0-0x1000010f) overlaps the uart16550 device at 0x10000000; an image must load into RAM",
      ),
    );
    expect(() => placeImage({ ...image(text), entry: 0x2000_0000 }, REGIONS)).toThrow(
      /entry point 0x20000000 maps no memory/,
    );
    expect(() => placeImage(image(text), REGIONS, { entry: 0x9000_0000 })).toThrow(/entry point 0x90000000/);
  });

  it("Machine.load returns the warnings and passes them to onWarning; it prints nothing itself", () => {
    const spy = vi.spyOn(process.stderr, "write");
    const seen: string[] = [];
    const m = new Machine({ ramSize: 1 << 20 });
    const warnings = m.load(
      image(
        { name: "hdr", addr: 0x7fff_f000, bytes: bytes(16), flags: "r" },
        { name: ".text", addr: 0x8000_0000, bytes: bytes(4), flags: "rx" },
      ),
      {
        onWarning: (w) => seen.push(w),
      },
    );
    expect(warnings).toHaveLength(1);
    expect(seen).toEqual(warnings);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });
});
