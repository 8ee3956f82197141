// The union library as this node sees it (its own tracks, every own
// device's manifest, who is online), built once and kept until something in
// it changes: a scan, a manifest taken in, a device coming or going, a track
// cached or evicted here.
import type { Identity } from '../identity/index.ts'
import type { LocalLibrary } from '../library/index.ts'
import type { Swarm } from '../swarm/index.ts'
import { unionTracks, type ManifestBook, type UnionEntry } from '../manifest/index.ts'

export interface UnionViewOptions {
  identity: () => Identity
  library: LocalLibrary
  book: ManifestBook
  swarm: Swarm
}

export class UnionView {
  private cache: Promise<Map<string, UnionEntry>> | null = null

  constructor(private readonly opts: UnionViewOptions) {
    const changed = () => this.changed()
    opts.book.on('changed', changed)
    opts.swarm.on('device', changed)
    opts.swarm.on('device-gone', changed)
    opts.swarm.on('cached', changed) // a fetched track is whole here now: the listing shows it cached
    opts.swarm.on('evicted', changed) // and no longer, once the cache budget evicted it
  }

  /** Forgets the built union; the next `get` builds it again. */
  changed(): void {
    this.cache = null
  }

  get(): Promise<Map<string, UnionEntry>> {
    const { identity, library, book, swarm } = this.opts
    this.cache ??= (async () =>
      unionTracks({
        self: { device: Buffer.from(identity().device.publicKey).toString('hex'), name: identity().certificate.name },
        local: await library.list(),
        remotes: book.remoteLibraries(),
        online: new Set(swarm.devices.online().map((l) => l.device)),
      }))().catch((err: unknown) => {
      this.cache = null
      throw err
    })
    return this.cache
  }
}
