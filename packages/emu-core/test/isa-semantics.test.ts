import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SEMANTICS } from "../src/isa/semantics.ts";
import { TABLE } from "../src/isa/table.ts";

/**
 * The translator generates its code from isa/semantics.ts; the interpreter's
 * dispatch switch spells the same expressions. Here the two are held to one
 * text, so changing one without the other fails.
 */
const hart = readFileSync(new URL("../src/hart.ts", import.meta.url), "utf8");

/** The source of `case op: // name` up to the next case. */
function caseBody(op: number, name: string): string {
  const start = hart.indexOf(`case ${op}: // ${name}\n`);
  if (start < 0) return "";
  const next = hart.indexOf("case ", start + 6);
  return hart.slice(start, next < 0 ? undefined : next);
}

const rows = TABLE.map((spec) => ({ spec, sem: SEMANTICS[spec.op] }));

describe("the interpreter and the translator share the ISA table's semantics", () => {
  it.each(rows.filter((r) => r.sem?.kind === "alu").map((r) => [r.spec.name, r] as const))(
    "%s: the interpreter's case assigns the row's expression",
    (_, { spec, sem }) => {
      const expr = sem?.kind === "alu" ? sem.expr : "";
      expect(caseBody(spec.op, spec.name)).toContain(`x[rd] = ${expr};`);
    },
  );

  it.each(rows.filter((r) => r.sem?.kind === "branch").map((r) => [r.spec.name, r] as const))(
    "%s: the interpreter's case tests the row's condition",
    (_, { spec, sem }) => {
      const cond = sem?.kind === "branch" ? sem.cond : "";
      expect(caseBody(spec.op, spec.name)).toContain(`if (${cond}) {`);
    },
  );

  it("loads and stores name the width and sign the interpreter gives their ops", () => {
    const byName = Object.fromEntries(rows.map((r) => [r.spec.name, r.sem]));
    expect(byName.lb).toEqual({ kind: "load", width: 1, view: "ram8", signed: true });
    expect(byName.lbu).toEqual({ kind: "load", width: 1, view: "ramU8", signed: false });
    expect(byName.lh).toEqual({ kind: "load", width: 2, view: "ram16", signed: true });
    expect(byName.lhu).toEqual({ kind: "load", width: 2, view: "ramU16", signed: false });
    expect(byName.lw).toEqual({ kind: "load", width: 4, view: "ram32", signed: true });
    expect(byName.sw).toEqual({ kind: "store", width: 4, view: "ram32" });
  });

  it("only rows without side effects beyond registers and memory are translated", () => {
    const translated = rows.filter((r) => r.sem !== undefined).map((r) => r.spec.ext);
    expect(new Set(translated)).toEqual(new Set(["I", "M", "Zifencei"]));
    for (const name of ["ecall", "ebreak", "roi.begin", "roi.end", "csrrw", "lr.w", "amoadd.w", "hlv.w"]) {
      expect(rows.find((r) => r.spec.name === name)?.sem, name).toBeUndefined();
    }
  });
});
