// The API over HTTPS (createApiServer({tls}), docs/api.md "HTTPS"): the
// certificate's checks and names, the server a client verifies against the
// CA by the certificate's name, https:// origins only, the Secure session
// cookie, WebSocket upgrades over TLS, zero bytes for plain HTTP, and the
// pin a client on this machine uses (pinnedTls).
import test from 'ava'
import { execFile } from 'node:child_process'
import { request as httpsRequest, type RequestOptions } from 'node:https'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import WebSocket, { WebSocketServer } from 'ws'
import type { Library } from '../../src/library/index.ts'
import { apiTls, createApiServer, pinnedTls, PlayerError, type ApiTlsInput, type TrackSource } from '../../src/player/index.ts'
import { makeTestCa, plainHttp, toLoopback, type TestCa, type TestLeaf } from '../helpers/test-ca.ts'
import { TOKEN } from './fixture.ts'

const library = {
  track: async () => undefined,
  list: async () => [],
  stats: async () => ({ tracks: 0, missing: 0, bytes: 0, roots: [] }),
} as unknown as Library
const tracks: TrackSource = { resolve: async () => null }

const files = async (leaf: TestLeaf): Promise<ApiTlsInput> => ({ cert: await readFile(leaf.certFile), key: await readFile(leaf.keyFile) })

/** dj-laptop.test (and any name) resolves to 127.0.0.1, as a LAN's DNS would to the laptop. */

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function get(options: RequestOptions & { body?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ agent: false, ...options }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('error', reject).end(options.body)
  })
}

// One CA and certificate for the file's tests (openssl runs are slow on a loaded machine).
let dir = ''
let ca: TestCa
let laptop: TestLeaf
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'djcloud-tls-'))
  ca = await makeTestCa(dir)
  laptop = await ca.leaf('dj-laptop.test', ['DNS:dj-laptop.test', 'DNS:*.wild.test', 'IP:192.0.2.7', 'IP:FE80::7'])
})
test.after.always(() => rm(dir, { recursive: true, force: true }))

test('apiTls: the certificate\'s names (wildcards left out), its chain and the first name a phone can open', async (t) => {
  const tls = apiTls(await files(laptop))
  t.deepEqual(tls.names, ['dj-laptop.test', '192.0.2.7', '[fe80::7]'])
  t.is(tls.pageName, 'dj-laptop.test')
  t.is(tls.leaf.trim(), laptop.certPem.trim())
  t.true(tls.notAfter > Date.now())
})

test('apiTls refuses what cannot serve HTTPS, each with a clear reason (ERR_BAD_TLS)', async (t) => {
  const other = await ca.leaf('other.test', ['DNS:other.test'])
  const bare = await ca.leaf('bare.test', [])
  const encrypted = join(dir, 'encrypted.key')
  await promisify(execFile)('openssl', ['pkey', '-in', laptop.keyFile, '-aes256', '-passout', 'pass:secret', '-out', encrypted])
  const good = await files(laptop)
  const refused = (input: ApiTlsInput, now?: number) => {
    const err = t.throws(() => apiTls(input, now), { instanceOf: PlayerError })!
    t.is(err.code, 'ERR_BAD_TLS')
    return err.message
  }
  t.regex(refused({ cert: good.cert, key: await readFile(other.keyFile) }), /does not belong to the certificate/)
  t.regex(refused({ cert: await readFile(ca.caFile), key: await readFile(join(dir, 'ca.key')) }), /is a CA's .*not a server's/)
  t.regex(refused({ cert: good.key, key: good.key }), /no PEM certificate/)
  t.regex(refused({ cert: good.cert, key: good.cert }), /no PEM private key/)
  t.regex(refused({ cert: good.cert, key: await readFile(encrypted) }), /encrypted key/)
  t.regex(refused(good, Date.now() + 3 * 24 * 3600_000), /expired on/)
  t.regex(refused(good, Date.now() - 24 * 3600_000), /not valid before/)
  t.regex(refused(await files(bare)), /names no host/)
})

test('over HTTPS: verified by the CA under the certificate\'s name, https origins only, a Secure cookie, WebSocket upgrades; plain HTTP gets nothing', async (t) => {
  const wss = new WebSocketServer({ noServer: true })
  t.teardown(() => wss.close())
  const server = createApiServer({
    library,
    tracks,
    token: TOKEN,
    uiDir: null,
    tls: await files(laptop),
    upgrades: [{ path: '/echo', handle: (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m) => ws.send(`echo ${String(m)}`))) }],
  })
  t.teardown(() => server.close())
  const { port } = await server.listen(0) // loopback, no remote access: the certificate's names are still the server's
  t.is(server.url, `https://127.0.0.1:${port}`)
  const asLaptop: RequestOptions = { host: 'dj-laptop.test', port, ca: ca.caPem, lookup: toLoopback }

  const health = await get({ ...asLaptop, path: '/api/health' })
  t.is(health.status, 200)
  t.true(JSON.parse(health.body).ok)
  // Not a certificate anyone else trusts: without the CA the handshake fails.
  await t.throwsAsync(get({ host: 'dj-laptop.test', port, lookup: toLoopback, path: '/api/health' }), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })

  const session = (origin: string) =>
    get({ ...asLaptop, method: 'POST', path: '/api/session', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) })
  const opened = await session(`https://dj-laptop.test:${port}`)
  t.is(opened.status, 200, opened.body)
  t.regex(String(opened.headers['set-cookie']), /^djcloud_session=[A-Za-z0-9_-]{43}; HttpOnly; Secure; SameSite=Strict; Path=\/;/)
  const downgraded = await session(`http://dj-laptop.test:${port}`)
  t.is(downgraded.status, 403)
  t.is(JSON.parse(downgraded.body).error.code, 'ERR_FORBIDDEN_ORIGIN')
  t.is((await get({ ...asLaptop, servername: 'dj-laptop.test', path: '/api/health', headers: { host: `evil.test:${port}` } })).status, 403)

  // wss://: the upgrade passes the same Host and Origin checks over TLS.
  const ws = new WebSocket(`wss://dj-laptop.test:${port}/echo`, { ca: ca.caPem, lookup: toLoopback, origin: `https://dj-laptop.test:${port}` })
  t.teardown(() => ws.terminate())
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject))
  ws.send('hi')
  t.is(String(await new Promise((resolve) => ws.once('message', resolve))), 'echo hi')

  // Plain HTTP to the port: the handshake fails, the connection closes, not one byte comes back.
  const plain = await plainHttp(port)
  t.truthy(plain.error, 'plain HTTP is not answered')
  t.is(plain.bytes, 0)
})

test('pinnedTls: a client on this machine trusts exactly the node\'s certificate, whatever its names', async (t) => {
  const server = createApiServer({ library, tracks, token: TOKEN, uiDir: null, tls: await files(laptop) })
  t.teardown(() => server.close())
  const { port } = await server.listen(0)
  const tls = server.tls!
  // https://127.0.0.1: the certificate names no loopback address, and the client does not know the CA.
  t.is((await get({ host: '127.0.0.1', port, path: '/api/health', ...pinnedTls(tls.leaf) })).status, 200)
  const other = apiTls(await files(await ca.leaf('impostor.test', ['DNS:impostor.test'])))
  await t.throwsAsync(get({ host: '127.0.0.1', port, path: '/api/health', ...pinnedTls(other.leaf) }), { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' })
})
