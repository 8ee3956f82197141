// This device's cue edits in the library store: kept by audio hash, across
// a close and reopen, listed for the library manifest.
import test from 'ava'
import { LocalLibrary, type CueRegister } from '../../src/library/index.ts'
import { tempDir } from '../helpers/temp.ts'

test('cue edits are kept per recording across a restart and listed for the manifest', async (t) => {
  const home = await tempDir(t)
  const a = 'a'.repeat(64)
  const b = 'b'.repeat(64)
  const regs: CueRegister[] = [
    { id: 'drop-0001', clock: 3, cue: { kind: 'hot', slot: 'B', position: 64.5, name: 'Drop', color: '#112233' } },
    { id: 'gone-0001', clock: 2, cue: null },
  ]
  let lib = await LocalLibrary.open(home)
  t.deepEqual(await lib.cueEdits(a), [])
  await lib.putCueEdits(a, regs)
  await lib.putCueEdits(b, [])
  await lib.close()
  lib = await LocalLibrary.open(home)
  t.teardown(() => lib.close())
  t.deepEqual(await lib.cueEdits(a), regs)
  t.deepEqual([...(await lib.allCueEdits())], [[a, regs]], 'a recording whose edits are empty is left out')
})
