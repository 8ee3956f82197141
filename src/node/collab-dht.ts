// Collaborative playlists through the DHT alone (docs/node.md, "Collab";
// docs/decisions/collab-edits-over-dht.md). Links carry edits at once when
// the circles' devices reach each other; this carries them when they do not:
// - puts: whenever this device's own edit set of a friend's playlist, or the
//   doc of one of our playlists, changes, it is sealed for each other
//   participant's circle and put under this device's key (collab-item.ts);
//   the same items are put again every `reputMs` (+ jitter), as our
//   manifests' pointers are (BEP 44 items expire).
// - reads: every `pollMs` this device reads the items of the other
//   participants' devices it knows (followed rosters, sets and docs held)
//   and hands what opens to Collab, which checks it exactly as a set or doc
//   fetched over a link (signature, certificate chain, revocation, seq, grant).
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { BDict } from '../codec/index.ts'
import { friendSecrets, type Identity } from '../identity/index.ts'
import { logger } from '../log/index.ts'
import type { DhtNode } from '../manifest/index.ts'
import { parseKey, type Collab, type CollabTarget } from './collab.ts'
import { CollabItemError, collabItemSalt, itemChunk, itemHead, openItems, sealItems, type CollabItemPlace } from './collab-item.ts'
import { MANIFEST_REPUT, MANIFEST_REPUT_JITTER, POLL_INTERVAL } from './manifest-sync.ts'

export interface CollabDhtOptions {
  home: string
  identity: () => Identity
  collab: Collab
  dht: DhtNode
  /** A friend's devices on its roster followed here, revoked ones left out (FriendRosters.devicesOf). */
  rosterDevices: (owner: string) => string[]
  /** ms between reads of the participants' items (default POLL_INTERVAL, the node's `manifestPoll`). */
  pollMs?: number
  /** ms before our items are put again, plus up to `reputJitterMs` at random (defaults MANIFEST_REPUT, MANIFEST_REPUT_JITTER). */
  reputMs?: number
  reputJitterMs?: number
  onWarning?: (err: Error) => void
}

/** One version put: the sealed chunks' values at one seq, and the digest of the bytes sealed (unchanged bytes are not put again). */
interface Put {
  seq: number
  digest: string
  values: BDict[]
  salts: Buffer[]
}

const log = logger('node:collab-dht')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sha256Of = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

export class CollabDht {
  /** What is put now, by item (`kind:key:recipient owner`). */
  private readonly put = new Map<string, Put>()
  /** The last seq used per item, kept in <home>/collab/dht.json: BEP 44 refuses a seq not above the one held. */
  private seqs: Record<string, number> = {}
  /** Per item read (`kind:key:device`): the seq handled, and whether Collab took it (a refused one is read again after a change). */
  private readonly seen = new Map<string, { seq: number; taken: boolean }>()
  private syncing: Promise<void> | null = null
  private dirty = false
  private polling: Promise<void> | null = null
  private pollTimer: NodeJS.Timeout | null = null
  private reputTimer: NodeJS.Timeout | null = null
  private readonly tooLarge = new Set<string>()
  private started = false
  private stopped = false

  constructor(private readonly opts: CollabDhtOptions) {}

  private get file(): string {
    return join(this.opts.home, 'collab', 'dht.json')
  }

  /** Warnings stop with the service: what fails because the DHT node closed under a put or read is not one. */
  private warn(err: unknown): void {
    if (!this.stopped) this.opts.onWarning?.(err as Error)
  }

  /** Puts what changed since the last run, reads the participants' items, and keeps doing both. Idempotent. */
  async start(): Promise<void> {
    if (this.started || this.stopped) return
    this.started = true
    try {
      const j = JSON.parse(await readFile(this.file, 'utf8')) as { seqs?: Record<string, unknown> }
      for (const [k, v] of Object.entries(j.seqs ?? {})) if (Number.isSafeInteger(v)) this.seqs[k] = v as number
    } catch {
      // none yet (or unreadable): seqs start from the clock, above any used before
    }
    this.opts.collab.on('publish', () => void this.sync().catch((e) => this.warn(e)))
    // A set refused for want of a grant (a doc not here yet) is read again once something changed.
    this.opts.collab.on('changed', () => {
      for (const [k, s] of this.seen) if (!s.taken) this.seen.delete(k)
    })
    this.pollTimer = setInterval(() => void this.poll().catch((e) => this.warn(e)), this.opts.pollMs ?? POLL_INTERVAL)
    this.pollTimer.unref()
    this.scheduleReput()
    void this.sync().catch((e) => this.warn(e))
    void this.poll().catch((e) => this.warn(e))
  }

  stop(): void {
    this.stopped = true
    if (this.pollTimer) clearInterval(this.pollTimer)
    if (this.reputTimer) clearTimeout(this.reputTimer)
  }

  // ---- putting ------------------------------------------------------------------

  /** Puts every changed set; a change while a run goes on makes one more run (edits in a burst coalesce). */
  sync(): Promise<void> {
    if (this.syncing) {
      this.dirty = true
      return this.syncing
    }
    this.syncing = (async () => {
      do {
        this.dirty = false
        await this.putChanged()
      } while (this.dirty && !this.stopped)
    })().finally(() => (this.syncing = null))
    return this.syncing
  }

  private async putChanged(): Promise<void> {
    const id = this.opts.identity()
    const self = hex(id.device.publicKey)
    const secrets = friendSecrets(id)
    const wanted = new Set<string>()
    for (const p of this.opts.collab.dhtPuts()) {
      const k = parseKey(p.key)!
      const digest = sha256Of(p.data)
      for (const to of p.to) {
        const secret = secrets.get(to)
        if (!secret || this.stopped) continue
        const item = `${p.kind}:${p.key}:${to}`
        wanted.add(item)
        if (this.put.get(item)?.digest === digest) continue
        const place: CollabItemPlace = { secret, kind: p.kind, owner: k.owner, name: k.name, writer: self }
        let values: BDict[]
        try {
          values = sealItems(place, p.data)
        } catch (err) {
          if (!this.tooLarge.has(item)) this.warn(new Error(`the ${p.kind === 'doc' ? 'doc' : 'edit set'} of "${k.name}" is too large for the DHT (links only): ${(err as Error).message}`))
          this.tooLarge.add(item)
          continue
        }
        this.tooLarge.delete(item)
        const seq = Math.max((this.seqs[item] ?? 0) + 1, Math.floor(Date.now() / 1000))
        this.seqs[item] = seq
        await this.saveSeqs() // before the put: a restart never puts another version at this seq
        const put: Put = { seq, digest, values, salts: values.map((_, i) => collabItemSalt(place, i)) }
        this.put.set(item, put)
        log('put the %s of "%s" for %s at seq %d (%d items)', p.kind === 'doc' ? 'doc' : 'edit set', k.name, to.slice(0, 12), seq, values.length)
        await this.putOne(put)
      }
    }
    // A participant no longer (a collaborator withdrawn and unshared): its items are no longer put again.
    for (const item of this.put.keys()) if (!wanted.has(item)) this.put.delete(item)
  }

  /** The chunks first, item 0 last: a reader that sees the new item 0 finds its chunks there. */
  private async putOne(p: Put): Promise<void> {
    const seed = this.opts.identity().device.seed
    const dht = this.opts.dht
    const one = (i: number) => dht.putItem({ seed, salt: p.salts[i]!, seq: p.seq, v: p.values[i]! }).catch((e) => this.warn(e))
    await Promise.all(p.values.slice(1).map((_, i) => one(i + 1)))
    await one(0)
  }

  private async saveSeqs(): Promise<void> {
    await mkdir(join(this.opts.home, 'collab'), { recursive: true, mode: 0o700 })
    const tmp = `${this.file}.${process.pid}.tmp`
    await writeFile(tmp, JSON.stringify({ seqs: this.seqs }), { mode: 0o600 })
    await rename(tmp, this.file)
  }

  private scheduleReput(): void {
    if (this.stopped) return
    this.reputTimer = setTimeout(() => {
      void (async () => {
        // The same values at the same seq: nodes that still hold them refuse (302), nodes that lost them take them.
        for (const p of [...this.put.values()]) if (!this.stopped) await this.putOne(p)
      })().finally(() => this.scheduleReput())
    }, (this.opts.reputMs ?? MANIFEST_REPUT) + Math.random() * (this.opts.reputJitterMs ?? MANIFEST_REPUT_JITTER))
    this.reputTimer.unref()
  }

  // ---- reading ------------------------------------------------------------------

  /** Reads every participant device's item once (one read at a time). */
  poll(): Promise<void> {
    this.polling ??= (async () => {
      try {
        if (this.stopped) return
        const secrets = friendSecrets(this.opts.identity())
        const reads: Promise<void>[] = []
        for (const t of this.opts.collab.dhtTargets(this.opts.rosterDevices)) {
          const secret = secrets.get(t.from)
          if (secret) for (const device of t.devices) reads.push(this.read(t, secret, device))
        }
        for (const r of await Promise.allSettled(reads)) if (r.status === 'rejected') this.warn(r.reason)
      } finally {
        this.polling = null
      }
    })()
    return this.polling
  }

  private async read(t: CollabTarget, secret: Uint8Array, device: string): Promise<void> {
    const k = parseKey(t.key)!
    const place: CollabItemPlace = { secret, kind: t.kind, owner: k.owner, name: k.name, writer: device }
    const publicKey = Buffer.from(device, 'hex')
    const dht = this.opts.dht
    const seenKey = `${t.kind}:${t.key}:${device}`
    const first = await dht.getItem({ publicKey, salt: collabItemSalt(place, 0) })
    if (!first || this.stopped || first.seq <= (this.seen.get(seenKey)?.seq ?? -1)) return
    let data: Buffer
    try {
      const head = itemHead(first.v)
      const rest = await Promise.all(
        Array.from({ length: head.chunks - 1 }, async (_, i) => {
          const c = await dht.getItem({ publicKey, salt: collabItemSalt(place, i + 1) })
          if (!c || c.seq !== first.seq) throw new CollabItemError('ERR_INCOMPLETE', `chunk ${i + 1} is not at seq ${first.seq} yet`)
          return itemChunk(c.v)
        }),
      )
      data = openItems(place, head, rest)
    } catch (err) {
      // Chunks of another version: the writer is putting a newer one; the next read finds it whole.
      if (err instanceof CollabItemError && err.code === 'ERR_INCOMPLETE') return
      this.seen.set(seenKey, { seq: first.seq, taken: true })
      return this.warn(new Error(`ignored the DHT item of ${device.slice(0, 12)} for "${k.name}": ${(err as Error).message}`))
    }
    if (this.stopped) return
    this.seen.set(seenKey, { seq: first.seq, taken: true })
    if (t.kind === 'doc') {
      log('read the doc of "%s" from %s at seq %d', k.name, device.slice(0, 12), first.seq)
      return this.opts.collab.receiveDoc(t.key, data)
    }
    const got = await this.opts.collab.receiveGuest(t.key, t.from, device, data)
    log('read the edit set of "%s" from %s at seq %d: %s', k.name, device.slice(0, 12), first.seq, got)
    if (got === 'refused') this.seen.set(seenKey, { seq: first.seq, taken: false })
  }
}
