/**
 * `shadowlab-workloads` list / run / export, and every class of user mistake:
 * one line on stderr naming the problem, exit code 2, no stack trace.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Io } from "@shadowlab/emu-core";
import { readElf, writeElf } from "@shadowlab/emu-core";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../src/cli.ts";
import { getWorkload, parseParams, WORKLOADS } from "../src/registry.ts";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "bin", "shadowlab-workloads.mjs");

async function cli(...argv: string[]) {
  const bytes: number[] = [];
  let stdout = "";
  const stderr: string[] = [];
  const io: Io = {
    out: (b) => bytes.push(b),
    flush: () => {},
    write: (t) => {
      stdout += Buffer.from(bytes.splice(0)).toString("utf8") + t;
    },
    err: (l) => stderr.push(l),
  };
  const code = await main(argv, io);
  stdout += Buffer.from(bytes).toString("utf8");
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), "shadowlab-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("shadowlab-workloads list", () => {
  it("lists every workload with its parameters, defaults and bounds", async () => {
    const r = await cli("list");
    expect(r.code).toBe(0);
    expect(r.stderr).toEqual([]);
    for (const w of WORKLOADS) expect(r.stdout).toMatch(new RegExp(`^${w.name}  `, "m"));
    expect(r.stdout).toMatch(
      /^ {4}pages +pages of its own working set .*\[an integer from 0 to 256; default 4\]$/m,
    );
    expect(r.stdout).toMatch(
      /^ {4}variant +.*\[one of syscall, in, csrwr, callret, pgfault, trap, ptemod; default syscall\]$/m,
    );
    expect(r.stdout).toMatch(/^ {4}asid +.*\[true or false; default false\]$/m);
  });

  it("--json gives the same as data", async () => {
    const r = await cli("list", "--json");
    const all = JSON.parse(r.stdout);
    expect(all.map((w: { name: string }) => w.name)).toEqual(WORKLOADS.map((w) => w.name));
    expect(all[0].params[0]).toMatchObject({
      name: "processes",
      type: "integer",
      default: 4,
      minimum: 1,
      maximum: 96,
    });
  });
});

describe("shadowlab-workloads run", () => {
  it("prints the console, the verdict against the reference model and a table of counters; exits 0", async () => {
    const r = await cli("run", "forkwait", "--param", "children=3", "-p", "pages=1");
    const e = getWorkload("forkwait").expected(
      parseParams(getWorkload("forkwait"), { children: 3, pages: 1 }),
    );
    expect(r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    for (const line of e.reportLines) expect(r.stdout).toContain(`${line}\n`);
    expect(r.stdout).toContain("--- forkwait children=3 pages=1 fork=cow asid=false: exit 0; checksum 0x");
    expect(r.stdout).toContain("matches the reference model");
    for (const row of [
      "instructions",
      "  user",
      "  supervisor",
      "  machine",
      "traps to S",
      "  exception ecall_u",
      "tlb lookups",
      "  misses",
      "page walks",
      "  memory references",
    ])
      expect(r.stdout).toMatch(new RegExp(`^${row} +[0-9,]+$`, "m"));
  });

  it("exits 124 when the instruction budget runs out", async () => {
    const r = await cli("run", "compute", "--max-instructions", "1000");
    expect(r.code).toBe(124);
    expect(r.stderr[0]).toBe("shadowlab-workloads: stopped after 1000 instructions (budget)");
  });

  it("--stats - writes the counters as JSON, alone on stdout: console and summary go to stderr", async () => {
    const r = await cli("run", "syscall", "-p", "iterations=10", "--stats", "-");
    const json = JSON.parse(r.stdout);
    expect(r.stderr.join("\n")).toMatch(
      /--- syscall iterations=10.*checksum 0x[0-9a-f]{8} matches the reference model/,
    );
    expect(json).toMatchObject({
      workload: "syscall",
      params: { iterations: 10 },
      reason: "exit",
      exitCode: 0,
    });
    expect(json.traps.exceptions.ecall_u).toBe(11);
  });

  it("--engine picks the machine's engine (default jit) and the counters name it", async () => {
    const d = JSON.parse((await cli("run", "syscall", "-p", "iterations=10", "--stats", "-")).stdout);
    const i = await cli("run", "syscall", "-p", "iterations=10", "--engine", "interp", "--stats", "-");
    expect(i.code).toBe(0);
    const is = JSON.parse(i.stdout);
    expect(d.engine).toBe("jit");
    expect(is.engine).toBe("interp");
    expect(is.instructions).toEqual(d.instructions);
  });
});

describe("shadowlab-workloads --version and examples", () => {
  it("--version prints the package version", async () => {
    const r = await cli("--version");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
  it.each([["--help"], ["run", "--help"], ["export", "--help"], ["list", "--help"]])(
    "%s %s shows examples",
    async (...argv) => {
      const r = await cli(...argv.filter(Boolean));
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Examples:\n( {2}\$ .*\n){2,3}/);
    },
  );
});

describe("shadowlab-workloads export", () => {
  it("writes the workload's ELF", async () => {
    const file = join(dir, "pf.elf");
    const r = await cli("export", "pagefault", "--param", "cycles=2", "--out", file);
    expect(r.code).toBe(0);
    const w = getWorkload("pagefault");
    const bytes = readFileSync(file);
    expect(new Uint8Array(bytes)).toEqual(writeElf(w.build(parseParams(w, { cycles: 2 }))));
    const image = readElf(bytes);
    expect(image.symbols.supervisor_entry).toBeTypeOf("number");
    expect(r.stderr).toEqual([`shadowlab-workloads: wrote ${file} (${bytes.length} bytes)`]);
  });
});

describe("shadowlab-workloads mistakes: one line, exit 2", () => {
  const cases: [string[], string][] = [
    [
      ["run", "nope"],
      "shadowlab-workloads: unknown workload 'nope' (workloads: ctxswitch, forkwait, syscall, pagefault, mmio, compute, preempt, nano)",
    ],
    [
      ["export", "nope", "--out", "x.elf"],
      "shadowlab-workloads: unknown workload 'nope' (workloads: ctxswitch, forkwait, syscall, pagefault, mmio, compute, preempt, nano)",
    ],
    [
      ["run", "syscall", "--param", "count=3"],
      "shadowlab-workloads: syscall: unknown parameter 'count' (parameters: iterations, asid)",
    ],
    [
      ["run", "ctxswitch", "--param", "processes=97"],
      "shadowlab-workloads: ctxswitch: parameter processes must be an integer from 1 to 96 (got 97)",
    ],
    [
      ["run", "ctxswitch", "--param", "processes=four"],
      'shadowlab-workloads: ctxswitch: parameter processes must be an integer from 1 to 96 (got "four")',
    ],
    [
      ["run", "ctxswitch", "--param", "asid=2"],
      'shadowlab-workloads: ctxswitch: parameter asid must be true or false (got "2")',
    ],
    [
      ["run", "nano", "-p", "variant=divzero"],
      'shadowlab-workloads: nano: parameter variant must be one of syscall, in, csrwr, callret, pgfault, trap, ptemod (got "divzero")',
    ],
    [
      ["run", "preempt", "-p", "quantum=5"],
      "shadowlab-workloads: preempt: parameter quantum must be an integer from 100 to 10000000 (got 5)",
    ],
    [
      ["run", "syscall", "--param", "iterations"],
      'shadowlab-workloads: --param expects key=value (got "iterations")',
    ],
    [
      ["export", "syscall", "--out", "/nonexistent-dir/x.elf"],
      "shadowlab-workloads: --out /nonexistent-dir/x.elf: directory /nonexistent-dir does not exist",
    ],
    [["export", "syscall"], "shadowlab-workloads: export needs --out <file.elf>"],
    [["run"], "error: missing required argument 'name'"],
    [["frobnicate"], "error: unknown command 'frobnicate'"],
    [
      ["run", "syscall", "--max-instructions", "-3"],
      "error: option '--max-instructions <n>' argument '-3' is invalid. --max-instructions must be an integer from 1 to 9007199254740991 (got \"-3\")",
    ],
  ];
  for (const [argv, line] of cases) {
    it(argv.join(" "), async () => {
      const r = await cli(...argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toEqual([line]);
    });
  }

  it("through the bin: no stack trace, exit 2", () => {
    const r = spawnSync(process.execPath, [BIN, "run", "ctxswitch", "--param", "pages=1000"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "shadowlab-workloads: ctxswitch: parameter pages must be an integer from 0 to 256 (got 1000)\n",
    );
    const ok = spawnSync(process.execPath, [BIN, "run", "syscall", "-p", "iterations=5"], {
      encoding: "utf8",
    });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("pid 1 exit 0x00000005\n");
  });
});
