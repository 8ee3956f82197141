// djcloud pair and djcloud join end to end: two homes, TCP on 127.0.0.1. pair
// always runs as a real process; the first join does too, the other joins
// and the usage errors run in-process (runCliInProcess).
import test, { type ExecutionContext } from 'ava'
import { spawn } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createConnection, type Socket } from 'node:net'
import { BIN, runCli, runCliInProcess as run, type CliResult } from '../helpers/cli.ts'
import { tempDir } from '../helpers/temp.ts'
import { initIdentity, loadIdentity } from '../../src/identity/index.ts'

interface PairProcess {
  /** The first JSON line: {code, expires, address, ...}. */
  announced: Promise<{ code: string; expires: string; address: string; fingerprint: string }>
  exited: Promise<CliResult>
}

function startPair(t: ExecutionContext, args: string[], home: string): PairProcess {
  const child = spawn(process.execPath, [BIN, 'pair', ...args], {
    env: { ...process.env, DJCLOUD_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // A test that fails before the pairing ends must not leave the process listening.
  t.teardown(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')))
  let stdout = ''
  let stderr = ''
  let announce!: (v: never) => void
  let fail!: (e: Error) => void
  const announced = new Promise<never>((resolve, reject) => {
    announce = resolve
    fail = reject
  })
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    const nl = stdout.indexOf('\n')
    if (nl >= 0) announce(JSON.parse(stdout.slice(0, nl)) as never)
  })
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      fail(new Error(`pair exited (${code}) before printing a code: ${stderr}`))
      resolve({ code, stdout, stderr })
    })
  })
  return { announced, exited }
}

const PAIR_ARGS = ['--json', '--listen', '127.0.0.1', '--port', '0', '--address', '127.0.0.1']

test('pair --json shows a code, join uses it, both print the other\'s fingerprint, then the code is dead', async (t) => {
  const adminHome = await tempDir(t)
  const admin = await initIdentity(adminHome, { name: 'home-pc' })
  const newHome = await tempDir(t)

  const pair = startPair(t, PAIR_ARGS, adminHome)
  const shown = await pair.announced
  t.regex(shown.code, /^djpair1:[A-Z2-7]+$/)
  t.regex(shown.address, /^127\.0\.0\.1:\d+$/)
  t.true(Date.parse(shown.expires) > Date.now())

  const joined = await runCli(['join', shown.code, '--name', 'phone', '--json'], { DJCLOUD_HOME: newHome }) // the real binary
  t.is(joined.code, 0, joined.stderr)
  const j = JSON.parse(joined.stdout)
  t.like(j, { name: 'phone', role: 'member', rosterSeq: 2, admin: { name: 'home-pc', fingerprint: shown.fingerprint } })

  const paired = await pair.exited
  t.is(paired.code, 0, paired.stderr)
  const result = JSON.parse(paired.stdout.trim().split('\n').at(-1)!)
  t.like(result.joined, { deviceId: j.deviceId, name: 'phone', fingerprint: j.fingerprint, role: 'member', rosterSeq: 2 })
  t.regex(paired.stderr, new RegExp(`New device "phone".*\\n  fingerprint ${j.fingerprint}`))

  const member = await loadIdentity(newHome)
  t.is(member.certificate.role, 'member')
  t.deepEqual(Buffer.from(member.certificate.owner), Buffer.from(admin.certificate.owner))
  t.deepEqual((await readdir(join(newHome, 'identity'))).sort(), ['circle.secret', 'device.cert', 'device.key', 'roster'])
  const ls = JSON.parse((await run(['trust', 'ls', '--json'], { DJCLOUD_HOME: adminHome })).stdout)
  t.deepEqual(ls.devices.map((d: { name: string; role: string }) => [d.name, d.role]), [['home-pc', 'admin'], ['phone', 'member']])

  // The code is single use; a home with an identity refuses to join; a member cannot pair.
  const again = await run(['join', shown.code, '--name', 'tablet'], { DJCLOUD_HOME: await tempDir(t) })
  t.is(again.code, 1)
  t.regex(again.stderr, /^djcloud join: could not reach the pairing device at 127\.0\.0\.1:\d+ .*\n$/)
  const exists = await run(['join', shown.code], { DJCLOUD_HOME: newHome })
  t.is(exists.code, 1)
  t.regex(exists.stderr, /already has an identity \(device "phone", member\); pass --force/)
  const memberPair = await run(['pair', ...PAIR_ARGS], { DJCLOUD_HOME: newHome })
  t.is(memberPair.code, 1)
  t.regex(memberPair.stderr, /^djcloud pair: pairing needs an admin device/)
})

test('pair and join fail cleanly: expiry, a mistyped code, bad options', async (t) => {
  const adminHome = await tempDir(t)
  await initIdentity(adminHome, { name: 'home-pc' })
  const pair = startPair(t, [...PAIR_ARGS, '--ttl', '0.5'], adminHome)
  const shown = await pair.announced
  const expired = await pair.exited
  t.is(expired.code, 1)
  t.regex(expired.stderr, /^djcloud pair: the pairing code expired/m)
  const late = await run(['join', shown.code], { DJCLOUD_HOME: await tempDir(t) })
  t.is(late.code, 1)
  t.regex(late.stderr, /expired/)

  const at = 20
  const typo = shown.code.slice(0, at) + (shown.code[at] === 'A' ? 'B' : 'A') + shown.code.slice(at + 1)
  const bad = await run(['join', typo], { DJCLOUD_HOME: await tempDir(t) })
  t.is(bad.code, 1)
  t.regex(bad.stderr, /^djcloud join: not a valid pairing code: the checksum does not match/)
  t.is((await run(['join'], { DJCLOUD_HOME: await tempDir(t) })).code, 2)
  t.is((await run(['join', shown.code, '--name', ''], { DJCLOUD_HOME: await tempDir(t) })).code, 2)
  t.is((await run(['pair', '--ttl', '0'], { DJCLOUD_HOME: adminHome })).code, 2)
  t.is((await run(['pair', '--port', '70000'], { DJCLOUD_HOME: adminHome })).code, 2)
  const noId = await run(['pair'], { DJCLOUD_HOME: await tempDir(t) })
  t.is(noId.code, 1)
  t.regex(noId.stderr, /run "djcloud init" first/)
})

test('twelve clients that connect to pair and say nothing do not block a real join', async (t) => {
  const adminHome = await tempDir(t)
  await initIdentity(adminHome, { name: 'home-pc' })
  const newHome = await tempDir(t)
  // A short ttl: should the join fail, pair still ends soon.
  const pair = startPair(t, [...PAIR_ARGS, '--ttl', '30'], adminHome)
  const shown = await pair.announced
  const port = Number(shown.address.split(':')[1])
  const silent: Socket[] = []
  t.teardown(() => silent.forEach((s) => s.destroy()))
  for (let i = 0; i < 12; i++) {
    const s = createConnection({ host: '127.0.0.1', port })
    s.on('error', () => {}).resume()
    silent.push(s)
    await new Promise((resolve) => s.once('connect', resolve))
  }
  const joined = await run(['join', shown.code, '--name', 'phone', '--json'], { DJCLOUD_HOME: newHome })
  t.is(joined.code, 0, joined.stderr)
  const paired = await pair.exited
  t.is(paired.code, 0, paired.stderr)
  t.is((await loadIdentity(newHome)).certificate.name, 'phone')
})
