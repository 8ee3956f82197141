// Track notes (user grid, rating, colour, comment, plays) over the local API,
// beside cue points: a read merges this device's note edits of a recording
// with every other live own device's (from their library manifests); a write
// turns the fields given into this device's own registers at a new Lamport
// clock, stores them and republishes the library manifest.
import type { LocalLibrary } from '../library/index.ts'
import { checkNotes, mergeNotes, setNotes, type ManifestBook, type MergedNotes, type NotesChange } from '../manifest/index.ts'
import { ApiError, readJsonBody, sendJson, type Route } from '../player/index.ts'
import type { ManifestSync } from './manifest-sync.ts'
import { recordingsRead } from './cue-routes.ts'

export interface NoteRoutesOptions {
  library: LocalLibrary
  book: ManifestBook
  sync: Pick<ManifestSync, 'libraryChanged'>
  /** Checks the audio hash names a recording of the union (as the cue routes do); throws an ApiError. */
  recording: (raw: string | undefined) => Promise<string>
  /** The audio hashes of the union's recordings. */
  recordings: () => Promise<Set<string>>
}

export function noteRoutes({ library, book, sync, recording, recordings }: NoteRoutesOptions): Route[] {
  const sets = async (h: string) => {
    const out = book.noteEdits(h)
    const own = await library.noteEdits(h)
    if (own.length) out.set(book.selfId, own)
    return out
  }
  const merged = async (h: string): Promise<MergedNotes> => mergeNotes(await sets(h))
  // Writes one at a time: each reads the registers the one before it stored.
  let writing: Promise<unknown> = Promise.resolve()

  return [
    {
      // Every recording of the union with notes, at once (an export's read), or those named (?audio=: an import's batch).
      methods: ['GET'],
      path: '/api/notes',
      handle: async ({ query, res }) => {
        const notes = await recordingsRead(
          query,
          recordings,
          async () => [...(await library.allNoteEdits()).keys(), ...book.editedRecordings('notes')],
          async (h) => {
            const { notes } = await merged(h)
            return Object.keys(notes).length ? notes : null
          },
        )
        sendJson(res, 200, { notes })
      },
    },
    {
      methods: ['GET'],
      path: '/api/notes/:audioHash',
      handle: async ({ params, res }) => {
        sendJson(res, 200, { notes: (await merged(await recording(params.audioHash))).notes })
      },
    },
    {
      methods: ['PUT'],
      path: '/api/notes/:audioHash',
      handle: async ({ params, req, res }) => {
        const h = await recording(params.audioHash)
        const body = await readJsonBody(req)
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'ERR_BAD_PARAM', 'the body is {"notes": {field: value or null, ...}}')
        let change: NotesChange
        try {
          change = checkNotes((body as { notes?: unknown }).notes)
        } catch (err) {
          throw new ApiError(400, 'ERR_BAD_PARAM', (err as Error).message)
        }
        const run = writing.then(async () => {
          const before = await sets(h)
          const next = setNotes(book.selfId, before, change)
          const mine = before.get(book.selfId) ?? []
          const changed = JSON.stringify(next) !== JSON.stringify(mine)
          if (changed) await library.putNoteEdits(h, next)
          return { after: await merged(h), changed }
        })
        writing = run.catch(() => {})
        const { after, changed } = await run
        if (changed) sync.libraryChanged()
        sendJson(res, 200, { notes: after.notes })
      },
    },
  ]
}
