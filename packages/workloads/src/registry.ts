/**
 * Every workload by name, the order the bench iterates them in, and the
 * parameter plumbing shared by the CLI and the bench: a description of each
 * parameter read from its schema (type, default, bounds, description), and
 * validation that reports a mistake as one line naming the parameter and its
 * allowed range.
 */
import { z } from "zod";
import type { Params, ParamValue, Workload } from "./workloads/common.ts";
import { compute } from "./workloads/compute.ts";
import { ctxswitch } from "./workloads/ctxswitch.ts";
import { forkwait } from "./workloads/forkwait.ts";
import { mmio } from "./workloads/mmio.ts";
import { nano } from "./workloads/nano.ts";
import { pagefault } from "./workloads/pagefault.ts";
import { preempt } from "./workloads/preempt.ts";
import { syscall } from "./workloads/syscall.ts";

/** All workloads, in the order suites and `list` show them. */
export const WORKLOADS: readonly Workload[] = [
  ctxswitch,
  forkwait,
  syscall,
  pagefault,
  mmio,
  compute,
  preempt,
  nano,
];

const BY_NAME = new Map(WORKLOADS.map((w) => [w.name, w]));

export function workloadNames(): string[] {
  return WORKLOADS.map((w) => w.name);
}

export function findWorkload(name: string): Workload | undefined {
  return BY_NAME.get(name);
}

/** A mistake in a workload name or its parameters: one line, for the user. */
export class WorkloadParamError extends Error {}

export function getWorkload(name: string): Workload {
  const w = BY_NAME.get(name);
  if (!w)
    throw new WorkloadParamError(`unknown workload '${name}' (workloads: ${workloadNames().join(", ")})`);
  return w;
}

export interface ParamInfo {
  name: string;
  type: "integer" | "number" | "boolean" | "enum";
  default: ParamValue;
  minimum?: number;
  maximum?: number;
  /** The allowed values of an enum. */
  values?: string[];
  description: string;
}

interface JsonSchemaProperty {
  type?: string;
  default?: ParamValue;
  minimum?: number;
  maximum?: number;
  enum?: string[];
  description?: string;
}

/** The parameters of a workload as its schema states them. */
export function describeParams(w: Pick<Workload, "schema">): ParamInfo[] {
  const json = z.toJSONSchema(w.schema, { io: "input", unrepresentable: "any" }) as {
    properties?: Record<string, JsonSchemaProperty>;
  };
  return Object.entries(json.properties ?? {}).map(([name, p]) => {
    const type: ParamInfo["type"] = p.enum
      ? "enum"
      : p.type === "integer" || p.type === "number" || p.type === "boolean"
        ? p.type
        : "enum";
    return {
      name,
      type,
      default: p.default as ParamValue,
      ...(p.minimum !== undefined ? { minimum: p.minimum } : {}),
      ...(p.maximum !== undefined ? { maximum: p.maximum } : {}),
      ...(p.enum ? { values: p.enum } : {}),
      description: p.description ?? "",
    };
  });
}

/** "an integer from 1 to 48", "true or false", "one of a, b, c". */
export function allowedRange(p: ParamInfo): string {
  switch (p.type) {
    case "integer":
    case "number": {
      const kind = p.type === "integer" ? "an integer" : "a number";
      if (p.minimum !== undefined && p.maximum !== undefined)
        return `${kind} from ${p.minimum} to ${p.maximum}`;
      if (p.minimum !== undefined) return `${kind} of at least ${p.minimum}`;
      if (p.maximum !== undefined) return `${kind} of at most ${p.maximum}`;
      return kind;
    }
    case "boolean":
      return "true or false";
    case "enum":
      return `one of ${(p.values ?? []).join(", ")}`;
  }
}

const show = (v: unknown): string => (typeof v === "string" ? JSON.stringify(v) : String(v));

/**
 * Validates parameters (missing ones take their defaults). Throws
 * WorkloadParamError with one line naming the first bad parameter and its
 * allowed range.
 */
export function parseParams(w: Workload, raw: Readonly<Record<string, unknown>> = {}): Params {
  const infos = describeParams(w);
  for (const key of Object.keys(raw)) {
    if (!infos.some((p) => p.name === key)) {
      throw new WorkloadParamError(
        `${w.name}: unknown parameter '${key}' (parameters: ${infos.map((p) => p.name).join(", ")})`,
      );
    }
  }
  const result = w.schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = String(issue.path[0] ?? "");
  const info = infos.find((p) => p.name === key);
  if (!info) throw new WorkloadParamError(`${w.name}: ${issue.message}`);
  const got = `(got ${show(raw[key])})`;
  if (issue.code === "custom")
    throw new WorkloadParamError(`${w.name}: parameter ${key} ${issue.message} ${got}`);
  throw new WorkloadParamError(`${w.name}: parameter ${key} must be ${allowedRange(info)} ${got}`);
}

/**
 * Reads a parameter value given as text (the CLI's `--param key=value`) by the
 * type its schema declares; text that does not read as that type is passed on
 * as a string, so that validation names the parameter and its range.
 */
export function coerceParam(info: ParamInfo | undefined, text: string): unknown {
  if (!info) return text;
  if (info.type === "integer" || info.type === "number") {
    const t = text.trim().replaceAll("_", "");
    if (/^[+-]?0x[0-9a-f]+$/i.test(t))
      return (t.startsWith("-") ? -1 : 1) * Number.parseInt(t.replace(/^[+-]/, ""), 16);
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
    return text;
  }
  if (info.type === "boolean") {
    const t = text.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(t)) return true;
    if (["false", "0", "no", "off"].includes(t)) return false;
    return text;
  }
  return text;
}

/** Parses `key=value` strings for a workload (the CLI's --param flags). */
export function parseParamArgs(w: Workload, args: readonly string[]): Params {
  const infos = describeParams(w);
  const raw: Record<string, unknown> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new WorkloadParamError(`--param expects key=value (got ${JSON.stringify(arg)})`);
    const key = arg.slice(0, eq).trim();
    if (key in raw) throw new WorkloadParamError(`${w.name}: parameter ${key} given twice`);
    raw[key] = coerceParam(
      infos.find((p) => p.name === key),
      arg.slice(eq + 1),
    );
  }
  return parseParams(w, raw);
}
