// A plain static file server over WAV files (Range included, as a media
// element asks): the yardstick bench/ui and bench/browser's playback phase
// measure a player against.
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'

/** A plain static file server over `files` (Range included, as a media element asks): the yardstick. */
export async function staticServer(files: string[]): Promise<{ server: Server; url: (i: number) => string; page: string }> {
  const server = createServer(async (req, res) => {
    const m = /^\/files\/(\d+)\.wav$/.exec(req.url ?? '')
    if (!m) {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<!doctype html><title>static</title><body></body>')
      return
    }
    const path = files[Number(m[1])]
    if (!path) return res.writeHead(404).end()
    const size = (await stat(path)).size
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '')
    if (range) {
      const start = range[1] ? Number(range[1]) : size - Number(range[2])
      const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1
      res.writeHead(206, { 'content-type': 'audio/wav', 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 })
      createReadStream(path, { start, end }).pipe(res)
    } else {
      res.writeHead(200, { 'content-type': 'audio/wav', 'accept-ranges': 'bytes', 'content-length': size })
      createReadStream(path).pipe(res)
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return { server, url: (i) => `http://127.0.0.1:${port}/files/${i}.wav`, page: `http://127.0.0.1:${port}/` }
}
