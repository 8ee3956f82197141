// PortMapper against a NAT-PMP gateway in the test process (RFC 6886 on
// 127.0.0.1, test/helpers/fake-nat-pmp.ts): no packet leaves loopback and the
// host's real router is never asked (UPnP's SSDP search is off when a gateway
// is named). Serial: debug switches are process-wide.
import test from 'ava'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { PortMapper, PortMappingError, defaultGateway, type PortMapping, type PortMapperOptions } from '../../src/reach/index.ts'
import { fakeNatPmp } from '../helpers/fake-nat-pmp.ts'
import { debugLines } from '../helpers/debug-lines.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'

function mapper(t: ExecutionContext, gw: { host: string; port: number }, opts: PortMapperOptions = {}) {
  const warnings: Error[] = []
  const events: Array<PortMapping | null> = []
  const m = new PortMapper({ gateway: gw.host, gatewayPort: gw.port, natPmpTimeoutMs: 1_000, onWarning: (e) => warnings.push(e), ...opts })
  m.on('mapping', (x) => events.push(x))
  t.teardown(() => m.stop())
  return { m, warnings, events }
}

const mapped = (m: PortMapper) => until(async () => m.mapping ?? undefined, 10_000, 10)

test.serial('maps the port at start: the same external port, the external address, the lease granted', async (t) => {
  const gw = await fakeNatPmp(t)
  const { m, warnings, events } = mapper(t, gw, { leaseMs: 3_600_000 })
  const before = Date.now()
  m.start(40123)
  const got = await mapped(m)
  t.like(got, { protocol: 'nat-pmp', externalHost: '203.0.113.7', externalPort: 40123 })
  t.true(got.expiresAt >= before + 3_600_000 && got.expiresAt <= Date.now() + 3_600_000)
  t.like(gw.maps()[0], { internalPort: 40123, suggestedPort: 40123, lifetime: 3600 })
  t.deepEqual(events, [got])
  t.deepEqual(warnings, [])
})

test.serial('a port the gateway gives instead of the one asked for is the mapping', async (t) => {
  const gw = await fakeNatPmp(t, { givePort: (p) => p + 1000, externalAddress: '198.51.100.20' })
  const { m } = mapper(t, gw)
  m.start(40200)
  t.like(await mapped(m), { externalHost: '198.51.100.20', externalPort: 41200 })
})

test.serial('the lease is renewed at half, before it ends, keeping the external port', async (t) => {
  // The gateway grants 2 s whatever is asked: renewals follow the lease granted, not the one asked for.
  const gw = await fakeNatPmp(t, { grant: () => 2, givePort: (p) => (p === 40300 ? 50300 : p) })
  const { m, events } = mapper(t, gw, { leaseMs: 3_600_000 })
  m.start(40300)
  const first = await mapped(m)
  t.is(first.externalPort, 50300)
  await until(async () => (gw.maps().length >= 3 ? true : undefined), 15_000, 20)
  const [a, b, c] = gw.maps()
  t.true(b!.at < first.expiresAt, 'renewed before the first lease ended')
  t.true(b!.at - a!.at >= 900, `renewed at about half of 2 s, not at once (${b!.at - a!.at} ms)`)
  // A renewal asks for the external port it holds, and moves the expiry on.
  t.is(b!.suggestedPort, 50300)
  t.is(c!.suggestedPort, 50300)
  t.true(events.length >= 2 && events.every((e) => e?.externalPort === 50300))
  t.true(m.mapping!.expiresAt > first.expiresAt)
})

test.serial('stop removes the mapping at the gateway and the mapping becomes null', async (t) => {
  const gw = await fakeNatPmp(t)
  const { m, events } = mapper(t, gw)
  m.start(40400)
  await mapped(m)
  await m.stop()
  const last = gw.maps().at(-1)!
  t.like(last, { internalPort: 40400, suggestedPort: 0, lifetime: 0 })
  t.is(m.mapping, null)
  t.is(events.at(-1), null)
  await m.stop() // idempotent: no second removal
  t.is(gw.maps().filter((r) => r.lifetime === 0).length, 1)
})

test.serial('a refusing gateway is one warning line with its reason, and no mapping', async (t) => {
  const gw = await fakeNatPmp(t, { refuse: 2 })
  const { m, warnings, events } = mapper(t, gw)
  m.start(40500)
  await until(async () => (warnings.length ? true : undefined), 10_000, 10)
  await m.stop()
  t.is(warnings.length, 1)
  const w = warnings[0]!
  t.true(w instanceof PortMappingError)
  t.is((w as PortMappingError).code, 'ERR_GATEWAY_REFUSED')
  t.is(w.message, `port mapping: the NAT-PMP gateway 127.0.0.1 refused: not authorized/refused (NAT-PMP turned off on the router?)`)
  t.false(w.message.includes('\n'))
  t.deepEqual(events, [])
  t.is(m.mapping, null)
})

test.serial('no gateway answering is one debug line, no warning', async (t) => {
  const lines = debugLines(t, 'djcloud:reach:*')
  // A socket that reads and never answers: a router without NAT-PMP that drops the request.
  const silent = createSocket('udp4')
  silent.on('message', () => {})
  silent.bind(0, '127.0.0.1')
  await once(silent, 'listening')
  t.teardown(() => silent.close())
  const { m, warnings } = mapper(t, { host: '127.0.0.1', port: silent.address().port }, { natPmpTimeoutMs: 600 })
  m.start(40600)
  await until(async () => (lines.some((l) => l.includes('no port mapping')) ? true : undefined), 10_000, 10)
  await m.stop()
  t.deepEqual(warnings, [])
  const about = lines.filter((l) => l.includes('port'))
  t.is(about.length, 1, about.join('\n'))
  t.regex(about[0]!, /no port mapping: no NAT-PMP answer from 127\.0\.0\.1 within 600 ms/)
  t.is(m.mapping, null)
})

test.serial('a lost request is sent again (250 ms, then doubling) within the timeout', async (t) => {
  const gw = await fakeNatPmp(t, { drop: 2 })
  const { m, warnings } = mapper(t, gw, { natPmpTimeoutMs: 3_000 })
  m.start(40700)
  t.like(await mapped(m), { externalPort: 40700 })
  t.is(gw.maps().length, 3)
  t.deepEqual(warnings, [])
})

test.serial('a renewal the gateway no longer answers: the mapping is null when the lease ends, one warning', async (t) => {
  const gw = await fakeNatPmp(t, { grant: () => 2 })
  const { m, warnings, events } = mapper(t, gw, { natPmpTimeoutMs: 300 })
  m.start(40800)
  const first = await mapped(m)
  gw.silence()
  await until(async () => (m.mapping === null ? true : undefined), 10_000, 10)
  t.true(Date.now() >= first.expiresAt - 50, 'kept until the lease ended')
  t.true(gw.maps().length >= 2, 'a renewal was tried')
  t.is(events.at(-1), null)
  t.is(warnings.length, 1)
  t.regex(warnings[0]!.message, /^port mapping lost: the nat-pmp gateway did not renew it/)
})

test('the default gateway is read from the kernel routing table', async (t) => {
  const dir = await tempDir(t)
  const table = join(dir, 'route')
  await writeFile(table, [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
  ].join('\n') + '\n')
  t.is(await defaultGateway(table), '192.168.1.1')
  await writeFile(table, 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n')
  t.is(await defaultGateway(table), null)
  t.is(await defaultGateway(join(dir, 'missing')), null)
})

test.serial('a gateway granting a lifetime of 0 s is not asked again in a busy loop', async (t) => {
  const gw = await fakeNatPmp(t, { grant: () => 0 })
  const { m } = mapper(t, gw)
  m.start(40900)
  await mapped(m)
  const start = gw.maps().length
  await new Promise((r) => setTimeout(r, 500)) // a busy loop would ask hundreds of times in this
  t.true(gw.maps().length - start <= 1, `${gw.maps().length - start} requests in 500 ms`)
})
