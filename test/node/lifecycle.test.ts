import test from 'ava'
import { createServer } from 'node:net'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { initIdentity, loadIdentity } from '../../src/identity/index.ts'
import { openLibrary } from '../../src/library/index.ts'
import { Lifecycle, ServiceStartError, service, startNode } from '../../src/node/index.ts'
import { wantsTracker } from '../../src/node/node.ts'
import { tempDir } from '../helpers/temp.ts'

function recorder() {
  const log: string[] = []
  const part = (name: string, fail = false) =>
    service(
      name,
      () => {
        log.push(`start ${name}`)
        if (fail) throw new Error(`${name} broke`)
      },
      () => void log.push(`stop ${name}`),
    )
  return { log, part }
}

test('services start in list order and stop in reverse order; start and stop are idempotent', async (t) => {
  const { log, part } = recorder()
  const life = new Lifecycle([part('a'), part('b'), part('c')])
  await Promise.all([life.start(), life.start()])
  t.deepEqual(log, ['start a', 'start b', 'start c'])
  await Promise.all([life.stop(), life.stop()])
  await life.stop()
  t.deepEqual(log.slice(3), ['stop c', 'stop b', 'stop a'])
})

test('a service that fails to start stops the ones started before it, last first, and names itself', async (t) => {
  const { log, part } = recorder()
  const life = new Lifecycle([part('a'), part('b'), part('c', true), part('d')])
  const err = await t.throwsAsync(life.start(), { instanceOf: ServiceStartError })
  t.is(err?.code, 'ERR_SERVICE_START')
  t.is(err?.service, 'c')
  t.regex(err!.message, /^c did not start: c broke/)
  t.deepEqual(log, ['start a', 'start b', 'start c', 'stop b', 'stop a'])
})

test('a stop during a start aborts the start and stops what started, the one starting included', async (t) => {
  const log: string[] = []
  let release!: () => void
  const slow = service(
    'slow',
    (signal) =>
      new Promise<void>((resolve) => {
        log.push('start slow')
        release = resolve
        t.false(signal.aborted)
      }),
    () => void log.push('stop slow'),
  )
  const life = new Lifecycle([service('a', () => void log.push('start a'), () => void log.push('stop a')), slow, service('never', () => void log.push('start never'))])
  const starting = life.start()
  while (!release) await new Promise((r) => setImmediate(r))
  const stopping = life.stop()
  release()
  await t.throwsAsync(starting, { instanceOf: ServiceStartError })
  await stopping
  t.deepEqual(log, ['start a', 'start slow', 'stop slow', 'stop a'])
})

test('an aborted signal stops a start before the next service', async (t) => {
  const { log, part } = recorder()
  const ac = new AbortController()
  const life = new Lifecycle([part('a'), service('b', () => ac.abort(new Error('cancelled'))), part('c')])
  await t.throwsAsync(life.start(ac.signal), { instanceOf: ServiceStartError })
  t.deepEqual(log, ['start a', 'stop a'])
})

test('the node is its list of services; a node whose API port is taken releases everything it opened', async (t) => {
  const home = await tempDir(t)
  await initIdentity(home)
  const node = await startNode({ home, peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', tracker: { port: 0, host: '127.0.0.1', advertise: '127.0.0.1' }, dht: { port: 0, host: '127.0.0.1' }, analyze: false })
  t.deepEqual(node.services.slice(0, 5), ['library', 'manifests', 'tracker', 'dht', 'roster-addresses'])
  t.true(node.services.indexOf('api') < node.services.indexOf('node-file'))
  await Promise.all([node.close(), node.close()])
  await t.throwsAsync(access(join(home, 'node.json')))

  // Another process holds the API port: the start fails at 'api' and lets go of the library, peer port and DHT.
  const blocker = createServer()
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => blocker.close(() => r())))
  const taken = (blocker.address() as { port: number }).port
  const err = await t.throwsAsync(startNode({ home, peerPort: 0, apiPort: taken, peerHost: '127.0.0.1', tracker: false, dht: { port: 0, host: '127.0.0.1' }, analyze: false }))
  t.is((err as ServiceStartError).service, 'api')
  await t.throwsAsync(access(join(home, 'node.json')))
  // The LevelDB store was closed: it opens again (it is locked while open).
  const lib = await openLibrary(home, { circleSecret: (await loadIdentity(home)).circleSecret })
  t.true(Array.isArray(await lib.list()))
  await lib.close()
})

test('an admin restarted with the default options serves its circle again: its own earlier tracker does not count as another', async (t) => {
  const home = await tempDir(t)
  const id = await initIdentity(home)
  const own = 'http://192.0.2.1:7463/announce'
  const roster = (trackers: string[]) => ({ ...id, roster: { ...id.roster, trackers } })
  t.true(wantsTracker({ home }, roster([]), ''))
  t.true(wantsTracker({ home }, roster([own]), own), 'the roster names only the tracker this device ran before')
  t.false(wantsTracker({ home }, roster([own, 'http://192.0.2.2:7463/announce']), own), 'another device runs one')
  t.false(wantsTracker({ home, trackers: ['http://192.0.2.2:7463/announce'] }, roster([]), ''))
  t.false(wantsTracker({ home }, { ...roster([]), owner: undefined }, ''), 'members never run it by default')
  t.true(wantsTracker({ home, tracker: { port: 0 } }, roster([own, 'x']), own))
  t.false(wantsTracker({ home, tracker: false }, roster([]), ''))
})
