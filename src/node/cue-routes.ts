// Cue points over the local API. A read merges this device's cue edits of a
// recording with every other live own device's (from their library
// manifests); a write turns the wanted set into this device's own edits
// (adds, changes, deletions at a new Lamport clock), stores them and
// republishes the library manifest, whose page for that audio hash carries them.
import type { LocalLibrary } from '../library/index.ts'
import { checkCues, mergeCues, setCues, type ManifestBook, type MergedCues, type UnionEntry } from '../manifest/index.ts'
import { ApiError, readJsonBody, sendJson, SHA256_HEX, type Route } from '../player/index.ts'
import type { ManifestSync } from './manifest-sync.ts'

export interface CueRoutesOptions {
  library: LocalLibrary
  book: ManifestBook
  sync: Pick<ManifestSync, 'libraryChanged'>
  union: () => Promise<Map<string, UnionEntry>>
}

/** The audio hashes of the union's recordings, computed once per union (it is rebuilt when something changes): an import asks for a batch of recordings hundreds of times. */
export function unionRecordings(union: () => Promise<Map<string, UnionEntry>>): () => Promise<Set<string>> {
  const cache = new WeakMap<Map<string, UnionEntry>, Set<string>>()
  return async () => {
    const all = await union()
    let set = cache.get(all)
    if (!set) cache.set(all, (set = new Set([...all.values()].map((u) => u.track.audioHash))))
    return set
  }
}

/** Checks that a URL names a recording of the union by its audio hash (cues and notes belong to recordings); throws an ApiError. */
export function recordingChecker(recordings: () => Promise<Set<string>>): (raw: string | undefined) => Promise<string> {
  return async (raw) => {
    const h = raw ?? ''
    if (!SHA256_HEX.test(h)) throw new ApiError(400, 'ERR_BAD_ID', 'a recording is named by its audio hash: 64 lowercase hex digits')
    if (!(await recordings()).has(h)) throw new ApiError(404, 'ERR_NOT_FOUND', `no own device lists a recording with audio hash ${h.slice(0, 12)}`)
    return h
  }
}

/**
 * Recordings one read of GET /api/cues or /api/notes may name (`?audio=h1,h2,...`):
 * 100 audio hashes are ~6,500 characters of URL, within the router's 8 KiB
 * request target (MAX_TARGET_LENGTH).
 */
export const MAX_RECORDINGS_ASKED = 100

/**
 * The recordings a read of every recording's cues or notes is narrowed to
 * (`audio`: audio hashes joined by commas), in the order given without
 * repeats; null when not given (every recording). Throws an ApiError.
 */
export function recordingsAsked(query: URLSearchParams): string[] | null {
  for (const k of query.keys()) if (k !== 'audio') throw new ApiError(400, 'ERR_BAD_PARAM', `unknown parameter "${k.slice(0, 32)}"`)
  const raw = query.getAll('audio')
  if (raw.length === 0) return null
  if (raw.length > 1) throw new ApiError(400, 'ERR_BAD_PARAM', 'give "audio" once: audio hashes joined by commas')
  const asked = raw[0] === '' ? [] : [...new Set(raw[0]!.split(','))]
  if (asked.length > MAX_RECORDINGS_ASKED) throw new ApiError(400, 'ERR_BAD_PARAM', `at most ${MAX_RECORDINGS_ASKED} recordings a read (${asked.length} given)`)
  for (const h of asked) if (!SHA256_HEX.test(h)) throw new ApiError(400, 'ERR_BAD_ID', 'a recording is named by its audio hash: 64 lowercase hex digits')
  return asked
}

/**
 * One read of every recording's cues or notes (an export), or of those
 * `?audio=` names (an import's batch): each recording of the union asked,
 * or with edits (`edited`), in hash order, whose `value` is not null.
 */
export async function recordingsRead<T>(
  query: URLSearchParams,
  recordings: () => Promise<Set<string>>,
  edited: () => Promise<Iterable<string>>,
  value: (audioHash: string) => Promise<T | null>,
): Promise<Record<string, T>> {
  const asked = recordingsAsked(query)
  const inUnion = await recordings()
  const hashes = asked ?? new Set(await edited())
  const out: Record<string, T> = {}
  for (const h of [...hashes].sort()) {
    if (!inUnion.has(h)) continue
    const v = await value(h)
    if (v !== null) out[h] = v
  }
  return out
}

export function cueRoutes({ library, book, sync, union }: CueRoutesOptions): Route[] {
  const recordings = unionRecordings(union)
  const audioHash = recordingChecker(recordings)
  const sets = async (h: string) => {
    const out = book.cueEdits(h)
    const own = await library.cueEdits(h)
    if (own.length) out.set(book.selfId, own)
    return out
  }
  const merged = async (h: string): Promise<MergedCues> => mergeCues(await sets(h))
  // Writes one at a time: each reads the registers the one before it stored.
  let writing: Promise<unknown> = Promise.resolve()

  return [
    {
      // Every recording of the union with cues, at once: what an export of 20,000 tracks reads instead of 20,000 requests.
      // Or those named (?audio=): what an import reads for each batch of the entries it plans.
      methods: ['GET'],
      path: '/api/cues',
      handle: async ({ query, res }) => {
        const cues = await recordingsRead(
          query,
          recordings,
          async () => [...(await library.allCueEdits()).keys(), ...book.editedRecordings('cues')],
          async (h) => {
            const { cues } = await merged(h)
            return cues.length ? cues : null
          },
        )
        sendJson(res, 200, { cues })
      },
    },
    {
      methods: ['GET'],
      path: '/api/cues/:audioHash',
      handle: async ({ params, res }) => {
        sendJson(res, 200, { cues: (await merged(await audioHash(params.audioHash))).cues })
      },
    },
    {
      methods: ['PUT'],
      path: '/api/cues/:audioHash',
      handle: async ({ params, req, res }) => {
        const h = await audioHash(params.audioHash)
        const body = await readJsonBody(req)
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'ERR_BAD_PARAM', 'the body is {"cues": [...]}')
        let wanted
        try {
          wanted = checkCues((body as { cues?: unknown }).cues)
        } catch (err) {
          throw new ApiError(400, 'ERR_BAD_PARAM', (err as Error).message)
        }
        const run = writing.then(async () => {
          await library.putCueEdits(h, setCues(book.selfId, await sets(h), wanted))
          return merged(h)
        })
        writing = run.catch(() => {})
        const after = await run
        sync.libraryChanged()
        sendJson(res, 200, { cues: after.cues })
      },
    },
  ]
}
