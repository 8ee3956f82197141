// The shared fixture cache (test/helpers/fixture-cache.ts): a recipe is made
// once and copied from then on, never reused for another recipe or another
// helper's source, two makers racing on one recipe both get a whole file, and
// entries nobody used for days go away.
import test from 'ava'
import { randomUUID } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { cachedFile, cachedSamples, cachedSamplesAsync, pruned } from './helpers/fixture-cache.ts'
import { tempDir } from './helpers/temp.ts'
import { synthPattern } from './helpers/analysis-fixtures.ts'

// Entries of this file's tests go to a directory of their own; recipes carry a
// fresh id, so the tests never see each other's entries (the two that list
// the directory run alone).
const cacheRoot = await mkdtemp(join(tmpdir(), 'djcloud-cache-test-'))
process.env.DJCLOUD_FIXTURE_CACHE = cacheRoot
test.after.always(() => rm(cacheRoot, { recursive: true, force: true }))

const helper = import.meta.url
const entries = async () => (await readdir(join(cacheRoot, 'djcloud-fixture-cache-v1')).catch(() => [] as string[])).sort()

// First, as pruning runs once per process, on the first write.
test.serial('entries unused for three days are removed; an entry used again is kept', async (t) => {
  const dir = await tempDir(t)
  const cache = join(cacheRoot, 'djcloud-fixture-cache-v1')
  await mkdir(cache, { recursive: true })
  const days = (n: number) => new Date(Date.now() - n * 24 * 3600 * 1000)
  const stale = join(cache, 'stale-entry.bin')
  const deadTemp = join(cache, '.stale.123.abcd.tmp.bin')
  const recent = join(cache, 'recent-entry.bin')
  for (const [path, age] of [[stale, 4], [deadTemp, 4], [recent, 2]] as const) {
    await writeFile(path, 'x')
    await utimes(path, days(age), days(age))
  }
  // A used entry, aged: the use refreshes it.
  const recipe = { id: randomUUID() }
  const used = async () => (await entries()).find((n) => n.endsWith('.bin') && !n.startsWith('.') && !n.includes('-entry'))
  await cachedFile(helper, recipe, join(dir, 'a.bin'), (out) => writeFile(out, 'a'))
  await pruned()
  const left = await entries()
  t.false(left.includes('stale-entry.bin'))
  t.false(left.includes('.stale.123.abcd.tmp.bin'))
  t.true(left.includes('recent-entry.bin'))
  const name = (await used())!
  await utimes(join(cache, name), days(4), days(4))
  await cachedFile(helper, recipe, join(dir, 'b.bin'), () => Promise.reject(new Error('made again')))
  t.true(Date.now() - (await stat(join(cache, name))).mtimeMs < 60_000, 'a hit refreshes the entry')
  t.true((await entries()).includes(name))
})

test('a recipe is made once; every caller gets a copy of its own', async (t) => {
  const dir = await tempDir(t)
  const recipe = { id: randomUUID(), what: 'one' }
  let made = 0
  const make = async (out: string) => {
    made++
    await writeFile(out, `made for ${recipe.id}`)
  }
  const a = await cachedFile(helper, recipe, join(dir, 'a.bin'), make)
  const b = await cachedFile(helper, recipe, join(dir, 'b.bin'), make)
  t.is(made, 1)
  t.is(await readFile(b, 'utf8'), `made for ${recipe.id}`)
  await writeFile(a, 'damaged by a test')
  const c = await cachedFile(helper, recipe, join(dir, 'c.bin'), make)
  t.is(await readFile(c, 'utf8'), `made for ${recipe.id}`, 'changing a copy leaves the entry as made')
})

test('another recipe, another helper source or another tool version is made afresh', async (t) => {
  const dir = await tempDir(t)
  const id = randomUUID()
  const made: string[] = []
  const maker = (label: string) => async (out: string) => {
    made.push(label)
    await writeFile(out, label)
  }
  const otherHelper = join(dir, 'other-helper.ts')
  await writeFile(otherHelper, `// ${id}`)
  await cachedFile(helper, { id, n: 1 }, join(dir, '1.bin'), maker('n1'))
  await cachedFile(helper, { id, n: 2 }, join(dir, '2.bin'), maker('n2'))
  await cachedFile(pathToFileURL(otherHelper).href, { id, n: 1 }, join(dir, '3.bin'), maker('other helper'))
  await cachedFile(helper, { id, n: 1 }, join(dir, '4.bin'), maker('other tool'), ['ffmpeg 99'])
  await cachedFile(helper, { id, n: 1 }, join(dir, '5.wav'), maker('other extension'))
  t.deepEqual(made, ['n1', 'n2', 'other helper', 'other tool', 'other extension'])
  t.is(await readFile(join(dir, '2.bin'), 'utf8'), 'n2')
  t.is(await readFile(join(dir, '3.bin'), 'utf8'), 'other helper')
})

test.serial('makers racing on one recipe all end with the whole file, and no temp file is left', async (t) => {
  const dir = await tempDir(t)
  const recipe = { id: randomUUID(), what: 'race' }
  const whole = Buffer.alloc(4 << 20, 7)
  // The first maker finishes while the three others are half way through
  // writing: whoever copies then must not get their half-made bytes.
  let started = 0
  let firstWritten!: () => void
  const firstDone = new Promise<void>((r) => (firstWritten = r))
  let othersHalf = 0
  let allHalf!: () => void
  const othersHalfWay = new Promise<void>((r) => (allHalf = r))
  const make = async (out: string) => {
    if (started++ === 0) {
      await writeFile(out, whole)
      firstWritten()
      await othersHalfWay
      return
    }
    await firstDone
    await writeFile(out, whole.subarray(0, 1000))
    if (++othersHalf === 3) allHalf()
    await new Promise((r) => setTimeout(r, 50))
    await writeFile(out, whole)
  }
  const paths = await Promise.all([0, 1, 2, 3].map((i) => cachedFile(helper, recipe, join(dir, `${i}.bin`), make)))
  t.is(started, 4)
  for (const p of paths) t.true((await readFile(p)).equals(whole), p)
  t.deepEqual((await entries()).filter((name) => name.startsWith('.')), [], 'temp names were renamed or removed')
})

test.serial('a failed make leaves no entry, and the next call makes it again', async (t) => {
  const dir = await tempDir(t)
  const recipe = { id: randomUUID(), what: 'fails once' }
  const before = await entries()
  await t.throwsAsync(
    cachedFile(helper, recipe, join(dir, 'x.bin'), async (out) => {
      await writeFile(out, 'half')
      throw new Error('encoder failed')
    }),
    { message: 'encoder failed' },
  )
  t.deepEqual(await entries(), before)
  await cachedFile(helper, recipe, join(dir, 'x.bin'), (out) => writeFile(out, 'whole'))
  t.is(await readFile(join(dir, 'x.bin'), 'utf8'), 'whole')
})

test('samples come back as they were made, in a fresh array each time', async (t) => {
  const recipe = { id: randomUUID() }
  let made = 0
  const make = () => {
    made++
    return Float32Array.from({ length: 1001 }, (_, i) => Math.sin(i) / (i + 1))
  }
  const first = cachedSamples(helper, recipe, make)
  const second = cachedSamples(helper, recipe, make)
  const third = await cachedSamplesAsync(helper, recipe, async () => make())
  t.is(made, 1)
  t.not(second, first)
  t.deepEqual(Array.from(second), Array.from(make()))
  t.deepEqual(Array.from(third), Array.from(second))
  second[0] = 42
  t.not(cachedSamples(helper, recipe, make)[0], 42)
})

test('a synthesised pattern read from the cache is the pattern synthesised afresh', (t) => {
  const spec = { style: 'techno', bpm: 133, key: 'C minor', seconds: 2, seed: 1 + Math.floor(Math.random() * 1e9) } as const
  const made = synthPattern(spec)
  const cached = synthPattern(spec)
  t.is(cached.length, made.length)
  t.true(Buffer.from(cached.buffer).equals(Buffer.from(made.buffer)))
})
