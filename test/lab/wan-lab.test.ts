// The WAN lab's self-test (docs/wan-lab.md): the round trip it promises, a
// capped uplink carrying about its cap, the loss it promises, and nothing of
// it left afterwards: not after destroy(), not after a build that failed, not
// after a process that exited without destroying its lab.
import test from 'ava'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { createLab, labUnavailable, listNamespaces, payloadMbit, type Lab } from '../helpers/wan-lab/index.ts'
import { sh } from '../helpers/wan-lab/sh.ts'

const unavailable = labUnavailable()
const labTest = unavailable ? test.skip : test.serial
const title = (s: string) => (unavailable ? `${s} (skipped: ${unavailable})` : s)
const PROBE = fileURLToPath(new URL('../helpers/wan-lab/probe.mjs', import.meta.url))
const LAB_INDEX = fileURLToPath(new URL('../helpers/wan-lab/index.ts', import.meta.url))

/**
 * What the test's own namespace has: links, iptables rules, and the lab
 * namespaces of process `pid` (other test files may run labs meanwhile).
 */
async function rootState(pid = process.pid): Promise<{ links: string[]; rules: string; namespaces: string[] }> {
  const links = (await sh('ip', ['-o', 'link', 'show']))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':')[1]!.trim())
    .sort()
  return { links, rules: await sh('iptables', ['-w', '-S']), namespaces: listNamespaces().filter((ns) => ns.startsWith(`djlab-${pid}-`)) }
}

async function probeJson<T>(lab: Lab, host: string, args: string[]): Promise<T> {
  const r = await lab.host(host).run(process.execPath, [PROBE, ...args], { timeoutMs: 60_000 })
  if (r.code !== 0) throw new Error(`probe ${args.join(' ')}: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T
}

labTest(title('the lab delays, caps and drops as asked, and destroy() leaves no namespace, link or rule'), async (t) => {
  const before = await rootState()
  const lab = await createLab({ hosts: [{ name: 'a', uplinkMbit: 8 }, { name: 'b' }], rttMs: 100, lossPercent: 1 })
  t.teardown(() => lab.destroy())
  t.deepEqual(lab.namespaces().filter((ns) => !listNamespaces().includes(ns)), [])

  // A sink in b for both probes.
  const sink = lab.host('b').spawn(process.execPath, [PROBE, 'sink', '5001'])
  const sinkDone = once(sink, 'exit')
  let sinkOut = ''
  sink.stdout!.setEncoding('utf8').on('data', (d: string) => (sinkOut += d))
  await new Promise<void>((resolve) => sink.stdout!.on('data', () => sinkOut.includes('ready') && resolve()))

  // Round trip: a TCP connect is one (SYN out, SYN-ACK back). None is quicker than the
  // delay; the quickest is close to it (a busy machine wakes the measuring process late,
  // and 1% loss may cost a SYN its retry, so not every one is).
  const { ms } = await probeJson<{ ms: number[] }>(lab, 'a', ['connect', lab.host('b').address, '5001', '11'])
  const all = ms.map((x) => x.toFixed(1)).join(' ')
  t.true(Math.min(...ms) >= 99.5, `a connect took less than the RTT: ${all}`)
  t.true(Math.min(...ms) < 125, `no connect near the RTT: ${all}`)

  // Cap: 5 s of TCP from a (8 Mbit/s uplink): its steady half near what the tbf carries as payload.
  const { forwarded: f0, dropped: d0 } = await lab.counters('a')
  await probeJson(lab, 'a', ['send', lab.host('b').address, '5001', '5'])
  await sinkDone
  const got = JSON.parse(sinkOut.trim().split('\n').pop()!) as { bytes: number; steadyMbit: number }
  const limit = payloadMbit(8)
  t.true(got.steadyMbit > 0.75 * limit && got.steadyMbit < 1.05 * limit, `steady ${got.steadyMbit.toFixed(2)} Mbit/s against ${limit.toFixed(2)}`)

  // Loss: the router's drop rule took about 1% of what a sent.
  const { forwarded, dropped } = await lab.counters('a')
  const share = (dropped - d0) / (forwarded - f0 + dropped - d0)
  t.true(forwarded - f0 > 2_000, `${forwarded - f0} packets`)
  t.true(share > 0.003 && share < 0.02, `dropped ${(share * 100).toFixed(2)}% of ${forwarded - f0 + dropped - d0}`)

  await lab.destroy()
  t.deepEqual(await rootState(), before)
  for (const ns of lab.namespaces()) t.is((await sh('ip', ['netns', 'pids', ns]).catch(() => 'gone')).trim(), 'gone')
})

labTest(title('a lab whose build fails removes what it had made'), async (t) => {
  const before = await rootState()
  // The second host's cap is refused after the first host's links, IFB and rules exist.
  await t.throwsAsync(createLab({ hosts: [{ name: 'a', uplinkMbit: 5 }, { name: 'b', uplinkMbit: 0 }], rttMs: 20 }), { message: /bad uplink 0/ })
  t.deepEqual(await rootState(), before)
})

labTest(title('a process that exits without destroying its lab takes the lab with it'), async (t) => {
  const before = await rootState()
  const script = `import { createLab } from ${JSON.stringify(LAB_INDEX)}; const lab = await createLab({ hosts: [{ name: 'a' }, { name: 'b' }], rttMs: 10 }); lab.host('a').spawn('sleep', ['600']); console.log(lab.namespaces().join(' ')); process.exit(0)`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  const [code] = await once(child, 'exit')
  t.is(code, 0)
  const made = out.trim().split(' ')
  t.is(made.length, 3, out) // the lab was made: router, a, b
  t.deepEqual(await rootState(child.pid), { ...before, namespaces: [] })
})
