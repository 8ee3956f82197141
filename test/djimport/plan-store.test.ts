// Where an import keeps its tracks' plans: spooled to a private temporary
// file, read back as the same JSON (in order, as often as asked, across
// chunk boundaries and with any text in it), removed by close().
import test from 'ava'
import { readdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { memoryTrackPlans, spoolTrackPlans, type TrackPlan } from '../../src/djimport/index.ts'
import { tempDir } from '../helpers/temp.ts'

const hex = (i: number) => i.toString(16).padStart(64, '0')
function planOf(i: number): TrackPlan {
  return {
    entryId: String(i),
    sha256: hex(i),
    audioHash: hex(i + 1e6),
    method: 'path',
    // Line breaks, quotes, non-Latin-1 and astral characters: one JSON line a plan still.
    title: `Track ${i}\n"quoted"\u2028 東京 🎧`,
    cues: { add: [{ id: `dj${i}`, kind: 'hot', slot: 'A', position: i / 1000, name: 'Cue\r\nA', color: '#e62828' }], change: [], unchanged: 0, notCarried: [] },
    timing: { offsetMs: -26.1, case: 'B' },
    notes: { set: { comment: 'line 1\nline 2', grid: [{ position: 0.025, bpm: 128, beat: 1 }] }, unchanged: ['key'], notCarried: [{ what: 'x', reason: 'y' }] },
    notCarried: { bpm: 128 },
  }
}

test('spooled plans read back as the same JSON, in order, more than once; the file is private and close() removes it', async (t) => {
  const dir = await tempDir(t)
  const spool = spoolTrackPlans(dir)
  t.teardown(() => spool.close())
  const plans = Array.from({ length: 500 }, (_, i) => planOf(i)) // ~300 KB: many chunks each way
  for (const p of plans) spool.add(p)
  t.is(spool.length, 500)
  t.is((await stat(spool.path)).mode & 0o777, 0o600)
  t.is((await stat(dirname(spool.path))).mode & 0o777, 0o700)
  for (let pass = 0; pass < 2; pass++) {
    const back: TrackPlan[] = []
    for await (const p of spool.read()) back.push(p)
    t.deepEqual(back, JSON.parse(JSON.stringify(plans)) as TrackPlan[])
  }
  // Added after a read: read too.
  spool.add(planOf(500))
  let n = 0
  for await (const _ of spool.read()) n++
  t.is(n, 501)
  spool.close()
  t.deepEqual(await readdir(dir), [])
  t.throws(() => spool.add(planOf(0)), { message: /closed/ })
  spool.close() // again: nothing to do
})

test('plans kept in memory are the plans themselves', async (t) => {
  const kept = memoryTrackPlans()
  const p = planOf(1)
  kept.add(p)
  const back: TrackPlan[] = []
  for await (const x of kept.read()) back.push(x)
  t.is(back[0], p)
  t.deepEqual(kept.list, [p])
})
