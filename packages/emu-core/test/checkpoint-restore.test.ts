/**
 * A restored machine runs exactly as it ran after the checkpoint: every
 * counter, the console, registers and RAM. Restore copies back the pages
 * written since the checkpoint and no others, whatever the RAM size.
 */
import { describe, expect, it } from "vitest";
import { CheckpointError } from "../src/checkpoint.ts";
import { CSR } from "../src/csr.ts";
import { csrRead } from "../src/csrfile.ts";
import type { Image } from "../src/image.ts";
import { Machine, type MachineConfig } from "../src/machine.ts";
import { busyGuest, htifGuest, pageWriter } from "./support/checkpoint-guest.ts";
import { hQemuImage } from "./support/h-qemu-image.ts";

const RANDOM_TLB: Partial<MachineConfig> = {
  ramSize: 8 << 20,
  tlb: { entries: 16, ways: 4, replacement: "random", asidTags: true, seed: 7 },
};
const SPLIT_TLB: Partial<MachineConfig> = {
  ramSize: 8 << 20,
  tlb: {
    itlb: { entries: 8, ways: 8, replacement: "lru", asidTags: false, seed: 1 },
    dtlb: { entries: 16, ways: 2, replacement: "random", asidTags: false, seed: 99 },
  },
};
const BUDGET = 10_000_000;

/** Everything observable about a machine after a run. */
function observe(m: Machine, reason: string) {
  const h = m.hart;
  return {
    reason,
    stats: m.snapshot(),
    output: m.output,
    pc: h.pc,
    priv: h.priv,
    x: [...h.x],
    mstatus: csrRead(h, CSR.mstatus),
    mepc: csrRead(h, CSR.mepc),
    mtimecmp: h.mtimecmp,
    itlbValid: h.itlb.occupancy(),
    dtlbValid: h.dtlb.occupancy(),
    ram: ramDigest(m),
  };
}

/** A digest of all of RAM (FNV-1a over words). */
function ramDigest(m: Machine): number {
  const r = m.hart.ram32;
  let hash = 0x811c9dc5;
  for (let i = 0; i < r.length; i++) hash = Math.imul(hash ^ r[i], 0x01000193);
  return hash >>> 0;
}

function booted(image: Image, config: Partial<MachineConfig>): Machine {
  const m = new Machine(config);
  m.load(image);
  return m;
}

describe.each([
  ["random-replacement unified TLB", RANDOM_TLB],
  ["split LRU/random TLBs without ASIDs", SPLIT_TLB],
])("a run after restore is exact (%s)", (_name, config) => {
  const image = busyGuest(40, 25);

  it("equals the run after the checkpoint and an uninterrupted fresh run, restore after restore", () => {
    const fresh = booted(image, config);
    const whole = observe(fresh, fresh.run({ maxInstructions: BUDGET }).reason);
    expect(whole.reason).toBe("exit");
    expect(whole.stats.traps.interrupts.machine_timer).toBeGreaterThan(10);
    expect(whole.stats.walk.adUpdates).toBeGreaterThan(0);

    const m = booted(image, config);
    m.run({ maxInstructions: 4321 });
    const cp = m.checkpoint();
    const first = observe(m, m.run({ maxInstructions: BUDGET }).reason);
    expect(first).toEqual(whole);
    for (let i = 0; i < 3; i++) {
      m.restore(cp);
      expect(m.hart.instret).toBe(4321);
      expect(observe(m, m.run({ maxInstructions: BUDGET }).reason)).toEqual(whole);
    }
  });

  it("restores a checkpoint taken at any point of the run", () => {
    const m = booted(image, config);
    const ends: ReturnType<typeof observe>[] = [];
    for (const at of [1, 500, 2000, 7777]) {
      m.restore(m.checkpoint()); // a restore right after the checkpoint changes nothing
      m.run({ maxInstructions: at - (m.hart.instret % at) });
      const cp = m.checkpoint();
      const midway = observe(m, "budget");
      ends.push(observe(m, m.run({ maxInstructions: BUDGET }).reason));
      m.restore(cp);
      expect(observe(m, "budget")).toEqual(midway);
      expect(observe(m, m.run({ maxInstructions: BUDGET }).reason)).toEqual(ends[ends.length - 1]);
      m.restore(cp);
    }
    for (const e of ends) expect(e.output).toBe(ends[0].output);
  });
});

describe("the H extension's state is checkpointed with the hart", () => {
  it("a checkpoint anywhere in the H-extension image (V=1, two-stage translation, guest faults) reruns the same", () => {
    const config: Partial<MachineConfig> = { ramSize: 16 << 20, hExtension: true };
    const fresh = booted(hQemuImage(), config);
    const whole = observe(fresh, fresh.run({ maxInstructions: BUDGET }).reason);
    expect(whole.reason).toBe("exit");
    const total = whole.stats.instructions.total;
    const m = booted(hQemuImage(), config);
    const start = m.checkpoint();
    const points = 24;
    for (let k = 1; k < points; k++) {
      m.restore(start);
      m.run({ maxInstructions: Math.floor((total * k) / points) });
      const cp = m.checkpoint();
      expect(observe(m, m.run({ maxInstructions: BUDGET }).reason)).toEqual(whole);
      m.restore(cp);
      expect(observe(m, m.run({ maxInstructions: BUDGET }).reason)).toEqual(whole);
    }
  });
});

describe("restore puts back an older checkpoint after a newer one was taken", () => {
  it("is exact, copying every page written since boot", () => {
    const image = busyGuest(40, 25);
    const m = booted(image, RANDOM_TLB);
    m.run({ maxInstructions: 2000 });
    const early = m.checkpoint();
    const fromEarly = observe(m, m.run({ maxInstructions: BUDGET }).reason);
    m.restore(early);
    m.run({ maxInstructions: 6000 });
    m.checkpoint(); // the dirty log now counts from here
    m.run({ maxInstructions: 3000 });
    m.restore(early);
    expect(observe(m, m.run({ maxInstructions: BUDGET }).reason)).toEqual(fromEarly);
  });
});

describe("restore costs the pages written since the checkpoint, never RAM size", () => {
  it.each([
    [8 << 20, 1],
    [64 << 20, 1],
    [8 << 20, 300],
    [64 << 20, 300],
  ])("ramSize %i, %i pages written: that many pages copied back", (ramSize, pages) => {
    const m = booted(pageWriter(pages), { ramSize });
    const before = ramDigest(m);
    const cp = m.checkpoint();
    expect(m.run({ maxInstructions: BUDGET }).reason).toBe("wfi");
    expect(m.pagesWrittenSinceCheckpoint).toBe(pages);
    expect(ramDigest(m)).not.toBe(before);
    m.restore(cp);
    expect(m.restoredPages).toBe(pages);
    expect(ramDigest(m)).toBe(before);
    m.restore(cp);
    expect(m.restoredPages).toBe(0);
  });

  it("a word store, a walker A/D update, an AMO, SC, writePhys, loadBytes and noteRamWrite each mark their page", () => {
    const m = booted(busyGuest(40, 1), RANDOM_TLB);
    m.checkpoint();
    m.hart.writePhys(0x8070_0000, 4, 1);
    expect(m.pagesWrittenSinceCheckpoint).toBe(1);
    m.hart.loadBytes(0x8070_1ffe, new Uint8Array(4)); // straddles two pages
    expect(m.pagesWrittenSinceCheckpoint).toBe(3);
    m.hart.noteRamWrite(0x7_0000, 4096 * 2);
    expect(m.pagesWrittenSinceCheckpoint).toBe(5);
    m.hart.writePhys(0x8070_0004, 4, 1); // a page already marked
    expect(m.pagesWrittenSinceCheckpoint).toBe(5);
    const cp = m.checkpoint();
    // The guest's first pass writes its page tables' A/D bits, its 40 data pages and the tick counter.
    m.run({ maxInstructions: BUDGET });
    const written = m.pagesWrittenSinceCheckpoint;
    expect(written).toBeGreaterThanOrEqual(40 + 2 + 1);
    m.restore(cp);
    expect(m.restoredPages).toBe(written);
  });

  it("restores RAM exactly after a run that rewrote thousands of pages", () => {
    const m = booted(pageWriter(1800, 4096 + 4), { ramSize: 16 << 20 });
    m.hart.loadBytes(0x8020_0000, new Uint8Array(3 << 20).fill(0xa5)); // old contents to put back
    const before = ramDigest(m);
    const cp = m.checkpoint();
    m.run({ maxInstructions: BUDGET });
    expect(m.pagesWrittenSinceCheckpoint).toBe(1800); // a 4100-byte stride: one store per page
    m.restore(cp);
    expect(ramDigest(m)).toBe(before);
  });
});

describe("checkpoints belong to their machine", () => {
  it("refuses a machine of another configuration, naming the field", () => {
    const a = booted(pageWriter(3), { ramSize: 8 << 20 });
    const cp = a.checkpoint();
    const b = booted(pageWriter(3), { ramSize: 16 << 20 });
    expect(() => b.restore(cp)).toThrow(CheckpointError);
    expect(() => b.restore(cp)).toThrow(/ramSize=8388608, this machine ramSize=16777216/);
    const c = booted(pageWriter(3), { ramSize: 8 << 20, asidBits: 0 });
    expect(() => c.restore(cp)).toThrow(/asidBits=9, this machine asidBits=0/);
  });

  it("refuses another machine of the same configuration", () => {
    const cp = booted(pageWriter(3), { ramSize: 8 << 20 }).checkpoint();
    expect(() => booted(pageWriter(3), { ramSize: 8 << 20 }).restore(cp)).toThrow(/the machine that took it/);
  });

  it("refuses a checkpoint taken before a participant joined", () => {
    const m = booted(pageWriter(3), { ramSize: 8 << 20 });
    const cp = m.checkpoint();
    m.addCheckpointParticipant({ checkpoint: () => 0, restore: () => {} });
    expect(() => m.restore(cp)).toThrow(/joined after the checkpoint/);
  });
});

describe("participants", () => {
  it("save their state with the machine's and get it back on each restore", () => {
    const m = booted(pageWriter(3), { ramSize: 8 << 20 });
    const layer = { value: 1 };
    const restored: unknown[] = [];
    m.addCheckpointParticipant({
      checkpoint: () => ({ value: layer.value }),
      restore: (s) => {
        restored.push(s);
        layer.value = (s as { value: number }).value;
      },
    });
    const cp = m.checkpoint();
    layer.value = 42;
    m.restore(cp);
    m.restore(cp);
    expect(layer.value).toBe(1);
    expect(restored).toEqual([{ value: 1 }, { value: 1 }]);
  });
});

describe("device and console state", () => {
  it("HTIF: a checkpoint between any two instructions, even between the halves of a tohost write, reruns the same", () => {
    const image = htifGuest("hi!", 5);
    const m = booted(image, { ramSize: 8 << 20 });
    const start = m.checkpoint();
    const whole = m.run({ maxInstructions: 1000 });
    expect(whole.reason).toBe("exit");
    expect(whole.exitCode).toBe(5);
    expect(m.output).toBe("hi!");
    for (let n = 1; n < whole.instructions; n++) {
      m.restore(start);
      m.run({ maxInstructions: n });
      const cp = m.checkpoint();
      for (let again = 0; again < 2; again++) {
        const r = m.run({ maxInstructions: 1000 });
        expect([r.reason, r.exitCode, m.output]).toEqual(["exit", 5, "hi!"]);
        m.restore(cp);
      }
    }
  });

  it("UART registers, pending input and the console come back", () => {
    const m = booted(pageWriter(1), { ramSize: 8 << 20 });
    const uart = m.uart;
    uart.store(3, 1, 0x03); // LCR
    uart.store(7, 1, 0x5a); // scratch
    uart.pushInput("abc");
    uart.store(0, 1, 0x41); // transmit "A"
    const cp = m.checkpoint();
    uart.store(7, 1, 0x11);
    uart.store(3, 1, 0x83);
    uart.load(0, 1);
    uart.pushInput("x".repeat(200)); // the input queue grows its buffer
    uart.store(0, 1, 0x42);
    m.restore(cp);
    expect(uart.load(7, 1)).toBe(0x5a);
    expect(uart.load(3, 1)).toBe(0x03);
    expect(uart.pendingInput).toBe(3);
    expect(String.fromCharCode(uart.load(0, 1), uart.load(0, 1), uart.load(0, 1))).toBe("abc");
    expect(m.output).toBe("A");
  });
});
