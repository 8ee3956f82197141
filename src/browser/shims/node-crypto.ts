// node:crypto for the browser build (docs/browser.md, "Shims"): the calls the
// portable protocol modules make, and nothing else: createHash (sha1,
// sha256), createHmac (sha256) and randomBytes, on @noble/hashes and
// crypto.getRandomValues. Results are Buffers, as Node's are. The build
// fails loudly (code-shape test) if a portable module imports any other
// node:crypto name.
//
// Once loadFastHashes() has run, createHash('sha1'|'sha256') runs on
// hash-wasm's WebAssembly instead (3-4x noble's speed): a page fetching a
// track hashes every byte twice (SHA-1 per piece, SHA-256 of the whole), on
// its main thread, which the player's messages share (bench/browser). One
// instance per algorithm serves every digest: each keeps its own state
// (save/load), so digests may interleave and update() copies, as Node's.
import { sha1 } from '@noble/hashes/legacy.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { hmac } from '@noble/hashes/hmac.js'
import { createSHA1, createSHA256, type IHasher } from 'hash-wasm'

const HASHES = { sha1, sha256 } as const
type Algorithm = keyof typeof HASHES

interface Incremental {
  update(data: Uint8Array): Incremental
  digest(): Uint8Array
  clone(): Incremental
}

const fast: Partial<Record<Algorithm, IHasher>> = {}

/** Loads the WebAssembly hashers (once); until then, and where WebAssembly is refused, hashes run on noble. */
export async function loadFastHashes(): Promise<boolean> {
  try {
    fast.sha1 ??= await createSHA1()
    fast.sha256 ??= await createSHA256()
    return true
  } catch {
    return false // a page whose policy forbids WebAssembly: noble's speed
  }
}

/** Which code createHash runs for an algorithm now. */
export function hashBackend(algorithm: 'sha1' | 'sha256'): 'wasm' | 'noble' {
  return fast[algorithm] ? 'wasm' : 'noble'
}

/** A digest in progress on the shared WebAssembly instance: its state is its own. */
class WasmState implements Incremental {
  constructor(
    private readonly hasher: IHasher,
    private state: Uint8Array = (hasher.init(), hasher.save()),
  ) {}
  update(data: Uint8Array): this {
    this.hasher.load(this.state)
    this.hasher.update(data)
    this.state = this.hasher.save()
    return this
  }
  digest(): Uint8Array {
    this.hasher.load(this.state)
    return this.hasher.digest('binary')
  }
  clone(): WasmState {
    return new WasmState(this.hasher, this.state.slice())
  }
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

  /** Node's hash.copy(): the same state, to go on apart. */
  copy(): Digest {
    if (this.done) throw new Error('Digest already called')
    return new Digest(this.state.clone())
  }
}

function hashOf(algorithm: string): (typeof HASHES)[Algorithm] {
  const h = HASHES[algorithm as Algorithm]
  if (!h) throw new Error(`the browser build has no ${algorithm} (only ${Object.keys(HASHES).join(', ')})`)
  return h
}

export function createHash(algorithm: string): Digest {
  const hash = hashOf(algorithm)
  const wasm = fast[algorithm as Algorithm]
  return new Digest(wasm ? new WasmState(wasm) : hash.create())
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
