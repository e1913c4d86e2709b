/**
 * The engines agree: a machine that runs guest code through the block
 * translator ("jit") and one that interprets it ("interp", the reference)
 * are indistinguishable after every run call — every counter (instructions
 * by privilege, traps by cause, each TLB's lookups, hits, misses, fills and
 * evictions, walks, misaligned accesses, device accesses, H-extension
 * walks), the ROI marks with their snapshots, registers, pc, privilege,
 * CSRs, TLB contents in recency order, console bytes, RAM, and why the run
 * stopped. Runs are whole or cut into chunks of odd sizes (7, 1000, 4097
 * instructions), so budgets end anywhere inside a translated block.
 */
import { describe, expect, it } from "vitest";
import { bootMachine } from "../src/boot.ts";
import type { Checkpoint } from "../src/checkpoint.ts";
import { EnginePair, machineRig } from "../src/engine-pair.ts";
import type { Image } from "../src/image.ts";
import { Machine, type MachineConfig } from "../src/machine.ts";
import { firstDifference, observeMachine, ramDifference } from "../src/observation.ts";
import type { TlbConfig } from "../src/tlb.ts";
import { busyGuest, htifGuest, pageWriter } from "./support/checkpoint-guest.ts";
import {
  prepareMemoDance,
  roiGuest,
  sbiTimerKernel,
  smcGuest,
  trapGuest,
  triggerGuest,
} from "./support/engine-guests.ts";
import { hQemuImage } from "./support/h-qemu-image.ts";

const RAM = 8 * 2 ** 20;
const LIMIT = 2_000_000;

/** The image (or what `prepare` puts there) on a machine of each engine. */
function pairOf(
  config: Partial<MachineConfig>,
  image: Image | ((m: Machine) => void),
  label = "",
): EnginePair {
  return new EnginePair((engine) => {
    const m = new Machine({ ...config, engine });
    if (typeof image === "function") image(m);
    else m.load(image);
    return machineRig(m);
  }, label);
}

/** The reference machine's counters since it was made. */
const statsOf = (p: EnginePair) => p.rig("interp").machine.snapshot();
const interp = (p: EnginePair) => p.rig("interp").machine;

const tlb = (entries: number, ways: number, extra: Partial<TlbConfig> = {}): TlbConfig => ({
  entries,
  ways,
  replacement: "lru",
  asidTags: true,
  seed: 1,
  ...extra,
});

const TLBS = {
  "a unified 64-entry TLB": tlb(64, 64),
  "split 4x2 / 8x4 LRU TLBs": { itlb: tlb(4, 2), dtlb: tlb(8, 4) },
  "a unified 8x2 random TLB without ASID tags": tlb(8, 2, {
    replacement: "random",
    seed: 5,
    asidTags: false,
  }),
  "split 16x4 random TLBs": {
    itlb: tlb(16, 4, { replacement: "random", seed: 3 }),
    dtlb: tlb(16, 4, { replacement: "random", seed: 9 }),
  },
} as const;

describe("the comparison sees what differs", () => {
  it("one instruction more", () => {
    const [a, b] = [0, 1].map(() => new Machine({ ramSize: RAM }));
    for (const m of [a, b]) m.load(smcGuest(20));
    a.run({ maxInstructions: 100 });
    b.run({ maxInstructions: 101 });
    expect(firstDifference(observeMachine(a), observeMachine(b), ["a", "b"])).toMatch(
      /^counters\.cycles: a 100, b 101$/,
    );
  });

  it("one RAM byte, and where it is", () => {
    const [a, b] = [0, 1].map(() => new Machine({ ramSize: RAM }));
    for (const m of [a, b]) m.load(smcGuest(20));
    b.hart.writePhys(0x8000_0010, 1, 0x99);
    a.hart.writePhys(0x8000_0010, 1, a.hart.readPhys(0x8000_0010, 1) ?? 0);
    expect(firstDifference(observeMachine(a), observeMachine(b))).toMatch(/^ram\.digest/);
    expect(ramDifference(a, b)).toMatch(/^RAM word at 0x80000010: /);
  });

  it("TLB contents that no counter shows yet (another random-replacement seed)", () => {
    const run = (seed: number) => {
      const m = new Machine({ ramSize: RAM, tlb: tlb(8, 2, { replacement: "random", seed }) });
      m.load(busyGuest(12, 4));
      m.run({ maxInstructions: 3000 });
      return observeMachine(m);
    };
    expect(firstDifference(run(1), run(2))).toMatch(/^(counters\.tlb|tlb\.tlb)/);
  });

  it("console bytes, with the offset of the first one", () => {
    expect(firstDifference({ console: "ab\xffc" }, { console: "ab\xfec" }, ["jit", "interp"])).toBe(
      'console differs at offset 2 (lengths 4, 4): jit …"ab\xffc"…, interp …"ab\xfec"…',
    );
  });
});

describe("a U-mode Sv32 guest with timer interrupts every 37 ticks at one instruction per tick", () => {
  it.each(Object.entries(TLBS))("%s: one run and a run in chunks", (_, t) => {
    const image = busyGuest(24, 40);
    const config = { ramSize: RAM, tlb: t, instructionsPerTick: 1 };
    const whole = pairOf(config, image);
    expect(whole.step({ maxInstructions: LIMIT })).toBe("exit");
    const s = statsOf(whole);
    expect(s.traps.interrupts.machine_timer).toBeGreaterThan(100);
    expect(Object.values(s.tlb).reduce((n, c) => n + c.misses, 0)).toBeGreaterThan(24);
    expect(s.walk.adUpdates).toBeGreaterThan(0);
    const chunked = pairOf(config, image);
    expect(chunked.runChunked(LIMIT)).toBe("exit");
    expect(chunked.compared).toBeGreaterThan(10);
  });
});

describe("fetch, load and store memos whose entries keep losing the MRU position", () => {
  it.each([
    ["a unified 4x4 LRU TLB", tlb(4, 4)],
    ["a unified 8x2 LRU TLB", tlb(8, 2)],
    ["split 2x2 / 4x4 LRU TLBs", { itlb: tlb(2, 2), dtlb: tlb(4, 4) }],
  ] as const)("%s: one run and a run in chunks, 3 seeds", (_, t) => {
    for (const seed of [1, 2, 3]) {
      const prepare = (m: Machine) => prepareMemoDance(m, seed, 60);
      const whole = pairOf({ ramSize: RAM, tlb: t }, prepare, `seed ${seed}`);
      expect(whole.step({ maxInstructions: LIMIT })).toBe("exit");
      const s = statsOf(whole);
      expect(interp(whole).hart.x[18]).toBe(30 + 5 * 30); // s2: the rewritten addi ran
      expect(Object.values(s.tlb).reduce((n, c) => n + c.evictions, 0)).toBeGreaterThan(100);
      expect(pairOf({ ramSize: RAM, tlb: t }, prepare, `seed ${seed}`).runChunked(LIMIT)).toBe("exit");
    }
  });
});

describe("self-modifying code", () => {
  // 150 passes of +1, 150 of +3 after the rewrite, +100 from the rewritten next instruction,
  // 64 + 63 + ... + 1 from the loop that rewrites its own immediate, 10 passes of +5.
  const expected = (150 + 450 + 100 + (64 * 65) / 2 + 50).toString(16).padStart(8, "0");

  it("a store rewrites a hot loop, the next instruction, an immediate every pass, a branch", () => {
    const pair = pairOf({ ramSize: RAM }, smcGuest(300));
    expect(pair.step({ maxInstructions: LIMIT })).toBe("exit");
    expect(interp(pair).output.split("\n")[0]).toBe(expected);
  });

  it("the same in chunks", () => {
    const pair = pairOf({ ramSize: RAM }, smcGuest(300));
    expect(pair.runChunked(LIMIT)).toBe("exit");
    expect(interp(pair).output.split("\n")[0]).toBe(expected);
  });
});

describe("traps in M, S and U, WFI and timer interrupts, misaligned accesses", () => {
  const ROUNDS = 150;
  it.each([
    ["perform", 1],
    ["perform", 3],
    ["trap", 1],
    ["trap", 7],
  ] as const)("misaligned %s, %i instruction(s) per tick", (misaligned, instructionsPerTick) => {
    const config = { ramSize: RAM, misaligned, instructionsPerTick };
    const whole = pairOf(config, trapGuest(ROUNDS));
    expect(whole.step({ maxInstructions: LIMIT })).toBe("exit");
    const s = statsOf(whole);
    const ex = s.traps.exceptions;
    expect([ex.ecall_u, ex.breakpoint, ex.illegal_instruction, ex.load_access]).toEqual([
      ROUNDS + 1,
      ROUNDS,
      2 * ROUNDS,
      ROUNDS,
    ]);
    if (misaligned === "trap") expect(ex.misaligned_load + ex.misaligned_store).toBe(5 * ROUNDS);
    else expect(s.memory.misaligned).toBe(5 * ROUNDS);
    expect(s.traps.interrupts.machine_timer).toBeGreaterThan(10);
    const chunked = pairOf(config, trapGuest(ROUNDS));
    expect(chunked.runChunked(LIMIT)).toBe("exit");
  });
});

describe("Sdtrig triggers armed on a loop that already ran many times", () => {
  it("execute and load breakpoints, one run and a run in chunks", () => {
    const whole = pairOf({ ramSize: RAM }, triggerGuest(400));
    expect(whole.step({ maxInstructions: LIMIT })).toBe("exit");
    // Armed at the ecalls of passes 200, 192, ..., 8, 0 (s1 below 200): 25 calls, each hit once
    // before the next call re-arms; the call at s1 = 0 arms triggers the loop never reaches.
    const [exec, load] = interp(whole)
      .output.split("\n")
      .map((l) => Number.parseInt(l, 16));
    expect([exec, load]).toEqual([24, 24]);
    expect(statsOf(whole).traps.exceptions.breakpoint).toBe(48);
    expect(pairOf({ ramSize: RAM }, triggerGuest(400)).runChunked(LIMIT)).toBe("exit");
  });
});

describe("a kernel booted by the QEMU boot protocol under the SBI firmware", () => {
  it("SBI calls into the firmware and supervisor timer interrupts, one run and a run in chunks", () => {
    const ram = 64 * 2 ** 20;
    const prepare = (m: Machine) =>
      void bootMachine(m, { kernel: sbiTimerKernel(60), bios: "default", ramSize: ram });
    const whole = pairOf({ ramSize: ram, instructionsPerTick: 3 }, prepare);
    expect(whole.step({ maxInstructions: LIMIT })).toBe("exit");
    expect(interp(whole).output).toBe("ok");
    const s = statsOf(whole);
    // A set_timer call per interrupt and the first, two console calls, the SRST call: ecalls into the
    // firmware. (The timer may strike again on the way out of the loop.)
    expect(s.traps.interrupts.supervisor_timer).toBeGreaterThanOrEqual(60);
    expect(s.traps.exceptions.ecall_s).toBe(s.traps.interrupts.supervisor_timer + 4);
    expect(pairOf({ ramSize: ram, instructionsPerTick: 3 }, prepare).runChunked(LIMIT)).toBe("exit");
  });
});

describe("other ways a run ends", () => {
  it("WFI with no interrupt that can arrive", () => {
    const pair = pairOf({ ramSize: RAM }, pageWriter(300));
    expect(pair.step({ maxInstructions: LIMIT })).toBe("wfi");
    expect(pairOf({ ramSize: RAM }, pageWriter(300)).runChunked(LIMIT)).toBe("wfi");
  });

  it("a fault loop (mtvec on no memory)", () => {
    const prepare = (m: Machine) => {
      m.load(pageWriter(3));
      m.hart.mtvec = 0x4000_0000; // nothing there: every trap entry faults again
      m.hart.pc = 0x4000_0000;
    };
    expect(pairOf({ ramSize: RAM }, prepare).step({ maxInstructions: LIMIT })).toBe("stuck");
    expect(pairOf({ ramSize: RAM }, prepare).runChunked(LIMIT)).toBe("stuck");
  });

  it("HTIF console and exit", () => {
    const pair = pairOf({ ramSize: RAM }, htifGuest("engines\n", 3));
    expect(pair.step({ maxInstructions: LIMIT })).toBe("exit");
    expect(interp(pair).output).toBe("engines\n");
    expect(pairOf({ ramSize: RAM }, htifGuest("engines\n", 3)).runChunked(LIMIT)).toBe("exit");
  });
});

describe("region-of-interest marks", () => {
  it("runs that stop at each mark see the same marks and snapshots", () => {
    const pair = pairOf({ ramSize: RAM }, roiGuest(6));
    for (let i = 0; i < 6; i++) {
      expect(pair.step({ stopAtMark: "begin", maxInstructions: LIMIT })).toBe("mark");
      expect(pair.step({ stopAtMark: "end", maxInstructions: LIMIT })).toBe("mark");
    }
    expect(pair.step({ maxInstructions: LIMIT })).toBe("exit");
    expect(interp(pair).roiMarks.map((m) => m.ops)).toEqual([
      undefined, 10, undefined, 20, undefined, 30, undefined, 40, undefined, 50, undefined, 60,
    ]); // biome-ignore format: marks in pairs
  });

  it("in chunks", () => {
    const pair = pairOf({ ramSize: RAM }, roiGuest(6));
    expect(pair.runChunked(LIMIT)).toBe("exit");
    expect(interp(pair).roiMarks).toHaveLength(12);
  });
});

describe("the H-extension test image (two-stage translation, VS and VU, guest page faults)", () => {
  it("one run and a run in chunks", () => {
    const config = { hExtension: true, ramSize: 16 * 2 ** 20 };
    const whole = pairOf(config, hQemuImage());
    expect(whole.step({ maxInstructions: LIMIT })).toBe("exit");
    const s = statsOf(whole);
    expect(s.hext?.walk2d.walks4K).toBeGreaterThan(0);
    expect(s.traps.toVS).toBeGreaterThan(0);
    const chunked = pairOf(config, hQemuImage());
    expect(chunked.runChunked(LIMIT)).toBe("exit");
  });
});

describe("checkpoint and restore, then both engines continue", () => {
  it("restoring twice and finishing in chunks, then whole", () => {
    const config = {
      ramSize: RAM,
      tlb: tlb(8, 2, { replacement: "random", seed: 7 }),
      instructionsPerTick: 2,
    };
    const pair = pairOf(config, busyGuest(16, 30));
    pair.step({ maxInstructions: 5003 });
    const cps = new Map<Machine, Checkpoint>();
    pair.each((m) => cps.set(m, m.checkpoint()));
    pair.step({ maxInstructions: 20_011 });
    const restore = () => pair.each((m) => m.restore(cps.get(m) as Checkpoint));
    restore();
    pair.expectSame(observeMachine);
    expect(interp(pair).hart.instret).toBe(5003);
    expect(pair.runChunked(LIMIT)).toBe("exit");
    restore();
    pair.expectSame(observeMachine);
    expect(pair.step({ maxInstructions: LIMIT })).toBe("exit");
  });
});

describe("a difference fails the step with the first field that differs", () => {
  it("a machine of the other engine that ran one instruction more", () => {
    let extra = 1;
    const pair = new EnginePair((engine) => {
      const m = new Machine({ ramSize: RAM, engine });
      m.load(smcGuest(20));
      m.run({ maxInstructions: extra-- });
      return machineRig(m);
    });
    expect(() => pair.step({ maxInstructions: 50 })).toThrow(
      /^after step 1: machine\.counters\.cycles: jit 51, interp 50$/,
    );
  });
});
