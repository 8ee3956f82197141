// Collaborative playlists: friends' devices edit a playlist their owner does
// not own. The playlist CRDT (playlist-doc.ts) merges edit sets; this module
// decides which edit sets count, and it decides it from data every
// participant holds, so every device of both circles merges to the same
// playlist (docs/decisions/collab-edit-authorization.md):
// - only the owner's devices grant or withdraw edit rights (a `collabs`
//   register per friend, last writer wins, off wins a full tie);
// - a guest device's edit set counts while its owner's grant is on;
// - a withdrawal carries the guest devices' edit sets as the withdrawing
//   device had taken them in ("frozen"): those count from then on, whatever
//   the guest signs later, so removing a collaborator keeps what merged
//   before and stops what comes after. Lamport clocks are the signer's own
//   claim and could be back-dated; a frozen copy cannot;
// - a guest's set carries no grants of its own, its entry ids must carry its
//   own device key (no edits in another device's name).
// Signatures, certificates (chain to the guest's owner, not revoked) and
// replays are checked before a set gets here (collab-manifest.ts).
// Pure functions, no I/O.
import {
  mergePlaylist, PLAYLIST_CAPS, type MergedPlaylist, type PlaylistCollab, type PlaylistEdits,
} from './playlist-doc.ts'

/** A collaborator device's edit set, its signer's owner known from its certificate. */
export interface GuestEdits {
  /** The guest device's owner key, hex. */
  owner: string
  edits: PlaylistEdits
}

/** How a guest device's edits were taken: `live` (its newest set), `frozen` (the owner's copy), or refused. */
export type GuestStanding =
  | { device: string; owner: string; taken: 'live' | 'frozen' }
  | { device: string; owner: string; taken: 'refused'; reason: 'not-a-collaborator' | 'removed' }

export interface CollabPlaylist extends MergedPlaylist {
  /** Owner keys of the friends who may edit now, sorted. */
  collaborators: string[]
  /** Whether collaborators may pull (copy and pin) the owner's tracks. */
  pulls: boolean
  /** Entry id -> the device key that added it. */
  authors: Record<string, string>
  /** Every guest device we know of (live sets and frozen copies), sorted by device. */
  guests: GuestStanding[]
  /** The guest edit sets the merge used, by device: what a withdrawal freezes. */
  accepted: Map<string, GuestEdits>
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** The device key an entry id names (`<device>.<n>`). */
export function authorOf(entryId: string): string {
  const dot = entryId.lastIndexOf('.')
  return dot < 0 ? entryId : entryId.slice(0, dot)
}

/** A guest's set as it may count: no grants, no shares, only entries in its own name. */
function asGuest(device: string, e: PlaylistEdits): PlaylistEdits {
  return {
    clock: e.clock,
    next: e.next,
    entries: e.entries.filter((x) => authorOf(x.id) === device),
    moves: e.moves,
    removed: e.removed,
    shares: [],
  }
}

/** The winning grant per friend over the owner's devices' sets (clock, then author; off wins a full tie). */
function grants(own: ReadonlyMap<string, PlaylistEdits>): Map<string, PlaylistCollab & { author: string }> {
  const out = new Map<string, PlaylistCollab & { author: string }>()
  for (const author of [...own.keys()].sort(cmp)) {
    for (const c of own.get(author)!.collabs ?? []) {
      const cur = out.get(c.owner)
      const wins = !cur || c.clock > cur.clock || (c.clock === cur.clock && (author > cur.author || (author === cur.author && !c.on)))
      if (wins) out.set(c.owner, { ...c, author })
    }
  }
  return out
}

function pullsOf(own: ReadonlyMap<string, PlaylistEdits>): boolean {
  let best: { on: boolean; clock: number; author: string } | undefined
  for (const author of [...own.keys()].sort(cmp)) {
    const p = own.get(author)!.pulls
    if (!p) continue
    if (!best || p.clock > best.clock || (p.clock === best.clock && (author > best.author || (author === best.author && !p.on)))) best = { ...p, author }
  }
  return best?.on ?? false
}

/**
 * Merges the owner's devices' edit sets (`own`, by device key) with guest
 * devices' sets (`guests`, by device key, already verified). The result does
 * not depend on the Maps' order.
 */
export function mergeCollaborative(own: ReadonlyMap<string, PlaylistEdits>, guests: ReadonlyMap<string, GuestEdits>): CollabPlaylist {
  const g = grants(own)
  const accepted = new Map<string, GuestEdits>()
  const standing = new Map<string, GuestStanding>()
  for (const [device, set] of guests) {
    if (own.has(device)) continue // an owner device is never a guest
    const grant = g.get(set.owner)
    if (grant?.on) {
      accepted.set(device, { owner: set.owner, edits: asGuest(device, set.edits) })
      standing.set(device, { device, owner: set.owner, taken: 'live' })
    } else {
      standing.set(device, { device, owner: set.owner, taken: 'refused', reason: grant ? 'removed' : 'not-a-collaborator' })
    }
  }
  for (const grant of g.values()) {
    if (grant.on) continue
    for (const f of grant.frozen ?? []) {
      if (own.has(f.device)) continue
      accepted.set(f.device, { owner: grant.owner, edits: asGuest(f.device, f.edits) })
      standing.set(f.device, { device: f.device, owner: grant.owner, taken: 'frozen' })
    }
  }
  const sets = new Map(own)
  for (const [device, a] of accepted) sets.set(device, a.edits)
  const merged = mergePlaylist(sets)
  const authors: Record<string, string> = {}
  for (const e of merged.entries) authors[e.id] = authorOf(e.id)
  return {
    ...merged,
    collaborators: [...g.values()].filter((c) => c.on).map((c) => c.owner).sort(cmp),
    pulls: pullsOf(own),
    authors,
    guests: [...standing.values()].sort((a, b) => cmp(a.device, b.device)),
    accepted,
  }
}

function nextClock(own: PlaylistEdits, merged: MergedPlaylist): number {
  const c = Math.max(own.clock, merged.clock) + 1
  if (!Number.isSafeInteger(c)) throw new Error('playlist clock is exhausted')
  return c
}

const HEX64 = /^[0-9a-f]{64}$/

/**
 * An owner device grants (`on`) or withdraws edit rights of a friend. A
 * withdrawal freezes that friend's devices' sets as `merged` took them in.
 */
export function setCollaborator(own: PlaylistEdits, merged: CollabPlaylist, friendOwnerHex: string, on: boolean): PlaylistEdits {
  const owner = String(friendOwnerHex).toLowerCase()
  if (!HEX64.test(owner)) throw new Error('setCollaborator: the friend owner key must be 64 hex digits')
  const clock = nextClock(own, merged)
  const grant: PlaylistCollab = { owner, on: Boolean(on), clock }
  if (!on) {
    const frozen = [...merged.accepted]
      .filter(([, a]) => a.owner === owner)
      .sort(([a], [b]) => cmp(a, b))
      .map(([device, a]) => ({ device, edits: a.edits }))
    if (frozen.length > PLAYLIST_CAPS.frozen) throw new Error(`a withdrawal keeps the edits of at most ${PLAYLIST_CAPS.frozen} devices`)
    if (frozen.length) grant.frozen = frozen
  }
  const collabs = [...(own.collabs ?? []).filter((c) => c.owner !== owner), grant]
  if (collabs.length > PLAYLIST_CAPS.collabs) throw new Error(`a playlist has at most ${PLAYLIST_CAPS.collabs} collaborators`)
  return { ...own, clock, collabs }
}

/** An owner device allows or refuses collaborators' pulls of the owner's tracks. */
export function setPulls(own: PlaylistEdits, merged: MergedPlaylist, on: boolean): PlaylistEdits {
  const clock = nextClock(own, merged)
  return { ...own, clock, pulls: { on: Boolean(on), clock } }
}

/** Refuses a guest edit set that carries what only the owner may write (checked where it is received). */
export function checkGuestEdits(device: string, e: PlaylistEdits): string | null {
  if (e.shares.length) return 'a collaborator cannot share the playlist'
  if (e.collabs?.length) return 'a collaborator cannot grant edit rights'
  if (e.pulls) return 'a collaborator cannot set the pull rule'
  const foreign = e.entries.find((x) => authorOf(x.id) !== device)
  if (foreign) return `entry "${foreign.id.slice(0, 100)}" is not in the signing device's name`
  return null
}

/**
 * Entries a guest added that name a track of the owner's library no owner
 * device put in the playlist (`ownerHolds`: the owner's union library). The
 * owner's devices remove them (a tombstone, so every participant converges),
 * and never open such a track to a friend: sharing a playlist opens exactly
 * the tracks its owner put in it.
 */
export function foreignClaims(merged: CollabPlaylist, isOwnDevice: (device: string) => boolean, ownerHolds: (sha256: string) => boolean): string[] {
  const ownTracks = new Set(merged.entries.filter((e) => isOwnDevice(merged.authors[e.id]!)).map((e) => e.track.sha256))
  return merged.entries
    .filter((e) => !isOwnDevice(merged.authors[e.id]!) && ownerHolds(e.track.sha256) && !ownTracks.has(e.track.sha256))
    .map((e) => e.id)
}

/** SHA-256s of the tracks the owner's devices put in the playlist: all the owner opens to friends for it. */
export function ownerScope(merged: MergedPlaylist & { authors: Record<string, string> }, isOwnDevice: (device: string) => boolean): Set<string> {
  return new Set(merged.entries.filter((e) => isOwnDevice(merged.authors[e.id] ?? '')).map((e) => e.track.sha256))
}
