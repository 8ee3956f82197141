// Discovery dials the addresses it learns (trackers, the DHT, memory, flags)
// until each is linked. A tracker and the DHT list this device too: its own
// address is dialled once, recognised by its key, and never again.
import test from 'ava'
import { Discovery } from '../../src/node/discovery.ts'
import { makeCircle } from '../helpers/circle.ts'
import { startSwarm } from '../helpers/circle-swarm.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

test('a dial to this device\'s own address fails as ERR_SELF, links nothing, and Discovery does not dial it again', async (t) => {
  const c = makeCircle(['laptop', 'phone'])
  const dir = await tempDir(t)
  const laptop = await startSwarm(t, c, 0, dir)
  await t.throwsAsync(laptop.connectDevice('127.0.0.1', laptop.port), { code: 'ERR_SELF' } as never)
  await until(async () => (laptop.devices.online().length === 0 ? true : undefined), 5_000, 10)

  // Discovery told of the laptop's own address and the phone's: every dial counted.
  const phone = await startSwarm(t, c, 1, dir)
  const dials: number[] = []
  const connect = laptop.connectDevice.bind(laptop)
  laptop.connectDevice = (host, port) => (dials.push(port), connect(host, port))
  const self = Buffer.from(c.devices[0]!.key.publicKey).toString('hex')
  const d = new Discovery({
    swarm: laptop, home: dir, trackers: () => [], dht: null, self, redialMs: 20, announceMs: 60_000,
    signer: { seed: c.devices[0]!.key.seed, certificate: c.devices[0]!.credentials.certificate },
    peers: [{ host: '127.0.0.1', port: laptop.port }, { host: '127.0.0.1', port: phone.port }],
  })
  t.teardown(() => d.stop())
  await d.start()
  await until(async () => (laptop.devices.online().some((l) => l.name === 'phone') ? true : undefined), 10_000, 10)
  // Twenty redial rounds later (each 20 ms; a negative check needs the rounds to pass), its own address was dialled once.
  await new Promise((r) => setTimeout(r, 400))
  t.is(dials.filter((p) => p === laptop.port).length, 1, `dials: ${dials.join(' ')}`)
  t.false(laptop.devices.online().some((l) => l.name === 'laptop'))
})
