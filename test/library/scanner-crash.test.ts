import test from 'ava'
import { spawn } from 'node:child_process'
import { mkdir, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { initIdentity } from '../../src/identity/index.ts'
import { openLibrary } from '../../src/library/index.ts'
import { BIN } from '../helpers/cli.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'

const FILES = 400

/** Bytes LevelDB has written to its write-ahead log so far. */
async function walBytes(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[])
  let total = 0
  for (const n of names) if (n.endsWith('.log') && n !== 'LOG') total += (await stat(join(dir, n)).catch(() => ({ size: 0 }))).size
  return total
}

test('a kill -9 in the middle of a scan leaves a store that opens and a rescan that completes', async (t) => {
  const home = await tempDir(t)
  const music = join(home, 'music')
  await mkdir(music)
  await initIdentity(home)
  for (let i = 0; i < FILES; i++) await writeTrack(join(music, `t${String(i).padStart(3, '0')}.wav`), { title: `Track ${i}` }, i + 1, 6)

  const child = spawn(process.execPath, [BIN, 'scan', music], { env: { ...process.env, DJCLOUD_HOME: home }, stdio: 'ignore' })
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
  let done = false
  void exited.then(() => (done = true))
  // Kill once some batches are in the log, while the scan is still going.
  while (!done && (await walBytes(join(home, 'library'))) < 64 * 1024) await new Promise((r) => setTimeout(r, 5))
  t.false(done, 'the scan finished before it could be killed; make the library bigger')
  child.kill('SIGKILL')
  t.is(await exited, 'SIGKILL')

  const lib = await openLibrary(home)
  t.teardown(() => lib.close())
  const before = (await lib.stats()).tracks
  t.true(before > 0 && before < FILES, `tracks committed before the kill: ${before}`)
  const s = await lib.scan([music])
  t.is(s.files, FILES)
  t.is(s.skipped, 0)
  t.is(s.unchanged + s.added, FILES)
  t.is(s.unchanged, before) // what was committed before the kill is not read again
  t.is((await lib.stats()).tracks, FILES)
})
