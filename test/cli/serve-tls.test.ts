// `djcloud serve --tls-cert FILE --tls-key FILE` as a process (docs/cli.md):
// the API answers over HTTPS, verified against the test CA under the
// certificate's name; plain HTTP to the port gets nothing; node.json says
// https:// and carries the certificate the CLI then trusts (a command for the
// home goes through the node); the pairing link names the certificate's host.
// Bad options are one line and an exit code, before anything starts.
import test from 'ava'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { request as httpsRequest } from 'node:https'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readApiToken } from '../../src/player/index.ts'
import { BIN, runCli } from '../helpers/cli.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode } from '../helpers/node-process.ts'
import { makeTestCa, plainHttp, toLoopback } from '../helpers/test-ca.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

test('serve --tls-cert/--tls-key: HTTPS verified by the CA under the certificate\'s name, plain HTTP refused, the CLI and the pairing link follow', async (t) => {
  t.timeout(60_000)
  const root = await tempDir(t)
  const ca = await makeTestCa(root)
  const leaf = await ca.leaf('dj-laptop.test', ['DNS:dj-laptop.test'])
  const [home] = await makeHomes(root, ['laptop'])
  const node = await serveNode(t, home!, ['--tls-cert', leaf.certFile, '--tls-key', leaf.keyFile, '--no-tracker', '--no-webrtc', '--no-port-mapping'])
  t.regex(node.info.api, /^https:\/\/127\.0\.0\.1:\d+$/)
  t.is(node.info.apiCert?.trim(), leaf.certPem.trim())
  t.like(JSON.parse(await readFile(join(home!, 'node.json'), 'utf8')), { api: node.info.api, apiCert: node.info.apiCert })
  const port = Number(new URL(node.info.api).port)
  const token = (await readApiToken(home!))!

  const https = (method: string, path: string) =>
    new Promise<{ status: number; body: string; json: () => any }>((resolve, reject) => {
      const req = httpsRequest({ host: 'dj-laptop.test', port, path, method, ca: ca.caPem, lookup: toLoopback, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode!, body, json: () => JSON.parse(body) }))
      })
      req.on('error', reject).end()
    })
  const health = await https('GET', '/api/health')
  t.is(health.status, 200)
  t.true(health.json().ok)
  const link = await https('POST', '/api/pair/link')
  t.is(link.status, 200)
  t.true((link.json().url as string).startsWith(`https://dj-laptop.test:${port}/#pair=`), link.body)
  t.true(link.json().secureContext)
  t.true(link.json().thisMachineOnly, 'the node listens on loopback: no phone can open it, whatever name the link has')
  // An export from the UI: the node reads its own API over HTTPS, trusting its own certificate.
  const exported = await https('GET', '/api/export/traktor')
  t.is(exported.status, 200, exported.body)
  t.regex(exported.body, /<NML /)

  const plain = await plainHttp(port)
  t.truthy(plain.error)
  t.is(plain.bytes, 0)

  // A command for the home goes through the node over HTTPS, trusting the certificate in node.json.
  const devices = await runCli(['devices', '--json'], { DJCLOUD_HOME: home! })
  t.is(devices.code, 0, devices.stderr)
  t.deepEqual((JSON.parse(devices.stdout) as Array<{ name: string }>).map((d) => d.name), ['laptop'])
})

test('serve: --tls-cert without --tls-key, a file that cannot be read, a certificate and key that are not a pair: one line each; a good pair prints https://', async (t) => {
  t.timeout(60_000)
  const root = await tempDir(t)
  const ca = await makeTestCa(root)
  const leaf = await ca.leaf('dj-laptop.test', ['DNS:dj-laptop.test'])
  const other = await ca.leaf('other.test', ['DNS:other.test'])
  const [home] = await makeHomes(root, ['laptop'])
  const serve = (args: string[]) => runCli(['serve', '--api-port', '0', '--port', '0', '--no-port-mapping', '--no-lan-discovery', ...args], { DJCLOUD_HOME: home! })
  const lines = (s: string) => s.trim().split('\n')

  const noKey = await serve(['--tls-cert', leaf.certFile])
  t.is(noKey.code, 2)
  t.is(lines(noKey.stderr)[0], 'djcloud serve: --tls-cert and --tls-key go together: --tls-key is missing')

  const missing = join(root, 'nope.pem')
  const unreadable = await serve(['--tls-cert', missing, '--tls-key', leaf.keyFile])
  t.is(unreadable.code, 1)
  t.deepEqual(lines(unreadable.stderr), [`djcloud serve: --tls-cert ${missing}: cannot read it (ENOENT)`])

  const mismatched = await serve(['--tls-cert', leaf.certFile, '--tls-key', other.keyFile])
  t.is(mismatched.code, 1)
  t.deepEqual(lines(mismatched.stderr), [`djcloud serve: --tls-cert ${leaf.certFile} --tls-key ${other.keyFile}: the key does not belong to the certificate (they are not a pair)`])
  // Nothing started: no node file was left behind.
  await t.throwsAsync(readFile(join(home!, 'node.json')), { code: 'ENOENT' })

  // Given a good pair, the printed addresses are https://, the certificate's name for phones.
  const child = spawn(process.execPath, [BIN, 'serve', '--api-port', '0', '--port', '0', '--dht-port', '0', '--peer-host', '127.0.0.1', '--no-port-mapping', '--no-lan-discovery', '--no-analyze', '--no-tracker', '--no-webrtc', '--tls-cert', leaf.certFile, '--tls-key', leaf.keyFile], {
    env: { ...process.env, DJCLOUD_HOME: home! },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = once(child, 'exit')
  t.teardown(() => child.kill('SIGKILL'))
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  await until(async () => (out.includes('Press Ctrl-C') ? true : undefined), 30_000)
  child.kill('SIGTERM')
  await exited
  t.regex(out, /\n {2}local API https:\/\/127\.0\.0\.1:\d+\n/)
  t.regex(out, /\n {2}web UI {4}https:\/\/dj-laptop\.test:\d+\/ \(the certificate's name\)\n/)
})
