// A process appending plays killed with SIGKILL: every play it was told was
// written is in the log when it is opened again, and the log takes appends.
import test from 'ava'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { keyPairFromSeed } from '../../src/identity/index.ts'
import { PlayBook, readLogFile } from '../../src/plays/index.ts'
import { tempDir } from '../helpers/temp.ts'

const CHILD = new URL('./append-child.ts', import.meta.url).pathname

test('kill -9 while appending loses no acknowledged play; the log opens and takes appends', async (t) => {
  t.timeout(120_000)
  const dir = await tempDir(t)
  const path = join(dir, 'plays.log')
  const seed = randomBytes(32)
  for (let round = 0; round < 3; round++) {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, seed.toString('hex')], { stdio: ['ignore', 'pipe', 'inherit'] })
    const acked: number[] = []
    let buf = ''
    const enough = new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        buf += d
        const lines = buf.split('\n')
        buf = lines.pop()!
        for (const l of lines) acked.push(Number(l))
        if (acked.length >= 150) resolve()
      })
    })
    await enough
    child.kill('SIGKILL')
    await once(child, 'exit')
    const book = await PlayBook.open({ path, device: keyPairFromSeed(seed), trust: () => 'own' })
    const held = new Set(book.all().map((e) => e.seq))
    t.true(acked.every((s) => held.has(s)), `round ${round}: every acknowledged play is in the log`)
    // Nothing but whole lines is left after opening.
    const { lines, cut } = await readLogFile(path)
    t.is(cut, 0)
    t.is(lines.length, held.size)
  }
  const book = await PlayBook.open({ path, device: keyPairFromSeed(seed), trust: () => 'own' })
  const before = book.all().length
  await book.record({ sha256: 'f'.repeat(64), at: 1, source: 'web' })
  t.is((await PlayBook.open({ path, device: keyPairFromSeed(seed), trust: () => 'own' })).all().length, before + 1)
})
