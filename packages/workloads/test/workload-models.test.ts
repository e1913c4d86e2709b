/**
 * The parts of the workloads that need no guest kernel run: schemas
 * (defaults, bounds, descriptions), parameter errors, the reference models on
 * cases worked by hand, and user programs that assemble at every extreme of
 * their parameters.
 */
import { Assembler } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { checksumOf, USER } from "../src/kernel/abi.ts";
import {
  allowedRange,
  coerceParam,
  describeParams,
  getWorkload,
  parseParamArgs,
  parseParams,
  WORKLOADS,
  WorkloadParamError,
  workloadNames,
} from "../src/registry.ts";
import { FNV_BASIS, fnv, lcgModel, type Params, reportOf, type Workload } from "../src/workloads/common.ts";
import { NANO_VARIANTS } from "../src/workloads/nano.ts";

const assembleUser = (w: Workload, p: Params) => {
  const a = new Assembler({ text: USER.text, data: USER.data });
  const prog = w.program(p);
  prog.user(a);
  prog.userData?.(a);
  return a.assemble();
};

describe("workload registry", () => {
  it("has every workload of the design, once", () => {
    expect(workloadNames()).toEqual([
      "ctxswitch",
      "forkwait",
      "syscall",
      "pagefault",
      "mmio",
      "compute",
      "preempt",
      "nano",
    ]);
  });

  it("gives every parameter a description, a default and (for numbers) bounds; asid everywhere, quantum for preempt", () => {
    for (const w of WORKLOADS) {
      const params = describeParams(w);
      expect(params.map((p) => p.name)).toContain("asid");
      for (const p of params) {
        expect(p.description.length, `${w.name}.${p.name}`).toBeGreaterThan(5);
        expect(p.default, `${w.name}.${p.name}`).not.toBeUndefined();
        if (p.type === "integer") {
          expect(p.minimum, `${w.name}.${p.name}`).toBeTypeOf("number");
          expect(p.maximum, `${w.name}.${p.name}`).toBeTypeOf("number");
        }
      }
      expect(w.description.length).toBeGreaterThan(10);
    }
    expect(describeParams(getWorkload("preempt")).map((p) => p.name)).toContain("quantum");
    expect(describeParams(getWorkload("nano")).find((p) => p.name === "variant")?.values).toEqual([
      ...NANO_VARIANTS,
    ]);
  });

  it("fills in defaults and derives kernel options from asid and quantum", () => {
    const p = parseParams(getWorkload("preempt"), { asid: true, quantum: 500 });
    expect(p).toEqual({ processes: 4, iterations: 20_000, quantum: 500, asid: true });
    expect(getWorkload("preempt").kernelOptions(p)).toMatchObject({ asid: true, quantum: 500 });
    expect(getWorkload("syscall").kernelOptions(parseParams(getWorkload("syscall")))).toMatchObject({
      asid: false,
    });
  });

  it("reports unknown workloads, unknown parameters, bounds and types in one line naming the parameter", () => {
    const msg = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(WorkloadParamError);
        return (e as Error).message;
      }
      throw new Error("no error");
    };
    const cs = getWorkload("ctxswitch");
    expect(msg(() => getWorkload("nope"))).toBe(
      "unknown workload 'nope' (workloads: ctxswitch, forkwait, syscall, pagefault, mmio, compute, preempt, nano)",
    );
    expect(msg(() => parseParamArgs(cs, ["colour=red"]))).toBe(
      "ctxswitch: unknown parameter 'colour' (parameters: processes, pages, rounds, asid)",
    );
    expect(msg(() => parseParamArgs(cs, ["pages=257"]))).toBe(
      "ctxswitch: parameter pages must be an integer from 0 to 256 (got 257)",
    );
    expect(msg(() => parseParamArgs(cs, ["processes=0"]))).toBe(
      "ctxswitch: parameter processes must be an integer from 1 to 96 (got 0)",
    );
    expect(msg(() => parseParamArgs(cs, ["rounds=ten"]))).toBe(
      'ctxswitch: parameter rounds must be an integer from 1 to 100000 (got "ten")',
    );
    expect(msg(() => parseParamArgs(cs, ["rounds=2.5"]))).toBe(
      "ctxswitch: parameter rounds must be an integer from 1 to 100000 (got 2.5)",
    );
    expect(msg(() => parseParamArgs(cs, ["asid=maybe"]))).toBe(
      'ctxswitch: parameter asid must be true or false (got "maybe")',
    );
    expect(msg(() => parseParamArgs(cs, ["pages"]))).toBe('--param expects key=value (got "pages")');
    expect(msg(() => parseParamArgs(cs, ["pages=1", "pages=2"]))).toBe(
      "ctxswitch: parameter pages given twice",
    );
    const nano = getWorkload("nano");
    expect(msg(() => parseParamArgs(nano, ["variant=divzero"]))).toBe(
      'nano: parameter variant must be one of syscall, in, csrwr, callret, pgfault, trap, ptemod (got "divzero")',
    );
    expect(msg(() => parseParamArgs(nano, ["variant=pgfault", "iterations=5000"]))).toBe(
      "nano: parameter iterations must be at most 4096 for variant pgfault (got 5000)",
    );
    expect(msg(() => parseParamArgs(cs, ["processes=48", "pages=100"]))).toBe(
      "ctxswitch: parameter pages times processes must be at most 4096 (the kernel manages 32 MiB) (got 100)",
    );
    expect(msg(() => parseParams(cs, { pages: "3" }))).toBe(
      'ctxswitch: parameter pages must be an integer from 0 to 256 (got "3")',
    );
  });

  it("reads CLI values by the schema's type", () => {
    const [, pages, , asid] = describeParams(getWorkload("ctxswitch"));
    expect(coerceParam(pages, "0x10")).toBe(16);
    expect(coerceParam(pages, "1_000")).toBe(1000);
    expect(coerceParam(pages, "1e3")).toBe(1000);
    expect(coerceParam(asid, "yes")).toBe(true);
    expect(coerceParam(asid, "0")).toBe(false);
    expect(allowedRange(pages)).toBe("an integer from 0 to 256");
    expect(parseParamArgs(getWorkload("ctxswitch"), ["pages=0x10", "asid=true"])).toMatchObject({
      pages: 16,
      asid: true,
    });
  });
});

describe("reference models", () => {
  const expectedOf = (name: string, raw: Record<string, unknown>) => {
    const w = getWorkload(name);
    return w.expected(parseParams(w, raw));
  };

  it("checksum and report follow abi.ts", () => {
    const e = expectedOf("syscall", { iterations: 7 });
    expect(e.exitCodes).toEqual([7]);
    expect(e.checksum).toBe(checksumOf([7]));
    expect(e.reportLines).toEqual([
      "pid 1 exit 0x00000007",
      `checksum=0x${checksumOf([7]).toString(16).padStart(8, "0")}`,
    ]);
    expect(reportOf([0xdeadbeef, 1])[1]).toBe("pid 2 exit 0x00000001");
  });

  it("ctxswitch: one process, one page, two rounds, by hand", () => {
    // pid 1, page 0: v = 0 + 1 + 1 = 2, then 4.
    const e = expectedOf("ctxswitch", { processes: 1, pages: 1, rounds: 2 });
    expect(e.exitCodes).toEqual([fnv(fnv(fnv(FNV_BASIS, 1), 2), 4)]);
  });

  it("ctxswitch: process 1 adds pid + code of each child", () => {
    const e = expectedOf("ctxswitch", { processes: 2, pages: 0, rounds: 3 });
    const child = fnv(FNV_BASIS, 2);
    expect(e.exitCodes).toEqual([(fnv(FNV_BASIS, 1) + 2 + child) >>> 0, child]);
  });

  it("forkwait: the child reads the parent's words (the parent adds 1 after each wait) plus its index", () => {
    const e = expectedOf("forkwait", { children: 2, pages: 1 });
    const c0 = fnv(fnv(FNV_BASIS, 2), 0x9e3779b9);
    const c1 = fnv(fnv(FNV_BASIS, 3), 0x9e3779bb);
    expect(e.exitCodes).toEqual([fnv(fnv(fnv(fnv(FNV_BASIS, 2), c0), 3), c1), c0, c1]);
  });

  it("pagefault, compute, preempt, nano", () => {
    let acc = FNV_BASIS;
    for (const v of [0, 0, (1 << 12) | 1, 0]) acc = fnv(acc, v);
    expect(expectedOf("pagefault", { pages: 1, cycles: 1 }).exitCodes).toEqual([acc]);
    // x1 = 1103515245 + 12345 = 1103527590; acc = (0 ^ (x1 >>> 13)) + x1
    expect(lcgModel(1, 1)).toBe(((1103527590 >>> 13) + 1103527590) >>> 0);
    expect(expectedOf("compute", { iterations: 3 }).exitCodes).toEqual([lcgModel(1, 3)]);
    const pre = expectedOf("preempt", { processes: 2, iterations: 5 }).exitCodes;
    expect(pre).toEqual([(lcgModel(1, 5) + 2 + lcgModel(2, 5)) >>> 0, lcgModel(2, 5)]);
    expect(expectedOf("nano", { variant: "syscall", iterations: 10 }).exitCodes).toEqual([10]);
    expect(expectedOf("nano", { variant: "trap", iterations: 10 }).exitCodes).toEqual([(5 << 24) + 10]);
    expect(expectedOf("nano", { variant: "pgfault", iterations: 4 }).exitCodes).toEqual([(4 << 24) + 6]);
  });

  it("mmio: lines of L bytes, a tail that ends with a newline", () => {
    const e = expectedOf("mmio", { bytes: 40, line: 16 });
    expect(e.userOutput).toBe("00000000 jklmno\n00000001 jklmno\n jklmno\n");
    expect(e.userOutput.length).toBe(40);
    expect(e.consoleLines.slice(0, 3)).toEqual(["00000000 jklmno", "00000001 jklmno", " jklmno"]);
  });
});

describe("user programs", () => {
  it("assemble at USER.text at their defaults and at every bound", () => {
    for (const w of WORKLOADS) {
      const infos = describeParams(w);
      const variants: { variant?: string }[] =
        w.name === "nano" ? NANO_VARIANTS.map((variant) => ({ variant })) : [{}];
      for (const v of variants) {
        for (const end of ["default", "minimum", "maximum"] as const) {
          const raw: Record<string, unknown> = { ...v };
          for (const p of infos) if (p.type === "integer" && end !== "default") raw[p.name] = p[end];
          if (w.name === "ctxswitch" && end === "maximum") raw.processes = 16;
          if (w.name === "nano" && v.variant === "pgfault" && end === "maximum") raw.iterations = 4096;
          const image = assembleUser(w, parseParams(w, raw));
          expect(image.sections[0].addr).toBe(USER.text);
          expect(image.sections[0].bytes.length).toBeLessThan(4096);
        }
      }
    }
  });
});
