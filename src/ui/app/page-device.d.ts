// The browser runtime's entry for the app (src/browser/page.ts), bundled by
// Vite through the alias of vite.config.ts. Declared here, not imported:
// src/browser is typed with Node's Buffer and streams (tsconfig.browser.json
// checks it), which the app's DOM-only types do not have.
declare module 'djcloud:page-device' {
  export interface PageLink {
    name: string
    device: string
    path: string
    rttMs?: number
    setupMs: number
  }
  export interface HeldTrack {
    sha256: string
    complete: boolean
    pinned: boolean
  }
  export interface PageTrackRef {
    sha256: string
    audio?: string
    title?: string
    artist?: string
    duration?: number
  }
  /** Playlist edits the page makes as itself; each resolves with the entry ids as the page merges the playlist. */
  export interface PagePlaylistEdits {
    create(name: string): Promise<string[]>
    add(name: string, tracks: PageTrackRef[], at?: number): Promise<string[]>
    remove(name: string, entries: string[]): Promise<string[]>
    move(name: string, entry: string, to: number): Promise<string[]>
  }
  export interface PageDevice {
    links(): PageLink[]
    playlists: PagePlaylistEdits
    tracks(): HeldTrack[]
    pin(sha256: string, pinned: boolean): Promise<void>
    budget(): number
    setBudget(bytes: number): Promise<void>
    stop(): void
  }
  export function startPageDevice(opts: {
    device: {
      signer: { readonly publicKey: Uint8Array; sign(message: Uint8Array): Promise<Uint8Array> }
      certificate: Uint8Array
      roster: Uint8Array
      circleSecret: Uint8Array
      token: string
      node: string
    }
    mime(sha256: string): string
    setStreams(fn: (() => Array<{ sha256: string; bytes: number; sources: Array<{ device: string; name: string; bytes: number; rate: number }> }>) | null): void
    /** Keeps a newer owner-signed roster the runtime took in. */
    onRoster?(signed: Uint8Array): Promise<void>
    onWarning?(err: Error): void
  }): Promise<PageDevice>
}
