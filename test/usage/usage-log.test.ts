// The local usage figures: time in use over runs, a crash found at the next
// start (its time counted to its last sample), warnings by code, bounded samples.
import test from 'ava'
import { readFile } from 'node:fs/promises'
import { MAX_SAMPLES, UsageLog, readUsage, usagePath } from '../../src/usage/index.ts'
import { tempDir } from '../helpers/temp.ts'

test('runs add up; a run that did not stop is a crash counted to its last sample; warnings by code; samples bounded', async (t) => {
  const home = await tempDir(t)
  let now = 1_000_000
  let devices = 0
  const log = () => new UsageLog({ home, devices: () => devices, sampleMs: 3_600_000, now: () => now })

  const first = log()
  await first.start()
  now += 60_000
  devices = 2
  first.sample()
  first.warning(Object.assign(new Error('x'), { code: 'ERR_TIMEOUT' }))
  first.warning(Object.assign(new Error('y'), { code: 'ERR_TIMEOUT' }))
  first.warning(new TypeError('z'))
  now += 30_000
  await first.stop()
  t.like(await readUsage(home), { runs: 1, usedMs: 90_000, crashes: 0, warnings: { ERR_TIMEOUT: 2, TypeError: 1 } })

  // A run killed: its mark stays; its last sample was 10 s in.
  const killed = log()
  await killed.start()
  now += 10_000
  killed.sample()
  await killed.flush()
  now += 50_000 // dies unseen
  t.like(await readUsage(home), { runs: 2, crashes: 1 }, 'read without a node: the mark left is a crash')
  const next = log()
  await next.start()
  const v = next.view()
  t.is(v.crashes, 1)
  t.deepEqual(v.crashTimes, [now - 50_000])
  t.is(v.usedMs, 90_000 + 10_000)
  t.is(v.runs, 3)

  for (let i = 0; i < MAX_SAMPLES + 50; i++) next.sample()
  await next.stop()
  const file = JSON.parse(await readFile(usagePath(home), 'utf8')) as { samples: unknown[]; running?: unknown }
  t.is(file.samples.length, MAX_SAMPLES)
  t.is(file.running, undefined)
  t.is((await readUsage(home)).crashes, 1)
})
