// `djcloud tracker`, run as a real process on a temp home.
import test, { type ExecutionContext } from 'ava'
import { readFile, stat } from 'node:fs/promises'
import { addDevice, formatId, initIdentity, revokeDevice, saveRoster } from '../../src/identity/index.ts'
import { announce, announceSigner } from '../../src/swarm/index.ts'
import { runCli, type CliResult } from '../helpers/cli.ts'
import { startCliProcess } from '../helpers/cli-process.ts'
import { tempDir } from '../helpers/temp.ts'
import { deviceOf, httpGet, newInfoHash, newPeerId, refused } from './fixtures.ts'

interface Running {
  info: { port: number; device: string; announce: string[]; websocket: string[]; stats: string; tokenFile: string; rosterSeq: number }
  signal(sig: NodeJS.Signals): void
  exited: Promise<CliResult>
}

/** Starts `djcloud tracker --json` and waits for its one JSON line. */
async function startCli(t: ExecutionContext, home: string, args: string[]): Promise<Running> {
  const { first, signal, exited } = await startCliProcess(t, ['tracker', '--json', ...args], { DJCLOUD_HOME: home })
  return { info: JSON.parse(first) as Running['info'], signal, exited }
}

test('djcloud tracker serves the home\'s circle, follows its roster and stops cleanly on SIGTERM', async (t) => {
  const home = await tempDir(t)
  let id = await initIdentity(home, { name: 'tracker-box' })
  const run = await startCli(t, home, ['--port', '0', '--host', '127.0.0.1'])
  const { info } = run
  t.true(info.port > 0)
  t.deepEqual(info.announce, [`https://127.0.0.1:${info.port}/announce`])
  t.deepEqual(info.websocket, [`wss://127.0.0.1:${info.port}`])
  t.is(info.stats, `https://127.0.0.1:${info.port}/stats.json`)
  t.is(info.device, formatId('device', id.device.publicKey), 'its TLS key is this device\'s')
  t.is(info.rosterSeq, 1)

  // This device is admitted.
  const url = info.announce[0]!
  const infoHash = newInfoHash()
  const res = await announce(url, { infoHash, peerId: newPeerId(), port: 6881, event: 'started', signer: announceSigner(id), roster: id.roster })
  t.deepEqual(res.peers, [{ host: '127.0.0.1', port: 6881 }])

  // The operator token was made on first run, owner-only, and unlocks infohashes.
  t.is(info.tokenFile, `${home}/tracker-token`)
  t.is((await stat(info.tokenFile)).mode & 0o777, 0o600)
  const token = (await readFile(info.tokenFile, 'utf8')).trim()
  const stats = await httpGet(info.stats, { authorization: `Bearer ${token}` })
  t.like(JSON.parse(stats.body.toString()), { swarms: 1, peers: 1, admitted: 1, infoHashes: [infoHash.toString('hex')] })
  t.false((await httpGet(info.stats)).body.toString().includes(infoHash.toString('hex')))

  // A phone with a certificate is admitted; once the home's roster revokes it
  // (and the tracker is told with SIGHUP) it is refused.
  const phone = deviceOf(id.owner!, 'phone')
  await announce(url, { infoHash, peerId: newPeerId(), port: 6882, signer: phone.signer, roster: id.roster })
  id = await saveRoster(id, revokeDevice(addDevice(id.roster, phone.cert), phone.cert.device))
  run.signal('SIGHUP')
  let reason: string | undefined
  for (let i = 0; i < 50 && reason !== 'revoked device'; i++) {
    await new Promise((r) => setTimeout(r, 100))
    reason = await announce(url, { infoHash, peerId: newPeerId(), port: 6882, signer: phone.signer, roster: id.roster }).then(
      () => undefined,
      (err: { reason?: string }) => err.reason,
    )
  }
  t.is(reason, 'revoked device')
  await refused(t, announce(url, { infoHash, peerId: newPeerId(), port: 6882, signer: phone.signer, roster: id.roster }), 'revoked device')

  run.signal('SIGTERM')
  const exit = await run.exited
  t.is(exit.code, 0, exit.stderr)
  t.is(exit.stderr, '')
  t.is(exit.stdout.trim().split('\n').length, 1, 'one JSON line and nothing else')
})

test('djcloud tracker --help, bad flags and a home without identity', async (t) => {
  const help = await runCli(['tracker', '--help'])
  t.is(help.code, 0)
  t.regex(help.stdout, /^Usage: djcloud tracker \[--port N\] \[--host ADDR\] \[--json\]/)
  t.regex(help.stdout, /default 6969/)
  t.regex(help.stdout, /--home DIR/)
  const bad = await runCli(['tracker', '--port', 'lots'], { DJCLOUD_HOME: await tempDir(t) })
  t.is(bad.code, 2)
  t.regex(bad.stderr, /--port must be 0-65535/)
  const none = await runCli(['tracker', '--port', '0', '--host', '127.0.0.1'], { DJCLOUD_HOME: await tempDir(t) })
  t.is(none.code, 1)
  t.regex(none.stderr, /run "djcloud init" first/)
})

test('djcloud tracker runs only on a device of its roster, and stops once the roster revokes that device', async (t) => {
  const home = await tempDir(t)
  let id = await initIdentity(home, { name: 'tracker-box' })
  const phone = deviceOf(id.owner!, 'phone')
  id = await saveRoster(id, addDevice(id.roster, phone.cert))
  const run = await startCli(t, home, ['--port', '0', '--host', '127.0.0.1'])
  await announce(run.info.announce[0]!, { infoHash: newInfoHash(), peerId: newPeerId(), port: 6881, signer: phone.signer, roster: id.roster })

  // Devices would refuse this tracker's key from now on: it says why and stops.
  id = await saveRoster(id, revokeDevice(id.roster, id.device.publicKey))
  run.signal('SIGHUP')
  const exit = await run.exited
  t.is(exit.code, 1)
  t.regex(exit.stderr, /^djcloud tracker: stopping: this device \("tracker-box"\) is revoked: the tracker's TLS key is this device's key/)

  // Started again on that home, it refuses at once.
  const again = await runCli(['tracker', '--port', '0', '--host', '127.0.0.1'], { DJCLOUD_HOME: home })
  t.is(again.code, 1)
  t.regex(again.stderr, /this device \("tracker-box"\) is revoked/)
})
