/**
 * Suites are data: workloads × parameter grid × strategies × machine
 * configurations × cost profile × repetitions. A suite is validated with a
 * zod schema plus the checks only the registries can make (workload names,
 * their parameters, strategy names, profiles, TLB shapes); every problem is
 * reported at once, each naming its field path and what is allowed, before
 * anything runs.
 */
import { createHash } from "node:crypto";
import { DEFAULT_HART, ENGINES, type Engine, validateTlbConfig } from "@shadowlab/emu-core";
import { EXECUTION_MODES, type ExecutionMode, modesOf, strategyNames } from "@shadowlab/hypervisor";
import { allowedRange, describeParams, type Params } from "@shadowlab/workloads";
import { type ZodType, z } from "zod";
import { DEFAULT_PROFILE, profileNames } from "./cost.ts";
import { findSuiteWorkload as findWorkload, suiteWorkloadNames as workloadNames } from "./linux.ts";

export const NATIVE = "native";

// ---- the schema -------------------------------------------------------------------------------

const scalar = z.union([z.number(), z.boolean(), z.string()], {
  error: "must be a number, a boolean or a string",
});
/** A grid value: one value, or a non-empty list of the values to sweep. */
const gridValue = <T extends ZodType>(t: T, what: string) =>
  z.union([t, z.array(t).min(1)], { error: `must be ${what} or a non-empty list of them` });

const paramGrid = z.record(z.string(), gridValue(scalar, "a number, boolean or string"), {
  error: "must be an object of parameter values (each a value or a list of values)",
});

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const MACHINE_FIELDS = [
  "tlbEntries",
  "tlbWays",
  "tlbReplacement",
  "tlbSeed",
  "asidTags",
  "splitTlb",
  "instructionsPerTick",
  "ramMib",
] as const;

/** The kernel manages 32 MiB of RAM (workloads' KERNEL_RAM_BYTES), so no machine may have less. */
export const MIN_RAM_MIB = 32;

const machineGrid = z
  .object(
    {
      tlbEntries: gridValue(int(1, 65536), "a power of two from 1 to 65536").optional(),
      tlbWays: gridValue(int(1, 65536), "a power of two up to tlbEntries").optional(),
      tlbReplacement: gridValue(z.enum(["lru", "random"]), '"lru" or "random"').optional(),
      tlbSeed: gridValue(int(0, 2 ** 32 - 1), "an integer from 0 to 4294967295").optional(),
      asidTags: gridValue(z.boolean(), "true or false").optional(),
      splitTlb: gridValue(z.boolean(), "true or false").optional(),
      instructionsPerTick: gridValue(int(1, 1_000_000), "an integer from 1 to 1000000").optional(),
      ramMib: gridValue(int(MIN_RAM_MIB, 1024), `an integer from ${MIN_RAM_MIB} to 1024`).optional(),
    },
    { error: "must be an object of machine settings" },
  )
  .strict();

const workloadEntry = z
  .object(
    {
      workload: z.string(),
      params: z
        .union([paramGrid, z.array(paramGrid).min(1)], {
          error: "must be a parameter grid or a non-empty list of them",
        })
        .optional(),
    },
    { error: "must be an object { workload, params }" },
  )
  .strict();

export const suiteSchema = z
  .object(
    {
      name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, {
        error: "must be lower-case letters, digits, '.', '_' or '-' (it names the results directory)",
      }),
      description: z.string().optional(),
      workloads: z.array(workloadEntry).min(1),
      strategies: z
        .union([z.literal("all"), z.array(z.string()).min(1)], {
          error: `must be "all" or a non-empty list of strategy names or patterns`,
        })
        .optional(),
      machines: z
        .union([machineGrid, z.array(machineGrid).min(1)], {
          error: "must be a machine grid or a non-empty list of them",
        })
        .optional(),
      modes: z
        .array(z.enum(["trap", "hw"], { error: 'must be "trap" or "hw"' }))
        .min(1, { error: 'must be a non-empty list of execution modes ("trap", "hw")' })
        .optional(),
      engines: z
        .array(z.enum(ENGINES, { error: 'must be "jit" or "interp"' }))
        .min(1, { error: 'must be a non-empty list of engines ("jit", "interp")' })
        .optional(),
      profile: z.string().optional(),
      repetitions: int(1, 10_000).optional(),
      warmup: int(0, 1000).optional(),
      maxInstructions: int(1, Number.MAX_SAFE_INTEGER).optional(),
    },
    { error: "must be an object" },
  )
  .strict();

export type SuiteInput = z.input<typeof suiteSchema>;

/** The keys each object level allows, for "unknown field" messages. */
const ALLOWED_KEYS: Record<string, readonly string[]> = {
  suite: Object.keys(suiteSchema.shape),
  workload: Object.keys(workloadEntry.shape),
  machine: MACHINE_FIELDS,
};

// ---- normalized suites and cells --------------------------------------------------------------

export interface MachineSpec {
  tlbEntries: number;
  tlbWays: number;
  tlbReplacement: "lru" | "random";
  tlbSeed: number;
  asidTags: boolean;
  splitTlb: boolean;
  instructionsPerTick: number;
  ramMib: number;
}

export const DEFAULT_MACHINE_SPEC: Omit<MachineSpec, "tlbWays"> = {
  tlbEntries: 64,
  tlbReplacement: "lru",
  tlbSeed: 1,
  asidTags: true,
  splitTlb: false,
  instructionsPerTick: 10,
  ramMib: MIN_RAM_MIB,
};

/** The engines of a suite that names none. */
export const DEFAULT_ENGINES: readonly Engine[] = [DEFAULT_HART.engine];

/** A validated suite with every default filled in: what gets hashed and stored with the results. */
export interface Suite {
  name: string;
  description: string;
  workloads: { workload: string; params: Params[] }[];
  strategies: string[];
  /** Execution modes of the hypervisor's cells (default ["trap"]); native runs once per group. */
  modes: ExecutionMode[];
  /** Engines every cell runs on, native baseline included (default ["jit"]): a machine-configuration axis. */
  engines: Engine[];
  machines: MachineSpec[];
  profile: string;
  /** Timed samples per cell (tinybench iterations). Counters are deterministic and taken once. */
  repetitions: number;
  /** Untimed warm-up runs per cell. */
  warmup: number;
  /** Instruction budget of every run: a cell that spends it fails alone. */
  maxInstructions: number;
}

export const SUITE_DEFAULTS = {
  profile: DEFAULT_PROFILE,
  repetitions: 5,
  warmup: 1,
  maxInstructions: 200_000_000,
};

export interface Cell {
  /** Position in the whole suite (stable: the order of the suite's definition). */
  index: number;
  /** workload/params/machine/strategy: unique in the suite, the key of resume and merge. */
  id: string;
  workload: string;
  params: Params;
  machine: MachineSpec;
  strategy: string;
  /** How the hypervisor runs the guest kernel ("native" for the native baseline). */
  mode: ExecutionMode | "native";
  /** The engine the cell's machine runs guest code with (its native baseline's too). */
  engine: Engine;
  /** workload/params/machine (~engine): cells sharing it share one native baseline run. */
  group: string;
}

export class SuiteError extends Error {
  constructor(
    readonly suite: string,
    readonly problems: string[],
  ) {
    super(
      `${suite}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n${problems.map((p) => `  ${p}`).join("\n")}`,
    );
  }
}

// ---- validation -------------------------------------------------------------------------------

type Path = readonly PropertyKey[];

export function formatPath(path: Path): string {
  let s = "";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : s === "" ? String(p) : `.${String(p)}`;
  return s === "" ? "(suite)" : s;
}

function at(value: unknown, path: Path): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  return JSON.stringify(v);
}

const ARTICLE: Record<string, string> = {
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  record: "an object",
};

interface ZIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  values?: unknown[];
  keys?: string[];
  minimum?: number | bigint;
  maximum?: number | bigint;
  origin?: string;
  errors?: ZIssue[][];
}

/** zod issues as `path: message (got ...)` lines; unions report the branch the input was meant for. */
function zodProblems(issues: readonly ZIssue[], raw: unknown, base: Path = []): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    const got = ` (got ${show(at(raw, path))})`;
    switch (issue.code) {
      case "invalid_union": {
        // A branch whose problems all lie inside the value matched its shape: report those.
        const inside = (issue.errors ?? []).filter((b) => b.length > 0 && b.every((i) => i.path.length > 0));
        if (inside.length > 0) out.push(...zodProblems(inside[inside.length - 1], raw, path));
        else out.push(`${formatPath(path)}: ${issue.message}${got}`);
        break;
      }
      case "invalid_type":
        out.push(
          `${formatPath(path)}: ${at(raw, path) === undefined ? "is required" : `must be ${ARTICLE[issue.expected ?? ""] ?? issue.expected}`}${at(raw, path) === undefined ? ` (${ARTICLE[issue.expected ?? ""] ?? issue.expected})` : got}`,
        );
        break;
      case "too_small":
        out.push(
          `${formatPath(path)}: ${issue.origin === "array" ? "must not be empty" : `must be at least ${issue.minimum}`}${issue.origin === "array" ? "" : got}`,
        );
        break;
      case "too_big":
        out.push(`${formatPath(path)}: must be at most ${issue.maximum}${got}`);
        break;
      case "invalid_value":
        out.push(
          `${formatPath(path)}: must be one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(", ")}${got}`,
        );
        break;
      case "unrecognized_keys": {
        const level =
          path.length === 0
            ? "suite"
            : path[0] === "machines"
              ? "machine"
              : path[0] === "workloads"
                ? "workload"
                : "";
        const allowed = ALLOWED_KEYS[level];
        for (const k of issue.keys ?? [])
          out.push(
            `${formatPath([...path, k])}: unknown field${allowed ? ` (allowed: ${allowed.join(", ")})` : ""}`,
          );
        break;
      }
      default:
        out.push(`${formatPath(path)}: ${issue.message}${got}`);
    }
  }
  return out;
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** The cartesian product of a grid (keys in their given order). */
export function expandGrid<T>(grid: Readonly<Record<string, T | T[]>>): Record<string, T>[] {
  let rows: Record<string, T>[] = [{}];
  for (const [k, v] of Object.entries(grid)) {
    const values = asList(v);
    rows = rows.flatMap((r) => values.map((x) => ({ ...r, [k]: x })));
  }
  return rows;
}

/** `shadow-*` style patterns: `*` matches any run of characters, `?` one. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

export function allStrategies(): string[] {
  return [NATIVE, ...strategyNames("any")];
}

/**
 * Validates a suite (a plain object, as a suite module exports it or a JSON
 * file holds it) and fills in every default. Throws SuiteError listing every
 * problem.
 */
export function validateSuite(raw: unknown, where = "suite"): Suite {
  const name =
    raw && typeof raw === "object" && typeof (raw as { name?: unknown }).name === "string"
      ? `suite "${(raw as { name: string }).name}"`
      : where;
  const problems: string[] = [];
  const parsed = suiteSchema.safeParse(raw);
  if (!parsed.success) problems.push(...zodProblems(parsed.error.issues as unknown as ZIssue[], raw));
  const r = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;

  // Workloads and their parameters, against the workload registry.
  const workloads: Suite["workloads"] = [];
  const entries = Array.isArray(r.workloads) ? r.workloads : [];
  entries.forEach((e: unknown, i) => {
    if (!e || typeof e !== "object") return;
    const entry = e as { workload?: unknown; params?: unknown };
    if (typeof entry.workload !== "string") return;
    const w = findWorkload(entry.workload);
    if (!w) {
      problems.push(
        `workloads[${i}].workload: unknown workload ${JSON.stringify(entry.workload)} (workloads: ${workloadNames().join(", ")})`,
      );
      return;
    }
    const infos = describeParams(w);
    const rawGrids = entry.params === undefined ? [{}] : entry.params;
    const grids = (Array.isArray(rawGrids) ? rawGrids : [rawGrids]).map((g, j) => ({
      g,
      path: Array.isArray(rawGrids) ? [`workloads[${i}].params[${j}]`] : [`workloads[${i}].params`],
    }));
    const sets: Params[] = [];
    for (const { g, path } of grids) {
      if (!g || typeof g !== "object" || Array.isArray(g)) continue;
      const grid = g as Record<string, unknown>;
      const known: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(grid)) {
        if (infos.some((p) => p.name === key)) known[key] = v;
        else
          problems.push(
            `${path[0]}.${key}: unknown parameter of ${w.name} (parameters: ${infos.map((p) => p.name).join(", ")})`,
          );
      }
      const seen = new Set<string>();
      for (const combo of expandGrid(known)) {
        const res = w.schema.safeParse(combo);
        if (res.success) {
          sets.push(res.data);
          continue;
        }
        for (const issue of res.error.issues) {
          const key = String(issue.path[0] ?? "");
          const info = infos.find((p) => p.name === key);
          const gv = grid[key];
          const idx = Array.isArray(gv) ? gv.indexOf(combo[key]) : -1;
          const where = `${path[0]}.${key}${idx >= 0 ? `[${idx}]` : ""}`;
          const msg =
            issue.code === "custom" || !info
              ? `${where}: ${issue.message} (got ${show(combo[key])}${issue.code === "custom" ? ` with ${JSON.stringify(combo)}` : ""})`
              : `${where}: must be ${allowedRange(info)} (got ${show(combo[key])})`;
          if (!seen.has(msg)) {
            seen.add(msg);
            problems.push(msg);
          }
        }
      }
    }
    workloads.push({ workload: w.name, params: sets });
  });

  // Modes first: which strategies exist depends on them (nested runs in hw mode only).
  const modes: ExecutionMode[] = Array.isArray(r.modes)
    ? EXECUTION_MODES.filter((m) => (r.modes as unknown[]).includes(m))
    : ["trap"];
  const engines: Engine[] = Array.isArray(r.engines)
    ? ENGINES.filter((e) => (r.engines as unknown[]).includes(e))
    : [...DEFAULT_ENGINES];
  const runsInSuite = (s: string) => s === NATIVE || modes.some((m) => modesOf(s).includes(m));

  // Strategies: "all" = native + every registered strategy that runs in the suite's modes; names or
  // patterns otherwise (a pattern picks what runs in the modes; a name that cannot run is a problem).
  const registered = allStrategies();
  const known = registered.filter(runsInSuite);
  let strategies = known;
  if (Array.isArray(r.strategies)) {
    const picked = new Set<string>();
    r.strategies.forEach((s: unknown, i) => {
      if (typeof s !== "string") return;
      const re = globToRegExp(s);
      const matches = known.filter((k) => re.test(k));
      if (matches.length === 0 && registered.includes(s))
        problems.push(
          `strategies[${i}]: ${s} runs in no mode of the suite (it runs in: ${modesOf(s).join(", ")}; modes: ${modes.join(", ")})`,
        );
      else if (matches.length === 0)
        problems.push(
          `strategies[${i}]: ${JSON.stringify(s)} matches no strategy (strategies: ${known.join(", ")}; patterns may use *)`,
        );
      for (const m of matches) picked.add(m);
    });
    strategies = known.filter((k) => picked.has(k));
  }

  // Machines: each grid expanded, each TLB shape checked.
  const machines: MachineSpec[] = [];
  const rawMachines = r.machines === undefined ? [{}] : r.machines;
  (Array.isArray(rawMachines) ? rawMachines : [rawMachines]).forEach((g: unknown, i) => {
    if (!g || typeof g !== "object" || Array.isArray(g)) return;
    const where = Array.isArray(rawMachines) ? `machines[${i}]` : "machines";
    const grid = g as Record<string, unknown>;
    if (Object.keys(grid).some((k) => !(MACHINE_FIELDS as readonly string[]).includes(k))) return;
    const reported = new Set<string>();
    for (const combo of expandGrid(grid)) {
      const entries =
        typeof combo.tlbEntries === "number" ? combo.tlbEntries : DEFAULT_MACHINE_SPEC.tlbEntries;
      const m = { ...DEFAULT_MACHINE_SPEC, tlbWays: entries, ...combo } as MachineSpec;
      const problem = validateTlbConfig({
        entries: m.tlbEntries,
        ways: m.tlbWays,
        replacement: m.tlbReplacement,
        asidTags: m.asidTags,
        seed: m.tlbSeed,
      });
      if (problem && typeof m.tlbEntries === "number" && typeof m.tlbWays === "number") {
        const field = problem.startsWith("tlb entries") ? "tlbEntries" : "tlbWays";
        const gv = grid[field];
        const idx = Array.isArray(gv) ? gv.indexOf(m[field]) : -1;
        const msg =
          field === "tlbEntries"
            ? `${where}.tlbEntries${idx >= 0 ? `[${idx}]` : ""}: must be a power of two from 1 to 65536 (got ${m.tlbEntries})`
            : `${where}.tlbWays${idx >= 0 ? `[${idx}]` : ""}: must be a power of two from 1 to tlbEntries (${m.tlbEntries}) (got ${m.tlbWays})`;
        if (!reported.has(msg)) problems.push(msg);
        reported.add(msg);
      } else machines.push(m);
    }
  });

  const profile = typeof r.profile === "string" ? r.profile : SUITE_DEFAULTS.profile;
  if (typeof r.profile === "string" && !profileNames().includes(r.profile))
    problems.push(
      `profile: unknown cost profile ${JSON.stringify(r.profile)} (profiles: ${profileNames().join(", ")})`,
    );

  if (problems.length > 0 || !parsed.success) {
    // Grouped by field path (stable: same-path problems keep their order).
    const key = (p: string) => p.slice(0, p.indexOf(":"));
    throw new SuiteError(
      name,
      problems
        .map((p, i) => ({ p, i }))
        .sort((a, b) => (key(a.p) < key(b.p) ? -1 : key(a.p) > key(b.p) ? 1 : a.i - b.i))
        .map((x) => x.p),
    );
  }
  const d = parsed.data;
  return {
    name: d.name,
    description: d.description ?? "",
    workloads,
    strategies,
    modes,
    engines,
    machines,
    profile,
    repetitions: d.repetitions ?? SUITE_DEFAULTS.repetitions,
    warmup: d.warmup ?? SUITE_DEFAULTS.warmup,
    maxInstructions: d.maxInstructions ?? SUITE_DEFAULTS.maxInstructions,
  };
}

// ---- cells ------------------------------------------------------------------------------------

/** `key=value,...` with keys sorted: the canonical text of a parameter set. */
export function paramsKey(p: Params): string {
  return Object.keys(p)
    .sort()
    .map((k) => `${k}=${String(p[k])}`)
    .join(",");
}

export function machineKey(m: MachineSpec): string {
  return [
    `tlb${m.tlbEntries}w${m.tlbWays}`,
    m.tlbReplacement === "random" ? `random${m.tlbSeed}` : "lru",
    m.asidTags ? "asid" : "noasid",
    ...(m.splitTlb ? ["split"] : []),
    `ipt${m.instructionsPerTick}`,
    `ram${m.ramMib}`,
  ].join("-");
}

/** Every cell of a suite in its definition order; duplicates (the same cell twice) are dropped. */
/** ASIDLEN of a machine: the hart's satp.ASID width with ASID tags, none without (emu-core's csrfile). */
export function machineAsidBits(m: MachineSpec): number {
  return m.asidTags ? DEFAULT_HART.asidBits : 0;
}

/** A cell left out of a suite because its guest refuses its machine: never run, never failed. */
export interface ExcludedCell {
  id: string;
  reason: string;
}

/**
 * What a cell id and a group key end with for an engine: nothing for the default
 * (jit), so suites written before engines existed keep their ids and resume.
 */
export const engineSuffix = (engine: Engine): string => (engine === DEFAULT_HART.engine ? "" : `~${engine}`);

/** Every cell of a suite, and the ones left out because the workload refuses the machine. */
export function expandSuite(suite: Suite): { cells: Cell[]; excluded: ExcludedCell[] } {
  const cells: Cell[] = [];
  const excluded: ExcludedCell[] = [];
  const seen = new Set<string>();
  // Definitions stored before engines existed name none.
  const engines = suite.engines ?? DEFAULT_ENGINES;
  for (const w of suite.workloads)
    for (const params of w.params)
      for (const machine of suite.machines)
        for (const engine of engines) {
          const base = `${w.workload}/${paramsKey(params)}/${machineKey(machine)}`;
          const group = `${base}${engineSuffix(engine)}`;
          const refusal = findWorkload(w.workload)?.refuses(params, {
            asidBits: machineAsidBits(machine),
            ramMib: machine.ramMib,
          });
          for (const mode of suite.modes)
            for (const strategy of suite.strategies) {
              if (strategy !== NATIVE && !modesOf(strategy).includes(mode)) continue;
              // trap cells keep the ids they had before modes existed, so stored results still resume
              const id =
                strategy === NATIVE || mode === "trap"
                  ? `${base}/${strategy}${engineSuffix(engine)}`
                  : `${base}/${strategy}@${mode}${engineSuffix(engine)}`;
              if (seen.has(id)) continue;
              seen.add(id);
              const cellMode = strategy === NATIVE ? "native" : mode;
              if (refusal) excluded.push({ id, reason: `${w.workload}: ${refusal}` });
              else
                cells.push({
                  index: cells.length,
                  id,
                  workload: w.workload,
                  params,
                  machine,
                  strategy,
                  mode: cellMode,
                  engine,
                  group,
                });
            }
        }
  return { cells, excluded };
}

export function expandCells(suite: Suite): Cell[] {
  return expandSuite(suite).cells;
}

/** Canonical JSON (sorted keys) for hashing. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

/**
 * The suite's identity: a hash of everything that decides which cells exist
 * and how they run (the profile is left out: it only prices counters).
 */
export function suiteHash(suite: Suite): string {
  // The default modes and engines are left out too, so suites written before they existed keep their hash.
  const { profile: _profile, modes, engines, ...rest } = suite;
  if (!(modes.length === 1 && modes[0] === "trap")) (rest as Record<string, unknown>).modes = modes;
  if (engines && !(engines.length === 1 && engines[0] === DEFAULT_HART.engine))
    (rest as Record<string, unknown>).engines = engines;
  return createHash("sha256").update(canonicalJson(rest)).digest("hex").slice(0, 16);
}
