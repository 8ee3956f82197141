// "Most played at gigs": plays inside the window after a pull of a playlist
// to this device, kept across restarts in the home.
import test from 'ava'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '../../src/identity/index.ts'
import { GIG_WINDOW, GigWindows, PlayBook } from '../../src/plays/index.ts'
import { tempDir } from '../helpers/temp.ts'

const SHA = (n: number) => n.toString(16).padStart(64, '0')
const H = 3600_000

test('plays within the window after a pull count as at the gig; others do not', async (t) => {
  const dir = await tempDir(t)
  const k = generateKeyPair()
  const book = await PlayBook.open({ path: join(dir, 'plays.log'), device: k, trust: () => 'own' })
  const gigs = await GigWindows.open(join(dir, 'gig-pulls.json'))
  const pulled = 100 * H
  await gigs.add({ playlist: 'Friday', at: pulled, ready: true })
  await book.record({ sha256: SHA(1), at: pulled - H, source: 'web' }) // before the pull: digging
  await book.record({ sha256: SHA(1), at: pulled + 20 * H, source: 'traktor' })
  await book.record({ sha256: SHA(2), at: pulled + 21 * H, source: 'traktor' })
  await book.record({ sha256: SHA(2), at: pulled + 21.1 * H, source: 'traktor' })
  await book.record({ sha256: SHA(3), at: pulled + GIG_WINDOW + 1, source: 'web' }) // the week after
  t.deepEqual(book.countIn(gigs.windows()), [{ sha256: SHA(2), count: 2 }, { sha256: SHA(1), count: 1 }])
  // Kept in the home.
  const again = await GigWindows.open(join(dir, 'gig-pulls.json'))
  t.deepEqual(again.windows(), [{ playlist: 'Friday', at: pulled, ready: true, from: pulled, to: pulled + GIG_WINDOW }])
  // A damaged file is set aside, not fatal.
  await writeFile(join(dir, 'gig-pulls.json'), '{not json')
  const warned: Error[] = []
  t.deepEqual((await GigWindows.open(join(dir, 'gig-pulls.json'), { onWarning: (e) => warned.push(e) })).windows(), [])
  t.is(warned.length, 1)
})
