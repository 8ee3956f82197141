// Runs inside a lab host's namespace: accepts connections on a unix socket
// (a file, reachable from every namespace) and joins each to 127.0.0.1:PORT
// in this namespace. The test connects to the socket: a host's loopback-only
// API is reached without any route or interface in the test's own namespace.
//   node bridge.mjs SOCKET PORT
import { createServer, connect } from 'node:net'

const [socketPath, port] = process.argv.slice(2)
const server = createServer((a) => {
  const b = connect(Number(port), '127.0.0.1')
  a.pipe(b).pipe(a)
  a.on('error', () => b.destroy())
  b.on('error', () => a.destroy())
})
server.listen(socketPath, () => process.stdout.write('ready\n'))
process.on('SIGTERM', () => process.exit(0))
