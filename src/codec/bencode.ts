// Canonical bencode (BEP 3): dictionary keys sorted by their raw bytes,
// integers only. The decoder is strict and bounded: it refuses anything a
// canonical encoder would not produce (unsorted or duplicate keys, leading
// zeros, -0) so that "decode then re-encode" is the identity, which is what
// lets signatures be checked over the received bytes.

export type BValue = number | bigint | Uint8Array | BValue[] | BDict
export interface BDict {
  [key: string]: BValue
}
/** Values accepted by encode(); strings are written as UTF-8, undefined entries are dropped. */
export type BInput = number | bigint | string | Uint8Array | BInput[] | { [key: string]: BInput | undefined }

export interface DecodeLimits {
  maxBytes: number
  maxDepth: number
  /** Items across all lists and dicts. */
  maxItems: number
  maxStringBytes: number
}

export const DEFAULT_LIMITS: DecodeLimits = {
  maxBytes: 1 << 20,
  maxDepth: 16,
  maxItems: 100_000,
  maxStringBytes: 1 << 20,
}

export class BencodeError extends Error {
  override name = 'BencodeError'
  readonly code = 'ERR_BENCODE'
  constructor(
    message: string,
    /** True when a decode limit was exceeded (size, depth, items, string length), not bad syntax. */
    readonly overLimit = false,
  ) {
    super(message)
  }
}

/** Integers are signed 64-bit, as every BitTorrent implementation reads them. */
const INT64_MAX = 2n ** 63n - 1n
const INT64_MIN = -(2n ** 63n)

const enc = new TextEncoder()
const dec = new TextDecoder('utf-8', { fatal: true })

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!
  }
  return a.length - b.length
}

/** A growing output buffer: tokens are written in place, not as a buffer each. */
class Writer {
  private buf = Buffer.allocUnsafe(1024)
  private len = 0

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n))
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  ascii(s: string): void {
    this.ensure(s.length)
    this.len += this.buf.write(s, this.len, 'latin1')
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
  }

  text(s: string): void {
    const n = Buffer.byteLength(s)
    this.ascii(`${n}:`)
    this.ensure(n)
    this.len += this.buf.write(s, this.len, 'utf8')
  }

  /** The bytes written, in a buffer of their own size. */
  done(): Uint8Array {
    return Buffer.from(this.buf.subarray(0, this.len))
  }
}

const ASCII = /^[\x00-\x7f]*$/

export function encode(value: BInput): Uint8Array {
  const w = new Writer()
  write(value, w, 0)
  return w.done()
}

function write(value: BInput, out: Writer, depth: number): void {
  if (depth > 64) throw new BencodeError('value nested too deeply to encode')
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new BencodeError(`cannot encode non-integer number ${value}`)
    }
    // The decoder reads 64-bit integers at most; never write what it would refuse.
    if (typeof value === 'bigint' && (value > INT64_MAX || value < INT64_MIN)) {
      throw new BencodeError('cannot encode an integer beyond 64 bits')
    }
    out.ascii(`i${value}e`)
  } else if (typeof value === 'string') {
    out.text(value)
  } else if (value instanceof Uint8Array) {
    out.ascii(`${value.length}:`)
    out.bytes(value)
  } else if (Array.isArray(value)) {
    out.ascii('l')
    for (const item of value) write(item, out, depth + 1)
    out.ascii('e')
  } else if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined)
    // Keys sort by their UTF-8 bytes; for ASCII keys that is plain string order.
    if (keys.every((k) => ASCII.test(k))) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    else keys.sort((a, b) => compareBytes(enc.encode(a), enc.encode(b)))
    out.ascii('d')
    for (const k of keys) {
      out.text(k)
      write(value[k] as BInput, out, depth + 1)
    }
    out.ascii('e')
  } else {
    throw new BencodeError(`cannot encode ${typeof value}`)
  }
}

export function decode(bytes: Uint8Array, limits: Partial<DecodeLimits> = {}): BValue {
  const lim = { ...DEFAULT_LIMITS, ...limits }
  if (bytes.length > lim.maxBytes) {
    throw new BencodeError(`input is ${bytes.length} bytes, over the ${lim.maxBytes}-byte limit`, true)
  }
  let pos = 0
  let items = 0

  const fail = (msg: string, overLimit = false): never => {
    throw new BencodeError(`${msg} at byte ${pos}`, overLimit)
  }

  // Digits are read in place: integers and string lengths are the most
  // frequent tokens, and a string per token was most of a manifest's decoding.
  const readInt = (terminator: number): number | bigint => {
    const start = pos
    const neg = bytes[pos] === 0x2d /* - */
    if (neg) pos++
    const first = pos
    let v = 0
    let digitsOnly = true
    while (pos < bytes.length && bytes[pos] !== terminator) {
      const c = bytes[pos]!
      if (c < 0x30 || c > 0x39) digitsOnly = false
      v = v * 10 + (c - 0x30)
      pos++
    }
    if (pos >= bytes.length) fail('unterminated integer')
    const digits = pos - first
    const text = () => Buffer.from(bytes.subarray(start, pos)).toString('latin1')
    if (!digitsOnly || digits === 0 || (bytes[first] === 0x30 && (digits > 1 || neg))) {
      fail(`non-canonical integer ${JSON.stringify(text().slice(0, 24))}`)
    }
    if (pos - start > 20) fail('integer too long')
    if (digits <= 15) {
      pos++
      return neg ? -v : v // exact: below 2^53
    }
    const big = BigInt(text())
    pos++
    if (big > INT64_MAX || big < INT64_MIN) fail('integer beyond 64 bits')
    return big
  }

  const readBytes = (): Uint8Array => {
    const len = readInt(0x3a /* : */)
    if (len < 0) fail('negative string length')
    if (len > lim.maxStringBytes) fail(`string of ${len} bytes is over the limit`, true)
    const n = Number(len)
    if (pos + n > bytes.length) fail('string runs past the end')
    const out = bytes.subarray(pos, pos + n)
    pos += n
    return out
  }

  const countItem = () => {
    if (++items > lim.maxItems) fail(`more than ${lim.maxItems} items`, true)
  }

  const readValue = (depth: number): BValue => {
    if (depth > lim.maxDepth) fail(`nested deeper than ${lim.maxDepth}`, true)
    const c = bytes[pos]
    if (c === undefined) return fail('unexpected end')
    if (c === 0x69 /* i */) {
      pos++
      const v = readInt(0x65)
      return typeof v === 'number' || v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER) ? v : Number(v)
    }
    if (c >= 0x30 && c <= 0x39) return readBytes()
    if (c === 0x6c /* l */) {
      pos++
      const list: BValue[] = []
      while (bytes[pos] !== 0x65) {
        if (pos >= bytes.length) fail('unterminated list')
        countItem()
        list.push(readValue(depth + 1))
      }
      pos++
      return list
    }
    if (c === 0x64 /* d */) {
      pos++
      const dict: BDict = Object.create(null) as BDict
      let prev: Uint8Array | null = null
      while (bytes[pos] !== 0x65) {
        if (pos >= bytes.length) fail('unterminated dictionary')
        countItem()
        const keyBytes = readBytes()
        if (prev && compareBytes(prev, keyBytes) >= 0) fail('dictionary keys not sorted or duplicated')
        prev = keyBytes
        let key: string
        try {
          key = dec.decode(keyBytes)
        } catch {
          return fail('dictionary key is not UTF-8')
        }
        dict[key] = readValue(depth + 1)
      }
      pos++
      return dict
    }
    return fail(`unexpected byte 0x${c.toString(16)}`)
  }

  const value = readValue(0)
  if (pos !== bytes.length) fail('trailing bytes after value')
  return value
}

/** Typed accessors for decoded values: each throws a BencodeError naming the field. */
export function asDict(v: BValue | undefined, what: string): BDict {
  if (v === undefined || typeof v !== 'object' || v instanceof Uint8Array || Array.isArray(v)) {
    throw new BencodeError(`${what}: expected a dictionary`)
  }
  return v
}

export function asBytes(v: BValue | undefined, what: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new BencodeError(`${what}: expected bytes`)
  if (length !== undefined && v.length !== length) {
    throw new BencodeError(`${what}: expected ${length} bytes, got ${v.length}`)
  }
  return v
}

export function asString(v: BValue | undefined, what: string, maxLength = 1024): string {
  const b = asBytes(v, what)
  if (b.length > maxLength) throw new BencodeError(`${what}: longer than ${maxLength} bytes`)
  try {
    return dec.decode(b)
  } catch {
    throw new BencodeError(`${what}: not UTF-8`)
  }
}

export function asInt(v: BValue | undefined, what: string): number {
  if (typeof v !== 'number') throw new BencodeError(`${what}: expected an integer`)
  return v
}

export function asList(v: BValue | undefined, what: string, maxLength: number): BValue[] {
  if (!Array.isArray(v)) throw new BencodeError(`${what}: expected a list`)
  if (v.length > maxLength) throw new BencodeError(`${what}: more than ${maxLength} entries`)
  return v
}
