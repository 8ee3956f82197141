// A playlist as a small state-based CRDT. Each device keeps (and publishes)
// only its OWN edits of a playlist; every reader merges the edit sets of all
// own devices with mergePlaylist, which is deterministic whatever order the
// sets arrive in. Nothing made apart is lost when devices meet:
// - an entry is a unique id (`${author}.${n}`) with a track; entries are the
//   union of every device's additions minus every id any device removed
//   (removal is final: a tombstone);
// - an entry's place is a fractional-indexing key; the key written last by
//   Lamport order (clock, then author id) wins, so a move made concurrently on
//   two devices leaves one copy, never a duplicate;
// - sharing with a friend is last-writer-wins per friend by (clock, author).
// Pure functions, no I/O. Operations return a new PlaylistEdits and never
// mutate their inputs.
import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing'
import type { BInput } from '../codec/index.ts'
import { ManifestError } from './errors.ts'

export interface TrackRef {
  /** SHA-256 of the file, 64 lowercase hex. */
  sha256: string
  /** Hash of the audio alone (the recording, stable across retagging), 64 lowercase hex. */
  audio?: string
  title?: string
  artist?: string
  /** Seconds, kept to the millisecond. */
  duration?: number
}

/** An entry this device added; `clock` stamps the add (and its initial `pos`). */
export interface PlaylistEntry {
  id: string
  track: TrackRef
  pos: string
  clock: number
}

/** The latest place this device gave an entry (one per entry). */
export interface PlaylistMove {
  id: string
  pos: string
  clock: number
}

/** A sharing grant (or withdrawal) this device made; one per friend. */
export interface PlaylistShare {
  /** The friend's owner key, 64 lowercase hex. */
  owner: string
  on: boolean
  clock: number
}

/**
 * An owner device's grant (or withdrawal) of edit rights to a friend; one per
 * friend (docs/decisions/collab-edit-authorization.md). A withdrawal freezes
 * the friend's devices' edit sets as this device had taken them in, so what
 * merged before stays and nothing they sign later counts.
 */
export interface PlaylistCollab {
  /** The collaborator's owner key, 64 lowercase hex. */
  owner: string
  on: boolean
  clock: number
  /** With on = false: that friend's devices' edit sets as taken in at the withdrawal, by device key. */
  frozen?: { device: string; edits: PlaylistEdits }[]
}

/** One device's own edits of one playlist. */
export interface PlaylistEdits {
  /** Lamport counter: above every clock this device has seen. */
  clock: number
  entries: PlaylistEntry[]
  moves: PlaylistMove[]
  /** Entry ids this device removed (tombstones; removal is final). */
  removed: string[]
  shares: PlaylistShare[]
  /** Counter for this device's next entry id. */
  next: number
  /** Collaborator grants (owner devices only; absent when never used, so such bodies stay as they were). */
  collabs?: PlaylistCollab[]
  /** Whether collaborators may pull (copy and pin) the owner's tracks: last writer wins; absent means never set (streaming only). */
  pulls?: { on: boolean; clock: number }
}

export interface MergedEntry {
  id: string
  track: TrackRef
  pos: string
}

export interface MergedPlaylist {
  /** The highest clock over all edit sets. */
  clock: number
  /** In playlist order: by pos, ties broken by id. */
  entries: MergedEntry[]
  /** Friend owner keys the playlist is shared with now, sorted. */
  shared: string[]
}

/** Most items one device's edit set may hold (editsFromBody refuses more; operations never produce more). */
export const PLAYLIST_CAPS = { entries: 10_000, moves: 10_000, removed: 20_000, shares: 256, collabs: 64, frozen: 16 } as const
/** Longest position key. */
export const MAX_POS_LENGTH = 128
/** Longest title or artist, in bytes of UTF-8. */
export const MAX_TRACK_TEXT_BYTES = 512
/** What an entry id looks like. */
export const ENTRY_ID = /^[0-9a-z._-]{1,80}$/i

const HEX64 = /^[0-9a-f]{64}$/
const LONE_SURROGATE = /\p{Cs}/u
const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

export function emptyEdits(): PlaylistEdits {
  return { clock: 0, entries: [], moves: [], removed: [], shares: [], next: 0 }
}

// ---------------------------------------------------------------------------
// Merge

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** A position write of an entry: where, when (Lamport clock) and by which device. */
export interface PlaylistWrite {
  pos: string
  clock: number
  author: string
}

/**
 * Does write `w` beat `cur`? Higher clock, then higher author; the larger pos
 * settles a full tie. The one order every merge of playlist edits follows.
 */
export function writeBeats(w: PlaylistWrite, cur: PlaylistWrite | undefined): boolean {
  if (!cur) return true
  if (w.clock !== cur.clock) return w.clock > cur.clock
  if (w.author !== cur.author) return w.author > cur.author
  return w.pos > cur.pos
}

const copyTrack = (t: TrackRef): TrackRef => {
  const out: TrackRef = { sha256: t.sha256 }
  if (t.audio !== undefined) out.audio = t.audio
  if (t.title !== undefined) out.title = t.title
  if (t.artist !== undefined) out.artist = t.artist
  if (t.duration !== undefined) out.duration = t.duration
  return out
}

/**
 * Merges every own device's edits of one playlist (keyed by author id, e.g.
 * the device key hex). The result does not depend on the Map's order.
 */
export function mergePlaylist(editSets: ReadonlyMap<string, PlaylistEdits>): MergedPlaylist {
  const authors = [...editSets.keys()].sort(cmp)
  let clock = 0
  const removed = new Set<string>()
  for (const a of authors) {
    const e = editSets.get(a)!
    clock = Math.max(clock, e.clock)
    for (const id of e.removed) removed.add(id)
  }
  // The add that wins (for the track, should two sets carry one id) and the place write that wins.
  const added = new Map<string, { track: TrackRef; w: PlaylistWrite }>()
  const place = new Map<string, PlaylistWrite>()
  for (const author of authors) {
    for (const x of editSets.get(author)!.entries) {
      clock = Math.max(clock, x.clock)
      if (removed.has(x.id)) continue
      const w: PlaylistWrite = { pos: x.pos, clock: x.clock, author }
      if (writeBeats(w, added.get(x.id)?.w)) added.set(x.id, { track: x.track, w })
      if (writeBeats(w, place.get(x.id))) place.set(x.id, w)
    }
  }
  const shares = new Map<string, { on: boolean; clock: number; author: string }>()
  for (const author of authors) {
    const e = editSets.get(author)!
    for (const m of e.moves) {
      clock = Math.max(clock, m.clock)
      if (!added.has(m.id)) continue // removed, or an add we have not seen
      const w: PlaylistWrite = { pos: m.pos, clock: m.clock, author }
      if (writeBeats(w, place.get(m.id))) place.set(m.id, w)
    }
    for (const s of e.shares) {
      clock = Math.max(clock, s.clock)
      const cur = shares.get(s.owner)
      // Full tie (one author, one clock): off wins, the safer reading.
      const wins = !cur || s.clock > cur.clock || (s.clock === cur.clock && (author > cur.author || (author === cur.author && !s.on)))
      if (wins) shares.set(s.owner, { on: s.on, clock: s.clock, author })
    }
  }
  const entries = [...added].map(([id, a]) => ({ id, track: copyTrack(a.track), pos: place.get(id)!.pos }))
  entries.sort((x, y) => cmp(x.pos, y.pos) || cmp(x.id, y.id))
  const shared = [...shares].filter(([, s]) => s.on).map(([owner]) => owner).sort(cmp)
  return { clock, entries, shared }
}

// ---------------------------------------------------------------------------
// Operations

function nextClock(own: PlaylistEdits, merged: MergedPlaylist): number {
  const c = Math.max(own.clock, merged.clock) + 1
  if (!Number.isSafeInteger(c)) throw new Error('playlist clock is exhausted')
  return c
}

/** Well-formed UTF-8 text, cut to at most `max` bytes at a character boundary. */
function fitText(s: string, max: number): string {
  // Encoding replaces lone surrogates with U+FFFD, so the bytes are well-formed until cut.
  let b = utf8.encode(s).subarray(0, max)
  // A cut inside a character: drop its leading bytes (at most three).
  for (;;) {
    try {
      return strictUtf8.decode(b)
    } catch {
      b = b.subarray(0, b.length - 1)
    }
  }
}

function normalizeHex(v: unknown, what: string): string {
  const s = typeof v === 'string' ? v.toLowerCase() : ''
  if (!HEX64.test(s)) throw new Error(`${what} must be 64 hex digits`)
  return s
}

/** The track as it will be stored: known fields only, hex lowercased, text cut to size, duration in whole ms. */
function normalizeTrack(t: TrackRef, what: string): TrackRef {
  const out: TrackRef = { sha256: normalizeHex(t.sha256, `${what}: sha256`) }
  if (t.audio !== undefined) out.audio = normalizeHex(t.audio, `${what}: audio`)
  if (t.title !== undefined) out.title = fitText(String(t.title), MAX_TRACK_TEXT_BYTES)
  if (t.artist !== undefined) out.artist = fitText(String(t.artist), MAX_TRACK_TEXT_BYTES)
  if (t.duration !== undefined) {
    const ms = Math.round(t.duration * 1000)
    if (!Number.isSafeInteger(ms) || ms < 0) throw new Error(`${what}: duration must be a non-negative number of seconds`)
    out.duration = ms / 1000
  }
  return out
}

function checkIndex(i: number, max: number, what: string): void {
  if (!Number.isSafeInteger(i) || i < 0 || i > max) throw new Error(`${what} ${i} is out of range 0-${max}`)
}

/**
 * Keys for `n` new items at `index` of `list` (merged order, without the items
 * being placed), plus moves for the existing items that had to be re-keyed:
 * the rest of a run of equal keys at the insertion point (a new key cannot go
 * between two equal keys), or a widening window of neighbours when the keys
 * between the nearest ones would grow past MAX_POS_LENGTH.
 */
function placeKeys(list: readonly MergedEntry[], index: number, n: number): { keys: string[]; moves: { id: string; pos: string }[] } {
  let s = index
  let e = index
  const lo = () => list[s - 1]?.pos ?? null
  const hi = () => list[e]?.pos ?? null
  const tied = () => {
    const a = lo()
    const b = hi()
    return a !== null && b !== null && a >= b
  }
  while (tied()) e++
  let step = 1
  for (;;) {
    const all = generateNKeysBetween(lo(), hi(), index - s + n + (e - index))
    if (all.every((k) => k.length <= MAX_POS_LENGTH)) {
      const keys = all.slice(index - s, index - s + n)
      const moves: { id: string; pos: string }[] = []
      const rekey = (item: MergedEntry, pos: string) => {
        if (item.pos !== pos) moves.push({ id: item.id, pos })
      }
      for (let i = s; i < index; i++) rekey(list[i]!, all[i - s]!)
      for (let i = index; i < e; i++) rekey(list[i]!, all[i - s + n]!)
      return { keys, moves }
    }
    if (s === 0 && e === list.length) throw new Error('cannot place the playlist keys') // unreachable: keys from (null, null) are short
    s = Math.max(0, s - step)
    e = Math.min(list.length, e + step)
    step *= 2
    // Widening only lowers lo and raises hi, so they stay apart.
  }
}

/** Own moves with `fresh` written over (one per entry), stamped with `clock`. */
function withMoves(moves: readonly PlaylistMove[], fresh: readonly { id: string; pos: string }[], clock: number): PlaylistMove[] {
  if (fresh.length === 0) return [...moves]
  const ids = new Set(fresh.map((m) => m.id))
  const out = [...moves.filter((m) => !ids.has(m.id)), ...fresh.map((m) => ({ id: m.id, pos: m.pos, clock }))]
  if (out.length > PLAYLIST_CAPS.moves) throw new Error(`a device keeps at most ${PLAYLIST_CAPS.moves} moves per playlist`)
  return out
}

/**
 * Adds tracks at `index` of the merged order (default: the end). `merged` is
 * the current merge of all known edit sets, this device's included.
 */
export function addTracks(
  own: PlaylistEdits,
  merged: MergedPlaylist,
  author: string,
  tracks: readonly TrackRef[],
  index: number = merged.entries.length,
): PlaylistEdits {
  checkIndex(index, merged.entries.length, 'insert index')
  const refs = tracks.map((t, i) => normalizeTrack(t, `track ${i}`))
  const clock = nextClock(own, merged)
  if (refs.length === 0) return { ...own, clock }
  if (own.entries.length + refs.length > PLAYLIST_CAPS.entries) {
    throw new Error(`a device adds at most ${PLAYLIST_CAPS.entries} entries to a playlist`)
  }
  const taken = new Set([...own.entries.map((x) => x.id), ...own.removed, ...merged.entries.map((x) => x.id)])
  let next = own.next
  const ids = refs.map(() => {
    const id = `${author}.${next++}`
    if (!ENTRY_ID.test(id)) throw new Error(`entry id "${id.slice(0, 100)}" is not 1-80 of [0-9a-z._-]: the author id is unusable`)
    if (taken.has(id)) throw new Error(`entry id "${id}" is already taken: this device's edits are out of date`)
    return id
  })
  if (!Number.isSafeInteger(next)) throw new Error('entry counter is exhausted')
  const { keys, moves } = placeKeys(merged.entries, index, refs.length)
  return {
    ...own,
    clock,
    next,
    entries: [...own.entries, ...refs.map((track, i) => ({ id: ids[i]!, track, pos: keys[i]!, clock }))],
    moves: withMoves(own.moves, moves, clock),
  }
}

/** Removes entries (for good). Ids this device already removed are ignored; unknown ids throw. */
export function removeEntries(own: PlaylistEdits, merged: MergedPlaylist, ids: readonly string[]): PlaylistEdits {
  const present = new Set(merged.entries.map((x) => x.id))
  const already = new Set(own.removed)
  const fresh = [...new Set(ids)].filter((id) => !already.has(id))
  for (const id of fresh) if (!present.has(id)) throw new Error(`removeEntries: no entry "${String(id).slice(0, 100)}" in this playlist`)
  const clock = nextClock(own, merged)
  if (own.removed.length + fresh.length > PLAYLIST_CAPS.removed) {
    throw new Error(`a device removes at most ${PLAYLIST_CAPS.removed} entries from a playlist`)
  }
  // The tombstone is enough: this device's own record of a removed entry (its add, its move) is dropped.
  const gone = new Set(fresh)
  return {
    ...own,
    clock,
    entries: own.entries.filter((x) => !gone.has(x.id)),
    moves: own.moves.filter((m) => !gone.has(m.id)),
    removed: [...own.removed, ...fresh],
  }
}

/** Moves an entry so that it ends up at `toIndex` of the merged order. */
export function moveEntry(own: PlaylistEdits, merged: MergedPlaylist, id: string, toIndex: number): PlaylistEdits {
  const from = merged.entries.findIndex((x) => x.id === id)
  if (from < 0) throw new Error(`moveEntry: no entry "${String(id).slice(0, 100)}" in this playlist`)
  if (!Number.isSafeInteger(toIndex) || toIndex < 0 || toIndex >= merged.entries.length) {
    throw new Error(`moveEntry: index ${toIndex} is out of range 0-${merged.entries.length - 1}`)
  }
  const clock = nextClock(own, merged)
  if (from === toIndex) return { ...own, clock }
  const rest = merged.entries.filter((_, i) => i !== from)
  const { keys, moves } = placeKeys(rest, toIndex, 1)
  return { ...own, clock, moves: withMoves(own.moves, [{ id, pos: keys[0]! }, ...moves], clock) }
}

/** Shares the playlist with a friend (by owner key) or stops sharing it. */
export function setShare(own: PlaylistEdits, merged: MergedPlaylist, friendOwnerHex: string, on: boolean): PlaylistEdits {
  const owner = normalizeHex(friendOwnerHex, 'setShare: the friend owner key')
  const clock = nextClock(own, merged)
  const shares = [...own.shares.filter((s) => s.owner !== owner), { owner, on: Boolean(on), clock }]
  if (shares.length > PLAYLIST_CAPS.shares) throw new Error(`a playlist is shared with at most ${PLAYLIST_CAPS.shares} friends`)
  return { ...own, clock, shares }
}

// ---------------------------------------------------------------------------
// Body: the bencodable form, and its validation

/**
 * The bencodable body of an edit set: dicts, text, integers and lists only
 * (`on` as 0/1, `duration` as whole milliseconds `durationMs`).
 */
export function editsToBody(e: PlaylistEdits): { [key: string]: BInput } {
  return {
    clock: e.clock,
    next: e.next,
    entries: e.entries.map((x) => ({ id: x.id, pos: x.pos, clock: x.clock, track: trackToBody(x.track) })),
    moves: e.moves.map((m) => ({ id: m.id, pos: m.pos, clock: m.clock })),
    removed: [...e.removed],
    shares: e.shares.map((s) => ({ owner: s.owner, on: s.on ? 1 : 0, clock: s.clock })),
    ...(e.collabs?.length ? { collabs: e.collabs.map(collabToBody) } : {}),
    ...(e.pulls ? { pulls: { on: e.pulls.on ? 1 : 0, clock: e.pulls.clock } } : {}),
  }
}

function collabToBody(c: PlaylistCollab): { [key: string]: BInput } {
  const out: { [key: string]: BInput } = { owner: c.owner, on: c.on ? 1 : 0, clock: c.clock }
  if (c.frozen) out.frozen = c.frozen.map((f) => ({ device: f.device, edits: editsToBody(f.edits) }))
  return out
}

function trackToBody(t: TrackRef): { [key: string]: BInput } {
  const out: { [key: string]: BInput } = { sha256: t.sha256 }
  if (t.audio !== undefined) out.audio = t.audio
  if (t.title !== undefined) out.title = t.title
  if (t.artist !== undefined) out.artist = t.artist
  if (t.duration !== undefined) out.durationMs = Math.round(t.duration * 1000)
  return out
}

const malformed = (message: string): never => {
  throw new ManifestError('ERR_MALFORMED', message)
}

type Dict = { [key: string]: unknown }

function dict(v: unknown, what: string, required: readonly string[], optional: readonly string[] = []): Dict {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return malformed(`${what}: expected a dictionary`)
  const proto = Object.getPrototypeOf(v)
  if (proto !== Object.prototype && proto !== null) return malformed(`${what}: expected a dictionary`)
  const d = v as Dict
  for (const k of Object.keys(d)) {
    if (!required.includes(k) && !optional.includes(k)) malformed(`${what}: unknown field "${k.slice(0, 32)}"`)
  }
  for (const k of required) if (d[k] === undefined) malformed(`${what}: missing "${k}"`)
  return d
}

function list(v: unknown, what: string, cap: number): unknown[] {
  if (!Array.isArray(v)) return malformed(`${what}: expected a list`)
  if (v.length > cap) malformed(`${what}: more than ${cap} items`)
  return v
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return malformed(`${what}: expected a non-negative safe integer`)
  return v
}

/** Text as a JS string or as UTF-8 bytes (a bencode byte string), at most `maxBytes`. */
function text(v: unknown, what: string, maxBytes: number): string {
  if (typeof v === 'string') {
    if (LONE_SURROGATE.test(v)) malformed(`${what}: not valid Unicode`)
    if (Buffer.byteLength(v) > maxBytes) malformed(`${what}: longer than ${maxBytes} bytes`)
    return v
  }
  if (v instanceof Uint8Array) {
    if (v.length > maxBytes) malformed(`${what}: longer than ${maxBytes} bytes`)
    try {
      return strictUtf8.decode(v)
    } catch {
      return malformed(`${what}: not UTF-8`)
    }
  }
  return malformed(`${what}: expected text`)
}

function hex64(v: unknown, what: string): string {
  const s = text(v, what, 64)
  if (!HEX64.test(s)) malformed(`${what}: expected 64 lowercase hex digits`)
  return s
}

function entryId(v: unknown, what: string): string {
  const s = text(v, what, 80)
  if (!ENTRY_ID.test(s)) malformed(`${what}: an entry id is 1-80 of [0-9a-zA-Z._-]`)
  return s
}

/**
 * Is `k` a key fractional-indexing accepts (so generateKeyBetween on it cannot
 * throw)? Base-62 digits; a head letter giving the integer part's length
 * (a-z: 2-27, Z-A: 2-27); not the smallest integer; no trailing zero after the
 * integer part; at most MAX_POS_LENGTH characters.
 */
export function isPositionKey(k: string): boolean {
  if (k.length > MAX_POS_LENGTH || !/^[0-9A-Za-z]+$/.test(k)) return false
  const h = k.charCodeAt(0)
  let intLength: number
  if (h >= 0x61 && h <= 0x7a) intLength = h - 0x61 + 2
  else if (h >= 0x41 && h <= 0x5a) intLength = 0x5a - h + 2
  else return false
  if (k.length < intLength) return false
  if (k === `A${'0'.repeat(26)}`) return false
  return !(k.length > intLength && k.endsWith('0'))
}

function position(v: unknown, what: string): string {
  const s = text(v, what, MAX_POS_LENGTH)
  if (!isPositionKey(s)) malformed(`${what}: not a valid position key`)
  return s
}

function stamp(v: unknown, what: string, clock: number): number {
  const c = int(v, what)
  if (c > clock) malformed(`${what}: ${c} is above the edit set's clock ${clock}`)
  return c
}

function trackFromBody(v: unknown, what: string): TrackRef {
  const d = dict(v, what, ['sha256'], ['audio', 'title', 'artist', 'durationMs'])
  const t: TrackRef = { sha256: hex64(d.sha256, `${what}: sha256`) }
  if (d.audio !== undefined) t.audio = hex64(d.audio, `${what}: audio`)
  if (d.title !== undefined) t.title = text(d.title, `${what}: title`, MAX_TRACK_TEXT_BYTES)
  if (d.artist !== undefined) t.artist = text(d.artist, `${what}: artist`, MAX_TRACK_TEXT_BYTES)
  if (d.durationMs !== undefined) t.duration = int(d.durationMs, `${what}: durationMs`) / 1000
  return t
}

/**
 * Reads an edit set from a body (a decoded bencode value, or editsToBody's
 * output) that a hostile peer may have written. Throws ManifestError
 * ERR_MALFORMED on anything wrong.
 */
export function editsFromBody(body: unknown): PlaylistEdits {
  return editsFrom(body, 'playlist edits', true)
}

function editsFrom(body: unknown, where: string, grants: boolean): PlaylistEdits {
  const d = dict(body, where, ['clock', 'next', 'entries', 'moves', 'removed', 'shares'], grants ? ['collabs', 'pulls'] : [])
  const clock = int(d.clock, 'clock')
  const next = int(d.next, 'next')

  const ids = new Set<string>()
  const entries = list(d.entries, 'entries', PLAYLIST_CAPS.entries).map((v, i): PlaylistEntry => {
    const what = `entries[${i}]`
    const x = dict(v, what, ['id', 'pos', 'clock', 'track'])
    const id = entryId(x.id, `${what}: id`)
    if (ids.has(id)) malformed(`${what}: duplicate entry id "${id}"`)
    ids.add(id)
    return { id, track: trackFromBody(x.track, `${what}: track`), pos: position(x.pos, `${what}: pos`), clock: stamp(x.clock, `${what}: clock`, clock) }
  })

  const moved = new Set<string>()
  const moves = list(d.moves, 'moves', PLAYLIST_CAPS.moves).map((v, i): PlaylistMove => {
    const what = `moves[${i}]`
    const m = dict(v, what, ['id', 'pos', 'clock'])
    const id = entryId(m.id, `${what}: id`)
    if (moved.has(id)) malformed(`${what}: a second move of "${id}"`)
    moved.add(id)
    return { id, pos: position(m.pos, `${what}: pos`), clock: stamp(m.clock, `${what}: clock`, clock) }
  })

  const gone = new Set<string>()
  const removed = list(d.removed, 'removed', PLAYLIST_CAPS.removed).map((v, i) => {
    const id = entryId(v, `removed[${i}]`)
    if (gone.has(id)) malformed(`removed[${i}]: "${id}" is listed twice`)
    gone.add(id)
    return id
  })

  const owners = new Set<string>()
  const shares = list(d.shares, 'shares', PLAYLIST_CAPS.shares).map((v, i): PlaylistShare => {
    const what = `shares[${i}]`
    const s = dict(v, what, ['owner', 'on', 'clock'])
    const owner = hex64(s.owner, `${what}: owner`)
    if (owners.has(owner)) malformed(`${what}: a second grant for one friend`)
    owners.add(owner)
    if (s.on !== 0 && s.on !== 1) malformed(`${what}: on must be 0 or 1`)
    return { owner, on: s.on === 1, clock: stamp(s.clock, `${what}: clock`, clock) }
  })

  const out: PlaylistEdits = { clock, entries, moves, removed, shares, next }
  if (d.collabs !== undefined) {
    const friends = new Set<string>()
    out.collabs = list(d.collabs, 'collabs', PLAYLIST_CAPS.collabs).map((v, i): PlaylistCollab => {
      const what = `collabs[${i}]`
      const c = dict(v, what, ['owner', 'on', 'clock'], ['frozen'])
      const owner = hex64(c.owner, `${what}: owner`)
      if (friends.has(owner)) malformed(`${what}: a second grant for one collaborator`)
      friends.add(owner)
      if (c.on !== 0 && c.on !== 1) malformed(`${what}: on must be 0 or 1`)
      const grant: PlaylistCollab = { owner, on: c.on === 1, clock: stamp(c.clock, `${what}: clock`, clock) }
      if (c.frozen !== undefined) {
        if (grant.on) malformed(`${what}: only a withdrawal freezes edits`)
        const devices = new Set<string>()
        grant.frozen = list(c.frozen, `${what}: frozen`, PLAYLIST_CAPS.frozen).map((fv, j) => {
          const f = dict(fv, `${what}: frozen[${j}]`, ['device', 'edits'])
          const device = hex64(f.device, `${what}: frozen[${j}]: device`)
          if (devices.has(device)) malformed(`${what}: frozen[${j}]: a second edit set for one device`)
          devices.add(device)
          // One level only: a frozen edit set carries no grants of its own.
          const edits = editsFrom(f.edits, `${what}: frozen[${j}]: edits`, false)
          if (edits.clock > grant.clock) malformed(`${what}: frozen[${j}]: edits newer than the withdrawal`)
          return { device, edits }
        })
      }
      return grant
    })
  }
  if (d.pulls !== undefined) {
    const p = dict(d.pulls, 'pulls', ['on', 'clock'])
    if (p.on !== 0 && p.on !== 1) malformed('pulls: on must be 0 or 1')
    out.pulls = { on: p.on === 1, clock: stamp(p.clock, 'pulls: clock', clock) }
  }
  return out
}
