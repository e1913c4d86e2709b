/**
 * The HTML report: one self-contained page (vega, vega-lite and vega-embed
 * inlined from node_modules, the specs inline, no request leaves the page)
 * with the suite's metadata, failed cells called out, every chart with a
 * note on how to read it, the nanobenchmark table and a sortable table of
 * every cell.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { exitsByReason, guestInstructions, labeler, tlbMissRate, totalExits } from "./derive.ts";
import { type Described, describedParts, headline } from "./headline.ts";
import { literatureSection } from "./literature.ts";
import { type CellRow, isNativeName, type Results } from "./results.ts";
import { type Chart, nanoTable, strategyColors } from "./specs.ts";

const require = createRequire(import.meta.url);

function packageFile(pkg: string, file: string): string {
  // vega and vega-embed export no ./package.json: resolve the main entry and walk up to the package root.
  let dir = dirname(require.resolve(pkg));
  while (dirname(dir) !== dir) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === pkg)
      return join(dir, file);
    dir = dirname(dir);
  }
  throw new Error(`cannot find the ${pkg} package's ${file}`);
}

let libs: string | undefined;
/** The three libraries as inline scripts (read once). */
export function inlineLibraries(): string {
  if (!libs) {
    const files = [
      packageFile("vega", "build/vega.min.js"),
      packageFile("vega-lite", "build/vega-lite.min.js"),
      packageFile("vega-embed", "build/vega-embed.min.js"),
    ];
    libs = files.map((f) => `<script>${safeScript(readFileSync(f, "utf8"))}</script>`).join("\n");
  }
  return libs;
}

/** Text that may sit inside a <script> element. */
function safeScript(js: string): string {
  return js.replace(/<\/script/gi, "<\\/script").replace(/<!--/g, "<\\!--");
}

export function esc(s: unknown): string {
  return String(s ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

const fmt = {
  int: (n: number | null | undefined) =>
    n === null || n === undefined ? "" : Math.round(n).toLocaleString("en-US"),
  num: (n: number | null | undefined, digits = 3) =>
    n === null || n === undefined || !Number.isFinite(n)
      ? ""
      : n.toLocaleString("en-US", { maximumFractionDigits: digits }),
  pct: (n: number | null | undefined) => (n === null || n === undefined ? "" : `${(n * 100).toFixed(2)}%`),
};

function td(display: string, sort?: number | string | null, cls = ""): string {
  const attr = sort === undefined || sort === null || sort === "" ? "" : ` data-sort="${esc(sort)}"`;
  return `<td${attr}${cls ? ` class="${cls}"` : ""}>${display}</td>`;
}

function metadataList(results: Results): string {
  const m = results.metadata;
  const def = (m.definition ?? {}) as Record<string, unknown>;
  const cells = (m.cells ?? {}) as Record<string, unknown>;
  const failed = results.rows.filter((r) => !r.ok).length;
  const items: [string, string][] = [];
  const add = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== "") items.push([k, esc(v)]);
  };
  add("suite", results.suite);
  add("description", def.description);
  add("cost profile", m.profile ?? results.rows[0]?.profile);
  add(
    "cells",
    `${results.rows.length} with results${typeof cells.selected === "number" ? ` of ${cells.selected} selected` : ""}${typeof cells.suite === "number" && cells.suite !== cells.selected ? ` (${cells.suite} in the suite)` : ""}, ${failed} failed`,
  );
  if (m.complete !== undefined)
    add("complete", m.complete ? "yes" : "no (an interrupted run: finish it with --resume)");
  add("strategies", results.strategies.join(", "));
  // Which engine ran the cells (rows written before the engine column existed: interp).
  add("engines", [...new Set(results.rows.map((r) => String(r.config.engine)))].join(", "));
  if (typeof m.commit === "string")
    add("commit", `${m.commit}${m.commitDirty ? " (with uncommitted changes)" : ""}`);
  add("Node.js", m.node);
  add("CPU", m.cpu);
  add("cores", m.cores);
  add("platform", m.platform);
  add("started", m.date);
  add("last written", m.updated);
  add("workers", m.jobs);
  add("suite hash", m.suiteHash);
  const sel = (m.selection ?? {}) as Record<string, unknown>;
  if (sel.filter) add("filter", sel.filter);
  if (sel.shard) add("shard", sel.shard);
  add("results file", results.source);
  add("format", m.format);
  const known = new Set([
    "suite",
    "definition",
    "profile",
    "profileCycles",
    "cells",
    "complete",
    "commit",
    "commitDirty",
    "node",
    "cpu",
    "cores",
    "platform",
    "date",
    "updated",
    "jobs",
    "suiteHash",
    "selection",
    "format",
    "sources",
    "descriptions",
  ]);
  for (const [k, v] of Object.entries(m))
    if (!known.has(k) && (typeof v !== "object" || v === null)) add(k, v);
  let html = `<dl class="meta">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("")}</dl>`;
  const pc = m.profileCycles as Record<string, unknown> | undefined;
  if (pc && typeof pc === "object") {
    html += `<details><summary>Cycles per event of cost profile "${esc(m.profile)}"</summary><table class="small"><thead><tr><th>event class</th><th>cycles per event</th></tr></thead><tbody>${Object.entries(
      pc,
    )
      .map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${esc(fmt.num(Number(v)))}</td></tr>`)
      .join("")}</tbody></table></details>`;
  }
  const sources = m.sources as { dir?: string; rows?: number; cpu?: string; commit?: string }[] | undefined;
  if (Array.isArray(sources) && sources.length > 0)
    html += `<details><summary>Merged from ${sources.length} result directories</summary><ul>${sources
      .map(
        (s) =>
          `<li><code>${esc(s.dir)}</code>: ${esc(s.rows)} rows, ${esc(s.cpu)}, commit ${esc(String(s.commit ?? "").slice(0, 12))}</li>`,
      )
      .join("")}</ul></details>`;
  return html;
}

/** One paragraph per strategy and workload, from the descriptions stored with the results. */
function aboutSection(results: Results): string {
  const { strategies, workloads } = describedParts(results);
  if (![...strategies, ...workloads].some((d) => d.text)) return "";
  const colors = strategyColors(results.strategies);
  const item = (d: Described, swatch = "") =>
    `<dt>${swatch}<code>${esc(d.name)}</code></dt><dd>${d.text ? esc(d.text) : "<em>no description stored with these results</em>"}</dd>`;
  return `<section id="about"><h2>What was measured</h2>
<h3>Strategies</h3>
<dl class="about">${strategies
    .map((d) =>
      item(
        d,
        `<span class="swatch" style="background:${colors.range[colors.domain.indexOf(d.name)]}"></span>`,
      ),
    )
    .join("")}</dl>
<h3>Workloads</h3>
<dl class="about">${workloads.map((d) => item(d)).join("")}</dl></section>`;
}

function failedSection(results: Results): string {
  const failed = results.rows.filter((r) => !r.ok);
  if (failed.length === 0) return "";
  const items = failed
    .map(
      (r) => `<li><p><code>${esc(r.cell)}</code> <span class="badge">${esc(r.failure || r.status)}</span></p>
<p>${esc(r.error.split("\n")[0] || "no message recorded")}</p>${
        r.outputDiff
          ? `<details open><summary>output diff</summary><pre>${esc(r.outputDiff)}</pre></details>`
          : ""
      }${r.error.includes("\n") ? `<details><summary>full error</summary><pre>${esc(r.error)}</pre></details>` : ""}</li>`,
    )
    .join("\n");
  return `<section id="failed" class="failed"><h2>Failed cells (${failed.length})</h2>
<p>These cells did not produce a trustworthy measurement (the guest's output differed from native, it crashed, or it spent its instruction budget). They are left out of the charts and marked in the table below.</p>
<ul>${items}</ul></section>`;
}

function chartSection(c: Chart): string {
  return `<section class="chart" id="chart-${esc(c.name)}"><h2>${esc(c.title)}</h2>
<p class="how"><strong>How to read it.</strong> ${esc(c.howToRead)}</p>
<div class="vis" id="vis-${esc(c.name)}" data-chart="${esc(c.name)}"></div>
<noscript><img src="charts/${esc(c.name)}.svg" alt="${esc(c.title)}"></noscript>
<p class="files">Files: <a href="charts/${esc(c.name)}.svg">SVG</a> · <a href="charts/${esc(c.name)}.png">PNG</a> · <a href="charts/${esc(c.name)}.vl.json">Vega-Lite spec</a></p>
</section>`;
}

function nanoSection(results: Results): string {
  const t = nanoTable(results);
  if (!t) return "";
  const native = t.columns.indexOf("native");
  const head = `<tr><th>nanobenchmark</th>${t.rows.some((r) => r.machine) ? "<th>machine</th>" : ""}${t.columns.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>`;
  const body = t.rows
    .map(
      (r) =>
        `<tr><td>${esc(r.benchmark)}</td>${t.rows.some((x) => x.machine) ? `<td>${esc(r.machine)}</td>` : ""}${r.cells
          .map((v, i) => {
            const ratio =
              native >= 0 && i !== native && v !== null && r.cells[native] ? v / r.cells[native]! : null;
            return td(
              v === null
                ? "—"
                : `${fmt.int(v)}${ratio !== null ? ` <span class="ratio">(${fmt.num(ratio, 1)}×)</span>` : ""}`,
              v,
              "num",
            );
          })
          .join("")}</tr>`,
    )
    .join("\n");
  return `<section id="nano-table"><h2>Nanobenchmarks: cycles per operation</h2>
<p class="how">Modeled cycles per operation, ${esc(t.method)}; in brackets, the ratio to native. Adams &amp; Agesen's names: csrwr stands for cr8wr, trap for divzero, callret for call/ret.</p>
<div class="wide"><table class="sortable" id="nano"><thead>${head}</thead><tbody>${body}</tbody></table></div></section>`;
}

/** Says which cells' wall-clock figures the bench flagged as noisy, if any. */
function noisyNote(results: Results): string {
  const noisy = results.rows.filter((r) => r.wall.noisy);
  if (noisy.length === 0) return "";
  const list = noisy.map((r) => `${esc(r.workload)} ${esc(r.params)} ${esc(r.strategy)}`).join("; ");
  return `\n<p class="how"><span class="badge">noisy</span> ${noisy.length} cell${noisy.length === 1 ? "" : "s"} with a wall-clock margin of error above 10 % of the mean: ${list}.</p>`;
}

function cellsTable(results: Results): string {
  const label = labeler(results);
  const machineVaries = new Set(results.rows.map((r) => label.machine(r))).size > 1;
  const cols = [
    "#",
    "workload",
    "parameters",
    ...(machineVaries ? ["machine"] : []),
    "strategy",
    "status",
    "slowdown (×)",
    "modeled cycles",
    "guest instructions",
    "operations",
    "cycles / op",
    "exits",
    "exits / 1k instr.",
    "TLB miss rate",
    "wall mean (ms)",
    "wall p50 (ms)",
    "wall min (ms)",
    "wall p99 (ms)",
    "rme (%)",
    "samples",
    "host MIPS",
    "output = native",
  ];
  const colors = strategyColors(results.strategies);
  const swatch = (s: string) => {
    const i = colors.domain.indexOf(s);
    return i < 0 ? "" : `<span class="swatch" style="background:${colors.range[i]}"></span>`;
  };
  const row = (r: CellRow) => {
    const instr = guestInstructions(r);
    const exits = isNativeName(r.strategy) ? 0 : totalExits(r);
    const perK = instr ? (exits / instr) * 1000 : null;
    const miss = tlbMissRate(r);
    const reasons = Object.entries(exitsByReason(r))
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ");
    return `<tr class="${r.ok ? "ok" : "failed"}" title="${esc(r.cell)}">${[
      td(String(r.index), r.index, "num"),
      td(esc(r.workload)),
      td(esc(r.params.replace(/,/g, ", "))),
      ...(machineVaries ? [td(esc(label.machine(r)))] : []),
      td(`${swatch(r.strategy)}${esc(r.strategy)}`, r.strategy),
      td(
        r.ok ? "ok" : `<span class="badge">${esc(r.failure || r.status)}</span>`,
        r.ok ? "ok" : `failed ${r.failure}`,
      ),
      td(fmt.num(r.slowdown, 3), r.slowdown, "num"),
      td(fmt.int(r.cyclesTotal), r.cyclesTotal, "num"),
      td(fmt.int(instr), instr, "num"),
      td(fmt.int(r.ops), r.ops, "num"),
      td(fmt.num(r.cyclesPerOp, 1), r.cyclesPerOp, "num"),
      `<td class="num" data-sort="${exits}" title="${esc(reasons)}">${fmt.int(exits)}</td>`,
      td(fmt.num(perK, 3), perK, "num"),
      td(fmt.pct(miss), miss, "num"),
      td(fmt.num(r.wall.meanMs, 3), r.wall.meanMs, "num"),
      td(fmt.num(r.wall.p50Ms, 3), r.wall.p50Ms, "num"),
      td(fmt.num(r.wall.minMs, 3), r.wall.minMs, "num"),
      td(fmt.num(r.wall.p99Ms, 3), r.wall.p99Ms, "num"),
      td(
        `${fmt.num(r.wall.rmePct, 2)}${r.wall.noisy ? ' <span class="badge" title="margin of error above 10 % of the mean">noisy</span>' : ""}`,
        r.wall.rmePct,
        "num",
      ),
      td(fmt.int(r.wall.samples), r.wall.samples, "num"),
      td(fmt.num(r.hostMips, 2), r.hostMips, "num"),
      td(
        r.outputEqual === null ? "" : r.outputEqual ? "yes" : "<strong>no</strong>",
        r.outputEqual === null ? null : String(r.outputEqual),
      ),
    ].join("")}</tr>`;
  };
  return `<section id="cells"><h2>Every cell</h2>
<p class="how">One row per cell (workload × parameters × machine × strategy). Counters, cycles, slowdown and operations are those of the guest's measured region of interest (boot and warm-up left out; the whole run's figures are the <code>run.</code> columns of the results). Click a column header to sort by it, again to reverse; failed cells are shaded. Hover the exits for their reasons. Wall-clock columns are tinybench statistics of the host (they vary between machines), each sample the region alone; a cell whose margin of error exceeds 10 % of its mean is marked noisy. Every other number is deterministic.</p>${noisyNote(results)}
<div class="scroll"><table class="sortable" id="cells-table"><thead><tr>${cols.map((c) => `<th scope="col">${esc(c)}</th>`).join("")}</tr></thead>
<tbody>
${results.rows.map(row).join("\n")}
</tbody></table></div></section>`;
}

const CSS = `
:root { --fg: #1d1d1f; --muted: #555; --line: #ddd; --bad: #b3261e; --bad-bg: #fdecea; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); margin: 0; background: #fafafa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; background: white; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 6px; border-top: 1px solid var(--line); padding-top: 18px; }
code { font-size: 13px; background: #f2f2f2; padding: 1px 4px; border-radius: 3px; }
nav { margin: 12px 0; font-size: 14px; }
nav a { margin-right: 12px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 2px 16px; margin: 12px 0; font-size: 14px; }
dl.meta dd { overflow-wrap: anywhere; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
.warnings { background: #fff8e1; border-left: 4px solid #f0b400; padding: 8px 14px; }
.failed { background: var(--bad-bg); border-left: 4px solid var(--bad); padding: 4px 16px 12px; }
.failed h2 { border-top: 0; color: var(--bad); margin-top: 8px; padding-top: 8px; }
.badge { background: var(--bad); color: white; border-radius: 3px; padding: 0 6px; font-size: 12px; }
pre { background: #fff; border: 1px solid var(--line); padding: 8px; overflow-x: auto; font-size: 12px; }
p.how { color: #333; max-width: 900px; }
p.files { font-size: 13px; color: var(--muted); }
.vis { overflow-x: auto; min-height: 40px; }
/* vega-embed's menu sits over the chart's top right corner instead of widening it by 38 px. */
.vis.vega-embed.has-actions { padding-right: 0; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.sortable th { cursor: pointer; user-select: none; background: #f4f4f4; position: sticky; top: 0; }
table.sortable th:hover { background: #e8e8e8; }
th[aria-sort="ascending"]::after { content: " ▲"; font-size: 10px; }
th[aria-sort="descending"]::after { content: " ▼"; font-size: 10px; }
tr.failed td { background: var(--bad-bg); }
.scroll { overflow: auto; max-height: 80vh; border: 1px solid var(--line); }
.wide { overflow-x: auto; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
.ratio { color: var(--muted); font-size: 12px; }
table.small td, table.small th { padding: 2px 8px; }
footer { margin-top: 40px; font-size: 13px; color: var(--muted); }
p.headline { font-size: 17px; max-width: 900px; border-left: 4px solid #4c78a8; padding: 4px 12px; background: #f4f7fb; }
h3 { font-size: 16px; margin: 18px 0 4px; }
dl.about { margin: 0; max-width: 900px; }
dl.about dt { font-weight: 600; margin-top: 10px; }
dl.about dd { margin: 2px 0 0 18px; }
@media (max-width: 900px) {
  main { padding: 16px 12px 48px; }
  dl.meta { grid-template-columns: max-content 1fr; }
}
`;

const SCRIPT = `
(function () {
  "use strict";
  var specs = JSON.parse(document.getElementById("chart-specs").textContent);
  var names = Object.keys(specs);
  var opts = { actions: { export: true, source: false, compiled: false, editor: false }, renderer: "svg", tooltip: true };
  Promise.all(names.map(function (name) {
    var el = document.getElementById("vis-" + name);
    return vegaEmbed(el, specs[name], opts).then(function () { el.dataset.rendered = "true"; }).catch(function (e) {
      el.dataset.rendered = "false";
      el.textContent = "This chart could not be drawn: " + e.message;
      console.error("chart " + name + ": " + e.message);
    });
  })).then(function () { document.body.dataset.chartsReady = "true"; });

  function key(row, col) {
    var c = row.cells[col];
    return c ? (c.dataset.sort !== undefined ? c.dataset.sort : c.textContent.trim()) : "";
  }
  function isNum(s) { return s !== "" && isFinite(Number(s)); }
  function sortBy(table, col, th) {
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, col), y = key(b, col);
      if (x === "" || y === "") return x === y ? 0 : x === "" ? 1 : -1;
      var c = isNum(x) && isNum(y) ? Number(x) - Number(y) : x.localeCompare(y, undefined, { numeric: true });
      return dir === "ascending" ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.tabIndex = 0;
      th.title = "sort by " + th.textContent;
      th.addEventListener("click", function () { sortBy(table, col, th); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, col, th); } });
    });
  });
})();
`;

export function renderHtml(results: Results, charts: readonly Chart[], generated = new Date()): string {
  const specs: Record<string, unknown> = {};
  for (const c of charts) specs[c.name] = c.spec;
  const specJson = JSON.stringify(specs)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
  const warnings =
    results.warnings.length > 0
      ? `<div class="warnings"><strong>Warnings</strong><ul>${results.warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul></div>`
      : "";
  const failedCount = results.rows.filter((r) => !r.ok).length;
  const nano = nanoSection(results);
  const about = aboutSection(results);
  const nav = [
    ...(failedCount ? [`<a href="#failed">failed cells (${failedCount})</a>`] : []),
    ...(about ? [`<a href="#about">what was measured</a>`] : []),
    ...charts.map((c) => `<a href="#chart-${esc(c.name)}">${esc(c.title)}</a>`),
    ...(nano ? [`<a href="#nano-table">nanobenchmark table</a>`] : []),
    `<a href="#literature">what the literature says</a>`,
    `<a href="#cells">every cell</a>`,
  ].join(" ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shadowlab results: ${esc(results.suite)}</title>
<style>${CSS}</style>
${inlineLibraries()}
</head>
<body>
<main>
<h1>shadowlab results: <code>${esc(results.suite)}</code></h1>
<p class="headline" id="headline">${esc(headline(results))}</p>
<p>Modeled performance of memory-virtualization strategies on the emulated RV32 machine. Counters and modeled cycles are deterministic; wall-clock numbers are this host's.</p>
${metadataList(results)}
<nav>${nav}</nav>
${warnings}
${failedSection(results)}
${about}
${charts.length === 0 ? "<p><strong>No chart could be drawn:</strong> no cell has a usable measurement.</p>" : ""}
${charts.map(chartSection).join("\n")}
${nano}
${literatureSection(results)}
${cellsTable(results)}
<footer>Generated ${esc(generated.toISOString())} by <code>shadowlab report</code> from <code>${esc(results.source)}</code>. This page needs no network: the charts are drawn by vega, vega-lite and vega-embed, inlined.</footer>
</main>
<script type="application/json" id="chart-specs">${specJson}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
