// The CLI's calls to the running node's API go over node:http, not fetch
// (undici's first use costs ~15 MB of resident memory: bench/README.md,
// djformats): answers, errors, an unreachable node, a large answer read as
// it arrives.
import test from 'ava'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { callNode, nodeEntries, NodeApiError } from '../../src/cli/remote-library.ts'

test('callNode and nodeEntries talk to the node without fetch: answers, error answers, a node gone', async (t) => {
  const seen: Array<{ method?: string; url?: string; auth?: string; body: string }> = []
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const c of req) body += c
    seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body })
    if (req.url === '/api/missing') return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'ERR_NOT_FOUND', message: 'no such thing' } }))
    if (req.url === '/api/empty') return void res.writeHead(204).end()
    if (req.url === '/api/big') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"other":[1,2],"tracks":[')
      for (let i = 0; i < 2000; i++) res.write(`${i ? ',' : ''}{"i":${i},"name":"é ${i}"}`)
      return void res.end(']}')
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: body ? JSON.parse(body) : null }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const node = { pid: process.pid, api: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, peerPort: 0 }
  const realFetch = globalThis.fetch
  globalThis.fetch = (() => Promise.reject(new Error('fetch is not to be used'))) as typeof fetch
  t.teardown(() => void (globalThis.fetch = realFetch))

  t.deepEqual(await callNode(node, 'tok', 'PUT', '/api/cues/x', { cues: ['é'] }), { echo: { cues: ['é'] } })
  t.deepEqual(seen[0], { method: 'PUT', url: '/api/cues/x', auth: 'Bearer tok', body: '{"cues":["é"]}' })
  t.deepEqual(await callNode(node, 'tok', 'POST', '/api/empty'), {})
  const missing = await t.throwsAsync(callNode(node, 'tok', 'GET', '/api/missing'), { instanceOf: NodeApiError })
  t.like(missing, { status: 404, code: 'ERR_NOT_FOUND', message: 'no such thing' })
  const got: unknown[] = []
  await nodeEntries(node, 'tok')('/api/big', 'tracks', (_, v) => void got.push(v))
  t.is(got.length, 2000)
  t.deepEqual(got[1999], { i: 1999, name: 'é 1999' })
  await t.throwsAsync(nodeEntries(node, 'tok')('/api/missing', 'tracks', () => {}), { instanceOf: NodeApiError, message: 'no such thing' })

  await new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeAllConnections()
  const gone = await t.throwsAsync(callNode(node, 'tok', 'GET', '/api/x'), { instanceOf: NodeApiError })
  t.is((gone as NodeApiError).code, 'ERR_UNREACHABLE')
  t.regex(gone!.message, /^the node on this home \(pid \d+\) does not answer at http:\/\/127\.0\.0\.1:\d+: ./)
})
