import test from 'ava'
import { Writable } from 'node:stream'
import { ProgressBar } from '../../src/cli/progress.ts'

function sink(isTTY: boolean) {
  const chunks: string[] = []
  const out = Object.assign(
    new Writable({
      write(c, _e, cb) {
        chunks.push(String(c))
        cb()
      },
    }),
    { isTTY, columns: 100 },
  )
  return { out, chunks }
}

test('on a TTY the bar shows files, MB, rate and ETA on one rewritten line', (t) => {
  const { out, chunks } = sink(true)
  const bar = new ProgressBar(out)
  bar.update({ label: 'reading', done: 3, total: 10, bytesDone: 30e6, bytesTotal: 100e6 }, true)
  const line = chunks.join('')
  t.regex(line, /^\r\x1b\[2Kreading \[#+-+\] 3\/10 files {2}30\/100 MB {2}[\d.]+ MB\/s {2}ETA (\d+:\d\d|--:--)$/)
  bar.clear()
  t.is(chunks.at(-1), '\r\x1b[2K')
})

test('when piped the bar draws nothing', (t) => {
  const { out, chunks } = sink(false)
  const bar = new ProgressBar(out)
  bar.update({ label: 'reading', done: 1, total: 2, bytesDone: 1, bytesTotal: 2 }, true)
  bar.clear()
  t.deepEqual(chunks, [])
})
