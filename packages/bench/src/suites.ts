/**
 * The built-in suites. Each is a plain object (what a suite module or a JSON
 * file holds); they are built from the registries, so a workload or a
 * strategy added later joins them with no change here.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describeParams, findWorkload, NANO_VARIANTS, type Params, WORKLOADS } from "@shadowlab/workloads";
import { tsImport } from "tsx/esm/api";
import { LINUX_MIN_RAM_MIB } from "./linux.ts";
import { type Suite, type SuiteInput, validateSuite } from "./suite.ts";

/** The largest value a workload parameter allows (so sweeps follow the workload's own bounds). */
function maxOf(workload: string, param: string): number {
  const w = findWorkload(workload);
  const p = w && describeParams(w).find((x) => x.name === param);
  return p?.maximum ?? Number.POSITIVE_INFINITY;
}

/**
 * Every workload at its quick parameter sets (each region of interest >= 10^6
 * instructions), every strategy: the default suite (~2.5 minutes on 2 cores).
 */
export function quickSuite(): SuiteInput {
  return {
    name: "quick",
    description:
      "every workload at its quick parameter sets (regions of interest of at least 10^6 instructions) under every strategy in both execution modes (the default suite)",
    workloads: WORKLOADS.map((w) => ({ workload: w.name, params: w.quick.map((p) => ({ ...p }) as Params) })),
    strategies: "all",
    // Both execution modes: shadow paging against nested paging is the comparison the suite exists for.
    modes: ["trap", "hw"],
    // Sized on the 2-core reference VM to end within 3 minutes with 2 workers (npm run bench).
    repetitions: 10,
    warmup: 2,
  };
}

/** Every workload at its default parameters and at a larger scale, every strategy, with and without ASID tags. */
export function fullSuite(): SuiteInput {
  return {
    name: "full",
    description:
      "every workload at default and larger parameters, every strategy, TLB with and without ASID tags",
    workloads: WORKLOADS.map((w) => ({
      workload: w.name,
      params:
        w.name === "nano"
          ? [{ variant: [...NANO_VARIANTS], iterations: 1000 }]
          : [{}, { asid: true }, ...w.small.map((p) => ({ ...p }) as Params)],
    })),
    strategies: "all",
    machines: { asidTags: [true, false] },
    repetitions: 5,
  };
}

/**
 * The seven nanobenchmarks of Adams & Agesen (ASPLOS 2006) at two iteration
 * counts: cycles per operation = (cycles(n2) - cycles(n1)) / (n2 - n1), per
 * strategy, cancels boot and exit.
 */
export function nanoSuite(): SuiteInput {
  return {
    name: "nano",
    description:
      "the Adams & Agesen nanobenchmarks at 100 and 1100 iterations: cycles per operation per strategy",
    workloads: [{ workload: "nano", params: { variant: [...NANO_VARIANTS], iterations: [100, 1100] } }],
    strategies: "all",
    repetitions: 5,
  };
}

/** lmbench lat_ctx: working sets of 0..64 KiB × 2..96 processes (as many as the workload allows). */
export function ctxswitchScalingSuite(): SuiteInput {
  const maxProcesses = maxOf("ctxswitch", "processes");
  return {
    name: "ctxswitch-scaling",
    description:
      "lmbench lat_ctx sweep: working sets 0, 4, 8, 16, 32, 64 KiB x 2 to 96 processes (capped at the workload's maximum)",
    workloads: [
      {
        workload: "ctxswitch",
        params: {
          processes: [2, 4, 8, 16, 24, 32, 64, 96].filter((p) => p <= maxProcesses),
          pages: [0, 1, 2, 4, 8, 16],
          rounds: 20,
          asid: [false, true],
        },
      },
    ],
    strategies: "all",
    repetitions: 3,
  };
}

export function forkwaitSuite(): SuiteInput {
  return {
    name: "forkwait",
    description: "fork and wait in a loop: children x pages copied by each fork",
    workloads: [
      { workload: "forkwait", params: { children: [4, 16, 64], pages: [0, 4, 16, 64], asid: [false, true] } },
    ],
    strategies: "all",
    repetitions: 3,
  };
}

export function tlbSizeSuite(): SuiteInput {
  return {
    name: "tlb-size",
    description:
      "TLB entries 8 to 1024, fully associative, with and without ASID tags, on switch- and fault-heavy loads",
    workloads: [
      { workload: "ctxswitch", params: { processes: 8, pages: 8, rounds: 20, asid: true } },
      { workload: "pagefault", params: { pages: 16, cycles: 16, asid: true } },
    ],
    strategies: "all",
    machines: { tlbEntries: [8, 16, 32, 64, 128, 256, 512, 1024], asidTags: [true, false] },
    repetitions: 3,
  };
}

/**
 * The Linux workloads (the /init jobs of the image `npm run linux:build`
 * caches) at small sizes, natively under our firmware and under every
 * strategy in every execution mode. Each cell boots Linux once (~27 M instructions, a few seconds)
 * and samples its region from a checkpoint there; where the image is not
 * built every cell is left out, with the reason.
 */
export function linuxSuite(): SuiteInput {
  return {
    name: "linux",
    description:
      "the Linux workloads (lat_ctx, forkwait, mmap, pagefault in /init of the cached Linux image) at small sizes, native and every strategy in every mode",
    workloads: [
      {
        workload: "linux-lat_ctx",
        params: [
          { procs: 2, ws: 0, rounds: 10 },
          { procs: 8, ws: 4096, rounds: 4 },
        ],
      },
      { workload: "linux-forkwait", params: { n: 8, pages: 4 } },
      { workload: "linux-mmap", params: { n: 8, pages: 4 } },
      { workload: "linux-pagefault", params: { n: 4, pages: 8 } },
    ],
    strategies: "all",
    modes: ["trap", "hw"],
    machines: { ramMib: LINUX_MIN_RAM_MIB },
    repetitions: 3,
    warmup: 1,
  };
}

export const BUILTIN_SUITES: ReadonlyMap<string, () => SuiteInput> = new Map([
  ["quick", quickSuite],
  ["full", fullSuite],
  ["nano", nanoSuite],
  ["ctxswitch-scaling", ctxswitchScalingSuite],
  ["forkwait", forkwaitSuite],
  ["tlb-size", tlbSizeSuite],
  ["linux", linuxSuite],
]);

export function builtinSuiteNames(): string[] {
  return [...BUILTIN_SUITES.keys()];
}

export class SuiteNotFound extends Error {}

/**
 * A suite by built-in name, or from a file: `.json` (the plain object), or a
 * module (`.ts`, `.mjs`, `.js`) whose default export (or `suite` export) is
 * the plain object. Validated before it is returned.
 */
export async function loadSuite(ref: string): Promise<Suite> {
  const builtin = BUILTIN_SUITES.get(ref);
  if (builtin) return validateSuite(builtin(), `suite "${ref}"`);
  const path = resolve(ref);
  if (!existsSync(path))
    throw new SuiteNotFound(
      `no built-in suite and no file named "${ref}" (built-in suites: ${builtinSuiteNames().join(", ")})`,
    );
  if (statSync(path).isDirectory())
    throw new SuiteNotFound(`${ref}: a directory, not a suite (${SUITE_FORMS})`);
  const ext = extname(path).toLowerCase();
  if (ext !== ".json" && !MODULE_EXTENSIONS.includes(ext))
    throw new SuiteNotFound(
      `${ref}: not a suite file (${SUITE_FORMS}${IMAGE_EXTENSIONS.includes(ext) ? "; to run a guest image use `shadowlab run <image> --strategy <name>`" : ""})`,
    );
  let raw: unknown;
  if (ext === ".json") {
    try {
      raw = JSON.parse(readFileSync(path, "utf8"));
    } catch (e) {
      throw new SuiteNotFound(`${ref}: not valid JSON (${(e as Error).message})`);
    }
  } else raw = await importSuiteModule(ref, path);
  return validateSuite(raw, ref);
}

const SUITE_FORMS = "a suite is a built-in name, a .json file or a .ts/.mts/.js/.mjs module";
const MODULE_EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"];
const IMAGE_EXTENSIONS = [".elf", ".bin", ".img", ".o", ""];

/** The first line of what a suite module threw, for a one-line message. */
function firstLine(e: unknown): string {
  const text = e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e);
  return text.split("\n")[0];
}

/** A suite module's default (or `suite`) export, called if it is a function; what it throws names the file. */
async function importSuiteModule(ref: string, path: string): Promise<unknown> {
  try {
    // tsImport loads TypeScript whatever package.json (or none) sits beside the file.
    const mod = (
      /\.[cm]?ts$/.test(path)
        ? await tsImport(pathToFileURL(path).href, import.meta.url)
        : await import(pathToFileURL(path).href)
    ) as { default?: unknown; suite?: unknown };
    let raw = mod.default ?? mod.suite;
    // A module compiled as CommonJS arrives wrapped once more.
    const inner = raw as { default?: unknown; suite?: unknown; name?: unknown } | undefined;
    if (inner && typeof inner === "object" && inner.name === undefined)
      raw = inner.default ?? inner.suite ?? raw;
    if (typeof raw === "function") raw = await (raw as () => unknown)();
    return raw;
  } catch (e) {
    throw new SuiteNotFound(`${ref}: the suite module failed to load: ${firstLine(e)}`);
  }
}
