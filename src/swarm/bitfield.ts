/** A fixed-size set of piece indexes, stored as BitTorrent's big-endian bitfield. */
export class Bitfield {
  readonly bytes: Uint8Array
  private ones = 0

  constructor(
    readonly length: number,
    from?: Uint8Array,
  ) {
    this.bytes = new Uint8Array(Math.ceil(length / 8))
    if (from) {
      // Bits past `length` are spare; a peer that sets them is ignored there.
      this.bytes.set(from.subarray(0, this.bytes.length))
      for (let i = 0; i < length; i++) if (this.get(i)) this.ones++
      const spare = this.bytes.length * 8 - length
      if (spare > 0) this.bytes[this.bytes.length - 1]! &= 0xff << spare
    }
  }

  get(i: number): boolean {
    return i >= 0 && i < this.length && (this.bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0
  }

  set(i: number): void {
    if (i < 0 || i >= this.length || this.get(i)) return
    this.bytes[i >> 3]! |= 0x80 >> (i & 7)
    this.ones++
  }

  clear(i: number): void {
    if (!this.get(i)) return
    this.bytes[i >> 3]! &= ~(0x80 >> (i & 7))
    this.ones--
  }

  get count(): number {
    return this.ones
  }

  get full(): boolean {
    return this.ones === this.length
  }

  static full(length: number): Bitfield {
    const b = new Bitfield(length)
    for (let i = 0; i < length; i++) b.set(i)
    return b
  }
}
