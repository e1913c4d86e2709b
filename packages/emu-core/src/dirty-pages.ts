/**
 * Which RAM pages were written, for checkpoints: a restore copies back only
 * the pages written since the checkpoint it returns to, so its cost follows
 * the work done, never the size of RAM.
 *
 * Every path that writes RAM marks its page (the hart's stores, AMOs and
 * SC, the walker's A/D updates, image loading, physical writes by tools and
 * handlers). A page is marked once per epoch: the first mark appends it to
 * `list`, so the written pages are enumerated without scanning RAM. The
 * hart's store memo only ever holds a page that its slow path has marked in
 * the current epoch, so the store fast path needs no mark at all; starting a
 * new epoch must therefore clear the memos (Hart.invalidateMemos).
 */
export class DirtyPages {
  /** 1 for a page written in the current epoch. */
  private readonly marked: Uint8Array;
  /** 1 for a page ever written since the machine was made (the others still hold zeros). */
  readonly everWritten: Uint8Array;
  /** The pages written in the current epoch, in first-write order; `count` of them are valid. */
  readonly list: Int32Array;
  count = 0;

  constructor(readonly pages: number) {
    this.marked = new Uint8Array(pages);
    this.everWritten = new Uint8Array(pages);
    this.list = new Int32Array(pages);
  }

  /** Note a write to RAM page `page` (byte offset >>> 12). */
  mark(page: number): void {
    if (this.marked[page] !== 0) return;
    this.marked[page] = 1;
    this.everWritten[page] = 1;
    this.list[this.count++] = page;
  }

  /** Note a write to RAM bytes [off, off + len). */
  markRange(off: number, len: number): void {
    if (len <= 0) return;
    const last = (off + len - 1) >>> 12;
    for (let p = off >>> 12; p <= last; p++) this.mark(p);
  }

  /** Start a new epoch: no page counts as written. Costs the pages of the epoch that ends. */
  clear(): void {
    const { list, marked } = this;
    for (let i = 0; i < this.count; i++) marked[list[i]] = 0;
    this.count = 0;
  }
}
