// Large command output written as it is read: the same bytes as the whole
// value would give, and written no faster than the stream takes it.
import test from 'ava'
import { Writable } from 'node:stream'
import { OutputClosedError, writeJsonWithList } from '../../src/djimport/index.ts'

/** A stream that takes one small write at a time, later (a slow pipe): write() says "wait" at once. */
class Slow extends Writable {
  text = ''
  writes = 0
  maxQueued = 0
  constructor() {
    super({ highWaterMark: 16, decodeStrings: false })
  }
  override _write(chunk: string, _encoding: BufferEncoding, done: () => void): void {
    this.writes++
    this.maxQueued = Math.max(this.maxQueued, this.writableLength)
    this.text += chunk
    setImmediate(done)
  }
}

async function* each<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item
}

test('JSON with a list read as it is written is byte for byte JSON.stringify(value, null, 2), or JSON.stringify(value) compact', async (t) => {
  const item = (i: number) => ({ id: i, name: `n${i}\n"${'x'.repeat(i % 50)}"`, nested: { tracks: [i, { a: [] }], empty: [] }, list: [], obj: {} })
  const heads = (n: number) => [
    { file: '/a "tracks":[] "b"\n.xml', dryRun: true, format: 'rekordbox', tracks: [] as unknown[], playlists: [{ name: 'tracks', tracks: [] }], gone: undefined, summary: { tracks: n } },
    { tracks: [] as unknown[] },
    { tracks: [] as unknown[], after: { tracks: [] } },
    { before: 1, tracks: [] as unknown[] },
  ]
  for (const n of [0, 1, 3, 2000]) {
    const items = Array.from({ length: n }, (_, i) => item(i))
    for (const head of heads(n)) {
      const compact = new Slow()
      await writeJsonWithList(compact, head, 'tracks', each(items), { compact: true })
      t.is(compact.text, JSON.stringify({ ...head, tracks: items }), `${n} items, compact`)
    }
    for (const head of heads(n)) {
      const out = new Slow()
      await writeJsonWithList(out, head, 'tracks', each(items))
      t.is(out.text, JSON.stringify({ ...head, tracks: items }, null, 2) + '\n', `${n} items`)
    }
    const out = new Slow()
    await writeJsonWithList(out, heads(n)[0]!, 'tracks', each(items))
    if (n === 2000) {
      t.true(out.text.length > 300_000)
      t.true(out.writes > 10, 'written in chunks, not one string')
      t.true(out.maxQueued < 100_000, `waits for the stream to take each chunk (${out.maxQueued} chars queued at most)`)
    }
  }
  await t.throwsAsync(writeJsonWithList(new Slow(), { a: 1 }, 'tracks', each([])), { message: /no top-level "tracks"/ })
})

test('a stream that goes away while the plan is written ends the writing with an error, instead of waiting for ever', async (t) => {
  const out = new Slow()
  let read = 0
  async function* many() {
    for (;;) {
      read++
      if (read === 500) out.destroy()
      yield { i: read, text: 'x'.repeat(100) }
    }
  }
  await t.throwsAsync(writeJsonWithList(out, { tracks: [] }, 'tracks', many()), { instanceOf: OutputClosedError })
  t.true(read < 2000)
})
