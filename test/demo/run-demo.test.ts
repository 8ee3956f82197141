// startDemo's start-up path when it is interrupted: the devices already
// running are stopped, none is left behind.
import test from 'ava'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEMO_DEVICES, startDemo } from '../../src/demo/index.ts'
import { runningNode, type NodeInfo } from '../../src/node/index.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

test('aborting the start-up once the devices run stops every one of them', async (t) => {
  const root = await tempDir(t)
  const aborter = new AbortController()
  const pids: number[] = []
  const steps: string[] = []
  const run = startDemo({
    root,
    laptopApiPort: 0,
    analyze: false,
    signal: aborter.signal,
    onStep: (text) => {
      steps.push(text)
      if (!text.startsWith('waiting')) return
      // All three nodes are up: note their pids, then pull the plug (synchronously, before the wait begins).
      for (const n of DEMO_DEVICES) pids.push((JSON.parse(readFileSync(join(root, n, 'node.json'), 'utf8')) as NodeInfo).pid)
      aborter.abort()
    },
  })
  t.teardown(async () => (await run.catch(() => null))?.stop()) // should it come up after all
  await t.throwsAsync(run, { name: 'AbortError' })
  t.is(pids.length, 3)
  t.true(steps.some((s) => s.startsWith('starting laptop and phone')))
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  await until(async () => (pids.some(alive) ? undefined : true), 10_000, 50)
  for (const n of DEMO_DEVICES) t.is(await runningNode(join(root, n)), null, n)
})
