import { describe, expect, it } from "vitest";
import { Assembler } from "../src/asm/index.ts";
import { BootError, bootLayout, bootMachine, readImageHeader } from "../src/boot.ts";
import { writeElf } from "../src/elf.ts";
import { fdtFind, parseFdt, read } from "../src/fdt.ts";
import { Machine } from "../src/machine.ts";

const MiB = 2 ** 20;

/** A RISC-V Image (boot-image-header.rst) around flat code: code0/code1 jump over the 64-byte header. */
function riscvImage(code: Uint8Array, textOffset = 0x40_0000, imageSize = 0): Uint8Array {
  const out = new Uint8Array(64 + code.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x0400_006f, true); // j +64
  v.setBigUint64(8, BigInt(textOffset), true);
  v.setBigUint64(16, BigInt(imageSize || out.length), true);
  v.setUint32(32, 2, true); // header version 0.2
  out.set(new TextEncoder().encode("RISCV\0\0\0"), 48);
  out.set(new TextEncoder().encode("RSC\x05"), 56);
  out.set(code, 64);
  return out;
}

/** S-mode code, position independent: power off through SRST with reason = a0 != 0 (the hart id). */
function shutdownCode(): Uint8Array {
  const a = new Assembler({ text: 0 });
  a.asm(`
    mv    a1, a0
    li    a0, 0
    li    a6, 0
    li    a7, 0x53525354
    ecall
halt:
    j     halt
`);
  return a.assemble().sections[0].bytes;
}

function layoutOf(files: Parameters<typeof bootLayout>[0]) {
  const writes: Array<[number, number]> = [];
  const layout = bootLayout(files, (addr, bytes) => writes.push([addr, bytes.length]));
  return { layout, writes };
}

describe("the QEMU virt boot protocol", () => {
  it("reads the RISC-V Image header", () => {
    expect(readImageHeader(riscvImage(new Uint8Array(16), 0x40_0000, 0x1234_000))).toEqual({
      textOffset: 0x40_0000,
      imageSize: 0x1234_000,
    });
    expect(readImageHeader(new Uint8Array(100))).toBeUndefined();
  });

  it("places an Image at its text_offset after the firmware, the initrd at kernel + RAM/2, the DTB 2 MiB-aligned below RAM end", () => {
    const { layout } = layoutOf({
      kernel: riscvImage(new Uint8Array(1000), 0x40_0000, 6 * MiB),
      initrd: new Uint8Array(5000),
      append: "console=ttyS0",
      bios: "default",
      ramSize: 128 * MiB,
    });
    expect(layout.kernelFormat).toBe("image");
    expect(layout.kernel).toEqual({ start: 0x8040_0000, end: 0x8040_0000 + 6 * MiB });
    expect(layout.kernelEntry).toBe(0x8040_0000);
    expect(layout.resetPc).toBe(0x8000_0000);
    expect(layout.initrd).toEqual({ start: 0x8440_0000, end: 0x8440_0000 + 5000 });
    expect(layout.dtb.start).toBe(0x87e0_0000);
    const fdt = parseFdt(layout.dtbBytes);
    expect(read.str(fdtFind(fdt.root, "/chosen")?.props.get("bootargs") ?? new Uint8Array())).toBe(
      "console=ttyS0",
    );
    expect(read.u32(fdtFind(fdt.root, "/chosen")?.props.get("linux,initrd-start") ?? new Uint8Array())).toBe(
      0x8440_0000,
    );
    // Our firmware keeps its page out of the kernel's hands.
    expect(fdtFind(fdt.root, "/reserved-memory/firmware@80000000")?.props.has("no-map")).toBe(true);
  });

  it("with --bios none loads the kernel at the RAM base and starts it there, as QEMU does", () => {
    const { layout } = layoutOf({ kernel: riscvImage(new Uint8Array(64)), bios: "none", ramSize: 64 * MiB });
    expect(layout.kernel.start).toBe(0x8000_0000);
    expect(layout.resetPc).toBe(0x8000_0000);
    expect(layout.firmware).toBeUndefined();
    expect(layout.dtb.start).toBe(0x83e0_0000);
    expect(fdtFind(parseFdt(layout.dtbBytes).root, "/reserved-memory")).toBeUndefined();
  });

  it("keeps a given DTB and sets /chosen in it", () => {
    const first = layoutOf({ kernel: riscvImage(new Uint8Array(64)), bios: "none", ramSize: 64 * MiB });
    const { layout } = layoutOf({
      kernel: riscvImage(new Uint8Array(64)),
      dtb: first.layout.dtbBytes,
      append: "quiet",
      bios: "none",
      ramSize: 64 * MiB,
    });
    expect(
      read.str(fdtFind(parseFdt(layout.dtbBytes).root, "/chosen")?.props.get("bootargs") ?? new Uint8Array()),
    ).toBe("quiet");
  });

  it("places an ELF linked outside RAM (a vmlinux at PAGE_OFFSET) where its Image would go", () => {
    const code = shutdownCode();
    const elf = writeElf({
      entry: 0x1010,
      sections: [{ name: ".text", addr: 0x1000, bytes: code, flags: "rx" }],
      symbols: {},
    });
    const { layout } = layoutOf({ kernel: elf, bios: "default", ramSize: 64 * MiB });
    expect(layout.kernelFormat).toBe("elf");
    expect(layout.kernel.start).toBe(0x8040_0000);
    expect(layout.kernelEntry).toBe(0x8040_0010);
  });

  it("refuses what is not a kernel, and what does not fit, with one line", () => {
    expect(() => layoutOf({ kernel: new Uint8Array(200), bios: "default", ramSize: 64 * MiB })).toThrow(
      /neither an ELF nor a RISC-V Image/,
    );
    expect(() =>
      layoutOf({
        kernel: riscvImage(new Uint8Array(64), 0x40_0000, 80 * MiB),
        bios: "default",
        ramSize: 64 * MiB,
      }),
    ).toThrow(BootError);
    expect(() =>
      layoutOf({
        kernel: riscvImage(new Uint8Array(64)),
        initrd: new Uint8Array(40 * MiB),
        bios: "default",
        ramSize: 64 * MiB,
      }),
    ).toThrow(/--initrd/);
    expect(() =>
      layoutOf({
        kernel: riscvImage(new Uint8Array(64)),
        dtb: new Uint8Array(64),
        bios: "none",
        ramSize: 64 * MiB,
      }),
    ).toThrow(/--dtb/);
  });

  it("boots an Image through the firmware to an SRST power-off", () => {
    const m = new Machine({ ramSize: 64 * MiB });
    bootMachine(m, { kernel: riscvImage(shutdownCode()), bios: "default", ramSize: 64 * MiB });
    const r = m.run({ maxInstructions: 10_000 });
    expect(r.reason).toBe("exit");
    expect(r.exitCode).toBe(0); // a0 = hart id 0: reason "none"
    expect(r.stats.instructions.supervisor).toBeGreaterThan(0);
  });
});
