// A djcloud seeder in a process of its own (bench/swarm):
//   node --import tsx bench/swarm/seeder.ts --config FILE --device NAME [--link plain]
// Serves the config's track from its complete file, with Torrent behind
// dj_auth, on 127.0.0.1 and a port the OS picks, printed on stdout as
// {"port": N}. Its links are TLS as the node's are; with --link plain, plain
// TCP with the config's per-run random bytes as dj_auth's channel binding
// (the baseline for what the encryption costs; same code otherwise). Exits
// on SIGTERM or SIGINT, and when stdin closes (its parent died), so it never
// outlives the benchmark.
import { createServer, type Socket } from 'node:net'
import { createLinkServer } from '../../src/link/index.ts'
import { once } from 'node:events'
import { authenticate, CompleteFile, Torrent } from '../../src/swarm/index.ts'
import { flags, loadConfig } from './config.ts'

const args = flags(process.argv.slice(2))
const config = await loadConfig(args.config!)
const credentials = config.credentials(args.device!)
const { meta, roster } = config

const torrent = new Torrent(meta, await CompleteFile.open(config.source, meta))
torrent.on('warning', (err) => process.stderr.write(`seeder ${args.device}: ${err.message}\n`))
const sockets = new Set<Socket>()
const plain = args.link === 'plain'
const onLink = (sock: Socket) => {
  sockets.add(sock)
  sock.on('close', () => sockets.delete(sock))
  sock.on('error', () => {})
  const binding = plain ? { binding: () => config.plainBinding } : {}
  authenticate(sock, { credentials, roster: () => roster, accept: (ih) => (ih.equals(meta.infoHash) ? {} : null), ...binding }).then(
    (session) => torrent.addPeer(session),
    (err: Error) => process.stderr.write(`seeder ${args.device}: ${err.message}\n`),
  )
}
const server = plain ? createServer(onLink) : await createLinkServer(onLink)
server.listen(0, '127.0.0.1')
await once(server, 'listening')
process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port }) + '\n')

let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  server.close()
  for (const s of sockets) s.destroy()
  await torrent.close().catch(() => {})
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
process.stdin.on('end', () => void stop())
process.stdin.on('error', () => void stop())
process.stdin.resume()
