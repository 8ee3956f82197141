// The scan line says how many files were rewritten with the same audio (new
// versions of the same tracks), beside the other counts.
import test from 'ava'
import { describe } from '../../src/cli/commands/scan.ts'

const summary = { files: 3, added: 0, changed: 1, unchanged: 2, newPaths: 0, removedPaths: 0, missing: 0, newVersions: 1, skipped: 0, bytesRead: 2e6, ms: 1000 }

test('a rescan that found a file rewritten with the same audio says so', (t) => {
  t.regex(describe(summary as Parameters<typeof describe>[0]), /1 rewritten with the same audio \(new versions of the same tracks: cues and playlists follow\)/)
  t.notRegex(describe({ ...summary, newVersions: 0 } as Parameters<typeof describe>[0]), /rewritten/)
})
