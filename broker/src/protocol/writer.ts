/** Growable big-endian buffer for responses. */
export class Writer {
  private buf: Buffer;
  pos = 0;
  /** Finished pieces: earlier slices of `buf` and buffers appended by reference. */
  private parts: Buffer[] = [];
  private partStart = 0;
  private refBytes = 0;
  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
    return this;
  }
  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }
  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }
  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }
  int64(v: number | bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt(v), this.pos);
    this.pos += 8;
    return this;
  }
  boolean(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }
  nullableString(s: string | null | undefined): this {
    if (s === null || s === undefined) return this.int16(-1);
    const len = Buffer.byteLength(s);
    this.int16(len);
    this.ensure(len);
    this.buf.write(s, this.pos);
    this.pos += len;
    return this;
  }
  string(s: string): this {
    return this.nullableString(s);
  }
  raw(b: Buffer): this {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
    return this;
  }
  /**
   * Appends a large buffer by reference instead of copying it: Fetch responses carry
   * log bytes exactly as read from the segment files. Small ones are cheaper to copy.
   */
  rawRef(b: Buffer): this {
    if (b.length < 16_384) return this.raw(b);
    this.parts.push(this.buf.subarray(this.partStart, this.pos), b);
    this.partStart = this.pos;
    this.refBytes += b.length;
    return this;
  }
  /** Total encoded length, including by-reference parts. */
  get length(): number {
    return this.pos + this.refBytes;
  }
  /** The encoded bytes as a list of buffers to write in order (no copy of referenced parts). */
  toBuffers(): Buffer[] {
    return [...this.parts, this.buf.subarray(this.partStart, this.pos)];
  }
  nullableBytes(b: Buffer | null | undefined): this {
    if (b === null || b === undefined) return this.int32(-1);
    this.int32(b.length);
    return this.raw(b);
  }
  bytes(b: Buffer): this {
    return this.nullableBytes(b);
  }
  array<T>(items: readonly T[], item: (w: Writer, v: T) => void): this {
    this.int32(items.length);
    for (const v of items) item(this, v);
    return this;
  }
  nullableArray<T>(items: readonly T[] | null, item: (w: Writer, v: T) => void): this {
    if (items === null) return this.int32(-1);
    return this.array(items, item);
  }
  varint(v: number): this {
    let z = ((v << 1) ^ (v >> 31)) >>> 0;
    this.ensure(5);
    while (z >= 0x80) {
      this.buf[this.pos++] = (z & 0x7f) | 0x80;
      z >>>= 7;
    }
    this.buf[this.pos++] = z;
    return this;
  }
  varlong(v: number): this {
    const big = BigInt(v);
    let z = BigInt.asUintN(64, (big << 1n) ^ (big >> 63n));
    this.ensure(10);
    while (z >= 0x80n) {
      this.buf[this.pos++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.pos++] = Number(z);
    return this;
  }
  varBytes(b: Buffer | null): this {
    if (b === null) return this.varint(-1);
    this.varint(b.length);
    return this.raw(b);
  }
  /** Reserve an int32 to be patched later (frame sizes, batch lengths). */
  placeholder32(): number {
    const at = this.pos;
    this.int32(0);
    return at;
  }
  patch32(at: number, v: number): void {
    this.buf.writeInt32BE(v, at);
  }
  patchU32(at: number, v: number): void {
    this.buf.writeUInt32BE(v >>> 0, at);
  }
  /** The bytes written so far; only for writers that never used rawRef. */
  view(): Buffer {
    if (this.refBytes > 0) throw new Error("view() on a writer with by-reference parts: use toBuffers()");
    return this.buf.subarray(0, this.pos);
  }
}
