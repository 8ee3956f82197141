// AnalysisPool: files analysed in worker threads, several at once; a bad
// file or a dying worker fails that file alone; closing ends the threads.
import test from 'ava'
import { execFile } from 'node:child_process'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { AnalysisError, AnalysisPool } from '../../src/analysis/index.ts'
import { synthPattern, writeWav } from '../helpers/analysis-fixtures.ts'
import { tempDir } from '../helpers/temp.ts'

const run = promisify(execFile)
const RATE = 44100

async function tracks(dir: string): Promise<{ house: string; dnb: string; broken: string }> {
  const house = await writeWav(join(dir, 'house.wav'), synthPattern({ style: 'house', bpm: 125, key: 'A minor', seconds: 12 }), RATE)
  const dnb = await writeWav(join(dir, 'dnb.wav'), synthPattern({ style: 'dnb-halftime', bpm: 174, key: 'F minor', seconds: 12 }), RATE)
  const broken = join(dir, 'broken.mp3')
  await writeFile(broken, Buffer.from('ID3 but nothing after it, then text '.repeat(500)))
  return { house, dnb, broken }
}

test('jobs run in parallel workers; a corrupt file fails alone; close ends them', async (t) => {
  const dir = await tempDir(t)
  const { house, dnb, broken } = await tracks(dir)
  const pool = new AnalysisPool({ size: 2 })
  t.is(pool.size, 2)
  t.is(pool.workers, 0) // started on demand
  const jobs = [pool.analyze(house), pool.analyze(dnb), pool.analyze(broken), pool.analyze(house)]
  t.is(pool.workers, 2) // two files in flight at once, one thread each; the others queue
  const [a, b, c, d] = await Promise.allSettled(jobs)
  t.is(a!.status, 'fulfilled')
  t.is(b!.status, 'fulfilled')
  t.is(d!.status, 'fulfilled')
  if (a!.status === 'fulfilled') t.true(Math.abs(a!.value.bpm - 125) < 0.5)
  if (b!.status === 'fulfilled') t.true(Math.abs(b!.value.bpm - 174) < 0.5)
  t.is(c!.status, 'rejected')
  if (c!.status === 'rejected') {
    t.true(c!.reason instanceof AnalysisError)
    t.is((c!.reason as AnalysisError).code, 'ERR_DECODE')
    t.false((c!.reason as Error).message.includes('\n'))
  }
  t.is(pool.workers, 2) // nobody died
  // The waveform arrives whole across the thread boundary.
  if (d!.status === 'fulfilled') t.deepEqual(d!.value.waveform.map((l) => l.data.length), [512, 4096])
  await pool.close()
  t.is(pool.workers, 0)
  await t.throwsAsync(pool.analyze(house), { instanceOf: AnalysisError, message: /closed/ })
})

test('a worker that dies fails its job only and is replaced', async (t) => {
  const dir = await tempDir(t)
  const { house } = await tracks(dir)
  const crash = await writeWav(join(dir, 'crash.wav'), new Float32Array(RATE * 4), RATE)
  const thrower = await writeWav(join(dir, 'throw.wav'), new Float32Array(RATE * 4), RATE)
  const pool = new AnalysisPool({ size: 1, workerModule: new URL('./crashing-worker.ts', import.meta.url) })
  t.teardown(() => pool.close())
  const jobs = await Promise.allSettled([pool.analyze(crash), pool.analyze(house), pool.analyze(thrower), pool.analyze(house)])
  t.deepEqual(
    jobs.map((j) => j.status),
    ['rejected', 'fulfilled', 'rejected', 'fulfilled'],
  )
  for (const j of [jobs[0]!, jobs[2]!]) {
    if (j.status !== 'rejected') continue
    t.is((j.reason as AnalysisError).code, 'ERR_WORKER')
    t.regex((j.reason as Error).message, /worker died/)
  }
  t.regex((jobs[0] as PromiseRejectedResult).reason.message, /exit code 3/)
  t.regex((jobs[2] as PromiseRejectedResult).reason.message, /stand-in worker throws/)
})

test('the tempo range reaches the workers', async (t) => {
  const dir = await tempDir(t)
  const { dnb } = await tracks(dir)
  const pool = new AnalysisPool({ size: 1, tempoRange: { min: 60, max: 120 } })
  t.teardown(() => pool.close())
  t.true(Math.abs((await pool.analyze(dnb)).bpm - 87) < 0.5)
  t.throws(() => new AnalysisPool({ tempoRange: { min: 0, max: 100 } }), { instanceOf: RangeError })
})

/** Nice values of this process's threads (Linux /proc; CI and the product's servers are Linux). */
async function threadNices(): Promise<number[]> {
  const tasks = await readdir('/proc/self/task')
  const stats = await Promise.all(tasks.map((tid) => readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => '')))
  // the fields after the ")" that closes the command name: nice is the 17th
  return stats.filter(Boolean).map((s) => Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]))
}

test('a low-priority pool runs its worker at nice 19 and leaves the other threads alone', async (t) => {
  const dir = await tempDir(t)
  const { house } = await tracks(dir)
  const before = await threadNices()
  t.false(before.includes(19))
  const pool = new AnalysisPool({ size: 1, priority: 'low' })
  t.teardown(() => pool.close())
  t.true(Math.abs((await pool.analyze(house)).bpm - 125) < 0.5) // analyses as well as ever
  const after = await threadNices()
  t.is(after.filter((n) => n === 19).length, 1, 'exactly the worker thread')
  // As before: at the nice the tests were started with (0, or 5 under `nice -n 5`).
  const base = before[0]!
  t.deepEqual(after.filter((n) => n !== 19).filter((n) => n !== base), [], 'the rest run as before')
})

test('an idle pool does not keep the process alive, closed or not', async (t) => {
  const dir = await tempDir(t)
  const { house } = await tracks(dir)
  const index = new URL('../../src/analysis/index.ts', import.meta.url).href
  for (const close of [true, false]) {
    const script = `
      const { AnalysisPool } = await import(${JSON.stringify(index)})
      const pool = new AnalysisPool({ size: 2 })
      const a = await pool.analyze(${JSON.stringify(house)})
      console.log(Math.round(a.bpm))
      ${close ? 'await pool.close()' : ''}
    `
    const started = Date.now()
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000 })
    t.is(stdout.trim(), '125', `close: ${close}`)
    t.true(Date.now() - started < 30_000)
  }
})
