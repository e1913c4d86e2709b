/**
 * Flattened devicetree (DTB) writer and reader, version 17 (Devicetree
 * Specification v0.4, chapter 5): a 40-byte big-endian header, the memory
 * reservation map (pairs of 64-bit address and size ending with a zero pair),
 * the structure block (FDT_BEGIN_NODE, FDT_PROP, FDT_END_NODE, FDT_END tokens,
 * each 4-byte aligned) and the strings block (property names, NUL-terminated).
 */

export const FDT_MAGIC = 0xd00d_feed;
const FDT_VERSION = 17;
/** Version 17 is backwards compatible with version 16 (spec 5.2). */
const FDT_LAST_COMP_VERSION = 16;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
const HEADER_SIZE = 40;

export interface FdtNode {
  /** Node name with its unit address ("serial@10000000"); "" for the root. */
  name: string;
  /** Property values in encoded form, in insertion order. */
  props: Map<string, Uint8Array>;
  children: FdtNode[];
}

export interface FdtReservation {
  address: bigint;
  size: bigint;
}

export interface Fdt {
  root: FdtNode;
  reservations: FdtReservation[];
  bootCpuid: number;
}

export class FdtError extends Error {}

/** Property value encoders (spec 2.2.4, property values). */
export const prop = {
  empty: (): Uint8Array => new Uint8Array(0),
  u32: (...cells: number[]): Uint8Array => {
    const out = new Uint8Array(cells.length * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < cells.length; i++) view.setUint32(i * 4, cells[i] >>> 0);
    return out;
  },
  /** 64-bit values as two cells each (high, low). */
  u64: (...values: Array<number | bigint>): Uint8Array => {
    const out = new Uint8Array(values.length * 8);
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) view.setBigUint64(i * 8, BigInt(values[i]));
    return out;
  },
  str: (s: string): Uint8Array => prop.strs(s),
  strs: (...list: string[]): Uint8Array => new TextEncoder().encode(list.map((s) => `${s}\0`).join("")),
};

/** A node from its name, properties (in order) and children. */
export function fdtNode(
  name: string,
  props: Record<string, Uint8Array> = {},
  children: FdtNode[] = [],
): FdtNode {
  return { name, props: new Map(Object.entries(props)), children };
}

/** Property value decoders, for readers of a parsed tree. */
export const read = {
  u32(v: Uint8Array, index = 0): number {
    if (v.length < (index + 1) * 4) throw new FdtError(`property too short for cell ${index}`);
    return new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(index * 4);
  },
  cells(v: Uint8Array): number[] {
    return Array.from({ length: v.length >>> 2 }, (_, i) => read.u32(v, i));
  },
  /** A number of 1 or 2 cells (or more, from the last two), as bigint. */
  number(v: Uint8Array): bigint {
    let n = 0n;
    for (const c of read.cells(v)) n = ((n << 32n) | BigInt(c)) & 0xffff_ffff_ffff_ffffn;
    return n;
  },
  strs(v: Uint8Array): string[] {
    const text = new TextDecoder().decode(v);
    const parts = text.split("\0");
    parts.pop();
    return parts;
  },
  str(v: Uint8Array): string {
    return read.strs(v)[0] ?? "";
  },
};

/** The node at a path like "/soc/serial@10000000", or undefined. */
export function fdtFind(root: FdtNode, path: string): FdtNode | undefined {
  let node: FdtNode | undefined = root;
  for (const part of path.split("/").filter((p) => p.length > 0)) {
    node = node.children.find((c) => c.name === part || c.name.split("@")[0] === part);
    if (!node) return undefined;
  }
  return node;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

class ByteWriter {
  private bytes = new Uint8Array(1024);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  u32(v: number): void {
    this.reserve(4);
    new DataView(this.bytes.buffer).setUint32(this.length, v >>> 0);
    this.length += 4;
  }

  raw(b: Uint8Array): void {
    this.reserve(b.length);
    this.bytes.set(b, this.length);
    this.length += b.length;
  }

  pad4(): void {
    const n = align4(this.length) - this.length;
    this.reserve(n);
    this.length += n; // fresh bytes are zero
  }

  done(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** Names a node may use (spec 2.2.1): 1-31 characters before the unit address. */
function checkNodeName(name: string, isRoot: boolean): void {
  if (isRoot) {
    if (name !== "") throw new FdtError(`the root node has an empty name (got '${name}')`);
    return;
  }
  if (!/^[A-Za-z0-9,._+-]{1,31}(@[A-Za-z0-9,._+-]+)?$/.test(name))
    throw new FdtError(`invalid node name '${name}'`);
}

/** Encode a tree as a DTB. */
export function writeFdt(fdt: Fdt): Uint8Array {
  const structure = new ByteWriter();
  const strings = new ByteWriter();
  const offsets = new Map<string, number>();
  const nameOffset = (name: string): number => {
    let off = offsets.get(name);
    if (off === undefined) {
      off = strings.length;
      offsets.set(name, off);
      strings.raw(prop.str(name));
    }
    return off;
  };
  const emit = (node: FdtNode, isRoot: boolean): void => {
    checkNodeName(node.name, isRoot);
    structure.u32(FDT_BEGIN_NODE);
    structure.raw(prop.str(node.name));
    structure.pad4();
    for (const [name, value] of node.props) {
      structure.u32(FDT_PROP);
      structure.u32(value.length);
      structure.u32(nameOffset(name));
      structure.raw(value);
      structure.pad4();
    }
    for (const child of node.children) emit(child, false);
    structure.u32(FDT_END_NODE);
  };
  emit(fdt.root, true);
  structure.u32(FDT_END);

  const rsvmap = new ByteWriter();
  for (const r of [...fdt.reservations, { address: 0n, size: 0n }]) {
    rsvmap.u32(Number(r.address >> 32n));
    rsvmap.u32(Number(r.address & 0xffff_ffffn));
    rsvmap.u32(Number(r.size >> 32n));
    rsvmap.u32(Number(r.size & 0xffff_ffffn));
  }
  // Header, then the reservation map (8-byte aligned), structure, strings.
  const offRsvmap = HEADER_SIZE;
  const offStruct = offRsvmap + rsvmap.length;
  const offStrings = offStruct + structure.length;
  const total = offStrings + strings.length;
  const out = new ByteWriter();
  for (const v of [
    FDT_MAGIC,
    total,
    offStruct,
    offStrings,
    offRsvmap,
    FDT_VERSION,
    FDT_LAST_COMP_VERSION,
    fdt.bootCpuid,
    strings.length,
    structure.length,
  ])
    out.u32(v);
  out.raw(rsvmap.done());
  out.raw(structure.done());
  out.raw(strings.done());
  return out.done();
}

/** Decode a DTB (version 16 or later); a clear FdtError on anything malformed. */
export function parseFdt(bytes: Uint8Array): Fdt {
  if (bytes.length < HEADER_SIZE) throw new FdtError("too short for a devicetree header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = (i: number) => view.getUint32(i * 4);
  if (h(0) !== FDT_MAGIC) throw new FdtError("not a devicetree blob (bad magic)");
  const [total, offStruct, offStrings, offRsvmap, version, , bootCpuid, sizeStrings, sizeStruct] = [
    h(1),
    h(2),
    h(3),
    h(4),
    h(5),
    h(6),
    h(7),
    h(8),
    h(9),
  ];
  if (version < 16) throw new FdtError(`devicetree version ${version} is not supported (16 or later)`);
  if (total > bytes.length) throw new FdtError(`totalsize ${total} exceeds the ${bytes.length} bytes given`);
  if (offStruct + sizeStruct > total || offStrings + sizeStrings > total)
    throw new FdtError("a block lies outside totalsize");

  const reservations: FdtReservation[] = [];
  for (let off = offRsvmap; ; off += 16) {
    if (off + 16 > total) throw new FdtError("unterminated memory reservation map");
    const address = view.getBigUint64(off);
    const size = view.getBigUint64(off + 8);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }

  const cstring = (at: number, end: number): [string, number] => {
    let i = at;
    while (i < end && bytes[i] !== 0) i++;
    if (i >= end) throw new FdtError("unterminated string");
    return [new TextDecoder().decode(bytes.subarray(at, i)), i + 1];
  };
  const end = offStruct + sizeStruct;
  let p = offStruct;
  const token = (): number => {
    if (p + 4 > end) throw new FdtError("structure block ends without FDT_END");
    const t = view.getUint32(p);
    p += 4;
    return t;
  };
  const stack: FdtNode[] = [];
  let root: FdtNode | undefined;
  for (;;) {
    const t = token();
    if (t === FDT_BEGIN_NODE) {
      const [name, next] = cstring(p, end);
      p = align4(next);
      const node: FdtNode = { name, props: new Map(), children: [] };
      if (stack.length === 0) {
        if (root) throw new FdtError("more than one root node");
        root = node;
      } else stack[stack.length - 1].children.push(node);
      stack.push(node);
    } else if (t === FDT_PROP) {
      const len = token();
      const nameoff = token();
      if (stack.length === 0) throw new FdtError("property outside any node");
      if (p + len > end) throw new FdtError("property value runs past the structure block");
      const [name] = cstring(offStrings + nameoff, offStrings + sizeStrings);
      stack[stack.length - 1].props.set(name, bytes.slice(p, p + len));
      p = align4(p + len);
    } else if (t === FDT_END_NODE) {
      if (!stack.pop()) throw new FdtError("FDT_END_NODE without a node");
    } else if (t === FDT_NOP) {
      // skipped (spec 5.4.1)
    } else if (t === FDT_END) {
      break;
    } else throw new FdtError(`unknown structure token ${t}`);
  }
  if (!root || stack.length !== 0) throw new FdtError("unbalanced nodes in the structure block");
  return { root, reservations, bootCpuid };
}
