// The standalone bootstrap node, in process and as `djcloud bootstrap`, on
// 127.0.0.1 only.
import test, { type ExecutionContext } from 'ava'
import { randomBytes } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { bootstrapStatePath, DEFAULT_BOOTSTRAP_PORT, startBootstrapNode } from '../../bootstrap/index.ts'
import { generateKeyPair } from '../../src/identity/index.ts'
import { DhtNode } from '../../src/manifest/index.ts'
import { runCli } from '../helpers/cli.ts'
import { startCliProcess, type CliProcess } from '../helpers/cli-process.ts'
import { tempDir } from '../helpers/temp.ts'
import { errorCode, Stranger } from '../helpers/krpc.ts'

async function dhtNode(t: ExecutionContext, bootstrap: string[]): Promise<DhtNode> {
  const node = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap })
  t.teardown(() => node.close())
  return node
}

interface SavedState {
  id: string
  nodes: Array<{ host: string; port: number }>
}
const readState = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as SavedState

test('devices meet and trade pointers through a bootstrap node, which finds them again after a restart', async (t) => {
  t.is(DEFAULT_BOOTSTRAP_PORT, 7464)
  const home = await tempDir(t)
  const stateFile = bootstrapStatePath(home)
  t.is(stateFile, join(home, 'dht-bootstrap.json'))
  const boot = await startBootstrapNode({ port: 0, host: '127.0.0.1', stateFile })
  t.teardown(() => boot.close())
  const entry = `127.0.0.1:${boot.port}`

  const a = await dhtNode(t, [entry])
  const b = await dhtNode(t, [entry])
  t.true(a.nodeCount() >= 1)
  t.true(boot.nodeCount() >= 2)
  const key = generateKeyPair()
  const salt = randomBytes(32)
  const infoHash = randomBytes(20)
  t.true((await a.putPointer({ seed: key.seed, salt, seq: 1, infoHash })).stored >= 2, 'the bootstrap node and b store it')
  t.deepEqual(await b.getPointer({ publicKey: key.publicKey, salt }), { infoHash, seq: 1 })
  // Another bootstrap node can join through the first.
  const second = await startBootstrapNode({ port: 0, host: '127.0.0.1', stateFile: join(home, 'second.json'), bootstrap: [entry] })
  t.teardown(() => second.close())
  t.true(second.nodeCount() >= 1)

  await boot.close()
  const saved = await readState(stateFile)
  for (const n of [a, b]) t.true(saved.nodes.some((s) => s.port === n.port), `node on ${n.port} saved`)

  // Same port, same state file, no bootstrap list of its own: it knows a and b again,
  // and a newcomer that knows only the bootstrap node reaches the item they hold.
  const again = await startBootstrapNode({ port: boot.port, host: '127.0.0.1', stateFile })
  t.teardown(() => again.close())
  t.true(again.nodeCount() >= 2)
  const newcomer = await dhtNode(t, [entry])
  t.deepEqual(await newcomer.getPointer({ publicKey: key.publicKey, salt }), { infoHash, seq: 1 })
  await again.close()
  t.is((await readState(stateFile)).id, saved.id, 'same node id across restarts')
})

/** Starts `djcloud bootstrap` and waits for its first line of output. */
function startCli(t: ExecutionContext, home: string, args: string[]): Promise<CliProcess> {
  return startCliProcess(t, ['bootstrap', '--port', '0', '--host', '127.0.0.1', ...args], { DJCLOUD_HOME: home, DJCLOUD_DEBUG: '' })
}

test('the bootstrap node refuses oversize puts and rate limits a flood from one address', async (t) => {
  const home = await tempDir(t)
  const boot = await startBootstrapNode({ port: 0, host: '127.0.0.1', stateFile: join(home, 'state.json'), putLimits: { rate: 1, burst: 10 } })
  t.teardown(() => boot.close())
  const s = await Stranger.open(t, boot, '127.0.0.2')
  const token = await s.token()
  t.is(errorCode(await s.ask('put', { token, v: { pad: randomBytes(30_000) } })), 205)
  t.is(errorCode(await s.ask('put', { token, v: Buffer.from('x'), salt: Buffer.alloc(100) })), 207)
  const tids = Array.from({ length: 50 }, () => s.send('put', { token, v: randomBytes(50) }))
  await s.drain()
  t.true(tids.filter((tid) => s.answers.has(tid)).length <= 10, 'the rest were dropped')
  t.true(boot.storeStats().putsRefused >= 40)
  const other = await Stranger.open(t, boot, '127.0.0.3')
  t.is(errorCode(await other.ask('put', { token: await other.token(), v: randomBytes(50) })), 0)
})

test('djcloud bootstrap --json answers DHT nodes and saves its routing table on SIGTERM', async (t) => {
  const home = join(await tempDir(t), 'not-yet-made')
  const run = await startCli(t, home, ['--json'])
  const info = JSON.parse(run.first) as { port: number; host: string; addresses: string[] }
  t.true(info.port > 0)
  t.is(info.host, '127.0.0.1')
  t.deepEqual(info.addresses, [`127.0.0.1:${info.port}`])

  const a = await dhtNode(t, info.addresses)
  const b = await dhtNode(t, info.addresses)
  t.true(a.nodeCount() >= 1)
  const key = generateKeyPair()
  const salt = randomBytes(32)
  const infoHash = randomBytes(20)
  await a.putPointer({ seed: key.seed, salt, seq: 3, infoHash })
  t.deepEqual(await b.getPointer({ publicKey: key.publicKey, salt }), { infoHash, seq: 3 })

  run.signal('SIGTERM')
  const exit = await run.exited
  t.is(exit.code, 0, exit.stderr)
  t.is(exit.stderr, '')
  t.is(exit.stdout.trim().split('\n').length, 1, 'one JSON line and nothing else')
  const stateFile = join(home, 'dht-bootstrap.json')
  t.is((await stat(home)).mode & 0o777, 0o700)
  const saved = await readState(stateFile)
  t.true(saved.nodes.some((n) => n.port === a.port || n.port === b.port))
})

test('djcloud bootstrap says where it listens and stops on SIGINT', async (t) => {
  const home = await tempDir(t)
  const run = await startCli(t, home, [])
  t.regex(run.first, /^djcloud bootstrap node on UDP port [1-9][0-9]*$/)
  run.signal('SIGINT')
  const exit = await run.exited
  t.is(exit.code, 0, exit.stderr)
  t.regex(exit.stdout, /Devices join the DHT through:\n {2}127\.0\.0\.1:[0-9]+\n/)
  t.regex(exit.stdout, /Bootstrap node stopped; routing table saved\.\n$/)
})

test('djcloud bootstrap --help and bad flags', async (t) => {
  const help = await runCli(['bootstrap', '--help'])
  t.is(help.code, 0)
  t.regex(help.stdout, /^Usage: djcloud bootstrap \[--port N\] \[--host ADDR\] \[--peer HOST:PORT\]\.\.\. \[--json\]/)
  t.regex(help.stdout, /default 7464/)
  const home = await tempDir(t)
  const cases: Array<[string[], RegExp]> = [
    [['--port', 'lots'], /--port must be 0-65535, not "lots"/],
    [['--port', '70000'], /--port must be 0-65535/],
    [['--host', '::1'], /--host must be an IPv4 address/],
    [['--peer', 'nowhere'], /--peer: "nowhere" is not HOST:PORT/],
  ]
  const results = await Promise.all(cases.map(([args]) => runCli(['bootstrap', ...args], { DJCLOUD_HOME: home })))
  results.forEach((bad, i) => {
    const [args, message] = cases[i]!
    t.is(bad.code, 2, args.join(' '))
    t.regex(bad.stderr, message)
  })
})
