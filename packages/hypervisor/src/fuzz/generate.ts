/**
 * The random guest generator. A guest is a list of operations, each a short
 * piece of assembly that leaves the guest's translation architecturally
 * determined: every store that may change a page table is followed by the
 * sfence.vma the privileged spec requires before the change is used, and
 * address spaces either have ASIDs of their own or are fenced when switched
 * to. So native execution and every strategy must agree exactly — any
 * difference is a bug, not a licence the spec gives.
 *
 * Operations are plain data, so a failing guest can be shrunk by removing
 * some and assembled again; the few whose code depends on the mode the guest
 * is in (entering or leaving user mode, satp switches, stores a user may not
 * fence after) are rendered at assembly time (image.ts).
 */
import {
  A,
  type AddressSpace,
  ARENA,
  ARENA_PAGES,
  addressSpaces,
  CLINT_MTIME,
  D,
  DEVICE_PAGES,
  HASHED_BYTES,
  KERNEL_FLAGS,
  MEGA_WINDOW,
  pte,
  R,
  RAM_BASE,
  rootIndexAddr,
  SPARE,
  TEST_DEVICE,
  tablePages,
  U,
  UART,
  USER_ALIAS,
  V,
  W,
  WINDOW,
  WINDOW_PAGES,
  X,
} from "./layout.ts";
import { Rng } from "./rng.ts";

/** Where an operation may run: anywhere, only in (pretend) S-mode, or anywhere but user mode with paging on. */
export type Where = "any" | "S" | "unpaged-or-S";

export type Op =
  | { kind: "asm"; where: Where; asm: string; tag: string }
  | { kind: "enter-user" }
  | { kind: "leave-user" }
  | { kind: "satp"; space: number }; // -1: bare

export interface TlbChoice {
  entries: number;
  ways: number;
  asidTags: boolean;
}

export interface FuzzProgram {
  seed: number;
  /** Guests for QEMU avoid what differs there by design (counters, timers, misaligned accesses, CSRs QEMU implements differently). */
  portable: boolean;
  spaces: AddressSpace[];
  /** Each address space's ASID (all 0 when the guest reuses ASID 0 and fences at every switch). */
  asids: number[];
  /** Initial page-table words by physical address. */
  tables: Map<number, number>;
  /** Initial arena contents. */
  arena: Uint32Array;
  /** Initial values of the register pool. */
  regs: number[];
  ops: Op[];
  tlb: TlbChoice;
  /** The address space the prologue turns on (-1: translation stays off); shrinking keeps it. */
  startSpace: number;
}

/** Registers the operations compute with (gp holds the handler's state; t0-t2 are scratch, saved by the handler; ra calls). */
export const POOL = [
  "a0",
  "a1",
  "a2",
  "a3",
  "a4",
  "a5",
  "a6",
  "a7",
  "s2",
  "s3",
  "s4",
  "s5",
  "s6",
  "s7",
  "s8",
  "s9",
  "s10",
  "s11",
  "t3",
  "t4",
  "t5",
  "t6",
] as const;

const KINDS = {
  alu: 14,
  li: 6,
  load: 12,
  store: 10,
  ptEdit: 8,
  amo: 7,
  lrsc: 5,
  mmio: 6,
  csr: 6,
  counter: 3,
  sfence: 3,
  satp: 4,
  user: 4,
  timer: 2,
  odd: 2,
} as const;
export type Kind = keyof typeof KINDS;
export const KIND_NAMES = Object.keys(KINDS) as Kind[];

/** Kinds left out of portable guests and their reason. */
const NOT_PORTABLE: Partial<Record<Kind, string>> = {
  counter: "cycle, time and instret count differently on QEMU",
  timer: "timer interrupts arrive at other instructions on QEMU",
};

const ALU_R = [
  "add",
  "sub",
  "sll",
  "slt",
  "sltu",
  "xor",
  "srl",
  "sra",
  "or",
  "and",
  "mul",
  "mulh",
  "mulhsu",
  "mulhu",
  "div",
  "divu",
  "rem",
  "remu",
];
const ALU_I = ["addi", "slti", "sltiu", "xori", "ori", "andi"];
const SHIFT_I = ["slli", "srli", "srai"];
const LOADS = ["lb", "lh", "lw", "lbu", "lhu"] as const;
const STORES = ["sb", "sh", "sw"] as const;
const WIDTH: Record<string, number> = { lb: 1, lbu: 1, sb: 1, lh: 2, lhu: 2, sh: 2, lw: 4, sw: 4 };
const AMOS = [
  "amoswap.w",
  "amoadd.w",
  "amoxor.w",
  "amoand.w",
  "amoor.w",
  "amomin.w",
  "amomax.w",
  "amominu.w",
  "amomaxu.w",
];
/** Supervisor CSRs, counters, and numbers a supervisor may not touch (stvec and satp are left to the generator). */
const CSRS = [
  "sstatus",
  "sie",
  "sip",
  "sscratch",
  "sepc",
  "scause",
  "stval",
  "scounteren",
  "0x10a",
  "0x300",
  "0x341",
  "0x5c0",
  "0x7c0",
  "0xc00",
  "0xc01",
  "0xc02",
  "0x14d",
  "0x5a8",
];
/** QEMU 7.2 keeps sepc bit 1 with C off, and implements more counters: portable guests leave those out. */
const PORTABLE_CSRS = ["sscratch", "scause", "stval", "0x300", "0x5c0"];

export interface GenerateOptions {
  /** Number of operations (default: 20 to 140). */
  ops?: number;
  portable?: boolean;
  /** Only these kinds of operation (default: all). */
  kinds?: readonly Kind[];
}

/** The random guest of `seed`. */
export function generate(seed: number, opts: GenerateOptions = {}): FuzzProgram {
  const rng = new Rng(seed);
  const portable = opts.portable ?? false;
  const nSpaces = 1 + rng.int(3);
  const spaces = addressSpaces(nSpaces);
  const tlbEntries = rng.pick([4, 8, 16, 64]);
  const tlb = {
    entries: tlbEntries,
    ways: rng.pick([1, 2, 4].filter((w) => w <= tlbEntries)),
    asidTags: rng.chance(0.7),
  };
  // A TLB without ASID tags means a hart without ASID bits (ASIDLEN = 0): its software fences at every switch.
  const uniqueAsids = tlb.asidTags && rng.chance(0.5);
  const asids = spaces.map((_, i) => (uniqueAsids ? i + 1 : 0));
  const allTables = tablePages(spaces);
  const ctx: Ctx = { rng, spaces, allTables, portable, uniqueAsids };
  const tables = new Map<number, number>();
  for (const s of spaces) buildSpace(ctx, s, tables);
  const arena = new Uint32Array((ARENA_PAGES * 4096) / 4);
  for (let i = 0; i < arena.length; i += 1 + rng.int(8)) arena[i] = rng.u32();
  const regs = POOL.map(() => interesting(rng));
  // Each guest leans on a few kinds, so some guests are bare, some churn page tables, and so on.
  const weights = {} as Record<Kind, number>;
  // QEMU's virt board has PCIe where this board has holes (0x3000_0000, 0x4000_0000): portable guests always translate.
  const paging = portable || rng.chance(0.75);
  for (const k of Object.keys(KINDS) as Kind[]) {
    const off =
      (portable && NOT_PORTABLE[k]) ||
      (!paging && (k === "satp" || k === "ptEdit")) ||
      (opts.kinds !== undefined && !opts.kinds.includes(k));
    weights[k] = off ? 0 : KINDS[k] * (rng.chance(0.3) ? 4 : rng.chance(0.3) ? 0 : 1);
  }
  if (!opts.kinds || opts.kinds.includes("alu")) weights.alu += 1;
  if (Object.values(weights).every((w) => w === 0)) weights[opts.kinds?.[0] ?? "alu"] = 1;
  const n = opts.ops ?? 20 + rng.int(120);
  const ops: Op[] = [];
  for (let i = 0; i < n; i++) ops.push(...operation(ctx, rng.weighted(weights)));
  return { seed, portable, spaces, asids, tables, arena, regs, ops, tlb, startSpace: paging ? 0 : -1 };
}

interface Ctx {
  rng: Rng;
  spaces: AddressSpace[];
  allTables: number[];
  portable: boolean;
  uniqueAsids: boolean;
}

/** Values that find edge cases more often than uniform ones do. */
function interesting(rng: Rng): number {
  switch (rng.int(6)) {
    case 0:
      return rng.pick([0, 1, -1, 0x7fff_ffff, -0x8000_0000, 2, -2, 0xff, 0x8000, 0x7ff, -0x800]);
    case 1:
      return rng.int(64) - 32;
    default:
      return rng.u32() | 0;
  }
}

/** A leaf PTE the guest's tables may hold: data, tables, devices, holes, with random permissions (never G). */
function leafCandidate(ctx: Ctx): number {
  const { rng } = ctx;
  // QEMU's UART decodes 8 bytes of its page, this board's 256: portable guests map no device pages at random.
  const target = rng.weighted({
    arena: 6,
    table: 2,
    device: ctx.portable ? 0 : 2,
    hole: ctx.portable ? 0 : 1,
    outside: 1,
  });
  const pa =
    target === "arena"
      ? ARENA + rng.int(ARENA_PAGES) * 0x1000
      : target === "table"
        ? rng.pick(ctx.allTables)
        : target === "device"
          ? rng.pick(DEVICE_PAGES)
          : target === "hole"
            ? 0x3000_0000
            : RAM_BASE + 0x0200_0000; // past the end of guest RAM
  let flags = rng.chance(0.9) ? V : 0;
  for (const f of [R, W, X, U, A, D]) if (rng.chance(0.55)) flags |= f;
  if (rng.chance(0.7)) flags |= R | A;
  return pte(pa, flags);
}

/** A root entry: a pointer to a level-0 table, a megapage (aligned or not), or invalid. */
function rootCandidate(ctx: Ctx, forWindow: boolean): number {
  const { rng } = ctx;
  const c = rng.int(10);
  if (c < 4 && forWindow) return pte(rng.pick(ctx.spaces).window, V); // another space's window table
  if (c < 6) {
    let flags = V | R | A;
    for (const f of [W, X, U, D]) if (rng.chance(0.5)) flags |= f;
    return pte(rng.chance(0.85) ? RAM_BASE : ARENA, flags); // ARENA is not 4 MiB aligned: a misaligned megapage
  }
  if (c < 8 && !forWindow) return pte(rng.pick(ctx.spaces).root, V); // a root used as a level-0 table
  return rng.chance(0.5) ? 0 : leafCandidate(ctx) & ~V;
}

function buildSpace(ctx: Ctx, s: AddressSpace, out: Map<number, number>): void {
  const { rng } = ctx;
  out.set(rootIndexAddr(s.root, RAM_BASE), pte(RAM_BASE, KERNEL_FLAGS));
  out.set(rootIndexAddr(s.root, USER_ALIAS), pte(RAM_BASE, V | R | X | U | A));
  out.set(rootIndexAddr(s.root, WINDOW), pte(s.window, V));
  if (rng.chance(0.6)) out.set(rootIndexAddr(s.root, MEGA_WINDOW), rootCandidate(ctx, false));
  for (const [index, table] of s.devices) {
    out.set(s.root + index * 4, pte(table, V));
    for (const d of DEVICE_PAGES) {
      if (d >>> 22 !== index) continue;
      const user = d === UART && rng.chance(0.5) ? U : 0;
      out.set(table + ((d >>> 12) & 0x3ff) * 4, pte(d, V | R | W | A | D | user));
    }
  }
  for (let i = 0; i < WINDOW_PAGES; i++) if (rng.chance(0.8)) out.set(s.window + i * 4, leafCandidate(ctx));
}

const reg = (rng: Rng): string => rng.pick(POOL);
const imm12 = (rng: Rng): number => rng.int(4096) - 2048;
const asm = (tag: string, where: Where, text: string): Op => ({ kind: "asm", tag, where, asm: text });

/** An address for a data access: identity arena, window, megapage window, devices, holes; `store` avoids what a store must not hit. */
function dataAddress(
  ctx: Ctx,
  width: number,
  store: boolean,
  atomic = false,
): { addr: number; mapped: boolean; table: boolean } {
  const { rng } = ctx;
  const misalign = !ctx.portable && rng.chance(0.05) ? 1 + rng.int(3) : 0;
  // The first HASHED_BYTES of a page: the dump hashes them (and the page-table entries edits name).
  const off = (rng.int(HASHED_BYTES) & ~(width - 1)) + misalign;
  // Portable guests leave out what this board and QEMU's virt do differently, each allowed by the
  // spec: atomics on devices (refused here, performed there), device accesses wider than a byte,
  // an AMO's page fault (QEMU 7.2 reports a load fault), an SC that fails before it translates.
  const paged = !(atomic && ctx.portable);
  const c = rng.weighted({
    arena: 5,
    window: paged ? 5 : 0,
    mega: paged ? 2 : 0,
    table: store || !paged ? 0 : 2,
    hole: ctx.portable ? 0 : 1,
    device: store || (ctx.portable && (atomic || width > 1)) ? 0 : 1,
  });
  switch (c) {
    case "arena":
      return { addr: ARENA + rng.int(ARENA_PAGES) * 0x1000 + off, mapped: false, table: false };
    case "window":
      return { addr: WINDOW + rng.int(WINDOW_PAGES + 1) * 0x1000 + off, mapped: true, table: false };
    case "mega": {
      const page = rng.chance(0.5) ? ARENA + rng.int(ARENA_PAGES) * 0x1000 : rng.pick(ctx.allTables);
      return { addr: MEGA_WINDOW + (page - RAM_BASE) + off, mapped: true, table: false };
    }
    case "table":
      return { addr: rng.pick(ctx.allTables) + off, mapped: false, table: true };
    case "device":
      return {
        addr: rng.pick(
          ctx.portable
            ? [UART + 5, UART + 7]
            : [UART + rng.int(8), TEST_DEVICE, CLINT_MTIME, CLINT_MTIME + 4],
        ),
        mapped: false,
        table: false,
      };
    default:
      return {
        addr: rng.pick([0x3000_0000, RAM_BASE + 0x0200_0000, SPARE, 0]) + off,
        mapped: true,
        table: false,
      };
  }
}

/** The fence a store through a translated address needs before the guest may rely on its effect on tables. */
const FULL_FENCE = "sfence.vma";

function operation(ctx: Ctx, kind: Kind): Op[] {
  const { rng } = ctx;
  switch (kind) {
    case "alu": {
      if (rng.chance(0.5))
        return [asm(kind, "any", `${rng.pick(ALU_R)} ${reg(rng)}, ${reg(rng)}, ${reg(rng)}`)];
      if (rng.chance(0.3))
        return [asm(kind, "any", `${rng.pick(SHIFT_I)} ${reg(rng)}, ${reg(rng)}, ${rng.int(32)}`)];
      return [asm(kind, "any", `${rng.pick(ALU_I)} ${reg(rng)}, ${reg(rng)}, ${imm12(rng)}`)];
    }
    case "li":
      return [asm(kind, "any", `li ${reg(rng)}, ${interesting(rng)}`)];
    case "load": {
      const op = rng.pick(LOADS);
      const { addr } = dataAddress(ctx, WIDTH[op], false);
      return [asm(kind, "any", `li t0, ${addr}\n${op} ${reg(rng)}, 0(t0)`)];
    }
    case "store": {
      const op = rng.pick(STORES);
      const { addr, mapped } = dataAddress(ctx, WIDTH[op], true);
      // Through a translation the store may land on a page table: fence after (S only); the identity arena never holds one.
      return [
        asm(
          kind,
          mapped ? "S" : "unpaged-or-S",
          `li t0, ${addr}\n${op} ${reg(rng)}, 0(t0)${mapped ? `\n${FULL_FENCE}` : ""}`,
        ),
      ];
    }
    case "ptEdit":
      return [ptEdit(ctx)];
    case "amo": {
      const { addr, mapped, table } = dataAddress(ctx, 4, false, true);
      if (table) return [ptEdit(ctx)];
      const text = `li t0, ${addr}\n${rng.pick(AMOS)} ${rng.chance(0.1) ? "zero" : reg(rng)}, ${reg(rng)}, (t0)`;
      return [asm(kind, mapped ? "S" : "unpaged-or-S", mapped ? `${text}\n${FULL_FENCE}` : text)];
    }
    case "lrsc":
      return [lrsc(ctx)];
    case "mmio": {
      if (rng.chance(0.5)) {
        const ch = 0x20 + rng.int(95);
        return [asm(kind, "any", `li t0, ${UART}\nli t1, ${ch}\nsb t1, 0(t0)`)];
      }
      if (rng.chance(0.2)) return [asm(kind, "any", `li t0, ${UART}\nli t1, ${rng.int(256)}\nsb t1, 7(t0)`)];
      const addr = ctx.portable
        ? rng.pick([UART + 5, UART + 7, UART + 3])
        : rng.pick([UART + rng.int(8), CLINT_MTIME, CLINT_MTIME + 4, TEST_DEVICE]);
      return [asm(kind, "any", `li t0, ${addr}\n${rng.pick(["lbu", "lb"])} ${reg(rng)}, 0(t0)`)];
    }
    case "csr": {
      const csr = rng.pick(ctx.portable ? PORTABLE_CSRS : CSRS);
      const op = rng.pick(["csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi", "csrrci"]);
      const src = op.endsWith("i") ? `${rng.int(32)}` : reg(rng);
      // Writing sip, sie or sstatus can start interrupts; the handler clears the software one.
      return [asm(kind, "any", `${op} ${rng.chance(0.2) ? "zero" : reg(rng)}, ${csr}, ${src}`)];
    }
    case "counter":
      return [
        asm(
          kind,
          "any",
          `csrr ${reg(rng)}, ${rng.pick(["cycle", "time", "instret", "cycleh", "timeh", "instreth"])}`,
        ),
      ];
    case "sfence": {
      const rs1 = rng.chance(0.5) ? "zero" : "t0";
      const rs2 = rng.chance(0.5) ? "zero" : "t1";
      const va = rng.pick([WINDOW + rng.int(WINDOW_PAGES) * 0x1000, ARENA, RAM_BASE, rng.u32()]);
      return [asm(kind, "S", `li t0, ${va}\nli t1, ${rng.int(4)}\nsfence.vma ${rs1}, ${rs2}`)];
    }
    case "satp":
      return [{ kind: "satp", space: !ctx.portable && rng.chance(0.15) ? -1 : rng.int(ctx.spaces.length) }];
    case "user":
      return [{ kind: rng.chance(0.5) ? "enter-user" : "leave-user" }];
    case "timer": {
      const delta = 5 + rng.int(200);
      const enable = rng.chance(0.7) ? "li t0, 0x20\ncsrs sie, t0\ncsrsi sstatus, 2\n" : "";
      // wfi only where the timer can end it (the interrupt need not be enabled to wake a hart).
      const wait = rng.chance(0.3) ? "li t0, 0x20\ncsrs sie, t0\nwfi\n" : "";
      return [
        asm(
          kind,
          "S",
          `csrr t0, time\naddi t0, t0, ${delta}\ncsrw stimecmp, t0\ncsrw stimecmph, zero\n${enable}${wait}`.trimEnd(),
        ),
      ];
    }
    case "odd":
      return [
        asm(
          kind,
          "any",
          // ebreak's stval (zero or the pc) is the implementation's choice: not in portable guests.
          rng.pick([
            ".word 0",
            ctx.portable ? "fence" : "ebreak",
            "fence",
            "fence.i",
            ".word 0xffffffff",
            "li t0, 2\ncsrs sip, t0",
          ]),
        ),
      ];
  }
}

/** A store, AMO or LR/SC on a page-table entry (through the kernel's identity mapping), then the fence it requires. */
function ptEdit(ctx: Ctx): Op {
  const { rng } = ctx;
  const s = rng.pick(ctx.spaces);
  const c = rng.int(4);
  let at: number;
  let value: number;
  let leafVa: number | undefined;
  if (c < 2) {
    const i = rng.int(WINDOW_PAGES + 2);
    at = s.window + i * 4;
    value = leafCandidate(ctx);
    leafVa = WINDOW + i * 0x1000;
  } else {
    at = rng.pick([
      rootIndexAddr(s.root, WINDOW),
      rootIndexAddr(s.root, MEGA_WINDOW),
      rootIndexAddr(s.root, SPARE),
    ]);
    value = rootCandidate(ctx, at === rootIndexAddr(s.root, WINDOW));
  }
  const how = rng.weighted({ sw: 4, amo: 3, lrsc: 1, half: 1 });
  let text = `li t0, ${at}\nli t1, ${value}\n`;
  if (how === "sw") text += "sw t1, 0(t0)";
  else if (how === "half") text += `srli t1, t1, 16\nsh t1, 2(t0)`;
  else if (how === "lrsc") text += `lr.w ${reg(rng)}, (t0)\nsc.w ${reg(rng)}, t1, (t0)`;
  else {
    const amo = rng.pick(["amoswap.w", "amoor.w", "amoand.w", "amomin.w", "amomaxu.w", "amoxor.w"]);
    const operand =
      amo === "amoor.w" || amo === "amoxor.w" ? value & 0xff : amo === "amoand.w" ? ~rng.int(256) : value;
    text = `li t0, ${at}\nli t1, ${operand | 0}\n${amo} ${rng.chance(0.1) ? "zero" : reg(rng)}, t1, (t0)`;
  }
  // A leaf edit may be fenced by address (the fence names every ASID); anything else needs a full fence.
  const fence =
    leafVa !== undefined && rng.chance(0.5) ? `li t0, ${leafVa}\nsfence.vma t0, zero` : FULL_FENCE;
  return asm("ptEdit", "S", `${text}\n${fence}`);
}

function lrsc(ctx: Ctx): Op {
  const { rng } = ctx;
  const { addr, mapped, table } = dataAddress(ctx, 4, false, true);
  const other = ARENA + rng.int(ARENA_PAGES) * 0x1000 + (rng.int(HASHED_BYTES / 4) << 2);
  const v = table ? leafCandidate(ctx) : rng.u32();
  // QEMU fails an SC without a reservation before it checks alignment; the spec and this machine raise the misaligned fault.
  const between = rng.pick([
    "",
    ctx.portable ? "addi t2, t2, 4\n" : "addi t2, t2, 1\n",
    ".word 0\n",
    `li t2, ${other}\nlw ${reg(rng)}, 0(t2)\n`,
    `li t2, ${other}\nsw t2, 0(t2)\n`,
  ]);
  const scAt = rng.chance(0.8) ? "t0" : "t2";
  const text = `li t0, ${addr}\nli t1, ${v}\nli t2, ${other}\nlr.w ${reg(rng)}, (t0)\n${between}sc.w ${reg(rng)}, t1, (${scAt})`;
  return asm(
    "lrsc",
    mapped || table ? "S" : "unpaged-or-S",
    mapped || table ? `${text}\n${FULL_FENCE}` : text,
  );
}
