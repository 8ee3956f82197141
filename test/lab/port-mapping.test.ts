// Port mapping end to end against a real router: Debian's miniupnpd (UPnP-IGD
// and NAT-PMP) in a router namespace between a LAN and a WAN namespace
// (test/helpers/upnp-lab.ts). A device outside dials the router's external
// address and reaches the node's peer port only while the mapping exists.
// Needs root, iproute2, iptables-legacy and miniupnpd; skipped with the
// reason otherwise. Nothing leaves the namespaces the test makes.
import test from 'ava'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'
import { initIdentity } from '../../src/identity/index.ts'
import type { NodeInfo } from '../../src/node/index.ts'
import type { PortMapping } from '../../src/reach/index.ts'
import { BIN } from '../helpers/cli.ts'
import { firstLine } from '../helpers/first-line.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'
import { sh } from '../helpers/wan-lab/sh.ts'
import { createUpnpLab, upnpLabUnavailable, ROUTER_WAN, type UpnpLab } from '../helpers/upnp-lab.ts'

const unavailable = upnpLabUnavailable()
const labTest = unavailable ? test.skip : test.serial
const title = (s: string) => (unavailable ? `${s} (skipped: ${unavailable})` : s)
const CHILD = fileURLToPath(new URL('../helpers/port-map-child.ts', import.meta.url))

/** Whether a TCP connection from the WAN namespace to host:port is accepted. */
async function dialsFromOutside(lab: UpnpLab, host: string, port: number): Promise<boolean> {
  return sh('ip', ['netns', 'exec', lab.wan, 'timeout', '5', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`]).then(() => true, () => false)
}

/** A PortMapper in the LAN namespace (test/helpers/port-map-child.ts); its JSON lines as they come. */
function mapperIn(lab: UpnpLab, which: 'upnp' | 'nat-pmp' | 'both', port = 0) {
  const child = lab.spawnIn(lab.lan, process.execPath, ['--import=tsx', CHILD, which, String(port)], { ...process.env, DEBUG: 'djcloud:reach:*' })
  const lines: Array<{ port?: number; mapping?: PortMapping | null; warning?: string; stopped?: boolean }> = []
  let buf = ''
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, nl)))
      buf = buf.slice(nl + 1)
    }
  })
  const wait = <T>(pick: () => T | undefined) => until(async () => pick(), 30_000, 20).catch((e: Error) => {
    throw new Error(`${e.message}\nchild: ${JSON.stringify(lines)} ${err}\nminiupnpd: ${lab.log()}`)
  })
  return { child, lines, wait, stderr: () => err, stop: async () => {
    child.stdin!.end()
    await once(child, 'exit')
  } }
}

for (const which of ['nat-pmp', 'upnp'] as const) {
  labTest(title(`${which}: the router maps the port, the outside reaches it at the external address, and stop removes it`), async (t) => {
    const lab = await createUpnpLab(t)
    const m = mapperIn(lab, which)
    const port = await m.wait(() => m.lines.find((l) => l.port)?.port)
    const mapping = await m.wait(() => m.lines.find((l) => l.mapping)?.mapping ?? undefined)
    t.like(mapping, { protocol: which, externalHost: ROUTER_WAN, externalPort: port })
    t.true(mapping.expiresAt > Date.now() + 60 * 60_000, 'a lease of an hour or more')
    t.is((await lab.natRules()).length, 1)
    t.true(await dialsFromOutside(lab, mapping.externalHost, mapping.externalPort))

    await m.stop()
    t.deepEqual(m.lines.slice(-2), [{ mapping: null }, { stopped: true }], m.stderr())
    t.deepEqual(await lab.natRules(), [], 'the router holds no mapping after stop')
    t.false(await dialsFromOutside(lab, ROUTER_WAN, port))
    t.false(m.lines.some((l) => l.warning), JSON.stringify(m.lines))
  })
}

labTest(title('djcloud serve behind the router: mapped by default (default route, SSDP), dialable from outside, removed on SIGTERM'), async (t) => {
  const lab = await createUpnpLab(t)
  const home = await tempDir(t)
  await initIdentity(home)
  const serve: ChildProcess = lab.spawnIn(lab.lan, process.execPath, [
    BIN, 'serve', '--json', '--home', home, '--port', '0', '--api-port', '0', '--no-analyze', '--no-tracker', '--no-dht',
  ], { ...process.env, DJCLOUD_DEBUG: '1', DEBUG: 'djcloud:reach:*' })
  let err = ''
  serve.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const info = JSON.parse(await firstLine(serve, (code) => new Error(`serve exited ${code}: ${err}`))) as NodeInfo
  const nodeJson = async () => JSON.parse(await readFile(join(home, 'node.json'), 'utf8')) as NodeInfo
  const mapping = await until(async () => (await nodeJson()).portMapping ?? undefined, 30_000, 50).catch((e: Error) => {
    throw new Error(`${e.message}: ${err}\n${lab.log()}`)
  })
  t.true(mapping.protocol === 'nat-pmp' || mapping.protocol === 'upnp')
  t.like(mapping, { externalHost: ROUTER_WAN, externalPort: info.peerPort })
  t.true(await dialsFromOutside(lab, ROUTER_WAN, mapping.externalPort))

  serve.kill('SIGTERM')
  const [code] = await once(serve, 'exit')
  t.is(code, 0)
  t.deepEqual(await lab.natRules(), [], `removed on SIGTERM: ${err}`)
  t.false(await dialsFromOutside(lab, ROUTER_WAN, mapping.externalPort))
  t.false(/warning/.test(err), err)
})
