/**
 * Progress of a run: a one-line bar redrawn in place on a terminal (cells
 * done, failed, elapsed, time left), plain lines otherwise (one per cell, for
 * logs and CI).
 */
import type { ResultRow } from "./results.ts";

export type ProgressMode = "bar" | "lines" | "none";

function clock(ms: number): string {
  if (!Number.isFinite(ms)) return "--:--";
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class Progress {
  private done = 0;
  private failed = 0;
  private readonly start = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly total: number,
    private readonly mode: ProgressMode,
    private readonly write: (text: string) => void,
    private readonly width = 30,
  ) {
    if (mode === "bar") {
      this.draw();
      this.timer = setInterval(() => this.draw(), 1000);
      this.timer.unref();
    }
  }

  private left(): number {
    if (this.done === 0) return Number.POSITIVE_INFINITY;
    return ((Date.now() - this.start) / this.done) * (this.total - this.done);
  }

  private draw(): void {
    const frac = this.total === 0 ? 1 : this.done / this.total;
    const full = Math.round(frac * this.width);
    const bar = `${"#".repeat(full)}${"-".repeat(this.width - full)}`;
    const failed = this.failed ? `, ${this.failed} failed` : "";
    this.write(
      `\r[${bar}] ${this.done}/${this.total} cells${failed}  ${clock(Date.now() - this.start)} elapsed, ~${clock(this.left())} left \x1b[K`,
    );
  }

  cell(row: ResultRow): void {
    this.done++;
    if (row.status !== "ok") this.failed++;
    if (this.mode === "bar") {
      if (row.status !== "ok")
        this.write(`\r\x1b[Kfailed: ${row.cell} (${row.failure}) ${row.error.split("\n")[0]}\n`);
      this.draw();
    } else if (this.mode === "lines") {
      const what =
        row.status === "ok"
          ? `ok ${row.slowdown === null ? "" : `${row.slowdown.toFixed(2)}x `}${row.host_mips === null ? "" : `${row.host_mips.toFixed(1)} MIPS`}`
          : `FAILED ${row.failure}: ${row.error.split("\n")[0]}`;
      this.write(
        `[${String(this.done).padStart(String(this.total).length)}/${this.total} ${clock(Date.now() - this.start)}, ~${clock(this.left())} left] ${row.cell}  ${what}\n`,
      );
    }
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.mode === "bar") {
      this.draw();
      this.write("\n");
    }
  }
}
