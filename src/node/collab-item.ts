// The DHT items of a collaborative playlist (docs/node.md, "Collab";
// docs/decisions/collab-edits-over-dht.md). A participant device puts its
// packed edit set (a guest's signed `collab` manifest, or an owner device's
// doc) for one other circle as BEP 44 mutable items under its own device key:
// - salts from the friendship secret of the two circles, per (kind, owner,
//   playlist, chunk index): only those two circles can find the items;
// - the bytes sealed with ChaCha20-Poly1305 under a key from the same secret
//   (DHT nodes that store an item are strangers), bound to kind, writer
//   device, owner and playlist, and cut into chunks of CHUNK_BYTES: item 0
//   `{v: 1, n: chunks, h: SHA-256 of the sealed bytes, d: chunk 0}`, items
//   1..n-1 `{d: chunk i}`, all at one seq.
// A reader takes a version only when every chunk is at item 0's seq and the
// whole hashes to `h`; what the bytes say is then checked as over a link.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import type { BDict } from '../codec/index.ts'
import { friendDerived } from '../identity/index.ts'

export type CollabItemKind = 'guest' | 'doc'

/** Bytes of sealed data an item carries: item 0 stays under BEP 44's 1000 bytes bencoded with `v`, `n` and `h`. */
export const CHUNK_BYTES = 900
/** Chunks a version may take (about 28 KB): a larger set travels over links only. */
export const MAX_CHUNKS = 32
const NONCE_BYTES = 12
const TAG_BYTES = 16
const VERSION = 1

/** Why a version read from the DHT is not usable (yet). */
export class CollabItemError extends Error {
  override name = 'CollabItemError'
  constructor(
    /** ERR_MALFORMED: not an item of ours; ERR_INCOMPLETE: chunks of another version (try later); ERR_SEAL: does not open. */
    readonly code: 'ERR_MALFORMED' | 'ERR_INCOMPLETE' | 'ERR_SEAL' | 'ERR_TOO_LARGE',
    message: string,
  ) {
    super(message)
  }
}

export interface CollabItemPlace {
  /** The friendship secret of the writer's and the reader's circles. */
  secret: Uint8Array
  kind: CollabItemKind
  /** The playlist owner's key, hex. */
  owner: string
  name: string
  /** The writing device's key, hex (the items' BEP 44 key). */
  writer: string
}

const nameHash = (name: string) => createHash('sha256').update(name).digest()

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

/** The salt of chunk `index` of the items `kind` of `owner`'s playlist `name` (32 bytes; every part fixed-length). */
export function collabItemSalt(p: Omit<CollabItemPlace, 'writer'>, index: number): Buffer {
  return friendDerived(p.secret, `collab-${p.kind}-item/v1`, [Buffer.from(p.owner, 'hex'), nameHash(p.name), u32(index)], 32)
}

function sealKey(p: CollabItemPlace): Buffer {
  return friendDerived(p.secret, 'collab-item-key/v1', [Buffer.from(p.owner, 'hex'), nameHash(p.name)], 32)
}

/** What the seal is bound to: an item moved to another place (kind, writer, playlist) does not open. */
function aad(p: CollabItemPlace): Buffer {
  return Buffer.concat([Buffer.from(`djcloud/collab-item/v1:${p.kind}:`), Buffer.from(p.writer, 'hex'), Buffer.from(p.owner, 'hex'), nameHash(p.name)])
}

/** The values of items 0..n-1 for `data` (a packed blob). Throws CollabItemError ERR_TOO_LARGE past MAX_CHUNKS. */
export function sealItems(p: CollabItemPlace, data: Uint8Array): BDict[] {
  const nonce = randomBytes(NONCE_BYTES)
  const c = createCipheriv('chacha20-poly1305', sealKey(p), nonce, { authTagLength: TAG_BYTES })
  c.setAAD(aad(p), { plaintextLength: data.length })
  const sealed = Buffer.concat([nonce, c.update(data), c.final(), c.getAuthTag()])
  const n = Math.ceil(sealed.length / CHUNK_BYTES)
  if (n > MAX_CHUNKS) throw new CollabItemError('ERR_TOO_LARGE', `${sealed.length} bytes take more than ${MAX_CHUNKS} DHT items`)
  const chunks = Array.from({ length: n }, (_, i) => sealed.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES))
  return chunks.map((d, i): BDict => (i === 0 ? { v: VERSION, n, h: createHash('sha256').update(sealed).digest(), d } : { d }))
}

const isDict = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
const isBytes = (v: unknown, max: number): v is Uint8Array => v instanceof Uint8Array && v.length >= 1 && v.length <= max

/** Item 0's fields (hostile input); throws ERR_MALFORMED. */
export function itemHead(v: unknown): { chunks: number; hash: Buffer; first: Buffer } {
  if (!isDict(v) || v.v !== VERSION || !Number.isSafeInteger(v.n) || (v.n as number) < 1 || (v.n as number) > MAX_CHUNKS) {
    throw new CollabItemError('ERR_MALFORMED', 'not a collaborative playlist item (version, chunk count)')
  }
  if (!(v.h instanceof Uint8Array) || v.h.length !== 32 || !isBytes(v.d, CHUNK_BYTES)) throw new CollabItemError('ERR_MALFORMED', 'a collaborative playlist item without its hash or data')
  return { chunks: v.n as number, hash: Buffer.from(v.h), first: Buffer.from(v.d) }
}

/** A later chunk's data (hostile input); throws ERR_MALFORMED. */
export function itemChunk(v: unknown): Buffer {
  if (!isDict(v) || !isBytes(v.d, CHUNK_BYTES)) throw new CollabItemError('ERR_MALFORMED', 'a collaborative playlist chunk item without data')
  return Buffer.from(v.d)
}

/** The packed blob of a whole version: the chunks' bytes must hash to item 0's `h` and open under the place's key. */
export function openItems(p: CollabItemPlace, head: { hash: Buffer; first: Buffer }, rest: Buffer[]): Buffer {
  const sealed = Buffer.concat([head.first, ...rest])
  if (!createHash('sha256').update(sealed).digest().equals(head.hash)) {
    throw new CollabItemError('ERR_INCOMPLETE', 'the chunks found are not of one version')
  }
  if (sealed.length < NONCE_BYTES + TAG_BYTES + 1) throw new CollabItemError('ERR_MALFORMED', 'a sealed item too short to hold anything')
  try {
    const d = createDecipheriv('chacha20-poly1305', sealKey(p), sealed.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES })
    const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)
    d.setAAD(aad(p), { plaintextLength: body.length })
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES))
    return Buffer.concat([d.update(body), d.final()])
  } catch {
    throw new CollabItemError('ERR_SEAL', 'a collaborative playlist item does not open with our friendship key (not for us, or altered)')
  }
}
