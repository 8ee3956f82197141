// The runtime as the web app starts it (docs/browser.md, "The page as a
// device"): the OPFS store, the device's links, and the player's /stream/
// requests answered from the swarm through the service worker. The app
// (src/ui/app/runtime.ts) loads this as its own chunk, only on a paired
// browser, and hands it the device it keeps and its library's track types.
// The shims first: the modules after them use Buffer and process.nextTick as they find them.
import './shims/globals.ts'
import { BrowserDevice, type PairedDevice, type LinkView } from './device.ts'
import { servePlayback, torrentTrack, type PlaybackStream } from './playback.ts'
import { BrowserTrackStore } from './track-store.ts'

/** Tracks the player keeps open at once; older ones are closed (still held in the store). */
export const OPEN_TRACKS = 3

export interface PageDeviceOptions {
  device: PairedDevice
  /** A track's type, from the library. */
  mime(sha256: string): string
  /** Where the player finds the page's streams (src/ui/app/page-streams.ts); null once stopped. */
  setStreams(fn: (() => PlaybackStream[]) | null): void
  onWarning?(err: Error): void
}

export interface PageDevice {
  links(): LinkView[]
  budget(): number
  setBudget(bytes: number): Promise<void>
  stop(): void
}

export async function startPageDevice(opts: PageDeviceOptions): Promise<PageDevice> {
  const store = await BrowserTrackStore.open()
  const runtime = await BrowserDevice.start({ device: opts.device, store })
  if (opts.onWarning) runtime.on('warning', opts.onWarning)
  const opened: string[] = []
  const server = servePlayback(async (sha256) => {
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
  })
  opts.setStreams(() => server.streams())
  return {
    links: () => runtime.links(),
    budget: () => store.budget,
    setBudget: async (bytes) => void (await store.setBudget(bytes)),
    stop: () => {
      opts.setStreams(null)
      server.stop()
      runtime.close()
    },
  }
}
