import type { Image, Section } from "./image.ts";

/**
 * ELF32 little-endian RISC-V executables: a reader that turns PT_LOAD segments
 * into an Image, and a writer that produces a file binutils and QEMU accept.
 * Layouts and constants come from the System V gABI ("Object Files" chapter)
 * and the RISC-V ELF psABI.
 */

/** A malformed or unsupported ELF file; the message is one line naming the source. */
export class ElfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ElfError";
  }
}

// e_ident
const MAGIC = [0x7f, 0x45, 0x4c, 0x46]; // "\x7fELF"
const EI_NIDENT = 16;
const EI_CLASS = 4;
const EI_DATA = 5;
const EI_VERSION = 6;
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELFDATA2MSB = 2;
const EV_CURRENT = 1;

// e_type, e_machine
const ET_EXEC = 2;
const EM_RISCV = 243;

// ELF32 record sizes
const EHDR_SIZE = 52;
const PHDR_SIZE = 32;
const SHDR_SIZE = 40;
const SYM_SIZE = 16;

const PT_LOAD = 1;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;

const SHT_NULL = 0;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_NOBITS = 8;
const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;

const SHN_UNDEF = 0;
const SHN_ABS = 0xfff1;
const SHN_COMMON = 0xfff2;

const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const STT_NOTYPE = 0;
const STT_OBJECT = 1;
const STT_FUNC = 2;

/** Segment alignment of written files: one page, as GNU ld uses for RISC-V. */
const PAGE = 0x1000;
const ADDRESS_SPACE = 2 ** 32;

const E_TYPE_NAMES: Record<number, string> = {
  0: "ET_NONE, no file type",
  1: "ET_REL, a relocatable object; link it first",
  3: "ET_DYN, a shared object or PIE; link with -static -no-pie",
  4: "ET_CORE, a core dump",
};

const MACHINE_NAMES: Record<number, string> = {
  0: "no machine",
  3: "x86",
  8: "MIPS",
  20: "PowerPC",
  21: "PowerPC64",
  40: "ARM",
  62: "x86-64",
  183: "AArch64",
  258: "LoongArch",
};

const hex = (n: number): string => `0x${n.toString(16)}`;
const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

// ---------------------------------------------------------------- reading --

interface FileHeader {
  readonly type: number;
  readonly machine: number;
  readonly entry: number;
  readonly phoff: number;
  readonly shoff: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly shentsize: number;
  readonly shnum: number;
  readonly shstrndx: number;
}

interface ProgramHeader {
  readonly type: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly paddr: number;
  readonly filesz: number;
  readonly memsz: number;
  readonly flags: number;
}

interface SectionHeader {
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly entsize: number;
}

/**
 * Reads an ELF32 little-endian RISC-V executable. Each PT_LOAD segment becomes
 * one section, loaded at p_paddr as QEMU's load_elf() does for `-kernel` and
 * `-bios` (riscv-tests and most bare-metal link scripts have p_paddr ==
 * p_vaddr anyway). The entry point is translated from virtual to physical the
 * way QEMU does it: only when it lies in an executable segment whose p_vaddr
 * and p_paddr differ. Symbol values are kept as linked (virtual addresses).
 *
 * A segment is named after the allocated sections it holds, joined with "+"
 * when there are several (".text.init+.tohost+.text"), or "load<i>" (i = its
 * index among PT_LOAD headers) when the file has no section headers for it.
 * Flags: PF_X gives "rx" (even when PF_W is also set, as in single-segment
 * linker scripts), else PF_W gives "rw", else "r".
 */
export function readElf(bytes: Uint8Array, source = "<buffer>"): Image {
  return new ElfParser(bytes, source).image();
}

class ElfParser {
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  image(): Image {
    this.checkIdentification();
    const header = this.readFileHeader();
    const sectionHeaders = this.readSectionHeaders(header);
    const loads = this.readProgramHeaders(header).filter((ph) => ph.type === PT_LOAD);
    if (loads.length === 0) this.fail("has no PT_LOAD segment, so there is nothing to load");
    return {
      entry: physicalEntry(header.entry, loads),
      sections: loads.map((ph, i) => this.segmentToSection(ph, i, sectionHeaders)),
      symbols: this.readSymbols(sectionHeaders),
    };
  }

  private fail(problem: string): never {
    throw new ElfError(`${this.source}: ${problem}`);
  }

  private requireRange(offset: number, length: number, what: string): void {
    if (offset + length <= this.bytes.length) return;
    this.fail(
      `truncated ELF: ${what} (offset ${hex(offset)}, ${length} bytes) extends past the end of the file (${this.bytes.length} bytes)`,
    );
  }

  private u16(offset: number): number {
    return this.view.getUint16(offset, true);
  }

  private u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }

  /** e_ident: magic, class, data encoding (gABI "ELF Identification"). */
  private checkIdentification(): void {
    const b = this.bytes;
    if (b.length < MAGIC.length || MAGIC.some((m, i) => b[i] !== m)) {
      this.fail("not an ELF file (bad magic; expected \\x7fELF)");
    }
    this.requireRange(0, EI_NIDENT, "ELF identification");
    const elfClass = b[EI_CLASS];
    if (elfClass === ELFCLASS64) {
      this.fail("is a 64-bit ELF (ELFCLASS64); shadowlab runs RV32 images");
    }
    if (elfClass !== ELFCLASS32) this.fail(`has an invalid ELF class ${elfClass}`);
    const encoding = b[EI_DATA];
    if (encoding === ELFDATA2MSB) {
      this.fail("is a big-endian ELF (ELFDATA2MSB); RISC-V images are little-endian");
    }
    if (encoding !== ELFDATA2LSB) this.fail(`has an invalid ELF data encoding ${encoding}`);
  }

  private readFileHeader(): FileHeader {
    this.requireRange(0, EHDR_SIZE, "ELF header");
    const header: FileHeader = {
      type: this.u16(16),
      machine: this.u16(18),
      entry: this.u32(24),
      phoff: this.u32(28),
      shoff: this.u32(32),
      phentsize: this.u16(42),
      phnum: this.u16(44),
      shentsize: this.u16(46),
      shnum: this.u16(48),
      shstrndx: this.u16(50),
    };
    if (header.machine !== EM_RISCV) {
      const machine = MACHINE_NAMES[header.machine] ?? "an unknown machine";
      this.fail(
        `is not a RISC-V ELF: e_machine ${header.machine} (${machine}), expected ${EM_RISCV} (EM_RISCV)`,
      );
    }
    if (header.type !== ET_EXEC) {
      const kind = E_TYPE_NAMES[header.type] ?? "unknown type";
      this.fail(`is not an executable: e_type ${header.type} (${kind})`);
    }
    return header;
  }

  /** Checks that a header table lies in the file and has ELF32-sized entries. */
  private checkTable(offset: number, count: number, entsize: number, expected: number, what: string): void {
    if (count === 0) return;
    if (entsize !== expected) this.fail(`has ${what} entries of ${entsize} bytes; ELF32 uses ${expected}`);
    this.requireRange(offset, count * entsize, `${what} table (${count} entries)`);
  }

  private readProgramHeaders(h: FileHeader): ProgramHeader[] {
    this.checkTable(h.phoff, h.phnum, h.phentsize, PHDR_SIZE, "program header");
    return Array.from({ length: h.phnum }, (_, i) => {
      const at = h.phoff + i * PHDR_SIZE;
      return {
        type: this.u32(at),
        offset: this.u32(at + 4),
        vaddr: this.u32(at + 8),
        paddr: this.u32(at + 12),
        filesz: this.u32(at + 16),
        memsz: this.u32(at + 20),
        flags: this.u32(at + 24),
      };
    });
  }

  /** Section headers are optional in an executable (e_shoff 0 when stripped of them). */
  private readSectionHeaders(h: FileHeader): SectionHeader[] {
    if (h.shoff === 0) return [];
    this.checkTable(h.shoff, h.shnum, h.shentsize, SHDR_SIZE, "section header");
    const raw = Array.from({ length: h.shnum }, (_, i) => {
      const at = h.shoff + i * SHDR_SIZE;
      return {
        nameOffset: this.u32(at),
        type: this.u32(at + 4),
        flags: this.u32(at + 8),
        addr: this.u32(at + 12),
        offset: this.u32(at + 16),
        size: this.u32(at + 20),
        link: this.u32(at + 24),
        entsize: this.u32(at + 36),
      };
    });
    const names = h.shstrndx === SHN_UNDEF ? undefined : raw[h.shstrndx];
    return raw.map(({ nameOffset, ...rest }) => ({
      ...rest,
      name: names ? this.readString(names, nameOffset, "section name") : "",
    }));
  }

  /** The section's file contents, bounds-checked. */
  private sectionData(sh: { offset: number; size: number }, what: string): Uint8Array {
    this.requireRange(sh.offset, sh.size, what);
    return this.bytes.subarray(sh.offset, sh.offset + sh.size);
  }

  /** A NUL-terminated string at `index` in a string table section. */
  private readString(table: { offset: number; size: number }, index: number, what: string): string {
    const data = this.sectionData(table, "string table");
    const end = data.indexOf(0, index);
    if (end < 0) this.fail(`${what} at string table index ${index} is not terminated`);
    return utf8Decoder.decode(data.subarray(index, end));
  }

  private segmentToSection(ph: ProgramHeader, index: number, sectionHeaders: SectionHeader[]): Section {
    const what = `PT_LOAD segment ${index}`;
    this.requireRange(ph.offset, ph.filesz, what);
    if (ph.filesz > ph.memsz) this.fail(`${what} has p_filesz ${ph.filesz} > p_memsz ${ph.memsz}`);
    if (ph.paddr + ph.memsz > ADDRESS_SPACE) this.fail(`${what} at ${hex(ph.paddr)} runs past 4 GiB`);
    const base = {
      name: segmentName(ph, sectionHeaders) ?? `load${index}`,
      addr: ph.paddr,
      bytes: this.bytes.slice(ph.offset, ph.offset + ph.filesz),
      flags: segmentFlags(ph.flags),
    };
    return ph.memsz > ph.filesz ? { ...base, memSize: ph.memsz } : base;
  }

  /**
   * Named, defined symbols of the kinds that label addresses: functions,
   * objects and untyped labels (which is what `tohost` and friends are in
   * assembly). Globals win over locals of the same name; otherwise the first
   * definition wins.
   */
  private readSymbols(sectionHeaders: SectionHeader[]): Record<string, number> {
    const found = new Map<string, { value: number; global: boolean }>();
    for (const symtab of sectionHeaders.filter((sh) => sh.type === SHT_SYMTAB)) {
      for (const symbol of this.symbolsOf(symtab, sectionHeaders)) {
        const previous = found.get(symbol.name);
        if (!previous || (symbol.global && !previous.global)) found.set(symbol.name, symbol);
      }
    }
    return Object.fromEntries([...found].map(([name, { value }]) => [name, value]));
  }

  /** The address-labelling entries of one SHT_SYMTAB section, in table order. */
  private *symbolsOf(
    symtab: SectionHeader,
    sectionHeaders: SectionHeader[],
  ): Generator<{ name: string; value: number; global: boolean }> {
    if (symtab.entsize !== SYM_SIZE) {
      this.fail(`has .symtab entries of ${symtab.entsize} bytes; ELF32 uses ${SYM_SIZE}`);
    }
    const strtab = sectionHeaders[symtab.link];
    if (!strtab) this.fail(`.symtab links to missing string table section ${symtab.link}`);
    const data = this.sectionData(symtab, "symbol table");
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    // Entry 0 is the reserved undefined symbol (gABI "Symbol Table").
    for (let at = SYM_SIZE; at + SYM_SIZE <= data.length; at += SYM_SIZE) {
      const info = view.getUint8(at + 12);
      if (!isAddressLabel(info, view.getUint16(at + 14, true))) continue;
      const name = this.readString(strtab, view.getUint32(at, true), "symbol name");
      if (!isUserSymbolName(name)) continue;
      yield { name, value: view.getUint32(at + 4, true), global: info >> 4 !== STB_LOCAL };
    }
  }
}

/** QEMU load_elf(): e_entry is virtual; move it into the text segment's physical range. */
function physicalEntry(entry: number, loads: readonly ProgramHeader[]): number {
  const text = loads.find(
    (ph) => ph.flags & PF_X && ph.vaddr !== ph.paddr && entry >= ph.vaddr && entry < ph.vaddr + ph.filesz,
  );
  return text ? (entry - text.vaddr + text.paddr) >>> 0 : entry;
}

function segmentFlags(pFlags: number): Section["flags"] {
  if (pFlags & PF_X) return "rx";
  return pFlags & PF_W ? "rw" : "r";
}

/**
 * Names of the allocated sections inside a segment (matched by virtual
 * address, which is what sh_addr holds). Empty sections only name empty
 * segments, so a zero-sized section at a boundary does not leak into a name.
 */
function segmentName(ph: ProgramHeader, sectionHeaders: readonly SectionHeader[]): string | undefined {
  const inside = sectionHeaders.filter(
    (sh) =>
      sh.type !== SHT_NULL &&
      sh.flags & SHF_ALLOC &&
      sh.addr >= ph.vaddr &&
      sh.addr + sh.size <= ph.vaddr + ph.memsz &&
      (sh.size > 0 || ph.memsz === 0),
  );
  return inside.length > 0 ? inside.map((sh) => sh.name).join("+") : undefined;
}

function isAddressLabel(info: number, shndx: number): boolean {
  const type = info & 0xf;
  const labels = type === STT_NOTYPE || type === STT_OBJECT || type === STT_FUNC;
  // COMMON symbols hold an alignment, not an address.
  return labels && shndx !== SHN_UNDEF && shndx !== SHN_COMMON;
}

/** Skips the unnamed symbol and RISC-V mapping symbols ("$x", "$d", "$xrv32i2p1", psABI). */
function isUserSymbolName(name: string): boolean {
  return name !== "" && !name.startsWith("$");
}

// ---------------------------------------------------------------- writing --

/** Accumulates NUL-terminated strings; offset 0 is the empty string (gABI "String Table"). */
class StringTable {
  private readonly parts: Uint8Array[] = [new Uint8Array(1)];
  private length = 1;

  add(text: string): number {
    const offset = this.length;
    const encoded = utf8Encoder.encode(`${text}\0`);
    this.parts.push(encoded);
    this.length += encoded.length;
    return offset;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

interface SectionRecord {
  readonly name: number;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
}

const NULL_SECTION: SectionRecord = {
  name: 0,
  type: SHT_NULL,
  flags: 0,
  addr: 0,
  offset: 0,
  size: 0,
  link: 0,
  info: 0,
  addralign: 0,
  entsize: 0,
};

const memorySize = (s: Section): number => Math.max(s.bytes.length, s.memSize ?? 0);
const align4 = (n: number): number => (n + 3) & ~3;

/** The first file offset >= `cursor` congruent to `addr` modulo PAGE (gABI: p_offset % p_align == p_vaddr % p_align). */
const congruentOffset = (cursor: number, addr: number): number =>
  cursor + ((((addr - cursor) % PAGE) + PAGE) % PAGE);

/**
 * Writes an ELF32 ET_EXEC EM_RISCV file (e_flags 0: no RVC, soft-float ABI).
 * Layout: ELF header, program headers, one page-congruent PT_LOAD per image
 * section (p_vaddr = p_paddr = addr), then .symtab, .strtab, .shstrtab and the
 * section header table. Section headers mirror the image sections (.text-like
 * "rx" as PROGBITS AX, "rw" as WA, "r" as A; a section with no bytes but a
 * memory size as NOBITS), so objdump can disassemble the result. Every image
 * symbol is written as STT_NOTYPE/STB_GLOBAL in the section containing it,
 * else SHN_ABS. readElf(writeElf(image)) gives back the image (memSize only
 * where it exceeds the bytes).
 */
export function writeElf(image: Image): Uint8Array {
  checkWritable(image);
  const { offsets, end } = placeSegments(image.sections);
  const { records, tables, shoff } = placeTables(image, offsets, end);
  const out = new Uint8Array(shoff + records.length * SHDR_SIZE);
  const view = new DataView(out.buffer);
  writeFileHeader(view, { entry: image.entry, phnum: image.sections.length, shoff, shnum: records.length });
  image.sections.forEach((s, i) => {
    writeProgramHeader(view, EHDR_SIZE + i * PHDR_SIZE, s, offsets[i]);
    out.set(s.bytes, offsets[i]);
  });
  for (const table of tables) out.set(table.bytes, table.offset);
  records.forEach((r, i) => {
    writeSectionHeader(view, shoff + i * SHDR_SIZE, r);
  });
  return out;
}

/** File offsets of the section contents, right after the program headers. */
function placeSegments(sections: readonly Section[]): { offsets: number[]; end: number } {
  let cursor = EHDR_SIZE + sections.length * PHDR_SIZE;
  const offsets = sections.map((s) => {
    const offset = congruentOffset(cursor, s.addr);
    cursor = offset + s.bytes.length;
    return offset;
  });
  return { offsets, end: cursor };
}

/**
 * Section header records (null, image sections, .symtab, .strtab, .shstrtab)
 * and the non-loaded tables placed after the segment data, from `start`.
 */
function placeTables(
  image: Image,
  offsets: readonly number[],
  start: number,
): { records: SectionRecord[]; tables: { offset: number; bytes: Uint8Array }[]; shoff: number } {
  const sectionNames = new StringTable();
  const symbolNames = new StringTable();
  const records = [
    NULL_SECTION,
    ...image.sections.map((s, i) => imageSectionRecord(s, offsets[i], sectionNames.add(s.name))),
  ];
  const symtab = symbolTable(Object.entries(image.symbols), image.sections, symbolNames);
  const strtabIndex = records.length + 1;
  const unplaced: { record: SectionRecord; bytes: Uint8Array }[] = [
    {
      record: {
        ...NULL_SECTION,
        name: sectionNames.add(".symtab"),
        type: SHT_SYMTAB,
        link: strtabIndex,
        info: 1, // index of the first non-local symbol: every written symbol is global
        addralign: 4,
        entsize: SYM_SIZE,
      },
      bytes: symtab,
    },
    { record: stringTableRecord(sectionNames.add(".strtab")), bytes: symbolNames.bytes() },
  ];
  // .shstrtab holds its own name, so its bytes are taken after that name is added.
  const shstrtab = stringTableRecord(sectionNames.add(".shstrtab"));
  unplaced.push({ record: shstrtab, bytes: sectionNames.bytes() });

  let cursor = align4(start);
  const tables = unplaced.map(({ record, bytes }) => {
    records.push({ ...record, offset: cursor, size: bytes.length });
    const placed = { offset: cursor, bytes };
    cursor += bytes.length;
    return placed;
  });
  return { records, tables, shoff: align4(cursor) };
}

function checkWritable(image: Image): void {
  if (image.sections.length === 0) {
    throw new ElfError("writeElf: the image has no sections; an executable needs at least one PT_LOAD");
  }
  for (const s of image.sections) {
    if (!Number.isInteger(s.addr) || s.addr < 0 || s.addr + memorySize(s) > ADDRESS_SPACE) {
      throw new ElfError(`writeElf: section ${s.name} at ${s.addr} does not fit the 32-bit address space`);
    }
  }
}

function writeFileHeader(
  view: DataView,
  h: { entry: number; phnum: number; shoff: number; shnum: number },
): void {
  new Uint8Array(view.buffer).set(MAGIC);
  view.setUint8(EI_CLASS, ELFCLASS32);
  view.setUint8(EI_DATA, ELFDATA2LSB);
  view.setUint8(EI_VERSION, EV_CURRENT);
  // EI_OSABI 0 (System V) and EI_ABIVERSION 0: the buffer is zero-filled.
  view.setUint16(16, ET_EXEC, true);
  view.setUint16(18, EM_RISCV, true);
  view.setUint32(20, EV_CURRENT, true);
  view.setUint32(24, h.entry >>> 0, true);
  view.setUint32(28, h.phnum > 0 ? EHDR_SIZE : 0, true);
  view.setUint32(32, h.shoff, true);
  view.setUint32(36, 0, true); // e_flags: no EF_RISCV_RVC, EF_RISCV_FLOAT_ABI_SOFT
  view.setUint16(40, EHDR_SIZE, true);
  view.setUint16(42, PHDR_SIZE, true);
  view.setUint16(44, h.phnum, true);
  view.setUint16(46, SHDR_SIZE, true);
  view.setUint16(48, h.shnum, true);
  view.setUint16(50, h.shnum - 1, true); // .shstrtab is written last
}

function writeProgramHeader(view: DataView, at: number, s: Section, offset: number): void {
  const pFlags = { rx: PF_R | PF_X, rw: PF_R | PF_W, r: PF_R }[s.flags];
  const fields = [PT_LOAD, offset, s.addr, s.addr, s.bytes.length, memorySize(s), pFlags, PAGE];
  writeWords(view, at, fields);
}

function imageSectionRecord(s: Section, offset: number, name: number): SectionRecord {
  const nobits = s.bytes.length === 0 && memorySize(s) > 0;
  const access = { rx: SHF_EXECINSTR, rw: SHF_WRITE, r: 0 }[s.flags];
  return {
    ...NULL_SECTION,
    name,
    type: nobits ? SHT_NOBITS : SHT_PROGBITS,
    flags: SHF_ALLOC | access,
    addr: s.addr,
    offset,
    // A section whose memory size exceeds its bytes keeps the zero tail in
    // the segment only (p_memsz); the PROGBITS header covers the file bytes.
    size: nobits ? memorySize(s) : s.bytes.length,
    addralign: s.addr % 4 === 0 ? 4 : 1,
  };
}

function stringTableRecord(name: number): SectionRecord {
  return { ...NULL_SECTION, name, type: SHT_STRTAB, addralign: 1 };
}

function symbolTable(
  symbols: readonly [string, number][],
  sections: readonly Section[],
  names: StringTable,
): Uint8Array {
  const out = new Uint8Array((symbols.length + 1) * SYM_SIZE);
  const view = new DataView(out.buffer);
  symbols.forEach(([name, value], i) => {
    const at = (i + 1) * SYM_SIZE;
    view.setUint32(at, names.add(name), true);
    view.setUint32(at + 4, value >>> 0, true);
    view.setUint8(at + 12, (STB_GLOBAL << 4) | STT_NOTYPE);
    view.setUint16(at + 14, containingSectionIndex(value >>> 0, sections), true);
  });
  return out;
}

/** Section header index of the image section holding `addr` (headers start at 1), else SHN_ABS. */
function containingSectionIndex(addr: number, sections: readonly Section[]): number {
  const i = sections.findIndex((s) => addr >= s.addr && addr < s.addr + memorySize(s));
  return i < 0 ? SHN_ABS : i + 1;
}

function writeSectionHeader(view: DataView, at: number, r: SectionRecord): void {
  const fields = [r.name, r.type, r.flags, r.addr, r.offset, r.size, r.link, r.info, r.addralign, r.entsize];
  writeWords(view, at, fields);
}

/** Consecutive little-endian 32-bit fields, as ELF32 header records are laid out. */
function writeWords(view: DataView, at: number, words: readonly number[]): void {
  for (let i = 0; i < words.length; i++) view.setUint32(at + 4 * i, words[i] >>> 0, true);
}
