import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { ElfError, readElf, writeElf } from "../src/elf.ts";
import type { Image, Section } from "../src/image.ts";

const words = (ws: readonly number[]): Uint8Array => new Uint8Array(new Uint32Array(ws).buffer);

/** lui t0,0x100; li t1,0x5555; sw t1,0(t0); j . — tells the SiFive test device "pass". */
const PASS_PROGRAM = [0x001002b7, 0x00005337, 0x55530313, 0x0062a023, 0x0000006f];
/** Same, storing 0x33333: "fail" with exit code 3. */
const FAIL_3_PROGRAM = [0x001002b7, 0x00033337, 0x33330313, 0x0062a023, 0x0000006f];

function sampleImage(text: readonly number[] = PASS_PROGRAM): Image {
  return {
    entry: 0x8000_0000,
    sections: [
      { name: ".text", addr: 0x8000_0000, bytes: words(text), flags: "rx" },
      { name: ".data", addr: 0x8000_1000, bytes: new Uint8Array([1, 2, 3, 4]), flags: "rw" },
      { name: ".rodata", addr: 0x8000_2010, bytes: new Uint8Array([9, 8, 7]), flags: "r" },
      { name: ".bss", addr: 0x8000_3000, bytes: new Uint8Array(0), memSize: 64, flags: "rw" },
    ],
    symbols: {
      _start: 0x8000_0000,
      halt: 0x8000_0010,
      tohost: 0x8000_1000,
      fromhost: 0x8000_1004,
      begin_signature: 0x8000_2010,
      __bss_start: 0x8000_3000,
      STACK_SIZE: 0x1000,
    },
  };
}

/** Options for a file built field by field, independently of writeElf. */
interface RawElf {
  elfClass?: number;
  encoding?: number;
  type?: number;
  machine?: number;
  entry?: number;
  ptype?: number;
  vaddr?: number;
  paddr?: number;
  flags?: number;
  memsz?: number;
  code?: readonly number[];
}

/** ELF header + one program header + code; no section headers (as `strip` can leave an executable). */
function handBuiltElf(o: RawElf = {}): Uint8Array {
  const code = words(o.code ?? PASS_PROGRAM);
  const vaddr = o.vaddr ?? 0x8000_0000;
  const out = new Uint8Array(52 + 32 + code.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, o.elfClass ?? 1, o.encoding ?? 1, 1]);
  v.setUint16(16, o.type ?? 2, true);
  v.setUint16(18, o.machine ?? 243, true);
  v.setUint32(20, 1, true);
  v.setUint32(24, o.entry ?? vaddr, true);
  v.setUint32(28, 52, true); // e_phoff
  v.setUint16(40, 52, true); // e_ehsize
  v.setUint16(42, 32, true); // e_phentsize
  v.setUint16(44, 1, true); // e_phnum
  v.setUint16(46, 40, true); // e_shentsize
  const ph = [
    o.ptype ?? 1,
    84,
    vaddr,
    o.paddr ?? vaddr,
    code.length,
    o.memsz ?? code.length,
    o.flags ?? 5,
    4,
  ];
  ph.forEach((value, i) => {
    v.setUint32(52 + 4 * i, value, true);
  });
  out.set(code, 84);
  return out;
}

/** A minimal ELF64 header (64 bytes) for RISC-V, as an RV64 toolchain writes it. */
function elf64Header(): Uint8Array {
  const out = new Uint8Array(64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 2, true);
  v.setUint16(18, 243, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(24, 0x8000_0000n, true);
  return out;
}

function patched(bytes: Uint8Array, at: number, value: number, width: 1 | 2 | 4): Uint8Array {
  const copy = bytes.slice();
  const v = new DataView(copy.buffer);
  if (width === 1) v.setUint8(at, value);
  else if (width === 2) v.setUint16(at, value, true);
  else v.setUint32(at, value, true);
  return copy;
}

function errorOf(action: () => unknown): ElfError {
  try {
    action();
  } catch (e) {
    expect(e).toBeInstanceOf(ElfError);
    return e as ElfError;
  }
  throw new Error("expected an ElfError");
}

describe("writeElf then readElf", () => {
  it("gives back the image: sections, entry and symbols", () => {
    const image = sampleImage();
    expect(readElf(writeElf(image))).toEqual(image);
  });

  it("keeps a section whose memory size exceeds its bytes (data + bss tail)", () => {
    const image: Image = {
      entry: 0x8000_0000,
      sections: [
        { name: ".data", addr: 0x8000_0000, bytes: new Uint8Array([5, 6]), memSize: 0x100, flags: "rw" },
      ],
      symbols: {},
    };
    expect(readElf(writeElf(image))).toEqual(image);
  });

  it("keeps an empty section and unaligned, high addresses", () => {
    const image: Image = {
      entry: 0xffff_f000,
      sections: [
        { name: ".text", addr: 0xffff_f000, bytes: words([0x6f]), flags: "rx" },
        { name: ".empty", addr: 0x1003, bytes: new Uint8Array(0), flags: "r" },
      ],
      symbols: { top: 0xffff_fffc, odd: 0x1003 },
    };
    expect(readElf(writeElf(image))).toEqual(image);
  });

  it("round-trips arbitrary images", () => {
    const section = (i: number): fc.Arbitrary<Section> =>
      fc.record({
        name: fc.constantFrom(".text", ".data", ".rodata", ".bss", `.s${i}`),
        addr: fc.integer({ min: 0, max: 0xfff }).map((low) => 0x8000_0000 + i * 0x10_0000 + low),
        bytes: fc.uint8Array({ maxLength: 64 }),
        memSize: fc.option(fc.integer({ min: 65, max: 0x1000 }), { nil: undefined }),
        flags: fc.constantFrom("rx" as const, "rw" as const, "r" as const),
      });
    const image = fc.record({
      entry: fc.nat({ max: 0xffff_ffff }),
      sections: fc
        .integer({ min: 1, max: 5 })
        .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => section(i)))),
      symbols: fc.dictionary(
        fc.string({ minLength: 1 }).filter((s) => !s.includes("\0") && !s.startsWith("$")),
        fc.nat({ max: 0xffff_ffff }),
      ),
    });
    fc.assert(
      fc.property(image, (img) => {
        const back = readElf(writeElf(img));
        expect(back.entry).toBe(img.entry);
        expect(back.symbols).toEqual({ ...img.symbols });
        expect(back.sections).toEqual(img.sections);
      }),
    );
  });

  it("aligns each segment's file offset with its address modulo the 4 KiB page", () => {
    const file = writeElf(sampleImage());
    const v = new DataView(file.buffer);
    const phnum = v.getUint16(44, true);
    for (let i = 0; i < phnum; i++) {
      const at = 52 + 32 * i;
      const [offset, vaddr, paddr, align] = [4, 8, 12, 28].map((f) => v.getUint32(at + f, true));
      expect(paddr).toBe(vaddr);
      expect(align).toBe(0x1000);
      expect(offset % align).toBe(vaddr % align);
    }
  });

  it("writes an ELF32 little-endian ET_EXEC EM_RISCV header with e_flags 0", () => {
    const file = writeElf(sampleImage());
    const v = new DataView(file.buffer);
    expect([...file.subarray(0, 7)]).toEqual([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
    expect(v.getUint16(16, true)).toBe(2);
    expect(v.getUint16(18, true)).toBe(243);
    expect(v.getUint32(36, true)).toBe(0);
  });

  it("refuses an image without sections", () => {
    expect(() => writeElf({ entry: 0, sections: [], symbols: {} })).toThrow(ElfError);
  });

  it("refuses a section that runs past 4 GiB", () => {
    const image: Image = {
      entry: 0,
      sections: [{ name: ".bss", addr: 0xffff_ff00, bytes: new Uint8Array(0), memSize: 0x200, flags: "rw" }],
      symbols: {},
    };
    expect(errorOf(() => writeElf(image)).message).toMatch(/\.bss .*32-bit address space/);
  });
});

describe("readElf on a hand-built file", () => {
  it("loads the single PT_LOAD as load0 with its flags, entry and no symbols", () => {
    const image = readElf(handBuiltElf());
    expect(image).toEqual({
      entry: 0x8000_0000,
      sections: [{ name: "load0", addr: 0x8000_0000, bytes: words(PASS_PROGRAM), flags: "rx" }],
      symbols: {},
    });
  });

  it("maps p_flags to section flags (X wins over W)", () => {
    const flagsOf = (pFlags: number) => readElf(handBuiltElf({ flags: pFlags })).sections[0].flags;
    expect(flagsOf(4 | 1)).toBe("rx");
    expect(flagsOf(4 | 2 | 1)).toBe("rx");
    expect(flagsOf(4 | 2)).toBe("rw");
    expect(flagsOf(4)).toBe("r");
  });

  it("reports p_memsz beyond p_filesz as memSize", () => {
    const section = readElf(handBuiltElf({ memsz: 0x1000 })).sections[0];
    expect(section.memSize).toBe(0x1000);
    expect(section.bytes.length).toBe(20);
  });

  it("loads at p_paddr and moves the entry into the physical range, like QEMU", () => {
    const image = readElf(handBuiltElf({ vaddr: 0xc000_0000, paddr: 0x8020_0000, entry: 0xc000_0008 }));
    expect(image.sections[0].addr).toBe(0x8020_0000);
    expect(image.entry).toBe(0x8020_0008);
  });

  it("reads from a view into a larger buffer", () => {
    const file = handBuiltElf();
    const padded = new Uint8Array(file.length + 7);
    padded.set(file, 7);
    expect(readElf(padded.subarray(7))).toEqual(readElf(file));
  });
});

describe("readElf errors", () => {
  it("rejects a file without the ELF magic", () => {
    expect(errorOf(() => readElf(new TextEncoder().encode("#!/bin/sh\n"), "run.sh")).message).toBe(
      "run.sh: not an ELF file (bad magic; expected \\x7fELF)",
    );
    expect(errorOf(() => readElf(new Uint8Array(0))).message).toMatch(/^<buffer>: not an ELF file/);
  });

  it("rejects a 64-bit ELF", () => {
    expect(errorOf(() => readElf(elf64Header(), "rv64.elf")).message).toBe(
      "rv64.elf: is a 64-bit ELF (ELFCLASS64); shadowlab runs RV32 images",
    );
  });

  it("rejects a big-endian ELF", () => {
    expect(errorOf(() => readElf(handBuiltElf({ encoding: 2 }), "be.elf")).message).toBe(
      "be.elf: is a big-endian ELF (ELFDATA2MSB); RISC-V images are little-endian",
    );
  });

  it("rejects invalid class and encoding bytes", () => {
    expect(errorOf(() => readElf(handBuiltElf({ elfClass: 0 }))).message).toMatch(/invalid ELF class 0/);
    expect(errorOf(() => readElf(handBuiltElf({ encoding: 9 }))).message).toMatch(
      /invalid ELF data encoding 9/,
    );
  });

  it("names the machine of a non-RISC-V ELF", () => {
    expect(errorOf(() => readElf(handBuiltElf({ machine: 62 }), "a.out")).message).toBe(
      "a.out: is not a RISC-V ELF: e_machine 62 (x86-64), expected 243 (EM_RISCV)",
    );
    expect(errorOf(() => readElf(handBuiltElf({ machine: 40 }))).message).toMatch(/e_machine 40 \(ARM\)/);
    expect(errorOf(() => readElf(handBuiltElf({ machine: 999 }))).message).toMatch(/an unknown machine/);
  });

  it("rejects object files and shared objects, saying what they are", () => {
    expect(errorOf(() => readElf(handBuiltElf({ type: 1 }), "crt0.o")).message).toBe(
      "crt0.o: is not an executable: e_type 1 (ET_REL, a relocatable object; link it first)",
    );
    expect(errorOf(() => readElf(handBuiltElf({ type: 3 }))).message).toMatch(/e_type 3 \(ET_DYN/);
  });

  it("rejects a file with no PT_LOAD segment", () => {
    expect(errorOf(() => readElf(handBuiltElf({ ptype: 4 }), "notes.elf")).message).toBe(
      "notes.elf: has no PT_LOAD segment, so there is nothing to load",
    );
  });

  it("rejects p_filesz > p_memsz", () => {
    expect(errorOf(() => readElf(handBuiltElf({ memsz: 4 }))).message).toMatch(
      /PT_LOAD segment 0 has p_filesz 20 > p_memsz 4/,
    );
  });

  it("rejects a segment that runs past 4 GiB", () => {
    expect(errorOf(() => readElf(handBuiltElf({ vaddr: 0xffff_fff0 }))).message).toMatch(/runs past 4 GiB/);
  });

  it("rejects a truncated ELF header, header tables and segment data", () => {
    const file = handBuiltElf();
    expect(errorOf(() => readElf(file.subarray(0, 10), "short")).message).toMatch(
      /^short: truncated ELF: ELF identification/,
    );
    expect(errorOf(() => readElf(file.subarray(0, 40), "short")).message).toBe(
      "short: truncated ELF: ELF header (offset 0x0, 52 bytes) extends past the end of the file (40 bytes)",
    );
    expect(errorOf(() => readElf(file.subarray(0, 60))).message).toMatch(
      /program header table \(1 entries\)/,
    );
    expect(errorOf(() => readElf(file.subarray(0, 90))).message).toMatch(/PT_LOAD segment 0 \(offset 0x54/);
    const written = writeElf(sampleImage());
    expect(errorOf(() => readElf(written.subarray(0, written.length - 1))).message).toMatch(
      /section header table/,
    );
  });

  it("rejects header tables with foreign entry sizes and out-of-range offsets", () => {
    const file = handBuiltElf();
    expect(errorOf(() => readElf(patched(file, 42, 56, 2))).message).toMatch(
      /program header entries of 56 bytes; ELF32 uses 32/,
    );
    expect(errorOf(() => readElf(patched(file, 28, 0xffff_fff0, 4))).message).toMatch(/truncated ELF/);
  });

  it("throws only ElfError for every truncation of a written file", () => {
    const file = writeElf(sampleImage());
    for (let length = 0; length < file.length; length += 7) {
      expect(() => readElf(file.subarray(0, length))).toThrow(ElfError);
    }
  });

  it("rejects a symbol name that is not NUL-terminated", () => {
    const file = writeElf(sampleImage());
    const v = new DataView(file.buffer);
    const shoff = v.getUint32(32, true);
    const symtab = shoff + 5 * 40; // header index 5: after the null section and the four image sections
    expect(v.getUint32(symtab + 4, true)).toBe(2); // SHT_SYMTAB
    const firstSymbol = v.getUint32(symtab + 16, true) + 16;
    expect(errorOf(() => readElf(patched(file, firstSymbol, 0x7fff_0000, 4))).message).toMatch(
      /symbol name at string table index \d+ is not terminated/,
    );
  });
});

// ------------------------------------------------ external tools, optional --

function hasTool(name: string): boolean {
  return spawnSync(name, ["--version"], { stdio: "ignore" }).status === 0;
}

const READELF = "riscv64-unknown-elf-readelf";
const OBJDUMP = "riscv64-unknown-elf-objdump";
const AS = "riscv64-unknown-elf-as";
const LD = "riscv64-unknown-elf-ld";
const QEMU = "qemu-system-riscv32";
const haveBinutils = hasTool(READELF) && hasTool(OBJDUMP);
const haveAssembler = hasTool(AS) && hasTool(LD);
const haveQemu = hasTool(QEMU);
const work = mkdtempSync(join(tmpdir(), "shadowlab-elf-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function writeTemp(name: string, bytes: Uint8Array | string): string {
  const path = join(work, name);
  writeFileSync(path, bytes);
  return path;
}

describe("interoperability with GNU binutils", () => {
  it.skipIf(!haveBinutils)(
    "readelf accepts a written file without warnings and lists its symbols (needs binutils-riscv64-unknown-elf)",
    () => {
      const path = writeTemp("written.elf", writeElf(sampleImage()));
      const result = spawnSync(READELF, ["-W", "-h", "-l", "-S", "-s", path], { encoding: "utf8" });
      expect(result.status).toBe(0);
      expect(result.stderr).toBe("");
      expect(result.stdout).toMatch(/Type:\s+EXEC/);
      expect(result.stdout).toMatch(/Machine:\s+RISC-V/);
      expect(result.stdout).toMatch(/\.text\s+PROGBITS\s+80000000 001000 000014 00\s+AX/);
      expect(result.stdout).toMatch(/\.bss\s+NOBITS\s+80003000/);
      expect(result.stdout).toMatch(/LOAD\s+0x001000 0x80000000 0x80000000 0x00014 0x00014 R E 0x1000/);
      for (const name of Object.keys(sampleImage().symbols)) {
        expect(result.stdout).toMatch(new RegExp(`GLOBAL DEFAULT\\s+\\S+ ${name}$`, "m"));
      }
      expect(result.stdout).toMatch(/00001000\s+0 NOTYPE\s+GLOBAL DEFAULT\s+ABS STACK_SIZE/);
    },
  );

  it.skipIf(!haveBinutils)(
    "objdump -d disassembles the written text section with its labels (needs binutils-riscv64-unknown-elf)",
    () => {
      const path = writeTemp("disasm.elf", writeElf(sampleImage()));
      const listing = execFileSync(OBJDUMP, ["-d", path], { encoding: "utf8" });
      expect(listing).toMatch(/file format elf32-littleriscv/);
      expect(listing).toMatch(/80000000 <_start>:\n80000000:\s+001002b7\s+lui\s+t0,0x100/);
      expect(listing).toMatch(/80000010 <halt>:\n80000010:\s+0000006f\s+j\s+80000010 <halt>/);
    },
  );

  it.skipIf(!haveAssembler)("reads a riscv-tests style executable linked by GNU ld (needs as and ld)", () => {
    const source = writeTemp(
      "test.S",
      [
        '.section .text.init, "ax"',
        ".globl _start",
        "_start: j reset_vector",
        "reset_vector: lui t0, 0x100",
        '.section .tohost, "aw", @progbits',
        ".align 6",
        "tohost: .dword 0",
        "fromhost: .dword 0",
        ".text",
        "trap: j trap",
        ".data",
        "begin_signature: .word 0xdeadbeef",
        "end_signature:",
        "",
      ].join("\n"),
    );
    const script = writeTemp(
      "link.ld",
      `OUTPUT_ARCH("riscv") ENTRY(_start) SECTIONS {
         . = 0x80000000; .text.init : { *(.text.init) }
         . = ALIGN(0x1000); .tohost : { *(.tohost) }
         . = ALIGN(0x1000); .text : { *(.text) }
         . = ALIGN(0x1000); .data : { *(.data) }
         .bss : { *(.bss) } _end = .; }`,
    );
    const object = join(work, "test.o");
    const exe = join(work, "test.elf");
    execFileSync(AS, ["-march=rv32ima", "-mabi=ilp32", source, "-o", object]);
    execFileSync(LD, ["-m", "elf32lriscv", "-T", script, "--no-warn-rwx-segments", object, "-o", exe]);
    const image = readElf(readFileSync(exe), exe);
    expect(image.entry).toBe(0x8000_0000);
    expect(image.symbols).toMatchObject({
      _start: 0x8000_0000,
      reset_vector: 0x8000_0004,
      tohost: 0x8000_1000,
      fromhost: 0x8000_1008,
      trap: 0x8000_2000,
      begin_signature: 0x8000_3000,
      end_signature: 0x8000_3004,
    });
    expect(Object.keys(image.symbols).some((name) => name.startsWith("$"))).toBe(false);
    const text = image.sections.find((s) => s.addr === 0x8000_0000);
    expect(text?.name).toMatch(/^\.text\.init/);
    expect(text?.flags).toBe("rx");
    const loaded = image.sections.flatMap((s) => s.name.split("+"));
    expect(loaded).toEqual(expect.arrayContaining([".text.init", ".tohost", ".text", ".data"]));
  });
});

describe("loading by QEMU", () => {
  const runOnQemu = (image: Image): number | null => {
    const path = writeTemp("qemu.elf", writeElf(image));
    const args = ["-machine", "virt", "-bios", "none", "-kernel", path, "-nographic", "-monitor", "none"];
    return spawnSync(QEMU, [...args, "-serial", "null"], { timeout: 120_000, stdio: "ignore" }).status;
  };

  it.skipIf(!haveQemu)(
    "runs a written file with -bios none -kernel to a pass exit (needs qemu-system-riscv32)",
    () => {
      expect(runOnQemu(sampleImage(PASS_PROGRAM))).toBe(0);
    },
  );

  it.skipIf(!haveQemu)("runs a written file to a fail exit with code 3 (needs qemu-system-riscv32)", () => {
    expect(runOnQemu(sampleImage(FAIL_3_PROGRAM))).toBe(3);
  });
});
