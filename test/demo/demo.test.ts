// The demo's parts without the node processes: the generated library (real,
// tagged, analysable audio, the same bytes on every holder) and the circle
// made by real pairing.
import test from 'ava'
import { readdir, readFile, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { DEMO_DEVICES, DEMO_TRACKS, ensureCircle, writeDemoMusic, type DemoDevice } from '../../src/demo/index.ts'
import { analyzeFile } from '../../src/analysis/index.ts'
import { openLibrary } from '../../src/library/index.ts'
import { generateKeyPair, initIdentity, loadIdentity } from '../../src/identity/index.ts'
import { tempDir } from '../helpers/temp.ts'

test('the demo library: every track in exactly its holders\' folders, the same bytes on each, tagged; a second run writes nothing', async (t) => {
  const root = await tempDir(t)
  const folders = Object.fromEntries(DEMO_DEVICES.map((d) => [d, join(root, d)])) as Record<DemoDevice, string>
  const started = Date.now()
  const written = await writeDemoMusic(folders)
  t.log(`generated in ${Date.now() - started} ms`)
  t.is(written, DEMO_TRACKS.reduce((n, x) => n + x.holders.length, 0))
  for (const d of DEMO_DEVICES) {
    const expected = DEMO_TRACKS.filter((x) => x.holders.includes(d)).map((x) => x.file).sort()
    t.deepEqual((await readdir(folders[d])).sort(), expected, d)
  }
  // The laptop holds some tracks and lacks others, among them tracks only home-pc and phone hold.
  t.true(DEMO_TRACKS.some((x) => x.holders.length === 2 && !x.holders.includes('laptop')))
  t.true(DEMO_TRACKS.some((x) => x.holders.length === 1 && x.holders[0] === 'laptop'))
  t.true(DEMO_TRACKS.length >= 12 && DEMO_TRACKS.length <= 16)
  for (const x of DEMO_TRACKS.filter((y) => y.holders.length > 1)) {
    const hashes = await Promise.all(x.holders.map(async (d) => createHash('sha256').update(await readFile(join(folders[d], x.file))).digest('hex')))
    t.is(new Set(hashes).size, 1, x.title)
  }
  const mtime = (await stat(join(folders['home-pc'], DEMO_TRACKS[0]!.file))).mtimeMs
  t.is(await writeDemoMusic(folders), 0)
  t.is((await stat(join(folders['home-pc'], DEMO_TRACKS[0]!.file))).mtimeMs, mtime)

  // The scanner reads them as audio with their tags.
  const lib = await openLibrary(join(root, 'home'), { circleSecret: generateKeyPair().seed })
  t.teardown(() => lib.close())
  const summary = await lib.scan([folders['home-pc']])
  t.like(summary, { added: DEMO_TRACKS.filter((x) => x.holders.includes('home-pc')).length, skipped: 0 })
  for (const rec of await lib.list()) {
    const x = DEMO_TRACKS.find((y) => y.title === rec.tags.title)
    t.truthy(x, rec.tags.title)
    t.like(rec.tags, { artist: x!.artist, bpm: x!.bpm, key: x!.key })
    t.true(Math.abs(rec.tags.duration! - x!.seconds) < 0.1, rec.tags.title)
  }
})

test('demo tracks analyse to the tempo and key they are tagged with', async (t) => {
  const root = await tempDir(t)
  const folders = Object.fromEntries(DEMO_DEVICES.map((d) => [d, join(root, d)])) as Record<DemoDevice, string>
  // A half-time hip-hop track and a four-to-the-floor one.
  const picks = [DEMO_TRACKS.find((x) => x.bpm < 100)!, DEMO_TRACKS.find((x) => x.genre === 'Techno')!]
  await writeDemoMusic(folders, picks)
  for (const x of picks) {
    const a = await analyzeFile(join(folders[x.holders[0]!], x.file))
    t.true(Math.abs(a.bpm - x.bpm) < 0.5, `${x.title}: ${a.bpm}`)
    t.is(a.key, x.key, x.title)
  }
})

test('the demo circle: home-pc inits, laptop and phone join by real pairing; a second run makes nothing; a home of another circle is refused', async (t) => {
  const root = await tempDir(t)
  const { homes, created } = await ensureCircle(root, DEMO_DEVICES)
  t.deepEqual(created, [...DEMO_DEVICES])
  const ids = await Promise.all(DEMO_DEVICES.map((n) => loadIdentity(homes[n]!)))
  t.deepEqual(ids.map((i) => [i.certificate.name, i.certificate.role]), [['home-pc', 'admin'], ['laptop', 'member'], ['phone', 'member']])
  t.true(ids.every((i) => Buffer.from(i.circleSecret).equals(ids[0]!.circleSecret)))
  t.falsy(ids[1]!.owner, 'members hold no owner key')
  t.deepEqual(ids[0]!.roster.devices.map((c) => c.name), ['home-pc', 'laptop', 'phone'])

  const again = await ensureCircle(root, DEMO_DEVICES)
  t.deepEqual(again.created, [])
  t.is((await loadIdentity(homes.laptop!)).certificate.created, ids[1]!.certificate.created)

  const other = await tempDir(t)
  await initIdentity(join(other, 'phone'), { name: 'phone' }) // an admin of a circle of its own
  await t.throwsAsync(ensureCircle(other, DEMO_DEVICES), { message: /belongs to another circle/ })
})
