/** A growable little-endian byte buffer for section contents. */
export class ByteBuffer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  /** Appends `size` (1, 2 or 4) little-endian bytes of `value`. */
  pushWord(value: number, size: 1 | 2 | 4 | number): void {
    this.reserve(size);
    for (let i = 0; i < size; i++) this.buf[this.length + i] = (value >>> (8 * i)) & 0xff;
    this.length += size;
  }

  pushBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Appends `n` zero bytes. */
  fill(n: number): void {
    this.reserve(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }

  /** Overwrites the 32-bit word at `offset` (a fixup once addresses are known). */
  patchWord(offset: number, value: number): void {
    this.view.setUint32(offset, value >>> 0, true);
  }

  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}
