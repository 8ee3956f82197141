// node:crypto for the browser build (docs/browser.md, "Shims"): the calls the
// portable protocol modules make, and nothing else: createHash (sha1,
// sha256), createHmac (sha256) and randomBytes, on @noble/hashes and
// crypto.getRandomValues. Results are Buffers, as Node's are. The build
// fails loudly (code-shape test) if a portable module imports any other
// node:crypto name.
import { sha1 } from '@noble/hashes/legacy.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { hmac } from '@noble/hashes/hmac.js'

const HASHES = { sha1, sha256 } as const
type Algorithm = keyof typeof HASHES

interface Incremental {
  update(data: Uint8Array): Incremental
  digest(): Uint8Array
}

/** The part of Node's Hash and Hmac these modules use: update (bytes or UTF-8 text), digest (bytes or hex). */
export class Digest {
  private done = false
  constructor(private readonly state: Incremental) {}

  update(data: Uint8Array | string): this {
    if (this.done) throw new Error('Digest already called')
    this.state.update(typeof data === 'string' ? new TextEncoder().encode(data) : data)
    return this
  }

  digest(): Buffer
  digest(encoding: 'hex'): string
  digest(encoding?: 'hex'): Buffer | string {
    if (this.done) throw new Error('Digest already called')
    this.done = true
    const out = Buffer.from(this.state.digest())
    return encoding === 'hex' ? out.toString('hex') : out
  }
}

function hashOf(algorithm: string): (typeof HASHES)[Algorithm] {
  const h = HASHES[algorithm as Algorithm]
  if (!h) throw new Error(`the browser build has no ${algorithm} (only ${Object.keys(HASHES).join(', ')})`)
  return h
}

export function createHash(algorithm: string): Digest {
  return new Digest(hashOf(algorithm).create())
}

export function createHmac(algorithm: string, key: Uint8Array | string): Digest {
  const k = typeof key === 'string' ? new TextEncoder().encode(key) : key
  return new Digest(hmac.create(hashOf(algorithm), k))
}

/** Random bytes from the platform's CSPRNG (getRandomValues takes at most 64 KiB a call). */
export function randomBytes(size: number): Buffer {
  const out = Buffer.alloc(size)
  for (let at = 0; at < size; at += 65536) globalThis.crypto.getRandomValues(out.subarray(at, Math.min(size, at + 65536)))
  return out
}
