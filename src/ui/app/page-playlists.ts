// Playlist edits of a paired browser that runs as a device (docs/browser.md,
// "Playlists: the page writes as itself"): create, add, remove and move are
// made by the page's runtime, signed by its own device key, and reach the
// node as any device's edits do (a notice, then the node fetches and merges
// them). The app still reads the merged playlist from its node, so after an
// edit it waits, for a little while, until the node's view shows it.
// Sharing, collaborators and publishing stay the node's own edits.
import { api } from './api.ts'
import type { PageDevice, PageTrackRef } from './runtime.ts'
import type { Library } from '../logic/index.ts'

export type PageEdit =
  | { op: 'create'; name: string }
  | { op: 'add'; name: string; tracks: PageTrackRef[]; at?: number }
  | { op: 'remove'; name: string; entries: string[] }
  | { op: 'move'; name: string; entry: string; to: number }

/** ms the app waits for its node to show an edit the page made. */
export const NODE_SETTLE = 5_000
const POLL = 150 // ms

/** The track as a playlist entry keeps it, from the library the app shows. */
export function trackRef(lib: Library | null, sha256: string): PageTrackRef {
  const i = lib ? lib.sha256.indexOf(sha256) : -1
  if (!lib || i < 0) return { sha256 }
  const d = lib.duration[i]!
  return {
    sha256,
    ...(lib.audioHash[i] ? { audio: lib.audioHash[i] } : {}),
    ...(lib.title[i] ? { title: lib.title[i] } : {}),
    ...(lib.artist[i] ? { artist: lib.artist[i] } : {}),
    ...(Number.isFinite(d) ? { duration: Math.round(d * 1000) / 1000 } : {}),
  }
}

/** Whether the node's entries hold the page's, in the page's order (among others the page has not seen). */
function shows(node: string[], page: string[]): boolean {
  const want = new Set(page)
  const seen = node.filter((id) => want.has(id))
  return seen.length === page.length && seen.every((id, i) => id === page[i])
}

/** Makes the edit as this device, then waits (at most `settleMs`) until the node's view shows it. */
export async function editAsDevice(runtime: PageDevice, e: PageEdit, settleMs = NODE_SETTLE): Promise<void> {
  const p = runtime.playlists
  const ids =
    e.op === 'create' ? await p.create(e.name)
    : e.op === 'add' ? await p.add(e.name, e.tracks, e.at)
    : e.op === 'remove' ? await p.remove(e.name, e.entries)
    : await p.move(e.name, e.entry, e.to)
  // Not linked: the edit is kept and goes out on the next link; the node cannot show it yet.
  if (runtime.links().length === 0) return
  const end = Date.now() + settleMs
  while (Date.now() < end) {
    const got = await api<{ playlist: { entries: Array<{ id: string }> } }>(`/api/playlists/${encodeURIComponent(e.name)}`).catch(() => null)
    if (got && shows(got.playlist.entries.map((x) => x.id), ids)) return
    await new Promise((r) => setTimeout(r, POLL))
  }
}
