// Collaborative playlists between circles (docs/node.md, "Collab";
// docs/decisions/collab-edit-authorization.md). A playlist is its owner's;
// the owner's devices grant friends edit rights in it (collab-doc.ts).
// - A collaborator's device edits its own edit set of the friend's playlist,
//   signs it (a `collab` manifest) and tells the devices it is linked with:
//   its own, the owner's and the other collaborators'. A receiver fetches it
//   by SHA-256 over that link, verifies it (signature, certificate chained to
//   a friend's or our owner, not revoked, newer than the one held) and takes
//   it in only while the signer's owner is a collaborator; then tells its own
//   links, so it spreads through any participant's devices.
// - The owner's devices send collaborators the owner's edit sets (a
//   `collab-doc`: every own device's set with its seq), over the owner's share
//   channel links; a guest keeps per device the highest seq any of them sent.
// Every participant then merges the same sets the same way.
import { EventEmitter } from 'node:events'
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { asDict, asInt, asList, asString, decode, encode, type BValue } from '../codec/index.ts'
import { encodeCertificate, type FriendRevoked, type Identity } from '../identity/index.ts'
import {
  collabName, decodeGuestEdits, editsFromBody, editsToBody, emptyEdits, encodeGuestEdits, ManifestError, MANIFEST_LIMITS, mergeCollaborative,
  foreignClaims, packBlob, removeEntries, unpackBlob, type CollabPlaylist, type GuestEdits, type ManifestBook, type PlaylistEdits, type Publication,
  type UnionEntry,
} from '../manifest/index.ts'
import type { DeviceLink, ManifestNotice, Swarm } from '../swarm/index.ts'

export const COLLAB_NOTICE = 'collab'
export const COLLAB_DOC_NOTICE = 'collab-doc'
/** A notice names a playlist as `<owner hex>/<name>` in at most 256 bytes: so a collaborative playlist's name is at most 191. */
export const MAX_COLLAB_NAME_BYTES = 191
const MAX_DOC_BYTES = MANIFEST_LIMITS.playlist.maxBytes * 2
const MAX_DOC_DEVICES = 64
/** Friends' collaborative playlists kept per owner (hostile input has a cap). */
const MAX_DOCS_PER_OWNER = 256
const HEX64 = /^[0-9a-f]{64}$/

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sha256Of = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
/** The 20 bytes a notice's infohash slot carries for a guest set: the head of its SHA-256 (friends cannot compute our circle's infohash). */
const infoHashOf = (b: Uint8Array) => sha256Of(b).slice(0, 40)

/** Why an edit of a friend's playlist is refused here (the API turns it into a 403/404). */
export class CollabError extends Error {
  override name = 'CollabError'
  constructor(
    readonly code: 'ERR_NOT_FOUND' | 'ERR_NOT_COLLABORATOR',
    message: string,
  ) {
    super(message)
  }
}

interface HeldSet {
  owner: string
  seq: number
  edits: PlaylistEdits
  /** The packed signed manifest, as received (served to other participants). */
  blob: Buffer
  sha256: string
  /** Its infohash (a notice carries 20 bytes; friends check the SHA-256). */
  infoHash: string
}

interface Events {
  changed: [key: string]
  /** This device's own edit set of a playlist, or one of our docs, changed: what collab-dht.ts puts on the DHT. */
  publish: []
}

/** A packed set this device puts on the DHT for the other participants' circles (collab-dht.ts). */
export interface CollabPut {
  key: string
  kind: 'guest' | 'doc'
  data: Buffer
  /** Owner keys (hex) of the circles it is for. */
  to: string[]
}

/** Devices of one circle whose DHT items of a playlist this device reads (collab-dht.ts). */
export interface CollabTarget {
  key: string
  kind: 'guest' | 'doc'
  /** Their owner's key, hex. */
  from: string
  devices: string[]
}

export interface CollabOptions {
  home: string
  identity: () => Identity
  book: ManifestBook
  swarm: () => Swarm
  friendRevoked: FriendRevoked
  onWarning?: (err: Error) => void
  now?: () => number
  /** The union library (what our devices hold), for the foreign-claim rule; without it the rule is not applied here. */
  union?: () => Promise<Map<string, UnionEntry>>
  /** Publishes one of our playlist edits (ManifestSync.publishPlaylist). */
  publish?: (p: Publication) => Promise<unknown>
}

/** `<owner hex>/<name>` back into its parts; undefined when it is not one. */
export function parseKey(key: string): { owner: string; name: string } | undefined {
  const owner = key.slice(0, 64)
  const name = key.slice(65)
  return HEX64.test(owner) && key[64] === '/' && name.length > 0 ? { owner, name } : undefined
}

export class Collab extends EventEmitter<Events> {
  /** Guest edit sets held, by playlist key, then device. */
  private readonly guests = new Map<string, Map<string, HeldSet>>()
  /** Owner edit sets of friends' playlists we collaborate on, by key, then device. */
  private readonly docs = new Map<string, Map<string, { seq: number; edits: PlaylistEdits }>>()
  /** Docs we sent, by key: their SHA-256 (not sent again unchanged) and packed bytes (served). */
  private readonly sentDocs = new Map<string, { sha256: string; data: Buffer; infoHash: string }>()
  private readonly receivedDocs = new Map<string, { sha256: string; data: Buffer }>()
  private saving: Promise<void> = Promise.resolve()
  /** Blobs being fetched now (one notice often comes over several links at once). */
  private readonly fetching = new Set<string>()
  private attached = false
  private stopped = false

  constructor(private readonly opts: CollabOptions) {
    super()
  }

  private get id(): Identity {
    return this.opts.identity()
  }
  private get selfOwner(): string {
    return hex(this.id.roster.owner)
  }
  private get self(): string {
    return hex(this.id.device.publicKey)
  }
  private warn(err: unknown): void {
    this.opts.onWarning?.(err as Error)
  }
  private get file(): string {
    return join(this.opts.home, 'collab', 'state.json')
  }

  // ---- state -------------------------------------------------------------------

  /** Reads what was kept: guest sets are verified again (a device revoked since is dropped). */
  async open(): Promise<void> {
    let raw: { guests?: { key: string; blob: string }[]; docs?: { key: string; device: string; seq: number; body: string }[] }
    try {
      raw = JSON.parse(await readFile(this.file, 'utf8'))
    } catch {
      return
    }
    for (const g of raw.guests ?? []) {
      try {
        this.takeGuest(g.key, Buffer.from(g.blob, 'base64'), false)
      } catch (err) {
        this.warn(new Error(`a kept collaborator edit set no longer verifies: ${(err as Error).message}`))
      }
    }
    for (const d of raw.docs ?? []) {
      try {
        this.docOf(d.key).set(d.device, { seq: d.seq, edits: editsFromBody(decode(Buffer.from(d.body, 'base64'))) })
      } catch (err) {
        this.warn(err)
      }
    }
  }

  private save(): Promise<void> {
    const state = {
      guests: [...this.guests].flatMap(([key, m]) => [...m.values()].map((h) => ({ key, blob: h.blob.toString('base64') }))),
      docs: [...this.docs].flatMap(([key, m]) =>
        [...m].map(([device, d]) => ({ key, device, seq: d.seq, body: Buffer.from(encode(editsToBody(d.edits))).toString('base64') })),
      ),
    }
    this.saving = this.saving.then(async () => {
      await mkdir(join(this.opts.home, 'collab'), { recursive: true, mode: 0o700 })
      const tmp = `${this.file}.${process.pid}.tmp`
      await writeFile(tmp, JSON.stringify(state), { mode: 0o600 })
      await rename(tmp, this.file)
    })
    return this.saving.catch((e) => this.warn(e))
  }

  private docOf(key: string): Map<string, { seq: number; edits: PlaylistEdits }> {
    let m = this.docs.get(key)
    if (!m) this.docs.set(key, (m = new Map()))
    return m
  }

  /** Guest sets of one of our playlists (the book merges them into every read). */
  guestsOf(name: string): Map<string, GuestEdits> {
    return this.guestMap(collabName(this.selfOwner, name))
  }

  private guestMap(key: string): Map<string, GuestEdits> {
    return new Map([...(this.guests.get(key) ?? [])].map(([d, h]) => [d, { owner: h.owner, edits: h.edits }]))
  }

  /** The merged playlist of `owner` (hex) named `name`, as this device sees it; undefined when unknown here. */
  view(owner: string, name: string): CollabPlaylist | undefined {
    if (owner === this.selfOwner) return this.opts.book.playlist(name)
    const key = collabName(owner, name)
    const doc = this.docs.get(key)
    if (!doc) return undefined
    return mergeCollaborative(new Map([...doc].map(([d, x]) => [d, x.edits])), this.guestMap(key))
  }

  /**
   * The edit sets a view merges, as device -> that set's clock: two devices
   * showing the same inputs show the same playlist (what tests and the UI
   * compare to know a device has caught up).
   */
  inputs(owner: string, name: string): Record<string, number> {
    const v = this.view(owner, name)
    if (!v) return {}
    const out: Record<string, number> = {}
    const own = owner === this.selfOwner ? this.opts.book.playlistEdits(name) : new Map([...(this.docs.get(collabName(owner, name)) ?? [])].map(([d, x]) => [d, x.edits]))
    for (const [d, e] of own) out[d] = e.clock
    for (const [d, a] of v.accepted) out[d] = a.edits.clock
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)))
  }

  /** Friends' playlists this device may edit or has seen as a collaborator: `{owner, name}`. */
  friendPlaylists(): { owner: string; name: string }[] {
    return [...this.docs.keys()].map((k) => parseKey(k)!).filter(Boolean)
  }

  /** Owner keys taking part in a playlist now: its owner and its collaborators (and, for ours, who gets its doc). */
  private participants(key: string): Set<string> {
    const k = parseKey(key)
    if (!k) return new Set()
    if (k.owner === this.selfOwner) return new Set([k.owner, ...this.docRecipients(k.name)])
    const v = this.view(k.owner, k.name)
    return new Set([k.owner, ...(v?.collaborators ?? [])])
  }

  /**
   * Who gets the doc of one of our playlists: its collaborators, and former
   * ones it is still shared with (so they learn they were withdrawn). A
   * friend it is no longer shared with gets nothing more.
   */
  private docRecipients(name: string): Set<string> {
    const v = this.opts.book.playlist(name)
    if (!v) return new Set()
    const ever = new Set<string>()
    for (const e of this.opts.book.playlistEdits(name).values()) for (const c of e.collabs ?? []) ever.add(c.owner)
    return new Set([...v.collaborators, ...v.shared.filter((o) => ever.has(o))])
  }

  // ---- taking in -----------------------------------------------------------------

  /**
   * Verifies a packed guest set for `key` and keeps it; returns its device.
   * With `device`, it must be that device's set (a DHT item under that
   * device's key). Throws ManifestError (ERR_REPLAY: not newer than the one held).
   */
  private takeGuest(key: string, packed: Buffer, checkGrant: boolean, device?: string): string {
    const k = parseKey(key)
    if (!k) throw new ManifestError('ERR_MALFORMED', 'not a collaborative playlist key')
    const held = this.guests.get(key)
    const g = decodeGuestEdits(unpackBlob(packed, MANIFEST_LIMITS.collab.maxBytes), {
      roster: this.id.roster,
      friendRevoked: this.opts.friendRevoked,
      known: (_kind, signer) => held?.get(hex(signer))?.seq,
    }, k.owner, k.name)
    if (device !== undefined && g.device !== device) throw new ManifestError('ERR_MISMATCH', 'the edit set is signed by another device than the one whose item holds it')
    if (checkGrant) {
      const v = this.view(k.owner, k.name)
      if (!v) throw new ManifestError('ERR_NOT_FOUND', `no playlist "${k.name}" of that owner is known here`)
      // Taken in only while its owner is a collaborator; a later withdrawal keeps it frozen in the owner's edits.
      if (g.owner !== this.selfOwner && !v.collaborators.includes(g.owner)) throw new ManifestError('ERR_FORBIDDEN', 'the signer\'s owner is not a collaborator of this playlist')
      if (g.owner === this.selfOwner && !v.collaborators.includes(this.selfOwner)) throw new ManifestError('ERR_FORBIDDEN', 'we are not a collaborator of this playlist')
    }
    let m = this.guests.get(key)
    if (!m) this.guests.set(key, (m = new Map()))
    if (!m.has(g.device) && m.size >= MAX_DOC_DEVICES) throw new ManifestError('ERR_TOO_LARGE', `a playlist keeps the edit sets of at most ${MAX_DOC_DEVICES} collaborator devices`)
    m.set(g.device, { owner: g.owner, seq: g.seq, edits: g.edits, blob: packed, sha256: sha256Of(packed), infoHash: infoHashOf(packed) })
    return g.device
  }

  // ---- running -------------------------------------------------------------------

  /** Listens for notices and links; the node calls it before the peer port opens. Idempotent. */
  attach(): void {
    if (this.attached) return
    this.attached = true
    const swarm = this.opts.swarm()
    swarm.friends.on('notice', (link, n) => void this.onNotice(link, n, false).catch((e) => this.warn(e)))
    swarm.devices.on('notice', (link, n) => void this.onNotice(link, n, true).catch((e) => this.warn(e)))
    swarm.on('friend', (link) => this.greet(link, false))
    swarm.on('device', (link) => this.greet(link, true))
    // A playlist arrives on its own or with a library root: either may change a doc.
    this.opts.book.on('changed', () => this.sendDocs())
  }

  stop(): void {
    this.stopped = true
  }

  settled(): Promise<void> {
    return this.saving
  }

  private linksFor(key: string): DeviceLink[] {
    const swarm = this.opts.swarm()
    const who = this.participants(key)
    who.delete(this.selfOwner)
    return [...swarm.devices.online(), ...swarm.friends.online().filter((l) => who.has(hex(l.session.peer.certificate.owner)))]
  }

  private notice(key: string, device: string, h: HeldSet): ManifestNotice {
    return { kind: COLLAB_NOTICE, name: key, signer: device, infoHash: h.infoHash, seq: h.seq, sha256: h.sha256 }
  }

  /** Tells participants' linked devices (and our own) of a set held, except `skip`. */
  private spread(key: string, device: string, skip?: DeviceLink): void {
    const h = this.guests.get(key)?.get(device)
    if (!h || this.stopped) return
    const links = this.linksFor(key).filter((l) => l !== skip)
    if (links.length === 0) return
    const swarm = this.opts.swarm()
    const own = links.filter((l) => swarm.devices.online().includes(l))
    const friends = links.filter((l) => !own.includes(l))
    if (own.length) swarm.devices.notify(this.notice(key, device, h), own)
    if (friends.length) swarm.friends.notify(this.notice(key, device, h), friends)
  }

  /** A new link: what it should hold of ours. */
  private greet(link: DeviceLink, own: boolean): void {
    if (this.stopped) return
    const swarm = this.opts.swarm()
    const peerOwner = hex(link.session.peer.certificate.owner)
    const channel = own ? swarm.devices : swarm.friends
    for (const [key, m] of this.guests) {
      if (!own && !this.participants(key).has(peerOwner)) continue
      for (const [device, h] of m) channel.notify(this.notice(key, device, h), [link])
    }
    if (!own) this.sendDocs([link])
    else for (const [key, d] of this.receivedDocs) channel.notify(this.docNotice(key, d.sha256), [link])
  }

  /** The owner's edit sets of each of our playlists with collaborators, sent to their linked devices when changed. */
  private sendDocs(only?: DeviceLink[]): void {
    if (this.stopped) return
    const swarm = this.opts.swarm()
    for (const name of this.opts.book.playlistNames()) {
      const to = this.docRecipients(name)
      if (to.size === 0) continue
      const key = collabName(this.selfOwner, name)
      const blob = this.docBlob(name)
      const sha256 = blob.sha256
      const prev = this.sentDocs.get(key)
      if (prev?.sha256 === sha256 && !only) continue
      this.sentDocs.set(key, { sha256, data: blob.data, infoHash: blob.infoHash })
      if (prev?.sha256 !== sha256) this.emit('publish')
      const links = (only ?? swarm.friends.online()).filter((l) => swarm.friends.online().includes(l) && to.has(hex(l.session.peer.certificate.owner)))
      if (links.length) swarm.friends.notify(this.docNotice(key, sha256), links)
    }
  }

  /** The doc of one of our playlists as this device sees it now: every own device's edit set with its seq, packed. */
  private docBlob(name: string): { sha256: string; infoHash: string; data: Buffer } {
    const devices = [...this.opts.book.playlistVersions(name)].slice(0, MAX_DOC_DEVICES)
    const plain = encode({ devices: devices.map(([device, x]) => ({ device, seq: x.seq, edits: editsToBody(x.edits) })) })
    return packBlob(plain, this.id.circleSecret)
  }

  private async onNotice(link: DeviceLink, n: ManifestNotice, own: boolean): Promise<void> {
    if (this.stopped || (n.kind !== COLLAB_NOTICE && n.kind !== COLLAB_DOC_NOTICE) || !n.name || !n.sha256) return
    const key = n.name
    const k = parseKey(key)
    if (!k) return
    const peerOwner = hex(link.session.peer.certificate.owner)
    const swarm = this.opts.swarm()
    const channel = own ? swarm.devices : swarm.friends
    if (n.kind === COLLAB_DOC_NOTICE) {
      // The owner's word about its own edit sets: from the owner's devices, or passed on by our own.
      if (!own && peerOwner !== k.owner) return
      if (k.owner === this.selfOwner || this.receivedDocs.get(key)?.sha256 === n.sha256) return
      if (!own && !this.opts.book.isFriend(k.owner)) return
      // A friend's devices cannot grow what we keep without bound: a cap on their playlists held here.
      if (!this.docs.has(key) && [...this.docs.keys()].filter((x) => x.startsWith(`${k.owner}/`)).length >= MAX_DOCS_PER_OWNER) {
        return this.warn(new Error(`${link.name} offered more than ${MAX_DOCS_PER_OWNER} collaborative playlists of one owner: ignored`))
      }
      const want = n.sha256
      if (this.fetching.has(want)) return
      this.fetching.add(want)
      const got = await channel.fetchBlob(want, [link], true).finally(() => this.fetching.delete(want))
      // Null: the sender holds a newer doc by now (it keeps the latest); its notice follows.
      if (!got) return
      if (sha256Of(got.data) !== n.sha256) return this.warn(new Error(`${link.name} sent a collaborative playlist that does not match its notice`))
      await this.acceptDoc(key, got.data, link)
      return
    }
    // A guest edit set: only for playlists we own or take part in, from a participant.
    if (!HEX64.test(n.signer)) return
    if (k.owner !== this.selfOwner && !this.docs.has(key)) return
    if (!own && !this.participants(key).has(peerOwner)) return
    const held = this.guests.get(key)?.get(n.signer)
    const want = n.sha256
    if ((held && held.seq >= n.seq) || this.fetching.has(want)) return
    this.fetching.add(want)
    const got = await channel.fetchBlob(want, [link], true).finally(() => this.fetching.delete(want))
    if (!got || sha256Of(got.data) !== n.sha256) return this.warn(new Error(`${link.name} sent a collaborator edit set that does not match its notice`))
    // Another link brought the same or a newer version meanwhile.
    if ((this.guests.get(key)?.get(n.signer)?.seq ?? 0) >= n.seq) return
    await this.acceptGuest(key, got.data, link.name, { skip: link })
  }

  /** A doc of `key` from an owner's device (its link, an own device's, or its DHT item): kept per device at the highest seq, passed to own devices. */
  private async acceptDoc(key: string, data: Buffer, from?: DeviceLink): Promise<void> {
    const swarm = this.opts.swarm()
    const sha256 = sha256Of(data)
    this.takeDoc(key, data)
    this.receivedDocs.set(key, { sha256, data })
    await this.save()
    this.emit('changed', key)
    swarm.devices.notify(this.docNotice(key, sha256), swarm.devices.online().filter((l) => l !== from))
  }

  /**
   * A guest set's bytes, however they came (a link, a DHT item): verified
   * (takeGuest with the grant), kept, told to our links and, on our own
   * playlist, its foreign claims removed and our doc sent. 'old': not newer
   * than the set held (with `quietReplay`, no warning).
   */
  private async acceptGuest(key: string, data: Buffer, source: string, o: { skip?: DeviceLink; device?: string; quietReplay?: boolean }): Promise<'taken' | 'old' | 'refused'> {
    let device: string
    try {
      device = this.takeGuest(key, data, true, o.device)
    } catch (err) {
      // A DHT item older than (or as old as) the set held: nothing new, not an attack, nothing to retry.
      if (o.quietReplay && err instanceof ManifestError && err.code === 'ERR_REPLAY') return 'old'
      this.warn(new Error(`refused a collaborator edit set from ${source}: ${(err as Error).message}`))
      return 'refused'
    }
    const k = parseKey(key)!
    await this.save()
    this.emit('changed', key)
    this.spread(key, device, o.skip)
    if (k.owner === this.selfOwner) {
      await this.removeForeignClaims(k.name)
      this.sendDocs()
    }
    return 'taken'
  }

  /**
   * A collaborator's entry naming one of our tracks that none of our devices
   * put in the playlist is removed by our device (a tombstone every
   * participant merges); our sharing never opened it anyway (ownerScope).
   */
  async removeForeignClaims(name: string): Promise<string[]> {
    const union = await this.opts.union?.()
    const v = this.opts.book.playlist(name)
    if (!union || !v || this.stopped) return []
    const guestDevices = new Set(v.guests.map((g) => g.device))
    const claims = foreignClaims(v, (d) => !guestDevices.has(d), (sha) => (union.get(sha)?.holders.length ?? 0) > 0)
    if (claims.length === 0) return []
    this.warn(new Error(`removed ${claims.length} entr${claims.length === 1 ? 'y' : 'ies'} of "${name}" a collaborator added naming our tracks not in the playlist`))
    const { publication } = await this.opts.book.editPlaylist(name, (own, merged) => removeEntries(own, merged, claims.filter((id) => merged.entries.some((e) => e.id === id))))
    await this.opts.publish?.(publication)
    return claims
  }

  /** A doc notice: it names the doc by SHA-256; its 20-byte infohash slot carries the SHA-256's head (nothing is looked up by it). */
  private docNotice(key: string, sha256: string): ManifestNotice {
    return { kind: COLLAB_DOC_NOTICE, name: key, signer: this.self, infoHash: sha256.slice(0, 40), seq: 1, sha256 }
  }

  /** Reads an owner's doc (hostile input) and keeps, per device, the highest seq. */
  private takeDoc(key: string, packed: Buffer): void {
    const d = asDict(decode(unpackBlob(packed, MAX_DOC_BYTES), { maxBytes: MAX_DOC_BYTES, maxDepth: 14, maxItems: 400_000, maxStringBytes: 16 * 1024 }), 'doc')
    const doc = this.docOf(key)
    for (const v of asList(d.devices, 'devices', MAX_DOC_DEVICES) as BValue[]) {
      const x = asDict(v, 'device')
      const device = asString(x.device, 'device', 64)
      if (!HEX64.test(device)) throw new ManifestError('ERR_MALFORMED', 'a doc device is 64 hex digits')
      const seq = asInt(x.seq, 'seq')
      if ((doc.get(device)?.seq ?? 0) >= seq) continue
      doc.set(device, { seq, edits: editsFromBody(x.edits) })
    }
  }

  /** A blob a link may fetch: guest sets and docs of playlists its owner takes part in (own devices: all). */
  blobFor(friendOwner: string | null, sha256: string): Buffer | undefined {
    for (const [key, m] of this.guests) {
      for (const h of m.values()) if (h.sha256 === sha256 && (friendOwner === null || this.participants(key).has(friendOwner))) return h.blob
    }
    for (const [key, d] of [...this.sentDocs, ...this.receivedDocs]) {
      if (d.sha256 === sha256 && (friendOwner === null || this.participants(key).has(friendOwner))) return d.data
    }
    return undefined
  }

  // ---- editing as a collaborator --------------------------------------------------

  /** Applies an edit to this device's own edit set of a friend's playlist, signs it and tells the participants. */
  async editAsGuest(owner: string, name: string, edit: (own: PlaylistEdits, merged: CollabPlaylist) => PlaylistEdits): Promise<CollabPlaylist> {
    const key = collabName(owner, name)
    const v = this.view(owner, name)
    if (!v || owner === this.selfOwner) throw new CollabError('ERR_NOT_FOUND', `no playlist "${name}" of that friend is known here`)
    if (!v.collaborators.includes(this.selfOwner)) throw new CollabError('ERR_NOT_COLLABORATOR', `the owner of "${name}" has not made you a collaborator`)
    const held = this.guests.get(key)?.get(this.self)
    const next = edit(held?.edits ?? emptyEdits(), v)
    const id = this.id
    const bytes = encodeGuestEdits(
      { owner, name, seq: (held?.seq ?? 0) + 1, created: this.opts.now?.() ?? Date.now(), edits: next },
      { deviceSeed: id.device.seed, certificate: encodeCertificate(id.certificate) },
      this.self,
    )
    this.takeGuest(key, packBlob(bytes, id.circleSecret).data, false)
    await this.save()
    this.emit('changed', key)
    this.emit('publish')
    this.spread(key, this.self)
    return this.view(owner, name)!
  }

  // ---- over the DHT (collab-dht.ts puts and reads the items) ---------------------------

  /**
   * What this device puts on the DHT now: its own edit set of each friend's
   * playlist it edited (for the owner's and the other participants'
   * circles), and the doc of each of our playlists with collaborators (for
   * theirs, and withdrawn ones it is still shared with).
   */
  dhtPuts(): CollabPut[] {
    const out: CollabPut[] = []
    for (const [key, m] of this.guests) {
      const mine = m.get(this.self)
      if (!mine || parseKey(key)?.owner === this.selfOwner) continue
      const to = [...this.participants(key)].filter((o) => o !== this.selfOwner)
      if (to.length) out.push({ key, kind: 'guest', data: mine.blob, to })
    }
    for (const name of this.opts.book.playlistNames()) {
      const to = this.docRecipients(name)
      if (to.size) out.push({ key: collabName(this.selfOwner, name), kind: 'doc', data: this.docBlob(name).data, to: [...to] })
    }
    return out
  }

  /**
   * Whose DHT items this device reads: on our playlists, each collaborator's
   * devices (its followed roster's, and those whose sets we hold); on a
   * friend's, the owner's devices (roster and doc) for the doc, and each
   * other collaborator's for its set (the reader reaches only friends' items).
   */
  dhtTargets(rosterDevices: (owner: string) => string[]): CollabTarget[] {
    const out: CollabTarget[] = []
    const guestsOf = (key: string, owner: string) => [...(this.guests.get(key) ?? [])].filter(([, h]) => h.owner === owner).map(([d]) => d)
    // A device its owner revoked is not read (its link would be refused too).
    const devices = (owner: string, ...lists: string[][]) =>
      [...new Set(lists.flat())].filter((d) => d !== this.self && HEX64.test(d) && !this.opts.friendRevoked(Buffer.from(owner, 'hex'), Buffer.from(d, 'hex')))
    for (const name of this.opts.book.playlistNames()) {
      const v = this.opts.book.playlist(name)
      const key = collabName(this.selfOwner, name)
      for (const c of v?.collaborators ?? []) {
        if (c !== this.selfOwner) out.push({ key, kind: 'guest', from: c, devices: devices(c, rosterDevices(c), guestsOf(key, c)) })
      }
    }
    for (const [key, doc] of this.docs) {
      const k = parseKey(key)
      if (!k) continue
      out.push({ key, kind: 'doc', from: k.owner, devices: devices(k.owner, rosterDevices(k.owner), [...doc.keys()]) })
      for (const c of this.view(k.owner, k.name)?.collaborators ?? []) {
        if (c !== this.selfOwner && c !== k.owner && this.opts.book.isFriend(c)) out.push({ key, kind: 'guest', from: c, devices: devices(c, rosterDevices(c), guestsOf(key, c)) })
      }
    }
    return out
  }

  /**
   * A guest set read from `device`'s DHT item (its owner `from`): taken only
   * for a playlist we own or hold the doc of, from a participant, signed by
   * that very device; then checked as one fetched over a link. 'refused'
   * may be taken later (a grant may not have reached us yet); 'old': not
   * newer than the set held (a stale item never rolls a set back).
   */
  async receiveGuest(key: string, from: string, device: string, data: Buffer): Promise<'taken' | 'old' | 'refused'> {
    const k = parseKey(key)
    if (this.stopped || !k || (k.owner !== this.selfOwner && !this.docs.has(key)) || !this.participants(key).has(from)) return 'refused'
    return this.acceptGuest(key, data, `the DHT item of ${device.slice(0, 12)}`, { device, quietReplay: true })
  }

  /**
   * An owner's doc read from the DHT item of one of its devices (the caller
   * reads only the owner's devices' items, sealed for our circle): kept as
   * one sent over that device's link.
   */
  async receiveDoc(key: string, data: Buffer): Promise<void> {
    const k = parseKey(key)
    if (this.stopped || !k || k.owner === this.selfOwner || !this.opts.book.isFriend(k.owner) || this.receivedDocs.get(key)?.sha256 === sha256Of(data)) return
    try {
      await this.acceptDoc(key, data)
    } catch (err) {
      this.warn(new Error(`refused a collaborative playlist doc from the DHT: ${(err as Error).message}`))
    }
  }

  // ---- what the rest of the node asks -----------------------------------------------

  /**
   * Tracks our devices put in friends' playlists that `friendOwner` takes
   * part in: what our sharing opens to that friend for them (nothing else).
   */
  openedTo(friendOwner: string): Set<string> {
    const out = new Set<string>()
    const mine = new Set(this.id.roster.devices.map((c) => hex(c.device)))
    for (const key of this.docs.keys()) {
      if (!this.participants(key).has(friendOwner)) continue
      const k = parseKey(key)!
      const v = this.view(k.owner, k.name)
      for (const e of v?.entries ?? []) if (mine.has(v!.authors[e.id]!)) out.add(e.track.sha256)
    }
    return out
  }

  /** Owners (hex, not ours) whose devices put a track in a collaborative playlist we see: where to stream it from. */
  ownersOf(sha256: string): string[] {
    const out = new Set<string>()
    const views: { owner: string; v: CollabPlaylist }[] = []
    for (const key of this.docs.keys()) {
      const k = parseKey(key)!
      const v = this.view(k.owner, k.name)
      if (v) views.push({ owner: k.owner, v })
    }
    for (const name of this.opts.book.playlistNames()) {
      const v = this.opts.book.playlist(name)
      if (v?.guests.length) views.push({ owner: this.selfOwner, v })
    }
    for (const { owner, v } of views) {
      const ownerOfDevice = new Map(v.guests.map((g) => [g.device, g.owner]))
      for (const e of v.entries) {
        if (e.track.sha256 !== sha256) continue
        const o = ownerOfDevice.get(v.authors[e.id]!) ?? owner
        if (o !== this.selfOwner) out.add(o)
      }
    }
    return [...out]
  }
}
