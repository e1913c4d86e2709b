/**
 * `shadowlab-hv` through `main(argv, io)`: the vocabulary every shadowlab
 * CLI shares (--stats, --version, examples), bad input as one line with exit
 * code 2, images that map bytes nowhere, and a guest stuck faulting, natively
 * and under every strategy.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Assembler, EXIT_STUCK, EXIT_USAGE, type Image, Machine, writeElf } from "@shadowlab/emu-core";
import { afterAll, describe, expect, it } from "vitest";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";
import { cli } from "./support/cli.ts";
import { bootStub, TEST_DEVICE, UART } from "./support/guests.ts";

const dir = mkdtempSync(join(tmpdir(), "shadowlab-hv-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A guest that prints "hi" and passes; optionally with a header segment below RAM as GNU ld makes it. */
function guest(body?: (a: Assembler) => void): Image {
  const a = new Assembler({ text: 0x8000_0000 });
  bootStub(a);
  a.label("supervisor_entry");
  if (body) body(a);
  a.li("s0", UART).li("a0", 0x68).sb("a0", 0, "s0").li("a0", 0x69).sb("a0", 0, "s0");
  a.li("s1", TEST_DEVICE).li("a0", 0x5555).sw("a0", 0, "s1");
  a.label("halt").j("halt");
  return a.assemble();
}

let n = 0;
function file(image: Image): string {
  const p = join(dir, `g${n++}.elf`);
  writeFileSync(p, writeElf(image));
  return p;
}

describe("shadowlab-hv run", () => {
  it("--stats FILE writes the counters whole; the console stays on stdout", async () => {
    const out = join(dir, "s.json");
    const r = await cli("run", file(guest()), "--strategy", "shadow-ondemand", "--stats", out);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("hi");
    expect(JSON.parse(readFileSync(out, "utf8"))).toMatchObject({
      strategy: "shadow-ondemand",
      reason: "exited",
    });
  });

  it("--stats - puts the JSON alone on stdout and the console on stderr", async () => {
    const r = await cli("run", file(guest()), "--strategy", "native", "--stats", "-");
    expect(JSON.parse(r.stdout)).toMatchObject({ strategy: "native", reason: "exit", code: 0 });
    expect(r.stderr).toContain("hi");
  });

  it("--json FILE still works, with a deprecation warning", async () => {
    const out = join(dir, "old.json");
    const r = await cli("run", file(guest()), "--strategy", "native", "--json", out);
    expect(r.code).toBe(0);
    expect(r.errLines[0]).toBe("shadowlab-hv: warning: --json is deprecated; use --stats");
    expect(JSON.parse(readFileSync(out, "utf8")).reason).toBe("exit");
  });

  it("drops a segment below guest RAM with one warning, natively and under the hypervisor", async () => {
    const g = guest();
    const img = file({
      ...g,
      sections: [{ name: "hdr", addr: 0x7fff_f000, bytes: new Uint8Array(64), flags: "r" }, ...g.sections],
    });
    for (const strategy of ["native", "shadow-proactive"]) {
      const r = await cli("run", img, "--strategy", strategy);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("hi");
      expect(r.errLines.filter((l) => l.includes("warning"))).toEqual([
        expect.stringMatching(
          /^shadowlab-hv: warning: .*segment hdr \(0x7ffff000-0x7ffff03f, 64 bytes\) maps no memory or device; dropped$/,
        ),
      ]);
    }
  });

  const cases: [string, () => string[], RegExp][] = [
    [
      "--guest-ram-mib 2048",
      () => ["--guest-ram-mib", "2048"],
      /--guest-ram-mib must be an integer from 1 to 992/,
    ],
    [
      "--max-instructions 99999999999999999999",
      () => ["--max-instructions", "99999999999999999999"],
      /--max-instructions must be an integer from 1 to 9007199254740991/,
    ],
    [
      "--shadow-budget-pages 1.5",
      () => ["--shadow-budget-pages", "1.5"],
      /--shadow-budget-pages must be an integer/,
    ],
    [
      "an unwritable --stats path",
      () => ["--stats", join(dir, "missing", "s.json")],
      /^shadowlab-hv: --stats .*does not exist$/,
    ],
  ];
  it.each(cases)(
    "%s is one line on stderr and exit code 2, before anything runs",
    async (_, extra, message) => {
      const r = await cli("run", file(guest()), "--strategy", "shadow-ondemand", ...extra());
      expect(r.code).toBe(EXIT_USAGE);
      expect(r.stdout).toBe("");
      expect(r.errLines).toHaveLength(1);
      expect(r.errLines[0]).toMatch(message);
    },
  );

  it("an image over a device is one line, exit code 2", async () => {
    const g = guest();
    const img = file({
      ...g,
      sections: [...g.sections, { name: "io", addr: 0x1000_0000, bytes: new Uint8Array(4), flags: "rw" }],
    });
    const r = await cli("run", img, "--strategy", "shadow-tagged");
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.errLines).toEqual([expect.stringMatching(/segment io .*overlaps the uart16550 device/)]);
  });

  it("--version, and examples in --help", async () => {
    expect((await cli("--version")).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect((await cli("run", "--help")).stdout).toMatch(/Examples:\n( {2}\$ shadowlab-hv run .*\n){2,3}/);
  });
});

describe("a guest stuck faulting stops as stuck", () => {
  // Its trap vector maps nothing: every fetch fault is reflected to a vector that faults again.
  const stuck = guest((a) => a.li("t0", 0x2000_0000).csrw("stvec", "t0").jr("t0"));

  it("natively", () => {
    const m = new Machine();
    m.load(stuck);
    const r = m.run({ maxInstructions: 10_000_000 });
    expect(r.reason).toBe("stuck");
    expect(r.instructions).toBeLessThan(100);
  });

  it.each(strategyNames())("under %s, and the CLI exits 123 with one line saying why", async (strategy) => {
    const hv = new Hypervisor();
    hv.addGuest(stuck, strategy);
    const g = hv.run({ maxInstructions: 10_000_000 }).guests[0];
    expect(g.state).toBe("stuck");
    expect(g.error).toMatch(/^1000 identical faults in a row without progress: fetch_\w+ at pc 0x20000000/);
    const r = await cli("run", file(stuck), "--strategy", strategy);
    expect(r.code).toBe(EXIT_STUCK);
    expect(r.errLines[0]).toMatch(/^shadowlab-hv: guest stuck: 1000 identical faults/);
  });
});
