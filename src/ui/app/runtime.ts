// The paired browser as a live device of the circle (docs/browser.md, "The
// page as a device"): when this browser is a device of the node that served
// the page, and the page is a secure context (WebRTC, OPFS and the service
// worker need one), the app starts the runtime (src/browser/page.ts, its own
// chunk, loaded only then): tracks play from the swarm through the service
// worker, and the player and the Devices page show the page's own sources
// and links.
import type { PageDevice } from 'djcloud:page-device'
import type { BrowserDevice as StoredDevice } from '../device/index.ts'
import { keepRoster } from '../device/index.ts'
import { signWith } from '../device/keys.ts'
import { setPageStreams } from './page-streams.ts'

export type { PageDevice, PageLink, HeldTrack, PageTrackRef } from 'djcloud:page-device'

const MIME: Record<string, string> = { mp3: 'audio/mpeg', flac: 'audio/flac', wav: 'audio/wav', aiff: 'audio/aiff', aif: 'audio/aiff', m4a: 'audio/mp4', aac: 'audio/aac', ogg: 'audio/ogg', opus: 'audio/ogg' }

/** A track's type from its format (the library's). */
export function mimeOf(format: string | undefined): string {
  return MIME[(format ?? '').toLowerCase()] ?? 'application/octet-stream'
}

/** Whether this page runs the device: paired by the node that served it, in a secure context. */
export function runsHere(device: StoredDevice | null): device is StoredDevice {
  return device !== null && device.node === location.origin && globalThis.isSecureContext === true && 'serviceWorker' in navigator
}

/** Starts the runtime for `device`; `format(sha256)` is the library's format of a track. */
export async function startRuntime(device: StoredDevice, format: (sha256: string) => string | undefined, onWarning?: (err: Error) => void): Promise<PageDevice> {
  const { startPageDevice } = await import('djcloud:page-device')
  return startPageDevice({
    device: {
      signer: { publicKey: device.key.publicKey, sign: (m) => signWith(device.key, m) },
      certificate: device.certificate,
      roster: device.roster,
      circleSecret: device.circleSecret,
      token: device.token,
      node: device.node,
    },
    mime: (sha256) => mimeOf(format(sha256)),
    setStreams: setPageStreams,
    // A newer roster a linked device told of: the next load starts from it.
    onRoster: (signed) => keepRoster(device.device, signed),
    ...(onWarning ? { onWarning } : {}),
  })
}
