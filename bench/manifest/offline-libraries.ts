// Own devices that are offline during a benchmark, present only through their
// signed library manifests of synthetic tracks, taken into another home's
// manifest book as it would have taken them from the DHT (bench/ui and
// bench/subsonic build their 20,000-track unions this way).
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadIdentity } from '../../src/identity/index.ts'
import { ManifestBook, ManifestStore } from '../../src/manifest/index.ts'
import { syntheticTracks } from './tracks.ts'

/** Each of `offline` publishes `tracks` synthetic tracks (seeds 301, 302, ...); `home`'s book takes every library in. */
export async function takeInOfflineLibraries(home: string, offline: string[], tracks: number): Promise<void> {
  const id = await loadIdentity(home)
  const book = await ManifestBook.open({ store: await ManifestStore.open(home, id.circleSecret), identity: () => id })
  for (const [i, other] of offline.entries()) {
    const theirs = await loadIdentity(other)
    const store = await ManifestStore.open(other, theirs.circleSecret)
    const own = await ManifestBook.open({ store, identity: () => theirs })
    const pub = await own.publishLibrary(syntheticTracks(tracks, 301 + i))
    const blobs = join(store.dir, 'blobs')
    const ok = await book.applyLibrary(await readFile(join(blobs, pub!.blob.sha256)), (sha) => readFile(join(blobs, sha)).catch(() => null), theirs.certificate.name)
    if (!ok) throw new Error(`${id.certificate.name} refused ${theirs.certificate.name}'s library: ${JSON.stringify(book.refusals.at(-1))}`)
  }
}
