// The runtime as the web app starts it (docs/browser.md, "The page as a
// device"): the OPFS store, the device's links, and the player's /stream/
// requests answered from the swarm through the service worker. The app
// (src/ui/app/runtime.ts) loads this as its own chunk, only on a paired
// browser, and hands it the device it keeps and its library's track types.
// Its playlist edits are its own, signed by its device key (playlists.ts).
// The shims first: the modules after them use Buffer and process.nextTick as they find them.
import './shims/globals.ts'
import { BrowserDevice, type PairedDevice, type LinkView } from './device.ts'
import { servePlayback, torrentTrack, type PlaybackStream } from './playback.ts'
import { BrowserTrackStore } from './track-store.ts'
import { PagePlaylists, type PagePlaylist } from './playlists.ts'
import type { TrackRef } from '../manifest/browser.ts'

/** Tracks the player keeps open at once; older ones are closed (still held in the store). */
export const OPEN_TRACKS = 3

export interface PageDeviceOptions {
  device: PairedDevice
  /** A track's type, from the library. */
  mime(sha256: string): string
  /** Where the player finds the page's streams (src/ui/app/page-streams.ts); null once stopped. */
  setStreams(fn: (() => PlaybackStream[]) | null): void
  /** Keeps a newer owner-signed roster the runtime took in (BrowserDeviceOptions.onRoster). */
  onRoster?(signed: Uint8Array): Promise<void>
  onWarning?(err: Error): void
}

/** A track this browser's store has: whole or in part, and whether it is pinned. */
export interface HeldTrack {
  sha256: string
  complete: boolean
  pinned: boolean
}

/**
 * The playlist edits this page makes as itself (playlists.ts): each resolves
 * with the entry ids of the playlist as this page merges it, once the edit
 * is kept and sent to the linked devices.
 */
export interface PagePlaylistEdits {
  create(name: string): Promise<string[]>
  add(name: string, tracks: TrackRef[], at?: number): Promise<string[]>
  remove(name: string, entries: string[]): Promise<string[]>
  move(name: string, entry: string, to: number): Promise<string[]>
}

export interface PageDevice {
  links(): LinkView[]
  playlists: PagePlaylistEdits
  /** The store's tracks, from its index. */
  tracks(): HeldTrack[]
  /** Pins a track (kept, never evicted), fetching it whole first if it is not here; or unpins it. */
  pin(sha256: string, pinned: boolean): Promise<void>
  budget(): number
  setBudget(bytes: number): Promise<void>
  stop(): void
}

export async function startPageDevice(opts: PageDeviceOptions): Promise<PageDevice> {
  const store = await BrowserTrackStore.open()
  const playlists = await PagePlaylists.open({ name: `${store.name}-playlists`, device: opts.device })
  // Not waiting for signaling: with the node away the tracks held whole still play, and the rounds join when it is back.
  const runtime = await BrowserDevice.start({ device: opts.device, store, playlists, joinLater: true, ...(opts.onRoster ? { onRoster: opts.onRoster } : {}) })
  if (opts.onWarning) runtime.on('warning', opts.onWarning)
  const opened: string[] = []
  const server = servePlayback((sha256) =>
    openTrack(sha256).catch((err: Error) => {
      opts.onWarning?.(new Error(`track ${sha256.slice(0, 12)} not played here: ${err.message}`))
      throw err
    }),
  )
  async function openTrack(sha256: string) {
    // Nothing to fetch from: say so now rather than after a lookup's timeout (the worker then asks the node).
    if (!store.has(sha256) && runtime.links().length === 0) throw new Error('this browser does not hold the track whole, and no device is linked')
    const torrent = await runtime.open(sha256)
    // A fetch that failed (every holder gone) closed it: the next request opens it again.
    torrent.once('closed', () => server.forget(sha256))
    opened.push(sha256)
    // The player moves on: tracks long left are closed (the store keeps them; the circle can still fetch them).
    while (opened.length > OPEN_TRACKS) {
      const old = opened.shift()!
      server.forget(old)
      void runtime.release(old)
    }
    return torrentTrack(torrent, opts.mime(sha256))
  }
  opts.setStreams(() => server.streams())
  const ids = (p: PagePlaylist) => p.entries.map((e) => e.id)
  return {
    links: () => runtime.links(),
    playlists: {
      create: async (name) => ids(await playlists.create(name)),
      add: async (name, tracks, at) => ids(await playlists.addTracks(name, tracks, at)),
      remove: async (name, entries) => ids(await playlists.remove(name, entries)),
      move: async (name, entry, to) => ids(await playlists.move(name, entry, to)),
    },
    tracks: () => store.tracks().map((t) => ({ sha256: t.sha256, complete: t.complete, pinned: t.pinned })),
    pin: async (sha256, pinned) => {
      const fetching = runtime.streams().some((s) => s.sha256 === sha256)
      if (store.tracks().some((t) => t.sha256 === sha256)) await store.pin(sha256, pinned)
      // Not here whole and not coming for the player: fetch it (kept whole, then pinned).
      if (pinned && !store.has(sha256) && !fetching) {
        await runtime.fetch(sha256)
        await store.pin(sha256, true)
      }
    },
    budget: () => store.budget,
    setBudget: async (bytes) => void (await store.setBudget(bytes)),
    stop: () => {
      opts.setStreams(null)
      server.stop()
      runtime.close()
      playlists.close()
    },
  }
}
