/**
 * Programs that follow the official riscv-tests environment conventions
 * (env/p and env/v; see test/support/tohost-env.ts) run on the machine and
 * through `shadowlab-emu run`: pass = tohost 1 = exit 0, fail = tohost
 * (TESTNUM << 1) | 1 = exit TESTNUM, and HTIF console bytes (device 1,
 * command 1) are printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Assembler } from "../src/asm/index.ts";
import type { Io } from "../src/cli/emu.ts";
import { main } from "../src/cli/emu.ts";
import { readElf, writeElf } from "../src/elf.ts";
import type { Image } from "../src/image.ts";
import { Machine } from "../src/machine.ts";
import { buildPTest, buildVTest, RAM, type TestMacros, V } from "./support/tohost-env.ts";

const dir = mkdtempSync(join(tmpdir(), "shadowlab-riscv-tests-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function elfFile(image: Image): string {
  const path = join(dir, `t${fileNo++}.elf`);
  writeFileSync(path, writeElf(image));
  return path;
}

function runMachine(image: Image) {
  const m = new Machine({ ramSize: 1 << 20 });
  m.load(image);
  const r = m.run({ maxInstructions: 200_000 });
  return { m, r };
}

async function runCli(image: Image, extra: string[] = []) {
  const out: number[] = [];
  const err: string[] = [];
  let stdout = "";
  const io: Io = {
    out: (b) => out.push(b),
    flush: () => {},
    write: (t) => {
      stdout += t;
    },
    err: (l) => err.push(l),
  };
  const code = await main(["run", elfFile(image), ...extra], io);
  return { code, console: Buffer.from(out).toString("utf8"), stdout, err };
}

/** A handful of rv32ui-style cases: ALU, memory through the stack area, branches. */
function passingBody(t: TestMacros, a: Assembler): void {
  t.testRR(2, "add", 0x8000_0000, 0x7fff_ffff, 1)
    .testRR(3, "sub", -1, 0, 1)
    .testImm(4, "srai", -1, 0x8000_0000, 31)
    .testRR(5, "mulhu", -2, -1, -1)
    .testRR(6, "divu", -1, 12345, 0)
    .testCase(7, 0x5a, (b) => {
      b.la("a1", "scratch").li("a2", 0x5a).sb("a2", 3, "a1").lbu("a4", 3, "a1");
    });
  void a;
  t.passFail();
}

/** Same, with a wrong expectation in test 3. */
function failingBody(t: TestMacros): void {
  t.testRR(2, "add", 3, 1, 2)
    .testRR(3, "sub", 1, 1, 2) // wrong on purpose: 1 - 2 = -1
    .testRR(4, "add", 5, 2, 3)
    .passFail();
}

describe("env/p: M-mode reset vector, mret into the test body, ecall to the M handler", () => {
  const MODES = [
    { mode: "M", priv: 3, ecall: "ecall_m" },
    { mode: "S", priv: 1, ecall: "ecall_s" },
    { mode: "U", priv: 0, ecall: "ecall_u" },
  ] as const;

  it.each(MODES)("a passing $mode-mode test writes 1 to tohost: exit 0", ({ mode, ecall }) => {
    const image = buildPTest({ mode, body: passingBody });
    const { m, r } = runMachine(image);
    expect(r.reason).toBe("exit");
    expect(r.exitCode).toBe(0);
    expect(r.stats.traps.exceptions[ecall]).toBe(1); // RVTEST_PASS's ecall, from the body's mode
    expect(r.stats.traps.toM).toBe(1);
    expect(m.hart.x[3]).toBe(1); // TESTNUM = 1 on pass
    // The emulator acknowledges the command by clearing tohost.
    expect(m.hart.readPhys(image.symbols.tohost, 4)).toBe(0);
  });

  it.each(MODES)("the $mode-mode body really runs at its privilege", ({ mode }) => {
    const { r } = runMachine(buildPTest({ mode, body: passingBody }));
    const i = r.stats.instructions;
    if (mode === "U") expect(i.user).toBeGreaterThan(40);
    else expect(i.user).toBe(0);
    if (mode === "S") expect(i.supervisor).toBeGreaterThan(40);
    else expect(i.supervisor).toBe(0);
  });

  it("the reset vector leaves the state env/p sets up: PMP NAPOT RWX over all memory, no delegation, satp 0", () => {
    const { m } = runMachine(buildPTest({ mode: "U", body: passingBody }));
    const h = m.hart;
    expect(h.pmpaddr[0]).toBe(-1);
    expect(h.pmpcfg[0] & 0xff).toBe(0x1f); // A = NAPOT (3 << 3) | X | W | R
    expect(h.medeleg).toBe(0);
    expect(h.mideleg).toBe(0);
    expect(h.satp).toBe(0);
    expect(h.mtvec >>> 0).toBe(buildPTest({ mode: "U", body: passingBody }).symbols.trap_vector);
  });

  it.each(MODES)("a failing $mode-mode test exits with its TESTNUM", ({ mode }) => {
    const { m, r } = runMachine(buildPTest({ mode, body: failingBody }));
    expect(r.reason).toBe("exit");
    expect(r.exitCode).toBe(3);
    expect(m.hart.x[3]).toBe((3 << 1) | 1); // what RVTEST_FAIL wrote to tohost
  });

  it("an unexpected exception reports TESTNUM | 1337 (env/p's other_exception)", () => {
    const { r } = runMachine(
      buildPTest({
        mode: "U",
        body: (t, a) => {
          t.testRR(2, "add", 3, 1, 2);
          a.li("gp", 4).unimp(); // illegal instruction in test 4
          t.passFail();
        },
      }),
    );
    expect(r.stats.traps.exceptions.illegal_instruction).toBe(1);
    expect(r.exitCode).toBe((4 | 1337) >>> 1);
  });

  it("a test that only ever writes the low half of tohost (older env/p) still exits", () => {
    const a = buildPTest({ mode: "M", body: passingBody });
    // Patch write_tohost's `sw zero, 4(t5)` into a nop: the loop then rewrites the low word only.
    const text = a.sections.find((s) => s.name === ".text");
    if (!text) throw new Error("no .text");
    const bytes = text.bytes.slice();
    const view = new DataView(bytes.buffer);
    const swZero4T5 = (4 << 7) | (2 << 12) | (30 << 15) | (0 << 20) | 0x23; // sw zero, 4(t5)
    const at = a.symbols.write_tohost - text.addr;
    let patched = 0;
    for (let off = at; off < at + 16; off += 4) {
      if (view.getUint32(off, true) === swZero4T5) {
        view.setUint32(off, 0x13, true);
        patched++;
      }
    }
    expect(patched).toBe(1);
    const image: Image = { ...a, sections: a.sections.map((s) => (s === text ? { ...s, bytes } : s)) };
    expect(runMachine(image).r.exitCode).toBe(0);
    const failing = buildPTest({ mode: "M", body: failingBody });
    expect(runMachine(failing).r.exitCode).toBe(3);
  });
});

describe("env/v: Sv32 on, U-mode body at virtual addresses, S-mode trap handler", () => {
  /** Touches two user data pages (a store, then a load in another page) and checks the values. */
  function pagedBody(t: TestMacros, a: Assembler): void {
    t.testCase(2, 0x1234_5678, (b) => {
      b.li("a1", V.USER_DATA + 0x10)
        .li("a2", 0x1234_5678)
        .sw("a2", 0, "a1")
        .lw("a4", 0, "a1");
    });
    t.testCase(3, 0, (b) => {
      b.li("a1", V.USER_DATA + 2 * 4096 + 0x20).lw("a4", 0, "a1"); // fresh page: zero
    });
    t.testCase(4, 0x1234_5678, (b) => {
      b.li("a1", V.USER_DATA + 0x10).lw("a4", 0, "a1"); // first page, now mapped
    });
    t.testRR(5, "mul", 42, 6, 7);
    void a;
    t.passFail();
  }

  it("a passing test exits 0 after faulting its data pages in through the S handler", () => {
    const image = buildVTest({ body: pagedBody });
    const { m, r } = runMachine(image);
    expect(r.reason).toBe("exit");
    expect(r.exitCode).toBe(0);
    const traps = r.stats.traps;
    expect(traps.exceptions.store_page_fault).toBe(1); // test 2's first touch
    expect(traps.exceptions.load_page_fault).toBe(1); // test 3's first touch
    expect(traps.exceptions.ecall_u).toBe(1);
    expect(traps.toS).toBe(3); // all delegated
    expect(traps.toM).toBe(0);
    expect(m.hart.readPhys(image.symbols.demand_faults, 4)).toBe(2);
    // Translation was on and used.
    expect(m.hart.satp >>> 31).toBe(1);
    expect(r.stats.walk.walks).toBeGreaterThan(0);
    expect(r.stats.instructions.user).toBeGreaterThan(20);
    expect(r.stats.instructions.supervisor).toBeGreaterThan(20);
  });

  it("virtual and physical addresses differ: the user's store lands in the frame the handler chose", () => {
    const image = buildVTest({ body: pagedBody });
    const { m } = runMachine(image);
    const frames = image.symbols.user_frames;
    expect(frames).not.toBe(V.USER_DATA);
    expect(m.hart.readPhys(frames + 0x10, 4)).toBe(0x1234_5678);
    // Nothing at the virtual address taken as physical: it is not RAM.
    expect(V.USER_DATA + 0x10 < RAM).toBe(true);
    // The run ends in the S handler with Sv32 still on: USER_CODE maps to the user page's frame.
    expect(m.hart.priv).toBe(1);
    expect(image.symbols.user_code).not.toBe(V.USER_CODE);
    expect(m.hart.peekPhys(V.USER_CODE, true)).toBe(image.symbols.user_code);
    expect(m.hart.peekPhys(V.USER_DATA + 0x10)).toBe(frames + 0x10);
  });

  it("a failing test exits with its TESTNUM, written to tohost by the S-mode handler", () => {
    const { m, r } = runMachine(
      buildVTest({
        body: (t) => {
          t.testRR(2, "add", 3, 1, 2);
          t.testCase(3, 7, (b) => b.li("a1", V.USER_DATA).li("a2", 8).sw("a2", 0, "a1").lw("a4", 0, "a1"));
          t.passFail();
        },
      }),
    );
    expect(r.exitCode).toBe(3);
    expect(m.hart.priv).toBe(1); // the handler that wrote tohost ran in S-mode
    expect(r.stats.traps.toM).toBe(0);
  });

  it("a user access outside the demand-paged region is reported as TESTNUM | 1337", () => {
    const { r } = runMachine(
      buildVTest({
        body: (t, a) => {
          a.li("gp", 2).li("a1", 0x0100_0000).lw("a4", 0, "a1");
          t.passFail();
        },
      }),
    );
    expect(r.stats.traps.exceptions.load_page_fault).toBe(1);
    expect(r.exitCode).toBe((2 | 1337) >>> 1);
  });
});

describe("the same programs as ELF files through `shadowlab-emu run`", () => {
  it.each(["M", "S", "U"] as const)("env/p %s: pass exits 0, fail exits TESTNUM", async (mode) => {
    expect((await runCli(buildPTest({ mode, body: passingBody }))).code).toBe(0);
    const fail = await runCli(buildPTest({ mode, body: failingBody }));
    expect(fail.code).toBe(3);
  });

  it("env/v: pass exits 0, fail exits TESTNUM", async () => {
    expect((await runCli(buildVTest({ body: (t) => t.testRR(2, "add", 3, 1, 2).passFail() }))).code).toBe(0);
    expect(
      (
        await runCli(
          buildVTest({ body: (t) => t.testRR(2, "add", 3, 1, 2).testRR(9, "add", 0, 1, 2).passFail() }),
        )
      ).code,
    ).toBe(9);
  });

  it("the ELF keeps the tohost symbol the machine needs for HTIF", () => {
    const image = buildPTest({ mode: "U", body: passingBody });
    const back = readElf(writeElf(image));
    expect(back.symbols.tohost).toBe(image.symbols.tohost);
    expect(back.symbols.fromhost).toBe(image.symbols.tohost + 64);
  });

  it("HTIF console bytes (device 1, command 1) are printed, odd and even alike", async () => {
    const message = "Hello, HTIF! ~ 0123456789 abcdefghijklmnopqrstuvwxyz\n";
    const image = buildPTest({
      mode: "U",
      body: passingBody,
      extraInit: (a) => {
        for (const c of message) a.li("a0", c.charCodeAt(0)).jal("ra", "htif_putchar");
      },
    });
    const cli = await runCli(image);
    expect(cli.code).toBe(0);
    expect(cli.console).toBe(message);
    expect(cli.err).toEqual([]);
    const { m, r } = runMachine(image);
    expect(r.exitCode).toBe(0);
    expect(m.output).toBe(message);
  });

  it("every byte value goes through the HTIF console unchanged", () => {
    const a = buildPTest({
      mode: "M",
      body: (t) => t.passFail(),
      extraInit: (b) => {
        b.li("s1", 0);
        b.label("all_bytes").mv("a0", "s1").jal("ra", "htif_putchar").addi("s1", "s1", 1);
        b.li("t0", 256).blt("s1", "t0", "all_bytes");
      },
    });
    const bytes: number[] = [];
    const machine = new Machine({ ramSize: 1 << 20 }, (b) => bytes.push(b));
    machine.load(a);
    const r = machine.run({ maxInstructions: 200_000 });
    expect(r.exitCode).toBe(0);
    expect(bytes).toEqual(Array.from({ length: 256 }, (_, i) => i));
  });

  it("a console byte followed by a failing test: output first, then the TESTNUM exit", async () => {
    const image = buildPTest({
      mode: "S",
      body: failingBody,
      extraInit: (a) => a.li("a0", 0x61).jal("ra", "htif_putchar"),
    });
    const cli = await runCli(image);
    expect(cli.console).toBe("a");
    expect(cli.code).toBe(3);
  });
});
