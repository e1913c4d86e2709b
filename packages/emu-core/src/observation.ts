/**
 * Everything a run of the machine lets one observe, as one plain object, and
 * the first place where two such objects differ, spelled out.
 *
 * The engines (HartConfig.engine) must be indistinguishable: the same
 * registers, CSRs, counters, TLB contents in the same recency order, console
 * bytes, ROI marks and RAM after the same run. A differential test observes
 * a machine of each engine and asks `firstDifference` for the first field
 * that tells them apart, so a failure reads "counters.tlb.dtlb.hits: jit 812,
 * interp 813" instead of two pages of JSON.
 *
 * Implementation state (decode caches, memos, compiled blocks) is left out on
 * purpose: only what the guest or a counter can see is observed.
 */
import { CSR } from "./csr.ts";
import { csrRead } from "./csrfile.ts";
import type { Hart } from "./hart.ts";
import type { Machine, RunResult } from "./machine.ts";
import type { RoiMark } from "./roi.ts";
import type { StatsSnapshot } from "./stats.ts";
import type { Tlb } from "./tlb.ts";

/** One valid TLB entry: [vpn, asid, ppn, flags, kind, space, gflags]. */
export type TlbEntryView = [number, number, number, number, number, number, number];

export interface TlbView {
  /** Per set, its valid entries from most to least recently used. */
  sets: TlbEntryView[][];
  /** The random-replacement generator's state. */
  rng: number;
}

export interface MachineObservation {
  pc: number;
  priv: number;
  virt: number;
  /** x1..x31, unsigned. */
  x: number[];
  /** Every CSR the hart implements, by name, as csrRead gives it. */
  csrs: Record<string, number>;
  /** Architectural state outside the CSRs. */
  hart: { reservation: number; mtimecmp: number; idleCycles: number; timeOffset: number };
  /** machine.snapshot(): every counter, the hypervisor's included (extraCounters). */
  counters: StatsSnapshot;
  roiMarks: RoiMark[];
  /** The console bytes, one char per byte (latin1), so no byte is lost to decoding. */
  console: string;
  tlb: Record<string, TlbView>;
  /** Each device's own scalar registers and flags (UART IER/LCR/..., the test device's state). */
  devices: Record<string, Record<string, number | boolean | string>>;
  /** The RAM pages ever written and a digest of their contents (the others hold zeros). */
  ram: { pages: number; digest: string };
}

/** A run's result and the machine after it. */
export interface RunObservation {
  stop: { reason: string; exitCode: number; instructions: number };
  /** The counters of the run alone. */
  stats: StatsSnapshot;
  machine: MachineObservation;
}

export function observeMachine(m: Machine): MachineObservation {
  const h = m.hart;
  const tlb: Record<string, TlbView> =
    h.itlb === h.dtlb ? { tlb: tlbView(h.itlb) } : { itlb: tlbView(h.itlb), dtlb: tlbView(h.dtlb) };
  return {
    pc: h.pc >>> 0,
    priv: h.priv,
    virt: h.virt,
    x: Array.from(h.x.subarray(1, 32), (v) => v >>> 0),
    csrs: csrValues(h),
    hart: {
      reservation: h.reservation,
      mtimecmp: h.mtimecmp,
      idleCycles: h.idleCycles,
      timeOffset: h.timeOffset,
    },
    counters: m.snapshot(),
    roiMarks: m.roiMarks.map((r) => ({ ...r })),
    console: Buffer.from(m.outputBytes).toString("latin1"),
    tlb,
    devices: Object.fromEntries(h.devices.map((d) => [d.name, scalars(d)])),
    ram: ramDigest(h),
  };
}

export function observeRun(m: Machine, r: RunResult): RunObservation {
  return {
    stop: { reason: r.reason, exitCode: r.exitCode, instructions: r.instructions },
    stats: r.stats,
    machine: observeMachine(m),
  };
}

function scalars(o: object): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === "number" || typeof v === "boolean" || typeof v === "string") out[k] = v;
  }
  return out;
}

function csrValues(h: Hart): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, num] of Object.entries(CSR)) {
    const v = csrRead(h, num);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function tlbView(t: Tlb): TlbView {
  // The random generator is the TLB's own; read it without widening its interface.
  const own = t as unknown as { rng: number };
  const sets: TlbEntryView[][] = [];
  for (let s = 0; s < t.sets; s++) {
    // Valid entries of the set, most recently used first (Tlb.stamp).
    const ways: number[] = [];
    for (let i = s * t.ways; i < (s + 1) * t.ways; i++) if (t.kind[i] !== 0) ways.push(i);
    ways.sort((a, b) => t.stamp[b] - t.stamp[a]);
    sets.push(
      ways.map((i) => [t.vpn[i], t.asid[i], t.ppn[i], t.flags[i], t.kind[i], t.spaceOf[i], t.gflags[i]]),
    );
  }
  return { sets, rng: own.rng };
}

/** Two FNV-1a style 32-bit lanes over (page number, words) of every page ever written. */
function ramDigest(h: Hart): { pages: number; digest: string } {
  const ever = h.dirtyPages.everWritten;
  const w = h.ram32;
  let a = 0x811c9dc5;
  let b = 0x01000193;
  let pages = 0;
  for (let p = 0; p < ever.length; p++) {
    if (ever[p] === 0) continue;
    pages++;
    a = Math.imul(a ^ p, 16777619);
    b = Math.imul(b ^ p, 0x5bd1e995);
    for (let i = p * 1024, end = i + 1024; i < end; i++) {
      a = Math.imul(a ^ w[i], 16777619);
      b = Math.imul((b ^ w[i]) + i, 0x5bd1e995);
      b ^= b >>> 15;
    }
  }
  return {
    pages,
    digest: `${(a >>> 0).toString(16).padStart(8, "0")}${(b >>> 0).toString(16).padStart(8, "0")}`,
  };
}

/** The first RAM word where two machines differ, as a sentence, or undefined. */
export function ramDifference(
  a: Machine,
  b: Machine,
  names: readonly [string, string] = ["a", "b"],
): string | undefined {
  const x = a.hart.ram32;
  const y = b.hart.ram32;
  if (x.length !== y.length) return `RAM size: ${names[0]} ${x.length * 4}, ${names[1]} ${y.length * 4}`;
  if (Buffer.compare(a.hart.ram, b.hart.ram) === 0) return undefined;
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) {
      const addr = (a.hart.ramBase + i * 4) >>> 0;
      return `RAM word at 0x${addr.toString(16)}: ${names[0]} ${hex(x[i])}, ${names[1]} ${hex(y[i])}`;
    }
  }
  return undefined;
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, "0")}`;

/**
 * The first path where `a` and `b` differ, with both values, or undefined
 * when they are deep-equal. Object keys are visited in sorted order, so the
 * answer does not depend on insertion order.
 */
export function firstDifference(
  a: unknown,
  b: unknown,
  names: readonly [string, string] = ["a", "b"],
  path = "",
): string | undefined {
  const at = path === "" ? "(top)" : path;
  if (Object.is(a, b)) return undefined;
  if (typeof a === "string" && typeof b === "string") return stringDifference(at, a, b, names);
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return `${at}: ${names[0]} ${show(a)}, ${names[1]} ${show(b)}`;
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b) || Array.isArray(a) || Array.isArray(b)) {
    const x = toArray(a);
    const y = toArray(b);
    if (x === undefined || y === undefined) return `${at}: ${names[0]} ${show(a)}, ${names[1]} ${show(b)}`;
    const n = Math.min(x.length, y.length);
    for (let i = 0; i < n; i++) {
      const d = firstDifference(x[i], y[i], names, `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    if (x.length !== y.length) return `${at}.length: ${names[0]} ${x.length}, ${names[1]} ${y.length}`;
    return undefined;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort();
  for (const k of keys) {
    const p = path === "" ? k : `${path}.${k}`;
    if (!(k in ra)) return `${p}: missing in ${names[0]}, ${names[1]} ${show(rb[k])}`;
    if (!(k in rb)) return `${p}: ${names[0]} ${show(ra[k])}, missing in ${names[1]}`;
    const d = firstDifference(ra[k], rb[k], names, p);
    if (d !== undefined) return d;
  }
  return undefined;
}

function toArray(v: object): readonly unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView))
    return Array.from(v as unknown as ArrayLike<unknown>);
  return undefined;
}

function stringDifference(at: string, a: string, b: string, names: readonly [string, string]): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const around = (s: string) => JSON.stringify(s.slice(Math.max(0, i - 20), i + 20));
  return `${at} differs at offset ${i} (lengths ${a.length}, ${b.length}): ${names[0]} …${around(a)}…, ${names[1]} …${around(b)}…`;
}

function show(v: unknown): string {
  const s = typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
