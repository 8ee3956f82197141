// A bounds-checked cursor over a tag's bytes: every read says what it reads,
// so a short or hostile payload becomes one SeratoError naming the field and
// offset, never an out-of-range read or a huge allocation.
import { SeratoError } from './errors.ts'

export class Cursor {
  pos = 0
  constructor(
    readonly buf: Uint8Array,
    /** The tag's name, for messages ("Serato Markers2"). */
    readonly what: string,
  ) {}

  get left(): number {
    return this.buf.length - this.pos
  }

  fail(message: string): never {
    throw new SeratoError('ERR_BAD_TAG', `${this.what}: ${message} at byte ${this.pos}`)
  }

  need(n: number, field: string): void {
    if (n > this.left) this.fail(`${field} needs ${n} bytes, ${this.left} left`)
  }

  u8(field: string): number {
    this.need(1, field)
    return this.buf[this.pos++]!
  }

  u32(field: string): number {
    this.need(4, field)
    const b = this.buf
    const v = ((b[this.pos]! << 24) >>> 0) + (b[this.pos + 1]! << 16) + (b[this.pos + 2]! << 8) + b[this.pos + 3]!
    this.pos += 4
    return v
  }

  f32(field: string): number {
    this.need(4, field)
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, false)
    this.pos += 4
    return v
  }

  bytes(n: number, field: string): Uint8Array {
    this.need(n, field)
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  /** A NUL-terminated string of at most `max` bytes (the NUL is consumed). */
  cstring(field: string, max: number, encoding: 'utf8' | 'latin1' = 'utf8'): string {
    const end = this.buf.indexOf(0, this.pos)
    if (end < 0) this.fail(`${field} has no terminating NUL`)
    if (end - this.pos > max) this.fail(`${field} is longer than ${max} bytes`)
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, end - this.pos).toString(encoding)
    this.pos = end + 1
    return s
  }
}

/** A 3-byte RGB value as "#rrggbb". */
export const hexColor = (rgb: number): string => `#${(rgb & 0xffffff).toString(16).padStart(6, '0')}`

/** "#rrggbb" as a number (the caller has checked the form). */
export const rgbOf = (color: string): number => Number.parseInt(color.slice(1), 16)
