/**
 * Text widths from the font the PNGs are drawn with. Without a canvas, vega
 * guesses every text's width (0.8 em a character), so axis titles land on
 * their labels or labels get cut; with the advance widths of DejaVu Sans
 * (read from the TTF's cmap and hmtx tables) the layout fits the drawing.
 */
import { readFileSync } from "node:fs";

export interface FontMetrics {
  /** Width of `text` in em (kerning ignored). */
  width(text: string): number;
}

function table(buf: Buffer, tag: string): number {
  const n = buf.readUInt16BE(4);
  for (let i = 0; i < n; i++) {
    const rec = 12 + 16 * i;
    if (buf.toString("latin1", rec, rec + 4) === tag) return buf.readUInt32BE(rec + 8);
  }
  throw new Error(`font has no ${tag} table`);
}

/** Reads unitsPerEm, the advance widths and the Unicode BMP cmap (format 4) of a TTF. */
export function loadFontMetrics(path: string): FontMetrics {
  const buf = readFileSync(path);
  const head = table(buf, "head");
  const unitsPerEm = buf.readUInt16BE(head + 18);
  const hhea = table(buf, "hhea");
  const numberOfHMetrics = buf.readUInt16BE(hhea + 34);
  const hmtx = table(buf, "hmtx");
  const advance = (glyph: number) => buf.readUInt16BE(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));
  const cmap = table(buf, "cmap");
  let sub = -1;
  const count = buf.readUInt16BE(cmap + 2);
  for (let i = 0; i < count; i++) {
    const platform = buf.readUInt16BE(cmap + 4 + 8 * i);
    const encoding = buf.readUInt16BE(cmap + 6 + 8 * i);
    const offset = buf.readUInt32BE(cmap + 8 + 8 * i);
    if (platform === 3 && encoding === 1 && buf.readUInt16BE(cmap + offset) === 4) sub = cmap + offset;
  }
  if (sub < 0) throw new Error(`${path}: no Unicode BMP cmap`);
  const segX2 = buf.readUInt16BE(sub + 6);
  const ends = sub + 14;
  const starts = ends + segX2 + 2;
  const deltas = starts + segX2;
  const rangeOffsets = deltas + segX2;
  const glyphOf = (code: number): number => {
    for (let s = 0; s < segX2; s += 2) {
      if (code > buf.readUInt16BE(ends + s)) continue;
      const start = buf.readUInt16BE(starts + s);
      if (code < start) return 0;
      const delta = buf.readUInt16BE(deltas + s);
      const ro = buf.readUInt16BE(rangeOffsets + s);
      if (ro === 0) return (code + delta) & 0xffff;
      const g = buf.readUInt16BE(rangeOffsets + s + ro + 2 * (code - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
  const cache = new Map<number, number>();
  const em = (code: number) => {
    let w = cache.get(code);
    if (w === undefined) {
      w = advance(glyphOf(code > 0xffff ? 0xfffd : code)) / unitsPerEm;
      cache.set(code, w);
    }
    return w;
  };
  return {
    width(text: string) {
      let w = 0;
      for (const ch of text) w += em(ch.codePointAt(0)!);
      return w;
    },
  };
}
