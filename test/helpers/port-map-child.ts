// A PortMapper in a process of its own, for the UPnP lab: run in the LAN
// namespace (`ip netns exec`), it listens on a TCP port, maps it, and prints
// one JSON line per event; closing its stdin stops the mapper (removing the
// mapping) and then the process.
//   node --import=tsx port-map-child.ts upnp|nat-pmp|both [PORT]
import { createServer } from 'node:net'
import { PortMapper } from '../../src/reach/index.ts'

const [which = 'both', fixed = '0'] = process.argv.slice(2)
const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n')
const server = createServer((s) => s.on('error', () => {}).end('djcloud-lab\n'))
server.listen(Number(fixed), '0.0.0.0', () => {
  const port = (server.address() as { port: number }).port
  const m = new PortMapper({ upnp: which !== 'nat-pmp', natPmp: which !== 'upnp', onWarning: (e) => say({ warning: e.message }) })
  m.on('mapping', (mapping) => say({ mapping }))
  say({ port })
  m.start(port)
  process.stdin.resume()
  process.stdin.on('end', () => {
    void m.stop().then(() => {
      say({ stopped: true })
      server.close()
    })
  })
})
