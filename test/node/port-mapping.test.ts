// The node's port mapping, against a NAT-PMP gateway in the test process
// (test/helpers/fake-nat-pmp.ts, on 127.0.0.1): mapped once the peer port
// listens, shown in node.json, announced to the circle's tracker as the
// router's external port, removed on close and on SIGTERM, and never asked
// with --no-port-mapping. No packet leaves loopback.
import test from 'ava'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { initIdentity, loadIdentity } from '../../src/identity/index.ts'
import { startNode, type NodeInfo } from '../../src/node/index.ts'
import { announce, announceSigner } from '../../src/swarm/index.ts'
import { fakeNatPmp } from '../helpers/fake-nat-pmp.ts'
import { serveNode } from '../helpers/node-process.ts'
import { runCliInProcess } from '../helpers/cli.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

const nodeJson = async (home: string) => JSON.parse(await readFile(join(home, 'node.json'), 'utf8')) as NodeInfo

test('the node maps its peer port, shows it in node.json, announces the external port and removes the mapping on close', async (t) => {
  const home = await tempDir(t)
  await initIdentity(home)
  // A slow router: it answers only once the node has started and made its first announce.
  const gw = await fakeNatPmp(t, { hold: true, givePort: (p) => p + 1, externalAddress: '198.51.100.77' })
  const node = await startNode({
    home, peerPort: 0, apiPort: 0, peerHost: '127.0.0.1', dht: false, analyze: false,
    tracker: { port: 0, host: '127.0.0.1', advertise: '127.0.0.1' },
    portMapping: { gateway: gw.host, gatewayPort: gw.port, natPmpTimeoutMs: 60_000 },
  })
  t.teardown(() => node.close())
  const peerPort = node.info.peerPort
  const external = peerPort + 1
  const id = await loadIdentity(home)
  const listedPorts = async () => (await announce(node.info.tracker!, {
    infoHash: node.swarm.channel, peerId: randomBytes(20), port: 1, signer: announceSigner(id), roster: id.roster, timeoutMs: 5_000,
  })).peers.map((p) => p.port)
  // Started (its first announce made): no mapping yet, node.json says so, the tracker has the peer port.
  t.is(node.portMapping, null)
  t.is((await nodeJson(home)).portMapping, null)
  t.deepEqual((await listedPorts()).filter((p) => p !== 1), [peerPort])
  gw.release()

  // Asked once the peer port listens, for that port; the gateway gave the next one.
  await until(async () => node.portMapping ?? undefined, 10_000, 10)
  t.like(gw.maps()[0], { internalPort: peerPort, suggestedPort: peerPort })
  t.like(node.portMapping, { protocol: 'nat-pmp', externalHost: '198.51.100.77', externalPort: external })
  const shown = await until(async () => ((await nodeJson(home)).portMapping ? nodeJson(home) : undefined), 10_000, 20)
  t.deepEqual(shown.portMapping, node.portMapping)
  t.is(shown.peerPort, peerPort)

  // Announced again at once (not at the next announce, a minute on): the circle's tracker
  // lists this device at the external port, what a device outside dials.
  const listed = await until(async () => {
    const ports = await listedPorts()
    return ports.includes(external) ? ports : undefined
  }, 15_000, 100)
  t.true(listed.includes(external))

  await node.close()
  t.like(gw.maps().at(-1), { internalPort: peerPort, lifetime: 0 })
  await t.throwsAsync(readFile(join(home, 'node.json')), { code: 'ENOENT' })
})

test('serve maps the peer port (the gateway named) and removes the mapping on SIGTERM, a second SIGTERM while it closes included; --no-port-mapping sends no request at all', async (t) => {
  const onHome = await tempDir(t)
  const offHome = await tempDir(t)
  await initIdentity(onHome)
  await initIdentity(offHome)
  const onGw = await fakeNatPmp(t)
  const offGw = await fakeNatPmp(t)
  const [on, off] = await Promise.all([
    serveNode(t, onHome, ['--no-tracker', '--no-dht', '--port-mapping-gateway', `${onGw.host}:${onGw.port}`]),
    serveNode(t, offHome, ['--no-tracker', '--no-dht', '--no-port-mapping', '--port-mapping-gateway', `${offGw.host}:${offGw.port}`]),
  ])
  const shown = await until(async () => (await nodeJson(onHome)).portMapping ?? undefined, 15_000, 50)
  t.like(shown, { protocol: 'nat-pmp', externalHost: '203.0.113.7', externalPort: on.info.peerPort })
  t.is(onGw.maps()[0]?.internalPort, on.info.peerPort)

  // The router stops answering, so the removal on stop waits out its deadline; a
  // second SIGTERM in that time (a supervisor's retry, a repeated Ctrl-C) must not
  // cut the close short (the default action: exit 143, the mapping left behind).
  onGw.silence()
  const exited = once(on.child, 'exit')
  on.child.kill('SIGTERM')
  await until(async () => (onGw.maps().at(-1)?.lifetime === 0 ? true : undefined), 10_000, 10)
  on.child.kill('SIGTERM')
  const [code] = await exited
  t.is(code, 0, on.stderr())
  t.like(onGw.maps().at(-1), { internalPort: on.info.peerPort, lifetime: 0 })

  // The node with --no-port-mapping started as long ago and more: not one packet reached its gateway.
  t.false('portMapping' in (await nodeJson(offHome)))
  t.false('portMapping' in off.info)
  t.deepEqual(offGw.requests, [])
})

test('serve refuses a --port-mapping-gateway that is not an IPv4 address, before starting anything', async (t) => {
  const home = await tempDir(t)
  await initIdentity(home)
  for (const bad of ['router.local', '192.168.1.1:99999', '::1']) {
    const r = await runCliInProcess(['serve', '--home', home, '--port', '0', '--api-port', '0', '--no-dht', '--port-mapping-gateway', bad])
    t.is(r.code, 2, r.stderr)
    t.regex(r.stderr, /--port-mapping-gateway/)
  }
  await t.throwsAsync(readFile(join(home, 'node.json')), { code: 'ENOENT' })
})
