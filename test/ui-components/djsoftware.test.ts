// The DJ software page's reading of an import plan: the headline for a dry
// run, an applied import and a file with nothing new; a line per change and
// per entry left out; the download's file name.
import test from 'ava'
import { downloadName, importHeadline, importLines, notesLine, type ImportPlanView } from '../../src/ui/logic/index.ts'

const plan = (over: Partial<ImportPlanView> = {}): ImportPlanView => ({
  dryRun: true,
  applied: false,
  format: 'rekordbox',
  warnings: 0,
  tracks: [
    { entryId: '1', artist: 'Ana', title: 'Alpha', method: 'path', cues: { add: [{}, {}], change: [], unchanged: 0 }, notes: { set: { grid: [], rating: 4 }, unchanged: [] } },
    { entryId: '2', method: 'path', cues: { add: [], change: [], unchanged: 3 }, notes: { set: {}, unchanged: ['key'] } },
  ],
  playlists: [{ name: 'Gigs › Friday', create: true, add: ['a', 'b'], unchanged: 0, skipped: [{ entry: '9', reason: 'not matched: no file' }] }],
  unmatched: [{ entryId: '9', location: '/old/x.mp3', reason: 'no file with its name and size' }],
  ambiguous: [],
  duplicates: [],
  summary: { entries: 3, matched: 2, cuesAdded: 2, cuesChanged: 0, notesSet: 2, playlistsCreated: 1, playlistEntriesAdded: 2, changes: 7 },
  ...over,
})

test('the headline says what a dry run would do, what an import did, or that nothing changes', (t) => {
  t.is(importHeadline(plan()), 'Dry run: 3 entries: 2 matched, 0 ambiguous, 1 not matched; 2 cues to add, 0 to change, 2 notes to set, 1 playlist to create, 2 playlist entries to add.')
  t.regex(importHeadline(plan({ dryRun: false, applied: true })), /^Imported\. 3 entries: .*; 2 cues, 0, 2 notes, 1 playlist, 2 playlist entries done\.$/)
  t.regex(importHeadline(plan({ summary: { ...plan().summary, changes: 0 } })), /^Nothing to change/)
})

test('a line per track and playlist that changes, then what is left out; the download keeps the node\'s file name', (t) => {
  t.deepEqual(importLines(plan()), [
    'Ana - Alpha: 2 cues to add, 0 to change; grid, rating',
    'Playlist Gigs › Friday (new): 2 tracks to add',
    'Playlist Gigs › Friday: skipped 9: not matched: no file',
    'Not matched: /old/x.mp3: no file with its name and size',
  ])
  t.is(downloadName('attachment; filename="djcloud-traktor-Gig.nml"', 'x.nml'), 'djcloud-traktor-Gig.nml')
  t.is(downloadName('attachment; filename="../evil"', 'x.nml'), 'x.nml')
  t.is(downloadName(null, 'x.nml'), 'x.nml')
})

test('a recording\'s notes as one line under its cues; nothing when it has none', (t) => {
  t.is(notesLine({}), '')
  t.is(
    notesLine({ grid: [{ position: 0.025, bpm: 128, beat: 1 }, { position: 60, bpm: 129.5, beat: 1 }], key: 'F minor', rating: 4, plays: 1, comment: 'peak\n time' }),
    'Grid 128.00 BPM from 0.025 s (2 tempo changes) (yours) · Key F minor (yours) · ★★★★ · 1 play · “peak time”',
  )
})
