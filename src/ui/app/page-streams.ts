// Streams this page feeds itself: when the page is a browser device
// (docs/browser.md "Playing"), its player's /stream/ URLs carry from=page,
// the service worker answers them from the page's own swarm, and the node's
// /api/streams knows nothing of them. The device's runtime registers its
// playback's streams() here; the player lists the sources of a track found
// here, and asks the node for the others.

export interface PageStreamSource {
  device: string
  name: string
  bytes: number
  rate: number
}

export interface PageStream {
  sha256: string
  bytes: number
  sources: PageStreamSource[]
}

let streams: (() => PageStream[]) | null = null

/** Set by the browser device's runtime (servePlayback(...).streams); null when it stops. */
export function setPageStreams(fn: (() => PageStream[]) | null): void {
  streams = fn
}

/** Whether this page plays from its own swarm (its /stream/ URLs then carry from=page). */
export function pagePlays(): boolean {
  return streams !== null
}

/** The page's own stream of `sha256`, if it feeds one. */
export function pageStream(sha256: string): PageStream | undefined {
  return streams?.().find((s) => s.sha256 === sha256)
}
