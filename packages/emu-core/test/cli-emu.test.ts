/**
 * `shadowlab-emu`: run and disasm through `main(argv, io)`, and once through
 * the real bin in a child process.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { Assembler } from "../src/asm/index.ts";
import { EXIT_BUDGET, EXIT_USAGE, EXIT_WFI, type Io, main } from "../src/cli/emu.ts";
import { writeElf } from "../src/elf.ts";
import type { Image } from "../src/image.ts";
import { buildVTest, V } from "./support/tohost-env.ts";

const dir = mkdtempSync(join(tmpdir(), "shadowlab-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const UART = 0x1000_0000;
const TEST_DEVICE = 0x0010_0000;

let fileNo = 0;
function elfFile(image: Image): string {
  const path = join(dir, `p${fileNo++}.elf`);
  writeFileSync(path, writeElf(image));
  return path;
}

function program(build: (a: Assembler) => void): string {
  const a = new Assembler({ text: 0x8000_0000 });
  a.label("_start");
  build(a);
  return elfFile(a.assemble());
}

/** Prints `text` on the UART, then stops the machine through the SiFive test device with `code`. */
function printAndExit(a: Assembler, text: string, code: number): void {
  a.li("s0", UART);
  for (const c of Buffer.from(text)) a.li("a0", c).sb("a0", 0, "s0");
  a.li("s1", TEST_DEVICE);
  a.li("a0", code === 0 ? 0x5555 : 0x3333 | (code << 16)).sw("a0", 0, "s1");
  a.label("halt").j("halt");
}

interface Captured {
  code: number;
  console: string;
  stdout: string;
  stderr: string[];
}

async function cli(...argv: string[]): Promise<Captured> {
  const out: number[] = [];
  const stderr: string[] = [];
  let stdout = "";
  const io: Io = {
    out: (b) => out.push(b),
    flush: () => {},
    write: (t) => {
      stdout += t;
    },
    err: (l) => stderr.push(l),
  };
  const code = await main(argv, io);
  return { code, console: Buffer.from(out).toString("utf8"), stdout, stderr };
}

const hello = () => program((a) => printAndExit(a, "hello from the guest\n", 0));
const failing7 = () => program((a) => printAndExit(a, "about to fail\n", 7));
const spinning = () => program((a) => a.label("spin").addi("a0", "a0", 1).j("spin"));

describe("shadowlab-emu run", () => {
  it("prints the guest's UART output and exits 0 when it passes", async () => {
    const r = await cli("run", hello());
    expect(r.console).toBe("hello from the guest\n");
    expect(r.code).toBe(0);
    expect(r.stderr).toEqual([]);
  });

  it("exits with the guest's exit code", async () => {
    const r = await cli("run", failing7());
    expect(r.console).toBe("about to fail\n");
    expect(r.code).toBe(7);
  });

  it("exits 124 with a message when the instruction budget runs out", async () => {
    const r = await cli("run", spinning(), "--max-instructions", "1000");
    expect(r.code).toBe(EXIT_BUDGET);
    expect(EXIT_BUDGET).toBe(124);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/1000 instructions.*budget/);
  });

  it("exits 125 when the guest waits for an interrupt that can never come", async () => {
    const r = await cli(
      "run",
      program((a) => a.csrwi("mie", 0).wfi().j("_start")),
    );
    expect(r.code).toBe(EXIT_WFI);
    expect(EXIT_WFI).toBe(125);
    expect(r.stderr.join("\n")).toMatch(/interrupt/);
  });

  it("a WFI with a timer armed is not a dead end: the run goes on to the guest's exit", async () => {
    const MTIMECMP = 0x0200_4000;
    const r = await cli(
      "run",
      program((a) => {
        a.li("t0", MTIMECMP).li("t1", 100).sw("t1", 0, "t0").sw("zero", 4, "t0");
        a.li("t0", 1 << 7).csrw("mie", "t0"); // MTIE, with mstatus.MIE off: wfi wakes, no trap
        a.wfi();
        printAndExit(a, "woke\n", 0);
      }),
    );
    expect(r.console).toBe("woke\n");
    expect(r.code).toBe(0);
  });

  describe("--stats", () => {
    it("writes every counter as JSON to stdout", async () => {
      const r = await cli("run", failing7(), "--stats");
      expect(r.code).toBe(7);
      const s = JSON.parse(r.stdout);
      expect(s.reason).toBe("exit");
      expect(s.exitCode).toBe(7);
      expect(s.instructions.total).toBeGreaterThan(20);
      expect(s.instructions.machine).toBe(s.instructions.total);
      expect(s.traps).toBeTypeOf("object");
      expect(s.tlb).toBeTypeOf("object");
      expect(Object.keys(s.tlb)).toEqual(["tlb"]); // one unified TLB by default
      expect(s.tlb.tlb.lookups).toBe(0); // bare M-mode: nothing is translated
      expect(s.walk.walks).toBe(0);
    });

    it("writes the JSON to a file, leaving stdout to the guest", async () => {
      const file = join(dir, "stats.json");
      const r = await cli("run", hello(), "--stats", file);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      expect(r.console).toBe("hello from the guest\n");
      expect(existsSync(file)).toBe(true);
      const s = JSON.parse(readFileSync(file, "utf8"));
      expect(Object.keys(s)).toEqual(expect.arrayContaining(["instructions", "traps", "tlb", "walk"]));
      expect(s.instructions.total).toBeGreaterThan(20);
    });
  });

  describe("--trace N", () => {
    it("prints the last N disassembled instructions when the run ends badly", async () => {
      const r = await cli("run", failing7(), "--trace", "5");
      expect(r.code).toBe(7);
      const at = r.stderr.findIndex((l) => /last 5 instructions/.test(l));
      expect(at).toBeGreaterThanOrEqual(0);
      const lines = r.stderr.slice(at).join("\n").split("\n").slice(1);
      expect(lines).toHaveLength(5);
      for (const l of lines) expect(l).toMatch(/^\s+M [0-9a-f]{8}: [0-9a-f]{8}\s+\S+/);
      // The last one is the store to the test device that ended the run.
      expect(lines[4]).toMatch(/\bsw\b/);
    });

    it("prints the trace for a budget stop too", async () => {
      const r = await cli("run", spinning(), "--trace", "3", "--max-instructions", "50");
      expect(r.code).toBe(EXIT_BUDGET);
      expect(r.stderr.join("\n")).toMatch(/last 3 instructions/);
    });

    it("prints nothing when the guest exits 0", async () => {
      const r = await cli("run", hello(), "--trace", "5");
      expect(r.code).toBe(0);
      expect(r.stderr).toEqual([]);
      expect(r.stdout).toBe("");
    });
  });

  describe("TLB flags", () => {
    /** A paged (env/v style) program touching every demand-paged data page several times. */
    const paged = () =>
      elfFile(
        buildVTest({
          body: (t, a) => {
            a.li("gp", 2).li("s1", 5);
            a.label("again");
            for (let p = 0; p < V.USER_DATA_PAGES; p++) a.li("a1", V.USER_DATA + p * 4096).lw("a2", 0, "a1");
            a.addi("s1", "s1", -1).bnez("s1", "again");
            t.passFail();
          },
        }),
      );

    it("accepts --tlb-entries --tlb-ways --tlb-replacement random --no-asid-tags --split-tlb; stats show itlb/dtlb", async () => {
      const r = await cli(
        "run",
        paged(),
        "--tlb-entries",
        "8",
        "--tlb-ways",
        "2",
        "--tlb-replacement",
        "random",
        "--no-asid-tags",
        "--split-tlb",
        "--stats",
      );
      expect(r.code).toBe(0);
      const s = JSON.parse(r.stdout);
      expect(Object.keys(s.tlb).sort()).toEqual(["dtlb", "itlb"]);
      const { itlb, dtlb } = s.tlb;
      expect(itlb.lookups).toBeGreaterThan(0);
      expect(dtlb.lookups).toBeGreaterThan(0);
      expect(itlb.lookups).toBe(itlb.hits + itlb.misses);
      expect(dtlb.lookups).toBe(dtlb.hits + dtlb.misses);
      expect(s.walk.walks).toBeGreaterThan(0);
    });

    it("the TLB size takes effect: one entry misses more than 64", async () => {
      const file = paged();
      const small = JSON.parse((await cli("run", file, "--tlb-entries", "1", "--stats")).stdout);
      const big = JSON.parse((await cli("run", file, "--tlb-entries", "64", "--stats")).stdout);
      expect(small.tlb.tlb.misses).toBeGreaterThan(big.tlb.tlb.misses);
      expect(small.walk.walks).toBeGreaterThan(big.walk.walks);
    });
  });

  describe("user mistakes: one line on stderr, exit code 2, no stack trace", () => {
    const notElf = () => {
      const p = join(dir, "notes.txt");
      writeFileSync(p, "this is not an ELF file\n");
      return p;
    };
    const elf64 = () => {
      const bytes = new Uint8Array(readFileSync(hello()));
      bytes[4] = 2; // EI_CLASS = ELFCLASS64
      const p = join(dir, "sixty-four.elf");
      writeFileSync(p, bytes);
      return p;
    };
    const cases: [string, () => string[], RegExp][] = [
      ["a path that does not exist", () => ["run", join(dir, "missing.elf")], /missing\.elf.*no such file/],
      ["a file that is not an ELF", () => ["run", notElf()], /notes\.txt/],
      ["a 64-bit ELF", () => ["run", elf64()], /64-bit/],
      ["--tlb-entries 3", () => ["run", hello(), "--tlb-entries", "3"], /power of two/],
      [
        "--tlb-ways larger than entries",
        () => ["run", hello(), "--tlb-entries", "4", "--tlb-ways", "8"],
        /ways/,
      ],
      ["--max-instructions abc", () => ["run", hello(), "--max-instructions", "abc"], /--max-instructions/],
      ["--max-instructions 0", () => ["run", hello(), "--max-instructions", "0"], /--max-instructions/],
      ["--trace -1", () => ["run", hello(), "--trace", "-1"], /--trace/],
      ["--tlb-replacement fifo", () => ["run", hello(), "--tlb-replacement", "fifo"], /fifo/],
      ["an unknown option", () => ["run", hello(), "--bogus"], /bogus/],
      ["a missing file argument", () => ["run"], /nothing to run/],
      [
        "a kernel that is not one",
        () => ["run", "--kernel", join(dir, "nope.img")],
        /--kernel .*no such file/,
      ],
      ["disasm of a missing file", () => ["disasm", join(dir, "nope.elf")], /no such file/],
    ];

    it.each(cases)("%s", async (_, argv, message) => {
      const r = await cli(...argv());
      expect(r.code).toBe(EXIT_USAGE);
      expect(r.stderr).toHaveLength(1);
      expect(r.stderr[0]).not.toContain("\n");
      expect(r.stderr[0]).toMatch(message);
      expect(r.stderr[0]).not.toMatch(/\bat .*\.ts:\d+/);
      expect(r.console).toBe("");
    });
  });
});

describe("shadowlab-emu disasm", () => {
  it("prints objdump-style lines under symbol headers", async () => {
    const a = new Assembler({ text: 0x8000_0000 });
    a.label("_start").li("a0", 5).label("loop").addi("a0", "a0", -1).bnez("a0", "loop").label("done").ret();
    const r = await cli("disasm", elfFile(a.assemble()));
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain("Disassembly of section .text:");
    const header = (addr: number, name: string) => `${addr.toString(16).padStart(8, "0")} <${name}>:`;
    expect(lines).toContain(header(0x8000_0000, "_start"));
    expect(lines).toContain(header(0x8000_0004, "loop"));
    expect(lines).toContain(header(0x8000_000c, "done"));
    const insns = lines.filter((l) => /^\s*[0-9a-f]+:\t/.test(l));
    expect(insns).toHaveLength(4);
    for (const l of insns) expect(l).toMatch(/^[ 0-9a-f]{8}:\t[0-9a-f]{8} +\t\S/);
    expect(insns[0]).toMatch(/^80000000:\t00500513 +\tli\ta0,5$/); // addi a0,zero,5
    expect(insns[3]).toMatch(/^8000000c:\t00008067 +\tret$/); // jalr zero,0(ra)
    // Headers come right before the instruction at their address.
    expect(lines[lines.indexOf(header(0x8000_0004, "loop")) + 1]).toMatch(/^80000004:/);
  });
});

describe("the shadowlab-emu bin", () => {
  it("runs an ELF end to end in a child process: exit code and stdout", () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const root = join(here, "..", "..", "..");
    const elf = program((a) => printAndExit(a, "bin ok\n", 5));
    const r = spawnSync(
      process.execPath,
      [join("packages", "emu-core", "bin", "shadowlab-emu.mjs"), "run", elf],
      {
        cwd: root,
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe("bin ok\n");
    expect(r.status).toBe(5);
    expect(r.stderr).toBe("");
  }, 35_000);
});
